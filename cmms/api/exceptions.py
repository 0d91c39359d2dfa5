"""Turn service errors into clear API answers: 400 with fields, 403, 409 with a message.

Which status an error gets is `cmms.errors.refusal_for`, the mapping the admin and the pages
use too; this only writes it in the API's pinned body format.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cmms.errors import refusal_for


def exception_handler(exc, context):
    refusal = refusal_for(exc)
    if refusal is None:
        return drf_exception_handler(exc, context)
    if isinstance(exc, DjangoValidationError):
        if refusal.field_errors is not None:
            return Response(refusal.field_errors, status=refusal.status)
        return Response({"non_field_errors": list(refusal.messages)}, status=refusal.status)
    return Response({"detail": refusal.message, "code": refusal.code}, status=refusal.status)
