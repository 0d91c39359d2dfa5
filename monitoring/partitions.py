"""Monthly partitions of `monitoring_measurement` (PostgreSQL only; SQLite keeps one table).

A partition holds [first of a month, first of the next month) in UTC and is named
`monitoring_measurement_pYYYYMM`. The default partition catches rows no monthly partition
covers (a clock far off, or beat not having run), so a write never fails for want of one.
"""

from datetime import UTC, date, datetime

TABLE = "monitoring_measurement"


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (a first of a month)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def _bound(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def partitions_ensure(connection, *, today: date, months_ahead: int) -> list[str]:
    """Create the partitions of `today`'s month and the `months_ahead` next ones that are
    missing; returns the names created. Idempotent. A no-op on other databases than PostgreSQL.

    Rows already in the default partition for a month being created would make the CREATE
    fail; they are moved into the new partition in the same transaction.
    """
    if connection.vendor != "postgresql":
        return []
    created = []
    first = month_start(today)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        existing = {name for (name,) in cursor.fetchall()}
        for offset in range(months_ahead + 1):
            month = add_months(first, offset)
            name = partition_name(month)
            if name in existing:
                continue
            low, high = _bound(month), _bound(add_months(month, 1))
            # Identifiers and bounds come from dates, never from input.
            cursor.execute(
                f"CREATE TEMP TABLE _moved ON COMMIT DROP AS "  # noqa: S608
                f"WITH gone AS (DELETE FROM {TABLE}_default WHERE at >= %s AND at < %s "
                f"RETURNING *) SELECT * FROM gone",
                [low, high],
            )
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM ('{low}') TO ('{high}')"
            )
            cursor.execute(f"INSERT INTO {name} SELECT * FROM _moved")  # noqa: S608
            cursor.execute("DROP TABLE _moved")
            created.append(name)
    return created


def partitions_expired(connection, *, before: datetime) -> list[str]:
    """Names of the monthly partitions whose every row is older than `before`."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall() if name != f"{TABLE}_default"]
    expired = []
    for name in names:
        month = date(int(name[-6:-2]), int(name[-2:]), 1)
        end = add_months(month, 1)
        if datetime(end.year, end.month, 1, tzinfo=UTC) <= before:
            expired.append(name)
    return sorted(expired)
