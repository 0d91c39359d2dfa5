from django.apps import AppConfig


class SparkplugConfig(AppConfig):
    name = "sparkplug"
    verbose_name = "Sparkplug B"
