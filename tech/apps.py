from django.apps import AppConfig


class TechConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tech"
    verbose_name = "Technician web app"
