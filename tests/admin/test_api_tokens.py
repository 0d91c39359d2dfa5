"""API tokens in the admin: a planner issues one for a person of their sites (shown once, never
cached) and revokes a lost device's token; other sites' tokens stay out of reach."""

import re

import pytest
from django.contrib.admin import helpers
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import PlannerFactory, SiteFactory, TechnicianFactory, api_token_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def planner_page(site, logged_in):
    return logged_in(PlannerFactory(sites=[site]))


def works(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/users/me/").status_code == 200


def test_a_planner_issues_their_own_token_that_is_shown_once_and_never_cached(site, logged_in):
    planner = PlannerFactory(sites=[site])
    planner_page = logged_in(planner)

    response = planner_page.post(
        "/admin/accounts/apitoken/add/",
        {"user": planner.pk, "name": "Laptop", "expires_in_days": "30"},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"].split(", ")
    assert response["Pragma"] == "no-cache"
    key = re.search(r"<code>([0-9a-f]{64})</code>", response.content.decode()).group(1)
    assert works(key)
    token = ApiToken.objects.get(user=planner)
    change_page = planner_page.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert change_page.status_code == 200
    assert key not in change_page.content.decode()


def test_a_planner_revokes_a_lost_phones_token_and_the_other_device_keeps_working(
    planner_page, site
):
    technician = TechnicianFactory(sites=[site])
    phone = api_token_key(technician, name="phone")
    laptop = api_token_key(technician, name="laptop")

    response = planner_page.post(
        "/admin/accounts/apitoken/",
        {
            "action": "delete_selected",
            "post": "yes",
            helpers.ACTION_CHECKBOX_NAME: [ApiToken.objects.get(name="phone").pk],
        },
    )

    assert response.status_code == 302
    assert not works(phone)
    assert works(laptop)


def test_another_sites_tokens_are_not_listed_nor_revocable(planner_page):
    stranger = TechnicianFactory(sites=[SiteFactory()])
    key = api_token_key(stranger)
    token = ApiToken.objects.get(user=stranger)

    listing = planner_page.get("/admin/accounts/apitoken/")
    delete = planner_page.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"})

    assert stranger.username not in listing.content.decode()
    assert delete.status_code == 302
    assert works(key)


@pytest.mark.parametrize("whose", ["another site's", "their own site's"])
def test_a_planner_cannot_issue_a_token_to_anyone_else(planner_page, site, whose):
    # A key is the person's credential: a planner who saw it could act as them.
    stranger = TechnicianFactory(sites=[SiteFactory() if whose == "another site's" else site])

    response = planner_page.post(
        "/admin/accounts/apitoken/add/", {"user": stranger.pk, "name": "x"}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ApiToken.objects.filter(user=stranger).exists()
