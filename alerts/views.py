"""The gateway alerts webhook, declared on the signed-ingestion boundary (gateways.webhooks)."""

from alerts.channels import ALERTS
from gateways.webhooks import signed_ingestion_view

# POST /hooks/v1/gateways/{gateway_id}/alerts: signed condition alerts from a gateway.
gateway_alerts = signed_ingestion_view(ALERTS)
