"""The load generator: a separate process that drives the stack and reports what it saw.

    python -m bench.loadgen SPEC.json OUT.json

SPEC modes:
- "webhook": signed alert requests (`batch` alerts each) to `path`; `count` requests from
  `concurrency` connections, as fast as possible or at `rate` alerts/s.
- "heartbeat": signed heartbeats of many gateways (`gateways`: [[id, secret], ...], round
  robin, `sensors` sensor reports each) to their heartbeat webhooks; `count` requests from
  `concurrency` connections, as fast as possible.
- "raw-insert": the database floor: `count` INSERT statements of `batch` alert-like rows each
  (single row + commit when batch is 1) into a copy of the alerts table, `concurrency` connections.
OUT: {"seconds", "requests", "statuses": {code: n}, "samples": [[t_send, latency_s, status]]
      (GETs add the body size in bytes to each sample),
      "sent": {alert_id: t_send}}.
"""

import json
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from bench.load import Sender, Signer, alert_body

# A plant's alert mix: most are warnings and minor ones that are recorded without work.
SEVERITY_MIX = ["critical"] + ["major"] * 2 + ["minor"] * 3 + ["warning"] * 4


def make_alerts(spec: dict, request_no: int) -> list[dict]:
    batch, assets, conditions = spec["batch"], spec["assets"], spec.get("conditions", 20)
    out = []
    now = datetime.now(tz=UTC).isoformat()
    for i in range(batch):
        n = request_no * batch + i
        fixed = spec.get("fixed_key")
        out.append(
            {
                "alert_id": f"{spec['prefix']}-{n}",
                "asset": fixed[0] if fixed else f"P-{n % assets:04d}",
                "condition": fixed[1] if fixed else f"vibration.c{(n // assets) % conditions}",
                "severity": (
                    SEVERITY_MIX[n % len(SEVERITY_MIX)]
                    if spec.get("severity", "mix") == "mix"
                    else spec["severity"]
                ),
                "observed_at": now,
                "value": 11.5,
                "threshold": 7.1,
                "unit": "mm/s",
            }
        )
    return out


def _drive(concurrency: int, worker) -> dict:
    """Run worker(index) -> (samples, sent) in `concurrency` threads; collect what they saw."""
    results = [None] * concurrency

    def run(index: int):
        results[index] = worker(index)

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    samples = sorted(sample for local, _ in results for sample in local)
    sent = {alert_id: t for _, local_sent in results for alert_id, t in local_sent.items()}
    return {
        "seconds": seconds,
        "requests": len(samples),
        "statuses": dict(Counter(str(sample[2]) for sample in samples)),
        "samples": samples,
        "sent": sent,
    }


def run_webhook(spec: dict) -> dict:
    signer = Signer(spec["secret"])
    count, concurrency, rate = spec["count"], spec["concurrency"], spec.get("rate")
    start = time.perf_counter()

    def worker(index: int):
        sender = Sender(spec["base_url"])
        local, local_sent = [], {}
        for n in range(index, count, concurrency):
            if rate:
                delay = start + n * spec["batch"] / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            alerts = make_alerts(spec, n)
            body = alert_body(alerts)
            status, latency, t_send = sender.post(spec["path"], body, signer.headers(body))
            local.append((t_send, latency, status))
            if spec.get("record_ids"):
                for a in alerts:
                    local_sent[a["alert_id"]] = t_send
        return local, local_sent

    return _drive(concurrency, worker)


def heartbeat_body(n: int, sensors: int) -> bytes:
    """A gateway's heartbeat with `sensors` sensor reports (codes s0, s1, ...)."""
    now = datetime.now(tz=UTC).isoformat(timespec="seconds")
    return json.dumps(
        {
            "firmware": "2.4.1",
            "uptime_seconds": 86400 + n,
            "signal_dbm": -71,
            "battery_percent": 88,
            "sensors": [
                {"id": f"s{k}", "last_sample_at": now, "battery_percent": 61, "signal_dbm": -80}
                for k in range(sensors)
            ],
        }
    ).encode()


def run_heartbeat(spec: dict) -> dict:
    gateways = spec["gateways"]
    signers = [Signer(secret) for _, secret in gateways]
    count, concurrency = spec["count"], spec["concurrency"]

    def worker(index: int):
        sender = Sender(spec["base_url"])
        local = []
        for n in range(index, count, concurrency):
            which = n % len(gateways)
            body = heartbeat_body(n, spec["sensors"])
            path = f"/hooks/v1/gateways/{gateways[which][0]}/heartbeat"
            status, latency, t_send = sender.post(path, body, signers[which].headers(body))
            local.append((t_send, latency, status))
        return local, {}

    return _drive(concurrency, worker)


RAW_COLUMNS = (
    "gateway_id, site_id, alert_id, asset_id, asset_tag, condition, severity, state, "
    "observed_at, received_at, value, unit, threshold, message, attributes, content_hash, "
    "status, error, attempts"
)


def run_raw_insert(spec: dict) -> dict:
    import psycopg

    count, concurrency, batch = spec["count"], spec["concurrency"], spec["batch"]
    row = "(%s, %s, %s, %s, 'P-0001', 'vibration.c0', 'major', 'active', now(), now(), 11.5, 'mm/s', 7.1, '', '{}', 'x', 'received', '', 0)"
    sql = f"INSERT INTO {spec['table']} ({RAW_COLUMNS}) VALUES " + ", ".join([row] * batch)

    def worker(index: int):
        local = []
        with psycopg.connect(spec["dsn"], autocommit=True) as conn:
            for n in range(index, count, concurrency):
                params = []
                for i in range(batch):
                    params += [
                        spec["gateway_id"],
                        spec["site_id"],
                        f"raw-{uuid.uuid4().hex}-{n}-{i}",
                        spec["asset_id"],
                    ]
                t_send = time.time()
                t0 = time.perf_counter()
                conn.execute(sql, params)
                local.append((t_send, time.perf_counter() - t0, 200))
        return local, {}

    return _drive(concurrency, worker)


def run_get(spec: dict) -> dict:
    """GET `urls` round-robin, `count` requests from `concurrency` connections.

    Authenticated by `token` (the API) or `cookie` (a logged-in session, for pages). `warmup`
    requests go first and are not measured (their statuses are in "warmup_statuses"). With
    `max_seconds`, a connection sends no new request once that long has passed (and it has sent
    `min_count`), so a slow page costs a bounded time. Each sample also has the body's size.
    """
    import http.client
    from urllib.parse import urlparse

    parsed = urlparse(spec["base_url"])
    urls, count, concurrency = spec["urls"], spec["count"], spec["concurrency"]
    headers = {"Authorization": f"Token {spec['token']}"} if spec.get("token") else {}
    if spec.get("cookie"):
        headers["Cookie"] = spec["cookie"]
    max_seconds, min_count = spec.get("max_seconds"), spec.get("min_count", 1)

    def get(conn, url: str) -> tuple[float, float, int, int]:
        t_send = time.time()
        t0 = time.perf_counter()
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        size = len(response.read())
        return t_send, time.perf_counter() - t0, response.status, size

    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    warmup = [get(conn, urls[n % len(urls)])[2] for n in range(spec.get("warmup", 0))]
    conn.close()
    start = time.perf_counter()

    def worker(index: int):
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
        local = []
        for n in range(index, count, concurrency):
            late = max_seconds is not None and time.perf_counter() - start > max_seconds
            if late and len(local) >= min_count:
                break
            local.append(get(conn, urls[n % len(urls)]))
        conn.close()
        return local, {}

    result = _drive(concurrency, worker)
    result["warmup_statuses"] = dict(Counter(str(status) for status in warmup))
    return result


MODES = {
    "webhook": run_webhook,
    "heartbeat": run_heartbeat,
    "raw-insert": run_raw_insert,
    "get": run_get,
}


def main():
    spec = json.loads(open(sys.argv[1]).read())  # noqa: SIM115
    result = MODES[spec["mode"]](spec)
    with open(sys.argv[2], "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
