"""What every new work order gets, whichever way it is created.

`work_order_create` (one at a time: API, admin, alerts, technician pages) and
`work_orders_create_bulk` (PM generation) both build their first history row, their creation
event and their checklist from these functions, so the two ways cannot drift apart
(tests/workorders/test_creation_parity.py holds them to it).
"""

from datetime import datetime

from workorders.choices import EventKind

CREATED = "created"  # the reason of a work order's first history row
STEP_FIELDS = ("text", "requires_value", "unit", "kind", "photo_required")


def initial_status_change(*, work_order_id: int, status: str, by=None, at: datetime) -> dict:
    """The first row of a work order's status history: from nothing to its initial status."""
    return {
        "work_order_id": work_order_id,
        "from_status": "",
        "to_status": status,
        "reason": CREATED,
        "changed_by_id": by.pk if by is not None else None,
        "changed_at": at,
    }


def creation_event(
    *, work_order_id: int, message: str, by=None, at: datetime, data: dict | None = None
) -> dict:
    """The timeline entry saying where a work order came from."""
    return {
        "work_order_id": work_order_id,
        "kind": EventKind.CREATED.value,
        "message": message,
        "data": data or {},
        "created_by_id": by.pk if by is not None else None,
        "created_at": at,
    }


def checklist(*, work_order_id: int, steps) -> list[dict]:
    """A work order's checklist rows from steps given as texts or step dicts, numbered from 1."""
    return [
        {"work_order_id": work_order_id, "position": position, **step_fields(step)}
        for position, step in enumerate(steps, start=1)
    ]


def step_fields(step: str | dict) -> dict:
    if isinstance(step, str):
        return {"text": step}
    return {name: step[name] for name in STEP_FIELDS if name in step}


def job_plan_step(
    text: str, requires_value: bool, unit: str, kind: str, photo_required: bool
) -> dict:
    """One job plan step as the step dict a checklist is made of (a safety step stays one)."""
    return {
        "text": text,
        "requires_value": requires_value,
        "unit": unit,
        "kind": kind,
        "photo_required": photo_required,
    }
