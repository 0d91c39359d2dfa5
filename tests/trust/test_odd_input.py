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
