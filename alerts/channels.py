"""The alerts channel: condition alerts from a gateway, on every transport (gateways.channels)."""

from datetime import datetime

from alerts import services
from alerts.schema import AlertIn, parse_body
from gateways.channels import Channel
from gateways.models import Gateway


def _ingest(*, gateway: Gateway, items: list[AlertIn], now: datetime) -> dict:
    return services.alerts_ingest(gateway=gateway, alerts=items, now=now).as_json()


ALERTS = Channel(
    name="alerts", parse_body=parse_body, ingest=_ingest, retry_later=(services.IngestRaced,)
)
