"""A gateway at the North plant watching P-101 (with its running-hours meter) and the test
client as the simulator's transport, so its signed requests reach the real webhooks."""

from datetime import UTC, datetime

import pytest

from fleet.simulator import Response, SensorSpec
from tests.factories import AssetFactory, MeterFactory, gateway_with_secret


@pytest.fixture(autouse=True)
def _empty_cache(empty_cache):
    """Rate limit counters live in the cache: each test starts without any."""


class ClientTransport:
    """The simulator's transport over Django's test client (the whole request path, no
    socket); remembers every request it carried."""

    def __init__(self, client):
        self.client = client
        self.requests: list[tuple[str, bytes, dict]] = []

    def post(self, path: str, body: bytes, headers: dict) -> Response:
        self.requests.append((path, body, dict(headers)))
        others = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        answer = self.client.post(
            path, data=body, content_type=headers["Content-Type"], headers=others
        )
        return Response(
            answer.status_code, {k.lower(): v for k, v in answer.items()}, answer.content
        )


class ScriptedTransport:
    """Answers from a script: each item a Response or an exception to raise."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[tuple[str, bytes, dict]] = []

    def post(self, path: str, body: bytes, headers: dict) -> Response:
        self.requests.append((path, body, dict(headers)))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeClock:
    """A clock that moves only when the simulator sleeps."""

    def __init__(self, start=None):
        self.now = start or datetime.now(tz=UTC).replace(microsecond=0)
        self.slept: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds: float) -> None:
        from datetime import timedelta

        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def watched(site, pump):
    """P-101 with its running-hours meter, and a second pump P-102."""
    meter = MeterFactory(asset=pump)
    other = AssetFactory(site=site, parent=pump.parent, tag="P-102", name="Spare pump")
    return {"pump": pump, "meter": meter, "other": other}


@pytest.fixture
def gateway_and_secret(site, watched):
    return gateway_with_secret(site=site)


@pytest.fixture
def sensors():
    return [
        SensorSpec("vib-01", "P-101", "vibration", "hours", 1200.0),
        SensorSpec("temp-02", "P-102", "temperature"),
    ]
