from django.db import migrations

from cmms.indexes import AddIndexOnPostgreSQL, trigram_index


class Migration(migrations.Migration):
    """The journals' free text (status change reasons, timeline messages, labour notes)
    searched from trigram indexes (PostgreSQL; nothing on SQLite)."""

    atomic = False  # the indexes are built concurrently
    dependencies = [("workorders", "0011_fleet_health")]

    operations = [
        AddIndexOnPostgreSQL(
            model_name="statuschange",
            index=trigram_index("reason", name="status_change_reason_trgm"),
        ),
        AddIndexOnPostgreSQL(
            model_name="workorderevent",
            index=trigram_index("message", name="work_order_event_message_trgm"),
        ),
        AddIndexOnPostgreSQL(
            model_name="labourentry", index=trigram_index("note", name="labour_note_trgm")
        ),
    ]
