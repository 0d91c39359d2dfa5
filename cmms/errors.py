"""Errors raised by services, and the one mapping every surface answers them with.

Field-level problems are `django.core.exceptions.ValidationError` (400);
these are conflicts with the current state of the data (409) and permission refusals (403).
`refusal_for` turns any of them (and the database's refusals a service lets through) into a
`Refusal`: the HTTP status, the errors per field and one line for people. The API
(`cmms.api.exceptions`), the admin, the technician pages and the planner pages all answer from
it, so a refusal reads and counts the same wherever it is made.
"""

from dataclasses import dataclass
from http import HTTPStatus

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError

IN_USE = "It is still in use and cannot be deleted."
OUT_OF_RANGE = "A value in the request is out of range."


class ServiceError(Exception):
    """Base class for errors a service raises on purpose, with a message for people."""

    def __init__(self, message: str, *, code: str = "error"):
        super().__init__(message)
        self.message = message
        self.code = code


class ConflictError(ServiceError):
    """The request is valid but conflicts with the current state (HTTP 409)."""


class TransitionNotAllowed(ConflictError):
    """A work order status change that the lifecycle does not allow."""


class InsufficientStock(ConflictError):
    """Issuing or reserving more than a storeroom has available."""


class NotPermitted(ServiceError):
    """The acting user may not do this (HTTP 403)."""


# What a service raises on purpose; the pages and the admin catch these (the API all of
# `refusal_for`'s errors).
SERVICE_ERRORS = (ValidationError, ServiceError)


@dataclass(frozen=True)
class Refusal:
    """A refused request as every surface answers it.

    `field_errors` holds the messages per field the error named (NON_FIELD_ERRORS for the
    ones it named no field for), or None when it named no fields at all; then `messages`
    holds its messages.
    """

    status: int
    code: str
    messages: tuple[str, ...] = ()
    field_errors: dict[str, list[str]] | None = None

    @property
    def message(self) -> str:
        """One line for people: each message, prefixed by the field it is about."""
        if self.field_errors is None:
            return "; ".join(self.messages)
        return "; ".join(
            message if field == NON_FIELD_ERRORS else f"{field}: {message}"
            for field, messages in self.field_errors.items()
            for message in messages
        )

    def add_to_form(self, form) -> None:
        """Show the refusal on a form that has been validated: each message on the field it
        names when the form has that field, otherwise above the form (with the field's name)."""
        if self.field_errors is None:
            form.add_error(None, list(self.messages))
            return
        for field, messages in self.field_errors.items():
            if field in form.fields:
                form.add_error(field, messages)
            else:
                prefix = "" if field == NON_FIELD_ERRORS else f"{field}: "
                form.add_error(None, [f"{prefix}{message}" for message in messages])


def refusal_for(error: Exception) -> Refusal | None:
    """How to answer `error`, or None when it is no refusal (a bug: let it be a 500)."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            fields = {
                field: [message for e in errors for message in e.messages]
                for field, errors in error.error_dict.items()
            }
            return Refusal(HTTPStatus.BAD_REQUEST, "invalid", field_errors=fields)
        return Refusal(HTTPStatus.BAD_REQUEST, "invalid", messages=tuple(error.messages))
    if isinstance(error, ConflictError):
        return Refusal(HTTPStatus.CONFLICT, error.code, messages=(error.message,))
    if isinstance(error, NotPermitted):
        return Refusal(HTTPStatus.FORBIDDEN, "not_permitted", messages=(error.message,))
    if isinstance(error, ServiceError):
        return Refusal(HTTPStatus.BAD_REQUEST, error.code, messages=(error.message,))
    if isinstance(error, (ProtectedError, RestrictedError)):
        return Refusal(HTTPStatus.CONFLICT, "in_use", messages=(IN_USE,))
    if isinstance(error, DataError):
        # The database refused a value the validators let through (a date with a time zone
        # offset PostgreSQL cannot store, a number out of its range): the client's input.
        return Refusal(HTTPStatus.BAD_REQUEST, "out_of_range", messages=(OUT_OF_RANGE,))
    return None
