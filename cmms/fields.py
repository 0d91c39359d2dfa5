"""Field declarations the models repeat, named once."""

from django.db import models


def optional_foreign_key(to, *, on_delete, related_name: str, **options) -> models.ForeignKey:
    """A foreign key that may be empty: NULL in the database, not required in forms.

    The same field as spelling out `null=True, blank=True` (its migrations do not change).
    """
    return models.ForeignKey(
        to, null=True, blank=True, on_delete=on_delete, related_name=related_name, **options
    )
