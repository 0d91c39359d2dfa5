# Gateway and GatewaySecret move from `alerts` to `gateways` without touching the database:
# their tables (alerts_gateway, alerts_gatewaysecret) were created by alerts.0001_initial and
# keep their names (db_table), so this migration changes the migration state only.

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('assets', '0002_initial'),
        ('alerts', '0002_attributes_loaded_depth_safe'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Gateway',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('name', models.CharField(max_length=200)),
                        ('is_active', models.BooleanField(default=True, help_text="A disabled gateway's requests are refused (401).")),
                        ('rate_limit_per_minute', models.PositiveIntegerField(blank=True, help_text='Webhook requests per minute; empty: the GATEWAY_RATE_LIMIT_PER_MINUTE setting.', null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('last_seen_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='gateways', to='assets.site')),
                    ],
                    options={
                        'db_table': 'alerts_gateway',
                        'ordering': ['site', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='GatewaySecret',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('encrypted', models.TextField(editable=False)),
                        ('fingerprint', models.CharField(editable=False, help_text='Identifies the secret without revealing it.', max_length=16)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('retired_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('gateway', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='secrets', to='gateways.gateway')),
                    ],
                    options={
                        'db_table': 'alerts_gatewaysecret',
                        'ordering': ['gateway', '-created_at', '-id'],
                        'indexes': [models.Index(condition=models.Q(('retired_at', None)), fields=['gateway'], name='gateway_secret_live')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
