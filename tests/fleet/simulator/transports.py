"""Transports and a clock for the simulator's tests: the test client as its transport (so its
signed requests reach the real webhooks), scripted answers, a clock that moves when it sleeps."""

from datetime import UTC, datetime, timedelta

from fleet.simulator import Response


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
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
