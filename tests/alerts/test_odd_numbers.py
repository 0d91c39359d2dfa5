"""Numbers in an alert: any finite double is stored; what no double holds is a 400."""

import json

import pytest

from alerts.models import Alert
from tests.factories import SuperuserFactory
from tests.webhooks import alert

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("literal", "stored"),
    [("1e27", 1e27), ("1e308", 1e308), ("-1e30", -1e30), ("1" + "0" * 40, 1e40)],
)
def test_a_large_finite_value_is_stored_and_shown(hook, literal, stored, api):
    body = json.dumps(alert(value=12.5, threshold=1.5)).replace("12.5", literal)

    response = hook.post(body=body)

    assert response.status_code == 202
    saved = Alert.objects.get()
    assert saved.value == stored
    api.force_authenticate(SuperuserFactory())
    assert api.get(f"/api/v1/alerts/{saved.pk}/").json()["value"] == stored


@pytest.mark.parametrize("literal", ["1e999999", "-1e400", "1" + "0" * 400])
@pytest.mark.parametrize("field", ["value", "threshold"])
def test_a_number_beyond_double_precision_is_a_400_naming_the_field(hook, literal, field):
    body = json.dumps(alert(value=12.5, threshold=1.5)).replace(
        "12.5" if field == "value" else "1.5", literal
    )

    response = hook.post(body=body)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "index": 0,
            "field": field,
            "message": "Must be a finite number within double precision.",
        }
    ]
    assert not Alert.objects.exists()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "9" * 5000])
def test_a_number_json_does_not_allow_is_a_400(hook, literal):
    body = json.dumps(alert(value=12.5)).replace("12.5", literal)

    response = hook.post(body=body)

    assert response.status_code == 400
    assert not Alert.objects.exists()
