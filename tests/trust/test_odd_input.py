"""Odd input found by the API fuzzer answers 400, never 500."""

import pytest

from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "created_after=0059-11-12T12:57:03%2B20:07",  # offset PostgreSQL cannot store
        "due_before=0292-10-17T21:41:30.26-19:27",
    ],
)
def test_a_date_postgresql_cannot_store_answers_400(api, query):
    api.force_authenticate(SuperuserFactory())
    response = api.get(f"/api/v1/work-orders/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_range"


def nested_list(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [33, 900, 100_000])
def test_an_api_body_nested_deeper_than_32_levels_answers_400(api, levels):
    api.force_authenticate(SuperuserFactory())

    response = api.generic(
        "POST", "/api/v1/customers/", nested_list(levels), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - the body must be nested at most 32 levels deep."
    }


def test_an_api_field_nested_too_deep_answers_400_naming_the_field(api):
    api.force_authenticate(SuperuserFactory())
    body = '{"name": "Acme", "notes": ' + nested_list(32) + "}"

    response = api.generic("POST", "/api/v1/customers/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"notes": ["Must be nested at most 32 levels deep."]}


def test_an_api_body_nested_32_levels_reaches_the_serializer(api):
    api.force_authenticate(SuperuserFactory())
    body = '{"name": "Acme", "notes": ' + nested_list(31) + "}"

    response = api.generic("POST", "/api/v1/customers/", body, content_type="application/json")

    assert response.status_code == 201
