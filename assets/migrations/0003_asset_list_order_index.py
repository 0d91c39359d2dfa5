from django.db import migrations, models


class Migration(migrations.Migration):
    """The asset list's order (site, then tree order) read from an index, not sorted."""

    dependencies = [("assets", "0002_initial")]

    operations = [
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["site", "path"], name="asset_site_path"),
        ),
    ]
