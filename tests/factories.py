"""factory_boy factories for every model; tests build data with these, never by hand."""

import datetime
import io
import zoneinfo
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts import services as account_services
from accounts.models import Skill, User
from assets import services as asset_services
from assets.models import (
    Asset,
    Customer,
    EquipmentClass,
    Meter,
    Part,
    Site,
    Stock,
    Storeroom,
)
from cmms.roles import Role
from contracts import services as contract_services
from workorders import services as wo_services
from workorders.choices import FailureCodeKind, Status, WorkOrderType
from workorders.models import FailureCode, WorkOrder


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Customer {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    customer = factory.SubFactory(CustomerFactory)
    code = factory.Sequence(lambda n: f"site{n}")
    name = factory.Sequence(lambda n: f"Plant {n}")
    timezone = "Europe/Berlin"


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("code",)

    code = "mechanical"
    name = factory.LazyAttribute(lambda o: o.code.title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = Role.TECHNICIAN
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def sites(self, create, extracted, **kwargs):
        if create and extracted:
            self.sites.set(extracted)

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.set([SkillFactory(code=s) if isinstance(s, str) else s for s in extracted])


class PlannerFactory(UserFactory):
    role = Role.PLANNER
    is_staff = True


class TechnicianFactory(UserFactory):
    role = Role.TECHNICIAN


class CustomerViewerFactory(UserFactory):
    role = Role.CUSTOMER_VIEWER


class SuperuserFactory(UserFactory):
    role = Role.PLANNER
    is_staff = True
    is_superuser = True


class EquipmentClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EquipmentClass
        django_get_or_create = ("code",)

    code = "pump"
    name = factory.LazyAttribute(lambda o: o.code.title())


class AssetFactory(factory.django.DjangoModelFactory):
    """Assets are placed in the hierarchy by the service, so path and depth are right."""

    class Meta:
        model = Asset

    site = factory.SubFactory(SiteFactory)
    parent = None
    # Five digits: never one of the tags tests pick by hand (P-101, P-009), however many
    # assets the session made before.
    tag = factory.Sequence(lambda n: f"P-{n:05d}")
    name = factory.Sequence(lambda n: f"Pump {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return asset_services.asset_create(**kwargs)


class MeterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meter

    asset = factory.SubFactory(AssetFactory)
    code = "hours"
    name = "Running hours"
    unit = "h"


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Bearing {n}")
    unit_cost = Decimal("12.50")


class StoreroomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Storeroom

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"store{n}")
    name = "Main store"


class StockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stock

    part = factory.SubFactory(PartFactory)
    storeroom = factory.SubFactory(StoreroomFactory)
    on_hand = Decimal("10")
    reorder_point = Decimal("2")


class FailureCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FailureCode
        django_get_or_create = ("kind", "code")

    kind = FailureCodeKind.PROBLEM
    code = factory.Sequence(lambda n: f"CODE{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class WorkOrderFactory(factory.django.DjangoModelFactory):
    """Work orders are created through the service (number, history, checklist)."""

    class Meta:
        model = WorkOrder

    site = factory.SubFactory(SiteFactory)
    asset = factory.LazyAttribute(lambda o: AssetFactory(site=o.site))
    title = factory.Sequence(lambda n: f"Fix leak {n}")
    type = WorkOrderType.CORRECTIVE
    status = Status.REQUESTED
    due_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=2))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return wo_services.work_order_create(**kwargs)


def failure_codes():
    """A (problem, cause, remedy) triple for completing corrective work."""
    return (
        FailureCodeFactory(kind=FailureCodeKind.PROBLEM, code="VIB", name="Abnormal vibration"),
        FailureCodeFactory(kind=FailureCodeKind.CAUSE, code="MISALIGN", name="Misalignment"),
        FailureCodeFactory(kind=FailureCodeKind.REMEDY, code="REALIGN", name="Realign"),
    )


def move_to(work_order, status, *, by=None):
    """Walk a work order along the happy path to `status` (for test set-up)."""
    path = [
        Status.REQUESTED,
        Status.APPROVED,
        Status.SCHEDULED,
        Status.IN_PROGRESS,
        Status.COMPLETED,
        Status.CLOSED,
    ]
    if status in (Status.ON_HOLD, Status.CANCELLED):
        target_index = path.index(
            Status.IN_PROGRESS if status == Status.ON_HOLD else Status.REQUESTED
        )
    else:
        target_index = path.index(status)
    current_index = path.index(work_order.status)
    for next_status in path[current_index + 1 : target_index + 1]:
        codes = {}
        if next_status == Status.COMPLETED:
            codes = dict(zip(("problem", "cause", "remedy"), failure_codes(), strict=True))
        wo_services.work_order_transition(work_order=work_order, to=next_status, by=by, **codes)
    if status in (Status.ON_HOLD, Status.CANCELLED):
        wo_services.work_order_transition(work_order=work_order, to=status, by=by, reason="test")
    return work_order


class GatewayFactory(factory.django.DjangoModelFactory):
    """A gateway with one live secret; use `gateway_with_secret` to know its plaintext."""

    class Meta:
        model = "gateways.Gateway"

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Gateway {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from gateways import services as gateway_services

        is_active = kwargs.pop("is_active", True)
        gateway, secret = gateway_services.gateway_create(**kwargs)
        if not is_active:
            gateway_services.gateway_set_active(gateway=gateway, is_active=False)
        gateway.plaintext_secret = secret
        return gateway


def image_bytes(image_format: str = "PNG", size=(8, 6), *, color=(200, 30, 30), exif=None) -> bytes:
    """A real image made with Pillow (optionally with EXIF bytes), for photo uploads."""
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    image.save(out, image_format, **({"exif": exif} if exif else {}))
    return out.getvalue()


def image_upload(image_format: str = "PNG", name: str = "photo", **kwargs) -> SimpleUploadedFile:
    """An uploaded file holding `image_bytes(...)`."""
    extension = {"JPEG": "jpg"}.get(image_format, image_format.lower())
    return SimpleUploadedFile(
        f"{name}.{extension}",
        image_bytes(image_format, **kwargs),
        content_type=f"image/{image_format.lower()}",
    )


def api_token_key(user, name: str = "test device", **kwargs) -> str:
    """Issue `user` an API token through the service; returns the key for `Token <key>`."""
    _token, key = account_services.api_token_issue(user=user, name=name, by=None, **kwargs)
    return key


def gateway_with_secret(**kwargs):
    """A (gateway, plaintext whsec_ secret) pair for signing webhook requests in tests."""
    gateway = GatewayFactory(**kwargs)
    return gateway, gateway.plaintext_secret


class JobPlanFactory(factory.django.DjangoModelFactory):
    """A job plan written through the catalogue service; pass steps=[...] and parts=[(p, q)]."""

    class Meta:
        model = "workorders.JobPlan"

    code = factory.Sequence(lambda n: f"job-{n}")
    title = factory.Sequence(lambda n: f"Lubricate bearings {n}")
    work_type = WorkOrderType.PREVENTIVE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from workorders.job_plans import job_plan_save

        return job_plan_save(**kwargs)


class PMPlanFactory(factory.django.DjangoModelFactory):
    """A monthly fixed-schedule PM plan on one asset, saved through `pm_plan_save`."""

    class Meta:
        model = "pm.PMPlan"

    site = factory.SubFactory(SiteFactory)
    asset = factory.LazyAttribute(lambda o: AssetFactory(site=o.site))
    name = factory.Sequence(lambda n: f"PM {n}")
    job_plan = factory.SubFactory(JobPlanFactory)
    trigger = "calendar"
    interval = 1
    interval_unit = "month"
    anchor = "fixed"
    # The site's own date: the server's (UTC) date is a day behind or ahead near midnight.
    starts_on = factory.LazyAttribute(
        lambda o: timezone.localdate(timezone=zoneinfo.ZoneInfo(o.site.timezone))
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from pm.services import pm_plan_save

        return pm_plan_save(**kwargs)


def scheduled_work(site, *, assignee=None, asset=None, steps=(), **fields):
    """A condition-based work order moved to scheduled by a planner, ready for the field."""
    wo = WorkOrderFactory(
        site=site,
        asset=asset or AssetFactory(site=site),
        type=fields.pop("type", WorkOrderType.CONDITION_BASED),
        steps=steps,
        **fields,
    )
    move_to(wo, "scheduled")
    if assignee is not None:
        wo_services.work_order_assign(work_order=wo, assignee=assignee)
    return wo


class ContractFactory(factory.django.DjangoModelFactory):
    """A contract through the service: `sites` (default: a new site of the customer), with
    `billing_rates` as the service takes them and `targets` either so (a list of dicts) or as
    {priority: (response_hours, resolution_hours[, clock])}."""

    class Meta:
        model = "contracts.Contract"

    customer = factory.LazyAttribute(lambda o: o.sites[0].customer if o.sites else None)
    reference = factory.Sequence(lambda n: f"C-{n:05d}")
    name = factory.Sequence(lambda n: f"Service agreement {n}")
    sites = factory.LazyFunction(lambda: [SiteFactory()])
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - timezone.timedelta(days=30))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        targets = kwargs.get("targets")
        if isinstance(targets, dict):
            kwargs["targets"] = [
                {
                    "priority": priority,
                    "response_hours": hours[0],
                    "resolution_hours": hours[1],
                    **({"clock": hours[2]} if len(hours) > 2 else {}),
                }
                for priority, hours in targets.items()
            ]
        return contract_services.contract_create(**kwargs)


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    """Monday to Friday, 08:00-17:00 in the site's time zone."""

    class Meta:
        model = "contracts.BusinessCalendar"

    site = factory.SubFactory(SiteFactory)
    working_days = factory.LazyFunction(lambda: [0, 1, 2, 3, 4])


# ---------------------------------------------------------------- costs (issue 18)


class LabourRateFactory(factory.django.DjangoModelFactory):
    """The default labour rate (no technician, no skill) in EUR from 2020 unless told."""

    class Meta:
        model = "contracts.LabourRate"

    currency = "EUR"
    hourly_cost = Decimal("40.00")
    overtime_hourly_cost = Decimal("60.00")
    valid_from = datetime.date(2020, 1, 1)


class ServiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "workorders.ServiceLine"

    work_order = factory.SubFactory(WorkOrderFactory)
    vendor = "Acme Repairs"
    description = "Motor rewind"
    amount = Decimal("100.00")


def contract_covering(site, *, targets=None, **fields):
    """A contract of the site's customer covering the site, in force since 2026-01-01, with
    a P3 target of 4 h response and 16 h resolution unless `targets` says otherwise."""
    return ContractFactory(
        customer=site.customer,
        sites=[site],
        targets=targets or {3: (4, 16)},
        starts_on=timezone.datetime(2026, 1, 1).date(),
        **fields,
    )


class RouteFactory(factory.django.DjangoModelFactory):
    """A daily inspection round of one site, due at 08:00 local from the site's today."""

    class Meta:
        model = "pm.Route"

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.Sequence(lambda n: f"Round {n}")
    interval = 1
    interval_unit = "day"
    starts_on = factory.LazyAttribute(
        lambda o: timezone.localdate(timezone=zoneinfo.ZoneInfo(o.site.timezone))
    )


class RoutePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pm.RoutePoint"

    route = factory.SubFactory(RouteFactory)
    position = factory.Sequence(lambda n: n + 1)
    asset = factory.LazyAttribute(lambda o: AssetFactory(site=o.route.site))
    instruction = "Walk around, look and listen."


class RouteCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pm.RouteCheck"

    point = factory.SubFactory(RoutePointFactory)
    kind = "check"
    label = factory.Sequence(lambda n: f"Check {n}")


def inspection_route(site, asset, *, meter=None, **fields):
    """A route with one point on `asset`: a pass/fail check and a pressure reading limited to
    [2, 6] bar (feeding `meter` when given). Returns (route, check, reading)."""
    route = RouteFactory(site=site, **fields)
    point = RoutePointFactory(route=route, position=1, asset=asset)
    check = RouteCheckFactory(point=point, position=1, label="No leaks")
    reading = RouteCheckFactory(
        point=point,
        position=2,
        kind="reading",
        label="Discharge pressure",
        unit="bar",
        low=Decimal("2"),
        high=Decimal("6"),
        meter=meter,
    )
    return route, check, reading


def round_run(route, *, due_at=None, **fields):
    """A scheduled run of `route`, due now unless told."""
    from pm.models import RoundRun

    return RoundRun.objects.create(route=route, due_at=due_at or timezone.now(), **fields)
