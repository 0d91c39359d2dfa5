"""The SQLite backend of the embedded demo: Django's, minus the indexes only PostgreSQL builds.

Search indexes with PostgreSQL operator classes (`cmms.indexes.trigram_index`) are in the
models' state on every database, and migrations create them on PostgreSQL only. SQLite alters
a table by building a new one from that state (adding a NOT NULL column, for one), which would
try to create them; this schema editor leaves them out, as the migrations do.
"""

from django.contrib.postgres.indexes import PostgresIndex
from django.db.backends.sqlite3 import base, schema


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _model_indexes_sql(self, model):
        output = []
        postgres_only = [i for i in model._meta.indexes if isinstance(i, PostgresIndex)]
        if not postgres_only:
            return super()._model_indexes_sql(model)
        indexes = model._meta.indexes
        try:
            model._meta.indexes = [i for i in indexes if not isinstance(i, PostgresIndex)]
            output = super()._model_indexes_sql(model)
        finally:
            model._meta.indexes = indexes
        return output


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
