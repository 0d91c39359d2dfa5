"""`manage.py mqtt_consume`: the MQTT consumer, a long-running process beside the web server,
the Celery worker and beat (docs/mqtt.md)."""

import signal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from mqtt.consumer import Broker, Consumer


class Command(BaseCommand):
    help = (
        "Store what gateways publish on MQTT (plain JSON and Sparkplug B) until SIGTERM. "
        "Exits non-zero when the database is unavailable: run it under a supervisor."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--keepalive", type=int, default=30, help="MQTT keepalive in seconds (default 30)."
        )

    def handle(self, *args, keepalive: int, **options):
        if not settings.MQTT_URL:
            raise CommandError(
                "MQTT_URL is empty: set it to mqtt[s]://user:password@host:port to consume."
            )
        try:
            broker = Broker.from_url(settings.MQTT_URL)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        consumer = Consumer(
            broker=broker,
            client_id=settings.MQTT_CLIENT_ID,
            keepalive=keepalive,
        )
        signal.signal(signal.SIGTERM, consumer.stop)
        signal.signal(signal.SIGINT, consumer.stop)
        exit_code = consumer.run()
        if exit_code:
            raise CommandError("The MQTT consumer stopped; see the log.", returncode=exit_code)
