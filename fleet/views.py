"""The gateway heartbeat webhook, declared on the signed-ingestion boundary (gateways.webhooks):
signed, refused and retried exactly like the alerts webhook."""

from datetime import datetime

from fleet.heartbeat import heartbeat_ingest
from fleet.schema import Heartbeat, parse_body
from gateways.models import Gateway
from gateways.webhooks import signed_ingestion_view


def _ingest(*, gateway: Gateway, items: Heartbeat, now: datetime) -> dict:
    # The boundary's `items` is the whole body here: one heartbeat.
    return heartbeat_ingest(gateway=gateway, heartbeat=items, now=now)


# POST /hooks/v1/gateways/{gateway_id}/heartbeat: a signed sign of life with health figures.
gateway_heartbeat = signed_ingestion_view(parse_body=parse_body, ingest=_ingest, name="heartbeat")
