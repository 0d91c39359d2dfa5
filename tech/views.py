"""The technician web app: phone-sized pages to find and execute work orders.

Views stay thin: they look rows up through `for_user` (another site's row is a 404), parse a
form and call the same services as the API. A service error re-renders the page with the
message on the right field: 400 for invalid input, 403 for a refusal, 409 for a conflict.
Successful actions redirect back (Post/Redirect/Get).
"""

import copy
from functools import wraps

import segno
from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from assets import policy as asset_policy
from assets.models import Asset, Site, Stock
from cmms.errors import SERVICE_ERRORS, ConflictError, refusal_for
from cmms.inputs import parse_id
from contracts.choices import ClientApproval
from pm import selectors as pm_selectors
from pm import services as pm_services
from pm.choices import OPEN_RUN_STATUSES
from pm.models import RoundRun, RouteCheck
from sync.idempotency import idempotent_view, key_of
from tech import selectors
from tech import services as tech_services
from tech.forms import (
    ClientDecisionForm,
    CompleteForm,
    IssuePartForm,
    LabourForm,
    NoteForm,
    PauseForm,
    PhotoForm,
    ReportProblemForm,
    RequestWorkForm,
    RoundResultForm,
    SafetyConfirmForm,
    StepForm,
    error_sentences,
)
from tech.models import WorkOrderPhoto
from workorders import policy, signatures
from workorders import services as wo_services
from workorders.choices import EventKind, HoldReason, SignatureRole, Source, Status
from workorders.models import ChecklistStep, Signature, WorkOrder
from workorders.notes import work_order_note_add

MAX_LABELS = 500

# Field actions on the work order page: name -> (target status, button label).
FIELD_ACTIONS = {
    "start": (Status.IN_PROGRESS, "Start"),
    "pause": (Status.ON_HOLD, "Pause"),
    "resume": (Status.IN_PROGRESS, "Resume"),
    "complete": (Status.COMPLETED, "Complete"),
}
_ACTION_FROM = {
    "start": {Status.SCHEDULED},
    "pause": {Status.IN_PROGRESS},
    "resume": {Status.ON_HOLD},
    "complete": {Status.IN_PROGRESS},
}


class LoginView(auth_views.LoginView):
    template_name = "tech/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out, and have the browser drop this site's caches and storage: the offline copies
    of pages and the offline queue belong to the user who leaves (docs/offline.md)."""

    next_page = "tech:login"

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


def planner_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not asset_policy.may_print_labels(request.user):
            raise PermissionDenied(asset_policy.LABELS_ARE_PLANNERS)
        return view(request, *args, **kwargs)

    return wrapped


# ---------------------------------------------------------------- my work


MAX_PAGE = 10**6  # beyond any real list; keeps the offset within what databases take


@require_GET
@login_required
def home(request):
    """My work (technicians and planners) or my sites' work (customer viewers), with search;
    `?list=<group>&page=<n>` lists one whole group page by page."""
    user = request.user
    if "list" in request.GET:
        return _work_list(request, request.GET["list"])
    query = request.GET.get("q", "").strip()
    context = {"query": query}
    if query:
        context["results"] = selectors.search_work(user, query)
        context["asset_results"] = selectors.search_assets(user, query)
    if user.is_customer_viewer:
        context["open_work"], context["finished_work"] = selectors.site_work(user)
        context["awaiting_approval"] = selectors.awaiting_client_approval(user)
        return render(request, "tech/site_work.html", context)
    context["work"] = selectors.my_work(user)
    context["rounds"] = list(pm_selectors.rounds_of_the_day(user, now=timezone.now()))
    return render(request, "tech/my_work.html", context)


def _work_list(request, key: str):
    """One group of the work page, whole, `PAGE_SIZE` rows a page (no count: one query)."""
    groups = selectors.work_groups(request.user)
    page = parse_id(request.GET.get("page", "1"))
    if key not in groups or not page or page > MAX_PAGE:
        raise Http404("No such list or page.")
    rows, has_next = selectors.work_page(request.user, key, page)
    if page > 1 and not rows:
        raise Http404("No such page.")
    context = {
        "key": key,
        "title": groups[key],
        "rows": rows,
        "page": page,
        "has_next": has_next,
    }
    return render(request, "tech/work_list.html", context)


# ---------------------------------------------------------------- work order page


def allowed_actions(user, work_order) -> list[tuple[str, str]]:
    """The field actions this user may take now, as the lifecycle policy allows them."""
    allowed = policy.allowed_transitions(user, work_order)
    return [
        (name, label)
        for name, (to, label) in FIELD_ACTIONS.items()
        if work_order.status in _ACTION_FROM[name] and to in allowed
    ]


def _load_work_order(user, pk) -> WorkOrder:
    try:
        return selectors.work_order_for_page(user, pk)
    except WorkOrder.DoesNotExist:
        raise Http404("No such work order at your sites.") from None


def after_start(user, work_order, *, once_safe: bool = False) -> dict:
    """What the page would offer once the work order is started (or resumed), when the user may
    start it now (or `once_safe`: once its safety steps are confirmed). The offline queue sends
    actions in order, so a technician who presses Start offline may go on to tick steps, issue
    parts or complete: the page holds those forms hidden (`data-after-start`) and its script
    shows them once a start is queued. The policy decides, on a copy of the work order in
    progress; the server decides again when the actions arrive.
    """
    startable = any(name in ("start", "resume") for name, _ in allowed_actions(user, work_order))
    if not (startable or once_safe):
        return {}
    started = copy.copy(work_order)
    started.status = Status.IN_PROGRESS
    return {
        "tick": policy.may_record_steps(user, started),
        "work": policy.may_do_field_work(user, started),
        "issue": policy.may_issue_parts(user, started),
        "complete": any(name == "complete" for name, _ in allowed_actions(user, started)),
    }


def start_once_safe(work_order, safety_steps: list, refusal: str) -> tuple[str, str] | None:
    """The start (or resume) that only the safety steps hold back (`refusal` says so), when
    the user may confirm every one of them now: the page holds its form hidden
    (`data-after-safety`), and the offline queue's script shows it once each confirmation is
    queued. None otherwise."""
    name = "resume" if work_order.status == Status.ON_HOLD else "start"
    if not refusal or work_order.status not in _ACTION_FROM[name]:
        return None  # e.g. completed work a planner could reopen: not a field start
    if not all(step.confirmed or step.may_confirm for step in safety_steps):
        return None
    return (name, FIELD_ACTIONS[name][1])


def _page_context(request, work_order, forms: dict) -> dict:
    user = request.user
    step_forms = forms.pop("step_forms", {})
    safety_steps = _safety_steps(user, work_order, step_forms)
    start_refusal = policy.start_refusal(user, work_order) if safety_steps else ""
    start_after_safety = start_once_safe(work_order, safety_steps, start_refusal)
    later = after_start(user, work_order, once_safe=start_after_safety is not None)
    may_issue = policy.may_issue_parts(user, work_order)
    steps = [step for step in work_order.steps.all() if not step.is_safety]
    for step in steps:
        step.form = step_forms.get(step.pk) or StepForm(
            initial={"result": step.result, "value": step.value}, auto_id=_step_ids(step)
        )
    part_query = request.GET.get("part_q", "").strip()
    context = {
        "wo": work_order,
        "path": selectors.asset_path(work_order.asset),
        "steps": steps,
        "steps_done": sum(1 for s in steps if s.done),
        "safety_steps": safety_steps,
        "isolation_points": (selectors.isolation_points(work_order) if safety_steps else []),
        "start_refusal": start_refusal,
        "start_after_safety": start_after_safety,
        "alerts": list(work_order.alerts.all()),
        "actions": allowed_actions(user, work_order),
        "may_change": policy.may_change_work(user),
        "may_work": policy.may_do_field_work(user, work_order),
        "may_tick": policy.may_record_steps(user, work_order),
        "may_issue": may_issue,
        "after_start": later,
        "issue_forms": may_issue or later.get("issue", False),
        "codes": (
            selectors.failure_code_choices()
            if work_order.status == Status.IN_PROGRESS or later.get("complete")
            else {}
        ),
        "part_query": part_query,
        "part_results": selectors.storeroom_stock(user, work_order, part_query),
        "pause_form": PauseForm(),
        "complete_form": CompleteForm(
            initial={
                "problem": work_order.problem_id,
                "cause": work_order.cause_id,
                "remedy": work_order.remedy_id,
            }
        ),
        "signature_pads": _signature_pads(user, work_order, later),
        "labour_form": LabourForm(),
        "part_form": IssuePartForm(),
        "note_form": NoteForm(),
        "photo_form": PhotoForm(),
        "timeline": _timeline(work_order),
    }
    context.update(forms)
    return context


def _signature_pads(user, work_order, later: dict) -> list[dict]:
    """One pad per signature completing needs, with the current signature if one is taken:
    on the complete form, shown in progress or held for after a start queued offline."""
    roles = signatures.required_roles(work_order)
    if not roles or not (work_order.status == Status.IN_PROGRESS or later.get("complete")):
        return []
    current = {s.role: s for s in work_order.signatures.filter(superseded_at__isnull=True)}
    return [
        {
            "role": role,
            "label": SignatureRole(role).label,
            "current": current.get(role),
            "default_name": (user.get_full_name() if role == SignatureRole.TECHNICIAN else ""),
        }
        for role in roles
    ]


def _safety_steps(user, work_order, step_forms: dict) -> list:
    """The work order's safety steps, each with its confirm form, whether `user` may confirm
    (or undo) it now, and the photos that confirmed it."""
    photos = {}
    for photo in work_order.photos.all():
        photos.setdefault(photo.step_id, []).append(photo)
    safety = [step for step in work_order.steps.all() if step.is_safety]
    for step in safety:
        step.form = step_forms.get(step.pk) or SafetyConfirmForm(auto_id=_step_ids(step))
        step.confirmed = policy.safety_step_confirmed(work_order, step)
        step.may_confirm = policy.may_confirm_safety_step(user, work_order, step)
        step.may_undo = policy.may_unconfirm_safety_step(user, work_order, step)
        step.confirm_photos = photos.get(step.pk, [])
    return safety


def _timeline(work_order) -> list[dict]:
    """Status changes and events, oldest first, as one list for the page."""
    items = [
        {
            "at": change.changed_at,
            "who": change.changed_by,
            "kind": "status",
            "text": f"{change.get_from_status_display() or 'new'} → "
            f"{change.get_to_status_display()}",
            "reason": change.reason if change.reason != "created" else "",
        }
        for change in work_order.history.all()
    ]
    items += [
        {
            "at": e.created_at,
            "who": e.created_by,
            "kind": e.kind,
            "text": e.message,
            "reason": "",
            "signature": e.data.get("signature") if e.kind == EventKind.SIGNATURE else None,
        }
        for e in work_order.events.all()
    ]
    return sorted(items, key=lambda item: item["at"])


def _render_work_order(request, pk, *, status=200, **forms):
    work_order = _load_work_order(request.user, pk)
    return render(
        request, "tech/work_order.html", _page_context(request, work_order, forms), status=status
    )


@require_GET
@login_required
def work_order_detail(request, pk):
    return _render_work_order(request, pk)


@require_GET
@login_required
def part_search(request, pk):
    """The part search results alone (HTMX swaps them in; the full page works without JS)."""
    work_order = get_object_or_404(WorkOrder.objects.for_user(request.user), pk=pk)
    query = request.GET.get("part_q", "").strip()
    return render(
        request,
        "tech/_part_results.html",
        {
            "wo": work_order,
            "part_query": query,
            "part_results": selectors.storeroom_stock(request.user, work_order, query),
            "may_issue": policy.may_issue_parts(request.user, work_order),
        },
    )


def _refused(form, error) -> int:
    """Show a service's refusal on the form; the page's status code (400, 403 or 409)."""
    refusal = refusal_for(error)
    refusal.add_to_form(form)
    return refusal.status


def _perform(request, pk, form, form_name: str, action, *, success: str, anchor: str = ""):
    """Validate the form, run the service action, then redirect or re-render with errors."""
    status = 400
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except SERVICE_ERRORS as error:
            status = _refused(form, error)
        else:
            messages.success(request, success)
            url = reverse("tech:work-order", args=[pk])
            return redirect(f"{url}#{anchor}" if anchor else url)
    if form_name.startswith("step:"):
        forms = {"step_forms": {int(form_name[5:]): form}}
    else:
        forms = {form_name: form}
    # The page opens at the top: say there what went wrong, and link to the form.
    forms["page_errors"] = [error["text"] for error in error_sentences(form)]
    forms["error_anchor"] = anchor or "actions"
    return _render_work_order(request, pk, status=status, **forms)


def _step_ids(step) -> str:
    """Ids of a step's fields: one page holds a form per step."""
    return f"step{step.pk}-%s"


QUEUED_FOR_HEADER = "X-Cmms-Queued-For"
QUEUED_FOR_ANOTHER_USER = "queued_for_another_user"


def form_address(page: str, anchor: str = "", *, idempotent: bool = True):
    """The address a form posts to. POST runs the view; GET goes to the page the form is on.

    A refused form is shown again at the address it was posted to (with its errors and the
    4xx status); reloading or revisiting that address must lead back to the page, not to 405.
    A POST with an `Idempotency-Key` (the offline queue's replays) is applied once per key,
    unless not `idempotent`: a view whose service must own its transaction (photos). A POST
    naming the user it was queued for (`X-Cmms-Queued-For`) runs only as that user (409).
    """

    def decorate(view):
        once = idempotent_view(view) if idempotent else view

        @wraps(view)
        def wrapped(request, pk, *args, **kwargs):
            if request.method == "GET":
                url = reverse(page, args=[pk])
                return redirect(f"{url}#{anchor}" if anchor else url)
            queued_for = request.headers.get(QUEUED_FOR_HEADER)
            if queued_for is not None and queued_for != str(request.user.pk):
                # A tab left from an earlier session sends its user's queue under whoever is
                # logged in now: never record one person's action as another's.
                return JsonResponse(
                    {
                        "detail": "Queued by another user: log in as them to send it.",
                        "code": QUEUED_FOR_ANOTHER_USER,
                    },
                    status=409,
                )
            return once(request, pk, *args, **kwargs)

        return require_http_methods(["GET", "POST"])(login_required(wrapped))

    return decorate


def _scoped_work_order(request, pk) -> WorkOrder:
    return get_object_or_404(WorkOrder.objects.for_user(request.user), pk=pk)


def _work_order_form(
    form_class, form_name: str, *, success: str, anchor: str = "", idempotent: bool = True
):
    """A form posted from the work order page: the view finds the work order among the user's,
    parses `form_class` and runs `action(request, work_order, data)` through `_perform`."""

    def decorate(action):
        @wraps(action)
        def view(request, pk):
            work_order = _scoped_work_order(request, pk)
            form = form_class(request.POST, request.FILES)
            return _perform(
                request,
                pk,
                form,
                form_name,
                lambda data: action(request, work_order, data),
                success=success,
                anchor=anchor,
            )

        return form_address("tech:work-order", anchor, idempotent=idempotent)(view)

    return decorate


@form_address("tech:work-order", "actions")
def work_order_start(request, pk):
    return _simple_transition(request, pk, "start", "Started. The clock is running.")


@form_address("tech:work-order", "actions")
def work_order_resume(request, pk):
    return _simple_transition(request, pk, "resume", "Resumed. The clock is running.")


def _simple_transition(request, pk, name: str, success: str):
    work_order = _scoped_work_order(request, pk)
    form = django_forms.Form(request.POST)

    def action(_):
        # The button pressed must still match the status (a stale page, a double tap).
        if work_order.status not in _ACTION_FROM[name]:
            raise ConflictError(
                f"{work_order.number} is {work_order.get_status_display().lower()}; "
                f"it cannot be {'started' if name == 'start' else 'resumed'} now."
            )
        to = FIELD_ACTIONS[name][0]
        wo_services.work_order_transition(work_order=work_order, to=to, by=request.user)

    return _perform(request, pk, form, "action_form", action, success=success)


@_work_order_form(PauseForm, "pause_form", success="Paused.")
def work_order_pause(request, work_order, data):
    wo_services.work_order_transition(
        work_order=work_order,
        to=Status.ON_HOLD,
        by=request.user,
        reason=data["reason"],
        hold_reason=data.get("hold_reason") or HoldReason.OTHER,
    )


@_work_order_form(CompleteForm, "complete_form", success="Completed. Thank you!")
def work_order_complete(request, work_order, data):
    for role in signatures.required_roles(work_order):
        if data.get(f"{role}_signature"):
            _sign(request, work_order, role, data)
    codes = {k: data[k] for k in ("problem", "cause", "remedy") if data.get(k) is not None}
    wo_services.work_order_transition(
        work_order=work_order, to=Status.COMPLETED, by=request.user, **codes
    )


def _sign(request, work_order, role: str, data) -> None:
    """Capture one pad's signature; its refusal names the pad's own field. A signature taken
    stays when the completion is then refused (the page shows it; drawing again replaces it)."""
    try:
        signatures.work_order_signature_add(
            work_order=work_order,
            role=role,
            signer_name=data.get(f"{role}_signer", ""),
            image=data[f"{role}_signature"],
            by=request.user,
        )
    except ValidationError as error:
        fields = {"image": f"{role}_signature", "signer_name": f"{role}_signer"}
        raise ValidationError(
            {fields.get(name, name): messages for name, messages in error.message_dict.items()}
        ) from None


@form_address("tech:work-order", "checklist")
def step_record(request, pk, step_id):
    work_order = _scoped_work_order(request, pk)
    step = get_object_or_404(ChecklistStep.objects.filter(work_order=work_order), pk=step_id)
    step.work_order = work_order

    def action(data):
        wo_services.checklist_step_record(
            step=step,
            by=request.user,
            done=data["done"],
            result=data["result"],
            value=data["value"],
        )

    return _perform(
        request,
        pk,
        StepForm(request.POST, auto_id=_step_ids(step)),
        f"step:{step.pk}",
        action,
        success=f"Step {step.position} recorded.",
        anchor=f"step-{step.pk}",
    )


@form_address("tech:work-order", "safety")
def safety_step_confirm(request, pk, step_id):
    """Confirm a safety step, with the photo it asks for (or may have)."""
    work_order = _scoped_work_order(request, pk)
    step = get_object_or_404(ChecklistStep.objects.filter(work_order=work_order), pk=step_id)
    step.work_order = work_order

    def action(data):
        if data.get("photo"):
            try:
                tech_services.work_order_photo_add(
                    work_order=work_order,
                    by=request.user,
                    upload=data["photo"],
                    caption=data["result"],
                    step=step,
                )
            except django_forms.ValidationError as error:
                # The photo service names its upload `image`; this form calls it `photo`.
                errors = getattr(error, "error_dict", None) or {}
                if "image" in errors:
                    raise django_forms.ValidationError({"photo": errors["image"]}) from None
                raise
        else:
            wo_services.checklist_step_record(step=step, by=request.user, result=data["result"])

    return _perform(
        request,
        pk,
        SafetyConfirmForm(request.POST, request.FILES, auto_id=_step_ids(step)),
        f"step:{step.pk}",
        action,
        success=f"Safety step {step.position} confirmed.",
        anchor=f"step-{step.pk}",
    )


@_work_order_form(LabourForm, "labour_form", success="Time recorded.", anchor="labour")
def labour_add(request, work_order, data):
    wo_services.labour_add(
        work_order=work_order,
        technician=request.user,
        hours=data["hours"],
        note=data["note"],
        overtime=data["overtime"],
        by=request.user,
    )


@form_address("tech:work-order", "parts")
def part_issue(request, pk):
    work_order = _scoped_work_order(request, pk)
    stock = Stock.objects.for_user(request.user).filter(storeroom__site_id=work_order.site_id)
    # One quantity field per stock row on the page: the form has no single field id to name.
    form = IssuePartForm(request.POST, stock_queryset=stock, auto_id=False)

    def action(data):
        wo_services.work_order_issue_part(
            work_order=work_order, stock=data["stock"], quantity=data["quantity"], by=request.user
        )

    return _perform(request, pk, form, "part_form", action, success="Part issued.", anchor="parts")


@_work_order_form(NoteForm, "note_form", success="Note added.", anchor="timeline")
def note_add(request, work_order, data):
    work_order_note_add(work_order=work_order, by=request.user, message=data["message"])


# The photo service keeps the Idempotency-Key on the photo row (unique per user and key), so a
# replayed upload returns the photo the first one stored without the generic key table.
@_work_order_form(
    PhotoForm, "photo_form", success="Photo added.", anchor="photos", idempotent=False
)
def photo_add(request, work_order, data):
    tech_services.work_order_photo_add(
        work_order=work_order,
        by=request.user,
        upload=data["image"],
        caption=data["caption"],
        idempotency_key=key_of(request) or "",
    )


@require_GET
@login_required
def photo_file(request, photo_id):
    """A photo, to users who may see its work order's site (media is never public)."""
    photo = get_object_or_404(WorkOrderPhoto.objects.for_user(request.user), pk=photo_id)
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError:
        raise Http404("The photo file is missing.") from None
    response = FileResponse(handle, content_type=photo.content_type)
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@login_required
def signature_file(request, signature_id):
    """A sign-off signature's drawing, to users who may see its work order's site."""
    signature = get_object_or_404(Signature.objects.for_user(request.user), pk=signature_id)
    try:
        handle = signature.image.open("rb")
    except FileNotFoundError:
        raise Http404("The signature file is missing.") from None
    response = FileResponse(handle, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="signature-{signature.pk}.png"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------- assets


def _asset_page(request, pk, *, form=None, status=200):
    try:
        asset = selectors.asset_for_page(request.user, pk)
    except Asset.DoesNotExist:
        raise Http404("No such asset at your sites.") from None
    meters = list(asset.meters.all())
    readings = selectors.latest_readings(meters)
    for meter in meters:
        meter.latest = readings.get(meter.pk)
    open_work, open_count, history = selectors.asset_work(request.user, asset)
    context = {
        "asset": asset,
        "path": selectors.asset_path(asset),
        "meters": meters,
        "open_work": open_work,
        "open_count": open_count,
        "history": history,
        "form": form or ReportProblemForm(),
    }
    return render(request, "tech/asset.html", context, status=status)


@require_GET
@login_required
def asset_detail(request, pk):
    return _asset_page(request, pk)


@form_address("tech:asset", "report")
def asset_report_problem(request, pk):
    """Report a problem on an asset: a work request (status requested) for the planners."""
    asset = get_object_or_404(Asset.objects.for_user(request.user).select_related("site"), pk=pk)
    form = ReportProblemForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            work_order = wo_services.work_order_create(
                site=asset.site,
                asset=asset,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                source=Source.REQUEST,
                by=request.user,
            )
        except SERVICE_ERRORS as error:
            status = _refused(form, error)
        else:
            messages.success(request, f"Thank you. {work_order.number} was sent to the planners.")
            return redirect("tech:asset", pk=asset.pk)
    return _asset_page(request, pk, form=form, status=status)


@login_required
def request_work(request):
    """A work request for any site of the user (customer viewers and technicians)."""
    form = RequestWorkForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                work_order = wo_services.work_order_create(
                    site=data["site"],
                    asset=data["asset"],
                    title=data["title"],
                    description=data["description"],
                    source=Source.REQUEST,
                    by=request.user,
                )
            except SERVICE_ERRORS as error:
                status = _refused(form, error)
            else:
                messages.success(
                    request, f"Thank you. {work_order.number} was sent to the planners."
                )
                return redirect("tech:home")
    return render(request, "tech/request_work.html", {"form": form}, status=status)


# ---------------------------------------------------------------- client approval


def client_required(view):
    """Pages for the client: customer viewers (and superusers, who act for anyone)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_customer_viewer or user.is_superuser):
            raise PermissionDenied("Only the client decides on an estimate.")
        return view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "POST"])
@client_required
def client_approval(request, pk):
    """Work estimated above the contract's limit: the estimate, the limit and the work, with
    Approve and Reject (a rejection says why). Another site's work order is a 404."""
    work_order = get_object_or_404(
        WorkOrder.objects.for_user(request.user).select_related("site", "asset", "contract"),
        pk=pk,
    )
    form = ClientDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                wo_services.work_order_client_decide(
                    work_order=work_order,
                    approve=approve,
                    comment=form.cleaned_data["comment"],
                    by=request.user,
                )
            except SERVICE_ERRORS as error:
                status = _refused(form, error)
            else:
                verdict = "approved" if approve else "rejected; the planners were told why"
                messages.success(request, f"Thank you. {work_order.number}: {verdict}.")
                return redirect("tech:home")
    context = {
        "wo": work_order,
        "form": form,
        "pending": work_order.client_approval == ClientApproval.PENDING,
        "currency": work_order.contract.currency if work_order.contract else "",
    }
    return render(request, "tech/client_approval.html", context, status=status)


# ---------------------------------------------------------------- QR labels


def asset_url(asset) -> str:
    """The absolute URL a label's QR code opens: the asset's page (after login)."""
    return f"{settings.SITE_URL}{reverse('tech:asset', args=[asset.pk])}"


def qr_svg(url: str) -> str:
    return segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2, omitsize=True)


def _labels(request, assets):
    labels = [{"asset": a, "url": asset_url(a), "svg": qr_svg(asset_url(a))} for a in assets]
    return render(request, "tech/labels.html", {"labels": labels})


@require_GET
@planner_required
def asset_label(request, pk):
    asset = get_object_or_404(Asset.objects.for_user(request.user).select_related("site"), pk=pk)
    return _labels(request, [asset])


@require_GET
@planner_required
def asset_labels(request):
    """A printable sheet of labels: `?site=<id>` (all its assets) or `?ids=1,2,3`."""
    assets = Asset.objects.for_user(request.user).select_related("site").order_by("site", "path")
    if request.GET.get("ids"):
        ids = [parse_id(i.strip()) for i in request.GET["ids"].split(",") if i.strip()]
        if None in ids:
            return render(
                request,
                "tech/labels.html",
                {"labels": [], "error": "ids must be asset numbers separated by commas."},
                status=400,
            )
        assets = assets.filter(pk__in=ids)
    elif request.GET.get("site", "").isdigit():
        site_id = parse_id(request.GET["site"]) or 0  # digits no id has: 404
        site = get_object_or_404(Site.objects.for_user(request.user), pk=site_id)
        assets = assets.filter(site=site)
    else:
        sites = Site.objects.for_user(request.user).order_by("code")
        return render(request, "tech/labels.html", {"labels": [], "sites": sites})
    return _labels(request, list(assets[:MAX_LABELS]))


# ---------------------------------------------------------------- inspection rounds


def _round_ids(check) -> str:
    return f"check{check.pk}-%s"


def _load_run(user, pk) -> RoundRun:
    return get_object_or_404(RoundRun.objects.for_user(user).select_related("route__site"), pk=pk)


def _render_round(request, run, *, status=200, forms=None, page_errors=()):
    """The round page: its points in walking order, each check with its limits, its result so
    far and a small form that saves that one result."""
    forms = forms or {}
    results = {r.route_check_id: r for r in run.results.select_related("work_order")}
    points = list(run.route.points.select_related("asset").prefetch_related("checks"))
    total = 0
    for point in points:
        point.path = selectors.asset_path(point.asset)
        for check in point.checks.all():
            total += 1
            check.result = results.get(check.pk)
            check.form = forms.get(check.pk) or RoundResultForm(auto_id=_round_ids(check))
    context = {
        "run": run,
        "points": points,
        "recorded": len(results),
        "total": total,
        "may_walk": policy.may_change_work(request.user) and run.status in OPEN_RUN_STATUSES,
        "page_errors": page_errors,
    }
    return render(request, "tech/round.html", context, status=status)


@require_GET
@login_required
def round_detail(request, pk):
    return _render_round(request, _load_run(request.user, pk))


@form_address("tech:round")
def round_result(request, pk, check_id):
    """Save one check's result (one POST each; repeating it changes nothing)."""
    run = _load_run(request.user, pk)
    check = get_object_or_404(RouteCheck.objects.filter(point__route_id=run.route_id), pk=check_id)
    form = RoundResultForm(request.POST, auto_id=_round_ids(check))
    status = 400
    if form.is_valid():
        try:
            result = pm_services.round_result_record(
                run=run,
                route_check=check,
                by=request.user,
                value=form.cleaned_data["value"],
                passed=form.cleaned_data["passed"],
                note=form.cleaned_data["note"],
            )
        except SERVICE_ERRORS as error:
            status = _refused(form, error)
        else:
            text = f"{check.label}: saved."
            if result.work_order_id:
                text += f" Work request {result.work_order.number} raised."
            messages.success(request, text)
            return redirect(f"{reverse('tech:round', args=[pk])}#check-{check.pk}")
    errors = [error["text"] for error in error_sentences(form)]
    return _render_round(
        request,
        _load_run(request.user, pk),
        status=status,
        forms={check.pk: form},
        page_errors=errors,
    )


@form_address("tech:round", "complete")
def round_complete(request, pk):
    run = _load_run(request.user, pk)
    form = django_forms.Form(request.POST)
    form.is_valid()
    try:
        pm_services.round_run_complete(run=run, by=request.user)
    except SERVICE_ERRORS as error:
        status = _refused(form, error)
        errors = [error["text"] for error in error_sentences(form)]
        return _render_round(request, run, status=status, page_errors=errors)
    messages.success(request, f"Round {run.route.code} completed.")
    return redirect("tech:home")
