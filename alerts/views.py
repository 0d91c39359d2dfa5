"""The gateway alerts webhook, declared on the signed-ingestion boundary (gateways.webhooks)."""

from datetime import datetime

from alerts import services
from alerts.schema import AlertIn, parse_body
from gateways.models import Gateway
from gateways.webhooks import signed_ingestion_view


def _ingest(*, gateway: Gateway, items: list[AlertIn], now: datetime) -> dict:
    return services.alerts_ingest(gateway=gateway, alerts=items, now=now).as_json()


# POST /hooks/v1/gateways/{gateway_id}/alerts: signed condition alerts from a gateway.
gateway_alerts = signed_ingestion_view(
    parse_body=parse_body,
    ingest=_ingest,
    retry_later=(services.IngestRaced,),
    name="alerts",
)
