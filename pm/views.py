"""The gateway readings webhook, declared on the signed-ingestion boundary (gateways.webhooks):
same checks, answers and durability as the alerts webhook."""

from gateways.webhooks import signed_ingestion_view
from pm.channels import READINGS

# POST /hooks/v1/gateways/{gateway_id}/readings: signed meter readings from a gateway.
gateway_readings = signed_ingestion_view(READINGS)
