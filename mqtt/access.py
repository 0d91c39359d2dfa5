"""Gateways' access to the broker: each gateway's Mosquitto client and role, kept equal to the
database through the dynamic security plugin (docs/mqtt-broker.md).

What the broker should hold for a gateway is read from the database (`gateway_access`), what
it holds is asked of the broker, and `access_commands` (pure) lists the commands that turn one
into the other: nothing when they agree, so reconciling is idempotent and cheap, and a
connected gateway is not disconnected by a reconciliation that changes nothing (the plugin
disconnects a client whose password, roles or state change).

- an active gateway with a live secret: client `{gateway id}`, enabled, password its newest
  live secret, holding only the role `gateway-{gateway id}` with exactly `gateway_acls`;
- a disabled one: the same client, disabled (the broker disconnects it and refuses it);
- an unknown one, or one without a live (readable) secret: no client, no role.

The broker cannot tell a client's password, so the client's text description records the
fingerprint of the secret it was set from (`gateway_secrets.fingerprint`, not reversible).
"""

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction

from gateways import gateway_secrets
from gateways.models import Gateway, GatewaySecret
from mqtt import dynsec
from mqtt.dynsec import PUBLISH_CLIENT_SEND, SUBSCRIBE_PATTERN, Acl, Command, Dynsec

logger = logging.getLogger(__name__)

ROLE_PREFIX = "gateway-"
CLIENT_TEXTNAME = "CMMS gateway"
SECRET_MARK = "Password: the gateway secret "


@dataclass(frozen=True)
class GatewayAccess:
    """What the broker should hold for one gateway that may have a client."""

    username: str
    password: str = field(repr=False)
    fingerprint: str
    enabled: bool
    acls: frozenset[Acl]

    @property
    def rolename(self) -> str:
        return role_name(self.username)

    @property
    def textdescription(self) -> str:
        return f"{SECRET_MARK}{self.fingerprint}"


def role_name(gateway_id) -> str:
    return f"{ROLE_PREFIX}{gateway_id}"


def gateway_acls(gateway_id, *, group: str = "", edge_node: str = "") -> frozenset[Acl]:
    """The topics a gateway may use (the pinned contract): publish its own plain JSON topics;
    with a Sparkplug identity also publish as its edge node and its devices, and subscribe to
    the commands sent to them and to the host applications' STATE."""
    acls = {Acl(PUBLISH_CLIENT_SEND, f"cmms/v1/gateways/{gateway_id}/#")}
    if group and edge_node:
        acls |= {
            Acl(PUBLISH_CLIENT_SEND, f"spBv1.0/{group}/+/{edge_node}"),
            Acl(PUBLISH_CLIENT_SEND, f"spBv1.0/{group}/+/{edge_node}/#"),
            Acl(SUBSCRIBE_PATTERN, f"spBv1.0/{group}/NCMD/{edge_node}"),
            Acl(SUBSCRIBE_PATTERN, f"spBv1.0/{group}/DCMD/{edge_node}/#"),
            Acl(SUBSCRIBE_PATTERN, "spBv1.0/STATE/#"),
        }
    return frozenset(acls)


# --- the database's side --------------------------------------------------------------------


def _access(gateway: Gateway, secret: GatewaySecret | None) -> GatewayAccess | None:
    if secret is None:
        return None
    try:
        password = gateway_secrets.decrypt(secret.encrypted)
    except gateway_secrets.SecretUnreadable:
        logger.error(
            "Gateway %s gets no broker access: its secret %s cannot be decrypted.",
            gateway.pk,
            secret.fingerprint,
        )
        return None
    return GatewayAccess(
        username=str(gateway.pk),
        password=password,
        fingerprint=secret.fingerprint,
        enabled=gateway.is_active,
        acls=gateway_acls(
            gateway.pk,
            group=gateway.sparkplug_group_id,
            edge_node=gateway.sparkplug_edge_node_id,
        ),
    )


def _newest_live_secret(gateway_id) -> GatewaySecret | None:
    """The secret the broker's password is set from: the newest unretired one."""
    live = GatewaySecret.objects.filter(gateway_id=gateway_id, retired_at=None)
    return live.order_by("-created_at", "-id").first()


def gateway_access(gateway_id, *, lock: bool = False) -> GatewayAccess | None:
    """What the broker should hold for the gateway; None: nothing (unknown, or no live secret).

    With `lock`, the gateway's row stays locked until the transaction ends, so the change
    that follows cannot be overtaken by an older reading (call inside `transaction.atomic`).
    FOR NO KEY UPDATE: rotations and retirements (FOR UPDATE) wait for it, while alerts,
    readings and rejected messages of the gateway (their foreign keys take KEY SHARE) do not.
    """
    gateways = Gateway.objects.select_for_update(no_key=True) if lock else Gateway.objects
    gateway = gateways.filter(pk=gateway_id).first()
    if gateway is None:
        return None
    return _access(gateway, _newest_live_secret(gateway_id))


def _every_gateway_access() -> dict[str, GatewayAccess | None]:
    """`gateway_access` of every gateway, in two queries."""
    newest: dict = {}
    secrets = GatewaySecret.objects.filter(retired_at=None).order_by(
        "gateway_id", "-created_at", "-id"
    )
    for secret in secrets.only("gateway_id", "encrypted", "fingerprint").iterator(2000):
        newest.setdefault(secret.gateway_id, secret)
    fields = ("id", "is_active", "sparkplug_group_id", "sparkplug_edge_node_id")
    return {
        str(gateway.pk): _access(gateway, newest.get(gateway.pk))
        for gateway in Gateway.objects.only(*fields).order_by().iterator(2000)
    }


# --- the difference -------------------------------------------------------------------------


def access_commands(
    gateway_id: str,
    desired: GatewayAccess | None,
    *,
    client: dict | None,
    role: dict | None,
) -> list[Command]:
    """The commands that make the broker's `client` and `role` (getClient/getRole data, None
    when absent) what `desired` says; [] when they already agree."""
    username, rolename = str(gateway_id), role_name(gateway_id)
    if desired is None:
        commands = [dynsec.delete_client(username)] if client is not None else []
        return commands + ([dynsec.delete_role(rolename)] if role is not None else [])
    commands = []
    if client is not None and not desired.enabled and not client.get("disabled", False):
        # First, so that nothing below happens while the gateway is still connected.
        commands.append(dynsec.disable_client(username))
    if role is None:
        commands.append(dynsec.create_role(rolename, desired.acls))
    else:
        held = {Acl.from_json(acl) for acl in role.get("acls", [])}
        commands += [dynsec.remove_role_acl(rolename, acl) for acl in sorted(held - desired.acls)]
        commands += [dynsec.add_role_acl(rolename, acl) for acl in sorted(desired.acls - held)]
    if client is None:
        commands.append(
            dynsec.create_client(
                username,
                desired.password,
                roles=[rolename],
                textname=CLIENT_TEXTNAME,
                textdescription=desired.textdescription,
            )
        )
        if not desired.enabled:
            # The same control message: the broker applies both before anyone else's packet.
            commands.append(dynsec.disable_client(username))
        return commands
    if client.get("textdescription") != desired.textdescription:
        commands.append(
            dynsec.modify_client(
                username, password=desired.password, textdescription=desired.textdescription
            )
        )
    roles = {held["rolename"] for held in client.get("roles", [])}
    commands += [dynsec.remove_client_role(username, other) for other in sorted(roles - {rolename})]
    if rolename not in roles:
        commands.append(dynsec.add_client_role(username, rolename))
    if desired.enabled and client.get("disabled", False):
        commands.append(dynsec.enable_client(username))
    return commands


# --- reconciling ----------------------------------------------------------------------------


def sync_gateway(gateway_id, *, broker: Dynsec | None = None) -> list[str]:
    """Make the broker's client and role of one gateway what the database says; returns the
    changes made, in words ([] when there was nothing to do). Raises dynsec.DynsecError
    (DynsecUnavailable: worth retrying).

    The gateway's row stays locked while the broker is changed, so two reconciliations of one
    gateway (or one and a concurrent rotation) apply in the order they read.
    """
    gateway_id = str(uuid.UUID(str(gateway_id)))
    if broker is None:
        with Dynsec() as broker:
            return sync_gateway(gateway_id, broker=broker)
    with transaction.atomic():
        desired = gateway_access(gateway_id, lock=True)
        client, role = broker.fetch_client_and_role(gateway_id, role_name(gateway_id))
        commands = access_commands(gateway_id, desired, client=client, role=role)
        if commands:
            broker.run(commands)
    return [dynsec.describe(command) for command in commands]


def _managed_ids(clients: dict[str, dict], roles: dict[str, dict]) -> set[str]:
    """Gateway ids the broker has a client or role for that this system made."""
    ids = set()
    for username, client in clients.items():
        if _is_uuid(username) and (
            client.get("textname") == CLIENT_TEXTNAME
            or any(held["rolename"] == role_name(username) for held in client.get("roles", []))
        ):
            ids.add(username)
    for rolename in roles:
        gateway_id = rolename.removeprefix(ROLE_PREFIX)
        if rolename.startswith(ROLE_PREFIX) and _is_uuid(gateway_id):
            ids.add(gateway_id)
    return ids


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


@dataclass
class Reconciliation:
    """What reconciling every gateway did: changes and refusals per gateway id."""

    changes: dict[str, list[str]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def sync_all_gateways(*, broker: Dynsec | None = None) -> Reconciliation:
    """Reconcile every gateway, and remove the clients and roles of gateways that no longer
    exist. A command the plugin refuses for one gateway is reported and the others go on;
    losing the broker (DynsecUnavailable) stops it.

    One listing of the broker's clients and roles and one reading of the database find the
    gateways that differ; only those are reconciled, one by one under their row lock
    (`sync_gateway`), so a change made meanwhile is never overwritten by this older reading.
    """
    if broker is None:
        with Dynsec() as broker:
            return sync_all_gateways(broker=broker)
    clients = {client["username"]: client for client in broker.clients()}
    roles = {role["rolename"]: role for role in broker.roles()}
    desired = _every_gateway_access()
    result = Reconciliation()
    for gateway_id in sorted(set(desired) | _managed_ids(clients, roles)):
        differs = access_commands(
            gateway_id,
            desired.get(gateway_id),
            client=clients.get(gateway_id),
            role=roles.get(role_name(gateway_id)),
        )
        if not differs:
            continue
        try:
            made = sync_gateway(gateway_id, broker=broker)
        except dynsec.DynsecUnavailable:
            raise
        except dynsec.DynsecError as exc:
            logger.error("Broker access of gateway %s not reconciled: %s", gateway_id, exc)
            result.failures[gateway_id] = str(exc)
            continue
        if made:
            result.changes[gateway_id] = made
    return result
