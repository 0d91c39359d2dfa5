"""`manage.py simulate_gateway` over real HTTP (a live server), its secret sources and refusals."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.models import Alert
from fleet.simulator import HttpTransport
from gateways.models import Gateway


def simulate(*args, **kwargs):
    from io import StringIO

    out = StringIO()
    call_command("simulate_gateway", *args, stdout=out, **kwargs)
    return out.getvalue()


@pytest.fixture
def live(live_server, real_clock):
    """The live server keeps the machine's clock: signatures must agree with it."""
    return live_server


@pytest.mark.django_db(transaction=True)
def test_it_sends_signed_requests_over_http_that_the_server_accepts(
    live, gateway_and_secret, tmp_path
):
    gateway, secret = gateway_and_secret
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret + "\n")
    out = simulate(
        "--url",
        live.url,
        "--gateway",
        str(gateway.pk),
        "--secret-file",
        str(secret_file),
        "--scenario",
        "storm",
        "--count",
        "1",
        "--sensors",
        "vib-01=P-101:hours,vib-02=P-102",
    )
    lines = out.splitlines()
    assert any(" heartbeat 202 " in line for line in lines)
    assert any(" readings 202 " in line for line in lines)
    assert any(" alerts 202 " in line for line in lines)
    assert Alert.objects.filter(gateway=gateway).count() == 2
    assert Gateway.objects.get(pk=gateway.pk).last_heartbeat_at is not None
    assert secret not in out and secret.removeprefix("whsec_")[:16] not in out


@pytest.mark.django_db(transaction=True)
def test_a_wrong_secret_stops_with_the_servers_answer_and_shows_no_secret(
    live, gateway_and_secret, monkeypatch
):
    gateway, _secret = gateway_and_secret
    wrong = "whsec_" + "A" * 43 + "="
    monkeypatch.setenv("GATEWAY_SECRET", wrong)
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError, match="401") as refused:
        call_command(
            "simulate_gateway",
            "--url",
            live.url,
            "--gateway",
            str(gateway.pk),
            "--sensors",
            "vib-01=P-101",
            "--count",
            "1",
            stdout=out,
        )
    assert "Invalid or missing webhook signature" in str(refused.value)
    assert "A" * 20 not in out.getvalue() + str(refused.value)


def test_http_transport_reports_a_closed_port_as_a_connection_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError):
        HttpTransport(f"http://127.0.0.1:{port}", timeout=2).post("/x", b"{}", {})
    with pytest.raises(ValueError):
        HttpTransport("file:///etc/passwd")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "--gateway"),
        (("--gateway", "g"), {}, "Give the secret"),
        (("--gateway", "g", "--secret", "nope"), {}, "whsec_"),
        (("--gateway", "g", "--secret-file", "/nonexistent/secret"), {}, "Cannot read"),
        (("--gateway", "g", "--sensors", "vib"), {"GATEWAY_SECRET": "whsec_x"}, "--sensors"),
        (("--gateway", "not-a-uuid"), {"GATEWAY_SECRET": "whsec_x"}, "give --sensors"),
        (
            ("--gateway", "g", "--sensors", "a=P-1", "--scenario", "loud"),
            {"GATEWAY_SECRET": "whsec_x"},
            "Unknown scenario",
        ),
        (
            ("--gateway", "g", "--sensors", "a=P-1", "--interval", "0"),
            {"GATEWAY_SECRET": "whsec_x"},
            "interval",
        ),
        (
            ("--gateway", "g", "--sensors", "a=P-1", "--url", "ftp://x"),
            {"GATEWAY_SECRET": "whsec_x"},
            "http",
        ),
    ],
)
def test_bad_options_are_refused_with_a_reason(args, env, message, monkeypatch):
    monkeypatch.delenv("GATEWAY_SECRET", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError, match=message):
        simulate(*args)


@pytest.mark.django_db
def test_demo_mode_is_refused_outside_the_embedded_demo(settings):
    from django.db import connection

    settings.DEBUG = connection.vendor != "sqlite"  # never both DEBUG and SQLite here
    with pytest.raises(CommandError, match="embedded demo only"):
        simulate("--demo", "--count", "1")
