"""The readings channel: meter readings from a gateway, on every transport (gateways.channels)."""

from datetime import datetime

from gateways.channels import Channel
from gateways.models import Gateway
from pm.readings_schema import ReadingIn, parse_body
from pm.services import meter_readings_ingest


def _ingest(*, gateway: Gateway, items: list[ReadingIn], now: datetime) -> dict:
    return meter_readings_ingest(gateway=gateway, readings=items, now=now)


READINGS = Channel(name="readings", parse_body=parse_body, ingest=_ingest)
