import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from cmms.fields import optional_foreign_key
from cmms.scoping import SiteScopedQuerySet
from pm.choices import (
    Anchor,
    CheckKind,
    IntervalUnit,
    OccurrenceStatus,
    RunStatus,
    Scope,
    Trigger,
    WorkOrderStatus,
)
from workorders.choices import Priority
from workorders.models import JOB_PLAN_NOT_USABLE

METER_VALUE = {"max_digits": 16, "decimal_places": 3}


class PMPlanQuerySet(SiteScopedQuerySet):
    def active(self):
        return self.filter(is_active=True)


class PMPlan(models.Model):
    """Preventive maintenance: a job plan done on a set of assets, on a calendar or meter trigger.

    The set of assets is one asset, an asset's subtree, or all assets of an equipment class at
    the site. Each due date (calendar) or meter threshold of each asset is a `PMOccurrence`,
    created exactly once by `pm_generate_due`.
    """

    site_lookup = "site"
    sync_resource = "pm-plans"

    site = models.ForeignKey("assets.Site", on_delete=models.PROTECT, related_name="pm_plans")
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.ASSET)
    asset = optional_foreign_key(
        "assets.Asset",
        on_delete=models.PROTECT,
        related_name="pm_plans",
        help_text="The asset (scope asset) or the top of the subtree (scope subtree).",
    )
    equipment_class = optional_foreign_key(
        "assets.EquipmentClass",
        on_delete=models.PROTECT,
        related_name="pm_plans",
        help_text="Required for scope equipment class; narrows a subtree when given.",
    )
    job_plan = models.ForeignKey(
        "workorders.JobPlan", on_delete=models.PROTECT, related_name="pm_plans"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    work_order_status = models.CharField(
        max_length=20,
        choices=WorkOrderStatus.choices,
        default=WorkOrderStatus.SCHEDULED,
        help_text="Status the generated work orders start in.",
    )
    skip_while_open = models.BooleanField(
        default=True,
        help_text="Skip (and record) an occurrence while the previous PM work order of this "
        "plan for the asset is still open.",
    )

    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.CALENDAR)
    # Calendar trigger
    interval = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Every N units."
    )
    interval_unit = models.CharField(
        max_length=10, choices=IntervalUnit.choices, default=IntervalUnit.MONTH
    )
    anchor = models.CharField(max_length=10, choices=Anchor.choices, default=Anchor.FIXED)
    starts_on = models.DateField(
        null=True, blank=True, help_text="First due date (site's local date); anchors the schedule."
    )
    due_time = models.TimeField(
        default=datetime.time(6, 0), help_text="Local time of day the work is due."
    )
    ends_on = models.DateField(null=True, blank=True, help_text="No occurrence is due after it.")
    lead_days = models.PositiveIntegerField(
        default=0, help_text="Generate the work order this many days before it is due."
    )
    # Meter trigger
    meter_code = models.SlugField(
        max_length=50, blank=True, help_text="Code of each asset's meter (e.g. hours)."
    )
    meter_interval = models.DecimalField(
        **METER_VALUE, null=True, blank=True, help_text="Every N units of the meter."
    )
    meter_start = models.DecimalField(
        **METER_VALUE,
        default=Decimal("0"),
        help_text="Reading the thresholds count from (e.g. the reading at the last service).",
    )
    meter_lead = models.DecimalField(
        **METER_VALUE,
        default=Decimal("0"),
        validators=[MinValueValidator(0)],
        help_text="Generate when the projected reading is this close to the next threshold.",
    )

    generate_from = models.DateTimeField(
        default=timezone.now,
        help_text="Occurrences due before this moment are not generated (plan created or "
        "re-activated then).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PMPlanQuerySet.as_manager()

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "PM plan"
        indexes = [
            models.Index(fields=["is_active", "trigger", "id"]),
            models.Index(fields=["updated_at", "id"], name="pm_plan_sync"),  # docs/sync.md
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=4), name="pm_plan_priority_1_to_4"
            ),
            models.CheckConstraint(
                condition=~Q(trigger=Trigger.CALENDAR)
                | (Q(interval__gte=1) & Q(starts_on__isnull=False)),
                name="pm_plan_calendar_has_interval_and_start",
            ),
            models.CheckConstraint(
                condition=~Q(trigger=Trigger.METER) | (Q(meter_interval__gt=0) & ~Q(meter_code="")),
                name="pm_plan_meter_has_interval_and_code",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.site.timezone)

    @property
    def lead(self) -> datetime.timedelta:
        return datetime.timedelta(days=self.lead_days)

    def clean(self):
        errors = {}
        if self.scope in (Scope.ASSET, Scope.SUBTREE):
            if self.asset_id is None:
                errors["asset"] = "Choose the asset (or the top of the subtree)."
            elif self.site_id is not None and self.asset.site_id != self.site_id:
                errors["asset"] = "The asset belongs to another site."
        if self.scope == Scope.ASSET and self.equipment_class_id is not None:
            errors["equipment_class"] = "A single-asset plan has no equipment class."
        if self.scope == Scope.EQUIPMENT_CLASS:
            if self.equipment_class_id is None:
                errors["equipment_class"] = "Choose the equipment class."
            if self.asset_id is not None:
                errors["asset"] = "A plan for an equipment class has no asset."
        if self.trigger == Trigger.CALENDAR:
            if not self.interval:
                errors["interval"] = "A calendar plan needs an interval of at least 1."
            if self.starts_on is None:
                errors["starts_on"] = "A calendar plan needs its first due date."
            elif self.ends_on is not None and self.ends_on < self.starts_on:
                errors["ends_on"] = "The end date is before the first due date."
        if self.trigger == Trigger.METER:
            if not self.meter_code:
                errors["meter_code"] = "A meter plan needs the code of the meter."
            if self.meter_interval is None or self.meter_interval <= 0:
                errors["meter_interval"] = "A meter plan needs an interval greater than zero."
        if self.job_plan_id is not None and not self.job_plan.is_active:
            errors["job_plan"] = "The job plan is not active."
        elif (
            self.job_plan_id is not None
            and self.site_id is not None
            and not self.job_plan.is_usable_at(self.site)
        ):
            errors["job_plan"] = JOB_PLAN_NOT_USABLE
        if errors:
            raise ValidationError(errors)


class PMOccurrence(models.Model):
    """One due date (or meter threshold) of a plan for one asset: generated or skipped, once.

    The unique constraints are what makes generation exactly-once: concurrent or repeated
    runs insert with ON CONFLICT DO NOTHING and only the run whose row went in creates the
    work order.
    """

    site_lookup = "plan__site"

    plan = models.ForeignKey(PMPlan, on_delete=models.CASCADE, related_name="occurrences")
    asset = models.ForeignKey("assets.Asset", on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(help_text="Planned due date (projected for meter plans).")
    threshold = models.DecimalField(
        **METER_VALUE, null=True, blank=True, help_text="Meter reading this occurrence is for."
    )
    status = models.CharField(max_length=10, choices=OccurrenceStatus.choices)
    work_order = models.OneToOneField(
        "workorders.WorkOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pm_occurrence",
    )
    late = models.BooleanField(
        default=False, help_text="Generated after it should have been (a missed run)."
    )
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was skipped or late.")
    run = models.UUIDField(db_index=True, editable=False, help_text="The generation run.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "asset", "due_at"]
        verbose_name = "PM occurrence"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "asset", "due_at"],
                condition=Q(threshold__isnull=True),
                name="pm_occurrence_once_per_due_date",
            ),
            models.UniqueConstraint(
                fields=["plan", "asset", "threshold"],
                condition=Q(threshold__isnull=False),
                name="pm_occurrence_once_per_threshold",
            ),
        ]

    def __str__(self):
        key = f"{self.threshold} " if self.threshold is not None else ""
        return f"{self.plan} / {self.asset_id} {key}due {self.due_at:%Y-%m-%d %H:%M}"


class MeterReset(models.Model):
    """An explicit reset of a cumulative meter (replaced or rolled over).

    Readings after the reset count from `value_after`; `offset` carries the total counted
    before all resets so far, so PM thresholds keep counting lifetime units.
    """

    site_lookup = "meter__asset__site"

    meter = models.ForeignKey("assets.Meter", on_delete=models.CASCADE, related_name="resets")
    reset_at = models.DateTimeField()
    value_before = models.DecimalField(**METER_VALUE)
    value_after = models.DecimalField(**METER_VALUE, default=Decimal("0"))
    offset = models.DecimalField(
        **METER_VALUE, help_text="Lifetime value = reading + offset for readings after this reset."
    )
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["meter", "reset_at"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "reset_at"], name="meter_reset_unique_time"),
        ]

    def __str__(self):
        return f"{self.meter_id} reset {self.value_before} → {self.value_after}"


class GatewayReading(models.Model):
    """The idempotency key of a meter reading sent by a gateway: (gateway, reading_id)."""

    site_lookup = "gateway__site"

    gateway = models.ForeignKey("gateways.Gateway", on_delete=models.CASCADE, related_name="+")
    reading_id = models.CharField(max_length=128)
    meter_reading = models.OneToOneField(
        "assets.MeterReading", on_delete=models.CASCADE, related_name="gateway_reading"
    )
    received_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["gateway", "-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "reading_id"], name="gateway_reading_unique_id"
            ),
        ]

    def __str__(self):
        return f"{self.gateway_id}/{self.reading_id}"


class RouteQuerySet(SiteScopedQuerySet):
    def active(self):
        return self.filter(is_active=True)


class Route(models.Model):
    """An inspection round: an ordered walk past assets of one site, taking checks and readings.

    Scheduled on a fixed calendar like a PM plan (`pm/schedule.py`); each due date is a
    `RoundRun`, created once by `rounds_generate_due`.
    """

    site_lookup = "site"

    site = models.ForeignKey("assets.Site", on_delete=models.PROTECT, related_name="routes")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    assignee = optional_foreign_key(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="routes",
        help_text="Who walks it; empty: any technician with the required skill.",
    )
    required_skill = optional_foreign_key(
        "accounts.Skill", on_delete=models.PROTECT, related_name="routes"
    )
    interval = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Every N units."
    )
    interval_unit = models.CharField(
        max_length=10, choices=IntervalUnit.choices, default=IntervalUnit.DAY
    )
    starts_on = models.DateField(help_text="First due date (site's local date).")
    due_time = models.TimeField(
        default=datetime.time(8, 0), help_text="Local time of day the round is due."
    )
    ends_on = models.DateField(null=True, blank=True, help_text="No run is due after it.")
    lead_hours = models.PositiveIntegerField(
        default=12, help_text="Create the run this many hours before it is due."
    )
    grace_hours = models.PositiveIntegerField(
        default=4,
        help_text="A run not completed this long after it is due is late; one not started "
        "by then is missed.",
    )
    generate_from = models.DateTimeField(
        default=timezone.now, help_text="Runs due before this moment are not created."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RouteQuerySet.as_manager()

    class Meta:
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="route_code_unique_per_site"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.site.timezone)

    @property
    def grace(self) -> datetime.timedelta:
        return datetime.timedelta(hours=self.grace_hours)

    def clean(self):
        if self.ends_on is not None and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The end date is before the first due date."})


class RoutePoint(models.Model):
    """One stop of a route: an asset of the route's site, visited in `position` order."""

    site_lookup = "route__site"

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="points")
    position = models.PositiveSmallIntegerField()
    asset = models.ForeignKey("assets.Asset", on_delete=models.PROTECT, related_name="+")
    instruction = models.TextField(blank=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["route", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["route", "position"], name="route_point_unique_position"
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.asset_id}"

    def clean(self):
        # The route may be unsaved yet (a point added inline with a new route): its site is set.
        route = self.route if RoutePoint.route.is_cached(self) or self.route_id else None
        if route is not None and self.asset_id and self.asset.site_id != route.site_id:
            raise ValidationError({"asset": "The asset belongs to another site."})


class RouteCheck(models.Model):
    """What is checked at a point: pass/fail, or a reading with optional inclusive limits
    that may feed one of the asset's meters."""

    site_lookup = "point__route__site"

    point = models.ForeignKey(RoutePoint, on_delete=models.CASCADE, related_name="checks")
    position = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=10, choices=CheckKind.choices, default=CheckKind.CHECK)
    label = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, blank=True)
    low = models.DecimalField(**METER_VALUE, null=True, blank=True, help_text="Lowest good value.")
    high = models.DecimalField(
        **METER_VALUE, null=True, blank=True, help_text="Highest good value."
    )
    meter = optional_foreign_key(
        "assets.Meter",
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The asset's meter this reading feeds.",
    )

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["point", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(low__isnull=True) | Q(high__isnull=True) | Q(low__lte=F("high")),
                name="route_check_low_not_above_high",
            ),
            models.CheckConstraint(
                condition=Q(kind=CheckKind.READING)
                | (Q(low__isnull=True) & Q(high__isnull=True) & Q(meter__isnull=True)),
                name="route_check_limits_only_on_readings",
            ),
        ]

    def __str__(self):
        return self.label

    def clean(self):
        errors = {}
        if self.kind == CheckKind.CHECK and (
            self.low is not None or self.high is not None or self.meter_id is not None
        ):
            errors["kind"] = "Only a reading has limits and a meter."
        if self.low is not None and self.high is not None and self.low > self.high:
            errors["high"] = "The high limit is below the low limit."
        point = self.point if RouteCheck.point.is_cached(self) or self.point_id else None
        if self.meter_id and point is not None and self.meter.asset_id != point.asset_id:
            errors["meter"] = "The meter belongs to another asset than the point's."
        if errors:
            raise ValidationError(errors)

    def out_of_limits(self, value: Decimal) -> bool:
        """Whether a reading lies outside [low, high]; the limits themselves are good."""
        return (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        )

    @property
    def limits(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.low is not None and self.high is not None:
            return f"{self.low} to {self.high}{unit}"
        if self.low is not None:
            return f"at least {self.low}{unit}"
        if self.high is not None:
            return f"at most {self.high}{unit}"
        return ""


class RoundRun(models.Model):
    """One walk of a route, due at one moment; created once per (route, due_at)."""

    site_lookup = "route__site"

    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="runs")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.SCHEDULED)
    assignee = optional_foreign_key(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="round_runs"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = optional_foreign_key(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = optional_foreign_key(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "route"]
        indexes = [models.Index(fields=["status", "due_at"])]
        constraints = [
            models.UniqueConstraint(fields=["route", "due_at"], name="round_run_once_per_due"),
        ]

    def __str__(self):
        return f"{self.route} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def on_time(self) -> bool:
        """Completed within the route's grace after it was due (route compliance)."""
        return (
            self.status == RunStatus.COMPLETED
            and self.completed_at is not None
            and self.completed_at <= self.due_at + self.route.grace
        )


class RoundResult(models.Model):
    """The answer to one check in one run; re-submitting it updates the same row."""

    site_lookup = "run__route__site"

    run = models.ForeignKey(RoundRun, on_delete=models.CASCADE, related_name="results")
    route_check = models.ForeignKey(RouteCheck, on_delete=models.PROTECT, related_name="results")
    value = models.DecimalField(**METER_VALUE, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    out_of_limits = models.BooleanField(
        default=False, help_text="A reading outside the limits, or a failed check."
    )
    work_order = models.OneToOneField(
        "workorders.WorkOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="round_result",
        help_text="The work request this result raised (at most one).",
    )
    meter_reading = models.OneToOneField(
        "assets.MeterReading",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="round_result",
        help_text="The meter reading this result fed.",
    )
    recorded_by = optional_foreign_key(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["run", "route_check__point__position", "route_check__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "route_check"], name="round_result_once_per_check"
            ),
        ]

    def __str__(self):
        return f"{self.run_id}/{self.route_check_id}"
