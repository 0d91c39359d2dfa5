import re

import pytest
from django.contrib.admin import helpers

from alerts.choices import AlertStatus
from alerts.models import Alert
from audit.choices import AuditAction
from audit.models import AuditEntry
from gateways import services
from gateways.models import Gateway, GatewaySecret
from tests.factories import (
    AssetFactory,
    PlannerFactory,
    SiteFactory,
    SuperuserFactory,
    gateway_with_secret,
)
from tests.forms import form_data
from tests.webhooks import Hook, alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_planner(site):
    return PlannerFactory(sites=[site])


@pytest.fixture
def admin_client(admin_planner, logged_in):
    return logged_in(admin_planner)


def test_creating_a_gateway_in_the_admin_shows_its_secret_once(admin_client, site, pump):
    response = admin_client.post(
        "/admin/gateways/gateway/add/", {"site": site.pk, "name": "Edge 1"}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"].split(", ")
    assert response["Pragma"] == "no-cache"
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", response.content.decode()).group(0)
    gateway = Gateway.objects.get(name="Edge 1")
    assert Hook(gateway, secret).post(alert()).status_code == 202
    change_page = admin_client.get(f"/admin/gateways/gateway/{gateway.pk}/change/")
    assert change_page.status_code == 200
    assert secret not in change_page.content.decode()
    assert GatewaySecret.objects.get(gateway=gateway).fingerprint in change_page.content.decode()


def test_the_rotate_action_shows_a_new_secret_that_verifies_next_to_the_old(admin_client, hook):
    response = admin_client.post(
        "/admin/gateways/gateway/",
        {"action": "rotate_secret", helpers.ACTION_CHECKBOX_NAME: [hook.gateway.pk]},
    )

    new = re.search(r"whsec_[A-Za-z0-9+/=]+", response.content.decode()).group(0)
    assert new != hook.secret
    assert "no-store" in response["Cache-Control"].split(", ")
    assert response["Pragma"] == "no-cache"
    assert hook.post(alert("a-1")).status_code == 202
    assert hook.post(alert("a-2"), secret=new).status_code == 202


def test_the_disable_action_makes_the_webhook_refuse_the_gateway(admin_client, hook):
    admin_client.post(
        "/admin/gateways/gateway/",
        {"action": "disable", helpers.ACTION_CHECKBOX_NAME: [hook.gateway.pk]},
    )

    assert hook.post(alert()).status_code == 401


def test_a_planner_sees_only_their_sites_gateways_and_alerts(admin_client, hook):
    foreign, foreign_secret = gateway_with_secret(site=SiteFactory())
    Hook(foreign, foreign_secret).post(alert("foreign"))
    hook.post(alert("mine"))

    gateways = admin_client.get("/admin/gateways/gateway/").content.decode()
    alerts = admin_client.get("/admin/alerts/alert/").content.decode()

    assert hook.gateway.name in gateways and foreign.name not in gateways
    assert "mine" in alerts and "foreign" not in alerts


def test_triage_maps_unmatched_alerts_to_an_asset_and_sends_them_to_processing(
    admin_client, admin_planner, hook, site, django_capture_on_commit_callbacks
):
    hook.post({"alerts": [alert("a-1", asset="P-9"), alert("a-2", asset="P-9")]})
    target = AssetFactory(site=site, tag="P-009")
    ids = list(Alert.objects.values_list("id", flat=True))
    form = {"action": "map_to_asset", helpers.ACTION_CHECKBOX_NAME: ids}

    confirm = admin_client.post("/admin/alerts/alert/", form)
    # the asset is chosen by search (the admin's autocomplete), not listed
    assert confirm.status_code == 200 and 'data-field-name="asset"' in confirm.content.decode()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        admin_client.post("/admin/alerts/alert/", {**form, "apply": "1", "asset": target.pk})

    assert set(Alert.objects.values_list("asset_id", "status")) == {
        (target.pk, AlertStatus.RECEIVED)
    }
    assert set(Alert.objects.values_list("asset_tag", flat=True)) == {"P-9"}
    assert len(callbacks) == 1
    entry = AuditEntry.objects.get(action="alerts.map")
    assert entry.actor == admin_planner
    assert (entry.object_id, entry.changes) == (str(target.pk), {"alerts": sorted(ids), "count": 2})


def test_triage_refuses_an_asset_of_another_site(admin_client, hook):
    hook.post(alert("a-1", asset="P-9"))
    foreign_asset = AssetFactory(site=SiteFactory(), tag="P-009")
    form = {
        "action": "map_to_asset",
        helpers.ACTION_CHECKBOX_NAME: list(Alert.objects.values_list("id", flat=True)),
        "apply": "1",
        "asset": foreign_asset.pk,
    }

    admin_client.post("/admin/alerts/alert/", form)

    assert Alert.objects.get().status == AlertStatus.UNMATCHED
    assert Alert.objects.get().asset is None


# --- who did it: every admin write on a gateway is in the audit trail under its actor


@pytest.fixture(params=["planner", "superuser"])
def actor(request, site):
    if request.param == "superuser":
        return SuperuserFactory()
    return PlannerFactory(sites=[site])


@pytest.fixture
def actor_client(actor, logged_in):
    return logged_in(actor)


def audit_of(gateway, action):
    return AuditEntry.objects.get(object_id=str(gateway.pk), action=action)


def run_action(client, action, gateway):
    return client.post(
        "/admin/gateways/gateway/", {"action": action, helpers.ACTION_CHECKBOX_NAME: [gateway.pk]}
    )


def test_creating_a_gateway_in_the_admin_records_who_created_it(actor_client, actor, site):
    actor_client.post("/admin/gateways/gateway/add/", {"site": site.pk, "name": "Edge 1"})

    entry = audit_of(Gateway.objects.get(name="Edge 1"), AuditAction.GATEWAY_CREATE)
    assert entry.actor == actor
    assert entry.actor_name == actor.username
    assert entry.site == site


def test_editing_a_gateway_in_the_admin_records_who_changed_what(actor_client, actor, hook):
    gateway = hook.gateway
    url = f"/admin/gateways/gateway/{gateway.pk}/change/"
    data = form_data(actor_client.get(url), "gateway_form")
    data.update(name="Edge renamed", rate_limit_per_minute="30")

    response = actor_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = audit_of(gateway, AuditAction.GATEWAY_UPDATE)
    assert entry.actor == actor
    assert entry.changes == {
        "name": [gateway.name, "Edge renamed"],
        "rate_limit_per_minute": [None, 30],
    }


def test_the_rotate_action_records_who_issued_the_new_secret(actor_client, actor, hook):
    run_action(actor_client, "rotate_secret", hook.gateway)

    assert audit_of(hook.gateway, AuditAction.GATEWAY_ROTATE_SECRET).actor == actor


def test_the_retire_action_records_who_retired_the_old_secrets(actor_client, actor, hook):
    services.gateway_rotate_secret(gateway=hook.gateway)

    run_action(actor_client, "retire_old_secrets", hook.gateway)

    assert audit_of(hook.gateway, AuditAction.GATEWAY_RETIRE_SECRETS).actor == actor


def test_the_disable_and_enable_actions_record_who_switched_the_gateway(actor_client, actor, hook):
    run_action(actor_client, "disable", hook.gateway)
    run_action(actor_client, "enable", hook.gateway)

    assert audit_of(hook.gateway, AuditAction.GATEWAY_DISABLE).actor == actor
    assert audit_of(hook.gateway, AuditAction.GATEWAY_ENABLE).actor == actor
