"""Move the plaintext DRF tokens (rest_framework.authtoken) into hashed API tokens, then drop
their table.

Every integrator keeps their key: it is hashed the way django-rest-knox checks it (SHA-512 of
the key, looked up by its first 15 characters), named "migrated key" and left without an
expiry, so nothing breaks on the day of the upgrade. Issue per-device tokens with an expiry and
revoke the migrated ones when convenient (README, "API tokens"). On a database that never had
the old table (a fresh install) this does nothing.

The reverse cannot bring the plaintext keys back; it leaves the hashed tokens in place.
"""

from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder
from knox.crypto import hash_token
from knox.settings import CONSTANTS

OLD_TABLE = "authtoken_token"


def hash_plaintext_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        columns = ", ".join(quote(name) for name in ("key", "user_id", "created"))
        cursor.execute(f"SELECT {columns} FROM {quote(OLD_TABLE)}")  # noqa: S608 - fixed names
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        token = ApiToken(
            digest=hash_token(key),
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=user_id,
            name="migrated key",
            expiry=None,
        )
        token.save()
        ApiToken.objects.filter(pk=token.pk).update(created=created)  # auto_now_add set it
    schema_editor.execute(f"DROP TABLE {quote(OLD_TABLE)}")
    # The app is gone: forget its migrations (re-adding it would create the table again) and
    # its content type (with its permissions).
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_tokens"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Irreversible: the plaintext keys are gone once hashed, and the old table with them.
    # Rolling back past here would leave every integrator without a working key, so Django
    # refuses to instead of pretending.
    operations = [
        migrations.RunPython(hash_plaintext_tokens),
    ]
