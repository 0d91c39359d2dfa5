"""Recording what the consumer rejected, and forgetting it after a while.

A rejected message is recorded in its own transaction (the message's own was rolled back) and
the row count stays bounded without a beat entry: a gateway gets at most `ROWS_PER_MINUTE` rows
a minute (the rest are counted on its newest one, so a flood costs no storage), and every
`PRUNE_EVERY`th row deletes what is older than `KEEP_DAYS`, a bounded batch at a time.
`rejected_messages_prune` may also be run on a schedule.
"""

import re
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from mqtt.models import EXCERPT_BYTES, MAX_TOPIC, RejectedMessage

KEEP_DAYS = 30
# At most this many rows per gateway (or for messages no gateway could be named for) in any
# minute; further rejections in that minute are counted on the newest row (`repeats`).
ROWS_PER_MINUTE = 10
PRUNE_EVERY = 500
PRUNE_BATCH = 5000
# Control characters (and NUL, which PostgreSQL text cannot hold) are shown as U+FFFD.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def excerpt_of(payload: bytes) -> str:
    """The payload's first EXCERPT_BYTES bytes as printable text: safe to store and show."""
    text = payload[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    return _CONTROL.sub("\ufffd", text)


def rejected_message_record(
    *,
    topic: str,
    payload: bytes,
    reason: str,
    now: datetime,
    gateway=None,
    qos: int = 0,
    retain: bool = False,
) -> RejectedMessage:
    """Record a rejected message of `gateway` (None: no gateway could be named), or count it
    on the newest row when the gateway has had ROWS_PER_MINUTE rows in the last minute."""
    with transaction.atomic():
        recent = list(
            RejectedMessage.objects.filter(
                gateway=gateway, received_at__gt=now - timedelta(minutes=1)
            )
            .order_by("-received_at", "-id")
            .values_list("pk", flat=True)[:ROWS_PER_MINUTE]
        )
        if len(recent) >= ROWS_PER_MINUTE:
            RejectedMessage.objects.filter(pk=recent[0]).update(
                repeats=F("repeats") + 1, last_repeat_at=now
            )
            return RejectedMessage.objects.get(pk=recent[0])
        record = RejectedMessage.objects.create(
            received_at=now,
            gateway=gateway,
            site_id=gateway.site_id if gateway is not None else None,
            topic=_bounded(topic, MAX_TOPIC),
            reason=reason,
            excerpt=excerpt_of(payload),
            size=len(payload),
            qos=qos,
            retain=retain,
        )
    if record.pk % PRUNE_EVERY == 0:
        rejected_messages_prune(now=now)
    return record


def rejected_messages_prune(*, now: datetime, keep_days: int = KEEP_DAYS) -> int:
    """Delete rejected messages older than `keep_days`, at most PRUNE_BATCH rows; how many."""
    old = RejectedMessage.objects.filter(received_at__lt=now - timedelta(days=keep_days))
    ids = list(old.order_by("received_at").values_list("pk", flat=True)[:PRUNE_BATCH])
    deleted, _ = RejectedMessage.objects.filter(pk__in=ids).delete()
    return deleted


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
