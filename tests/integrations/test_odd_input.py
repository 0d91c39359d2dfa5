"""Odd input answers 4xx, never 500."""

import pytest

from integrations import services

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


def test_ids_beyond_64_bits_answer_404(as_user, planner):
    endpoint, _ = services.endpoint_create(
        owner=planner, url="http://127.0.0.1:9/", event_types=["alert.received"]
    )
    api = as_user(planner)

    assert api.get(f"/api/v1/webhook-endpoints/{HUGE}/").status_code == 404
    replay = f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/{HUGE}/replay/"
    assert api.post(replay).status_code == 404


@pytest.mark.parametrize(
    "url", ["not a url", "https://", "https://hooks.example.com:99999/", "https://exa mple.com/"]
)
def test_malformed_urls_answer_400_naming_url(as_user, planner, url):
    answer = as_user(planner).post(
        "/api/v1/webhook-endpoints/", {"url": url, "event_types": ["alert.received"]}, format="json"
    )

    assert answer.status_code == 400 and "url" in answer.json()
