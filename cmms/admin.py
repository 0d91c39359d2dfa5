"""The planners' admin, its reusable parts: who may enter, which rows they see, and how admin
writes reach services. The site itself (`CmmsAdminSite`, its login form and AppConfig) is the
planner app's, in `planner/admin_site.py`; it lets in `may_use_admin` users only.

- `RoleGatedAdminMixin` answers the model permissions from the role, so planners need no
  Django model permissions; each admin names what it allows in `permissions`.
- `SiteScopedAdminMixin` restricts the changelist, change pages and every foreign-key choice to
  the user's sites (`Model.objects.for_user(user)`), and turns errors raised by a service in
  `save_model`/`save_related` into form errors instead of a server error.
- `ScopedListFiltersMixin` (part of it) turns every list filter over a relation into one that
  offers only the related rows the listed rows use and the user may see themselves, and every
  filter on values across a relation into one over the user's rows, so no filter names
  another site's site, gateway, asset or person.
- Relations whose rows grow with the data (`GROWING_MODELS`: assets, parts, people, work
  orders...) are never listed: their form fields and list filters are chosen by search through
  Django's admin autocomplete (`AutocompleteJsonView`, answering from the related model's
  admin, which is scoped to the user's sites), so a page stays the same size at a million rows.
- `NamedInputsMixin` (part of it) names each of a date-and-time field's two inputs for screen
  readers.
"""

import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.admin.widgets import (
    AdminSplitDateTime,
    AutocompleteSelect,
    AutocompleteSelectMultiple,
)
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import BooleanField, DateField, Model, Q, QuerySet
from django.http import HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from cmms.errors import SERVICE_ERRORS, refusal_for
from cmms.inputs import parse_id
from cmms.rows import RowEdits, adopt_row
from cmms.scoping import scoped_choices

ALL_PERMISSIONS = frozenset({"view", "add", "change", "delete"})
# For records kept for what refers to them: deactivated or cancelled, never deleted.
NO_DELETE = frozenset({"view", "add", "change"})
# For records written by services only: ledgers, history, the audit trail.
VIEW_ONLY = frozenset({"view"})


def may_use_admin(user) -> bool:
    """Superusers, and planners who are active staff; nobody else, whatever their flags."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or (user.is_staff and user.is_planner)


def service_error_messages(error: Exception) -> str:
    """One line for people from a service's ValidationError or ServiceError."""
    return refusal_for(error).message


def add_service_error(form, error: Exception) -> None:
    """Show a service's refusal on the form: on the field it names when the form has it."""
    refusal_for(error).add_to_form(form)


class _ServiceRefused(Exception):
    """A service refused an admin write; carries its error back to `changeform_view`."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


# ---------------------------------------------------------------- changelist actions


def selection_checked(view):
    """A changelist whose action names rows by ids that are no ids of its model (`abc` for a
    UUID, twenty digits, "²") answers with a message, where the action's `pk__in` lookup
    raised a 500; the admin site wraps every model admin's view in it, third-party ones too."""
    model_admin = getattr(view, "__self__", None)
    if not isinstance(model_admin, admin.ModelAdmin) or view.__name__ != "changelist_view":
        return view

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if request.method == "POST" and not all(
            _is_pk(model_admin.model, value) for value in selected
        ):
            messages.error(request, "The selected rows are not rows of this list.")
            return HttpResponseRedirect(request.get_full_path())
        return view(request, *args, **kwargs)

    return checked


INTEGER_KEYS = frozenset({"AutoField", "BigAutoField", "IntegerField", "BigIntegerField"})


def _is_pk(model, value: str) -> bool:
    return _is_value_of(model._meta.pk, value)


def _is_value_of(field, value: str) -> bool:
    """Whether `value` is one the column `field` can hold (an id within 64 bits, a UUID)."""
    if field.get_internal_type() in INTEGER_KEYS:
        return parse_id(value) is not None
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------- permissions by role


class RoleGatedAdminMixin:
    """Model permissions from the role: planners and superusers get what `permissions` allows.

    `planner_permissions` (default: `permissions`) narrows it for planners, e.g. sites are
    view-only for planners and editable by superusers.
    """

    permissions: frozenset[str] = ALL_PERMISSIONS
    planner_permissions: frozenset[str] | None = None

    def _allows(self, request, permission: str) -> bool:
        user = request.user
        if not may_use_admin(user):
            return False
        if user.is_superuser or self.planner_permissions is None:
            return permission in self.permissions
        return permission in (self.permissions & self.planner_permissions)

    def has_module_permission(self, request):
        return may_use_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return self._allows(request, "view") or self._allows(request, "change")

    def has_add_permission(self, request, obj=None):
        return self._allows(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._allows(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._allows(request, "delete")


# Models whose rows grow with the data (a plant has thousands of assets, a partner a million
# work orders): a relation to one of them is chosen by search, never offered as a list.
GROWING_MODELS = frozenset(
    {
        "accounts.User",
        "alerts.Alert",
        "assets.Asset",
        "assets.Meter",
        "assets.Part",
        "assets.Stock",
        "pm.PMPlan",
        "workorders.WorkOrder",
    }
)


def grows_with_data(model: type[Model]) -> bool:
    return model._meta.label in GROWING_MODELS


class NamedSplitDateTime(AdminSplitDateTime):
    """Django's admin date and time inputs, each with its own accessible name ("Due: date").

    Django labels only the field as a whole and writes "Date:" and "Time:" as bare text, so a
    screen reader announces two unnamed inputs (axe-core: "Form elements must have labels").
    """

    def __init__(self, label, attrs=None):
        super().__init__(attrs)
        self.label = label

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        parts = (_("date"), _("time"))
        for subwidget, part in zip(context["widget"]["subwidgets"], parts, strict=True):
            subwidget["attrs"]["aria-label"] = f"{self.label}: {part}"
        return context


class NamedInputsMixin:
    """Every admin form's date-and-time fields get `NamedSplitDateTime`."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and type(formfield.widget) is AdminSplitDateTime:
            widget = NamedSplitDateTime(formfield.label, attrs=formfield.widget.attrs)
            widget.is_required = formfield.widget.is_required
            formfield.widget = widget
        return formfield


class ScopedChoicesMixin(NamedInputsMixin):
    """Foreign-key and many-to-many choices limited to the user's sites; a relation to a model
    that grows with the data is an autocomplete field (searched, not listed)."""

    def get_autocomplete_fields(self, request):
        named = tuple(super().get_autocomplete_fields(request))
        raw = set(self.raw_id_fields)
        growing = tuple(
            field.name
            for field in self.model._meta.get_fields()
            if (field.many_to_one or field.many_to_many or field.one_to_one)
            and field.concrete
            and field.editable
            and grows_with_data(field.related_model)
            and field.name not in named
            and field.name not in raw
        )
        return named + growing

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = _scoped_queryset(db_field, request, kwargs)
        return _ids_checked(super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = _scoped_queryset(db_field, request, kwargs)
        return _ids_checked(super().formfield_for_manytomany(db_field, request, **kwargs))


def _scoped_queryset(db_field, request, kwargs: dict) -> dict:
    """The form field's arguments with its choices limited to what the user may see (unless
    the caller chose a queryset itself, or the related model is not scoped)."""
    if "queryset" not in kwargs:
        choices = scoped_choices(db_field.related_model, request.user)
        if choices is not None:
            kwargs["queryset"] = choices
    return kwargs


class _IdsCheckedAutocomplete:
    """Django's autocomplete widget looks up the posted values as they are when a refused form
    is shown again: a value that is no id ("abc", a date, twenty digits) raised a 500 there."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        # A many-to-many relation (a contract's assets) names no target field: its key.
        field_name = getattr(remote, "field_name", None)
        meta = remote.model._meta
        to_field = meta.get_field(field_name) if field_name else meta.pk
        valid = [v for v in value if v in (None, "") or _is_value_of(to_field, str(v))]
        return super().optgroups(name, valid, attr)


class _IdsCheckedSelect(_IdsCheckedAutocomplete, AutocompleteSelect):
    pass


class _IdsCheckedSelectMultiple(_IdsCheckedAutocomplete, AutocompleteSelectMultiple):
    pass


def _ids_checked(formfield):
    widget = getattr(formfield, "widget", None)
    inner = getattr(widget, "widget", None)  # inside the "add another" wrapper
    for current in (widget, inner):
        if isinstance(current, AutocompleteSelectMultiple):
            current.__class__ = _IdsCheckedSelectMultiple
        elif isinstance(current, AutocompleteSelect):
            current.__class__ = _IdsCheckedSelect
    return formfield


# ---------------------------------------------------------------- list filters


def autocomplete_widget(source_field, admin_site, attrs=None):
    """Django's admin autocomplete for the relation `source_field`: its answers come from the
    related model's admin (`get_queryset` scoped to the user's sites, `get_search_results`)."""
    return _IdsCheckedSelect(source_field, admin_site, attrs=attrs)


class AutocompleteFilterMixin:
    """A list filter whose one value is chosen by search (Django's admin autocomplete over
    `source_field`) in a small GET form, instead of a link per row: the sidebar stays the same
    size whatever the number of rows. The chosen row's label is looked up within the user's
    sites; the other parameters of the list are kept as hidden fields.

    The filter sets `parameter_name`, `source_field` and `model_admin` before `choices`.
    """

    template = "admin/cmms/autocomplete_filter.html"

    def _autocomplete_form(self, request, value):
        related = self.source_field.related_model
        queryset = scoped_choices(related, request.user)
        if queryset is None:
            queryset = related._default_manager.all()
        field = forms.ModelChoiceField(
            queryset=queryset,
            required=False,
            label=self.title,
            widget=autocomplete_widget(
                self.source_field,
                self.model_admin.admin_site,
                attrs={"data-width": "100%"},  # select2's option: the sidebar's width
            ),
        )
        form_class = type("AutocompleteFilterForm", (forms.Form,), {self.parameter_name: field})
        return form_class(initial={self.parameter_name: value}, prefix=None)

    def has_output(self):
        return True

    def choices(self, changelist):
        value = changelist.params.get(self.parameter_name)
        mine = {*self.expected_parameters(), PAGE_VAR}
        keep = {key: item for key, item in changelist.params.items() if key not in mine}
        yield {
            "form": self._autocomplete_form(self.request, value),
            "field_name": self.parameter_name,
            "hidden": sorted(keep.items()),
            "selected": value not in (None, ""),
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }


class AutocompleteRelatedListFilter(AutocompleteFilterMixin, admin.RelatedFieldListFilter):
    """A relation's filter (`asset`, `assignee`, `stock__part`...) chosen by search."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.request = request
        self.model_admin = model_admin
        self.source_field = field
        super().__init__(field, request, params, model, model_admin, field_path)
        self.parameter_name = self.lookup_kwarg

    def field_choices(self, field, request, model_admin):
        return []  # nothing listed: the row is found by search

    def choices(self, changelist):
        for choice in super().choices(changelist):
            # A nullable relation keeps Django's "none" link (unassigned work, for one).
            if self.include_empty_choice:
                choice["empty"] = {
                    "label": self.empty_value_display,
                    "selected": bool(self.lookup_val_isnull),
                    "url": changelist.get_query_string(
                        {self.lookup_kwarg_isnull: "True"}, [self.lookup_kwarg]
                    ),
                }
            choice["clear_url"] = changelist.get_query_string(
                remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]
            )
            choice["selected"] = choice["selected"] or bool(self.lookup_val_isnull)
            yield choice


class ScopedRelatedFieldListFilter(admin.RelatedOnlyFieldListFilter):
    """A relation's filter choices: the related rows that the listed (already scoped) rows use,
    limited to those the user may see themselves; a shared person's other sites, another
    site's gateway or asset never appear.
    """

    def field_choices(self, field, request, model_admin):
        used = model_admin.get_queryset(request).values(f"{self.field_path}__pk")
        limit = Q(pk__in=used)
        visible = scoped_choices(field.related_model, request.user)
        if visible is not None:
            limit &= Q(pk__in=visible.values("pk"))
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Values of a field across a relation, taken from the listed (scoped) rows only; Django's
    own filter reads them from every row of the related table.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        rows = model_admin.get_queryset(request)
        self.lookup_choices = (
            rows.distinct().order_by(field_path).values_list(field_path, flat=True)
        )


def scoped_list_filter(model: type[Model], entry):
    """The list filter `entry` (a field path, or a (path, filter class) pair) with its choices
    computed within the user's sites; custom `SimpleListFilter`s scope themselves.
    """
    if isinstance(entry, str):
        path, filter_class = entry, None
    elif isinstance(entry, (tuple, list)):
        path, filter_class = entry
    else:
        return entry
    field = get_fields_from_path(model, path)[-1]
    if field.is_relation and (
        filter_class is None or issubclass(filter_class, admin.RelatedFieldListFilter)
    ):
        if grows_with_data(field.related_model):
            return (path, AutocompleteRelatedListFilter)
        return (path, ScopedRelatedFieldListFilter)
    plain_values = not field.choices and not isinstance(field, (BooleanField, DateField))
    if "__" in path and (
        issubclass(filter_class, admin.AllValuesFieldListFilter) if filter_class else plain_values
    ):
        return (path, ScopedAllValuesFieldListFilter)
    return entry


class ScopedListFiltersMixin:
    """Every list filter's choices within the user's sites (see `scoped_list_filter`); the
    changelist carries the autocomplete's scripts when a filter is chosen by search."""

    def get_list_filter(self, request):
        return [scoped_list_filter(self.model, entry) for entry in super().get_list_filter(request)]

    @property
    def media(self):
        media = super().media
        if any(_searched_filter(self.model, entry) for entry in self.list_filter):
            # The scripts and styles every autocomplete widget carries (none depends on a field).
            media += AutocompleteSelect(None, self.admin_site).media
        return media


def _searched_filter(model, entry) -> bool:
    chosen = scoped_list_filter(model, entry)
    filter_class = chosen[1] if isinstance(chosen, (tuple, list)) else chosen
    return isinstance(filter_class, type) and issubclass(filter_class, AutocompleteFilterMixin)


# ---------------------------------------------------------------- counting large lists


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered list of a large table from PostgreSQL's statistics instead of
    reading every row: `pg_class.reltuples`, which autovacuum and ANALYZE keep close to the
    truth. A filtered list (a planner's sites, a status, a search), a table smaller than
    `EXACT_BELOW` rows and any list on SQLite are counted exactly.
    """

    EXACT_BELOW = 10_000

    @cached_property
    def count(self):
        estimate = estimated_rows(self.object_list)
        if estimate is not None and estimate >= self.EXACT_BELOW:
            return estimate
        return super().count


def estimated_rows(queryset) -> int | None:
    """The planner's estimate of the rows of an unfiltered queryset's table, or None when the
    queryset is filtered, distinct, sliced or grouped, not on PostgreSQL, or never analysed."""
    if not isinstance(queryset, QuerySet):
        return None
    query = queryset.query
    connection = connections[queryset.db]
    if (
        connection.vendor != "postgresql"
        or query.where
        or query.distinct
        or query.combinator
        or query.is_sliced
        or query.group_by is not None
    ):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] >= 0 else None


class SiteScopedAdminMixin(RoleGatedAdminMixin, ScopedChoicesMixin, ScopedListFiltersMixin):
    """Base of every model admin: role gating, site scoping, and writes through services.

    Override `scope_queryset` for models that are not site-owned but still per-customer;
    global catalogues (parts, skills, failure codes) are not scoped.
    """

    show_full_result_count = False  # one COUNT less on every changelist
    paginator = EstimatedCountPaginator  # and no COUNT over a whole large table

    def get_queryset(self, request):
        return self.scope_queryset(super().get_queryset(request), request)

    def scope_queryset(self, queryset, request):
        if hasattr(queryset, "for_user"):
            return queryset.for_user(request.user)
        return queryset

    # -- service errors become form errors

    def call_service(self, service, /, **kwargs):
        """Call a service from save_model/save_related; a refusal re-renders the form with it."""
        try:
            return service(**kwargs)
        except SERVICE_ERRORS as error:
            raise _ServiceRefused(error) from error

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _ServiceRefused as refused:
            # The transaction of the first attempt is rolled back; render the same POST again
            # with the service's error on the form, so nothing is saved and the planner sees why.
            request._cmms_service_error = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        error = getattr(request, "_cmms_service_error", None)
        if error is None:
            return form_class

        class RefusedByService(form_class):
            def clean(self):
                cleaned_data = super().clean()
                add_service_error(self, error)
                return cleaned_data

        RefusedByService.__name__ = form_class.__name__
        return RefusedByService

    # -- actions

    def report_per_row(self, request, *, done: list[str], refused: list[tuple[str, str]], verb):
        """Tell the planner how many rows changed and which were refused and why."""
        if done:
            self.message_user(
                request,
                f"{verb} {len(done)} {self._noun(len(done))}: {', '.join(done)}.",
                messages.SUCCESS,
            )
        if refused:
            reasons = "; ".join(f"{name}: {why}" for name, why in refused)
            self.message_user(
                request,
                f"Refused {len(refused)} {self._noun(len(refused))}: {reasons}",
                messages.WARNING,
            )
        if not done and not refused:
            self.message_user(request, "Nothing selected.", messages.INFO)

    def _noun(self, count: int) -> str:
        meta = self.model._meta
        return meta.verbose_name if count == 1 else meta.verbose_name_plural


class ScopedInlineMixin(RoleGatedAdminMixin, ScopedChoicesMixin):
    """Inlines: same role gating and choice scoping (the parent row is already scoped).

    Every input of an inline row is named after its column ("Priority", "Delete"): a tabular
    inline writes the labels once, in the table's head, so a screen reader would announce each
    row's inputs unnamed (axe-core: "Form elements must have labels").
    """

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class NamedInputsFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                for name, field in form.fields.items():
                    label = str(field.label or name.replace("_", " ").capitalize())
                    widget = field.widget
                    # A related field's wrapper renders its own copy of the inner widget.
                    for inner in (widget, getattr(widget, "widget", None)):
                        if inner is not None:
                            inner.attrs.setdefault("aria-label", label)

        NamedInputsFormSet.__name__ = formset.__name__
        return NamedInputsFormSet


class ReadOnlyInlineMixin(ScopedInlineMixin):
    """A read-only inline (history, events, ledgers): no add, change or delete by anyone."""

    permissions = VIEW_ONLY
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return tuple(self.fields or ())


def adopt_saved(instance: Model, saved: Model) -> None:
    """Make the admin's form instance the row a service created or changed (pk, computed fields,
    related objects the service set)."""
    adopt_row(instance, saved)


def changed_values(form, allowed) -> dict:
    """The cleaned values of the fields the planner changed, limited to `allowed`."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


def inline_edits(formset) -> RowEdits | None:
    """The rows the planner added, changed and deleted in an inline, for a service that writes
    them (`cmms.rows.row_edits_apply`); None when the inline was left alone. Saves nothing."""
    if formset is None or not formset.has_changed():
        return None
    fields = [name for name in formset.form.base_fields if name in formset.form._meta.fields]
    edits = RowEdits()
    for form in formset.forms:
        if not form.has_changed() and form.instance.pk is None:
            continue  # an empty extra row
        if formset.can_delete and formset._should_delete_form(form):
            if form.instance.pk is not None:
                edits.deleted.append(form.instance.pk)
        elif form.instance.pk is None:
            edits.added.append({name: form.cleaned_data[name] for name in fields})
        elif form.has_changed():
            changed = [name for name in form.changed_data if name in fields]
            if changed:
                edits.changed[form.instance.pk] = {
                    name: form.cleaned_data[name] for name in changed
                }
    return edits if edits else None
