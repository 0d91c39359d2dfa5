"""A client generated from our own schema works: an integrator's whole flow, run against a live
server with only the generated functions and models.

What an integrator does first is generate a client from `/api/v1/schema/` with
openapi-python-client. This generates one from the schema of this checkout, imports every
module of it, and goes through the flow of issue 17: create a work order, approve, assign,
unassign (a null), start, use stock, complete with failure codes, close, filter, page, read
the history and the stock, create a job plan with steps; refusals come back parsed.
"""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import (
    AssetFactory,
    PartFactory,
    PlannerFactory,
    SiteFactory,
    StockFactory,
    StoreroomFactory,
    TechnicianFactory,
    api_token_key,
    failure_codes,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PACKAGE = "cmms_client"
# The generator's post hooks (ruff) only format; without them it runs offline and faster.
GENERATOR_CONFIG = f"package_name_override: {PACKAGE}\npost_hooks: []\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, imported (every module of it) from a temporary directory."""
    root = tmp_path_factory.mktemp("client")
    schema, config = root / "schema.yaml", root / "config.yaml"
    call_command("spectacular", "--file", str(schema), "--validate", "--fail-on-warn")
    config.write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    arguments = ["generate", "--path", schema, "--output-path", root / PACKAGE, "--meta", "none"]
    output = subprocess.run(
        [generator, *arguments, "--config", config],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert output.returncode == 0, output.stdout + output.stderr
    assert "Warning" not in output.stdout + output.stderr, output.stdout + output.stderr
    sys.path.insert(0, str(root))
    try:
        yield _import_every_module()
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _import_every_module():
    package = importlib.import_module(PACKAGE)
    failed = []
    for module in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        try:
            importlib.import_module(module.name)
        except Exception as error:  # every failure is reported below
            failed.append(f"{module.name}: {error!r}")
    assert failed == [], "\n".join(failed)
    return Generated(package)


class Generated:
    """The generated package: `gen.models.X`, and `gen.call("work_orders_create", ...)`."""

    def __init__(self, package):
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def client(self, base_url: str, token: str):
        return self.package.AuthenticatedClient(
            base_url=base_url, token=token, prefix="Token", raise_on_unexpected_status=True
        )

    def call(self, operation: str, **kwargs):
        """The parsed answer and its status code (`sync_detailed` of the operation)."""
        tag = next(t for t in _TAGS if operation.startswith(t))
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")
        response = module.sync_detailed(**kwargs)
        return response.parsed, int(response.status_code)


_TAGS = ("work_orders", "job_plans", "stock", "failure_codes")


@pytest.fixture
def plant(transactional_db):
    site = SiteFactory()
    store = StoreroomFactory(site=site)
    return {
        "site": site,
        "asset": AssetFactory(site=site),
        "planner": PlannerFactory(sites=[site]),
        "technician": TechnicianFactory(sites=[site]),
        "stock": StockFactory(storeroom=store, part=PartFactory()),
        "codes": failure_codes(),
    }


@pytest.fixture
def api(generated, live_server, plant):
    with generated.client(live_server.url, api_token_key(plant["planner"])) as client:

        def call(operation, **kwargs):
            return generated.call(operation, client=client, **kwargs)

        yield call, generated.models


def test_an_integrator_runs_the_work_order_flow_with_the_generated_client(api, plant):
    call, m = api
    created, status = call(
        "work_orders_create",
        body=m.WorkOrderCreateRequest(
            site=plant["site"].pk,
            title="Pump 3 leaks",
            asset=plant["asset"].pk,
            type_=m.WorkOrderTypeEnum.CORRECTIVE,
            priority=m.PriorityEnum.HIGH,
        ),
    )
    assert status == 201, created
    assert created.status is m.WorkOrderStatusEnum.REQUESTED
    assert created.priority is m.PriorityEnum.HIGH
    number = created.id

    def move(to, **codes):
        body = m.TransitionRequest(to=to, **codes)
        return call("work_orders_transition_create", id=number, body=body)

    assert move(m.WorkOrderStatusEnum.APPROVED)[0].status is m.WorkOrderStatusEnum.APPROVED
    technician = plant["technician"].pk
    assigned, _ = call("work_orders_assign_create", id=number, body=m.AssignRequest(technician))
    assert assigned.assignee == technician
    unassigned, _ = call("work_orders_assign_create", id=number, body=m.AssignRequest(None))
    assert unassigned.assignee is None
    call("work_orders_assign_create", id=number, body=m.AssignRequest(technician))
    move(m.WorkOrderStatusEnum.SCHEDULED)
    assert move(m.WorkOrderStatusEnum.IN_PROGRESS)[0].status is m.WorkOrderStatusEnum.IN_PROGRESS

    _use_stock(call, m, number, plant["stock"])
    refused, status = move(m.WorkOrderStatusEnum.COMPLETED)  # corrective work needs codes
    assert status == 400 and isinstance(refused, m.ValidationError), refused
    problem, cause, remedy = (code.code for code in plant["codes"])
    done, status = move(
        m.WorkOrderStatusEnum.COMPLETED, problem=problem, cause=cause, remedy=remedy
    )
    assert status == 200, done
    assert (done.status, done.problem, done.cause) == (
        m.WorkOrderStatusEnum.COMPLETED,
        "VIB",
        "MISALIGN",
    )
    assert move(m.WorkOrderStatusEnum.CLOSED)[0].status is m.WorkOrderStatusEnum.CLOSED

    conflict, status = move(m.WorkOrderStatusEnum.APPROVED)
    assert status == 409 and isinstance(conflict, m.Error)
    assert conflict.code == "illegal_transition"
    _read_history(call, m, number)


def _use_stock(call, m, number, stock):
    received, status = call(
        "stock_receive_create", id=stock.pk, body=m.StockReceiveRequest(quantity="5")
    )
    assert status == 200, received
    issued, status = call(
        "work_orders_issue_part_create",
        id=number,
        body=m.IssuePartRequest(stock=stock.pk, quantity="2.5"),
    )
    assert status == 201, issued
    refused, status = call(
        "work_orders_issue_part_create",
        id=number,
        body=m.IssuePartRequest(stock=stock.pk, quantity="0"),
    )
    assert status == 400 and isinstance(refused, m.ValidationError), refused
    assert "quantity" in refused.additional_properties
    rows, _ = call("stock_list", site=stock.storeroom.site_id)
    (row,) = [r for r in rows.results if r.id == stock.pk]
    assert row.on_hand == "12.500"  # 10 + 5 received - 2.5 issued


def _read_history(call, m, number):
    history, _ = call("work_orders_history_list", id=number)
    steps = [(change.from_, change.to) for change in history.results]
    assert steps[0] == (None, m.WorkOrderStatusEnum.REQUESTED)
    assert steps[-1] == (m.WorkOrderStatusEnum.COMPLETED, m.WorkOrderStatusEnum.CLOSED)
    missing, status = call("work_orders_retrieve", id=number + 10_000)
    assert status == 404 and isinstance(missing, m.Error) and missing.code == "not_found"


def test_an_integrator_filters_and_pages_work_orders(api, plant):
    call, m = api
    for title in ("first", "second", "third"):
        call(
            "work_orders_create",
            body=m.WorkOrderCreateRequest(
                site=plant["site"].pk, title=title, status=m.WorkOrderStatusEnum.APPROVED
            ),
        )
    approved, _ = call("work_orders_list", status=[m.WorkOrderStatusEnum.APPROVED], page_size=2)
    assert approved.count == 3 and len(approved.results) == 2 and approved.next_
    rest, _ = call("work_orders_list", status=[m.WorkOrderStatusEnum.APPROVED], page_size=2, page=2)
    titles = {w.title for w in approved.results + rest.results}
    assert titles == {"first", "second", "third"}
    assert all(w.status is m.WorkOrderStatusEnum.APPROVED for w in approved.results)
    none, _ = call("work_orders_list", status=[m.WorkOrderStatusEnum.CLOSED])
    assert none.count == 0
    past_the_end, status = call("work_orders_list", page=99)
    assert status == 404 and isinstance(past_the_end, m.Error)


def test_an_integrator_creates_a_job_plan_with_steps(api, plant):
    call, m = api
    steps = [
        m.JobPlanStepRequest(text="Isolate the pump"),
        m.JobPlanStepRequest(text="Read the bearing temperature", requires_value=True, unit="°C"),
    ]
    plan, status = call(
        "job_plans_create",
        body=m.JobPlanRequest(
            code="PUMP-PM",
            title="Pump service",
            site=plant["site"].pk,
            customer=None,
            work_type=m.WorkOrderTypeEnum.PREVENTIVE,
            steps=steps,
            parts=[m.JobPlanPartRequest(part=plant["stock"].part_id, quantity="1")],
        ),
    )
    assert status == 201, plan
    assert [(s.position, s.text, s.requires_value) for s in plan.steps] == [
        (1, "Isolate the pump", False),
        (2, "Read the bearing temperature", True),
    ]
    assert plan.work_type is m.WorkOrderTypeEnum.PREVENTIVE and plan.customer is None
    read, _ = call("job_plans_retrieve", id=plan.id)
    assert read.steps[1].unit == "°C"
