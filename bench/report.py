"""Write the benchmark results: JSON, a Markdown table (BENCHMARKS.md) and PNG plots."""

import json
from functools import partial

from bench.stack import ROOT

RESULTS = ROOT / "bench" / "results"


def write_report(results: dict, *, quick: bool) -> None:
    out = RESULTS / "quick" if quick else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    plots = _plots(results, out)
    markdown = render_markdown(results, plots=plots)
    (out / "BENCHMARKS.md" if quick else ROOT / "BENCHMARKS.md").write_text(markdown)


def _fmt(value, unit="") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:,.1f}" if value >= 10 else f"{value:,.2f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _ratio(value) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


Row = tuple[str, str, str, str, str, str]


def rows(results: dict) -> list[Row]:
    """(figure, measured, reference, ratio, target, verdict)"""
    table = []
    for key, figure_rows in _FIGURES:
        figure = results.get(key)
        if figure:
            table += figure_rows(figure)
    return table


def _single_ingest_rows(s: dict) -> list[Row]:
    w, b, r = s["webhook"], s["bare_view"], s["raw_insert"]
    return [
        (
            "1. Single-alert ingest (signed webhook)",
            f"{_fmt(w['requests_per_s'])} req/s; p50/p95/p99 {_fmt(w['p50_ms'])}/{_fmt(w['p95_ms'])}/{_fmt(w['p99_ms'])} ms",
            f"bare view {_fmt(b['requests_per_s'])} req/s (p95 {_fmt(b['p95_ms'])} ms); raw INSERT+commit {_fmt(r['requests_per_s'])}/s",
            f"{_ratio(s['ratio_to_bare_view'])} of bare view; {_ratio(s['ratio_to_raw_insert'])} of raw",
            "≥ 60 % of bare view",
            _verdict(s["ratio_to_bare_view"] >= 0.6),
        )
    ]


def _batch_ingest_rows(b: dict) -> list[Row]:
    return [
        (
            "2. Batch ingest (500 alerts/request)",
            f"{_fmt(b['webhook']['alerts_per_s'])} alerts/s (p95 {_fmt(b['webhook']['p95_ms'])} ms/request)",
            f"raw multi-row INSERT {_fmt(b['raw_insert']['alerts_per_s'])} rows/s",
            _ratio(b["ratio_to_raw_insert"]),
            "≥ 25 % of raw",
            _verdict(b["ratio_to_raw_insert"] >= 0.25),
        )
    ]


def _end_to_end_rows(e: dict) -> list[Row]:
    return [
        (
            "3. End-to-end, webhook → work order, 50 alerts/s",
            f"p50 {_fmt(e['p50_ms'])} ms, p95 {_fmt(e['p95_ms'])} ms, p99 {_fmt(e['p99_ms'])} ms ({e['alerts']} alerts)",
            "target 250 ms",
            _ratio(e["p95_ms"] / 250),
            "p95 ≤ 250 ms",
            _verdict(e["p95_ms"] <= 250),
        )
    ]


def _pipeline_drain_rows(d: dict) -> list[Row]:
    return [
        (
            "4. Pipeline drain, 1 worker node (2 processes)",
            f"{_fmt(d['alerts_per_s'])} alerts/s ({_fmt(d['alerts'])} alerts)",
            f"single ingest {_fmt(d['single_ingest_requests_per_s'])} alerts/s",
            f"{d['ratio_to_single_ingest']:.2f}x",
            "≥ 1.0x",
            _verdict(d["ratio_to_single_ingest"] >= 1.0),
        )
    ]


def _storm_rows(st: dict, *, label: str) -> list[Row]:
    ok = st["drain_seconds"] < 30 and st["work_orders_created"] == 1 and st["alerts_lost"] == 0
    return [
        (
            f"5. Storm: {_fmt(st['alerts'])} alerts, 1 asset, 8 senders, {label}",
            f"drained in {_fmt(st['drain_seconds'])} s (sent in {_fmt(st['send_seconds'])} s); "
            f"{st['work_orders_created']} work order; {st['alerts_lost']} lost; "
            f"{st['alerts_not_linked']} unlinked",
            "target 30 s",
            _ratio(st["drain_seconds"] / 30),
            "< 30 s, 1 WO, 0 lost",
            _verdict(ok),
        )
    ]


def _api_at_scale_rows(a: dict) -> list[Row]:
    return [
        (
            f"6. API at scale: {name}",
            f"p50 {_fmt(fig['p50_ms'])} ms, p95 {_fmt(fig['p95_ms'])} ms; queries {fig['queries_by_page_size']}",
            f"{_fmt(a['work_orders'])} work orders, {_fmt(a['assets'])} assets, {a['sites']} sites",
            _ratio(fig["p95_ms"] / 50),
            "p95 ≤ 50 ms, queries constant",
            _verdict(fig["p95_ms"] <= 50 and len(set(fig["queries_by_page_size"].values())) == 1),
        )
        for name, fig in a["endpoints"].items()
    ]


def _pm_generation_rows(p: dict) -> list[Row]:
    return [
        (
            "7. PM generation",
            f"{_fmt(p['work_orders_per_s'])} work orders/s ({_fmt(p['work_orders'])} from {_fmt(p['plans'])} plans)",
            "target 2,000/s",
            _ratio(p["work_orders_per_s"] / 2000),
            "≥ 2,000/s",
            _verdict(p["work_orders_per_s"] >= 2000),
        )
    ]


def _webhooks_rows(e: dict) -> list[Row]:
    return [
        (
            f"13. Outbound events: {_fmt(e['work_orders'])} work orders created, assigned and "
            "approved, one subscribed endpoint",
            f"{_fmt(e['events_per_s'])} events/s delivered by one worker node, signed and "
            f"verified ({_fmt(e['received_unique'])} of {_fmt(e['events'])} received, "
            f"{_fmt(e['received_posts'] - e['received_unique'])} twice, "
            f"{_fmt(e['received_invalid'])} invalid)",
            f"changes producing them: {_fmt(e['changes_per_s_subscribed'])}/s "
            f"(no subscriber: {_fmt(e['changes_per_s_no_subscriber'])}/s)",
            _ratio(e["ratio_to_changes"]),
            "delivery keeps up with the changes",
            _verdict(e["ratio_to_changes"] >= 1.0 and e["received_unique"] == e["events"]),
        )
    ]


def _measurements_rows(m: dict) -> list[Row]:
    s = m["storage"]
    rows = [
        (
            f"14. Measurements stored: {_fmt(s['values'])} values, "
            f"{s['values_per_batch']} a call to measurements_record",
            f"{_fmt(s['record']['values_per_s'])} values/s",
            f"raw multi-row INSERT {_fmt(s['raw_insert']['values_per_s'])} rows/s",
            _ratio(s["ratio_to_raw_insert"]),
            "≥ 25 % of raw",
            _verdict(s["ratio_to_raw_insert"] >= 0.25),
        )
    ]
    for key, label in (("read_raw", "raw"), ("read_hour", "hourly")):
        r = m[key]
        points = "/".join(_fmt(p) for p in r["points_per_read"])
        rows.append(
            (
                f"15. 90-day series of one asset's measurement, {label} ({points} points)",
                f"p50 {_fmt(r['p50_ms'])} ms, p95 {_fmt(r['p95_ms'])} ms ({r['reads']} reads)",
                f"{_fmt(s['values'])} values stored; hourly aggregation of all of them "
                f"{_fmt(m['aggregation']['seconds'])} s",
                _ratio(r["p95_ms"] / 50),
                "p95 ≤ 50 ms",
                _verdict(r["p95_ms"] <= 50),
            )
        )
    return rows


def _kb(size: int) -> str:
    return f"{size / 1000:,.0f} KB" if size >= 10_000 else f"{size / 1000:,.1f} KB"


def _pages_at_scale_rows(p: dict) -> list[Row]:
    small, full = p["sizes"]
    rows = []
    for name, fig in p["pages"].items():
        measured = (
            f"p50 {_fmt(fig['p50_ms'])} ms, p95 {_fmt(fig['p95_ms'])} ms "
            f"({fig['requests']} requests); {_kb(fig['bytes'])}"
        )
        target = "p95 ≤ 300 ms, ≤ 500 KB"
        ok = fig["p95_ms"] <= 300 and fig["bytes"] <= 500_000
        if fig["list_page"]:
            q, b = fig["queries_by_size"], fig["bytes_by_size"]
            measured += (
                f"; at {_fmt(small['work_orders'])} → {_fmt(full['work_orders'])} work orders: "
                f"queries {q[0]} → {q[1]}, HTML {_kb(b[0])} → {_kb(b[1])}"
            )
            target += "; queries and size constant"
            ok = ok and fig["constant"]
        rows.append(
            (
                f"8. Pages at scale: {name}",
                measured,
                f"{_fmt(p['work_orders'])} work orders, {_fmt(p['assets'])} assets, "
                f"{p['sites']} sites; {fig['role']}",
                _ratio(fig["p95_ms"] / 300),
                target,
                _verdict(ok),
            )
        )
    return rows


def _fleet_rows(f: dict) -> list[Row]:
    rows = []
    h = f.get("heartbeats")
    if h:
        rows.append(
            (
                f"9. Fleet heartbeats: {_fmt(h['gateways'])} gateways, "
                f"{h['sensors_per_gateway']} sensors each",
                f"{_fmt(h['requests_per_s'])} heartbeats/s; p50/p95 "
                f"{_fmt(h['p50_ms'])}/{_fmt(h['p95_ms'])} ms ({_fmt(h['requests'])} requests, "
                f"{_fmt(h['ok'])} answered 202)",
                f"10,000 gateways every 60 s: {_fmt(h['implied_rate_per_s'])}/s",
                f"{h['ratio_to_implied']:.2f}x",
                "≥ 166.7/s",
                _verdict(h["ratio_to_implied"] >= 1.0 and h["ok"] == h["requests"]),
            )
        )
    c = f.get("silence_check")
    if c:
        rows.append(
            (
                f"10. Silence check over {_fmt(c['gateways'])} gateways",
                f"median {_fmt(c['median_ms'])} ms, slowest {_fmt(c['max_ms'])} ms "
                f"({len(c['runs'])} checks); queries {c['queries']}; transitions "
                f"{[r['gateway_transitions'] for r in c['runs']]}",
                f"{_fmt(c['sensors'])} sensors; {c['silent']} silent, {c['recovering']} back",
                _ratio(c["median_ms"] / 1000),
                "median < 1 s",
                _verdict(c["median_ms"] < 1000),
            )
        )
    return rows


def _mqtt_rows(m: dict) -> list[Row]:
    rows = []
    i = m.get("ingest")
    if i:
        raw, consumer = i["raw_pubsub"], i["consumer"]
        rows.append(
            (
                "11. MQTT alert ingest: one alert per QoS 1 message, one consumer",
                f"{_fmt(consumer['messages_per_s'])} messages/s stored "
                f"({_fmt(consumer['stored'])} of {_fmt(consumer['messages'])})",
                f"broker's raw QoS 1 pub/sub: {_fmt(raw['messages_per_s'])} messages/s",
                _ratio(i["ratio_to_raw"]),
                "≥ 50 % of raw",
                _verdict(i["ratio_to_raw"] >= 0.5 and consumer["stored"] == consumer["messages"]),
            )
        )
    lat = m.get("latency")
    if lat:
        rows.append(
            (
                f"12. MQTT publish → work order at {lat['rate_per_s']} alerts/s",
                f"p50/p95/p99 {_fmt(lat['p50_ms'])}/{_fmt(lat['p95_ms'])}/"
                f"{_fmt(lat['p99_ms'])} ms ({_fmt(lat['processed'])} of {_fmt(lat['alerts'])})",
                "-",
                "-",
                "p95 ≤ 250 ms",
                _verdict(lat["p95_ms"] <= 250 and lat["processed"] == lat["alerts"]),
            )
        )
    return rows


# (key in the results, its rows), in the order of the table.
_FIGURES = (
    ("single_ingest", _single_ingest_rows),
    ("batch_ingest", _batch_ingest_rows),
    ("end_to_end", _end_to_end_rows),
    ("pipeline_drain", _pipeline_drain_rows),
    ("storm", partial(_storm_rows, label="single-alert requests")),
    ("storm_batched", partial(_storm_rows, label="100 alerts/request")),
    ("api_at_scale", _api_at_scale_rows),
    ("pm_generation", _pm_generation_rows),
    ("pages_at_scale", _pages_at_scale_rows),
    ("fleet", _fleet_rows),
    ("mqtt", _mqtt_rows),
    ("webhooks", _webhooks_rows),
    ("measurements", _measurements_rows),
)


def render_markdown(results: dict, *, plots: list[str]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Run `make bench` to reproduce (this run: {results['mode']}). Every figure is measured "
        "next to its reference in the same run, on the same machine, with the real stack on "
        "loopback: gunicorn (production settings, DEBUG=0, 4 sync workers), one Celery node of 2 "
        "processes for the `alerts` queue plus one process for notifications and housekeeping, "
        "PostgreSQL and Redis; load comes from a separate load-generator process. Numbers on a "
        "shared 2-core machine are noisy: compare the ratios, not the absolute values.",
        "",
        f"- Run: {results['started_at']} → {results.get('finished_at', '?')} ({results['mode']})",
        f"- Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, {m['platform']}, Python {m['python']}",
        "",
        "| figure | measured | reference (same run) | ratio | target | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for run in results.get("runs", []):
        lines.insert(-3, f"- Stages {run['stages']}: {run['started_at']} → {run['finished_at']}")
    lines += [f"| {' | '.join(row)} |" for row in rows(results)]
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}](bench/results/{p})" for p in plots]
    notes = results.get("notes")
    if notes:
        lines += ["", "## Where the time goes", ""] + [f"- {n}" for n in notes]
    lines += ["", "Raw numbers: `bench/results/latest.json`.", ""]
    return "\n".join(lines)


def _plots(results: dict, out) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    names = []
    e = results.get("end_to_end")
    if e and e.get("series"):
        fig, ax = plt.subplots(figsize=(8, 3.5))
        xs, ys = zip(*e["series"], strict=True)
        ax.plot(xs, ys, ".", markersize=3, label="alert → work order")
        ax.axhline(250, color="red", linestyle="--", linewidth=1, label="target p95 250 ms")
        ax.axhline(e["p95_ms"], color="orange", linewidth=1, label=f"measured p95 {e['p95_ms']} ms")
        ax.set_xlabel("seconds into the run")
        ax.set_ylabel("latency (ms)")
        ax.set_title("End-to-end latency at 50 alerts/s")
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=110)
        plt.close(fig)
        names.append("latency.png")
    s, b = results.get("single_ingest"), results.get("batch_ingest")
    if s and b:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
        labels = ["webhook", "bare view", "raw INSERT"]
        values = [
            s["webhook"]["requests_per_s"],
            s["bare_view"]["requests_per_s"],
            s["raw_insert"]["requests_per_s"],
        ]
        ax1.bar(labels, values, color=["tab:blue", "tab:gray", "tab:green"])
        ax1.set_title("Single-alert ingest (requests/s)")
        values = [b["webhook"]["alerts_per_s"], b["raw_insert"]["alerts_per_s"]]
        ax2.bar(["webhook", "raw multi-row INSERT"], values, color=["tab:blue", "tab:green"])
        ax2.set_title("Batch ingest (alerts/s)")
        fig.tight_layout()
        fig.savefig(out / "throughput.png", dpi=110)
        plt.close(fig)
        names.append("throughput.png")
    return names
