"""Load generation: signed webhook requests over keep-alive HTTP connections, from threads."""

import base64
import hashlib
import hmac
import http.client
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse


class Signer:
    """Standard Webhooks signing with a `whsec_` secret (same scheme the gateways use)."""

    def __init__(self, secret: str):
        self.key = base64.b64decode(secret.removeprefix("whsec_"))

    def headers(self, body: bytes) -> dict:
        msg_id = f"msg_{uuid.uuid4().hex}"
        ts = str(int(time.time()))
        mac = hmac.new(self.key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
        return {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": ts,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        }


class Sender:
    """One keep-alive connection; `post` returns (status, seconds, sent_at)."""

    def __init__(self, base_url: str):
        parsed = urlparse(base_url)
        self.host, self.port = parsed.hostname, parsed.port
        self.conn = None

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, float, float]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            sent_at = time.time()
            start = time.perf_counter()
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                return response.status, time.perf_counter() - start, sent_at
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def alert_body(alerts: list[dict]) -> bytes:
    return json.dumps(alerts[0] if len(alerts) == 1 else {"alerts": alerts}).encode()


def loadgen(spec: dict) -> dict:
    """Run the load generator in its own process and return what it measured."""
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec_path.write_text(json.dumps(spec))
        subprocess.run(
            [sys.executable, "-m", "bench.loadgen", str(spec_path), str(out_path)],
            cwd=Path(__file__).resolve().parent.parent,
            check=True,
        )
        return json.loads(out_path.read_text())


def summarize(result: dict, *, alerts_per_request: int = 1) -> dict:
    latencies = [s[1] * 1000 for s in result["samples"]]
    ok = sum(n for code, n in result["statuses"].items() if code in ("200", "202"))
    return {
        "requests": result["requests"],
        "ok": ok,
        "statuses": result["statuses"],
        "seconds": round(result["seconds"], 2),
        "requests_per_s": round(result["requests"] / result["seconds"], 1),
        "alerts_per_s": round(result["requests"] * alerts_per_request / result["seconds"], 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def wait_for(predicate, *, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"bench: timed out after {timeout}s waiting for {what}")
