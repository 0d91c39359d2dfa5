"""What a search box finds among work orders, from indexes.

- A number (`WO-0500`, `wo0500`, `500`) is looked up by the start of `number`, on its unique
  index (Django adds a `varchar_pattern_ops` twin on PostgreSQL): `WO-0500` finds WO-050000 to
  WO-050099, `500` is WO-000500.
- Other text: every word is in the title or description (trigram indexes on PostgreSQL,
  `cmms/indexes.py`) or names the asset (`assets.search`). The matching assets are looked up
  first and handed over as ids, so each side is an index probe; a word that matches a great
  many assets is left to the database as a subquery.
"""

import re

from django.db.models import Q, QuerySet

from assets.search import assets_matching, words
from workorders.models import WorkOrder

NUMBER = re.compile(r"^(?P<prefix>WO-?)?(?P<digits>\d{1,19})$", re.IGNORECASE | re.ASCII)
ASSET_IDS_LISTED = 500


def number_prefix(text: str) -> str | None:
    """The start of the numbers `text` means, or None when it is no work order number."""
    match = NUMBER.match(text.strip())
    if match is None:
        return None
    if match["prefix"]:
        return f"WO-{match['digits']}"
    return WorkOrder.number_typed(match["digits"])


def work_orders_matching(work_orders: QuerySet, text: str, *, assets: QuerySet) -> QuerySet:
    """The work orders of `work_orders` that `text` names (see the module); `assets` are those
    whose tags and names may be searched (the user's)."""
    prefix = number_prefix(text)
    if prefix is not None:
        return work_orders.filter(number__startswith=prefix)
    for word in words(text):
        named = assets_matching(assets, word)
        ids = list(named.values_list("pk", flat=True)[: ASSET_IDS_LISTED + 1])
        on_asset = Q(asset__in=named) if len(ids) > ASSET_IDS_LISTED else Q(asset_id__in=ids)
        work_orders = work_orders.filter(
            Q(title__icontains=word) | Q(description__icontains=word) | on_asset
        )
    return work_orders


def work_orders_by_number_or_tag(work_orders: QuerySet, text: str, *, assets: QuerySet):
    """The technician's search: work by its number (`number_prefix`, else the start of the
    number as typed) or on the asset whose tag is `text`."""
    text = text.strip()
    prefix = number_prefix(text) or text.upper()
    tagged = assets.filter(tag__iexact=text)
    ids = list(tagged.values_list("pk", flat=True)[: ASSET_IDS_LISTED + 1])
    on_asset = Q(asset__in=tagged) if len(ids) > ASSET_IDS_LISTED else Q(asset_id__in=ids)
    return work_orders.filter(Q(number__startswith=prefix) | on_asset)
