"""What an import error page may say: a service's own message, never a traceback or a path."""

from django import template

from cmms.admin import SERVICE_ERRORS, service_error_messages

register = template.Library()

UNEXPECTED = "An unexpected error stopped the import here (it is logged for the administrator)."


@register.filter
def import_error_text(error) -> str:
    """The message of a refusal the planner can act on; anything else is logged, not shown."""
    if isinstance(error, SERVICE_ERRORS):
        return service_error_messages(error)
    return UNEXPECTED
