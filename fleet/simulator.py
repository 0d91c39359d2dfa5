"""A gateway you can run: signed heartbeats, readings and alerts, as a real gateway sends them.

`manage.py simulate_gateway` drives it over HTTP; tests drive it through the Django test
client. It speaks only the documented protocol (docs/webhook.md, docs/fleet-simulator.md):
Standard Webhooks signatures with the gateway's secret, the JSON bodies of the alerts, readings
and heartbeat webhooks, and the answers' retry rules (429 and 503 wait for Retry-After, other
server errors and lost connections back off, any other 4xx stops). The secret signs requests
and is never logged.

A run is a plan of phases, e.g. `steady:3,degrading:6,silent`: each phase lasts that many
ticks (one heartbeat interval each), the last one may last for ever. Every value comes from a
seeded random generator and the clock the caller passes, so a run is reproducible.
"""

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from assets.models import Asset, Meter, MeterReading, Site
from gateways import gateway_secrets, signing
from gateways.models import Gateway, Sensor
from gateways.services import gateway_create, gateway_retire_secrets, gateway_rotate_secret

SCENARIOS = ("steady", "degrading", "storm", "silent")
KINDS = ("heartbeat", "readings", "alerts")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Measure:
    """How a measured quantity behaves: its unit, healthy value and alarm limits."""

    condition: str
    unit: str
    baseline: float
    warning: float
    major: float
    critical: float


# Vibration velocity after ISO 10816 zones (mm/s); bearing temperature (°C).
MEASURES = {
    "vibration": Measure("vibration.high", "mm/s", 2.8, 4.5, 7.1, 11.2),
    "temperature": Measure("bearing.temp.high", "°C", 55.0, 70.0, 80.0, 95.0),
}
DEFAULT_MEASURE = "vibration"


@dataclass(frozen=True)
class SensorSpec:
    """One sensor of the simulated gateway: its code, the asset it watches, what it measures,
    and the asset's cumulative meter it reads (empty: it sends no readings) from `meter_start`."""

    code: str
    asset_tag: str
    measures: str = DEFAULT_MEASURE
    meter: str = ""
    meter_start: float = 0.0

    @property
    def measure(self) -> Measure:
        return MEASURES.get(self.measures, MEASURES[DEFAULT_MEASURE])


def parse_sensors(text: str) -> list[SensorSpec]:
    """`CODE=TAG[:METER]` pairs separated by commas, e.g. `vib-01=P-101:hours,temp-02=P-102`;
    a code starting with `temp` measures temperature, any other vibration. ValueError if
    malformed."""
    sensors = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, sep, rest = part.partition("=")
        tag, _, meter = rest.partition(":")
        if not sep or not code.strip() or not tag.strip():
            raise ValueError(f"{part!r} is not CODE=TAG or CODE=TAG:METER.")
        code = code.strip()
        measures = "temperature" if code.startswith("temp") else DEFAULT_MEASURE
        sensors.append(SensorSpec(code, tag.strip(), measures, meter.strip()))
    if len({s.code for s in sensors}) != len(sensors):
        raise ValueError("Each sensor code may appear once.")
    return sensors


def parse_plan(text: str) -> list[tuple[str, int | None]]:
    """`steady`, or phases `steady:3,degrading:6,silent`: (scenario, ticks) with None for the
    last phase without a count (it lasts until --count or --duration). ValueError if
    malformed."""
    phases: list[tuple[str, int | None]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, ticks = part.partition(":")
        if name not in SCENARIOS:
            raise ValueError(f"Unknown scenario {name!r}: choose from {', '.join(SCENARIOS)}.")
        if sep and not (ticks.isdigit() and int(ticks) > 0):
            raise ValueError(f"{part!r}: the number of ticks must be a positive integer.")
        phases.append((name, int(ticks) if sep else None))
    if not phases:
        raise ValueError("Give at least one scenario.")
    if any(ticks is None for _, ticks in phases[:-1]):
        raise ValueError("Only the last phase may be without a number of ticks.")
    return phases


@dataclass
class Request:
    """One webhook request to send: its kind (the path's last part) and JSON body."""

    kind: str
    body: dict

    def describe(self) -> str:
        """What was sent, in a few words (for the log; no secret is in a body)."""
        if self.kind == "heartbeat":
            body = self.body
            return (
                f"firmware {body.get('firmware')}, battery {body.get('battery_percent')} %, "
                f"signal {body.get('signal_dbm')} dBm, {len(body.get('sensors', []))} sensors"
            )
        if self.kind == "readings":
            readings = self.body["readings"]
            return ", ".join(f"{r['asset']} {r['meter']}={r['value']}" for r in readings)
        alerts = self.body["alerts"]
        shown = ", ".join(f"{a['asset']} {a['condition']} {a['severity']}" for a in alerts[:3]) + (
            f" and {len(alerts) - 3} more" if len(alerts) > 3 else ""
        )
        return f"{len(alerts)} alerts: {shown}"


@dataclass
class _Device:
    battery: float
    signal: int


@dataclass
class GatewayState:
    """What the simulated gateway knows between ticks: batteries, values, counters."""

    firmware: str
    uptime_seconds: int
    gateway: _Device
    sensors: dict[str, _Device]
    values: dict[str, float]
    hours: dict[str, float]
    alarm: dict[str, int] = field(default_factory=dict)  # sensor code -> severity level sent
    storm_burst: list[dict] = field(default_factory=list)


SEVERITY_LEVELS = ("warning", "major", "critical")


class Plan:
    """The requests of each tick of a run: a sequence of scenario phases over one state."""

    def __init__(
        self,
        *,
        phases: list[tuple[str, int | None]],
        sensors: list[SensorSpec],
        interval: float,
        seed: int = 0,
        firmware: str = "2.4.1",
        storm_assets: list[str] | None = None,
        degrade: str = "",
    ):
        """`degrade`: the code of the sensor that degrades (default: the first)."""
        self.phases = phases
        self.sensors = sensors
        codes = [s.code for s in sensors]
        if degrade and degrade not in codes:
            raise ValueError(f"No sensor {degrade!r} to degrade: the sensors are {codes}.")
        self.degrading = next((s for s in sensors if s.code == degrade), None) or (
            sensors[0] if sensors else None
        )
        self.interval = interval
        self.rng = random.Random(seed)
        # Each storm alert goes twice into a request of at most 1,000 alerts.
        self.storm_assets = (storm_assets or sorted({s.asset_tag for s in sensors}))[:500]
        rng = self.rng
        self.state = GatewayState(
            firmware=firmware,
            uptime_seconds=rng.randrange(3600, 30 * 86400),
            gateway=_Device(battery=float(rng.randrange(80, 100)), signal=rng.randrange(-80, -60)),
            sensors={
                s.code: _Device(
                    battery=float(rng.randrange(60, 100)), signal=rng.randrange(-90, -65)
                )
                for s in sensors
            },
            values={s.code: s.measure.baseline for s in sensors},
            hours={s.code: s.meter_start for s in sensors},
        )

    @property
    def total_ticks(self) -> int | None:
        """How many ticks the plan lasts; None when its last phase lasts for ever."""
        if self.phases[-1][1] is None:
            return None
        return sum(ticks or 0 for _, ticks in self.phases)

    def scenario_at(self, tick: int) -> str | None:
        """The scenario of `tick` (from 0); None once the plan is over."""
        start = 0
        for name, ticks in self.phases:
            if ticks is None or tick < start + ticks:
                return name
            start += ticks
        return None

    def phase_tick(self, tick: int) -> int:
        """`tick` counted from the start of its phase."""
        start = 0
        for _name, ticks in self.phases:
            if ticks is None or tick < start + ticks:
                return tick - start
            start += ticks
        return tick - start

    def requests(self, tick: int, now: datetime) -> list[Request]:
        """What the gateway sends at `tick` (its clock reading `now`); silent sends nothing."""
        scenario = self.scenario_at(tick)
        if scenario in (None, "silent"):
            return []
        self._advance(scenario)
        out = [self._heartbeat(now)]
        readings = self._readings(now)
        if readings:
            out.append(readings)
        if scenario == "degrading":
            alerts = self._degrading_alerts(now)
        elif scenario == "storm":
            alerts = self._storm_alerts(self.phase_tick(tick), now)
        else:
            alerts = []
        if alerts:
            out.append(Request("alerts", {"alerts": alerts}))
        return out

    # -- state

    def _advance(self, scenario: str) -> None:
        """One interval passes: uptime, running hours, batteries and values move on."""
        state, rng = self.state, self.rng
        state.uptime_seconds += round(self.interval)
        drain = 1.5 if scenario == "degrading" else 0.05
        state.gateway.battery = max(0.0, state.gateway.battery - drain / 3)
        for sensor in self.sensors:
            device = state.sensors[sensor.code]
            device.battery = max(0.0, device.battery - drain)
            device.signal = max(-110, min(-40, device.signal + rng.randint(-2, 2)))
            state.hours[sensor.code] += self.interval / 3600
            measure = sensor.measure
            if scenario == "degrading" and sensor is self.degrading:
                # The degrading sensor climbs from healthy past critical within 6 ticks.
                state.values[sensor.code] += (measure.critical - measure.baseline) / 5.5
            else:
                jitter = (measure.warning - measure.baseline) * 0.1
                state.values[sensor.code] = measure.baseline + rng.uniform(-jitter, jitter)

    # -- bodies

    def _heartbeat(self, now: datetime) -> Request:
        state = self.state
        return Request(
            "heartbeat",
            {
                "firmware": state.firmware,
                "uptime_seconds": state.uptime_seconds,
                "signal_dbm": state.gateway.signal,
                "battery_percent": round(state.gateway.battery),
                "sensors": [
                    {
                        "id": sensor.code,
                        "last_sample_at": _iso(now - timedelta(seconds=self.rng.randint(0, 5))),
                        "battery_percent": round(state.sensors[sensor.code].battery),
                        "signal_dbm": state.sensors[sensor.code].signal,
                    }
                    for sensor in self.sensors
                ],
            },
        )

    def _readings(self, now: datetime) -> Request | None:
        stamp = int(now.timestamp())
        readings = [
            {
                "reading_id": f"{sensor.code}-{sensor.meter}-{stamp}",
                "asset": sensor.asset_tag,
                "meter": sensor.meter,
                "value": round(self.state.hours[sensor.code], 3),
                "observed_at": _iso(now),
            }
            for sensor in self.sensors
            if sensor.meter
        ]
        return Request("readings", {"readings": readings}) if readings else None

    def _degrading_alerts(self, now: datetime) -> list[dict]:
        """An alert each time the degrading sensor crosses into a worse severity."""
        sensor = self.degrading
        if sensor is None:
            return []
        measure, value = sensor.measure, self.state.values[sensor.code]
        limits = (measure.warning, measure.major, measure.critical)
        level = sum(value >= limit for limit in limits)
        if level <= self.state.alarm.get(sensor.code, 0):
            return []
        self.state.alarm[sensor.code] = level
        severity = SEVERITY_LEVELS[level - 1]
        return [
            {
                "alert_id": f"{sensor.code}-{measure.condition}-{severity}-{int(now.timestamp())}",
                "asset": sensor.asset_tag,
                "condition": measure.condition,
                "severity": severity,
                "observed_at": _iso(now),
                "value": round(value, 2),
                "threshold": limits[level - 1],
                "unit": measure.unit,
                "message": f"{sensor.measures.capitalize()} {severity} on {sensor.asset_tag}",
                "attributes": {"sensor": sensor.code, "simulated": True},
            }
        ]

    def _storm_alerts(self, phase_tick: int, now: datetime) -> list[dict]:
        """A burst over many assets; every other tick redelivers the previous burst as is (the
        ids repeat: duplicates), and each burst holds every alert twice."""
        if phase_tick % 2 == 1 and self.state.storm_burst:
            return list(self.state.storm_burst)
        stamp = int(now.timestamp())
        burst = []
        for n, tag in enumerate(self.storm_assets):
            severity = "critical" if self.rng.random() < 0.3 else "major"
            alert = {
                "alert_id": f"storm-{stamp}-{n}",
                "asset": tag,
                "condition": "vibration.high",
                "severity": severity,
                "observed_at": _iso(now),
                "value": round(self.rng.uniform(7.2, 14.0), 2),
                "threshold": 7.1,
                "unit": "mm/s",
                "attributes": {"simulated": True, "storm": True},
            }
            burst += [alert, dict(alert)]
        self.state.storm_burst = burst
        return list(burst)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


# --------------------------------------------------------------------------- sending


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class HttpTransport:
    """POSTs to a base URL with urllib (the standard library: the simulator needs no client
    library). Any HTTP status is a Response; a connection failure raises OSError."""

    def __init__(self, base_url: str, *, timeout: float = 10.0):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{base_url!r} is not an http(s) URL.")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.base_url + path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return Response(answer.status, _lower(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, _lower(error.headers), error.read())
        except urllib.error.URLError as error:
            reason = error.reason
            raise reason if isinstance(reason, OSError) else OSError(str(reason)) from None


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in (headers or {}).items()}


class SimulatorStopped(Exception):
    """The server refused a request for good (a 4xx other than 429), or retries ran out."""


class Sender:
    """Signs and sends one request, retrying what the protocol says to retry; logs one line
    per attempt through `log` (the secret is never part of it)."""

    def __init__(
        self,
        *,
        transport,
        gateway_id: str,
        secret: str,
        log: Callable[[str], None],
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        max_attempts: int = 8,
    ):
        self.transport = transport
        self.gateway_id = gateway_id
        self._key = gateway_secrets.key_bytes(secret)
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.sent = 0

    def path(self, kind: str) -> str:
        return f"/hooks/v1/gateways/{self.gateway_id}/{kind}"

    def send(self, request: Request) -> Response:
        body = json.dumps(request.body, separators=(",", ":")).encode()
        msg_id = f"msg_{uuid.uuid4().hex}"  # kept across retries: one delivery
        for attempt in range(1, self.max_attempts + 1):
            now = self.clock()
            try:
                response = self.transport.post(
                    self.path(request.kind), body, self._headers(msg_id, now, body)
                )
            except OSError as error:
                delay = _backoff(attempt)
                self.log(
                    f"{_iso(now)} {request.kind} not sent: {type(error).__name__}: {error}; "
                    f"retrying in {delay:g} s"
                )
                self._wait_or_stop(attempt, delay, request.kind)
                continue
            self.sent += 1
            line = (
                f"{_iso(now)} {request.kind} {response.status} {self._outcome(request, response)}"
            )
            if 200 <= response.status < 300:
                self.log(line)
                return response
            if response.status in RETRY_STATUSES:
                delay = _retry_after(response) or _backoff(attempt)
                self.log(f"{line}; retrying in {delay:g} s")
                self._wait_or_stop(attempt, delay, request.kind)
                continue
            self.log(line)
            raise SimulatorStopped(
                f"{request.kind} refused with {response.status}: {_text(response.body)}"
            )
        raise AssertionError("unreachable")

    def _wait_or_stop(self, attempt: int, delay: float, kind: str) -> None:
        if attempt >= self.max_attempts:
            raise SimulatorStopped(f"{kind} not delivered after {attempt} attempts; giving up.")
        self.sleep(delay)

    def _headers(self, msg_id: str, now: datetime, body: bytes) -> dict[str, str]:
        timestamp = int(now.timestamp())  # re-signed per attempt: a retry is never stale
        return {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.sign(
                key=self._key, msg_id=msg_id, timestamp=timestamp, body=body
            ),
        }

    @staticmethod
    def _outcome(request: Request, response: Response) -> str:
        sent = request.describe()
        if not 200 <= response.status < 300:
            return f"{sent} -> {_text(response.body)}"
        try:
            answer = json.loads(response.body or b"{}")
        except ValueError:
            return sent
        counts = [
            f"{key} {answer[key]}"
            for key in ("accepted", "duplicates", "conflicts", "unmatched", "refused")
            if isinstance(answer, dict) and answer.get(key)
        ]
        return f"{sent} ({', '.join(counts)})" if counts else sent


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF_SECONDS, 2.0 ** (attempt - 1))


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _text(body: bytes, limit: int = 300) -> str:
    """An answer's body for the log: on one line, shortened."""
    text = " ".join(body[: limit * 4].decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Simulator:
    """Runs a plan: each tick sends its requests, then waits one interval."""

    def __init__(self, *, plan: Plan, sender: Sender, log, clock, sleep):
        self.plan = plan
        self.sender = sender
        self.log = log
        self.clock = clock
        self.sleep = sleep

    def _last_tick(self, count: int | None) -> int | None:
        """How many ticks run at most (None: until stopped or `duration` is over)."""
        limit = self.plan.total_ticks
        if count is not None:
            limit = count if limit is None else min(limit, count)
        return limit

    def ticks(self, *, count: int | None = None, duration: float | None = None) -> Iterator[int]:
        """The ticks to run: until `count` ticks, `duration` seconds or the plan's end."""
        started = self.clock()
        limit = self._last_tick(count)
        tick = 0
        while limit is None or tick < limit:
            if duration is not None and (self.clock() - started).total_seconds() >= duration:
                return
            yield tick
            tick += 1

    def run(self, *, count: int | None = None, duration: float | None = None) -> int:
        """Send the plan's requests; returns the number of HTTP answers received."""
        previous = None
        limit = self._last_tick(count)
        for tick in self.ticks(count=count, duration=duration):
            scenario = self.plan.scenario_at(tick)
            if scenario != previous:
                self.log(f"{_iso(self.clock())} scenario {scenario}")
                if scenario == "silent":
                    self.log("    the gateway stops sending: it goes late, then offline")
                previous = scenario
            for request in self.plan.requests(tick, self.clock()):
                self.sender.send(request)
            if limit is None or tick + 1 < limit:  # no wait after the last tick
                self.sleep(self.plan.interval)
        return self.sender.sent


def simulator_for(
    *,
    url: str,
    gateway_id: str,
    secret: str,
    sensors: list[SensorSpec],
    scenario: str,
    interval: float,
    log: Callable[[str], None],
    seed: int = 0,
    firmware: str = "2.4.1",
    degrade: str = "",
) -> Simulator:
    """A simulator over HTTP on the real clock; ValueError for a bad plan, URL or interval."""
    plan = plan_for(
        sensors=sensors,
        scenario=scenario,
        interval=interval,
        seed=seed,
        firmware=firmware,
        degrade=degrade,
    )
    sender = Sender(
        transport=HttpTransport(url),
        gateway_id=gateway_id,
        secret=secret,
        log=log,
        clock=timezone.now,
        sleep=time.sleep,
    )
    return Simulator(plan=plan, sender=sender, log=log, clock=timezone.now, sleep=time.sleep)


def plan_for(
    *,
    sensors: list[SensorSpec],
    scenario: str,
    interval: float,
    seed: int = 0,
    firmware: str = "2.4.1",
    degrade: str = "",
) -> Plan:
    """The plan every transport runs (HTTP, MQTT, Sparkplug B); ValueError for a bad
    scenario or interval."""
    if interval <= 0:
        raise ValueError("The interval must be more than 0 seconds.")
    return Plan(
        phases=parse_plan(scenario),
        sensors=sensors,
        interval=interval,
        seed=seed,
        firmware=firmware,
        degrade=degrade,
    )


# --------------------------------------------------------------------------- database side


def sensors_of(gateway: Gateway) -> list[SensorSpec]:
    """The gateway's registered, active sensors that watch an asset, with the asset's first
    cumulative meter and its latest reading (readings continue from there)."""
    specs = []
    sensors = gateway.sensors.filter(is_active=True, asset__isnull=False).select_related("asset")
    for sensor in sensors.order_by("code"):
        meter = Meter.objects.filter(asset=sensor.asset, cumulative=True).order_by("code").first()
        start = 0.0
        if meter is not None:
            last = MeterReading.objects.filter(meter=meter).order_by("-observed_at").first()
            start = float(last.value) if last else 0.0
        measures = sensor.measures if sensor.measures in MEASURES else DEFAULT_MEASURE
        specs.append(
            SensorSpec(sensor.code, sensor.asset.tag, measures, meter.code if meter else "", start)
        )
    return specs


DEMO_GATEWAY_NAME = "Demo gateway"
DEMO_HEARTBEAT_INTERVAL_SECONDS = 60
DEMO_HEARTBEAT_GRACE_SECONDS = 60
# The demo's story: steady for a minute, a sensor degrading into alerts for two, then silence
# (late after 60 s, offline after 120 s; the fleet check runs every minute).
DEMO_PLAN = "steady:3,degrading:6,silent"
DEMO_INTERVAL = 20.0
DEMO_DEGRADING = "vib-01"
DEMO_SENSORS = (("vib-01", "vibration"), ("temp-02", "temperature"), ("vib-03", "vibration"))


@transaction.atomic
def demo_gateway_prepare(*, site: Site | None = None) -> tuple[Gateway, str]:
    """The embedded demo's gateway ("Demo gateway"), created at `site` (or the first site) if
    missing, with a short heartbeat interval and grace so silence shows within minutes, three
    sensors on metered equipment, and a fresh secret (older ones retired). For the demo only:
    every call invalidates the secret of the previous run."""
    gateway = Gateway.objects.filter(name=DEMO_GATEWAY_NAME).order_by("created_at").first()
    if gateway is None:
        site = site or Site.objects.order_by("pk").first()
        if site is None:
            raise LookupError("No site yet: run `manage.py seed_demo` first.")
        gateway, secret = gateway_create(site=site, name=DEMO_GATEWAY_NAME)
    else:
        secret = gateway_rotate_secret(gateway=gateway)
        gateway_retire_secrets(gateway=gateway)
    # Health settings are no part of gateway_update; the demo sets its own gateway's directly.
    Gateway.objects.filter(pk=gateway.pk).update(
        heartbeat_interval_seconds=DEMO_HEARTBEAT_INTERVAL_SECONDS,
        heartbeat_grace_seconds=DEMO_HEARTBEAT_GRACE_SECONDS,
        is_active=True,
    )
    if not gateway.sensors.exists():
        metered = (
            Asset.objects.filter(site=gateway.site_id, meters__cumulative=True)
            .distinct()
            .order_by("tag")[: len(DEMO_SENSORS)]
        )
        for (code, measures), asset in zip(DEMO_SENSORS, metered, strict=False):
            sensor = Sensor(
                gateway=gateway,
                code=code,
                name=f"{measures.capitalize()} sensor on {asset.tag}",
                measures=measures,
                unit=MEASURES[measures].unit,
                asset=asset,
            )
            sensor.full_clean()
            sensor.save()
    gateway.refresh_from_db()
    return gateway, secret
