# The content types of Gateway and GatewaySecret follow the models from `alerts` to `gateways`,
# so the permissions, admin log entries and anything else keyed on them stay attached; the
# audit trail's "app_label.model" of gateway entries follows them too, so a gateway's history
# is found under one name.

from django.db import migrations

MODELS = ("gateway", "gatewaysecret")


def relabel(apps, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    for model in MODELS:
        moving = ContentType.objects.filter(app_label=old, model=model).first()
        if moving is not None:
            # An empty twin exists only if `migrate` stopped between the state move and this
            # migration (post_migrate then created it, with nothing attached but default
            # permissions): the original, with everything attached to it, wins.
            ContentType.objects.filter(app_label=new, model=model).delete()
            moving.app_label = new
            moving.save(update_fields=["app_label"])
        AuditEntry.objects.filter(object_type=f"{old}.{model}").update(
            object_type=f"{new}.{model}"
        )


def forward(apps, schema_editor):
    relabel(apps, old="alerts", new="gateways")


def backward(apps, schema_editor):
    relabel(apps, old="gateways", new="alerts")


class Migration(migrations.Migration):

    dependencies = [
        ('gateways', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('audit', '0007_api_token_actions'),
        # Deleting an empty twin cascades to its permissions and admin log entries.
        ('auth', '0012_alter_user_first_name_max_length'),
        ('admin', '0003_logentry_add_action_flag_choices'),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
