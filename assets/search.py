"""What a search box finds among assets and parts, from indexes.

Every word must match: an asset by the start of its tag (`P-1` finds P-1, P-10, P-101) or
anywhere in its name; a part by its SKU or name. On PostgreSQL the case-insensitive lookups
are answered by the trigram indexes on `UPPER(column)` (`cmms/indexes.py`); SQLite reads the
rows, which is fine at the demo's size.
"""

from django.db.models import Q, QuerySet

MAX_WORDS = 5  # more words narrow nothing a person wants, and each is one more index probe


def words(text: str) -> list[str]:
    return text.split()[:MAX_WORDS]


DETAILS = ("manufacturer", "model", "serial_number")


def assets_matching(assets: QuerySet, text: str, *, details: bool = False) -> QuerySet:
    """The assets of `assets` whose tag starts with, or whose name contains, every word; with
    `details`, a word may also be in the manufacturer, model or serial number (the asset
    list's search box, where a nameplate is what a planner has in hand)."""
    for word in words(text):
        match = Q(tag__istartswith=word) | Q(name__icontains=word)
        if details:
            for field in DETAILS:
                match |= Q(**{f"{field}__icontains": word})
        assets = assets.filter(match)
    return assets


def parts_matching(parts: QuerySet, text: str, *, prefix: str = "") -> QuerySet:
    """The parts of `parts` (or rows reaching parts through `prefix`, e.g. "part__") whose SKU
    or name contains every word."""
    for word in words(text):
        parts = parts.filter(
            Q(**{f"{prefix}sku__icontains": word}) | Q(**{f"{prefix}name__icontains": word})
        )
    return parts
