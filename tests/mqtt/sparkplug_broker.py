"""The host's side of the Sparkplug end-to-end tests, and a gateway's broker client."""

import shutil
import subprocess

import paho.mqtt.client as mqtt
from django.db import transaction
from django.utils import timezone

from gateways.messages import MessageRejected
from sparkplug.host import handle_message
from tests.mosquitto import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.workers import wait_until


class Host:
    """The host's side: subscribed to spBv1.0/# with QoS 1, each message handled in its own
    transaction in the test's thread (driven by `pump`), rejections kept."""

    def __init__(self, port: int, log):
        self.rejections, self.log = [], log
        self.client = mqtt.Client(client_id="test-host", clean_session=True)
        self.client.username_pw_set(ADMIN_USERNAME, ADMIN_PASSWORD)
        self.client.on_message = self.on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.subscribe("spBv1.0/#", qos=1)
        self.pump(0.3)

    def on_message(self, _client, _userdata, message):
        if message.topic.startswith("spBv1.0/STATE/"):
            return
        try:
            with transaction.atomic():
                handle_message(topic=message.topic, payload=message.payload, now=timezone.now())
        except MessageRejected as exc:
            self.rejections.append((message.topic, exc.reason))

    def pump(self, seconds: float = 0.05):
        self.client.loop(timeout=seconds)

    def until(self, predicate, what: str, timeout: float = 15):
        def pumped():
            self.pump()
            return predicate()

        def details():
            log = self.log.read_text() if self.log.exists() else ""
            return f"{what}; rejections {self.rejections}; edge node output: {log}"

        return wait_until(pumped, timeout=timeout, interval=0.01, message=details)


def broker_client_for(mosquitto, gateway) -> tuple[str, str]:
    """The gateway's broker client as the access contract defines it (username: the gateway
    id, password: its secret; may publish only under its Sparkplug identity), created with
    mosquitto_ctrl; returns (username, password)."""
    username, password = str(gateway.pk), gateway.plaintext_secret
    group, node = gateway.sparkplug_group_id, gateway.sparkplug_edge_node_id
    role = f"gateway-{gateway.pk}"
    commands = [
        ["createClient", username, "-p", password],
        ["createRole", role],
        ["addRoleACL", role, "publishClientSend", f"spBv1.0/{group}/+/{node}", "allow"],
        ["addRoleACL", role, "publishClientSend", f"spBv1.0/{group}/+/{node}/#", "allow"],
        ["addRoleACL", role, "subscribePattern", f"spBv1.0/{group}/NCMD/{node}", "allow"],
        ["addRoleACL", role, "subscribePattern", f"spBv1.0/{group}/DCMD/{node}/#", "allow"],
        ["addRoleACL", role, "subscribePattern", "spBv1.0/STATE/#", "allow"],
        ["addClientRole", username, role],
    ]
    ctrl = shutil.which("mosquitto_ctrl") or "mosquitto_ctrl"
    login = ["-h", "127.0.0.1", "-p", str(mosquitto.port), "-u", ADMIN_USERNAME]
    for command in commands:
        result = subprocess.run(
            [ctrl, *login, "-P", ADMIN_PASSWORD, "dynsec", *command],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        # mosquitto_ctrl 2.0 exits 0 when the plugin answers with an error.
        assert ": Error:" not in result.stderr + result.stdout, (command, result.stderr)
    return username, password
