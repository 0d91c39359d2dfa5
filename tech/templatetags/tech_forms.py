"""Refused forms on the technician pages: the error summary and the invalid fields' ARIA."""

from django import template
from django.utils.html import format_html

from tech.forms import error_sentences as form_error_sentences

register = template.Library()


@register.filter
def error_sentences(form) -> list[dict]:
    """`{% for e in form|error_sentences %}`: the summary's sentences (see tech.forms)."""
    return form_error_sentences(form) if form is not None else []


@register.filter
def invalid_attrs(bound_field) -> str:
    """`<input {{ form.title|invalid_attrs }}>`: on a field with errors, `aria-invalid` and
    `aria-describedby` pointing at its message in the form's error summary."""
    if not getattr(bound_field, "errors", None):
        return ""
    if not bound_field.auto_id:  # a form rendered without ids has no message to point at
        return format_html('aria-invalid="true"')
    return format_html('aria-invalid="true" aria-describedby="{}-error"', bound_field.auto_id)
