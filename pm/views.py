"""The gateway readings webhook, declared on the signed-ingestion boundary (gateways.webhooks):
same checks, answers and durability as the alerts webhook."""

from datetime import datetime

from gateways.models import Gateway
from gateways.webhooks import signed_ingestion_view
from pm.readings_schema import ReadingIn, parse_body
from pm.services import meter_readings_ingest


def _ingest(*, gateway: Gateway, items: list[ReadingIn], now: datetime) -> dict:
    return meter_readings_ingest(gateway=gateway, readings=items, now=now)


# POST /hooks/v1/gateways/{gateway_id}/readings: signed meter readings from a gateway.
gateway_readings = signed_ingestion_view(parse_body=parse_body, ingest=_ingest, name="readings")
