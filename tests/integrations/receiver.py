"""A local webhook receiver for the outbound events' tests: http.server in a thread on
127.0.0.1 (a free port), which verifies each request with the `standardwebhooks` library and
answers as the test tells it."""

import http.server
import threading
from dataclasses import dataclass, field

from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    headers: dict
    body: bytes
    verified: dict | None  # the parsed body when the signature checked out, else None


@dataclass
class Receiver:
    """`answers`: the statuses of the next requests (then 200); `hold`: an event the handler
    waits on before answering (a slow receiver)."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    hold: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cmms?x=1"

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.record(headers, body)
                if receiver.hold is not None:
                    receiver.hold.wait(timeout=60)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def record(self, headers: dict, body: bytes) -> None:
        try:
            verified = Webhook(self.secret).verify(body, headers) if self.secret else None
        except Exception:
            verified = None
        self.received.append(Received(headers, body, verified))
        self.arrived.set()

    def stop(self):
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]

    def types(self) -> list[str]:
        return [r.verified["type"] if r.verified else "UNVERIFIED" for r in self.received]
