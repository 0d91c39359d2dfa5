"""The work order number becomes a stored generated column ("WO-" + id padded to 6 digits).

Every number so far was written by the same rule after the INSERT, so dropping the column and
adding it as generated yields the same values; the database now computes it in the INSERT.
"""

import django.db.models.functions.comparison
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workorders", "0003_pm_plan_and_planned_due_at"),
    ]

    operations = [
        migrations.RemoveField(model_name="workorder", name="number"),
        migrations.AddField(
            model_name="workorder",
            name="number",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(
                        id__lt=1000000,
                        then=django.db.models.functions.text.Concat(
                            models.Value("WO-"),
                            django.db.models.functions.text.LPad(
                                django.db.models.functions.comparison.Cast(
                                    "id", models.CharField()
                                ),
                                6,
                                models.Value("0"),
                            ),
                        ),
                    ),
                    default=django.db.models.functions.text.Concat(
                        models.Value("WO-"),
                        django.db.models.functions.comparison.Cast("id", models.CharField()),
                    ),
                ),
                output_field=models.CharField(max_length=20),
                unique=True,
            ),
        ),
    ]
