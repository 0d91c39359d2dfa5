"""`python -m bench.schema_parse`: parse and validate a 1,000-alert batch body, by parser.

From bytes to the objects the ingest uses, content hash included, for:
- the declared pydantic schema (`alerts.schema.parse_body`: the standard library's JSON
  parser, then pydantic's validation in Python mode);
- the same pydantic schema fed by pydantic's own JSON parser (`validate_json`), which the
  webhook does not use (it refuses an unpaired surrogate for the whole body instead of
  naming the field);
- msgspec with the same rules, if msgspec is installed: a Struct per alert (lengths,
  patterns and choices as msgspec constraints, timestamp, attributes and hash in
  `__post_init__`). msgspec stops at the first problem, so it would need a second,
  per-field pass to list every problem the pinned error answer lists;
- the hand-written validator the schema replaced, read from git history (`--baseline`).
Each figure is milliseconds per batch: the fastest and the median of `--rounds` runs, the
parsers taking turns. msgspec is not a dependency: `uv pip install msgspec==0.22.0` to measure it.

The choice (2 cores shared with other work, so figures vary by run; the quietest run, fastest
/ median): pydantic as shipped 24.7 / 54.2 ms, msgspec 20.8 / 45.8 ms (16-19 % faster; 8-22 %
over noisier runs), the hand-written validator 27.8 / 58.5 ms. msgspec is faster only where it
stops at the first problem; listing every problem, as the pinned error answer does, would take
it a second, hand-written pass per field, while pydantic collects every error with its place.
So the schemas are pydantic, and the hot path is faster than before.
"""

import argparse
import json
import os
import statistics
import subprocess
import time
import types
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "0e2879d"  # the last commit with the hand-written alerts/schema.py


def batch_body(size: int = 1000) -> bytes:
    """A realistic batch: every field given, attributes a small nested object."""
    alerts = [
        {
            "alert_id": f"gw-7/{n:06d}",
            "asset": f"P-{100 + n % 400}",
            "condition": ("bearing_temp_high", "vibration.high", "pressure-low")[n % 3],
            "severity": ("critical", "major", "minor", "warning")[n % 4],
            "state": "cleared" if n % 5 == 0 else "active",
            "observed_at": f"2025-05-01T{n % 24:02d}:{n % 60:02d}:07.{n:06d}+02:00",
            "value": 80 + n % 17 + 0.25,
            "unit": "°C",
            "threshold": 80,
            "message": f"Lagertemperatur über Grenzwert an Pumpe {n}",
            "attributes": {
                "line": f"L{n % 4}",
                "sensor": {"id": f"S-{n}", "model": "VX-3", "firmware": "2.4.1"},
                "samples": [81.5, 82.0, 83.25],
                "tags": ["bearing", "pump"],
                "ack": False,
            },
        }
        for n in range(size)
    ]
    return json.dumps({"alerts": alerts}, ensure_ascii=False).encode()


def measure(parsers: dict[str, Callable[[bytes], list]], body: bytes, rounds: int) -> dict:
    """Milliseconds per batch of each parser, run in turns so that load from other processes
    falls on all of them alike."""
    timings = {name: [] for name in parsers}
    for name, parse in parsers.items():
        assert len(parse(body)) == 1000, name
    for _ in range(rounds):
        for name, parse in parsers.items():
            started = time.perf_counter()
            parse(body)
            timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def hand_written(commit: str) -> Callable[[bytes], list] | None:
    """`parse_body` of the hand-written validator at `commit`, or None if it no longer runs."""
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:alerts/schema.py"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        module = types.ModuleType("hand_written_schema")
        exec(compile(source, "hand_written_schema.py", "exec"), module.__dict__)
    except Exception as exc:
        print(f"hand-written validator at {commit} not measured: {exc}")
        return None
    return module.parse_body


def msgspec_parser() -> Callable[[bytes], list] | None:
    try:
        import msgspec
    except ImportError:
        print("msgspec is not installed: not measured.")
        return None
    from bench.schema_msgspec import parser

    return parser(msgspec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--baseline", default=BASELINE)
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cmms.settings")
    import django

    django.setup()
    from alerts.schema import BODY, parse_body

    body = batch_body()
    candidates = {
        "pydantic (json.loads + validate_python, as shipped)": parse_body,
        "pydantic (validate_json)": lambda raw: BODY.validate_json(raw).alerts,
        "msgspec (Struct, first problem only)": msgspec_parser(),
        "hand-written (before)": hand_written(arguments.baseline),
    }
    parsers = {name: parse for name, parse in candidates.items() if parse is not None}
    timings = measure(parsers, body, arguments.rounds)
    print(f"1,000-alert batch, {len(body):,} bytes, {arguments.rounds} runs each (ms):")
    print(f"  {'':55} {'fastest':>8} {'median':>8}")
    for name, runs in timings.items():
        print(f"  {name:55} {min(runs):8.2f} {statistics.median(runs):8.2f}")


if __name__ == "__main__":
    main()
