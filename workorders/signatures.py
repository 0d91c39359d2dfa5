"""Sign-off signatures: the technician's and the client representative's, drawn on the phone
when the work is completed (docs/sign-off.md).

Which ones completing needs is decided when the work order is created (`required_roles`
copies the job plan's and the contract's rule onto it), so a later change to the plan or the
contract does not move the goalposts of work already under way. `work_order_transition` asks
`check_signed` before it completes work.

A signature belongs to one completion round. Signing again supersedes the current signature
of that role; reopening completed work supersedes them all (`signatures_supersede`, with a
timeline event), so the next completion is signed again while the earlier signatures stay in
the history.

The drawing arrives as a PNG data URL from a canvas. It is decoded with Pillow in full (not
trusted from its first bytes), bounded in bytes and pixels, refused when it has no ink, and
stored re-encoded (no text chunks or other metadata) with the default storage, like photos.
"""

import base64
import binascii
import io
import logging
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from cmms.errors import ConflictError, TransitionNotAllowed
from workorders.choices import EventKind, SignatureRole, Status
from workorders.models import Signature, WorkOrder, WorkOrderEvent
from workorders.policy import check_field_work

logger = logging.getLogger(__name__)

DATA_URL_PREFIX = "data:image/png;base64,"
MAX_SIGNATURE_BYTES = 200 * 1024
MAX_SIGNATURE_SIDE = 2000
MIN_SIGNATURE_SIDE = 20
# A pixel counts as ink when it is visible (alpha) and darker than paper; a drawing needs a few.
MIN_INK_PIXELS = 20
SIGNABLE_STATUSES = frozenset({Status.IN_PROGRESS, Status.ON_HOLD})
NOT_A_PNG = "Draw the signature: a PNG image as a data URL (data:image/png;base64,...)."


def required_roles(work_order: WorkOrder) -> list[str]:
    """The roles whose signature completing this work order needs (as copied at creation)."""
    roles = []
    if work_order.technician_signature_required:
        roles.append(SignatureRole.TECHNICIAN)
    if work_order.client_signature_required:
        roles.append(SignatureRole.CLIENT)
    return roles


def signature_rules(*, job_plan, contract) -> dict:
    """The `*_signature_required` fields of a new work order from its job plan and contract
    (either may be None): the client signs when either asks for it."""
    return {
        "technician_signature_required": bool(
            job_plan is not None and job_plan.requires_technician_signature
        ),
        "client_signature_required": bool(
            (job_plan is not None and job_plan.requires_client_signature)
            or (contract is not None and contract.requires_client_signature)
        ),
    }


def missing_roles(work_order: WorkOrder) -> list[str]:
    """The required roles that have no current signature yet."""
    required = required_roles(work_order)
    if not required:
        return []
    signed = set(
        work_order.signatures.filter(superseded_at__isnull=True).values_list("role", flat=True)
    )
    return [role for role in required if role not in signed]


def check_signed(work_order: WorkOrder) -> None:
    """Raise ConflictError `signature_required` while a signature completing needs is missing."""
    missing = missing_roles(work_order)
    if missing:
        names = " and ".join(SignatureRole(role).label.lower() for role in missing)
        raise ConflictError(
            f"{work_order.number} is completed with the {names} signature"
            f"{'s' if len(missing) > 1 else ''}: sign first.",
            code="signature_required",
        )


def decode_signature(data_url) -> bytes:
    """The PNG of a canvas data URL, decoded in full and re-encoded; a ValidationError on
    `image` for anything else (not a PNG data URL, bad base64, too large, blank)."""
    if not isinstance(data_url, str) or not data_url.startswith(DATA_URL_PREFIX):
        raise ValidationError({"image": NOT_A_PNG})
    encoded = data_url[len(DATA_URL_PREFIX) :]
    if len(encoded) > (MAX_SIGNATURE_BYTES * 4) // 3 + 4:
        raise ValidationError(
            {"image": f"The signature is too large: at most {MAX_SIGNATURE_BYTES // 1024} KB."}
        )
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"image": "The signature is not valid base64."}) from None
    if not raw:
        raise ValidationError({"image": NOT_A_PNG})
    return _clean_png(raw)


def _clean_png(raw: bytes) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
                width, height = image.size
                if (
                    not MIN_SIGNATURE_SIDE
                    <= min(width, height)
                    <= max(width, height)
                    <= (MAX_SIGNATURE_SIDE)
                ):
                    raise ValidationError(
                        {
                            "image": f"The signature is {width} x {height} pixels; each side "
                            f"must be {MIN_SIGNATURE_SIDE} to {MAX_SIGNATURE_SIDE} pixels."
                        }
                    )
                image.load()
                drawing = image.convert("LA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError({"image": NOT_A_PNG}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError({"image": NOT_A_PNG}) from None
    if _ink_pixels(drawing) < MIN_INK_PIXELS:
        raise ValidationError({"image": "The signature is blank: draw it before saving."})
    out = io.BytesIO()
    drawing.save(out, "PNG", optimize=True)
    return out.getvalue()


def _ink_pixels(drawing: Image.Image) -> int:
    """Pixels that are both visible and dark: strokes, not transparent or white paper."""
    luminance, alpha = drawing.split()
    ink = Image.eval(luminance, lambda v: 255 if v < 160 else 0)
    visible = Image.eval(alpha, lambda v: 255 if v > 64 else 0)
    both = Image.composite(ink, Image.new("L", drawing.size, 0), visible)
    return sum(both.histogram()[255:])


def check_signature_capture(work_order: WorkOrder, by) -> None:
    """Raise unless `by` may capture a signature on the work order now: field work on running
    (or held) work, whose completion is what it signs."""
    check_field_work(work_order, by)
    if work_order.status not in SIGNABLE_STATUSES:
        raise TransitionNotAllowed(
            f"Signatures are taken on running work; {work_order.number} is {work_order.status}."
        )


def work_order_signature_add(
    *, work_order: WorkOrder, role: str, signer_name: str, image, by
) -> Signature:
    """Capture a sign-off signature (`image`: a PNG data URL) for the current completion round,
    superseding the role's current one.

    Like photos, the file is written inside the service's transaction (a savepoint within a
    caller's: the completion page, an idempotent request) and deleted when that rolls back. A
    caller's rollback after this returns leaves a stray file, never served: signatures are
    served only through their row. The technician's signer name defaults to the capturing
    user's full name.
    """
    if role not in SignatureRole.values:
        raise ValidationError({"role": f"Not a signature role: one of {SignatureRole.values}."})
    signer_name = (signer_name or "").strip()
    if not signer_name and role == SignatureRole.TECHNICIAN and by is not None:
        signer_name = (by.get_full_name() or by.get_username()).strip()
    if not signer_name:
        raise ValidationError({"signer_name": "Give the name of the person signing."})
    if len(signer_name) > 200:
        raise ValidationError({"signer_name": "At most 200 characters."})
    content = decode_signature(image)
    signature = Signature(work_order=work_order, role=role, signer_name=signer_name, signed_by=by)
    try:
        with transaction.atomic():
            locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
            check_signature_capture(locked, by)
            now = timezone.now()
            Signature.objects.select_for_update().filter(
                work_order=locked, role=role, superseded_at__isnull=True
            ).update(superseded_at=now)
            signature.signed_at = now
            signature.image.save(f"{uuid.uuid4().hex}.png", ContentFile(content), save=False)
            signature.save()
            WorkOrderEvent.objects.create(
                work_order=locked,
                kind=EventKind.SIGNATURE,
                message=f"Signed off by {signature.get_role_display().lower()}: {signer_name}",
                created_by=by,
                data={"signature": signature.pk, "role": role},
            )
    except BaseException:
        if signature.image:
            _delete_file(signature.image.storage, signature.image.name)
        raise
    return signature


def signatures_supersede(work_order: WorkOrder, *, by, now) -> None:
    """Reopening completed work: its signatures become history and the next completion is
    signed again. Call while holding the work order's row lock."""
    superseded = Signature.objects.filter(work_order=work_order, superseded_at__isnull=True).update(
        superseded_at=now
    )
    if superseded:
        WorkOrderEvent.objects.create(
            work_order=work_order,
            kind=EventKind.SIGNATURE,
            message="Reopened: the signatures are kept in history; completing signs again.",
            created_by=by,
            created_at=now,
            data={"superseded": superseded},
        )


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete signature file %s", name)
