"""Signing, retries and logging of the simulator's requests, against scripted answers."""

import json

import pytest
from standardwebhooks.webhooks import Webhook

from fleet.simulator import (
    Plan,
    Request,
    Response,
    Sender,
    Simulator,
    SimulatorStopped,
    parse_plan,
    parse_sensors,
)
from tests.fleet.simulator.transports import FakeClock, ScriptedTransport

SECRET = "whsec_MfKQ9r8GKYqqzxKp+1nV8aQ2cN4b0D3WmJ7uX6yTzE4="
HEARTBEAT = Request("heartbeat", {"firmware": "2.4.1", "sensors": []})


def ok(status=202, body=b'{"accepted": 1}'):
    return Response(status, {}, body)


def sender_for(transport, *, max_attempts=8):
    clock, lines = FakeClock(), []
    sender = Sender(
        transport=transport,
        gateway_id="gw-1",
        secret=SECRET,
        log=lines.append,
        clock=clock,
        sleep=clock.sleep,
        max_attempts=max_attempts,
    )
    return sender, clock, lines


def test_requests_are_signed_as_standard_webhooks_verify_them():
    transport = ScriptedTransport(ok())
    sender, _clock, _lines = sender_for(transport)
    sender.send(HEARTBEAT)
    path, body, headers = transport.requests[0]
    assert path == "/hooks/v1/gateways/gw-1/heartbeat"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == HEARTBEAT.body
    Webhook(SECRET).verify(body, headers)  # raises if the signature does not match


def test_429_waits_for_retry_after_then_resends_the_same_delivery_freshly_signed():
    transport = ScriptedTransport(Response(429, {"retry-after": "7"}, b'{"errors": []}'), ok())
    sender, clock, lines = sender_for(transport)
    assert sender.send(HEARTBEAT).status == 202
    assert clock.slept == [7]
    (_, body1, first), (_, body2, second) = transport.requests
    assert body1 == body2 and first["webhook-id"] == second["webhook-id"]
    assert int(second["webhook-timestamp"]) == int(first["webhook-timestamp"]) + 7
    Webhook(SECRET).verify(body2, second)
    assert [line.split()[1:3] for line in lines] == [["heartbeat", "429"], ["heartbeat", "202"]]
    assert lines[0].endswith("retrying in 7 s")  # one line per request, the retry on it


def test_503_is_retried_after_its_retry_after_and_other_server_errors_back_off():
    transport = ScriptedTransport(
        Response(503, {"retry-after": "5"}, b"{}"), Response(502, {}, b"bad gateway"), ok()
    )
    sender, clock, _lines = sender_for(transport)
    assert sender.send(HEARTBEAT).status == 202
    assert clock.slept == [5, 2]  # the second attempt's backoff


def test_lost_connections_back_off_exponentially():
    transport = ScriptedTransport(
        ConnectionRefusedError(111, "Connection refused"), TimeoutError("timed out"), ok()
    )
    sender, clock, lines = sender_for(transport)
    assert sender.send(HEARTBEAT).status == 202
    assert clock.slept == [1, 2]
    assert "ConnectionRefusedError" in lines[0] and "retrying in 1 s" in lines[0]


def test_it_gives_up_after_its_attempts():
    transport = ScriptedTransport(*[Response(503, {"retry-after": "1"}, b"{}")] * 3)
    sender, _clock, _lines = sender_for(transport, max_attempts=3)
    with pytest.raises(SimulatorStopped, match="after 3 attempts"):
        sender.send(HEARTBEAT)


@pytest.mark.parametrize("status", [400, 401, 404, 413, 415, 501])
def test_other_refusals_stop_with_the_answer_logged(status):
    error = b'{"errors": [{"index": null, "field": "firmware", "message": "Too long."}]}'
    transport = ScriptedTransport(Response(status, {}, error))
    sender, clock, lines = sender_for(transport)
    with pytest.raises(SimulatorStopped, match="Too long"):
        sender.send(HEARTBEAT)
    assert clock.slept == []
    assert f"heartbeat {status}" in lines[-1] and "Too long" in lines[-1]


def test_one_line_per_request_says_what_was_sent_and_never_the_secret():
    alerts = Request(
        "alerts",
        {
            "alerts": [
                {
                    "alert_id": "a",
                    "asset": "P-101",
                    "condition": "vibration.high",
                    "severity": "major",
                }
            ]
        },
    )
    transport = ScriptedTransport(Response(401, {}, b'{"errors": []}'), ok())
    sender, _clock, lines = sender_for(transport)
    with pytest.raises(SimulatorStopped):
        sender.send(HEARTBEAT)
    sender.send(alerts)
    assert len(lines) == 2
    assert "firmware 2.4.1" in lines[0]
    assert "1 alerts: P-101 vibration.high major (accepted 1)" in lines[1]
    key = SECRET.removeprefix("whsec_")
    assert not any(key in line or key[:12] in line for line in lines)


def test_the_simulator_waits_one_interval_between_ticks_and_none_after_the_last():
    transport = ScriptedTransport(*[ok() for _ in range(6)])
    sender, clock, _lines = sender_for(transport)
    plan = Plan(
        phases=parse_plan("steady"),
        sensors=parse_sensors("vib-01=P-101:hours"),
        interval=60.0,
        seed=1,
    )
    simulator = Simulator(
        plan=plan, sender=sender, log=lambda line: None, clock=clock, sleep=clock.sleep
    )
    simulator.run(count=3)
    assert clock.slept == [60.0, 60.0]
    assert len(transport.requests) == 6  # heartbeat and readings on each of the three ticks
