"""A small client for Mosquitto's dynamic security plugin, spoken over MQTT.

The plugin is managed by publishing JSON commands to `$CONTROL/dynamic-security/v1` and reading
the answers on `.../response`, as the broker's admin account (the credentials in
`settings.MQTT_URL`). Every way a command can fail (the plugin's "error" field, no answer in
time, a refused or lost connection) is a `DynsecError` with a readable message; the ones worth
retrying later (the broker unreachable or silent) are the subclass `DynsecUnavailable`.

Passwords travel only inside commands: they never appear in a message, a log line or a
description (`describe`).
"""

import json
import logging
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
DEFAULT_TIMEOUT = 5.0
# Commands per control message: the broker answers a message in one response, so a very long
# list would make one large payload; the plugin applies the commands of a message in order.
COMMANDS_PER_MESSAGE = 100

CLIENT_NOT_FOUND = "Client not found"
ROLE_NOT_FOUND = "Role not found"

PUBLISH_CLIENT_SEND = "publishClientSend"
SUBSCRIBE_PATTERN = "subscribePattern"

Command = dict


class DynsecError(Exception):
    """A dynamic security command failed, or the broker could not be asked."""


class DynsecUnavailable(DynsecError):
    """The broker could not be reached or did not answer in time: worth trying again later."""


@dataclass(frozen=True)
class Broker:
    """Where the broker is and the system's account on it, read from an MQTT_URL."""

    host: str
    port: int
    tls: bool
    username: str
    password: str = field(repr=False)

    @classmethod
    def from_url(cls, url: str) -> "Broker":
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or not parts.username:
            raise ImproperlyConfigured("MQTT_URL must look like mqtt[s]://user:password@host:port.")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ImproperlyConfigured("MQTT_URL has an invalid port.") from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            username=unquote(parts.username),
            password=unquote(parts.password or ""),
        )


@dataclass(frozen=True, order=True)
class Acl:
    """One entry of a role: may (allow) the client do `acltype` on `topic`."""

    acltype: str
    topic: str
    allow: bool = True

    @classmethod
    def from_json(cls, data: dict) -> "Acl":
        return cls(data["acltype"], data["topic"], bool(data.get("allow", False)))

    def as_json(self) -> dict:
        return {"acltype": self.acltype, "topic": self.topic, "allow": self.allow, "priority": 0}


# --- commands (the plugin's JSON, spelt once) ---------------------------------------------


def create_client(
    username: str, password: str, *, roles: Iterable[str] = (), textname="", textdescription=""
) -> Command:
    return {
        "command": "createClient",
        "username": username,
        "password": password,
        "textname": textname,
        "textdescription": textdescription,
        "roles": [{"rolename": rolename, "priority": 0} for rolename in roles],
    }


def modify_client(username: str, **changes) -> Command:
    """Change a client's password, textname, textdescription (one command, one disconnect)."""
    return {"command": "modifyClient", "username": username, **changes}


def set_client_password(username: str, password: str) -> Command:
    return {"command": "setClientPassword", "username": username, "password": password}


def delete_client(username: str) -> Command:
    return {"command": "deleteClient", "username": username}


def enable_client(username: str) -> Command:
    return {"command": "enableClient", "username": username}


def disable_client(username: str) -> Command:
    return {"command": "disableClient", "username": username}


def get_client(username: str) -> Command:
    return {"command": "getClient", "username": username}


def list_clients() -> Command:
    return {"command": "listClients", "verbose": True}


def add_client_role(username: str, rolename: str) -> Command:
    return {"command": "addClientRole", "username": username, "rolename": rolename, "priority": 0}


def remove_client_role(username: str, rolename: str) -> Command:
    return {"command": "removeClientRole", "username": username, "rolename": rolename}


def create_role(rolename: str, acls: Iterable[Acl] = ()) -> Command:
    return {
        "command": "createRole",
        "rolename": rolename,
        "acls": [acl.as_json() for acl in sorted(acls)],
    }


def delete_role(rolename: str) -> Command:
    return {"command": "deleteRole", "rolename": rolename}


def get_role(rolename: str) -> Command:
    return {"command": "getRole", "rolename": rolename}


def list_roles() -> Command:
    return {"command": "listRoles", "verbose": True}


def add_role_acl(rolename: str, acl: Acl) -> Command:
    return {"command": "addRoleACL", "rolename": rolename, **acl.as_json()}


def remove_role_acl(rolename: str, acl: Acl) -> Command:
    return {
        "command": "removeRoleACL",
        "rolename": rolename,
        "acltype": acl.acltype,
        "topic": acl.topic,
    }


def describe(command: Command) -> str:
    """A command in words for logs and the reconcile command's output; never its password."""
    words = [command["command"]]
    for key in ("username", "rolename"):
        if key in command:
            words.append(command[key])
    if "acltype" in command:
        words.append(f"{command['acltype']} {command['topic']}")
    if "password" in command:
        words.append("(password set)")
    return " ".join(words)


# --- the connection -------------------------------------------------------------------------


class Dynsec:
    """One connection to the broker as the system's admin account; use it as a context manager.

    The client id is the consumer's (MQTT_CLIENT_ID) plus a random suffix: reusing the
    consumer's own id would make the broker disconnect the consumer.
    """

    def __init__(self, url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        self.broker = Broker.from_url(url if url is not None else settings.MQTT_URL)
        self.timeout = timeout
        self._client: mqtt.Client | None = None
        self._connack: int | None = None
        self._subacks: dict[int, tuple] = {}
        self._pending: set[str] = set()
        self._responses: dict[str, dict] = {}

    # connection

    def __enter__(self) -> "Dynsec":
        client_id = f"{settings.MQTT_CLIENT_ID}-access-{secrets.token_hex(4)}"
        client = mqtt.Client(client_id=client_id, clean_session=True, reconnect_on_failure=False)
        client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        where = f"{self.broker.host}:{self.broker.port}"
        try:
            client.connect(self.broker.host, self.broker.port, keepalive=60)
        except OSError as exc:  # refused, unreachable, timed out, TLS failure
            raise DynsecUnavailable(f"Cannot reach the MQTT broker at {where}: {exc}.") from None
        self._client = client
        # Each command waits for its answer: small packets go out at once (paho 1.6 leaves
        # Nagle's algorithm on, which waits for the peer's delayed ACK).
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._wait(lambda: self._connack is not None, "waiting for CONNACK")
            if self._connack != mqtt.CONNACK_ACCEPTED:
                raise DynsecError(
                    f"The MQTT broker at {where} refused the system's account "
                    f"{self.broker.username!r}: {mqtt.connack_string(self._connack)}."
                )
            result, mid = client.subscribe(RESPONSE_TOPIC, qos=0)
            if result != mqtt.MQTT_ERR_SUCCESS:
                raise DynsecUnavailable(f"Lost the MQTT broker: {mqtt.error_string(result)}.")
            self._wait(lambda: mid in self._subacks, "waiting for SUBACK")
            if 0x80 in self._subacks[mid]:
                raise DynsecError(
                    f"The account {self.broker.username!r} may not read {RESPONSE_TOPIC}: "
                    "it needs the dynamic security admin role."
                )
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._close()

    def _close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client = None

    def _on_connect(self, client, userdata, flags, rc):
        self._connack = rc

    def _on_subscribe(self, client, userdata, mid, granted_qos):
        self._subacks[mid] = tuple(granted_qos)

    def _on_message(self, client, userdata, message):
        try:
            responses = json.loads(message.payload)["responses"]
        except (ValueError, KeyError, TypeError):
            return
        for response in responses:
            # Every admin connection reads every answer: keep only the answers to ours.
            key = response.get("correlationData") if isinstance(response, dict) else None
            if key in self._pending:
                self._responses[key] = response

    def _wait(self, done: Callable[[], bool], what: str) -> None:
        """Run the network loop until `done()`; DynsecUnavailable after the timeout."""
        deadline = time.monotonic() + self.timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DynsecUnavailable(
                    f"No answer from the MQTT broker within {self.timeout:g} s ({what}; the "
                    f"account {self.broker.username!r} needs the dynamic security admin role)."
                )
            result = self._client.loop(timeout=min(remaining, 0.1))
            if result != mqtt.MQTT_ERR_SUCCESS and not done():
                raise DynsecUnavailable(
                    f"Lost the MQTT broker ({what}): {mqtt.error_string(result)}."
                )

    # commands

    def execute(self, commands: list[Command]) -> list[dict]:
        """The plugin's responses to `commands`, in order, errors included (`response["error"]`)."""
        if self._client is None:
            raise DynsecError("Use Dynsec as a context manager: `with Dynsec() as broker:`.")
        responses = []
        for start in range(0, len(commands), COMMANDS_PER_MESSAGE):
            responses.extend(self._execute(commands[start : start + COMMANDS_PER_MESSAGE]))
        return responses

    def _execute(self, commands: list[Command]) -> list[dict]:
        token = secrets.token_hex(8)
        keys = [f"{token}:{index}" for index in range(len(commands))]
        self._pending.update(keys)
        payload = {
            "commands": [
                {**command, "correlationData": key}
                for command, key in zip(commands, keys, strict=True)
            ]
        }
        # QoS 0: the answer is the acknowledgement. (At QoS 1 the broker's PUBACK goes first,
        # and Nagle's algorithm holds the answer behind it until our delayed ACK, ~40 ms.)
        info = self._client.publish(CONTROL_TOPIC, json.dumps(payload), qos=0)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DynsecUnavailable(f"Lost the MQTT broker: {mqtt.error_string(info.rc)}.")
        try:
            self._wait(
                lambda: all(key in self._responses for key in keys),
                f"waiting for the answer to {commands[0]['command']}",
            )
            return [self._responses.pop(key) for key in keys]
        finally:
            self._pending.difference_update(keys)

    def run(self, commands: list[Command]) -> list[dict]:
        """Execute `commands`; DynsecError naming every one the plugin refused."""
        responses = self.execute(commands)
        failures = [
            f"{describe(command)}: {response['error']}"
            for command, response in zip(commands, responses, strict=True)
            if response.get("error")
        ]
        if failures:
            raise DynsecError("; ".join(failures))
        for command in commands:
            logger.info("Dynamic security: %s.", describe(command))
        return responses

    def fetch_client_and_role(
        self, username: str, rolename: str
    ) -> tuple[dict | None, dict | None]:
        """A client and a role in one round trip; None for either that does not exist."""
        commands = [get_client(username), get_role(rolename)]
        client, role = self.execute(commands)
        return (
            _data(commands[0], client, missing=CLIENT_NOT_FOUND, key="client"),
            _data(commands[1], role, missing=ROLE_NOT_FOUND, key="role"),
        )

    def clients(self) -> list[dict]:
        """Every client with its roles, text and disabled flag."""
        return self._listing(list_clients(), "clients")

    def roles(self) -> list[dict]:
        """Every role with its ACLs."""
        return self._listing(list_roles(), "roles")

    def _listing(self, command: Command, key: str) -> list[dict]:
        (response,) = self.execute([command])
        return _data(command, response, missing="", key=key) or []


def _data(command: Command, response: dict, *, missing: str, key: str | None = None):
    error = response.get("error")
    if error:
        if missing and error == missing:
            return None
        raise DynsecError(f"{describe(command)}: {error}")
    data = response.get("data") or {}
    return data.get(key) if key else data
