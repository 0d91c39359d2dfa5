"""Turn service errors into clear API answers: 400 with fields, 403, 409 with a message.

Which status an error gets is `cmms.errors.refusal_for`, the mapping the admin and the pages
use too; this only writes it in the API's pinned body format. Every refusal that is not about
fields is `{"detail", "code"}`, DRF's own (401, 404, 429...) too: the schema declares that one
`Error` object (`cmms.api.schema_errors`), and a client tells refusals apart by `code`.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cmms.errors import refusal_for


def exception_handler(exc, context):
    refusal = refusal_for(exc)
    if refusal is None:
        exc = _as_api_exception(exc)
        return _with_code(drf_exception_handler(exc, context), exc)
    if isinstance(exc, DjangoValidationError):
        if refusal.field_errors is not None:
            return Response(refusal.field_errors, status=refusal.status)
        return Response({"non_field_errors": list(refusal.messages)}, status=refusal.status)
    return Response({"detail": refusal.message, "code": refusal.code}, status=refusal.status)


def _with_code(response, exc):
    """DRF's `{"detail"}` with the code DRF gives it (`not_found`, `throttled`...)."""
    if (
        response is not None
        and isinstance(exc, exceptions.APIException)
        and not isinstance(exc, exceptions.ValidationError)
        and isinstance(response.data, dict)
        and set(response.data) == {"detail"}
    ):
        code = getattr(response.data["detail"], "code", None) or exc.default_code
        response.data["code"] = str(code)
    return response


def _as_api_exception(exc):
    """Django's 404 and 403 as DRF's (as DRF's handler turns them), so they carry a code."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    return exc
