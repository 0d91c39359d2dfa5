from django.apps import AppConfig


class MqttConfig(AppConfig):
    name = "mqtt"
    verbose_name = "MQTT"

    def ready(self):
        from gateways.signals import gateway_access_changed
        from mqtt.signals import gateway_access_changed_enqueue_sync

        gateway_access_changed.connect(
            gateway_access_changed_enqueue_sync, dispatch_uid="mqtt.gateway_access_sync"
        )
