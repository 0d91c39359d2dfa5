"""/api/v1/webhook-endpoints/: own endpoints only, a secret shown once, private URLs refused."""

import pytest

from integrations import services, urlguard
from integrations.choices import DeliveryStatus, EventType
from integrations.models import Delivery, WebhookEndpoint
from tests.factories import PlannerFactory, WorkOrderFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address; tests change the answer."""
    answers = {"hooks.example.com": ["93.184.215.14"]}
    monkeypatch.setattr(urlguard, "resolve", lambda host, port: answers.get(host, ["127.0.0.1"]))
    return answers


def create(client, **fields):
    body = {"url": "https://hooks.example.com/cmms", "event_types": ["work_order.created"]}
    return client.post(URL, {**body, **fields}, format="json")


def test_the_secret_is_shown_on_creation_and_never_again(as_user, planner, public_dns):
    api = as_user(planner)
    created = create(api, description="ERP")

    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    assert created["Cache-Control"] == "no-store"
    endpoint = created.json()["id"]
    for answer in (
        api.get(URL),
        api.get(f"{URL}{endpoint}/"),
        api.get(f"{URL}{endpoint}/deliveries/"),
    ):
        assert answer.status_code == 200
        assert secret not in answer.content.decode()
        assert secret.removeprefix("whsec_") not in answer.content.decode()
    rotated = api.post(f"{URL}{endpoint}/rotate-secret/")
    assert rotated.status_code == 201 and rotated.json()["secret"] not in (secret, "")


def test_a_user_lists_and_reaches_only_their_own_endpoints(as_user, planner, site, public_dns):
    mine, _ = services.endpoint_create(
        owner=planner, url="https://hooks.example.com/a", event_types=["alert.received"]
    )
    colleague = PlannerFactory(sites=[site])
    theirs, _ = services.endpoint_create(
        owner=colleague, url="https://hooks.example.com/b", event_types=["alert.received"]
    )
    api = as_user(planner)

    assert [e["id"] for e in api.get(URL).json()["results"]] == [mine.pk]
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.patch(f"{URL}{theirs.pk}/", {"enabled": False}, format="json").status_code == 404
    assert api.delete(f"{URL}{theirs.pk}/").status_code == 404


def test_technicians_may_not_subscribe_but_viewers_may(as_user, technician, viewer, public_dns):
    assert create(as_user(technician)).status_code == 403
    assert create(as_user(viewer)).status_code == 201


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://10.1.2.3/hook", "private"),
        ("https://127.0.0.1:8443/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::1]/hook", "private"),
        ("https://internal.example.net/hook", "private"),  # resolves to 127.0.0.1 here
        ("http://hooks.example.com/hook", "https"),
        ("ftp://hooks.example.com/hook", "http and https"),
        ("https://user:pw@hooks.example.com/hook", "Credentials"),
    ],
)
def test_an_endpoint_on_a_private_address_is_refused(
    settings, as_user, planner, public_dns, url, why
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.DEBUG = False
    answer = create(as_user(planner), url=url)

    assert answer.status_code == 400
    assert why in str(answer.json()["url"])
    assert not WebhookEndpoint.objects.exists()


def test_a_host_that_turns_private_after_saving_is_not_sent_to(
    settings, planner, site, public_dns, django_capture_on_commit_callbacks, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOK_RETRY_SCHEDULE = [600]
    services.endpoint_create(
        owner=planner, url="https://hooks.example.com/x", event_types=["work_order.created"]
    )
    public_dns["hooks.example.com"] = ["93.184.215.14", "10.0.0.7"]  # DNS rebinding
    posted = []
    monkeypatch.setattr("integrations.sending.post", lambda **kw: posted.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)

    assert posted == []
    sent = Delivery.objects.get()
    assert sent.status == DeliveryStatus.PENDING and "private" in sent.last_error
    assert "private" in sent.attempts_log.get().error
    # The owner learns that it is private, not where inside the network it points.
    assert "10.0.0.7" not in sent.last_error


def test_sites_must_be_ones_the_user_may_see(as_user, planner, site, other_site, public_dns):
    api = as_user(planner)

    refused = create(api, sites=[other_site.pk])
    assert refused.status_code == 400 and "sites" in refused.json()
    assert create(api, sites=[site.pk]).status_code == 201


def test_unknown_event_types_are_refused_naming_the_field(as_user, planner, public_dns):
    for types in (["work_order.exploded"], [], "work_order.created", ["test"]):
        answer = create(as_user(planner), event_types=types)
        assert answer.status_code == 400 and "event_types" in answer.json(), types


def test_re_enabling_a_disabled_endpoint_clears_its_failure(as_user, planner, public_dns):
    endpoint, _ = services.endpoint_create(
        owner=planner, url="https://hooks.example.com/a", event_types=["alert.received"]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, failing_since="2026-01-01T00:00Z", disabled_reason="Failing"
    )
    answer = as_user(planner).patch(f"{URL}{endpoint.pk}/", {"enabled": True}, format="json")

    assert answer.status_code == 200
    assert answer.json()["failing_since"] is None and answer.json()["disabled_reason"] == ""


def test_the_delivery_log_shows_attempts_and_a_delivery_can_be_replayed(
    as_user, planner, site, receiver, subscribe, django_capture_on_commit_callbacks
):
    endpoint = subscribe(receiver, types=[EventType.WORK_ORDER_CREATED])
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        WorkOrderFactory(site=site)
    api = as_user(planner)

    [row] = api.get(f"{URL}{endpoint.pk}/deliveries/").json()["results"]
    assert row["status"] == "delivered" and row["event_type"] == "work_order.created"
    assert [a["status_code"] for a in row["attempts_log"]] == [200, 500]
    with django_capture_on_commit_callbacks(execute=True):
        replay = api.post(f"{URL}{endpoint.pk}/deliveries/{row['id']}/replay/")
    assert replay.status_code == 202
    assert len(receiver.received) == 3
    other = PlannerFactory(sites=[site])
    assert (
        as_user(other).post(f"{URL}{endpoint.pk}/deliveries/{row['id']}/replay/").status_code == 404
    )
