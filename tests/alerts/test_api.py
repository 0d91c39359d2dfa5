import base64

import pytest

from alerts.models import Alert
from gateways.models import Gateway, GatewaySecret
from tests.factories import (
    AssetFactory,
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    gateway_with_secret,
)
from tests.webhooks import Hook, alert

pytestmark = pytest.mark.django_db


# --- gateways ---------------------------------------------------------------------------


def test_a_planner_creates_a_gateway_and_sees_its_secret_only_once(api, planner, site):
    api.force_authenticate(planner)

    response = api.post("/api/v1/gateways/", {"site": site.pk, "name": "Edge 1"})

    assert response.status_code == 201
    data = response.json()
    secret = data["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    stored = GatewaySecret.objects.get(gateway_id=data["id"])
    assert secret not in stored.encrypted
    assert secret.removeprefix("whsec_") not in stored.encrypted
    again = api.get(f"/api/v1/gateways/{data['id']}/").json()
    assert "secret" not in again
    assert secret not in str(again)
    assert again["secrets"] == [
        {"fingerprint": stored.fingerprint, "created_at": again["secrets"][0]["created_at"]}
    ]


def test_the_answers_that_carry_a_gateway_secret_forbid_caching(api, planner, site, hook):
    api.force_authenticate(planner)

    created = api.post("/api/v1/gateways/", {"site": site.pk, "name": "Edge 1"})
    rotated = api.post(f"/api/v1/gateways/{hook.gateway.pk}/rotate-secret/")

    for response in (created, rotated):
        assert response["Cache-Control"] == "no-store"
        assert response["Pragma"] == "no-cache"


def test_gateway_answers_without_a_secret_keep_the_default_caching(api, planner, hook):
    api.force_authenticate(planner)

    response = api.get(f"/api/v1/gateways/{hook.gateway.pk}/")

    assert response.status_code == 200
    assert "Pragma" not in response


def test_the_created_secret_signs_requests_the_webhook_accepts(api, planner, site, pump):
    api.force_authenticate(planner)
    data = api.post("/api/v1/gateways/", {"site": site.pk, "name": "Edge 1"}).json()
    gateway = Gateway.objects.get(pk=data["id"])

    assert Hook(gateway, data["secret"]).post(alert()).status_code == 202


def test_a_planner_cannot_create_a_gateway_at_another_site(api, planner):
    api.force_authenticate(planner)

    response = api.post("/api/v1/gateways/", {"site": SiteFactory().pk, "name": "Edge"})

    assert response.status_code == 400
    assert "site" in response.json()


def test_technicians_cannot_see_or_create_gateways(api, site):
    gateway_with_secret(site=site)
    api.force_authenticate(TechnicianFactory(sites=[site]))

    assert api.get("/api/v1/gateways/").status_code == 403
    assert api.post("/api/v1/gateways/", {"site": site.pk, "name": "x"}).status_code == 403


def test_another_sites_gateway_is_invisible(api, planner):
    other, _ = gateway_with_secret()
    api.force_authenticate(planner)

    assert api.get(f"/api/v1/gateways/{other.pk}/").status_code == 404
    assert api.post(f"/api/v1/gateways/{other.pk}/rotate-secret/").status_code == 404


def test_rotation_and_retirement_through_the_api(api, planner, hook):
    api.force_authenticate(planner)
    url = f"/api/v1/gateways/{hook.gateway.pk}/"

    rotated = api.post(url + "rotate-secret/")
    assert rotated.status_code == 201
    new = rotated.json()["secret"]
    assert len(api.get(url).json()["secrets"]) == 2
    assert hook.post(alert("a-1")).status_code == 202
    assert hook.post(alert("a-2"), secret=new).status_code == 202

    retired = api.post(url + "retire-secrets/")
    assert retired.status_code == 200
    assert [s["fingerprint"] for s in retired.json()["secrets"]] == [rotated.json()["fingerprint"]]
    assert hook.post(alert("a-3")).status_code == 401
    assert hook.post(alert("a-4"), secret=new).status_code == 202


def test_a_planner_disables_a_gateway_with_patch(api, planner, hook):
    api.force_authenticate(planner)

    response = api.patch(f"/api/v1/gateways/{hook.gateway.pk}/", {"is_active": False})

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert hook.post(alert()).status_code == 401


def test_gateways_are_not_deleted_through_the_api(api, planner, hook):
    api.force_authenticate(planner)

    assert api.delete(f"/api/v1/gateways/{hook.gateway.pk}/").status_code == 405


# --- alerts -----------------------------------------------------------------------------


def test_users_read_their_sites_alerts_with_every_documented_field(api, hook, site, pump):
    hook.post({"alerts": [alert("a-1"), alert("a-2", asset="P-999")]})
    other_hook = Hook(*gateway_with_secret(site=SiteFactory()))
    other_hook.post(alert("foreign"))
    api.force_authenticate(TechnicianFactory(sites=[site]))

    response = api.get("/api/v1/alerts/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert {r["alert_id"] for r in results} == {"a-1", "a-2"}
    first = next(r for r in results if r["alert_id"] == "a-1")
    for name in (
        "id",
        "gateway",
        "alert_id",
        "asset",
        "condition",
        "severity",
        "state",
        "observed_at",
        "received_at",
        "status",
        "work_order",
    ):
        assert name in first
    assert first["asset"] == pump.pk
    assert first["gateway"] == str(hook.gateway.pk)
    assert first["work_order"] is None
    assert next(r for r in results if r["alert_id"] == "a-2")["asset"] is None


def test_alerts_filter_by_asset_status_gateway_and_condition(api, hook, site, pump):
    other_asset = AssetFactory(site=site, tag="P-102")
    hook.post(
        {
            "alerts": [
                alert("a-1"),
                alert("a-2", asset="P-102", condition="bearing.temp.high"),
                alert("a-3", asset="P-999"),
            ]
        }
    )
    api.force_authenticate(TechnicianFactory(sites=[site]))

    def ids(query):
        return {r["alert_id"] for r in api.get(f"/api/v1/alerts/?{query}").json()["results"]}

    assert ids(f"asset={other_asset.pk}") == {"a-2"}
    assert ids("status=unmatched") == {"a-3"}
    assert ids("condition=bearing.temp.high") == {"a-2"}
    assert ids(f"gateway={hook.gateway.pk}") == {"a-1", "a-2", "a-3"}
    assert api.get("/api/v1/alerts/?status=bogus").status_code == 400


def test_alerts_are_read_only(api, hook, site):
    hook.post(alert("a-1"))
    stored = Alert.objects.get()
    api.force_authenticate(PlannerFactory(sites=[site]))

    assert api.post("/api/v1/alerts/", {}).status_code == 405
    assert api.patch(f"/api/v1/alerts/{stored.pk}/", {"status": "processed"}).status_code == 405


def test_the_alert_list_takes_a_fixed_number_of_queries(
    api, hook, site, django_assert_max_num_queries
):
    hook.post({"alerts": [alert(f"a-{i}") for i in range(30)]})
    api.force_authenticate(TechnicianFactory(sites=[site]))

    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/alerts/")

    assert len(response.json()["results"]) == 30
