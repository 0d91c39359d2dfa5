"""Admin for outbound events: a person's endpoints (the secret shown once), the events and the
delivery log with every attempt; replay a delivery, send a test event.

Planners see their own endpoints and what was sent to them; superusers see everything.
"""

from django.contrib import admin, messages
from django.db import models
from django.template.response import TemplateResponse

from cmms.admin import VIEW_ONLY, ReadOnlyInlineMixin, SiteScopedAdminMixin
from cmms.errors import ConflictError
from cmms.http import never_store
from integrations import delivery, services
from integrations.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    list_display = ("url", "owner", "enabled", "event_types", "failing_since", "disabled_at")
    list_filter = ("enabled",)
    list_select_related = ("owner",)
    search_fields = ("url", "description")
    fields = ("url", "description", "event_types", "sites", "enabled")
    readonly_fields = (
        "owner",
        "secret_fingerprint",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
    )
    actions = ["send_test_event"]
    # Endpoints are https unless private networks are allowed (integrations.urlguard).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else (*self.fields, *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.fields if name != "sites"}
        if change:
            # The form already set the instance's fields: the service must see the stored
            # row to tell a re-enabled endpoint (its health starts afresh).
            stored = type(obj).objects.get(pk=obj.pk)
            self.call_service(services.endpoint_update, endpoint=stored, **data)
            return
        endpoint, secret = self.call_service(
            services.endpoint_create, owner=request.user, sites=form.cleaned_data["sites"], **data
        )
        obj.pk, obj._state = endpoint.pk, endpoint._state
        request._new_endpoint_secret = (endpoint, secret)

    def save_related(self, request, form, formsets, change):
        if change:
            self.call_service(
                services.endpoint_update, endpoint=form.instance, sites=form.cleaned_data["sites"]
            )

    def response_add(self, request, obj, post_url_continue=None):
        endpoint, secret = request._new_endpoint_secret
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Webhook endpoint secret",
            "endpoint": endpoint,
            "secret": secret,
        }
        template = "admin/integrations/webhookendpoint/secret.html"
        return never_store(TemplateResponse(request, template, context))

    @admin.action(description="Send test event")
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_send_test(endpoint=endpoint)
        self.message_user(request, f"Test event queued for {queryset.count()} endpoint(s).")


class DeliveryAttemptInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ("at", "status_code", "duration_ms", "error", "response_excerpt")


@admin.register(Delivery)
class DeliveryAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    permissions = VIEW_ONLY
    list_display = ("event", "endpoint", "status", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("status",)
    list_select_related = ("event", "endpoint")
    readonly_fields = (
        "event",
        "endpoint",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "locked_until",
        "last_status_code",
        "last_error",
        "delivered_at",
    )
    fields = readonly_fields
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]

    def scope_queryset(self, queryset, request):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(endpoint__owner=request.user)

    @admin.action(description="Replay (send again now)")
    def replay(self, request, queryset):
        replayed, busy = 0, 0
        for found in queryset:
            try:
                delivery.delivery_replay(delivery=found)
                replayed += 1
            except ConflictError:
                busy += 1
        self.message_user(request, f"{replayed} delivery(ies) queued again.")
        if busy:
            self.message_user(
                request,
                f"{busy} delivery(ies) being sent right now; replay them afterwards.",
                messages.WARNING,
            )


@admin.register(Event)
class EventAdmin(SiteScopedAdminMixin, admin.ModelAdmin):
    permissions = VIEW_ONLY
    list_display = ("type", "subject", "site", "occurred_at")
    list_filter = ("type",)
    list_select_related = ("site",)
    readonly_fields = ("type", "site", "subject", "payload", "occurred_at")
    fields = readonly_fields

    def scope_queryset(self, queryset, request):
        """Events sent to the user's endpoints (superusers: all)."""
        if request.user.is_superuser:
            return queryset
        mine = Delivery.objects.filter(endpoint__owner=request.user).values("event_id")
        return queryset.filter(pk__in=mine)
