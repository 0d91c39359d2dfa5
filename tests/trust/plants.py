"""Two plants, one user per role at the first ("own") plant, and one of each object at both.

The second plant ("foreign") belongs to another customer: nothing of it may be seen,
changed or even proven to exist by the own plant's users.
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.test import override_settings
from django.utils import timezone

from accounts.services import api_token_issue
from alerts.models import Alert
from assets import services as asset_services
from gateways.services import sensor_create
from integrations.models import Delivery, Event
from integrations.services import endpoint_create
from monitoring.services import monitored_measurement_save
from pipeline.services import alert_rule_save
from pm.services import meter_reading_record, pm_generate_due
from tests.factories import (
    AssetFactory,
    BusinessCalendarFactory,
    ContractFactory,
    CustomerFactory,
    CustomerViewerFactory,
    EquipmentClassFactory,
    FailureCodeFactory,
    GatewayFactory,
    JobPlanFactory,
    MeterFactory,
    PartFactory,
    PlannerFactory,
    PMPlanFactory,
    ServiceLineFactory,
    SiteFactory,
    SkillFactory,
    StockFactory,
    StoreroomFactory,
    SuperuserFactory,
    TechnicianFactory,
    UserFactory,
    WorkOrderFactory,
    inspection_route,
    move_to,
    round_run,
)
from workorders import services as wo_services
from workorders.choices import Status

ROLES = ("anonymous", "viewer", "technician", "planner", "superuser")
MISSING_ID = 987_654_321
MISSING_UUID = "00000000-0000-4000-8000-000000000000"


@dataclass
class Plant:
    site: object
    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def build_plant(customer_name: str, *, code: str, part, job_plan) -> Plant:
    site = SiteFactory(customer=CustomerFactory(name=customer_name), code=code)
    pump = AssetFactory(site=site, tag="P-101", equipment_class=EquipmentClassFactory(code="pump"))
    meter = MeterFactory(asset=pump)
    storeroom = StoreroomFactory(site=site)
    spare_storeroom = StoreroomFactory(site=site)
    stock = StockFactory(part=part, storeroom=storeroom, on_hand=Decimal("10"))
    technician = TechnicianFactory(sites=[site])
    work_order = WorkOrderFactory(site=site, asset=pump, steps=["Measure vibration"], assignee=None)
    move_to(work_order, Status.APPROVED)
    from workorders import services as wo_services

    wo_services.work_order_assign(work_order=work_order, assignee=technician)
    move_to(work_order, Status.SCHEDULED)
    gateway = GatewayFactory(site=site)
    sensor = sensor_create(gateway=gateway, code="vib-1", asset=pump)
    alert = Alert.objects.create(
        gateway=gateway,
        site=site,
        alert_id=f"{code}-1",
        asset=pump,
        asset_tag=pump.tag,
        condition="vibration.high",
        severity="major",
        observed_at=timezone.now(),
        content_hash="x",
        status="unmatched",
    )
    rule = alert_rule_save(name=f"vibration {code}", site=site, condition_pattern="vibration.*")
    pm_plan = PMPlanFactory(
        site=site,
        asset=pump,
        job_plan=job_plan,
        starts_on=timezone.localdate(timezone=zoneinfo.ZoneInfo(site.timezone)) + timedelta(days=1),
    )
    reading = meter_reading_record(meter=meter, value=Decimal("10"), observed_at=timezone.now())
    movement = asset_services.stock_receive(stock=stock, quantity=Decimal("1"), by=None)
    # Shared catalogues: a plan of the site (unused) and one of its customer, used by a rule.
    site_job_plan = JobPlanFactory(site=site, code=f"{code}-site", steps=["Lock out"])
    customer_job_plan = JobPlanFactory(customer=site.customer, code=f"{code}-customer")
    alert_rule_save(name=f"uses {code}-customer", site=site, job_plan=customer_job_plan)
    from audit.models import AuditEntry

    service_line = ServiceLineFactory(work_order=work_order)
    route, route_check, _reading = inspection_route(site, pump)

    return Plant(
        site=site,
        objects={
            "customer": site.customer,
            "pump": pump,
            "meter": meter,
            "storeroom": storeroom,
            "spare_storeroom": spare_storeroom,
            "stock": stock,
            "technician": technician,
            "work_order": work_order,
            "step": work_order.steps.get(),
            "gateway": gateway,
            "sensor": sensor,
            "alert": alert,
            "rule": rule,
            "pm_plan": pm_plan,
            "occurrence": pm_plan.occurrences.first(),
            "reading": reading,
            "movement": movement,
            "audit": AuditEntry.objects.filter(site=site).first(),
            "site_job_plan": site_job_plan,
            "customer_job_plan": customer_job_plan,
            "service_line": service_line,
            "route": route,
            "route_point": route_check.point,
            "route_check": route_check,
            "round_run": round_run(route),
            "monitored": monitored_measurement_save(
                asset=pump, name="vibration", unit="mm/s", alarm_limit=7.1
            ),
        },
    )


def webhook_objects(owner) -> dict:
    """An endpoint of `owner` (a loopback URL, allowed while it is made) with one delivery."""
    with override_settings(WEBHOOK_ALLOW_PRIVATE_NETWORKS=True):
        endpoint, _secret = endpoint_create(
            owner=owner, url="http://127.0.0.1:9/hook", event_types=["work_order.created"]
        )
    event = Event.objects.create(
        type="work_order.created", subject="work_order:0", payload={}, occurred_at=timezone.now()
    )
    delivery = Delivery.objects.create(
        event=event, endpoint=endpoint, subject=event.subject, next_attempt_at=timezone.now()
    )
    return {"webhook_endpoint": endpoint, "webhook_delivery": delivery}


def contract_objects(plant) -> dict:
    """A contract with a not-to-exceed amount, the site's calendar and pending work."""
    contract = ContractFactory(sites=[plant.site], not_to_exceed=Decimal("100.00"))
    pending = WorkOrderFactory(site=plant.site, asset=plant.pump, contract=contract)
    wo_services.work_order_estimate_set(
        work_order=pending, estimated_cost=Decimal("900.00"), by=None
    )
    return {
        "contract": contract,
        "business_calendar": BusinessCalendarFactory(site=plant.site),
        "pending_work": pending,
    }


@dataclass
class World:
    own: Plant
    foreign: Plant
    users: dict
    part: object
    job_plan: object
    shared: dict = field(default_factory=dict)  # global catalogue rows, for every plant

    def user(self, role):
        return self.users[role]


def build_world() -> World:
    """The own and the foreign plant, the own plant's users and the global catalogue rows."""
    part = PartFactory(sku="BRG-6205")
    job_plan = JobPlanFactory(code="lube")
    own = build_plant("Acme", code="own", part=part, job_plan=job_plan)
    foreign = build_plant("Globex", code="foreign", part=part, job_plan=job_plan)
    users = {
        "anonymous": None,
        "viewer": CustomerViewerFactory(sites=[own.site]),
        "technician": own.technician,
        "planner": PlannerFactory(sites=[own.site]),
        "superuser": SuperuserFactory(),
    }
    pm_generate_due(now=timezone.now() + timedelta(days=3))
    for plant in (own, foreign):
        plant.objects["occurrence"] = plant.pm_plan.occurrences.order_by("due_at").first()
        assert plant.objects["occurrence"] is not None
    own.objects["colleague"] = UserFactory(sites=[own.site])
    foreign.objects["colleague"] = UserFactory(sites=[foreign.site])
    # Users managed across sites: at the own plant, someone who also works at the foreign one
    # (the own planner sees them but may not change them); at the foreign plant, someone of
    # that plant only.
    own.objects["shared_user"] = UserFactory(sites=[own.site, foreign.site])
    foreign.objects["shared_user"] = UserFactory(sites=[foreign.site])
    for plant in (own, foreign):
        token, _key = api_token_issue(user=plant.colleague, name="phone", by=None)
        plant.objects["api_token"] = token
    # Outbound endpoints belong to a person: the own planner's, and a foreign planner's.
    own.objects.update(webhook_objects(users["planner"]))
    foreign.objects.update(webhook_objects(PlannerFactory(sites=[foreign.site])))
    # Contracts (issue 18): each plant's contract, business calendar and a work order whose
    # estimate waits for the client (work made before the contract stays outside it).
    for plant in (own, foreign):
        plant.objects.update(contract_objects(plant))
    shared = {
        "job_plan": job_plan,  # global, used by both plants' PM plans
        "spare_job_plan": JobPlanFactory(code="spare"),  # global, unused
        "equipment_class": own.pump.equipment_class,
        "part": part,
        "skill": SkillFactory(code="vibration"),
        "failure_code": FailureCodeFactory(code="VIB"),
    }
    return World(own=own, foreign=foreign, users=users, part=part, job_plan=job_plan, shared=shared)
