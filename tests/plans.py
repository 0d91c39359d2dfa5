"""The plan PostgreSQL picks for a queryset, to pin that a search can use its index."""

from django.db import connection


def indexed_plan(queryset) -> str:
    """EXPLAIN of `queryset`, unordered (so no index is chosen for its order), with sequential
    scans switched off for the test's transaction: the plan names the index that answers the
    filter whenever one can, whatever the table's size."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    try:
        return queryset.order_by().explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = on")


def indexed_plans_of(call) -> list[str]:
    """The plans (as `indexed_plan`) of the SELECTs that `call()` runs on the default
    database, e.g. a selector that returns a list, or an API request."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in selects:
            cursor.execute("EXPLAIN " + sql)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("SET LOCAL enable_seqscan = on")
    return plans
