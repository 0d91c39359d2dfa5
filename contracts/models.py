"""Client contracts: what a customer bought, how fast, in whose hours, and at what price.

A contract covers some of its customer's sites (and optionally only some assets there). Its
targets promise a response and a resolution time per priority, counted in the site's business
calendar (or around the clock); the hold reasons it names pause that clock. Its billing terms
turn a work order's cost into billable lines, and its not-to-exceed amount sends dearer work to
the client for approval.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from cmms.fields import money_field, optional_foreign_key
from cmms.scoping import SiteScopedQuerySet, UserScopedQuerySet
from cmms.work import HoldReason, Priority
from contracts.choices import WEEKDAYS, SlaClock, SlaMeasure, SlaState

SHARE = {"max_digits": 4, "decimal_places": 3}


class BusinessCalendar(models.Model):
    """A site's working time: the days and hours its contracts' clocks run, in the site's
    time zone (`Site.timezone`), except on its holidays. One window per working day."""

    site_lookup = "site"

    site = models.OneToOneField(
        "assets.Site", on_delete=models.CASCADE, related_name="business_calendar"
    )
    working_days = models.JSONField(
        default=list,
        help_text="Weekday numbers that are working days: 0 Monday … 6 Sunday.",
    )
    day_starts = models.TimeField(default=datetime.time(8, 0))
    day_ends = models.TimeField(default=datetime.time(17, 0))

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["site"]
        constraints = [
            models.CheckConstraint(
                condition=Q(day_ends__gt=models.F("day_starts")),
                name="calendar_day_ends_after_start",
            ),
        ]

    def __str__(self):
        days = ", ".join(name for number, name in WEEKDAYS if number in self.working_days)
        return f"{self.site.code}: {days} {self.day_starts:%H:%M}-{self.day_ends:%H:%M}"

    def clean(self):
        days = self.working_days
        if not isinstance(days, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days
        ):
            raise ValidationError({"working_days": "A list of weekday numbers, 0 (Mon) to 6."})
        if len(set(days)) != len(days):
            raise ValidationError({"working_days": "A weekday is listed twice."})
        if not days:
            raise ValidationError({"working_days": "A calendar needs at least one working day."})
        if self.day_starts and self.day_ends and self.day_ends <= self.day_starts:
            raise ValidationError({"day_ends": "The working day must end after it starts."})


class Holiday(models.Model):
    """A day a site does not work; its contracts' business clocks stand still all day."""

    site_lookup = "calendar__site"

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date"),
        ]

    def __str__(self):
        return f"{self.date} {self.name}"


class ContractQuerySet(UserScopedQuerySet):
    def visible_to(self, user):
        """Contracts covering at least one of the user's sites."""
        return self.filter(sites__in=user.site_ids()).distinct()

    def in_force(self, on: datetime.date):
        return self.filter(is_active=True, starts_on__lte=on).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=on)
        )


class Contract(models.Model):
    """A customer's service agreement with the partner.

    Covers its sites (all their assets, or only `assets` when some are listed) from
    `starts_on` to `ends_on` (open-ended when empty). Amounts are in the customer's currency.
    """

    customer = models.ForeignKey(
        "assets.Customer", on_delete=models.PROTECT, related_name="contracts"
    )
    reference = models.CharField(max_length=50, unique=True, help_text="E.g. C-2026-014.")
    name = models.CharField(max_length=200)
    sites = models.ManyToManyField("assets.Site", related_name="contracts")
    assets = models.ManyToManyField(
        "assets.Asset",
        blank=True,
        related_name="contracts",
        help_text="Leave empty to cover every asset of the sites.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    # SLA clock
    at_risk_share = models.DecimalField(
        **SHARE,
        default=Decimal("0.75"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("0.99"))],
        help_text="Share of a target's time used at which work turns at risk (0.75 = 75 %).",
    )
    pausing_hold_reasons = models.JSONField(
        default=list,
        blank=True,
        help_text="Hold reasons that stop the SLA clock while the work waits (e.g. the client).",
    )

    # Billing terms
    labour_rate = money_field(
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Billing rate per labour hour, unless a skill has its own rate.",
    )
    overtime_multiplier = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.5"),
        validators=[MinValueValidator(Decimal("1"))],
        help_text="Overtime hours are billed at the rate times this.",
    )
    parts_markup_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Added to the parts' cost on the bill.",
    )
    services_markup_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Added to external service lines on the bill.",
    )
    monthly_fee = money_field(
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Fixed fee billed each month.",
    )
    fee_covers_preventive = models.BooleanField(
        default=True,
        help_text="Preventive and inspection work is covered by the fixed fee (not billed again).",
    )
    not_to_exceed = money_field(
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Work estimated above this waits for the client's approval. Empty: no limit.",
    )
    client_approval_pauses_clock = models.BooleanField(
        default=True, help_text="The SLA clock stands still while the client decides."
    )
    requires_client_signature = models.BooleanField(
        default=False,
        help_text="Work under this contract is completed with the client representative's "
        "signature (copied to each work order when it is created).",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.name}"

    @property
    def currency(self) -> str:
        return self.customer.currency

    def clean(self):
        reasons = self.pausing_hold_reasons
        if not isinstance(reasons, list) or any(r not in HoldReason.values for r in reasons):
            raise ValidationError(
                {"pausing_hold_reasons": f"A list of hold reasons from {HoldReason.values}."}
            )
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "A contract cannot end before it starts."})


class SlaTarget(models.Model):
    """The response and resolution times a contract promises for one priority."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    response_hours = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    resolution_hours = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    clock = models.CharField(max_length=10, choices=SlaClock.choices, default=SlaClock.BUSINESS)

    class Meta:
        ordering = ["contract", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "priority"], name="sla_target_one_per_priority"
            ),
            models.CheckConstraint(
                condition=Q(resolution_hours__gte=models.F("response_hours")),
                name="sla_target_resolution_after_response",
            ),
        ]

    def __str__(self):
        return (
            f"P{self.priority}: respond {self.response_hours} h, resolve {self.resolution_hours} h"
        )


class BillingRate(models.Model):
    """A labour billing rate for one skill under a contract (others bill at the contract's)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="billing_rates")
    skill = models.ForeignKey("accounts.Skill", on_delete=models.CASCADE, related_name="+")
    hourly_rate = money_field(validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["contract", "skill"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "skill"], name="billing_rate_one_per_skill"
            ),
        ]

    def __str__(self):
        return f"{self.skill}: {self.hourly_rate}"


class SlaWarning(models.Model):
    """One warning sent to a site's planners: a work order's response or resolution reached a
    threshold. Unique, so repeated beat runs warn once per threshold."""

    site_lookup = "work_order__site"

    work_order = models.ForeignKey(
        "workorders.WorkOrder", on_delete=models.CASCADE, related_name="sla_warnings"
    )
    measure = models.CharField(max_length=10, choices=SlaMeasure.choices)
    state = models.CharField(max_length=10, choices=SlaState.choices)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveSmallIntegerField(default=0)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "measure", "state", "due_at"], name="sla_warning_once"
            ),
        ]

    def __str__(self):
        return f"{self.work_order_id} {self.measure} {self.state}"


class LabourRate(models.Model):
    """What an hour of labour costs the partner (not what it bills): for one technician, or
    for a skill, or the default (neither), in one currency, with its overtime rate."""

    technician = optional_foreign_key(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labour_rates"
    )
    skill = optional_foreign_key("accounts.Skill", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3, default="EUR")
    # Bounded so a day's labour (24 h x rate) always fits the labour entry's cost.
    hourly_cost = money_field(
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100000"))]
    )
    overtime_hourly_cost = money_field(
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100000"))]
    )
    valid_from = models.DateField()

    class Meta:
        ordering = ["currency", "technician", "skill", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(technician__isnull=True) | Q(skill__isnull=True),
                name="labour_rate_technician_or_skill",
            ),
            models.UniqueConstraint(
                fields=["currency", "technician", "valid_from"],
                condition=Q(technician__isnull=False),
                name="labour_rate_unique_technician",
            ),
            models.UniqueConstraint(
                fields=["currency", "skill", "valid_from"],
                condition=Q(skill__isnull=False),
                name="labour_rate_unique_skill",
            ),
            models.UniqueConstraint(
                fields=["currency", "valid_from"],
                condition=Q(technician__isnull=True, skill__isnull=True),
                name="labour_rate_unique_default",
            ),
        ]

    def __str__(self):
        who = self.technician or self.skill or "default"
        return f"{who} {self.hourly_cost} {self.currency}/h from {self.valid_from}"
