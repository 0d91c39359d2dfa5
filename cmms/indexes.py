"""Search indexes only PostgreSQL builds, declared on the models and created by migrations that
are a no-op on SQLite (the embedded demo, small enough to search by reading every row).

Django's case-insensitive lookups (`icontains`, `istartswith`, `iexact`) compare
`UPPER(column::text)` with `LIKE`/`=`; a GIN trigram index (`pg_trgm`) on that very expression
answers them from the index, wherever the text is in the column. Prefix searches on a
case-sensitive column (`startswith` on a work order number) use the `varchar_pattern_ops`
index Django adds to every indexed or unique `CharField` on PostgreSQL.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.models.functions import Upper


def trigram_index(field: str, *, name: str) -> GinIndex:
    """A GIN trigram index on `UPPER(field)`, what `field__icontains=...` searches."""
    return GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name)


class AddIndexOnPostgreSQL(AddIndexConcurrently):
    """An index only PostgreSQL can build (operator classes, GIN): the model state has it
    everywhere, so `makemigrations` stays quiet; the database gets it on PostgreSQL only,
    built concurrently (a million rows take a while; writes go on meanwhile), so the
    migration is `atomic = False`."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
