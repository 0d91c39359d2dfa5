"""Token and session authentication, the OpenAPI schema and the offline Swagger UI."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import WorkOrderFactory, api_token_key

pytestmark = pytest.mark.django_db


def test_a_token_in_the_authorization_header_authenticates(technician, site_a):
    wo = WorkOrderFactory(site=site_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(technician)}")
    response = client.get("/api/v1/work-orders/")
    assert response.status_code == 200
    assert [row["id"] for row in response.data["results"]] == [wo.pk]
    assert client.get("/api/v1/users/me/").data["username"] == technician.username


def test_no_or_a_wrong_token_is_401():
    client = APIClient()
    assert client.get("/api/v1/work-orders/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert client.get("/api/v1/work-orders/").status_code == 401


def test_session_login_works_too(technician):
    client = APIClient()
    client.force_login(technician)
    assert client.get("/api/v1/users/me/").status_code == 200


def test_lists_are_paginated(as_user, planner, site_a):
    for _ in range(3):
        WorkOrderFactory(site=site_a)
    body = as_user(planner).get("/api/v1/work-orders/?page_size=2").data
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]


def test_the_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in [
        "/api/v1/work-orders/{id}/transition/",
        "/api/v1/work-orders/{id}/steps/{step_id}/",
        "/api/v1/assets/{id}/subtree/",
        "/api/v1/stock/{id}/adjust/",
        "/api/v1/users/me/",
    ]:
        assert f"{path}:" in text


def test_swagger_ui_is_served_without_external_hosts(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "drf_spectacular_sidecar" in html
    hosts = set(re.findall(r"(?:https?:)?//([\w.-]+\.[a-z]{2,})", html))
    assert hosts == set(), hosts
    for asset in re.findall(r'(?:src|href)="/static/([^"]+)"', html):
        assert finders.find(asset), f"{asset} is not shipped with the project"
