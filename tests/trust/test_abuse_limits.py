"""Abuse limits: API throttling per user/token and per anonymous client, login throttling on
the admin and the technician login, request-size limits, and the page-size cap."""

import json

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import AssetFactory, PlannerFactory, SiteFactory, TechnicianFactory

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
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=busy).key}")
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
