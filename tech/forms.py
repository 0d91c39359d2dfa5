"""Forms of the technician pages. They only parse input; the services decide what is allowed."""

from decimal import Decimal

from django import forms

from assets.models import Asset, Site, Stock
from workorders.choices import FailureCodeKind, HoldReason
from workorders.models import FailureCode


def error_sentences(form) -> list[dict]:
    """A refused form's errors as sentences that name their field, each with the field's name
    and id (for the error summary's links and the fields' `aria-describedby`).

    A message that does not start with its field's label gets the label in front ("Hours:
    Ensure this value is less than or equal to 24."); the forms' own messages already name
    the field ("What is wrong: enter a title."). A hidden field, or a form rendered without
    ids, has no id to point at.
    """
    sentences = [{"field": None, "id": "", "text": str(m)} for m in form.non_field_errors()]
    for bound in form:
        label = str(bound.label).rstrip("?:")
        field_id = "" if bound.is_hidden else bound.auto_id
        for message in bound.errors:
            text = message if message.startswith(label) else f"{label}: {message}"
            sentences.append({"field": bound.name, "id": field_id, "text": text})
    return sentences


class PauseForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label="Why pause?",
        error_messages={"required": "Why pause: enter a reason."},
        help_text="For example: waiting for parts, waiting for a shutdown window.",
    )
    # The code a contract's SLA clock reads (some reasons stop it), beside the free text.
    hold_reason = forms.ChoiceField(
        choices=HoldReason.choices,
        initial=HoldReason.OTHER,
        required=False,
        label="Waiting for",
    )


class CompleteForm(forms.Form):
    problem = forms.ModelChoiceField(
        queryset=FailureCode.objects.filter(kind=FailureCodeKind.PROBLEM), required=False
    )
    cause = forms.ModelChoiceField(
        queryset=FailureCode.objects.filter(kind=FailureCodeKind.CAUSE), required=False
    )
    remedy = forms.ModelChoiceField(
        queryset=FailureCode.objects.filter(kind=FailureCodeKind.REMEDY), required=False
    )
    # The sign-off signatures the work needs (docs/sign-off.md): the pads post the drawing as
    # a PNG data URL; the service decodes and checks it.
    technician_signer = forms.CharField(
        max_length=200, required=False, label="Name of the technician signing"
    )
    technician_signature = forms.CharField(
        max_length=300_000, required=False, widget=forms.HiddenInput, label="Technician's signature"
    )
    client_signer = forms.CharField(
        max_length=200, required=False, label="Name of the client representative signing"
    )
    client_signature = forms.CharField(
        max_length=300_000, required=False, widget=forms.HiddenInput, label="Client's signature"
    )


class StepForm(forms.Form):
    """One checklist step; each step's form has its own ids (`auto_id="step<pk>-%s"`)."""

    done = forms.BooleanField(required=False, initial=True)
    result = forms.CharField(max_length=500, required=False, label="Result")
    value = forms.DecimalField(max_digits=14, decimal_places=4, required=False, label="Value")


class SafetyConfirmForm(forms.Form):
    """Confirm a safety step: a remark (e.g. the lock number) and the photo it may ask for."""

    result = forms.CharField(max_length=200, required=False, label="Remark")
    photo = forms.FileField(
        label="Photo",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class LabourForm(forms.Form):
    hours = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("24"),
        error_messages={"required": "Hours: enter the hours worked."},
    )
    # Not just "Note": the page has a timeline note too, and the two need telling apart.
    note = forms.CharField(max_length=500, required=False, label="Note on this time")
    overtime = forms.BooleanField(required=False, label="Overtime (outside normal hours)")


class IssuePartForm(forms.Form):
    stock = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        error_messages={"required": "Quantity: enter how many to issue."},
    )

    def __init__(self, *args, stock_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stock_queryset = stock_queryset if stock_queryset is not None else Stock.objects.none()

    def clean_stock(self):
        stock = (
            self.stock_queryset.select_related("part", "storeroom")
            .filter(pk=self.cleaned_data["stock"])
            .first()
        )
        if stock is None:
            raise forms.ValidationError("Pick a part from this site's storerooms.")
        return stock


class NoteForm(forms.Form):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        label="Note for the timeline",
        error_messages={"required": "Note for the timeline: write the note."},
    )


class PhotoForm(forms.Form):
    image = forms.FileField(
        label="Photo",
        error_messages={"required": "Photo: choose a photo to upload."},
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    caption = forms.CharField(max_length=200, required=False)


class ReportProblemForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        label="What is wrong?",
        error_messages={"required": "What is wrong: enter a title."},
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="Details"
    )


class RequestWorkForm(ReportProblemForm):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), error_messages={"required": "Site: choose a site."}
    )
    asset_tag = forms.CharField(
        max_length=64, required=False, label="Asset tag", help_text="As on the asset's label."
    )

    field_order = ["site", "asset_tag", "title", "description"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.for_user(user).order_by("code")
        self.user = user

    def clean(self):
        cleaned = super().clean()
        tag = (cleaned.get("asset_tag") or "").strip()
        site = cleaned.get("site")
        cleaned["asset"] = None
        if tag and site is not None:
            asset = Asset.objects.for_user(self.user).filter(site=site, tag__iexact=tag).first()
            if asset is None:
                self.add_error("asset_tag", f"No asset {tag} at {site}.")
            cleaned["asset"] = asset
        return cleaned


class ClientDecisionForm(forms.Form):
    """The client's answer to work estimated above their contract's limit: the button pressed
    (`decision`) and, required when rejecting (the service says so), a comment."""

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject")],
        error_messages={"required": "Choose Approve or Reject."},
    )
    comment = forms.CharField(
        max_length=1000,
        required=False,
        label="Comment",
        help_text="Required when you reject: say why, so the planner can re-estimate.",
        widget=forms.Textarea,
    )


class RoundResultForm(forms.Form):
    """One check of a round: a reading's value or a check's pass/fail, and a note; each check's
    form has its own ids (`auto_id="check<pk>-%s"`)."""

    value = forms.DecimalField(max_digits=16, decimal_places=3, required=False, label="Reading")
    passed = forms.TypedChoiceField(
        choices=[("pass", "Pass"), ("fail", "Fail")],
        coerce=lambda answer: answer == "pass",
        required=False,
        empty_value=None,
        label="Pass or fail",
    )
    note = forms.CharField(max_length=500, required=False, label="Note")
