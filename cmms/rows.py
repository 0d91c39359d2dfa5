"""Making a caller's model instance show the row a service wrote."""

from django.db.models import Model


def adopt_row(instance: Model, saved: Model) -> None:
    """Give `instance` the values of `saved` (the same row, as a service left it).

    Values go through setattr, so a foreign key whose id changed drops the related object the
    caller had cached (copying `__dict__` kept a stale `.assignee` next to the new
    `assignee_id`); related objects the service itself loaded or set are taken over.
    """
    for name, value in saved.__dict__.items():
        if name != "_state":
            setattr(instance, name, value)
    instance._state.fields_cache.update(saved._state.fields_cache)
    instance._state.adding = saved._state.adding
    instance._state.db = saved._state.db


class _Unchanged:
    """The default of a service's keyword argument the caller did not give."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


def given(**values) -> dict:
    """The keyword arguments a caller gave: those that are not UNCHANGED.

    Services spell out every field they write as a keyword argument defaulting to UNCHANGED,
    then work on `given(...)` of them: an update changes only what was given, a creation
    leaves the model's default for what was not.
    """
    return {name: value for name, value in values.items() if value is not UNCHANGED}


def given_fields(arguments: dict, model: type[Model]) -> dict:
    """The given keyword arguments (not UNCHANGED) that name fields of `model`, in order.

    A service passes its `locals()` as its first statement, so its signature stays the one
    list of what it writes (instead of a second list of `name=name` lines); the row it works
    on and `by` are not fields of the model and stay out.
    """
    names = {field.name for field in model._meta.concrete_fields}
    return {
        name: value for name, value in arguments.items() if name in names and value is not UNCHANGED
    }
