"""Client input that the databases cannot take, checked once for every caller.

SQLite and PostgreSQL store ids as signed 64-bit integers: a larger number in a lookup raises
OverflowError (SQLite) or reaches the database as a numeric; `str.isdigit()` also accepts
digits such as "²" that `int()` refuses. PostgreSQL text cannot hold a NUL character.
"""

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

MAX_ID = 2**63 - 1
MAX_ID_DIGITS = len(str(MAX_ID))


def parse_id(value) -> int | None:
    """The id written in `value` (ASCII digits, at most MAX_ID), or None for anything else."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def first_with_nul(data) -> str | None:
    """The name of the first parameter of a QueryDict whose name or a value holds NUL."""
    for name, values in data.lists():
        if "\x00" in name or any("\x00" in value for value in values if isinstance(value, str)):
            return name
    return None


# Dates a page's form takes: a day's midnight and the week around it stay within what
# datetime holds in every time zone (0001-01-01 and 9999-12-31 raised OverflowError).
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def day_in_range(day: date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


class DayField(forms.DateField):
    """A date between EARLIEST_DAY and LATEST_DAY; others are a form error naming the range."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators += [
            MinValueValidator(EARLIEST_DAY, f"Give a date from {EARLIEST_DAY:%Y-%m-%d}."),
            MaxValueValidator(LATEST_DAY, f"Give a date up to {LATEST_DAY:%Y-%m-%d}."),
        ]
