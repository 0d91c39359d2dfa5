"""One mapping from service errors to answers (`cmms.errors.refusal_for`), for every surface."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import DataError
from django.db.models import ProtectedError

from cmms.errors import (
    ConflictError,
    InsufficientStock,
    NotPermitted,
    TransitionNotAllowed,
    refusal_for,
)


class _Form(forms.Form):
    hours = forms.DecimalField(required=False)


def test_each_error_gets_its_status_and_code():
    assert (refusal_for(ValidationError("bad")).status, refusal_for(ValidationError("x")).code) == (
        400,
        "invalid",
    )
    assert refusal_for(NotPermitted("no")).status == 403
    assert refusal_for(NotPermitted("no")).code == "not_permitted"
    moved = refusal_for(TransitionNotAllowed("not now", code="illegal_transition"))
    assert (moved.status, moved.code, moved.message) == (409, "illegal_transition", "not now")
    assert refusal_for(InsufficientStock("only 5")).status == 409
    assert refusal_for(ConflictError("taken")).code == "error"
    assert refusal_for(ProtectedError("x", set())).code == "in_use"
    assert refusal_for(DataError("x")).status == 400
    assert refusal_for(KeyError("a bug")) is None


def test_field_errors_are_one_line_for_people_and_land_on_the_form_fields():
    error = ValidationError({"hours": ["Too many."], "started_at": ["In the future."]})
    refusal = refusal_for(error)
    assert refusal.field_errors == {"hours": ["Too many."], "started_at": ["In the future."]}
    assert refusal.message == "hours: Too many.; started_at: In the future."
    form = _Form({"hours": "1"})
    assert form.is_valid()
    refusal.add_to_form(form)
    assert form.errors["hours"] == ["Too many."]
    assert form.non_field_errors() == ["started_at: In the future."]


def test_a_refusal_without_fields_goes_above_the_form():
    form = _Form({})
    assert form.is_valid()
    refusal_for(NotPermitted("Customer viewers cannot change work orders.")).add_to_form(form)
    assert form.non_field_errors() == ["Customer viewers cannot change work orders."]
    assert refusal_for(ValidationError(["one", "two"])).messages == ("one", "two")
