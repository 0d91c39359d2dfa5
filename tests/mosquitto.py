"""A private Mosquitto broker with the dynamic security plugin, for the MQTT tests.

Like the private Redis and PostgreSQL servers in tests/workers.py it runs on a free port in a
temporary directory, so a test may stop, kill and restart it without harming anyone else. It
refuses anonymous clients; `admin` (password `ADMIN_PASSWORD`) manages its clients and roles
through the plugin's `$CONTROL/dynamic-security/v1` topic and may subscribe to everything.
Persistence is on, so a restarted broker keeps the persistent sessions and their queued QoS 1
messages (Mosquitto writes them on a clean shutdown, `stop()`; `kill()` loses what is unsaved).
"""

import getpass
import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.workers import free_port

DYNSEC_PLUGIN = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-password-for-tests"


class MosquittoServer:
    """`queue_qos0`: the broker keeps QoS 0 messages for an absent persistent session, as
    docs/mqtt-broker.md configures it (Sparkplug B publishes its data with QoS 0); False is a
    broker that drops them."""

    def __init__(self, *, queue_qos0: bool = True):
        self.queue_qos0 = queue_qos0
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cmms-mosquitto-"))
        self.dynsec_file = self.dir / "dynamic-security.json"
        self.config = self.dir / "mosquitto.conf"
        self.log = self.dir / "mosquitto.log"
        self.process = None

    @staticmethod
    def available() -> bool:
        return (
            shutil.which("mosquitto") is not None
            and shutil.which("mosquitto_ctrl") is not None
            and DYNSEC_PLUGIN.exists()
        )

    @property
    def url(self) -> str:
        """The broker address with the admin's credentials (settings.MQTT_* read the same)."""
        return f"mqtt://{ADMIN_USERNAME}:{ADMIN_PASSWORD}@127.0.0.1:{self.port}"

    def init(self):
        subprocess.run(
            [
                shutil.which("mosquitto_ctrl") or "mosquitto_ctrl",
                "dynsec",
                "init",
                str(self.dynsec_file),
                ADMIN_USERNAME,
                ADMIN_PASSWORD,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        self._grant_host_role()
        self.config.write_text(
            "\n".join(
                (
                    "per_listener_settings false",
                    # Started as root, Mosquitto would switch to the `mosquitto` user, which
                    # cannot read this private directory: stay whoever started it.
                    f"user {getpass.getuser()}",
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"plugin {DYNSEC_PLUGIN}",
                    f"plugin_opt_config_file {self.dynsec_file}",
                    "persistence true",
                    f"persistence_location {self.dir}/",
                    "autosave_interval 1",
                    "max_queued_messages 100000",
                    f"queue_qos0_messages {'true' if self.queue_qos0 else 'false'}",
                    "max_packet_size 2097152",
                    "max_inflight_messages 1000",
                    f"log_dest file {self.log}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "",
                )
            )
        )
        return self.start()

    def _grant_host_role(self):
        """The admin account also gets a role like the `cmms-host` one docs/mqtt-broker.md has a
        deployment add: publishing the Sparkplug host's STATE and rebirth requests (NCMD)."""
        config = json.loads(self.dynsec_file.read_text())
        config["roles"].append(
            {
                "rolename": "admin-host",
                "acls": [
                    {"acltype": "publishClientSend", "topic": topic, "allow": True}
                    for topic in ("spBv1.0/STATE/+", "spBv1.0/+/NCMD/+")
                ],
            }
        )
        for client in config["clients"]:
            if client["username"] == ADMIN_USERNAME:
                client["roles"].append({"rolename": "admin-host"})
        self.dynsec_file.write_text(json.dumps(config))

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("mosquitto") or "mosquitto", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"private mosquitto did not start: {self.log_text()}")

    def stop(self):
        """A clean shutdown: Mosquitto saves its sessions and queued messages first."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
            self.process = None

    def restart(self):
        self.stop()
        return self.start()

    def destroy(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""
