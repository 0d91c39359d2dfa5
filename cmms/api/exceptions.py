"""Turn service errors into clear API answers: 400 with fields, 403, 409 with a message."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cmms.errors import ConflictError, NotPermitted


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {
                field: [m for e in errors for m in e.messages]
                for field, errors in exc.error_dict.items()
            }
        else:
            data = {"non_field_errors": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotPermitted):
        return Response(
            {"detail": exc.message, "code": "not_permitted"}, status=status.HTTP_403_FORBIDDEN
        )
    if isinstance(exc, (ProtectedError, RestrictedError)):
        return Response(
            {"detail": "It is still in use and cannot be deleted.", "code": "in_use"},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DataError):
        # The database refused a value the validators let through (a date with a time zone
        # offset PostgreSQL cannot store, a number out of its range): the client's input.
        return Response(
            {"detail": "A value in the request is out of range.", "code": "out_of_range"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)
