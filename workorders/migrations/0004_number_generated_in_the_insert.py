"""The work order number becomes a stored generated column ("WO-" + id padded to 6 digits).

Every number so far was written by the same rule after the INSERT, so dropping the column and
adding it as generated yields the same values; the database now computes it in the INSERT. The
migration checks that first and stops rather than renumber anything; reversed, it writes the
numbers back into the plain column.
"""

import django.db.models.functions.comparison
import django.db.models.functions.text
from django.db import migrations, models


def _rule(pk: int) -> str:
    return f"WO-{pk:06d}"


def check_numbers_follow_the_rule(apps, schema_editor):
    WorkOrder = apps.get_model("workorders", "WorkOrder")
    for pk, number in WorkOrder.objects.values_list("pk", "number").iterator(chunk_size=10_000):
        if number != _rule(pk):
            raise RuntimeError(
                f"Work order {pk} is numbered {number!r}, not {_rule(pk)!r}: renumbering it "
                "would break references to it. Fix the number before migrating."
            )


def write_numbers_back(apps, schema_editor):
    WorkOrder = apps.get_model("workorders", "WorkOrder")
    for pk in WorkOrder.objects.values_list("pk", flat=True).iterator(chunk_size=10_000):
        WorkOrder.objects.filter(pk=pk).update(number=_rule(pk))


class Migration(migrations.Migration):
    dependencies = [
        ("workorders", "0003_pm_plan_and_planned_due_at"),
    ]

    operations = [
        # Reversed, this runs last: the plain column is back and gets its numbers again.
        migrations.RunPython(check_numbers_follow_the_rule, write_numbers_back),
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
