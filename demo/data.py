"""Demo data: two customers, three plants in three time zones, ~200 assets, parts and work.

`seed_demo()` is what `manage.py seed_demo` runs; tests call it too. Reference data, assets
and stock are written in bulk (a few queries per level); work orders go through the services so
numbers, history, labour and the stock ledger are exactly what real use would leave behind.
Deterministic (fixed random seed) and idempotent: a second run changes nothing.
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, Skill, User
from accounts.services import api_token_issue, api_token_revoke
from alerts.models import Alert
from assets import services as asset_services
from assets.choices import AssetLevel, AssetState, Criticality, EnergyType, MovementKind
from assets.models import (
    Asset,
    Customer,
    EquipmentClass,
    IsolationPoint,
    Meter,
    MeterReading,
    Part,
    Site,
    Stock,
    StockMovement,
    Storeroom,
)
from cmms.roles import Role
from demo.commercial import ask_the_clients, clock_history, cost_history, seed_contracts
from demo.condition import seed_condition
from demo.rounds import seed_rounds
from fleet.connectivity import silence_work_open
from gateways.choices import Connectivity, SensorState
from gateways.models import BatterySample, ConnectivityEvent, FirmwareTarget, Gateway, Sensor
from gateways.services import gateway_create, gateway_update, sensor_create
from workorders import services as wo
from workorders.choices import FailureCodeKind, Priority, Source, Status, StepKind, WorkOrderType
from workorders.job_plans import job_plan_save
from workorders.models import FailureCode, StatusChange, WorkOrder

DEMO_PASSWORD = "demo1234"

# code, name, time zone, customer
SITES = [
    ("ber", "Berlin chemical plant", "Europe/Berlin", "Rheinwerk Chemie GmbH"),
    ("chi", "Chicago bottling plant", "America/Chicago", "Lakeshore Foods Inc."),
    ("sin", "Singapore packaging plant", "Asia/Singapore", "Lakeshore Foods Inc."),
]

SKILLS = [
    ("mechanical", "Mechanical"),
    ("electrical", "Electrical"),
    ("vibration", "Vibration analysis"),
    ("instrumentation", "Instrumentation"),
]

EQUIPMENT_CLASSES = [
    ("pump", "Pump"),
    ("motor", "Electric motor"),
    ("compressor", "Compressor"),
    ("conveyor", "Conveyor"),
    ("fan", "Fan"),
    ("gearbox", "Gearbox"),
    ("mixer", "Mixer / agitator"),
]

# equipment class -> tag prefix, name, (manufacturer, model) choices, second component
EQUIPMENT = {
    "pump": ("P", "Centrifugal pump", [("Grundfos", "NK 65-250"), ("KSB", "Etanorm 065-250")]),
    "compressor": ("C", "Screw compressor", [("Atlas Copco", "GA 37"), ("Kaeser", "BSD 72")]),
    "fan": ("FAN", "Fan", [("Ziehl-Abegg", "FN063"), ("ebm-papst", "W3G710")]),
    "conveyor": ("CV", "Belt conveyor", [("Interroll", "BM 8400"), ("Dorner", "3200 series")]),
    "mixer": ("AG", "Agitator", [("EKATO", "Paravisc"), ("SPX Flow", "Lightnin LB")]),
}
SECOND_COMPONENT = {
    "pump": ("CPL", "coupling", None),
    "compressor": ("FLT", "intake filter", None),
    "fan": ("G", "gearbox", "gearbox"),
    "conveyor": ("G", "gearbox", "gearbox"),
    "mixer": ("G", "gearbox", "gearbox"),
}
MOTORS = [("Siemens", "1LE1 11 kW"), ("ABB", "M3BP 15 kW"), ("WEG", "W22 7.5 kW")]

# area tag, area name, [(line number, line name, [equipment classes])]
AREAS = [
    (
        "A-100",
        "Utilities",
        [
            (110, "Cooling water", ["pump", "pump", "fan", "fan", "pump"]),
            (120, "Compressed air", ["compressor", "compressor", "pump", "fan", "compressor"]),
        ],
    ),
    (
        "A-200",
        "Production",
        [
            (210, "Mixing line", ["mixer", "pump", "pump", "conveyor", "mixer"]),
            (220, "Packaging line", ["conveyor", "conveyor", "conveyor", "fan", "compressor"]),
        ],
    ),
]

PARTS = [
    ("BRG-6205-2RS", "Deep groove ball bearing 6205-2RS", "pcs", "8.40"),
    ("BRG-6206-2RS", "Deep groove ball bearing 6206-2RS", "pcs", "10.90"),
    ("BRG-6305-2Z", "Deep groove ball bearing 6305-2Z", "pcs", "12.30"),
    ("BRG-6308-2Z", "Deep groove ball bearing 6308-2Z", "pcs", "24.80"),
    ("BRG-22210-E", "Spherical roller bearing 22210 E", "pcs", "96.00"),
    ("BRG-NU210", "Cylindrical roller bearing NU 210", "pcs", "71.50"),
    ("SEAL-MS-35", "Mechanical seal 35 mm", "pcs", "185.00"),
    ("SEAL-MS-45", "Mechanical seal 45 mm", "pcs", "220.00"),
    ("SEAL-MS-55", "Mechanical seal 55 mm", "pcs", "265.00"),
    ("SEAL-LIP-40", "Lip seal 40x62x8 NBR", "pcs", "4.20"),
    ("ORING-KIT-FKM", "O-ring kit FKM", "set", "39.00"),
    ("BELT-SPA-1250", "V-belt SPA 1250", "pcs", "11.60"),
    ("BELT-SPA-1500", "V-belt SPA 1500", "pcs", "13.10"),
    ("BELT-SPB-2000", "V-belt SPB 2000", "pcs", "19.40"),
    ("BELT-CV-800", "Conveyor belt 800 mm EP400", "m", "58.00"),
    ("FLT-AIR-GA37", "Compressor air filter element", "pcs", "46.00"),
    ("FLT-OIL-GA37", "Compressor oil filter", "pcs", "32.00"),
    ("FLT-SEP-GA37", "Compressor oil separator", "pcs", "148.00"),
    ("FLT-HYD-10", "Hydraulic filter 10 um", "pcs", "27.50"),
    ("FLT-BAG-5", "Bag filter 5 um", "pcs", "6.80"),
    ("CPL-ROTEX-28", "Jaw coupling spider ROTEX 28", "pcs", "9.90"),
    ("CPL-ROTEX-38", "Jaw coupling spider ROTEX 38", "pcs", "14.20"),
    ("CPL-GRID-1050", "Grid coupling element 1050T", "pcs", "88.00"),
    ("CPL-DISC-N", "Disc coupling disc pack", "pcs", "64.00"),
    ("GSK-DN50", "Flange gasket DN50 PN16", "pcs", "2.10"),
    ("GSK-DN80", "Flange gasket DN80 PN16", "pcs", "2.90"),
    ("GSK-DN100", "Flange gasket DN100 PN16", "pcs", "3.60"),
    ("LUB-EP2", "EP2 grease cartridge 400 g", "pcs", "7.40"),
    ("LUB-ISO68", "Gear oil ISO VG 68", "l", "6.20"),
    ("LUB-ISO220", "Gear oil ISO VG 220", "l", "7.10"),
    ("LUB-COMP46", "Compressor oil ISO VG 46", "l", "12.80"),
    ("ELE-CONT-18", "Contactor 18 A 24 V DC", "pcs", "42.00"),
    ("ELE-FUSE-63", "Fuse 63 A gG", "pcs", "5.30"),
    ("ELE-PTC-REL", "Motor thermistor relay", "pcs", "61.00"),
    ("INS-VIB-100", "Vibration sensor 100 mV/g", "pcs", "310.00"),
    ("INS-PT100", "Pt100 temperature sensor", "pcs", "54.00"),
    ("INS-PT-10", "Pressure transmitter 0-10 bar", "pcs", "240.00"),
    ("INS-PROX-M18", "Inductive proximity switch M18", "pcs", "36.00"),
    ("IMP-NK65", "Impeller NK 65-250", "pcs", "410.00"),
    ("IDLER-CV-89", "Conveyor idler roller 89 mm", "pcs", "23.00"),
]

# kind, code, name, parent code (problems belong to a failure class)
FAILURE_CODES = [
    (FailureCodeKind.FAILURE_CLASS, "MECH", "Mechanical failure", None),
    (FailureCodeKind.FAILURE_CLASS, "ELEC", "Electrical failure", None),
    (FailureCodeKind.FAILURE_CLASS, "INST", "Instrument failure", None),
    (FailureCodeKind.PROBLEM, "VIB", "Abnormal vibration", "MECH"),
    (FailureCodeKind.PROBLEM, "LEAK", "External leakage", "MECH"),
    (FailureCodeKind.PROBLEM, "OVERHEAT", "Overheating", "MECH"),
    (FailureCodeKind.PROBLEM, "NOISE", "Abnormal noise", "MECH"),
    (FailureCodeKind.PROBLEM, "NOSTART", "Fails to start", "ELEC"),
    (FailureCodeKind.PROBLEM, "TRIP", "Motor trips", "ELEC"),
    (FailureCodeKind.PROBLEM, "SIGNAL", "Faulty signal", "INST"),
    (FailureCodeKind.CAUSE, "MISALIGN", "Misalignment", None),
    (FailureCodeKind.CAUSE, "SEALWEAR", "Seal wear", None),
    (FailureCodeKind.CAUSE, "LUBE", "Insufficient lubrication", None),
    (FailureCodeKind.CAUSE, "BRGWEAR", "Bearing wear", None),
    (FailureCodeKind.CAUSE, "IMBALANCE", "Imbalance", None),
    (FailureCodeKind.CAUSE, "CLOGGED", "Blocked filter", None),
    (FailureCodeKind.CAUSE, "LOOSE", "Loose connection", None),
    (FailureCodeKind.CAUSE, "DRIFT", "Calibration drift", None),
    (FailureCodeKind.REMEDY, "REALIGN", "Realign", None),
    (FailureCodeKind.REMEDY, "RSEAL", "Replace seal", None),
    (FailureCodeKind.REMEDY, "LUBRICATE", "Lubricate", None),
    (FailureCodeKind.REMEDY, "RBRG", "Replace bearing", None),
    (FailureCodeKind.REMEDY, "BALANCE", "Balance rotor", None),
    (FailureCodeKind.REMEDY, "RFILTER", "Replace filter", None),
    (FailureCodeKind.REMEDY, "TIGHTEN", "Tighten connection", None),
    (FailureCodeKind.REMEDY, "RECAL", "Recalibrate", None),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str
    sites: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    superuser: bool = False


MECH_VIB = ("mechanical", "vibration")
ELEC_INST = ("electrical", "instrumentation")
ELEC_MECH = ("electrical", "mechanical")

USERS = [
    DemoUser("admin", Role.PLANNER, "Ada", "Admin", superuser=True),
    DemoUser("planner.rheinwerk", Role.PLANNER, "Petra", "Vogel", ("ber",)),
    DemoUser("planner.lakeshore", Role.PLANNER, "Dan", "Miller", ("chi", "sin")),
    DemoUser("anna.schmidt", Role.TECHNICIAN, "Anna", "Schmidt", ("ber",), MECH_VIB),
    DemoUser("jonas.weber", Role.TECHNICIAN, "Jonas", "Weber", ("ber",), ELEC_INST),
    DemoUser("mike.johnson", Role.TECHNICIAN, "Mike", "Johnson", ("chi",), MECH_VIB),
    DemoUser("sara.lee", Role.TECHNICIAN, "Sara", "Lee", ("chi",), ELEC_INST),
    DemoUser("wei.tan", Role.TECHNICIAN, "Wei", "Tan", ("sin",), MECH_VIB),
    DemoUser("priya.nair", Role.TECHNICIAN, "Priya", "Nair", ("sin",), ELEC_MECH),
    DemoUser("viewer.rheinwerk", Role.CUSTOMER_VIEWER, "Klaus", "Becker", ("ber",)),
    DemoUser("viewer.lakeshore", Role.CUSTOMER_VIEWER, "Linda", "Park", ("chi", "sin")),
]  # fmt: skip

STEPS = {
    WorkOrderType.CORRECTIVE: [
        "Lock out and tag out the equipment",
        "Inspect and record the fault",
        {"text": "Vibration velocity after repair", "requires_value": True, "unit": "mm/s"},
        "Test run and hand back to operations",
    ],
    WorkOrderType.PREVENTIVE: [
        "Lock out and tag out the equipment",
        "Clean and inspect",
        "Replace the wear parts of the job plan",
        {"text": "Running hours", "requires_value": True, "unit": "h"},
        "Test run",
    ],
    WorkOrderType.CONDITION_BASED: [
        "Check the alert against local readings",
        {"text": "Bearing temperature drive end", "requires_value": True, "unit": "°C"},
        "Correct the cause",
        "Test run",
    ],
    WorkOrderType.INSPECTION: [
        "Walk the route",
        {"text": "Vibration velocity drive end", "requires_value": True, "unit": "mm/s"},
        {"text": "Bearing temperature drive end", "requires_value": True, "unit": "°C"},
        "Report findings",
    ],
}


@dataclass(frozen=True)
class Job:
    """One demo work order: what it is, and how far along its lifecycle it went."""

    title: str
    type: str
    priority: int
    status: str
    equipment: int  # index into the site's equipment units
    due_in_days: int
    skill: str = "mechanical"
    codes: tuple[str, str, str] | None = None
    parts: tuple[tuple[str, int], ...] = ()
    labour_hours: str | None = None
    reason: str = ""
    job_plan: bool = False  # made from the lockout job plan (LOCKOUT_PLAN)


JOBS = [
    Job("Abnormal vibration on {tag}", "corrective", Priority.HIGH, Status.REQUESTED, 3, 3),
    Job("Seal leaking on {tag}", "corrective", Priority.HIGH, Status.REQUESTED, 0, 2),
    Job("Replace V-belts on {tag}", "preventive", Priority.MEDIUM, Status.APPROVED, 15, -2),
    Job("Quarterly lubrication of {tag}", "preventive", Priority.LOW, Status.SCHEDULED, 10, 5,
        job_plan=True),
    Job("Vibration route {tag}", "inspection", Priority.MEDIUM, Status.SCHEDULED, 4, 1,
        skill="vibration"),
    Job("Bearing noise on {tag}", "corrective", Priority.HIGH, Status.IN_PROGRESS, 1, 1,
        parts=(("BRG-6308-2Z", 2),), labour_hours="1.5"),
    Job("Oil and filter change {tag}", "preventive", Priority.MEDIUM, Status.IN_PROGRESS, 5, 0,
        parts=(("FLT-OIL-GA37", 1), ("FLT-AIR-GA37", 1))),
    Job("Motor overheating on {tag}", "corrective", Priority.EMERGENCY, Status.ON_HOLD, 2, -1,
        skill="electrical", reason="waiting for parts: thermistor relay"),
    Job("Realign coupling of {tag}", "corrective", Priority.HIGH, Status.COMPLETED, 11, -3,
        codes=("VIB", "MISALIGN", "REALIGN"), parts=(("CPL-ROTEX-28", 1),), labour_hours="2.5"),
    Job("Replace mechanical seal of {tag}", "corrective", Priority.HIGH, Status.CLOSED, 7, -10,
        codes=("LEAK", "SEALWEAR", "RSEAL"), parts=(("SEAL-MS-45", 1), ("GSK-DN80", 2)),
        labour_hours="4"),
    Job("Bearing temperature high on {tag}", "condition_based", Priority.HIGH, Status.CLOSED, 12,
        -6, codes=("OVERHEAT", "LUBE", "LUBRICATE"), parts=(("LUB-EP2", 2),), labour_hours="1"),
    Job("Replace air filter of {tag}", "preventive", Priority.LOW, Status.CANCELLED, 6, 4,
        reason="duplicate of the oil and filter change"),
]  # fmt: skip

# A job plan with a lockout/tagout step: its scheduled work waits for the technician to
# confirm the lockout (docs/safety.md); every equipment unit has isolation points to show.
LOCKOUT_PLAN = {
    "code": "lubrication-loto",
    "title": "Lubrication under lockout",
    "work_type": WorkOrderType.PREVENTIVE,
    "estimated_hours": Decimal("2"),
}
LOCKOUT_PLAN_STEPS = [
    {
        "text": "Isolate and lock out every isolation point; try to start (zero energy)",
        "kind": StepKind.LOCKOUT,
        "photo_required": True,
    },
    "Grease the drive-end and non-drive-end bearings",
    {"text": "Bearing temperature after the test run", "requires_value": True, "unit": "°C"},
    "Remove the locks and hand back to operations",
]
ISOLATION_POINTS = [
    (EnergyType.ELECTRICAL, "E", "MCC room", "Main breaker open, padlock and tag"),
    (EnergyType.MECHANICAL, "M", "Coupling guard", "Block the shaft with the coupling lock"),
]

LIFECYCLE = [Status.APPROVED, Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED]


DEMO_TOKEN_NAME = "demo"


@dataclass
class DemoLogin:
    username: str
    role: str
    sites: str
    token: str
    password: str


def demo_exists() -> bool:
    return Site.objects.filter(code__in=[code for code, *_ in SITES]).exists()


def demo_logins() -> list[DemoLogin]:
    """The demo users with their role, sites and a fresh API token (for printing).

    Keys are stored hashed and cannot be shown again, so each call replaces every demo user's
    token named "demo" with a new one.
    """
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[d.username for d in USERS]).prefetch_related(
            "sites"
        )
    }
    for token in ApiToken.objects.filter(user__in=users.values(), name=DEMO_TOKEN_NAME):
        api_token_revoke(token=token, by=None)
    logins = []
    for demo in USERS:
        user = users.get(demo.username)
        if user is None:
            continue
        role = "superuser" if user.is_superuser else user.get_role_display()
        sites = ", ".join(s.code for s in user.sites.all()) or "all"
        _token, key = api_token_issue(user=user, name=DEMO_TOKEN_NAME, by=None)
        logins.append(DemoLogin(user.username, role, sites, key, DEMO_PASSWORD))
    return logins


def seed_demo() -> bool:
    """Create the demo data set in one transaction; False (and no change) if it exists."""
    if demo_exists():
        return False
    with transaction.atomic():
        _Seeder(random.Random(2024)).run()
    return True


class _Seeder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.now = timezone.now()

    def run(self) -> None:
        self.sites = self._sites()
        self.skills = _ensure(Skill, "code", SKILLS)
        self.classes = _ensure(EquipmentClass, "code", EQUIPMENT_CLASSES)
        self.codes = self._failure_codes()
        self.users = self._users()
        self.equipment = self._assets()
        self.contracts = seed_contracts(self.sites, self.skills, self.now.date())
        self._meters()
        self.stock = self._stock()
        self.lockout_plan = self._lockout()
        self._work_orders()
        self._sign_off_work()
        ask_the_clients(self.sites, self.users)
        _History(self).run()
        _Fleet(self).run()
        seed_rounds(self.sites, self.equipment, self.users, now=self.now)
        seed_condition(self.sites, self.equipment, now=self.now, rng=self.rng)

    # -- reference data

    def _sites(self) -> dict[str, Site]:
        customers = {name: Customer.objects.get_or_create(name=name)[0] for *_, name in SITES}
        Site.objects.bulk_create(
            Site(code=code, name=name, timezone=tz, customer=customers[customer])
            for code, name, tz, customer in SITES
        )
        return {site.code: site for site in Site.objects.filter(code__in=[s[0] for s in SITES])}

    def _failure_codes(self) -> dict[tuple[str, str], FailureCode]:
        FailureCode.objects.bulk_create(
            [FailureCode(kind=k, code=c, name=n) for k, c, n, _ in FAILURE_CODES],
            ignore_conflicts=True,
        )
        codes = {(fc.kind, fc.code): fc for fc in FailureCode.objects.all()}
        classes = {c: fc for (k, c), fc in codes.items() if k == FailureCodeKind.FAILURE_CLASS}
        problems = []
        for kind, code, _, parent in FAILURE_CODES:
            problem = codes[(kind, code)]
            if parent and problem.parent_id is None:
                problem.parent = classes[parent]
                problems.append(problem)
        FailureCode.objects.bulk_update(problems, ["parent"])
        return codes

    def _users(self) -> dict[str, User]:
        existing = set(
            User.objects.filter(username__in=[d.username for d in USERS]).values_list(
                "username", flat=True
            )
        )
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing dominates seeding time
        new = [d for d in USERS if d.username not in existing]
        User.objects.bulk_create(
            User(
                username=d.username,
                first_name=d.first_name,
                last_name=d.last_name,
                email=f"{d.username}@example.com",
                role=d.role,
                password=password,
                is_superuser=d.superuser,
                is_staff=d.superuser or d.role == Role.PLANNER,
            )
            for d in new
        )
        users = {
            u.username: u for u in User.objects.filter(username__in=[d.username for d in USERS])
        }
        User.sites.through.objects.bulk_create(
            User.sites.through(user_id=users[d.username].pk, site_id=self.sites[code].pk)
            for d in new
            for code in d.sites
        )
        User.skills.through.objects.bulk_create(
            User.skills.through(user_id=users[d.username].pk, skill_id=self.skills[code].pk)
            for d in new
            for code in d.skills
        )
        return users

    # -- assets: one bulk insert and one bulk path update per hierarchy level

    def _assets(self) -> dict[str, list[Asset]]:
        levels: list[list[tuple[Asset, Asset | None]]] = [[], [], [], []]
        equipment: dict[str, list[Asset]] = {code: [] for code in self.sites}
        for code, site in self.sites.items():
            for area_tag, area_name, lines in AREAS:
                area = Asset(site=site, tag=area_tag, name=area_name, level=AssetLevel.AREA)
                levels[0].append((area, None))
                for number, line_name, classes in lines:
                    line = Asset(
                        site=site, tag=f"L-{number}", name=line_name, level=AssetLevel.LINE
                    )
                    levels[1].append((line, area))
                    for offset, cls in enumerate(classes, start=1):
                        unit, parts = self._equipment(site, number + offset, cls, line_name)
                        levels[2].append((unit, line))
                        levels[3].extend((part, unit) for part in parts)
                        equipment[code].append(unit)
        for level in levels:
            Asset.objects.bulk_create([asset for asset, _ in level])
            for asset, parent in level:
                asset.parent = parent
                asset.path = f"{parent.path if parent else '/'}{asset.pk}/"
                asset.depth = asset.path.count("/") - 2
            Asset.objects.bulk_update([asset for asset, _ in level], ["parent", "path", "depth"])
        return equipment

    def _equipment(self, site, number: int, cls: str, line_name: str):
        prefix, name, models = EQUIPMENT[cls]
        manufacturer, model = self.rng.choice(models)
        criticality = Criticality.A if cls in ("compressor", "pump") else Criticality.B
        state = self.rng.choices(
            [AssetState.OPERATING, AssetState.DEGRADED, AssetState.DOWN], weights=[16, 3, 1]
        )[0]
        unit = Asset(
            site=site,
            tag=f"{prefix}-{number}",
            name=f"{line_name} {name.lower()} {number}",
            level=AssetLevel.EQUIPMENT,
            equipment_class=self.classes[cls],
            criticality=criticality,
            state=state,
            manufacturer=manufacturer,
            model=model,
            serial_number=f"{manufacturer[:2].upper()}{self.rng.randrange(10**6, 10**7)}",
            installed_on=(self.now - timedelta(days=self.rng.randrange(400, 4000))).date(),
        )
        motor_make, motor_model = self.rng.choice(MOTORS)
        comp_prefix, comp_name, comp_class = SECOND_COMPONENT[cls]
        components = [
            Asset(
                site=site,
                tag=f"M-{number}A",
                name=f"Drive motor of {unit.tag}",
                level=AssetLevel.COMPONENT,
                equipment_class=self.classes["motor"],
                criticality=Criticality.C if criticality == Criticality.B else Criticality.B,
                manufacturer=motor_make,
                model=motor_model,
            ),
            Asset(
                site=site,
                tag=f"{comp_prefix}-{number}",
                name=f"{comp_name.capitalize()} of {unit.tag}",
                level=AssetLevel.COMPONENT,
                equipment_class=self.classes[comp_class] if comp_class else None,
                criticality=Criticality.C,
            ),
        ]
        return unit, components

    def _meters(self) -> None:
        metered = [
            unit
            for units in self.equipment.values()
            for unit in units
            if unit.tag.startswith(("P-", "C-", "FAN-"))
        ]
        meters = Meter.objects.bulk_create(
            Meter(asset=unit, code="hours", name="Running hours", unit="h", cumulative=True)
            for unit in metered
        )
        readings = []
        for meter in meters:
            hours = Decimal(self.rng.randrange(2_000, 40_000))
            for weeks_ago in (3, 2, 1, 0):
                readings.append(
                    MeterReading(
                        meter=meter,
                        value=hours - weeks_ago * 160,
                        observed_at=self.now - timedelta(weeks=weeks_ago, hours=2),
                    )
                )
        MeterReading.objects.bulk_create(readings)

    # -- parts and stock (opening balances are receipts in the ledger)

    def _stock(self) -> dict[tuple[str, str], Stock]:
        Part.objects.bulk_create(
            [Part(sku=sku, name=n, unit=u, unit_cost=Decimal(c)) for sku, n, u, c in PARTS],
            ignore_conflicts=True,
        )
        parts = {p.sku: p for p in Part.objects.filter(sku__in=[sku for sku, *_ in PARTS])}
        used = {sku for job in JOBS for sku, _ in job.parts}
        storerooms = Storeroom.objects.bulk_create(
            Storeroom(site=site, code="main", name=f"{site.name.split()[0]} main store")
            for site in self.sites.values()
        )
        rows = []
        for storeroom in storerooms:
            low = set(self.rng.sample(sorted(set(parts) - used), 8))
            for sku, part in parts.items():
                reorder = Decimal(self.rng.choice([2, 4, 5, 10]))
                on_hand = (
                    Decimal(self.rng.randrange(0, int(reorder)))
                    if sku in low
                    else reorder + self.rng.randrange(4, 30)
                )
                bin_code = f"R{self.rng.randrange(1, 9)}-{self.rng.randrange(1, 30):02d}"
                rows.append(
                    Stock(
                        part=part,
                        storeroom=storeroom,
                        on_hand=on_hand,
                        reorder_point=reorder,
                        bin=bin_code,
                        average_cost=part.unit_cost,
                    )
                )
        stock = Stock.objects.bulk_create(rows)
        StockMovement.objects.bulk_create(
            StockMovement(
                stock=s,
                kind=MovementKind.RECEIPT,
                quantity=s.on_hand,
                on_hand_after=s.on_hand,
                unit_cost=s.average_cost,
                reason="opening balance",
            )
            for s in stock
            if s.on_hand > 0
        )
        by_site = {storeroom.pk: storeroom.site_id for storeroom in storerooms}
        site_codes = {site.pk: code for code, site in self.sites.items()}
        return {(site_codes[by_site[s.storeroom_id]], s.part.sku): s for s in stock}

    # -- work orders, through the services

    def _lockout(self):
        """Isolation points on every equipment unit, and the job plan with a lockout step."""
        IsolationPoint.objects.bulk_create(
            IsolationPoint(
                asset=unit,
                position=position,
                code=f"{prefix}-{unit.tag}",
                energy_type=energy,
                location=location,
                method=method,
            )
            for units in self.equipment.values()
            for unit in units
            for position, (energy, prefix, location, method) in enumerate(ISOLATION_POINTS, 1)
        )
        return job_plan_save(steps=LOCKOUT_PLAN_STEPS, **LOCKOUT_PLAN)

    def _work_orders(self) -> None:
        for code, site in self.sites.items():
            planner = next(
                u for d, u in self._site_users(code) if d.role == Role.PLANNER and not d.superuser
            )
            technicians = [u for d, u in self._site_users(code) if d.role == Role.TECHNICIAN]
            viewer = next(
                (u for d, u in self._site_users(code) if d.role == Role.CUSTOMER_VIEWER), None
            )
            for job in JOBS:
                self._work_order(site, code, job, planner, technicians, viewer)

    def _sign_off_work(self) -> None:
        """A Berlin job plan completed with both signatures (docs/sign-off.md), and one running
        work order from it: its complete form shows the technician's and the client's pads."""
        site = self.sites["ber"]
        planner = next(
            u for d, u in self._site_users("ber") if d.role == Role.PLANNER and not d.superuser
        )
        technician = next(u for d, u in self._site_users("ber") if d.role == Role.TECHNICIAN)
        plan = job_plan_save(
            site=site,
            code="ber-handover",
            title="Handover inspection after a shutdown, signed off by the plant",
            work_type=WorkOrderType.INSPECTION,
            requires_technician_signature=True,
            requires_client_signature=True,
            steps=["Walk the line with the plant's shift lead", "Confirm guards and interlocks"],
            by=planner,
        )
        work_order = wo.work_order_create(
            site=site,
            title="Handover of line 1 after the shutdown",
            by=planner,
            status=Status.SCHEDULED,
            type=WorkOrderType.INSPECTION,
            job_plan=plan,
            assignee=technician,
            steps=["Walk the line with the plant's shift lead", "Confirm guards and interlocks"],
        )
        wo.work_order_transition(work_order=work_order, to=Status.IN_PROGRESS, by=technician)

    def _site_users(self, code: str):
        return [(d, self.users[d.username]) for d in USERS if code in d.sites]

    def _work_order(self, site, code, job: Job, planner, technicians, viewer) -> WorkOrder:
        asset = self.equipment[code][job.equipment]
        skilled = [t for t in technicians if job.skill in {s for s in self._skills_of(t)}]
        technician = (skilled or technicians)[0]
        requester = viewer if viewer and job.status == Status.REQUESTED else planner
        work_order = wo.work_order_create(
            site=site,
            title=job.title.format(tag=asset.tag),
            by=requester,
            asset=asset,
            type=job.type,
            priority=job.priority,
            due_at=self.now + timedelta(days=job.due_in_days),
            estimated_hours=Decimal(job.labour_hours or "2"),
            required_skill=self.skills[job.skill],
            steps=wo.job_plan_steps(self.lockout_plan) if job.job_plan else STEPS[job.type],
            job_plan=self.lockout_plan if job.job_plan else None,
        )
        if job.status == Status.CANCELLED:
            wo.work_order_transition(
                work_order=work_order, to=Status.CANCELLED, by=planner, reason=job.reason
            )
            return work_order
        target = Status.IN_PROGRESS if job.status == Status.ON_HOLD else job.status
        steps = LIFECYCLE[: LIFECYCLE.index(target) + 1] if target in LIFECYCLE else []
        if target == Status.CLOSED:
            steps = LIFECYCLE
        for to in steps:
            if to == Status.SCHEDULED:
                wo.work_order_assign(work_order=work_order, assignee=technician, by=planner)
                wo.work_order_update(
                    work_order=work_order,
                    by=planner,
                    scheduled_start=self.now + timedelta(days=max(job.due_in_days - 1, 0)),
                )
            if to == Status.COMPLETED:
                self._do_the_work(work_order, job, technician)
            by = technician if to in (Status.IN_PROGRESS, Status.COMPLETED) else planner
            codes = self._codes(job) if to == Status.COMPLETED else {}
            wo.work_order_transition(work_order=work_order, to=to, by=by, **codes)
        if target == Status.IN_PROGRESS:
            self._do_the_work(work_order, job, technician, partly=True)
        if job.status == Status.ON_HOLD:
            wo.work_order_transition(
                work_order=work_order, to=Status.ON_HOLD, by=technician, reason=job.reason
            )
        if job.status == Status.CLOSED:
            wo.work_order_transition(work_order=work_order, to=Status.CLOSED, by=planner)
        return work_order

    def _skills_of(self, user) -> list[str]:
        return next(d.skills for d in USERS if d.username == user.username)

    def _codes(self, job: Job) -> dict[str, FailureCode]:
        if job.codes is None:
            return {}
        problem, cause, remedy = job.codes
        return {
            "problem": self.codes[(FailureCodeKind.PROBLEM, problem)],
            "cause": self.codes[(FailureCodeKind.CAUSE, cause)],
            "remedy": self.codes[(FailureCodeKind.REMEDY, remedy)],
        }

    def _do_the_work(self, work_order, job: Job, technician, *, partly=False) -> None:
        """Tick the checklist, issue the parts and book hand-written time, as a technician."""
        steps = list(work_order.steps.all())
        for step in steps[: len(steps) // 2] if partly else steps:
            value = Decimal(self.rng.randrange(18, 65)) / 10 if step.requires_value else None
            wo.checklist_step_record(step=step, by=technician, result="ok", value=value)
        for sku, quantity in job.parts:
            stock = self.stock[(work_order.site.code, sku)]
            wo.work_order_issue_part(
                work_order=work_order, stock=stock, quantity=quantity, by=technician
            )
        if job.labour_hours and not partly:
            wo.labour_add(
                work_order=work_order,
                technician=technician,
                hours=Decimal(job.labour_hours),
                by=technician,
                note="repair",
            )


def _ensure(model, key: str, rows: list[tuple[str, str]]) -> dict:
    """Insert reference rows that are missing (keeps existing ones) and return them by key."""
    model.objects.bulk_create(
        [model(**{key: code, "name": name}) for code, name in rows], ignore_conflicts=True
    )
    return {
        getattr(obj, key): obj
        for obj in model.objects.filter(**{f"{key}__in": [r[0] for r in rows]})
    }


# ---------------------------------------------------------------- 90 days of history

HISTORY_DAYS = 90
FAILURES_PER_SITE = 30
PM_PER_SITE = 18
REPAIR_CODES = [
    ("VIB", "MISALIGN", "REALIGN"),
    ("LEAK", "SEALWEAR", "RSEAL"),
    ("OVERHEAT", "LUBE", "LUBRICATE"),
    ("NOISE", "BRGWEAR", "RBRG"),
    ("TRIP", "LOOSE", "TIGHTEN"),
]
LIFECYCLE_PATH = [
    Status.REQUESTED,
    Status.APPROVED,
    Status.SCHEDULED,
    Status.IN_PROGRESS,
    Status.COMPLETED,
    Status.CLOSED,
]


class _History:
    """Closed work of the last 90 days, PM with planned due dates, and gateway alerts.

    Written in bulk (a few queries per site) as a record of work done before the demo starts,
    with a complete status history for each work order, so the planner dashboard has realistic
    MTTR, MTBF, PM compliance, planned/unplanned and alert funnel figures from the first login.
    """

    def __init__(self, seeder: "_Seeder"):
        self.seeder = seeder
        self.rng = seeder.rng
        self.now = seeder.now

    def run(self) -> None:
        for code, site in self.seeder.sites.items():
            users = self.seeder._site_users(code)
            planner = next(u for d, u in users if d.role == Role.PLANNER and not d.superuser)
            technicians = [u for d, u in users if d.role == Role.TECHNICIAN]
            gateway, _secret = gateway_create(site=site, name=f"{code.upper()} edge gateway")
            orders = self._failures(site, code, technicians) + self._pm(site, code, technicians)
            for order in orders:
                clock_history(order)
            self._save(orders, planner)
            cost_history(
                orders, self.seeder.stock, opened_at=self.now - timedelta(days=HISTORY_DAYS + 1)
            )
            self._alerts(site, gateway, [order for order in orders if order.source == Source.ALERT])

    def _failures(self, site, code, technicians) -> list[WorkOrder]:
        equipment = self.seeder.equipment[code]
        # A few bad actors fail again and again: they top the "most failures" chart.
        weights = [6 if i in (1, 11) else 3 if i % 5 == 0 else 1 for i in range(len(equipment))]
        orders = []
        for n in range(FAILURES_PER_SITE):
            asset = self.rng.choices(equipment, weights=weights)[0]
            created = self.now - timedelta(
                days=self.rng.uniform(1, HISTORY_DAYS), hours=self.rng.uniform(0, 8)
            )
            # Most work starts within its response target; every seventh is late.
            late = n % 7 == 3
            started = created + timedelta(
                hours=self.rng.uniform(6, 30) if late else self.rng.uniform(0.2, 1.8)
            )
            repair = timedelta(hours=self.rng.choice([0.5, 1, 1.5, 2, 3, 4, 6, 8]))
            problem, cause, remedy = self.rng.choice(REPAIR_CODES)
            from_alert = n % 3 == 0
            orders.append(
                WorkOrder(
                    site=site,
                    asset=asset,
                    type=WorkOrderType.CONDITION_BASED if from_alert else WorkOrderType.CORRECTIVE,
                    source=Source.ALERT if from_alert else Source.MANUAL,
                    priority=self.rng.choice([Priority.EMERGENCY, Priority.HIGH, Priority.MEDIUM]),
                    status=Status.CLOSED,
                    title=f"{self.seeder.codes[(FailureCodeKind.PROBLEM, problem)].name} "
                    f"on {asset.tag}",
                    assignee=self.rng.choice(technicians),
                    created_at=created,
                    scheduled_start=created + timedelta(hours=0.25),
                    due_at=created + timedelta(days=1),
                    started_at=started,
                    completed_at=started + repair,
                    closed_at=started + repair + timedelta(hours=20),
                    estimated_hours=Decimal("2"),
                    actual_hours=Decimal(repair.total_seconds() / 3600).quantize(Decimal("0.01")),
                    problem=self.seeder.codes[(FailureCodeKind.PROBLEM, problem)],
                    cause=self.seeder.codes[(FailureCodeKind.CAUSE, cause)],
                    remedy=self.seeder.codes[(FailureCodeKind.REMEDY, remedy)],
                    condition=f"history-{n}" if from_alert else "",
                    alert_count=1 if from_alert else 0,
                    alert_severity="major" if from_alert else "",
                )
            )
        return orders

    def _pm(self, site, code, technicians) -> list[WorkOrder]:
        equipment = self.seeder.equipment[code]
        orders = []
        for n in range(PM_PER_SITE):
            asset = equipment[(n * 7) % len(equipment)]
            due = self.now - timedelta(days=HISTORY_DAYS * (n + 0.5) / PM_PER_SITE)
            created = due - timedelta(days=14)
            # Most PM is done on time; some late, a few skipped (cancelled).
            outcome = "late" if n % 5 == 2 else "skipped" if n % 9 == 4 else "on_time"
            done = due - timedelta(days=self.rng.uniform(0.2, 5))
            if outcome == "late":
                done = due + timedelta(days=self.rng.uniform(1, 6))
            status = Status.CANCELLED if outcome == "skipped" else Status.CLOSED
            started = done - timedelta(hours=2) if status == Status.CLOSED else None
            orders.append(
                WorkOrder(
                    site=site,
                    asset=asset,
                    type=WorkOrderType.INSPECTION if n % 4 == 3 else WorkOrderType.PREVENTIVE,
                    source=Source.PM,
                    priority=Priority.LOW if n % 2 else Priority.MEDIUM,
                    status=status,
                    title=f"Monthly service of {asset.tag}",
                    assignee=self.rng.choice(technicians),
                    created_at=created,
                    scheduled_start=started - timedelta(hours=1) if started else due,
                    due_at=due,
                    planned_due_at=due,
                    started_at=started,
                    completed_at=done if status == Status.CLOSED else None,
                    closed_at=done + timedelta(hours=4),
                    estimated_hours=Decimal("2"),
                    actual_hours=Decimal("2") if status == Status.CLOSED else Decimal("0"),
                    on_hold_reason="",
                )
            )
        return orders

    def _save(self, orders: list[WorkOrder], planner) -> None:
        WorkOrder.objects.bulk_create(orders)  # numbers are computed by the database
        changes = []
        for order in orders:
            path = LIFECYCLE_PATH if order.status == Status.CLOSED else LIFECYCLE_PATH[:2]
            moments = [order.created_at, order.created_at, order.scheduled_start, order.started_at,
                       order.completed_at, order.closed_at]  # fmt: skip
            previous = ""
            for to, when in zip(path, moments, strict=False):
                changes.append(
                    StatusChange(
                        work_order=order,
                        from_status=previous,
                        to_status=to,
                        changed_by=planner
                        if to not in (Status.IN_PROGRESS, Status.COMPLETED)
                        else order.assignee,
                        changed_at=when,
                        reason="created" if not previous else "",
                    )
                )
                previous = to
            if order.status == Status.CANCELLED:
                changes.append(
                    StatusChange(
                        work_order=order,
                        from_status=previous,
                        to_status=Status.CANCELLED,
                        changed_by=planner,
                        changed_at=order.closed_at,
                        reason="skipped: line shut down for a customer audit",
                    )
                )
        StatusChange.objects.bulk_create(changes)

    def _alerts(self, site, gateway, alert_orders: list[WorkOrder]) -> None:
        alerts = []
        for n, order in enumerate(alert_orders):
            # Correlation: a work order often answers two or three alerts of one condition.
            for repeat in range(1 + n % 3):
                alerts.append(
                    self._alert(
                        site, gateway, f"hist-{order.pk}-{repeat}", order.asset, order.condition,
                        order.created_at + timedelta(minutes=20 * repeat), status="processed",
                        work_order=order,
                    )
                )  # fmt: skip
        equipment = self.seeder.equipment[site.code]
        for n in range(12):
            asset = equipment[(n * 5) % len(equipment)]
            when = self.now - timedelta(days=self.rng.uniform(0.5, HISTORY_DAYS))
            alerts.append(
                self._alert(site, gateway, f"rec-{n}", asset, "temperature_warning", when,
                            status="recorded", severity="warning")
            )  # fmt: skip
        for n, tag in enumerate(["P-999", "FAN-77", "cv-214"]):
            when = self.now - timedelta(hours=3 + 20 * n)
            alerts.append(
                self._alert(site, gateway, f"unk-{n}", None, "vibration_high", when,
                            status="unmatched", severity=["critical", "major", "minor"][n],
                            tag=tag)
            )  # fmt: skip
        Alert.objects.bulk_create(alerts)

    def _alert(
        self, site, gateway, alert_id, asset, condition, when, *, status, severity="major",
        work_order=None, tag=None,
    ):  # fmt: skip
        return Alert(
            gateway=gateway,
            site=site,
            alert_id=alert_id,
            asset=asset,
            asset_tag=tag or asset.tag,
            condition=condition,
            severity=severity,
            observed_at=when,
            received_at=when + timedelta(seconds=2),
            value=round(self.rng.uniform(7, 14), 1),
            unit="mm/s",
            content_hash=hashlib.sha256(alert_id.encode()).hexdigest(),
            status=status,
            work_order=work_order,
            processed_at=None if status == "unmatched" else when + timedelta(seconds=5),
        )


# -- the IIoT fleet: gateways as equipment, sensors, a week of connectivity, batteries, firmware

GATEWAY_MODEL = "EG-200"
FIRMWARE_TARGET = "2.4.1"
# site -> (gateway tag, state now, firmware, battery %, signal dBm); battery None: mains power
FLEET = {
    "ber": [
        ("GW-01", Connectivity.ONLINE, "2.4.1", None, -63),
        ("GW-02", Connectivity.ONLINE, "2.4.1", 71, -84),
        ("GW-03", Connectivity.OFFLINE, "2.3.0", 18, -104),
    ],
    "chi": [
        ("GW-01", Connectivity.ONLINE, "2.4.1", None, -58),
        ("GW-02", Connectivity.LATE, "2.2.7", 44, -93),
    ],
    "sin": [
        ("GW-01", Connectivity.ONLINE, "2.4.1", 88, -75),
        ("GW-02", Connectivity.NEVER_SEEN, "", None, None),
    ],
}
SENSORS_PER_GATEWAY = 3
MEASURES = [("vibration", "mm/s"), ("temperature", "°C"), ("current", "A")]
FLEET_DAYS = 8
# How long ago each state's gateway was last heard (heartbeat every 300 s, grace 600 s).
SILENT_FOR = {
    Connectivity.ONLINE: timedelta(seconds=40),
    Connectivity.LATE: timedelta(minutes=7),
    Connectivity.OFFLINE: timedelta(hours=3),
}


class _Fleet:
    """The partner's IIoT kit at each demo site, as a week of heartbeats and the fleet check
    would have left it: gateways recorded as assets (GW-01...) of one hardware model, sensors
    watching equipment, connectivity events with a few outages, falling batteries and one
    firmware target. The fleet view shows it from the first login; a gateway's status is
    computed when a page is shown, so without heartbeats (the simulator) they fall silent."""

    def __init__(self, seeder: "_Seeder"):
        self.seeder = seeder
        self.rng = seeder.rng
        self.now = seeder.now

    def run(self) -> None:
        FirmwareTarget.objects.get_or_create(
            model=GATEWAY_MODEL,
            defaults={"version": FIRMWARE_TARGET, "notes": "Fixes the modem watchdog."},
        )
        events, samples = [], []
        for code, rows in FLEET.items():
            site = self.seeder.sites[code]
            watched = iter(self.seeder.equipment[code])
            for tag, state, firmware, battery, signal in rows:
                gateway = self._gateway(site, tag, state, firmware, battery, signal)
                sensors = [
                    self._sensor(gateway, next(watched), n, state)
                    for n in range(SENSORS_PER_GATEWAY)
                ]
                chain = self._events(gateway, state)
                if chain:
                    Gateway.objects.filter(pk=gateway.pk).update(connectivity_since=chain[-1].at)
                events += chain
                samples += self._battery(gateway, battery)
                self._unmonitored(gateway, sensors, state)
        ConnectivityEvent.objects.bulk_create(events)
        BatterySample.objects.bulk_create(samples)
        # The offline gateways went offline before the demo began: their silence work is open,
        # as the check opened it then.
        offline = Gateway.objects.filter(
            site__in=self.seeder.sites.values(), connectivity=Connectivity.OFFLINE
        )
        silence_work_open(list(offline.values_list("pk", flat=True)), now=self.now)

    def _gateway(self, site, tag, state, firmware, battery, signal) -> Gateway:
        asset = asset_services.asset_create(
            site=site,
            tag=tag,
            name=f"IIoT edge gateway {tag}",
            level=AssetLevel.EQUIPMENT,
            criticality=Criticality.B,
            manufacturer="Edgeworks",
            model=GATEWAY_MODEL,
        )
        gateway, _secret = gateway_create(site=site, name=f"{site.code.upper()} {tag}")
        gateway_update(gateway=gateway, asset=asset, model=GATEWAY_MODEL)
        if state != Connectivity.NEVER_SEEN:
            last = self.now - SILENT_FOR[state]
            Gateway.objects.filter(pk=gateway.pk).update(
                last_seen_at=last,
                last_heartbeat_at=last,
                connectivity=state,
                firmware=firmware,
                uptime_seconds=self.rng.randrange(2, 40) * 86400,
                battery_percent=battery,
                signal_dbm=signal,
            )
        return gateway

    def _since(self, state) -> timedelta:
        return (
            self.now
            - {
                Connectivity.ONLINE: timedelta(hours=20),
                Connectivity.LATE: timedelta(minutes=2),
                Connectivity.OFFLINE: timedelta(hours=2, minutes=45),
            }[state]
        )

    def _sensor(self, gateway, asset, n: int, state) -> Sensor:
        measures, unit = MEASURES[n % len(MEASURES)]
        sensor = sensor_create(
            gateway=gateway,
            code=f"{measures[:4]}-{asset.tag}",
            name=f"{measures.capitalize()} of {asset.tag}",
            measures=measures,
            unit=unit,
            asset=asset,
        )
        if state == Connectivity.NEVER_SEEN:
            return sensor
        heard = self.now - SILENT_FOR[state] - timedelta(seconds=20)
        live = state != Connectivity.OFFLINE
        Sensor.objects.filter(pk=sensor.pk).update(
            state=SensorState.LIVE if live else SensorState.STALE,
            state_since=self.now - timedelta(hours=20) if live else self._since(state),
            last_sample_at=heard,
            last_reported_at=heard,
            battery_percent=self.rng.randrange(30, 100),
            signal_dbm=self.rng.randrange(-95, -60),
        )
        sensor.last_sample_at = heard
        return sensor

    def _events(self, gateway, state) -> list[ConnectivityEvent]:
        """Installed FLEET_DAYS ago, a couple of outages of a few hours, and the state now."""
        if state == Connectivity.NEVER_SEEN:
            return []
        start = self.now - timedelta(days=FLEET_DAYS)
        timeline = [(start, Connectivity.NEVER_SEEN, Connectivity.ONLINE)]
        for _ in range(self.rng.randrange(1, 4)):
            down = start + timedelta(hours=self.rng.randrange(12, (FLEET_DAYS - 1) * 24))
            hours = timedelta(hours=self.rng.choice([1, 2, 4, 9]))
            if down + hours >= self.now - timedelta(days=1):
                continue
            timeline += [
                (down, Connectivity.ONLINE, Connectivity.LATE),
                (down + timedelta(minutes=5), Connectivity.LATE, Connectivity.OFFLINE),
                (down + hours, Connectivity.OFFLINE, Connectivity.ONLINE),
            ]
        if state == Connectivity.LATE:
            timeline.append((self._since(state), Connectivity.ONLINE, Connectivity.LATE))
        if state == Connectivity.OFFLINE:
            since = self._since(state)
            timeline += [
                (since - timedelta(minutes=10), Connectivity.ONLINE, Connectivity.LATE),
                (since, Connectivity.LATE, Connectivity.OFFLINE),
            ]
        timeline.sort()
        # Outages drawn at random may overlap; keep the states a chain (each from = last to).
        chain, current = [], None
        for at, _from, to in timeline:
            if to == current:
                continue
            chain.append(
                ConnectivityEvent(
                    gateway=gateway,
                    from_state=current or Connectivity.NEVER_SEEN,
                    to_state=to,
                    at=at,
                    silent_since=at - timedelta(minutes=5) if to != Connectivity.ONLINE else None,
                )
            )
            current = to
        return chain

    def _battery(self, gateway, battery) -> list[BatterySample]:
        """A sample a day for two weeks, falling to today's level."""
        if battery is None:
            return []
        per_day = 3 if battery < 30 else 1
        return [
            BatterySample(
                gateway=gateway,
                at=self.now - timedelta(days=day),
                percent=min(100, battery + per_day * day),
            )
            for day in range(14, -1, -1)
        ]

    def _unmonitored(self, gateway, sensors: list[Sensor], state) -> None:
        """What the fleet check keeps: the assets watched only by a silent gateway's sensors
        are not monitored since their sensors were last heard."""
        if state == Connectivity.OFFLINE:
            for sensor in sensors:
                Asset.objects.filter(pk=sensor.asset_id).update(
                    not_monitored_since=sensor.last_sample_at
                )
