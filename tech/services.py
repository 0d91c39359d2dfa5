"""Writes that only the technician pages make: notes and photos on a work order.

Everything else (lifecycle, checklist, labour, parts, work requests) goes through
`workorders.services`, exactly as the API does.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

from cmms.errors import TransitionNotAllowed
from tech.models import WorkOrderPhoto
from tech.validators import sniff_image
from workorders.choices import FINAL_STATUSES, EventKind
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.services import check_field_work


def _check_may_write(work_order: WorkOrder, by) -> None:
    check_field_work(work_order, by)
    if work_order.status in FINAL_STATUSES:
        raise TransitionNotAllowed(f"{work_order.number} is {work_order.status}.")


@transaction.atomic
def work_order_note_add(*, work_order: WorkOrder, by, message: str) -> WorkOrderEvent:
    """Add a note to the work order's timeline."""
    message = message.strip()
    if not message:
        raise ValidationError({"message": "Write something first."})
    _check_may_write(work_order, by)
    return WorkOrderEvent.objects.create(
        work_order=work_order, kind=EventKind.NOTE, message=message, created_by=by
    )


@transaction.atomic
def work_order_photo_add(*, work_order: WorkOrder, by, upload, caption: str = "") -> WorkOrderPhoto:
    """Attach a photo (JPEG, PNG, WebP or GIF, checked by its bytes) to the work order."""
    try:
        content_type, extension = sniff_image(upload)
    except ValidationError as exc:
        raise ValidationError({"image": exc.messages}) from None
    _check_may_write(work_order, by)
    photo = WorkOrderPhoto(
        work_order=work_order,
        content_type=content_type,
        size=upload.size,
        caption=caption.strip()[:200],
        uploaded_by=by,
    )
    photo.image.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
    photo.save()
    WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=EventKind.NOTE,
        message=f"Photo added{': ' + photo.caption if photo.caption else ''}",
        created_by=by,
        data={"photo": photo.pk},
    )
    return photo
