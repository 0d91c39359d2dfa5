"""The gateway heartbeat webhook, declared on the signed-ingestion boundary (gateways.webhooks):
signed, refused and retried exactly like the alerts webhook."""

from fleet.channels import HEARTBEAT
from gateways.webhooks import signed_ingestion_view

# POST /hooks/v1/gateways/{gateway_id}/heartbeat: a signed sign of life with health figures.
gateway_heartbeat = signed_ingestion_view(HEARTBEAT)
