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

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Model

from assets.models import Site
from contracts import sla
from contracts.models import Contract
from integrations.choices import EventType
from workorders import creation, outbound, signatures
from workorders.choices import Priority, WorkOrderType
from workorders.models import (
    ChecklistStep,
    JobPlan,
    JobPlanPart,
    JobPlanStep,
    StatusChange,
    WorkOrder,
    WorkOrderEvent,
)
from workorders.services import work_order_reserve_job_plan_parts


@transaction.atomic(savepoint=False)  # all or nothing; inside the caller's transaction, no more
def work_orders_create_bulk(
    *, rows: list[dict], events: list[str], now: datetime, by=None
) -> list[int]:
    """Create work orders given as {attname: value} (the same keys in every row), each with its
    first history row, its job plan's checklist, the creation event in `events` (one message
    per row) and its job plan's parts reserved; returns their ids in order.

    The rows are trusted: callers build them from validated plans (no `full_clean` per row).
    `by` requested them, as in `work_order_create`.
    """
    if by is not None:
        rows = [{"requested_by_id": by.pk, **row} for row in rows]
    rows = _with_signature_rules(_with_sla_clocks(rows, now=now))
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
    outbound.work_orders_announce(
        ids, type=EventType.WORK_ORDER_CREATED, site_ids={row.get("site_id") for row in rows}
    )
    return ids


def _with_sla_clocks(rows: list[dict], *, now: datetime) -> list[dict]:
    """The rows with the SLA fields `work_order_create` gives one work order: the contract
    covering it and its clock. One query when no active contract covers the rows' sites;
    otherwise one more, and a look-up per distinct (site, priority, type), per asset too only
    at sites where a contract lists its assets (a PM run over a plant's assets stays a few)."""
    site_ids = {row["site_id"] for row in rows}
    covered = (
        set(
            Contract.objects.filter(is_active=True, sites__in=site_ids).values_list(
                "sites", flat=True
            )
        )
        & site_ids
    )
    sites = Site.objects.in_bulk(covered) if covered else {}
    listing_assets = (
        set(
            Contract.assets.through.objects.filter(
                contract__is_active=True, contract__sites__in=covered
            ).values_list("contract__sites", flat=True)
        )
        if covered
        else set()
    )
    looked_up: dict[tuple, dict] = {}
    out = []
    for row in rows:
        key = (
            row["site_id"],
            row.get("asset_id") if row["site_id"] in listing_assets else None,
            row.get("priority", Priority.MEDIUM),
            row.get("type", WorkOrderType.CORRECTIVE),
        )
        if key not in looked_up:
            site = sites.get(row["site_id"])
            looked_up[key] = (
                sla.sla_fields_for_new(
                    site=site, asset_id=key[1], priority=key[2], work_type=key[3], at=now
                )
                if site is not None
                else sla.NO_CLOCK
            )
        out.append({**row, **looked_up[key]})
    return out


def _with_signature_rules(rows: list[dict]) -> list[dict]:
    """The rows with the sign-off rules `work_order_create` copies from the job plan and the
    contract (two queries, whatever the number of rows)."""
    plans = JobPlan.objects.in_bulk({row["job_plan_id"] for row in rows if row.get("job_plan_id")})
    contracts = Contract.objects.in_bulk(
        {row["contract_id"] for row in rows if row.get("contract_id")}
    )
    return [
        {
            **row,
            **signatures.signature_rules(
                job_plan=plans.get(row.get("job_plan_id")),
                contract=contracts.get(row.get("contract_id")),
            ),
        }
        for row in rows
    ]


def _job_plan_steps(job_plan_ids: set[int]) -> dict[int, list[dict]]:
    """The checklist of each job plan as step dicts (as `job_plan_steps` gives for one)."""
    steps = defaultdict(list)
    for job_plan_id, *step in (
        JobPlanStep.objects.filter(job_plan_id__in=job_plan_ids)
        .order_by("job_plan_id", "position")
        .values_list("job_plan_id", *creation.STEP_FIELDS)
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
    first = rows[0]
    # A column with one value in every row is one parameter, not an array: Django prepares
    # each value it sends, and that per-value Python is what this function is here to avoid.
    same = [name for name in list(first)[1:] if all(row[name] == first[name] for row in rows)]
    fields = [model._meta.get_field(name) for name in first if name not in same]
    defaults = [(model._meta.get_field(name), first[name]) for name in same]
    defaults += _defaults(model, given=first, now=now)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in [*fields, *(f for f, _ in defaults)])
    aliases = [f"c{i}" for i in range(len(fields))]
    arrays = [f"%s::{_array_type(f)}[]" for f in fields]
    selected = [
        f"u.{alias}::jsonb" if _is_json(f) else f"u.{alias}"
        for f, alias in zip(fields, aliases, strict=True)
    ]
    selected += [f"%s::{'jsonb' if _is_json(f) else _array_type(f)}" for f, _ in defaults]
    # Only quoted identifiers, column types and aliases are formatted in; values are parameters.
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {', '.join(selected)} "
        f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS u({', '.join(aliases)}, n) "
        f"ORDER BY u.n RETURNING {qn(model._meta.pk.column)}"
    )
    params = [f.get_db_prep_save(value, connection) for f, value in defaults]  # SELECT list
    params += [_column(f, [row[f.attname] for row in rows]) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def _is_json(field) -> bool:
    return field.get_internal_type() == "JSONField"


def _array_type(field) -> str:
    """The type values of `field` travel as: text for varchar(n), whose cast would cut an
    overlong value the INSERT must refuse, and for JSON, cast per value."""
    column_type = field.db_type(connection)
    return "text" if _is_json(field) or column_type.startswith("varchar") else column_type


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


PLAIN = (int, str, bool, type(None))  # sent as they are: nothing for Django to prepare


def _column(field, values: list) -> list:
    """The values of one column as the database takes them."""
    if _is_json(field):
        return [json.dumps(value, cls=field.encoder) for value in values]
    if all(type(value) in PLAIN for value in values):
        return values
    db = connections[DEFAULT_DB_ALIAS]  # once, not a thread-local look-up per value
    return [field.get_db_prep_save(value, db) for value in values]
