"""Production settings are secure by default: DEBUG=0, a strong SECRET_KEY and ALLOWED_HOSTS
are all a deployment must set for `check --deploy` to be clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3V9-q8Zr2m_Xw7Lp0Tn4Yb6Hc1Jd5Fg8Sa2Qe9Ru3Wi7Oo1Pl4Kj6Mh0Nb5Vc"


def manage(*args, **env):
    """Run manage.py with a clean environment: only PATH and the given variables."""
    base = {"PATH": os.environ["PATH"], "DATABASE_URL": "sqlite:///:memory:"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_only_debug_secret_key_and_allowed_hosts():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="cmms.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_a_tls_proxy_the_opt_out_is_explicit_and_still_clean():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s;"
        " print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)",
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="cmms.example.com",
        TLS_PROXY="0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "False", "0", "None"]
    check = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="cmms.example.com",
        TLS_PROXY="0",
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_behind_a_tls_proxy_https_hsts_and_secure_cookies_are_on():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s;"
        " print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD,"
        " s.SECURE_PROXY_SSL_HEADER[0])",
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="cmms.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "True",
        "31536000",
        "True",
        "HTTP_X_FORWARDED_PROTO",
    ]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "SECRET_KEY must be set"),
        ("short-key", "SECRET_KEY is too weak"),
        ("a" * 60, "SECRET_KEY is too weak"),
        ("django-insecure-" + STRONG_KEY, "SECRET_KEY is too weak"),
    ],
)
def test_the_process_refuses_to_start_without_a_strong_secret_key(key, message):
    env = {"DEBUG": "0", "ALLOWED_HOSTS": "cmms.example.com"}
    if key is not None:
        env["SECRET_KEY"] = key
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_a_malformed_throttle_rate_stops_the_process_naming_the_variable():
    result = manage("check", API_THROTTLE_USER="lots")
    assert result.returncode != 0
    assert "API_THROTTLE_USER" in result.stderr


PLAIN_HTTP_PROBES = """
from django.test import Client
client = Client(HTTP_HOST="cmms.example.com")
paths = ["/healthz", "/readyz", "/metrics", "/tech/login/", "/api/v1/", "/admin/", "/healthz/x"]
for path in paths:
    response = client.get(path)
    print(path, response.status_code, response.get("Location", "-"))
"""


def test_probes_answer_on_plain_http_while_everything_else_redirects_to_https():
    # The documented production settings, with the database down (nothing listens on port 9).
    result = manage(
        "shell",
        "-c",
        PLAIN_HTTP_PROBES,
        DEBUG="0",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="cmms.example.com",
        DATABASE_URL="postgres://cmms@127.0.0.1:9/cmms",
    )

    assert result.returncode == 0, result.stderr
    answers = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines()[-7:])
    assert answers["/healthz"] == "200 -"
    assert answers["/readyz"] == "503 -"  # the database outage is reported, not hidden
    assert answers["/metrics"] in {"401 -", "403 -"}  # no token: refused by the view, not moved
    assert answers["/tech/login/"] == "301 https://cmms.example.com/tech/login/"
    assert answers["/api/v1/"] == "301 https://cmms.example.com/api/v1/"
    assert answers["/admin/"] == "301 https://cmms.example.com/admin/"
    assert answers["/healthz/x"] == "301 https://cmms.example.com/healthz/x"


def test_a_trusted_proxy_header_is_read_only_when_configured():
    show = (
        "from django.conf import settings as s; print(s.CLIENT_IP_HEADERS, s.CLIENT_IP_PROXY_COUNT)"
    )

    default = manage("shell", "-c", show)
    configured = manage(
        "shell", "-c", show, TRUSTED_PROXY_HEADER="X-Real-IP", TRUSTED_PROXY_COUNT="2"
    )

    assert default.stdout.strip().splitlines()[-1] == "('REMOTE_ADDR',) 0"
    assert configured.stdout.strip().splitlines()[-1] == "('HTTP_X_REAL_IP', 'REMOTE_ADDR') 1"


def test_a_malformed_trusted_proxy_header_stops_the_process_naming_the_variable():
    result = manage("check", TRUSTED_PROXY_HEADER="X-Forwarded-For: 1.2.3.4")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_HEADER" in result.stderr


def test_the_api_token_lifetime_comes_from_the_environment():
    show = "from django.conf import settings as s; print(s.REST_KNOX['TOKEN_TTL'])"

    lifetimes = [
        manage("shell", "-c", show, **env).stdout.strip().splitlines()[-1]
        for env in ({}, {"API_TOKEN_TTL_DAYS": "7"}, {"API_TOKEN_TTL_DAYS": "0"})
    ]

    assert lifetimes == ["90 days, 0:00:00", "7 days, 0:00:00", "None"]
