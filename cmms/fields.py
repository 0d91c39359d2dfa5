"""Field declarations the models repeat, named once."""

from django.db import models


def optional_foreign_key(to, *, on_delete, related_name: str, **options) -> models.ForeignKey:
    """A foreign key that may be empty: NULL in the database, not required in forms.

    The same field as spelling out `null=True, blank=True` (its migrations do not change).
    """
    return models.ForeignKey(
        to, null=True, blank=True, on_delete=on_delete, related_name=related_name, **options
    )


# Money: decimal, never float, two places, in the currency of the customer it belongs to
# (`Customer.currency`). Twelve digits before the point cover any work order or month.
MONEY = {"max_digits": 14, "decimal_places": 2}
# Unit costs keep four places so a moving average over cheap parts (washers at 0.0125) does not
# drift when it is recomputed on every receipt.
UNIT_COST = {"max_digits": 14, "decimal_places": 4}


def money_field(**options) -> models.DecimalField:
    """An amount of money (see MONEY): decimal with two places."""
    return models.DecimalField(**MONEY, **options)
