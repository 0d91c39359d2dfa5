import fnmatch
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models

from cmms.fields import optional_foreign_key
from cmms.scoping import SiteScopedQuerySet
from pipeline.choices import Severity
from workorders.models import JOB_PLAN_NOT_USABLE


class AlertRuleQuerySet(SiteScopedQuerySet):
    def visible_to(self, user):
        """Rules of the user's sites, plus global rules (no site) for everyone who may read."""
        return self.filter(models.Q(site__isnull=True) | models.Q(site__in=user.sites.values("id")))


class AlertRule(models.Model):
    """How condition alerts become work: scope, condition pattern, minimum severity, job plan,
    response time per severity, approval. The most specific matching active rule wins.
    """

    site_lookup = "site"

    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    site = optional_foreign_key(
        "assets.Site",
        on_delete=models.CASCADE,
        related_name="alert_rules",
        help_text="Empty: every site.",
    )
    asset = optional_foreign_key(
        "assets.Asset",
        on_delete=models.CASCADE,
        related_name="alert_rules",
        help_text="This asset and its whole subtree.",
    )
    equipment_class = optional_foreign_key(
        "assets.EquipmentClass",
        on_delete=models.CASCADE,
        related_name="alert_rules",
    )
    condition_pattern = models.CharField(
        max_length=64,
        default="*",
        help_text="Shell-style pattern on the alert condition, e.g. vibration.*",
    )
    min_severity = models.CharField(
        max_length=10, choices=Severity.choices, default=Severity.WARNING
    )
    job_plan = optional_foreign_key(
        "workorders.JobPlan",
        on_delete=models.PROTECT,
        related_name="alert_rules",
    )
    response_critical = models.DurationField(default=timedelta(hours=4))
    response_major = models.DurationField(default=timedelta(hours=24))
    response_minor = models.DurationField(default=timedelta(days=3))
    response_warning = models.DurationField(default=timedelta(days=7))
    requires_approval = models.BooleanField(
        default=False, help_text="On: work orders start requested. Off: straight to scheduled."
    )
    cancel_on_clear = models.BooleanField(
        default=False, help_text="A cleared alert cancels the work order if not yet started."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AlertRuleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["is_active", "site"])]

    def __str__(self):
        return self.name

    def clean(self):
        if self.asset_id and self.site_id and self.asset.site_id != self.site_id:
            raise ValidationError({"asset": "The asset belongs to another site."})
        if self.asset_id and not self.site_id:
            self.site_id = self.asset.site_id
        if self.job_plan_id is not None and not self.job_plan.is_usable_at(self.site):
            raise ValidationError({"job_plan": JOB_PLAN_NOT_USABLE})

    def response_time(self, severity: str) -> timedelta:
        return getattr(self, f"response_{severity}")

    def matches(self, *, asset, condition: str, severity: str) -> bool:
        """Whether this rule applies to an alert (the severity threshold is checked separately)."""
        if self.site_id is not None and self.site_id != asset.site_id:
            return False
        if self.asset_id is not None and self.asset_id not in asset.ancestor_ids(include_self=True):
            return False
        if (
            self.equipment_class_id is not None
            and self.equipment_class_id != asset.equipment_class_id
        ):
            return False
        return fnmatch.fnmatchcase(condition, self.condition_pattern)

    def specificity(self, asset) -> tuple:
        """Sort key: a deeper asset scope beats a class, a class beats a site, a site beats global;
        then the more literal condition pattern; the lowest id breaks ties (deterministic)."""
        asset_depth = -1
        if self.asset_id is not None:
            asset_depth = asset.ancestor_ids(include_self=True).index(self.asset_id)
        literal = len(self.condition_pattern.replace("*", "").replace("?", ""))
        return (
            asset_depth,
            self.equipment_class_id is not None,
            self.site_id is not None,
            "*" not in self.condition_pattern and "?" not in self.condition_pattern,
            literal,
            -self.pk,
        )
