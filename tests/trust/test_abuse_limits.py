"""Abuse limits: API throttling per user/token and per anonymous client, login throttling on
the admin and the technician login, request-size limits, and the page-size cap."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import (
    AssetFactory,
    PlannerFactory,
    SiteFactory,
    TechnicianFactory,
    api_token_key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

    rates = {"anon": "3/minute", "user": "5/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF reads the rates once at import; point the classes at the test's rates.
    saved = (AnonRateThrottle.THROTTLE_RATES, UserRateThrottle.THROTTLE_RATES)
    AnonRateThrottle.THROTTLE_RATES = UserRateThrottle.THROTTLE_RATES = rates
    yield
    AnonRateThrottle.THROTTLE_RATES, UserRateThrottle.THROTTLE_RATES = saved


def test_a_token_past_its_rate_gets_429_with_retry_after_and_others_are_unaffected(low_rates):
    site = SiteFactory()
    busy, other = PlannerFactory(sites=[site]), PlannerFactory(sites=[site])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(busy)}")
    answers = [client.get("/api/v1/sites/").status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    limited = client.get("/api/v1/sites/")
    assert int(limited["Retry-After"]) > 0
    quiet = APIClient()
    quiet.force_authenticate(other)
    assert quiet.get("/api/v1/sites/").status_code == 200


def test_anonymous_callers_are_throttled_per_client(low_rates):
    # Endpoints that need a login answer 401 before any work; the public schema is throttled.
    client = APIClient()
    answers = [client.get("/api/v1/schema/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert APIClient(REMOTE_ADDR="10.9.8.7").get("/api/v1/schema/").status_code == 200


@pytest.mark.parametrize(
    ("login_url", "user_factory"),
    [("/admin/login/", PlannerFactory), ("/tech/login/", TechnicianFactory)],
)
def test_repeated_failed_logins_lock_the_account_from_that_client(
    settings, login_url, user_factory
):
    settings.AXES_FAILURE_LIMIT = 3
    user = user_factory()
    client = Client()
    wrong = {"username": user.username, "password": "not-the-password"}
    for _ in range(2):
        assert client.post(login_url, wrong).status_code == 200  # the form again, with an error
    assert client.post(login_url, wrong).status_code == 429
    right = {"username": user.username, "password": "pw-for-tests-1"}
    assert client.post(login_url, right).status_code == 429  # even the right password now
    other_client = Client(REMOTE_ADDR="10.9.8.7")
    assert other_client.post(login_url, right).status_code == 302


@pytest.fixture
def behind_a_proxy(settings):
    """One reverse proxy at 10.0.0.1 that appends the client's address to X-Forwarded-For."""
    settings.CLIENT_IP_HEADERS = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.CLIENT_IP_PROXY_COUNT = 0
    settings.AXES_FAILURE_LIMIT = 3

    def through_proxy(forwarded_for: str) -> Client:
        return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    return through_proxy


def test_behind_a_proxy_the_lockout_keys_on_the_client_the_proxy_reports(behind_a_proxy):
    user = TechnicianFactory()
    wrong = {"username": user.username, "password": "not-the-password"}
    right = {"username": user.username, "password": "pw-for-tests-1"}
    attacker = behind_a_proxy("203.0.113.5")

    answers = [attacker.post("/tech/login/", wrong).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    # The real user comes through the same proxy from elsewhere: not locked out with them.
    assert behind_a_proxy("198.51.100.7").post("/tech/login/", right).status_code == 302


def test_behind_a_proxy_a_forged_forwarded_for_entry_does_not_dodge_the_lockout(behind_a_proxy):
    user = TechnicianFactory()
    wrong = {"username": user.username, "password": "not-the-password"}
    for _ in range(3):
        behind_a_proxy("203.0.113.5").post("/tech/login/", wrong)

    # The client wrote the left entry itself; the proxy appended the address it saw.
    forged = behind_a_proxy("192.0.2.99, 203.0.113.5")

    assert forged.post("/tech/login/", wrong).status_code == 429


@pytest.mark.parametrize(
    "client_part",
    [
        '192.0.2.{n}, "',  # an unclosed quote that a quote-aware parser lets swallow the rest
        '"192.0.2.{n}',
        "192.0.2.{n},",
        "not-an-address-{n}",
        "192.0.2.{n}:80, [::1]",
    ],
)
def test_behind_a_proxy_only_the_entry_the_proxy_appended_counts_whatever_came_before(
    behind_a_proxy, client_part
):
    user = TechnicianFactory()
    wrong = {"username": user.username, "password": "not-the-password"}

    # nginx's proxy_add_x_forwarded_for: the client's header, then the address nginx saw.
    answers = [
        behind_a_proxy(client_part.format(n=n) + ", 203.0.113.5")
        .post("/tech/login/", wrong)
        .status_code
        for n in range(4)
    ]

    assert answers == [200, 200, 429, 429]


def test_without_a_proxy_a_forwarded_for_header_is_never_believed(settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = TechnicianFactory()
    wrong = {"username": user.username, "password": "not-the-password"}

    answers = [
        Client(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        .post("/tech/login/", wrong)
        .status_code
        for n in range(4)
    ]

    assert answers == [200, 200, 429, 429]


def test_without_a_proxy_anonymous_api_callers_cannot_forge_their_way_past_the_throttle(
    low_rates,
):
    answers = [
        APIClient(REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        .get("/api/v1/schema/")
        .status_code
        for n in range(4)
    ]

    assert answers == [200, 200, 200, 429]


def test_behind_a_proxy_anonymous_api_callers_are_throttled_per_reported_client(
    low_rates, behind_a_proxy
):
    def call(forwarded_for):
        client = APIClient(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
        return client.get("/api/v1/schema/").status_code

    answers = [call(f"192.0.2.{n}, 203.0.113.5") for n in range(4)]

    assert answers == [200, 200, 200, 429]
    assert call("198.51.100.7") == 200


def test_successful_logins_never_count_towards_a_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 2
    user = PlannerFactory()
    for _ in range(5):
        client = Client()
        response = client.post(
            "/admin/login/", {"username": user.username, "password": "pw-for-tests-1"}
        )
        assert response.status_code == 302


def test_an_api_body_over_the_upload_limit_is_refused(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    site = SiteFactory()
    client = APIClient()
    client.force_authenticate(PlannerFactory(sites=[site]))
    body = {"site": site.pk, "tag": "P-1", "name": "x" * 20_000}
    response = client.post("/api/v1/assets/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400


def test_the_webhook_refuses_a_body_over_one_mebibyte_with_413(client):
    response = client.post(
        "/hooks/v1/gateways/00000000-0000-4000-8000-000000000000/alerts",
        data="x" * (1024 * 1024 + 1),
        content_type="application/json",
    )
    assert response.status_code == 413


def test_page_size_is_capped_at_500(api):
    site = SiteFactory()
    for n in range(3):
        AssetFactory(site=site, tag=f"P-{n}")
    api.force_authenticate(PlannerFactory(sites=[site]))
    from cmms.api.pagination import StandardPagination

    assert StandardPagination.max_page_size == 500
    StandardPagination.max_page_size, saved = 2, StandardPagination.max_page_size
    try:
        response = api.get("/api/v1/assets/", {"page_size": 100_000})
    finally:
        StandardPagination.max_page_size = saved
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    assert response.json()["count"] == 3
