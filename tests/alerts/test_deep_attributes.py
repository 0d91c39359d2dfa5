"""Alert attributes: nesting is capped on ingest, and deeper ones already stored still show."""

import json

import pytest
from django.db import connection
from django.utils import timezone

from alerts.models import Alert
from tests.factories import GatewayFactory, PlannerFactory, SuperuserFactory
from tests.webhooks import alert

pytestmark = pytest.mark.django_db

DEEP_TEXT = '{"a": ' * 900 + '"bottom"' + "}" * 900  # 5.4 KB, well under the 16 KiB limit


def nested(levels: int) -> dict:
    value = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_attributes_nested_32_levels_are_stored(hook):
    response = hook.post(alert(attributes=nested(32)))

    assert response.status_code == 202
    assert Alert.objects.get().attributes == nested(32)


@pytest.mark.parametrize("levels", [33, 900])
def test_attributes_nested_deeper_than_32_levels_are_a_400_naming_the_field(hook, levels):
    response = hook.post(alert(attributes=nested(levels)))

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "field": "attributes", "message": "Must be nested at most 32 levels deep."}
    ]
    assert not Alert.objects.exists()


@pytest.fixture
def deep_alert(site, pump):
    """An unmatched alert whose attributes were stored before the cap: 900 levels deep."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: stores and reads the document with jsonb casts")
    stored = Alert.objects.create(
        gateway=GatewayFactory(site=site),
        site=site,
        alert_id="deep-1",
        asset_tag="X-1",
        condition="vibration.high",
        severity="major",
        observed_at=timezone.now(),
        content_hash="x",
        status="unmatched",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE alerts_alert SET attributes = %s::jsonb WHERE id = %s", [DEEP_TEXT, stored.pk]
        )
    return stored


def stored_text(alert_pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT attributes::text FROM alerts_alert WHERE id = %s", [alert_pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/alerts/alert/{pk}/change/",
        "/admin/alerts/alert/",
        "/admin/planner/triage/",
    ],
)
def test_pages_show_an_alert_whose_stored_attributes_are_too_deep(deep_alert, site, logged_in, url):
    client = logged_in(PlannerFactory(sites=[site]))

    response = client.get(url.format(pk=deep_alert.pk))

    assert response.status_code == 200
    assert "deep-1" in response.content.decode()


def test_the_api_shows_too_deep_stored_attributes_as_their_json_text(deep_alert, api):
    api.force_authenticate(SuperuserFactory())

    detail = api.get(f"/api/v1/alerts/{deep_alert.pk}/")
    listing = api.get("/api/v1/alerts/")

    assert detail.status_code == 200
    assert json.loads(detail.json()["attributes"]) == json.loads(stored_text(deep_alert.pk))
    assert listing.status_code == 200
    assert listing.json()["results"][0]["attributes"] == detail.json()["attributes"]


def test_saving_an_alert_keeps_its_too_deep_attributes_as_stored(deep_alert):
    before = stored_text(deep_alert.pk)
    loaded = Alert.objects.get(pk=deep_alert.pk)

    loaded.message = "seen"
    loaded.save()

    assert stored_text(deep_alert.pk) == before
    assert before.startswith('{"a": {"a": ')
