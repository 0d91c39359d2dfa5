"""The admin: an endpoint's secret shown once on creation, replay and test events."""

import pytest

from integrations.choices import DeliveryStatus, EventType
from integrations.models import Delivery, Event, WebhookEndpoint
from tests.factories import PlannerFactory, WorkOrderFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/integrations/webhookendpoint/add/"


def test_a_planner_adds_an_endpoint_and_sees_its_secret_once(logged_in, planner, site):
    client = logged_in(planner)
    answer = client.post(
        ADD,
        {
            "url": "http://127.0.0.1:9/hook",
            "description": "ERP",
            "event_types": '["work_order.created"]',
            "sites": [site.pk],
            "enabled": "on",
        },
    )

    assert answer.status_code == 200, answer.content[:2000]
    assert "no-store" in answer["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.owner == planner and list(endpoint.sites.all()) == [site]
    secret = answer.context["secret"]
    assert secret.startswith("whsec_") and secret in answer.content.decode()
    change = client.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/")
    assert change.status_code == 200 and secret not in change.content.decode()


def test_a_refused_url_is_a_form_error(settings, logged_in, planner):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    answer = logged_in(planner).post(
        ADD, {"url": "https://10.0.0.1/hook", "event_types": '["work_order.created"]'}
    )

    assert answer.status_code == 200 and "private" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_replay_and_test_event_actions_send_again(
    logged_in, planner, site, receiver, subscribe, django_capture_on_commit_callbacks
):
    endpoint = subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [500] * 4
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)
    failed = Delivery.objects.get()
    assert failed.status == DeliveryStatus.FAILED
    client = logged_in(planner)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/integrations/delivery/",
            {"action": "replay", "_selected_action": [failed.pk]},
        )
        client.post(
            "/admin/integrations/webhookendpoint/",
            {"action": "send_test_event", "_selected_action": [endpoint.pk]},
        )

    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.DELIVERED
    assert receiver.types()[-2:] == ["work_order.created", "test"]
    detail = client.get(f"/admin/integrations/delivery/{failed.pk}/change/")
    assert detail.status_code == 200 and detail.content.decode().count("<p>500</p>") == 4


def test_a_planner_sees_only_their_own_endpoints_and_deliveries(
    logged_in, site, receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)
    other = logged_in(PlannerFactory(sites=[site], username="olga"))

    for path in ("webhookendpoint", "delivery", "event"):
        page = other.get(f"/admin/integrations/{path}/")
        assert page.status_code == 200 and "0 " in page.content.decode(), path
    delivery_pk = Delivery.objects.get().pk
    assert other.get(f"/admin/integrations/delivery/{delivery_pk}/change/").status_code == 302
    assert Event.objects.count() == 1
