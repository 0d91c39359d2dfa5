"""The database moves `updated_at` on every UPDATE the application forgot to stamp.

`auto_now` only works for `save()` without `update_fields` (or with `updated_at` in them):
`QuerySet.update()`, `bulk_update()`, `save(update_fields=[...])` (Django's own
`update_last_login` among them) and raw SQL would change a row and leave its `updated_at`
behind, so a sync by `updated_at` would never see the change. Instead of trusting every
present and future write path (there are more than thirty in the services, tasks and fleet
checks), a row trigger stamps the row when the UPDATE left `updated_at` as it was.

Writes that set `updated_at` themselves (`save()` with `auto_now`) keep their value, so
application time (and time-machine in the tests) stays the source when there is one. The
database clock used otherwise is `clock_timestamp()` on PostgreSQL (the moment of the write,
not of the transaction's start) and `strftime('%f', 'now')` (UTC, milliseconds, padded to the
microseconds Django stores and compares as text). No statement is added to any write, and
INSERTs are not touched (the column's default stamps them), so the alerts' one-INSERT ingest
stays one INSERT.
"""

from django.db import connections

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION cmms_touch_updated_at() RETURNS trigger AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

PG_TRIGGER = """
CREATE OR REPLACE TRIGGER {name} BEFORE UPDATE ON {table}
FOR EACH ROW EXECUTE FUNCTION cmms_touch_updated_at()
"""

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS {name} AFTER UPDATE ON {table}
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE {table} SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'
    WHERE {pk} = NEW.{pk};
END
"""


def touched_models(models) -> list:
    """The models among `models` that have an `updated_at` column (append-only ones do not)."""
    return [m for m in models if any(f.column == "updated_at" for f in m._meta.concrete_fields)]


def trigger_name(model) -> str:
    return f"{model._meta.db_table}_touch_updated_at"


def install(*, using: str, models) -> None:
    """Create or replace the trigger on each table that has `updated_at`."""
    connection = connections[using]
    statements = []
    if connection.vendor == "postgresql":
        statements.append(PG_FUNCTION)
        template = PG_TRIGGER
    elif connection.vendor == "sqlite":
        template = SQLITE_TRIGGER
    else:
        return
    quote = connection.ops.quote_name
    existing = set(connection.introspection.table_names())
    for model in touched_models(models):
        if model._meta.db_table not in existing:
            continue
        statements.append(
            template.format(
                name=quote(trigger_name(model)),
                table=quote(model._meta.db_table),
                pk=quote(model._meta.pk.column),
            )
        )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
