import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from fleet.simulator import (
    DEMO_DEGRADING,
    DEMO_INTERVAL,
    DEMO_PLAN,
    SCENARIOS,
    SimulatorStopped,
    demo_gateway_prepare,
    parse_sensors,
    sensors_of,
    simulator_for,
)
from fleet.simulator_mqtt import mqtt_simulator_for
from fleet.simulator_sparkplug import sparkplug_simulator_for
from gateways.models import Gateway

TRANSPORTS = ("http", "mqtt", "sparkplug")


class Command(BaseCommand):
    help = (
        "Run a simulated gateway: signed heartbeats, meter readings and alerts over HTTP, the "
        "same bodies over MQTT, or a Sparkplug B edge node (scenarios steady, degrading, storm, "
        "silent). See docs/fleet-simulator.md, docs/mqtt.md and docs/sparkplug.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.SITE_URL, help="base URL of the CMMS")
        parser.add_argument("--gateway", help="the gateway's id (UUID)")
        parser.add_argument(
            "--transport",
            choices=TRANSPORTS,
            default="http",
            help="http: signed webhooks (default); mqtt: the webhooks' bodies published with "
            "QoS 1 on cmms/v1/gateways/{id}/...; sparkplug: a Sparkplug B edge node. Over MQTT "
            "the simulator connects to the broker as the gateway (its id and secret)",
        )
        parser.add_argument(
            "--broker",
            default=settings.MQTT_URL,
            help="with --transport mqtt or sparkplug: mqtt[s]://host:port (default: MQTT_URL's "
            "host; "
            "its credentials are not used)",
        )
        parser.add_argument(
            "--sparkplug-node",
            help="with --transport sparkplug: GROUP/EDGE_NODE (default: the gateway's "
            "Sparkplug identity, read from the database)",
        )
        parser.add_argument(
            "--secret", help="the gateway's whsec_ secret (prefer --secret-file or GATEWAY_SECRET)"
        )
        parser.add_argument("--secret-file", help="a file holding the gateway's secret")
        parser.add_argument(
            "--scenario",
            help=f"{', '.join(SCENARIOS)}, or phases with ticks each, e.g. {DEMO_PLAN} "
            "(the last may go on); default steady, with --demo the phases above",
        )
        parser.add_argument(
            "--interval",
            type=float,
            help=f"seconds between heartbeats, a tick (default 60; --demo: {DEMO_INTERVAL:g})",
        )
        parser.add_argument(
            "--sensors",
            help="CODE=TAG[:METER],... (e.g. vib-01=P-101:hours); default: the gateway's "
            "registered sensors (needs database access)",
        )
        parser.add_argument(
            "--degrade", default="", help="the code of the sensor that degrades (default: first)"
        )
        parser.add_argument("--count", type=int, help="stop after this many ticks")
        parser.add_argument("--duration", type=float, help="stop after this many seconds")
        parser.add_argument("--seed", type=int, default=0, help="random seed (reproducible runs)")
        parser.add_argument("--firmware", default="2.4.1", help="the firmware version reported")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="the embedded demo only (DEBUG, SQLite): use or create the demo gateway, "
            "issue it a fresh secret (retiring older ones) and tell its story",
        )

    def handle(self, *args, **options):
        demo = options["demo"]
        if demo:
            gateway_id, secret, sensors = self._demo()
        else:
            gateway_id, secret = self._gateway_id(options), self._secret(options)
            sensors = self._sensors(options, gateway_id)
        scenario = options["scenario"] or (DEMO_PLAN if demo else "steady")
        interval = options["interval"]
        if interval is None:
            interval = DEMO_INTERVAL if demo else 60.0
        # What every transport takes alike: the gateway, its plan and where to log.
        common = {
            "gateway_id": gateway_id,
            "secret": secret,
            "sensors": sensors,
            "scenario": scenario,
            "interval": interval,
            "log": self._log,
            "seed": options["seed"],
            "firmware": options["firmware"],
            "degrade": options["degrade"] or (DEMO_DEGRADING if demo else ""),
        }
        plan = f"{scenario} every {interval:g} s"
        transport = options["transport"]
        try:
            if transport == "http":
                simulator, sender = simulator_for(url=options["url"], **common), None
                where = f"Gateway {gateway_id} -> {options['url']}: {plan}; sensors"
            elif transport == "mqtt":
                simulator, sender = mqtt_simulator_for(broker=options["broker"], **common)
                where = (
                    f"Gateway {gateway_id} -> {sender.host}:{sender.port} (MQTT): {plan}; sensors"
                )
            else:
                group_id, edge_node_id = self._sparkplug_node(options, gateway_id)
                simulator, sender = sparkplug_simulator_for(
                    broker=options["broker"],
                    group_id=group_id,
                    edge_node_id=edge_node_id,
                    **common,
                )
                where = (
                    f"Edge node {group_id}/{edge_node_id} (gateway {gateway_id}) -> "
                    f"{sender.host}:{sender.port}: {plan}; devices"
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self._log(f"{where} " + (", ".join(f"{s.code}={s.asset_tag}" for s in sensors) or "none"))
        try:
            simulator.run(count=options["count"], duration=options["duration"])
        except (SimulatorStopped, OSError) as exc:
            # Refused over HTTP for good, or the broker unreachable or refusing the gateway.
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            self._log("Stopped.")
        finally:
            if sender is not None:
                sender.disconnect()

    def _sparkplug_node(self, options, gateway_id: str) -> tuple[str, str]:
        if options["sparkplug_node"]:
            group_id, _, edge_node_id = options["sparkplug_node"].partition("/")
            if not group_id or not edge_node_id or "/" in edge_node_id:
                raise CommandError("--sparkplug-node must be GROUP/EDGE_NODE.")
            return group_id, edge_node_id
        try:
            gateway = Gateway.objects.get(pk=gateway_id)
        except Exception:  # unknown, malformed, or no database here
            raise CommandError(
                "The gateway's Sparkplug identity cannot be read: give --sparkplug-node."
            ) from None
        if not gateway.sparkplug_edge_node_id:
            raise CommandError("The gateway has no Sparkplug group and edge node id.")
        return gateway.sparkplug_group_id, gateway.sparkplug_edge_node_id

    def _log(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    # -- where the gateway, its secret and its sensors come from

    def _gateway_id(self, options) -> str:
        if not options["gateway"]:
            raise CommandError("Give --gateway <uuid> (or --demo for the embedded demo).")
        return options["gateway"]

    def _secret(self, options) -> str:
        if options["secret_file"]:
            try:
                secret = Path(options["secret_file"]).read_text().strip()
            except OSError as exc:
                raise CommandError(f"Cannot read --secret-file: {exc.strerror}.") from None
        else:
            secret = options["secret"] or os.environ.get("GATEWAY_SECRET", "")
        if not secret:
            raise CommandError("Give the secret: --secret-file, GATEWAY_SECRET or --secret.")
        if not secret.startswith("whsec_"):
            raise CommandError("The secret must be the gateway's whsec_... secret.")
        return secret

    def _sensors(self, options, gateway_id: str):
        if options["sensors"]:
            try:
                return parse_sensors(options["sensors"])
            except ValueError as exc:
                raise CommandError(f"--sensors: {exc}") from None
        try:
            gateway = Gateway.objects.get(pk=gateway_id)
        except Exception:  # unknown, malformed, or no database here
            raise CommandError(
                "The gateway's sensors cannot be read from the database: give --sensors."
            ) from None
        return sensors_of(gateway)

    def _demo(self):
        if not settings.DEBUG or connection.vendor != "sqlite":
            raise CommandError("--demo is for the embedded demo only (DEBUG=1 and SQLite).")
        try:
            gateway, secret = demo_gateway_prepare()
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        self._log(f"Demo gateway {gateway.pk} at {gateway.site}: a fresh secret was issued.")
        return str(gateway.pk), secret, sensors_of(gateway)
