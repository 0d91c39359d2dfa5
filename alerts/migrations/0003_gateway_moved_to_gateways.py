# Gateway and GatewaySecret now belong to the `gateways` app (same tables, see
# gateways.0001_initial): Alert.gateway points there and alerts' state forgets both models.
# Nothing in the database changes.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0002_attributes_loaded_depth_safe'),
        ('gateways', '0001_initial'),
        # GatewayReading must stop pointing at alerts.Gateway before it leaves alerts' state.
        ('pm', '0002_gateway_reading_gateway_in_gateways'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='alert',
                    name='gateway',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='gateways.gateway'),
                ),
                migrations.DeleteModel(name='GatewaySecret'),
                migrations.DeleteModel(name='Gateway'),
            ],
            database_operations=[],
        ),
    ]
