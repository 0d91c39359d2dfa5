"""An inspection round walked offline (docs/rounds.md, docs/offline.md): the round page is saved
with the work of the day, every check and the completion are queued on the phone, and when
the network returns they are applied once, in order; the reading out of limits raises one work
request with the evidence, however often the queue is sent again.
"""

from decimal import Decimal

import pytest

from assets.models import MeterReading
from pm.choices import RunStatus
from pm.models import RoundResult
from tests.browser.pages import go_offline, go_online, online_page, queued, wait_until_sent
from tests.factories import (
    AssetFactory,
    MeterFactory,
    RouteCheckFactory,
    RoutePointFactory,
    TechnicianFactory,
    inspection_route,
    round_run,
)
from workorders.choices import Source, Status
from workorders.models import WorkOrder

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def walk(site, pump):
    """Today's run of R-PUMPS, assigned to Tina: P-101 (a leak check, and a discharge pressure
    in [2, 6] bar feeding the pump's meter), then C-201 (a bearing temperature in [15, 70] °C)."""
    technician = TechnicianFactory(username="tina", first_name="Tina", sites=[site])
    meter = MeterFactory(asset=pump, code="pressure", unit="bar", cumulative=False)
    route, leak, pressure = inspection_route(
        site, pump, meter=meter, code="R-PUMPS", name="Pump house walk"
    )
    compressor = AssetFactory(site=site, tag="C-201", name="Air compressor")
    point = RoutePointFactory(route=route, position=2, asset=compressor)
    temperature = RouteCheckFactory(
        point=point,
        position=1,
        kind="reading",
        label="Bearing temperature",
        unit="°C",
        low=Decimal("15"),
        high=Decimal("70"),
    )
    run = round_run(route, assignee=technician)
    return {
        "run": run,
        "technician": technician,
        "meter": meter,
        "checks": [leak, pressure, temperature],
    }


def cached_paths(page) -> list[str]:
    return page.evaluate(
        "() => caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
        "  .then(c => c.keys())))).then(all => all.flat().map(r => new URL(r.url).pathname))"
    )


def test_a_round_walked_offline_is_recorded_once_with_one_request_for_the_bad_reading(
    phone, live_server, walk, pump, screenshot
):
    run, meter = walk["run"], walk["meter"]
    leak, pressure, temperature = walk["checks"]
    page = online_page(phone, live_server)
    saved = cached_paths(page)
    assert f"/tech/rounds/{run.pk}/" in saved
    assert f"/tech/assets/{pump.pk}/" in saved

    go_offline(page)
    page.goto(f"/tech/rounds/{run.pk}/")  # from the worker's cache
    page.wait_for_selector("#netbar.offline")

    page.click(f"#check-{leak.pk} button:has-text('Pass')")
    page.wait_for_selector(f"#check-{leak.pk} >> text=Waiting to sync: Round R-PUMPS: No leaks")
    page.fill(f"#check{pressure.pk}-value", "7.4")
    page.fill(f"#check{pressure.pk}-note", "Gauge needle at the red mark")
    page.click(f"#check-{pressure.pk} button:has-text('Save')")
    page.wait_for_selector(f"#check-{pressure.pk} >> text=Waiting to sync")
    page.fill(f"#check{temperature.pk}-value", "41.5")
    page.click(f"#check-{temperature.pk} button:has-text('Save')")
    page.wait_for_selector(f"#check-{temperature.pk} >> text=Waiting to sync")
    assert page.locator(".check.done").count() == 3
    assert page.inner_text("#progress").endswith("3 of 3 checks recorded")
    assert page.locator(".check form:visible").count() == 0
    page.click("#complete button:has-text('Complete the round')")
    page.wait_for_selector("text=Waiting to sync: Complete round R-PUMPS")
    assert page.inner_text("#sync-badge") == "4 waiting to sync"
    screenshot(page, "offline-05-round-queued")
    assert not RoundResult.objects.exists()  # nothing reached the server

    page.goto("/tech/")  # the work list, from the cache, with the queue
    page.wait_for_selector("#sync-queue:not([hidden])")
    waiting = page.locator("#sync-list li[data-state=waiting]")
    assert waiting.count() == 4
    assert "R-PUMPS · Complete round R-PUMPS" in waiting.first.inner_text()

    go_online(page)
    wait_until_sent(page, 4)
    assert queued(page) == [
        {"kind": kind, "state": "done", "reason": ""}
        for kind in ["round-result"] * 3 + ["round-complete"]
    ]

    def counts():
        return {
            "requests": WorkOrder.objects.count(),
            "results": RoundResult.objects.filter(run=run).count(),
            "meter readings": MeterReading.objects.filter(meter=meter).count(),
        }

    expected = {"requests": 1, "results": 3, "meter readings": 1}
    assert counts() == expected
    results = list(RoundResult.objects.filter(run=run).order_by("recorded_at", "pk"))
    assert [r.route_check_id for r in results] == [leak.pk, pressure.pk, temperature.pk]
    assert [(r.passed, r.value, r.out_of_limits) for r in results] == [
        (True, None, False),
        (None, Decimal("7.400"), True),
        (None, Decimal("41.500"), False),
    ]
    request = WorkOrder.objects.get()
    assert results[1].work_order_id == request.pk
    assert (request.status, request.source, request.asset_id) == (
        Status.REQUESTED,
        Source.REQUEST,
        pump.pk,
    )
    for evidence in ("R-PUMPS", "Discharge pressure", "7.400 bar", "2.000 to 6.000 bar"):
        assert evidence in request.description
    assert "Gauge needle at the red mark" in request.description
    assert MeterReading.objects.get(meter=meter).value == Decimal("7.4")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert run.completed_by == walk["technician"]
    assert run.completed_at >= results[-1].recorded_at

    # The same queue sent again: every key answers as the first time; nothing more is recorded.
    outcomes = page.evaluate("() => window.cmmsOffline.replayAll()")
    assert [o["state"] for o in outcomes] == ["done"] * 4
    assert counts() == expected
    assert WorkOrder.objects.get().pk == request.pk

    origin = live_server.url
    assert [url for url in page.requests if not url.startswith(origin)] == []
    assert page.console_errors == []
