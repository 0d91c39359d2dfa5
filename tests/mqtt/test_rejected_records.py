"""A gateway flooding the broker with messages that cannot be accepted costs a bounded number
of rows: ROWS_PER_MINUTE a minute, the rest counted on the newest one."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from mqtt.models import RejectedMessage
from mqtt.records import ROWS_PER_MINUTE, rejected_message_record
from tests.factories import GatewayFactory

pytestmark = pytest.mark.django_db


def reject(gateway, now, n=0):
    return rejected_message_record(
        topic=f"cmms/v1/gateways/{getattr(gateway, 'pk', 'x')}/alerts",
        payload=f"junk {n}".encode(),
        reason=f"Invalid JSON ({n}).",
        now=now,
        gateway=gateway,
    )


def test_a_flood_is_counted_on_the_newest_row_and_a_quiet_gateway_is_not_affected():
    flooding, quiet = GatewayFactory(), GatewayFactory()
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        for n in range(ROWS_PER_MINUTE + 250):
            reject(flooding, now + timedelta(milliseconds=n), n)
        reject(quiet, now)
        rows = RejectedMessage.objects.filter(gateway=flooding)
        assert rows.count() == ROWS_PER_MINUTE
        newest = rows.order_by("-received_at").first()
        assert newest.repeats == 250
        assert newest.last_repeat_at == now + timedelta(milliseconds=ROWS_PER_MINUTE + 249)
        assert RejectedMessage.objects.get(gateway=quiet).repeats == 0
        # A minute on, the gateway gets rows again.
        later = reject(flooding, now + timedelta(minutes=2), 999)
        assert later.repeats == 0 and later.excerpt == "junk 999"
        assert RejectedMessage.objects.filter(gateway=flooding).count() == ROWS_PER_MINUTE + 1


def test_messages_no_gateway_could_be_named_for_share_one_bound():
    now = timezone.now()
    for n in range(ROWS_PER_MINUTE + 5):
        reject(None, now, n)
    assert RejectedMessage.objects.filter(gateway=None).count() == ROWS_PER_MINUTE
    assert sum(RejectedMessage.objects.values_list("repeats", flat=True)) == 5
