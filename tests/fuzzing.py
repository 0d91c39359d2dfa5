"""Hypothesis building blocks shared by the webhook fuzz tests: JSON of any shape, and a valid
item with some fields changed to odd values or dropped."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Whatever a client sends, a webhook answers one of these, never a 500.
ALLOWED = {202, 400, 401, 413, 415, 429}

# Values that broke (or could break) ingest somewhere: NUL, a lone surrogate, long text, numbers
# no column holds.
ODD_VALUES = ["\x00", "\ud800", "x" * 3000, 1e308, -(10**300)]


def fuzz_settings(max_examples: int):
    """Bounded examples, no deadline: the webhook's speed is measured in bench/, not here."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def json_values(*, max_int: int, max_size: int, max_leaves: int):
    """Any JSON document: scalars, lists and objects nested a few levels."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-max_int, max_value=max_int)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=40)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=max_size)
            | st.dictionaries(st.text(max_size=10), children, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )


def mutated(base, *, fields: list[str], values, droppable: list[str], max_changes: int):
    """`base` (a strategy of dicts) with up to `max_changes` of `fields` set to `values` and up
    to two of `droppable` removed."""
    return st.builds(
        lambda item, changes, drops: {
            **{k: v for k, v in item.items() if k not in drops},
            **changes,
        },
        base,
        st.dictionaries(st.sampled_from(fields), values, max_size=max_changes),
        st.sets(st.sampled_from(droppable), max_size=2),
    )
