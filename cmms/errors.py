"""Errors raised by services; the API, admin and pages turn them into answers.

Field-level problems are `django.core.exceptions.ValidationError` (400);
these are conflicts with the current state of the data (409) and permission refusals (403).
"""


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
