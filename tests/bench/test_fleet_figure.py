"""Figures 9 and 10 (bench/fleet_figure.py) at a tiny scale: the loaded fleet beats through
the real heartbeat webhook from the load generator, the silence check sees the mix it is
meant to see, and the report's rows say met or missed."""

from types import SimpleNamespace

import pytest

from bench.fleet_figure import heartbeat_figure, load_fleet, silence_figure
from bench.report import rows
from gateways.choices import Connectivity
from gateways.models import ConnectivityEvent, Gateway, Sensor
from workorders.models import WorkOrder

GATEWAYS = 60  # 2 % silent: 1; 0.5 % recovering: 1


@pytest.mark.django_db
def test_the_silence_check_sees_gateways_go_late_then_offline_and_one_come_back():
    fleet = load_fleet(GATEWAYS)
    assert Sensor.objects.filter(gateway__site_id=fleet["site_id"]).count() == 4 * GATEWAYS
    figure = silence_figure(fleet, checks=3)
    # the recovering gateway comes back, then the silent one goes late, then offline
    assert [run["gateway_transitions"] for run in figure["runs"]] == [1, 1, 1]
    assert [run["work_opened"] for run in figure["runs"]] == [0, 0, 1]
    silent = Gateway.objects.get(site_id=fleet["site_id"], name__startswith="s-")
    assert silent.connectivity == Connectivity.OFFLINE
    assert WorkOrder.objects.filter(gateway=silent).count() == 1
    back = Gateway.objects.get(site_id=fleet["site_id"], name__startswith="r-")
    assert back.connectivity == Connectivity.ONLINE
    assert ConnectivityEvent.objects.filter(gateway=back, to_state=Connectivity.ONLINE).exists()
    others = Gateway.objects.filter(site_id=fleet["site_id"], name__startswith="h-")
    assert set(others.values_list("connectivity", flat=True)) == {Connectivity.ONLINE}
    assert figure["queries"] == [run["queries"] for run in figure["runs"]]
    assert figure["median_ms"] > 0


@pytest.mark.postgresql(reason="concurrent requests to the live server (the bench runs on it)")
@pytest.mark.django_db(transaction=True)
def test_the_load_generator_sends_heartbeats_the_webhook_accepts(live_server, real_clock):
    fleet = load_fleet(10)
    figure = heartbeat_figure(
        SimpleNamespace(url=live_server.url), fleet, requests=20, concurrency=2
    )
    assert figure["requests"] == 20
    assert figure["statuses"] == {"202": 20}
    assert figure["implied_rate_per_s"] == 166.7
    heard = Gateway.objects.filter(site_id=fleet["site_id"], last_heartbeat_at__isnull=False)
    assert heard.count() == 10


def figures(*, rate=200.0, ok=6000, median=300.0):
    return {
        "fleet": {
            "heartbeats": {
                "gateways": 10_000,
                "sensors_per_gateway": 4,
                "implied_rate_per_s": 166.7,
                "requests_per_s": rate,
                "p50_ms": 30.0,
                "p95_ms": 60.0,
                "requests": 6000,
                "ok": ok,
                "ratio_to_implied": round(rate / 166.7, 3),
            },
            "silence_check": {
                "gateways": 10_000,
                "sensors": 40_000,
                "silent": 200,
                "recovering": 50,
                "runs": [{"gateway_transitions": 60}] * 5,
                "median_ms": median,
                "max_ms": median * 2,
                "queries": [20] * 5,
            },
        }
    }


def verdicts(**kwargs) -> list[str]:
    return [row[-1] for row in rows(figures(**kwargs))]


def test_fleet_rows_meet_their_targets_when_fast_enough():
    assert verdicts() == ["met", "met"]


def test_fleet_rows_miss_below_the_implied_rate_on_errors_or_over_a_second():
    assert verdicts(rate=150.0) == ["**missed**", "met"]
    assert verdicts(ok=5990) == ["**missed**", "met"]
    assert verdicts(median=1000.0) == ["met", "**missed**"]
