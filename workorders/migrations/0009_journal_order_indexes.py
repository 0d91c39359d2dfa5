from django.db import migrations, models


class Migration(migrations.Migration):
    """The status history's and timeline's lists in their order, read from an index."""

    dependencies = [("workorders", "0008_dashboard_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(fields=["changed_at", "id"], name="status_change_order"),
        ),
        migrations.AddIndex(
            model_name="workorderevent",
            index=models.Index(fields=["created_at", "id"], name="work_order_event_order"),
        ),
    ]
