"""Every page answers with a Content-Security-Policy that its own markup obeys: scripts and
styles from the same origin only, no inline script, no inline style, no event handlers."""

import re
from urllib.parse import urlparse

import pytest
from django.test import Client

from tests.factories import SuperuserFactory, TechnicianFactory, WorkOrderFactory

pytestmark = pytest.mark.django_db

# Inline scripts; JSON data blocks (type="application/json") are not run and CSP allows them.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>\s*\S", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.I)
SOURCES = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']([^\"']+)[\"']", re.I)


def directives(policy):
    """The policy as {directive: [sources]}; django-csp does not promise an order."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = sources
    return parsed


def assert_obeys_csp(response, *, inline_style=False):
    policy = response["Content-Security-Policy"]
    parsed = directives(policy)
    assert parsed["default-src"] == ["'self'"]
    assert parsed["script-src"] == ["'self'"]
    assert parsed["frame-ancestors"] == ["'none'"]
    assert parsed["object-src"] == ["'none'"]
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    if inline_style:
        assert parsed["style-src"] == ["'self'", "'unsafe-inline'"]
    else:
        assert parsed["style-src"] == ["'self'"]
        assert "unsafe-inline" not in policy
        assert not STYLE_BLOCK.search(html)
        assert not STYLE_ATTR.search(html), html[STYLE_ATTR.search(html).start() - 80 :][:200]
    assert not EVENT_HANDLER.search(html), EVENT_HANDLER.search(html).group(0)
    assert not JS_URL.search(html)
    for url in SOURCES.findall(html):
        parsed = urlparse(url)
        assert not parsed.netloc and parsed.scheme in ("", "data"), url


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(SuperuserFactory())
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/workorders/workorder/",
        "/admin/workorders/workorder/add/",
        "/admin/gateways/gateway/",
        "/admin/audit/auditentry/",
    ],
)
def test_admin_and_api_pages_obey_the_content_security_policy(superuser_client, url):
    response = superuser_client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert_obeys_csp(response)


def test_the_api_docs_page_runs_no_inline_script_and_only_its_own_style_inline(superuser_client):
    response = superuser_client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert_obeys_csp(response, inline_style=True)
    script = superuser_client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_technician_pages_obey_the_content_security_policy():
    work_order = WorkOrderFactory()
    technician = TechnicianFactory(sites=[work_order.site])
    client = Client()
    assert_obeys_csp(client.get("/tech/login/"))
    assert_obeys_csp(client.get("/admin/login/"))
    client.force_login(technician)
    for url in ("/tech/", f"/tech/work-orders/{work_order.pk}/", "/tech/requests/new/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_obeys_csp(response)


def test_every_answer_carries_the_security_headers(client):
    response = client.get("/healthz")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
