"""Client input that the databases cannot take, checked once for every caller.

SQLite and PostgreSQL store ids as signed 64-bit integers: a larger number in a lookup raises
OverflowError (SQLite) or reaches the database as a numeric; `str.isdigit()` also accepts
digits such as "²" that `int()` refuses. PostgreSQL text cannot hold a NUL character.
"""

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
