from django.apps import AppConfig


class SyncConfig(AppConfig):
    """Incremental sync for integrators: tombstones of deleted rows and the database's
    guarantee that `updated_at` moves on every write (see docs/sync.md)."""

    name = "sync"
    verbose_name = "Sync"

    def ready(self):
        from sync import receivers

        receivers.connect(self)
