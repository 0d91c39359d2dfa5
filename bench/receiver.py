"""`python -m bench.receiver PORT` (secret in BENCH_RECEIVER_SECRET): an integrator's endpoint for figure 13.

A threaded HTTP server on loopback that verifies every POST with the `standardwebhooks`
library, as an integrator would, answers 204, and counts deliveries by `webhook-id`;
`GET /stats` answers the counts as JSON.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.posts = 0
        self.invalid = 0
        self.ids: set[str] = set()

    def as_dict(self) -> dict:
        with self.lock:
            return {"posts": self.posts, "unique": len(self.ids), "invalid": self.invalid}


def handler_for(webhook: Webhook, counts: Counts):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                webhook.verify(body, headers)
                valid = True
            except WebhookVerificationError:
                valid = False
            with counts.lock:
                counts.posts += 1
                if valid:
                    counts.ids.add(headers["webhook-id"])
                else:
                    counts.invalid += 1
            self.send_response(204 if valid else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            body = json.dumps(counts.as_dict()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def main(port: int) -> None:
    secret = os.environ["BENCH_RECEIVER_SECRET"]
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(Webhook(secret), Counts()))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
