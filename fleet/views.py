"""The gateway heartbeat webhook, declared on the signed-ingestion boundary (gateways.webhooks).

(Interface stub; the heartbeat helper builds the schema and the ingest service.)
"""

from django.http import JsonResponse


def gateway_heartbeat(request, gateway_id: str):
    return JsonResponse({"errors": []}, status=501)
