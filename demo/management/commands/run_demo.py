"""`manage.py run_demo`: the embedded demo live, as `make demo` runs it.

One process: Django's development server, beat's periodic tasks run in-process (the demo has
no broker; its tasks run eagerly), and a simulated gateway that sends heartbeats, readings and
alerts to the server over HTTP, then falls silent. A newcomer sees alerts become work orders,
then the silent gateway become a work order, within minutes.
"""

import json
import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cmms.celery import app
from fleet.heartbeat import heartbeat_ingest
from fleet.schema import parse_body
from fleet.simulator import (
    DEMO_DEGRADING,
    DEMO_GATEWAY_NAME,
    DEMO_INTERVAL,
    DEMO_PLAN,
    SimulatorStopped,
    demo_gateway_prepare,
    sensors_of,
    simulator_for,
)
from gateways.choices import Connectivity
from gateways.models import Gateway

# The beat entries (cmms.settings.CELERY_BEAT_SCHEDULE) the demo runs in-process: the fleet
# checks (silent gateways every minute) and the alert sweeper. PM generation and the
# dashboard's snapshots are left out: the seeded data is a fixed story.
DEMO_BEAT = ("fleet-check", "fleet-upkeep", "alerts-sweep")


class InProcessBeat:
    """Runs beat entries' tasks at their intervals in a thread, each first right away."""

    def __init__(self, entries: dict[str, float], *, log, clock=time.monotonic):
        self.entries = entries  # task name -> seconds
        self.log = log
        self.clock = clock
        self.stop = threading.Event()
        self.due = dict.fromkeys(entries, 0.0)

    @classmethod
    def from_settings(cls, names=DEMO_BEAT, **kwargs) -> "InProcessBeat":
        schedule = settings.CELERY_BEAT_SCHEDULE
        return cls(
            {schedule[n]["task"]: float(schedule[n]["schedule"]) for n in names if n in schedule},
            **kwargs,
        )

    def run_due(self) -> list[str]:
        """Run every task that is due now; returns their names."""
        ran = []
        for task, every in self.entries.items():
            now = self.clock()
            if now < self.due[task]:
                continue
            self.due[task] = now + every
            result = app.tasks[task].apply()
            if result.failed():
                self.log(f"beat: {task} failed: {result.result!r}")
            ran.append(task)
        return ran

    def loop(self) -> None:
        try:
            while not self.stop.is_set():
                self.run_due()
                self.stop.wait(max(0.5, min(self.due.values()) - self.clock()))
        finally:
            connection.close()


class SeededFleet:
    """The seeded gateways that are online when the demo starts keep sending heartbeats (every
    minute, in-process, through the heartbeat service, as the webhook would store them), so the
    only gateways to fall silent are the ones the story has silent: the seeded late and offline
    ones, and the simulated gateway."""

    EVERY = 60.0

    def __init__(self, *, log):
        self.log = log
        self.stop = threading.Event()
        self.ids = list(
            Gateway.objects.filter(is_active=True, connectivity=Connectivity.ONLINE)
            .exclude(name=DEMO_GATEWAY_NAME)
            .values_list("pk", flat=True)
        )

    def beat(self) -> None:
        now = timezone.now()
        for gateway in Gateway.objects.filter(pk__in=self.ids).prefetch_related("sensors"):
            sample = now.isoformat()
            body = {
                "sensors": [{"id": s.code, "last_sample_at": sample} for s in gateway.sensors.all()]
            }
            heartbeat_ingest(
                gateway=gateway, heartbeat=parse_body(json.dumps(body).encode()), now=now
            )

    def loop(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    self.beat()
                except Exception as exc:  # the demo goes on; say why
                    self.log(f"seeded gateways: heartbeat failed: {exc!r}")
                self.stop.wait(self.EVERY)
        finally:
            connection.close()


class Command(BaseCommand):
    help = (
        "Run the embedded demo: the development server, beat's fleet checks in-process, and a "
        "simulated gateway (steady, then degrading, then silent). Run seed_demo first."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-simulator", action="store_true", help="serve without the simulated gateway"
        )
        parser.add_argument("--scenario", default=DEMO_PLAN, help="the simulator's phases")
        parser.add_argument("--interval", type=float, default=DEMO_INTERVAL)

    def handle(self, *args, **options):
        if not settings.DEBUG or connection.vendor != "sqlite":
            raise CommandError("run_demo is the embedded demo (DEBUG=1 and SQLite).")
        # One line per eager task run every minute would drown the gateway's lines.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        base = "http://" + options["addrport"].replace("0.0.0.0", "127.0.0.1")  # noqa: S104
        # The simulated gateway is set up before the threads that write start (SQLite has one
        # writer at a time, and the first fleet check writes for a while).
        if not options["no_simulator"]:
            self._start_simulator(base, options)
        seeded = SeededFleet(log=self._log)
        threading.Thread(target=seeded.loop, name="demo-seeded-fleet", daemon=True).start()
        beat = InProcessBeat.from_settings(log=self._log)
        threading.Thread(target=beat.loop, name="demo-beat", daemon=True).start()
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            beat.stop.set()
            seeded.stop.set()

    def _start_simulator(self, base: str, options) -> None:
        try:
            gateway, secret = demo_gateway_prepare()
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        sensors = sensors_of(gateway)
        try:
            simulator = simulator_for(
                url=base,
                gateway_id=str(gateway.pk),
                secret=secret,
                sensors=sensors,
                scenario=options["scenario"],
                interval=options["interval"],
                log=lambda line: self._log(f"gateway: {line}"),
                degrade=DEMO_DEGRADING,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self._print_guide(base, gateway, sensors, options)

        def run():
            try:
                simulator.run()
            except SimulatorStopped as exc:
                self._log(f"gateway: stopped: {exc}")
            finally:
                connection.close()

        threading.Thread(target=run, name="demo-gateway", daemon=True).start()

    def _print_guide(self, base: str, gateway, sensors, options) -> None:
        degrading = next((s.asset_tag for s in sensors if s.code == DEMO_DEGRADING), "-")
        lines = [
            "",
            f"Simulated gateway “{gateway.name}” at {gateway.site} ({gateway.pk}):",
            f"  {options['scenario']}, one tick every {options['interval']:g} s; heartbeat "
            f"interval {gateway.heartbeat_interval_seconds} s, grace "
            f"{gateway.heartbeat_grace_seconds} s; fleet check every minute.",
            f"  First the sensors report steadily, then {degrading} degrades (warning, major, "
            "critical alerts: a work order), then the gateway falls silent (late, offline: a "
            "work order).",
            "Where to look (log in as a planner, e.g. planner.rheinwerk / demo1234):",
            f"  Work orders:   {base}/admin/workorders/workorder/",
            f"  Triage:        {base}{_path('admin:planner-triage', '/admin/planner/triage/')}",
            f"  The gateway:   {base}/admin/gateways/gateway/{gateway.pk}/change/",
        ]
        fleet = _path("admin:planner-fleet", "")
        if fleet:
            lines.append(f"  Fleet view:    {base}{fleet}")
        lines.append("")
        self._log("\n".join(lines))

    def _log(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()


def _path(name: str, default: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return default
