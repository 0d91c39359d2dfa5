from django.apps import AppConfig
from django.db.models.signals import post_delete


class TechConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tech"
    verbose_name = "Technician web app"

    def ready(self):
        # The one signal we use: a photo row also goes when its work order or site is deleted,
        # and only post_delete sees those cascades. It deletes the file after commit.
        post_delete.connect(
            _discard_photo_file, sender="tech.WorkOrderPhoto", dispatch_uid="tech-photo-file"
        )


def _discard_photo_file(sender, instance, using, **kwargs):
    from tech.services import photo_file_discard

    photo_file_discard(photo=instance, using=using)
