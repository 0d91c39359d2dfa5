"""Making a caller's model instance show the row a service wrote; applying a planner's edits
to the rows under a parent."""

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class RowEdits:
    """What a planner did to the rows under a parent in one save (an admin inline): the values
    of each row added, the changed values of each row changed (by primary key), the primary
    keys of the rows deleted."""

    added: list[dict] = field(default_factory=list)
    changed: dict[int, dict] = field(default_factory=dict)
    deleted: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.deleted)


def row_edits_apply(rows, edits: RowEdits, *, new, label) -> dict:
    """Apply `edits` to `rows` (the parent's queryset: a key of another parent's row is not
    found) and say what changed, for the audit trail: `{"added": [label], "changed": {label:
    {field: [old, new]}}, "deleted": [label]}`, only the keys that have entries.

    Deleted first, then changed, then added, each validated (`full_clean`) before it is
    saved; `new(values)` makes an unsaved row of the parent; `label(row)` names a row.
    """
    summary: dict = {}
    for row in rows.filter(pk__in=edits.deleted):
        summary.setdefault("deleted", []).append(label(row))
        row.delete()
    for row in rows.filter(pk__in=list(edits.changed)):
        values = edits.changed[row.pk]
        before = {name: getattr(row, name) for name in values}
        for name, value in values.items():
            setattr(row, name, value)
        row.full_clean()
        row.save()
        diff = {
            name: [before[name], value] for name, value in values.items() if before[name] != value
        }
        if diff:
            summary.setdefault("changed", {})[label(row)] = diff
    for values in edits.added:
        row = new(values)
        row.full_clean()
        row.save()
        summary.setdefault("added", []).append(label(row))
    return summary
