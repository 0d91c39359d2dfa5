"""manage.py mqtt_sync_access: reconcile every gateway's broker client and role now."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mqtt import access
from mqtt.dynsec import DynsecError


class Command(BaseCommand):
    help = (
        "Make every gateway's Mosquitto client and role (dynamic security) match the database, "
        "remove those of gateways that are gone, and print what changed."
    )

    def handle(self, *args, **options):
        if not settings.MQTT_URL:
            self.stdout.write("MQTT_URL is not set: gateways have no broker access to manage.")
            return
        try:
            result = access.sync_all_gateways()
        except DynsecError as exc:
            raise CommandError(str(exc)) from None
        for gateway_id, made in result.changes.items():
            self.stdout.write(f"gateway {gateway_id}:")
            for change in made:
                self.stdout.write(f"  {change}")
        changed = len(result.changes)
        if changed or result.failures:
            self.stdout.write(f"{changed} gateway(s) changed.")
        else:
            self.stdout.write("Every gateway was in sync.")
        if result.failures:
            for gateway_id, reason in result.failures.items():
                self.stderr.write(f"gateway {gateway_id} not reconciled: {reason}")
            raise CommandError(f"{len(result.failures)} gateway(s) could not be reconciled.")
