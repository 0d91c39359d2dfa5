"""Writes that only the technician pages make: photos on a work order (and the safety step a
photo confirms).

Everything else (notes, lifecycle, checklist, labour, parts, work requests) goes through
`workorders` services (`workorders.notes`, `workorders.services`), exactly as the API does.
"""

import logging
import uuid
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from tech.models import WorkOrderPhoto
from tech.validators import clean_photo
from workorders.choices import EventKind
from workorders.models import ChecklistStep, WorkOrder, WorkOrderEvent
from workorders.policy import check_open_field_work, safety_step_confirmed
from workorders.services import checklist_step_record

logger = logging.getLogger(__name__)


KEY_USED_ELSEWHERE = "This Idempotency-Key was already used for a photo of another work order."


def work_order_photo_add(
    *,
    work_order: WorkOrder,
    by,
    upload,
    caption: str = "",
    step: ChecklistStep | None = None,
    idempotency_key: str = "",
) -> WorkOrderPhoto:
    """Attach a photo (JPEG, PNG, WebP or GIF) to the work order; with `step`, a safety step
    of the work order, the photo confirms that step in the same transaction (the lock in
    place, the signed permit), which is how a `photo_required` step gets confirmed.

    With an `idempotency_key` (the offline queue's replays), the photo is stored once per
    (user, key): a replay returns the photo the first upload stored. The key is kept on the
    photo row, under a unique constraint, because the generic key table cannot share this
    service's transaction; a concurrent replay loses the insert race and gets the winner's row.

    The upload must decode in full with Pillow; what is stored is a re-encoded copy without
    EXIF or XMP (no GPS position), turned upright as the camera recorded (`clean_photo`).

    The row and its file stay consistent. The file is written before the row is committed,
    so a committed row always has its file. If anything after the write fails (a refusal, a
    database error, the commit itself) the service's transaction (a savepoint when a caller's
    is open: the safety confirmation, an idempotent page) rolls back and the file is deleted.
    Django has no hook for a caller's rollback after this returns (a crash in the caller), nor
    for a crash between the write and the commit: those leave a stray file, which is never
    served, since photos are served only through their row.
    """
    earlier = _photo_for_key(work_order, by, idempotency_key)
    if earlier is not None:
        return earlier
    try:
        clean = clean_photo(upload)
    except ValidationError as exc:
        raise ValidationError({"image": exc.messages}) from None
    if step is not None and (step.work_order_id != work_order.pk or not step.is_safety):
        raise ValidationError({"step": "A photo confirms a safety step of this work order."})
    photo = WorkOrderPhoto(
        work_order=work_order,
        step=step,
        content_type=clean.content_type,
        size=len(clean.content),
        caption=caption.strip()[:200],
        uploaded_by=by,
        idempotency_key=idempotency_key,
    )
    try:
        with transaction.atomic():
            check_open_field_work(work_order, by)
            photo.image.save(
                f"{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.content), save=False
            )
            photo.save()
            if step is not None:
                _confirm_with_photo(step, photo, by=by)
            else:
                WorkOrderEvent.objects.create(
                    work_order=work_order,
                    kind=EventKind.NOTE,
                    message=f"Photo added{': ' + photo.caption if photo.caption else ''}",
                    created_by=by,
                    data={"photo": photo.pk},
                )
    except BaseException as exc:
        if photo.image:
            _delete_file(photo.image.storage, photo.image.name)
        if isinstance(exc, IntegrityError):
            earlier = _photo_for_key(work_order, by, idempotency_key)
            if earlier is not None:
                return earlier
        raise
    return photo


def _confirm_with_photo(step: ChecklistStep, photo: WorkOrderPhoto, *, by) -> None:
    """Confirm the safety step with the photo. A step already confirmed (for this round of the
    work) keeps its confirmation, and the photo added to it goes on the timeline on its own:
    the confirmation's event is not repeated, the photo is not left unrecorded.

    Locks the work order's row, then the step's, as `checklist_step_record` does, so whether
    the step was confirmed cannot change between the look and the confirmation.
    """
    work_order = WorkOrder.objects.select_for_update().get(pk=step.work_order_id)
    current = ChecklistStep.objects.select_for_update().get(pk=step.pk)
    confirmed_before = safety_step_confirmed(work_order, current)
    checklist_step_record(step=step, by=by, done=True, result=photo.caption, photo_given=True)
    if confirmed_before:
        WorkOrderEvent.objects.create(
            work_order=work_order,
            kind=EventKind.SAFETY,
            message=f"Photo added to safety step {current.position}: {current.text}",
            created_by=by,
            data={"step": current.pk, "kind": current.kind, "photo": photo.pk},
        )


def _photo_for_key(work_order, by, key: str) -> WorkOrderPhoto | None:
    """The photo `by` already stored under `key`, if any (refused if for another work order)."""
    if not key:
        return None
    photo = WorkOrderPhoto.objects.filter(uploaded_by=by, idempotency_key=key).first()
    if photo is not None and photo.work_order_id != work_order.pk:
        raise ValidationError({"image": KEY_USED_ELSEWHERE})
    return photo


def photo_file_discard(*, photo: WorkOrderPhoto, using: str | None = None) -> None:
    """Delete a deleted photo's file once the deleting transaction commits (kept on rollback).

    Connected to `post_delete` (see `TechConfig.ready`): photo rows also go in cascades that
    no service sees, and a file deleted before the commit would be lost if the delete rolled back.
    """
    if photo.image:
        storage, name = photo.image.storage, photo.image.name
        transaction.on_commit(partial(_delete_file, storage, name), using=using)


def _delete_file(storage, name: str) -> None:
    """Delete a stored file; a failure is logged, never raised over the error being handled."""
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete photo file %s", name)
