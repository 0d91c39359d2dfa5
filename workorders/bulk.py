"""Creating many work orders at once (PM generation): what `work_order_create` writes for one,
in a handful of statements for a thousand.

The rows of the history, timeline and checklist come from `workorders.creation`, as for a
work order created alone; part reservations go through the same service, one work order at a
time, because they lock stock rows. On PostgreSQL each table gets one
INSERT ... SELECT FROM unnest(one array per column), which costs a fraction of bulk_create's
per-value Python for thousands of rows; elsewhere (the SQLite demo) bulk_create.
"""

import json
from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Model

from workorders import creation
from workorders.models import (
    ChecklistStep,
    JobPlanPart,
    JobPlanStep,
    StatusChange,
    WorkOrder,
    WorkOrderEvent,
)
from workorders.services import work_order_reserve_job_plan_parts


@transaction.atomic
def work_orders_create_bulk(
    *, rows: list[dict], events: list[str], now: datetime, by=None
) -> list[int]:
    """Create work orders given as {attname: value} (the same keys in every row), each with its
    first history row, its job plan's checklist, the creation event in `events` (one message
    per row) and its job plan's parts reserved; returns their ids in order.

    The rows are trusted: callers build them from validated plans (no `full_clean` per row).
    """
    ids = insert_rows(WorkOrder, rows, now=now)
    insert_rows(
        StatusChange,
        [
            creation.initial_status_change(work_order_id=pk, status=row["status"], by=by, at=now)
            for pk, row in zip(ids, rows, strict=True)
        ],
    )
    insert_rows(
        WorkOrderEvent,
        [
            creation.creation_event(work_order_id=pk, message=message, by=by, at=now)
            for pk, message in zip(ids, events, strict=True)
            if message
        ],
    )
    job_plans = [row.get("job_plan_id") for row in rows]
    steps = _job_plan_steps(set(filter(None, job_plans)))
    insert_rows(
        ChecklistStep,
        [
            step
            for pk, job_plan_id in zip(ids, job_plans, strict=True)
            for step in creation.checklist(work_order_id=pk, steps=steps.get(job_plan_id, ()))
        ],
    )
    _reserve_parts(ids, job_plans)
    return ids


def _job_plan_steps(job_plan_ids: set[int]) -> dict[int, list[dict]]:
    """The checklist of each job plan as step dicts (as `job_plan_steps` gives for one)."""
    steps = defaultdict(list)
    for job_plan_id, *step in (
        JobPlanStep.objects.filter(job_plan_id__in=job_plan_ids)
        .order_by("job_plan_id", "position")
        .values_list("job_plan_id", "text", "requires_value", "unit")
    ):
        steps[job_plan_id].append(creation.job_plan_step(*step))
    return steps


def _reserve_parts(ids: list[int], job_plans: list[int | None]) -> None:
    """Reserve the parts of the new work orders whose job plan has parts (with row locks on
    stock, as every other reservation)."""
    with_parts = set(
        JobPlanPart.objects.filter(job_plan_id__in=set(filter(None, job_plans))).values_list(
            "job_plan_id", flat=True
        )
    )
    needing = [pk for pk, job_plan in zip(ids, job_plans, strict=True) if job_plan in with_parts]
    if needing:
        for work_order in WorkOrder.objects.filter(pk__in=needing).order_by("pk"):
            work_order_reserve_job_plan_parts(work_order=work_order)


def insert_rows(model: type[Model], rows: list[dict], *, now: datetime | None = None) -> list[int]:
    """Insert rows given as {attname: value} (the same keys in every row); their ids in order.

    Every other column gets its model default; `created_at` and `updated_at`, when not given,
    get `now`. A column whose default is computed per row must be given in the rows.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        instances = [model(**row) for row in rows]
        for instance in instances:
            for name in ("created_at", "updated_at"):
                if now is not None and name not in rows[0] and hasattr(instance, name):
                    setattr(instance, name, now)
        model.objects.bulk_create(instances, batch_size=500)
        return [instance.pk for instance in instances]
    fields = [model._meta.get_field(name) for name in rows[0]]
    defaults = _defaults(model, given=rows[0], now=now)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in [*fields, *(f for f, _ in defaults)])
    aliases = [f"c{i}" for i in range(len(fields))]
    arrays, selected = [], []
    for f, alias in zip(fields, aliases, strict=True):
        column_type = f.db_type(connection)
        is_json = f.get_internal_type() == "JSONField"
        # text[] for varchar(n): a cast to varchar(n) would cut an overlong value, the INSERT
        # refuses. JSON travels as text and is cast per value.
        text = is_json or column_type.startswith("varchar")
        arrays.append(f"%s::{'text' if text else column_type}[]")
        selected.append(f"u.{alias}::jsonb" if is_json else f"u.{alias}")
    # Only quoted identifiers, column types and aliases are formatted in; values are parameters.
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {', '.join([*selected, *(['%s'] * len(defaults))])} "
        f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS u({', '.join(aliases)}, n) "
        f"ORDER BY u.n RETURNING {qn(model._meta.pk.column)}"
    )
    params = [f.get_db_prep_save(value, connection) for f, value in defaults]  # SELECT list
    params += [[_prepared(f, row[f.attname]) for row in rows] for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def _defaults(model: type[Model], *, given: dict, now: datetime | None) -> list[tuple]:
    """(field, value) of the columns not given: one value for every row."""
    defaults = []
    for f in model._meta.concrete_fields:
        if f.attname in given or f.primary_key or f.generated:
            continue
        if f.attname in ("created_at", "updated_at") and now is not None:
            defaults.append((f, now))
        elif (f.has_default() and callable(f.default)) or getattr(f, "auto_now_add", False):
            raise ValueError(f"{model.__name__}.{f.attname} needs a value per row; give it.")
        else:
            defaults.append((f, f.get_default()))
    return defaults


def _prepared(field, value):
    if field.get_internal_type() == "JSONField":
        return json.dumps(value, cls=field.encoder)
    return field.get_db_prep_save(value, connection)
