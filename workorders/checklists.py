"""Planners' edits to a work order's checklist (the work order admin's step inline).

Steps are added, changed and removed as the model allows (`Step.clean`: only a safety step
asks for a photo, and a safety step is not measured) and as the safety rules allow
(`policy.check_step_edit`: no new safety step on work that has started, a confirmed safety
step stays). A change to what a step is (its kind, its photo rule), and adding or removing a
safety step, goes on the work order's timeline, naming the step and the change.
"""

from django.db import transaction

from cmms.errors import TransitionNotAllowed
from cmms.rows import RowEdits, row_edits_apply
from workorders import policy
from workorders.choices import SAFETY_STEP_KINDS, EventKind, StepKind
from workorders.models import ChecklistStep, WorkOrder, WorkOrderEvent

REFUSAL = "Only planners change a work order's checklist."
TIMELINE_FIELDS = ("kind", "photo_required")


@transaction.atomic
def checklist_steps_edit(*, work_order: WorkOrder, edits: RowEdits, by) -> WorkOrder:
    """Apply the planner's `edits` to the work order's steps, refused as a whole if one is.

    Locks the work order's row, as the start and the safety confirmations do: a safety step
    added to scheduled work either lands before the start (which then waits for it) or finds
    the work started (and is refused).
    """
    locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    policy.check_planning(by, locked.site_id, refusal=REFUSAL)
    if not locked.is_open:
        raise TransitionNotAllowed(f"{locked.number} is {locked.status}; its checklist stays.")
    before = {step.pk: step for step in locked.steps.select_for_update()}
    for pk in edits.deleted:
        if pk in before:
            policy.check_step_edit(locked, before[pk], kind=None, photo_required=None)
    for pk, values in edits.changed.items():
        if pk in before:
            step = before[pk]
            policy.check_step_edit(
                locked,
                step,
                kind=values.get("kind", step.kind),
                photo_required=values.get("photo_required", step.photo_required),
            )
    for values in edits.added:
        policy.check_step_edit(
            locked,
            None,
            kind=values.get("kind", StepKind.TASK),
            photo_required=values.get("photo_required", False),
        )
    snapshot = {pk: _what(step) for pk, step in before.items()}
    row_edits_apply(
        locked.steps.all(),
        edits,
        new=lambda values: ChecklistStep(work_order=locked, **values),
        label=str,
    )
    _record(locked, snapshot, by=by)
    return locked


def _what(step: ChecklistStep) -> dict:
    return {
        "position": step.position,
        "text": step.text,
        "kind": step.kind,
        "photo_required": step.photo_required,
    }


def _record(work_order: WorkOrder, before: dict[int, dict], *, by) -> None:
    """Timeline events for the steps removed, changed in kind or photo rule, and added."""
    after = {step.pk: _what(step) for step in work_order.steps.order_by("position")}
    for pk, was in before.items():
        if pk not in after and was["kind"] in SAFETY_STEP_KINDS:
            _event(
                work_order,
                pk,
                f"Safety step {was['position']} removed: {was['text']}",
                by,
                {name: [was[name], None] for name in TIMELINE_FIELDS},
            )
    for pk, now in after.items():
        was = before.get(pk)
        if was is None:
            if now["kind"] in SAFETY_STEP_KINDS:
                _event(
                    work_order,
                    pk,
                    f"Safety step {now['position']} added: {now['text']} ({_rule(now)})",
                    by,
                    {name: [None, now[name]] for name in TIMELINE_FIELDS},
                )
            continue
        changes = {
            name: [was[name], now[name]] for name in TIMELINE_FIELDS if was[name] != now[name]
        }
        if changes:
            said = ", ".join(
                f"{_field_words(name)} {_value_words(name, old)} → {_value_words(name, new)}"
                for name, (old, new) in changes.items()
            )
            _event(
                work_order,
                pk,
                f"Step {now['position']} changed ({said}): {now['text']}",
                by,
                changes,
            )


def _rule(step: dict) -> str:
    kind = StepKind(step["kind"]).label
    return f"{kind}, photo required" if step["photo_required"] else kind


def _field_words(name: str) -> str:
    return {"kind": "kind", "photo_required": "photo required"}[name]


def _value_words(name: str, value) -> str:
    if name == "kind":
        return StepKind(value).label.lower()
    return "yes" if value else "no"


def _event(work_order: WorkOrder, step_pk: int, message: str, by, changes: dict) -> None:
    user = by if by is not None and by.is_authenticated else None
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.SAFETY,
        message=message,
        created_by=user,
        data={"step": step_pk, "changes": changes},
    )
