from django.db import migrations, models


class Migration(migrations.Migration):
    """Every site's alerts newest first (the admin list of a superuser) from an index."""

    dependencies = [("alerts", "0003_gateway_moved_to_gateways")]

    operations = [
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["-received_at", "-id"], name="alert_recent"),
        ),
    ]
