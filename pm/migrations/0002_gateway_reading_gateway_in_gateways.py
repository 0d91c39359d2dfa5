# GatewayReading.gateway points at gateways.Gateway now that the model moved there; the table
# and its foreign key constraint are unchanged (alerts_gateway), so only the state changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('gateways', '0001_initial'),
        ('pm', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='gatewayreading',
                    name='gateway',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='gateways.gateway'),
                ),
            ],
            database_operations=[],
        ),
    ]
