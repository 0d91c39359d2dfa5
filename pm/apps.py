from django.apps import AppConfig


class PmConfig(AppConfig):
    name = "pm"
    verbose_name = "Preventive maintenance"
