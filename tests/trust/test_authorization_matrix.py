"""The authorization matrix: every API endpoint, admin page and technician page, for every role,
on an object of the user's own plant and of a foreign plant (another customer's).

Each row is one line: method, URL (with `{own}`/`{foreign}` placeholders naming an object of
the world in tests/trust/plants.py, e.g. `{work_order}`), a request body, and the expected
status for each role in the order anonymous, customer viewer, technician, planner, superuser.
A row whose URL names no object runs once; a row with `{x}` runs for the own object and the
foreign one (`own`/`foreign` columns). Every foreign answer must also be exactly the answer to
an id that does not exist, so no endpoint reveals whether another customer's object exists.

Adding an endpoint means adding a row; `test_every_route_has_a_row` fails until it has one.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from tests.trust.plants import MISSING_ID, MISSING_UUID, ROLES
from tests.workorders.test_signatures import SIGNED

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(module_world, db):
    """The module's one world (`module_world`), each test in its own savepoint."""
    return module_world


@dataclass(frozen=True)
class Row:
    method: str
    url: str
    own: str  # expected statuses: anonymous viewer technician planner superuser
    foreign: str = ""  # for rows whose URL names an object; "" for rows without one
    body: object = None

    @property
    def name(self):
        return f"{self.method} {self.url}"


def R(method, url, own, foreign="", body=None):
    return Row(method, url, own, foreign, body)


def now_iso():
    return timezone.now().isoformat()


def wo_create(w, plant):
    return {"site": plant.site.pk, "asset": plant.pump.pk, "title": "Leaking seal"}


# fmt: off
API = [
    # accounts
    R("GET", "/api/v1/users/", "401 403 403 200 200"),
    R("GET", "/api/v1/users/me/", "401 200 200 200 200"),
    R("GET", "/api/v1/users/{colleague}/", "401 403 403 200 200", "401 403 403 404 200"),
    R("PATCH", "/api/v1/users/{colleague}/", "401 403 403 200 200", "401 403 403 404 200",
      {"first_name": "Ann"}),
    # API tokens: everyone their own; planners those of their sites' users
    R("GET", "/api/v1/api-tokens/", "401 200 200 200 200"),
    R("POST", "/api/v1/api-tokens/", "401 201 201 201 201", "", {"name": "phone"}),
    R("GET", "/api/v1/api-tokens/{api_token}/", "401 404 404 200 200", "401 404 404 404 200"),
    R("DELETE", "/api/v1/api-tokens/{api_token}/", "401 404 404 204 204",
      "401 404 404 404 204"),
    R("POST", "/api/v1/api-tokens/revoke-all/", "401 200 200 200 200"),
    R("POST", "/api/v1/api-tokens/revoke-all/#colleague", "401 400 400 200 200",
      "401 400 400 400 200", lambda w, p: {"user": p.colleague.pk}),
    R("POST", "/api/v1/users/", "401 403 403 201 201", "",
      lambda w, p: {"username": "newtech", "role": "technician", "sites": [w.own.site.pk]}),
    R("POST", "/api/v1/users/#foreign-site", "401 403 403 400 201", "",
      lambda w, p: {"username": "newtech", "role": "technician", "sites": [w.foreign.site.pk]}),
    # assets
    R("GET", "/api/v1/customers/", "401 200 200 200 200"),
    R("GET", "/api/v1/customers/{customer}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("PATCH", "/api/v1/customers/{customer}/", "401 403 403 403 200", "401 403 403 403 200",
      {"name": "Renamed"}),
    R("GET", "/api/v1/sites/", "401 200 200 200 200"),
    R("GET", "/api/v1/sites/{site}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("PATCH", "/api/v1/sites/{site}/", "401 403 403 403 200", "401 403 403 403 200",
      {"name": "Renamed"}),
    R("GET", "/api/v1/equipment-classes/", "401 200 200 200 200"),
    R("POST", "/api/v1/equipment-classes/", "401 403 403 403 201", "",
      {"code": "fan", "name": "Fan"}),
    R("GET", "/api/v1/assets/", "401 200 200 200 200"),
    R("GET", "/api/v1/assets/{pump}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("GET", "/api/v1/assets/{pump}/ancestors/", "401 200 200 200 200", "401 404 404 404 200"),
    R("GET", "/api/v1/assets/{pump}/subtree/", "401 200 200 200 200", "401 404 404 404 200"),
    R("GET", "/api/v1/assets/{pump}/isolation-points/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("PATCH", "/api/v1/assets/{pump}/", "401 403 403 200 200", "401 403 403 404 200",
      {"name": "Feed pump"}),
    R("POST", "/api/v1/assets/", "401 403 403 201 201", "401 403 403 400 201",
      lambda w, p: {"site": p.site.pk, "tag": "P-900", "name": "New pump"}),
    R("GET", "/api/v1/meters/", "401 200 200 200 200"),
    R("GET", "/api/v1/meters/{meter}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("PATCH", "/api/v1/meters/{meter}/", "401 403 403 200 200", "401 403 403 404 200",
      {"name": "Hours run"}),
    R("GET", "/api/v1/parts/", "401 200 200 200 200"),
    R("POST", "/api/v1/parts/", "401 403 403 403 201", "",
      {"sku": "SEAL-1", "name": "Seal", "unit_cost": "3.00"}),
    R("GET", "/api/v1/storerooms/", "401 200 200 200 200"),
    R("GET", "/api/v1/storerooms/{storeroom}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("DELETE", "/api/v1/storerooms/{spare_storeroom}/", "401 403 403 204 204",
      "401 403 403 404 204"),
    R("GET", "/api/v1/stock/", "401 200 200 200 200"),
    R("GET", "/api/v1/stock/{stock}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("POST", "/api/v1/stock/{stock}/receive/", "401 403 403 200 200", "401 403 403 404 200",
      {"quantity": "2"}),
    R("POST", "/api/v1/stock/{stock}/adjust/", "401 403 403 200 200", "401 403 403 404 200",
      {"counted": "7", "reason": "count"}),
    R("GET", "/api/v1/stock-movements/", "401 200 200 200 200"),
    R("GET", "/api/v1/stock-movements/{movement}/", "401 200 200 200 200",
      "401 404 404 404 200"),
    # work orders
    R("GET", "/api/v1/work-orders/", "401 200 200 200 200"),
    R("GET", "/api/v1/work-orders/{work_order}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("GET", "/api/v1/work-orders/{work_order}/history/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("GET", "/api/v1/work-orders/{work_order}/alerts/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("GET", "/api/v1/assets/{pump}/measurements/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("GET", "/api/v1/assets/{pump}/measurements/?resolution=week", "401 400 400 400 400",
      "401 404 404 404 400"),
    R("GET", "/api/v1/monitored-measurements/", "401 200 200 200 200"),
    R("GET", "/api/v1/monitored-measurements/{monitored}/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("PATCH", "/api/v1/monitored-measurements/{monitored}/", "401 403 403 200 200",
      "401 403 403 404 200", {"alarm_limit": 8.0}),
    R("POST", "/api/v1/monitored-measurements/", "401 403 403 201 201", "",
      lambda w, plant: {"asset": plant.pump.pk, "name": "temperature", "alarm_limit": 90}),
    R("POST", "/api/v1/work-orders/", "401 201 201 201 201", "401 400 400 400 201", wo_create),
    R("PATCH", "/api/v1/work-orders/{work_order}/", "401 403 403 200 200", "401 403 403 404 200",
      {"title": "Replace seal"}),
    R("POST", "/api/v1/work-orders/{work_order}/transition/", "401 403 200 200 200",
      "401 403 404 404 200", {"to": "in_progress"}),
    R("POST", "/api/v1/work-orders/{work_order}/assign/", "401 403 403 200 200",
      "401 403 403 404 200", {"assignee": None}),
    R("POST", "/api/v1/work-orders/{work_order}/labour/", "401 403 201 201 201",
      "401 403 404 404 201", {"hours": "1.5"}),
    R("POST", "/api/v1/work-orders/{work_order}/notes/", "401 403 201 201 201",
      "401 403 404 404 201", {"message": "Seal replaced"}),
    # 409: allowed and found, but a scheduled work order's checklist waits for its start.
    R("POST", "/api/v1/work-orders/{work_order}/steps/{step}/", "401 403 409 409 409",
      "401 403 404 404 409", {"done": True, "result": "ok"}),
    R("POST", "/api/v1/work-orders/{work_order}/issue-part/", "401 403 201 201 201",
      "401 403 404 404 201", lambda w, p: {"stock": p.stock.pk, "quantity": "1"}),
    # costs (issue 18): planners write service lines; customer viewers never see costs
    R("GET", "/api/v1/work-orders/{work_order}/services/", "401 403 200 200 200",
      "401 404 404 404 200"),
    R("POST", "/api/v1/work-orders/{work_order}/services/", "401 403 403 201 201",
      "401 403 403 404 201", {"vendor": "Crane Co", "description": "Crane", "amount": "9.50"}),
    R("PATCH", "/api/v1/work-orders/{work_order}/services/{service_line}/",
      "401 403 403 200 200", "401 403 403 404 200", {"amount": "2.00"}),
    R("DELETE", "/api/v1/work-orders/{work_order}/services/{service_line}/",
      "401 403 403 204 204", "401 403 403 404 204"),
    R("GET", "/api/v1/costs/?group_by=site&from=2026-01-01&to=2026-02-01",
      "401 403 403 200 200"),
    R("GET", "/api/v1/failure-codes/", "401 200 200 200 200"),
    # sign-off signatures: field work roles capture them; 409: the work has not started yet
    R("GET", "/api/v1/work-orders/{work_order}/signatures/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("POST", "/api/v1/work-orders/{work_order}/signatures/", "401 403 409 409 409",
      "401 403 404 404 409", lambda w, p: {"role": "client", "signer_name": "C", "image": SIGNED}),
    # client approval: the client (customer viewers of the site) decides; staff 403
    R("POST", "/api/v1/work-orders/{pending_work}/client-approval/", "401 200 403 403 200",
      "401 404 403 403 200", {"approve": True}),
    # contracts: planners and customer viewers read, planners of all its sites write
    R("GET", "/api/v1/contracts/", "401 200 403 200 200"),
    R("GET", "/api/v1/contracts/{contract}/", "401 200 403 200 200", "401 404 403 404 200"),
    R("PATCH", "/api/v1/contracts/{contract}/", "401 403 403 200 200", "401 403 403 404 200",
      {"name": "Renamed"}),
    R("POST", "/api/v1/contracts/", "401 403 403 201 201", "401 403 403 400 201",
      lambda w, p: {"customer": p.site.customer_id, "reference": "C-NEW", "name": "New",
                    "sites": [p.site.pk], "starts_on": "2020-01-01", "is_active": False}),
    # business calendars: everyone at the site reads, its planners write; one per site (400)
    R("GET", "/api/v1/business-calendars/", "401 200 200 200 200"),
    R("GET", "/api/v1/business-calendars/{business_calendar}/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("PATCH", "/api/v1/business-calendars/{business_calendar}/", "401 403 403 200 200",
      "401 403 403 404 200", {"day_ends": "18:00"}),
    R("POST", "/api/v1/business-calendars/", "401 403 403 400 400", "401 403 403 400 400",
      lambda w, p: {"site": p.site.pk}),
    # alerts and pipeline
    R("GET", "/api/v1/gateways/", "401 403 403 200 200"),
    R("GET", "/api/v1/gateways/{gateway}/", "401 403 403 200 200", "401 403 403 404 200"),
    R("POST", "/api/v1/gateways/", "401 403 403 201 201", "401 403 403 400 201",
      lambda w, p: {"site": p.site.pk, "name": "edge-9"}),
    R("PATCH", "/api/v1/gateways/{gateway}/", "401 403 403 200 200", "401 403 403 404 200",
      {"name": "edge-renamed"}),
    R("POST", "/api/v1/gateways/{gateway}/rotate-secret/", "401 403 403 201 201",
      "401 403 403 404 201"),
    R("POST", "/api/v1/gateways/{gateway}/retire-secrets/", "401 403 403 200 200",
      "401 403 403 404 200"),
    # sensors: planners and technicians read, planners write; customer viewers never
    R("GET", "/api/v1/sensors/", "401 403 200 200 200"),
    R("GET", "/api/v1/sensors/{sensor}/", "401 403 200 200 200", "401 403 404 404 200"),
    R("POST", "/api/v1/sensors/", "401 403 403 201 201", "401 403 403 400 201",
      lambda w, p: {"gateway": str(p.objects["gateway"].pk), "code": "temp-9"}),
    R("PATCH", "/api/v1/sensors/{sensor}/", "401 403 403 200 200", "401 403 403 404 200",
      {"name": "Bearing DE"}),
    R("GET", "/api/v1/alerts/", "401 200 200 200 200"),
    R("GET", "/api/v1/alerts/{alert}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("GET", "/api/v1/job-plans/", "401 200 200 200 200"),
    # A plan for every site: superusers only (planners: 400 "choose a site or a customer").
    R("POST", "/api/v1/job-plans/", "401 403 403 400 201", "",
      {"code": "align", "title": "Align coupling", "work_type": "corrective"}),
    R("GET", "/api/v1/alert-rules/", "401 200 200 200 200"),
    R("GET", "/api/v1/alert-rules/{rule}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("PATCH", "/api/v1/alert-rules/{rule}/", "401 403 403 200 200", "401 403 403 404 200",
      {"name": "pump vibration"}),
    R("DELETE", "/api/v1/alert-rules/{rule}/", "401 403 403 204 204", "401 403 403 404 204"),
    # preventive maintenance
    R("GET", "/api/v1/pm-plans/", "401 200 200 200 200"),
    R("GET", "/api/v1/pm-plans/{pm_plan}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("PATCH", "/api/v1/pm-plans/{pm_plan}/", "401 403 403 200 200", "401 403 403 404 200",
      {"name": "Monthly lube"}),
    R("GET", "/api/v1/pm-plans/forecast/", "401 200 200 200 200"),
    R("GET", "/api/v1/pm-plans/compliance/?since=2030-01-01&until=2030-02-01",
      "401 200 200 200 200"),
    R("GET", "/api/v1/pm-occurrences/", "401 200 200 200 200"),
    R("GET", "/api/v1/pm-occurrences/{occurrence}/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("GET", "/api/v1/meter-readings/", "401 200 200 200 200"),
    R("GET", "/api/v1/meter-readings/{reading}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("POST", "/api/v1/meter-readings/", "401 403 201 201 201", "401 403 400 400 201",
      lambda w, p: {"meter": p.meter.pk, "value": "20", "observed_at": now_iso()}),
    R("GET", "/api/v1/meter-resets/", "401 200 200 200 200"),
    # inspection rounds: everyone at the site reads; technicians and planners record
    R("GET", "/api/v1/routes/", "401 200 200 200 200"),
    R("GET", "/api/v1/routes/{route}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("GET", "/api/v1/round-runs/", "401 200 200 200 200"),
    R("GET", "/api/v1/round-runs/{round_run}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("POST", "/api/v1/round-runs/{round_run}/results/", "401 403 200 200 200",
      "401 403 404 404 200", lambda w, p: {"check": p.route_check.pk, "passed": True}),
    R("POST", "/api/v1/round-runs/{round_run}/complete/", "401 403 400 400 400",
      "401 403 404 404 400"),
    # outbound events: everyone manages their own endpoints; technicians do not subscribe
    R("GET", "/api/v1/webhook-endpoints/", "401 200 200 200 200"),
    R("POST", "/api/v1/webhook-endpoints/", "401 201 403 201 201", "",
      {"url": "https://93.184.215.14/hook", "event_types": ["work_order.created"]}),
    R("GET", "/api/v1/webhook-endpoints/{webhook_endpoint}/", "401 404 404 200 200",
      "401 404 404 404 200"),
    R("PATCH", "/api/v1/webhook-endpoints/{webhook_endpoint}/", "401 404 403 200 200",
      "401 404 403 404 200", {"description": "ERP"}),
    R("DELETE", "/api/v1/webhook-endpoints/{webhook_endpoint}/", "401 404 403 204 204",
      "401 404 403 404 204"),
    R("POST", "/api/v1/webhook-endpoints/{webhook_endpoint}/rotate-secret/",
      "401 404 403 201 201", "401 404 403 404 201"),
    R("GET", "/api/v1/webhook-endpoints/{webhook_endpoint}/deliveries/", "401 404 404 200 200",
      "401 404 404 404 200"),
    R("POST", "/api/v1/webhook-endpoints/{webhook_endpoint}/deliveries/{webhook_delivery}/replay/",
      "401 404 403 202 202", "401 404 403 404 202"),
    # audit trail
    R("GET", "/api/v1/audit/", "401 403 403 200 200"),
    R("GET", "/api/v1/audit/{audit}/", "401 403 403 200 200", "401 403 403 404 200"),
    # incremental sync: deleted rows (scoped per site; sync/models.py)
    R("GET", "/api/v1/deletions/", "401 200 200 200 200"),
    # schema and docs: public
    R("GET", "/api/v1/", "401 200 200 200 200"),
    R("GET", "/api/v1/schema/", "200 200 200 200 200"),
    R("GET", "/api/v1/docs/", "200 200 200 200 200"),
]

# Admin: 302 is "to the login page" for people who may not use the admin, and "to the index
# with 'does not exist'" for rows of another plant, the same as for an id that does not exist.
ADMIN_CHANGE = {
    "accounts.user": "colleague",
    "assets.customer": "customer",
    "assets.site": "site",
    "assets.asset": "pump",
    "assets.meter": "meter",
    "assets.storeroom": "storeroom",
    "assets.stock": "stock",
    "assets.stockmovement": "movement",
    "workorders.workorder": "work_order",
    "gateways.gateway": "gateway",
    "gateways.sensor": "sensor",
    "alerts.alert": "alert",
    "pipeline.alertrule": "rule",
    "pm.pmplan": "pm_plan",
    "pm.pmoccurrence": "occurrence",
    "pm.route": "route",
    "pm.routepoint": "route_point",
    "pm.roundrun": "round_run",
    "assets.meterreading": "reading",
    "audit.auditentry": "audit",
    "contracts.contract": "contract",
    "contracts.businesscalendar": "business_calendar",
    "monitoring.monitoredmeasurement": "monitored",
}
# Catalogues, children and security tables: the changelist only.
ADMIN_LIST_ONLY = {
    "accounts.skill": "302 302 302 200 200",
    "assets.equipmentclass": "302 302 302 200 200",
    "assets.part": "302 302 302 200 200",
    "workorders.failurecode": "302 302 302 200 200",
    "workorders.jobplan": "302 302 302 200 200",
    "workorders.labourentry": "302 302 302 200 200",
    "workorders.serviceline": "302 302 302 200 200",
    "workorders.reordersuggestion": "302 302 302 200 200",
    "workorders.statuschange": "302 302 302 200 200",
    "workorders.workorderevent": "302 302 302 200 200",
    "pm.meterreset": "302 302 302 200 200",
    "gateways.connectivityevent": "302 302 302 200 200",
    "gateways.firmwaretarget": "302 302 302 200 200",
    "sparkplug.metricmapping": "302 302 302 200 200",
    "sparkplug.edgenodesession": "302 302 302 200 200",
    "sparkplug.sequencegap": "302 302 302 200 200",
    "mqtt.rejectedmessage": "302 302 302 200 200",
    "integrations.webhookendpoint": "302 302 302 200 200",
    "integrations.event": "302 302 302 200 200",
    "integrations.delivery": "302 302 302 200 200",
    "auth.group": "302 302 302 403 200",
    "accounts.apitoken": "302 302 302 200 200",
    "contracts.labourrate": "302 302 302 200 200",
    "contracts.slawarning": "302 302 302 200 200",
    "monitoring.prediction": "302 302 302 200 200",
    "axes.accessattempt": "302 302 302 403 200",
    "axes.accessfailurelog": "302 302 302 403 200",
    "axes.accesslog": "302 302 302 403 200",
}
ADMIN = [
    R("GET", "/admin/", "302 302 302 200 200"),
    # The billing export and cost roll-up (reports/), inside the admin's login: another
    # customer is an invalid choice on the form, like a missing one.
    R("GET", "/reports/billing/", "302 302 302 200 200"),
    R("GET", "/reports/billing/?customer={customer}&month=2026-11&format=csv",
      "302 302 302 200 200", "302 302 302 200 200"),
    R("GET", "/reports/costs/?group_by=site&start=2026-01-01&end=2026-02-01",
      "302 302 302 200 200"),
    *[
        R("GET", f"/admin/{label.replace('.', '/')}/", "302 302 302 200 200")
        for label in ADMIN_CHANGE
    ],
    *[
        R("GET", f"/admin/{label.replace('.', '/')}/{{{obj}}}/change/", "302 302 302 200 200",
          "302 302 302 302 200")
        for label, obj in ADMIN_CHANGE.items()
    ],
    *[
        R("GET", f"/admin/{label.replace('.', '/')}/", expected)
        for label, expected in ADMIN_LIST_ONLY.items()
    ],
]

TECH = [
    R("GET", "/tech/", "302 200 200 200 200"),
    R("GET", "/tech/login/", "200 302 302 302 302"),
    R("GET", "/tech/work-orders/{work_order}/", "302 200 200 200 200", "302 404 404 404 200"),
    R("POST", "/tech/work-orders/{work_order}/start/", "302 403 302 302 302",
      "302 404 404 404 302"),
    R("GET", "/tech/assets/{pump}/", "302 200 200 200 200", "302 404 404 404 200"),
    R("GET", "/tech/assets/{pump}/label/", "302 403 403 200 200", "302 403 403 404 200"),
    R("GET", "/tech/assets/labels/", "302 403 403 200 200"),
    R("POST", "/tech/assets/{pump}/report/", "302 302 302 302 302", "302 404 404 404 302",
      {"title": "Noisy bearing", "description": "Grinding noise"}),
    R("GET", "/tech/requests/new/", "302 200 200 200 200"),
    # The offline app: the worker and manifest are public (no data); the page list is the
    # user's own work (a 403, not a login page, for the worker's fetch).
    R("GET", "/tech/sw.js", "200 200 200 200 200"),
    R("GET", "/tech/manifest.webmanifest", "200 200 200 200 200"),
    R("GET", "/tech/offline/pages.json", "403 200 200 200 200"),
    # The client's decision page: customer viewers (and superusers); staff are refused.
    R("GET", "/tech/work-orders/{pending_work}/approval/", "302 200 403 403 200",
      "302 404 403 403 200"),
    R("POST", "/tech/work-orders/{pending_work}/approval/", "302 302 403 403 302",
      "302 404 403 403 302", {"decision": "approve"}),
    R("GET", "/tech/rounds/{round_run}/", "302 200 200 200 200", "302 404 404 404 200"),
    R("POST", "/tech/rounds/{round_run}/checks/{route_check}/", "302 403 302 302 302",
      "302 404 404 404 302", {"passed": "pass"}),
    R("POST", "/tech/rounds/{round_run}/complete/", "302 403 400 400 400",
      "302 404 404 404 400"),
    R("POST", "/tech/logout/", "302 302 302 302 302"),
    R("GET", "/tech/work-orders/{work_order}/parts/search/?q=BRG", "302 200 200 200 200",
      "302 404 404 404 200"),
    # Forms on a scheduled work order: 409 where the lifecycle refuses (not started yet),
    # 302 (back to the page) where it is done; another plant's work order is always 404.
    R("POST", "/tech/work-orders/{work_order}/pause/", "302 409 409 409 409",
      "302 404 404 404 409", {"reason": "waiting for parts"}),
    R("POST", "/tech/work-orders/{work_order}/resume/", "302 409 409 409 409",
      "302 404 404 404 409"),
    R("POST", "/tech/work-orders/{work_order}/complete/", "302 409 409 409 409",
      "302 404 404 404 409"),
    R("POST", "/tech/work-orders/{work_order}/steps/{step}/", "302 403 409 409 409",
      "302 404 404 404 409", {"done": "on", "result": "ok"}),
    # A task step is not confirmed before the start (409), as it is not ticked.
    R("POST", "/tech/work-orders/{work_order}/steps/{step}/confirm/", "302 403 409 409 409",
      "302 404 404 404 409", {"result": "ok"}),
    R("POST", "/tech/work-orders/{work_order}/labour/", "302 403 302 302 302",
      "302 404 404 404 302", {"hours": "1.5"}),
    R("POST", "/tech/work-orders/{work_order}/notes/", "302 403 302 302 302",
      "302 404 404 404 302", {"message": "Checked the seal"}),
    R("POST", "/tech/work-orders/{work_order}/parts/", "302 403 302 302 302",
      "302 404 404 404 302", lambda w, p: {"stock": p.stock.pk, "quantity": "1"}),
    R("POST", "/tech/work-orders/{work_order}/photos/", "302 400 400 400 400",
      "302 404 404 404 400"),
]

# ---------------------------------------------------------------- users managed across sites
# `{colleague}` works only at the planner's plant: the planner manages them. `{shared_user}`
# also works at a plant the planner does not manage: the planner sees them (with the planner's
# sites only) but may change nothing of the account (403), in the API and the admin alike; a
# superuser manages both. At the foreign plant both are people the planner cannot see at all.
NEW_PASSWORD = "correct-Horse-battery-7"
PASSWORD_FORM = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}


def user_form(w, p):
    return {
        "username": "renamed",
        "role": "technician",
        "available_hours_per_day": "8.0",
        "is_active": "on",
        "sites": [str(p.site.pk)],
    }


USERS_ACROSS_SITES = [
    R("PATCH", "/api/v1/users/{colleague}/#password", "401 403 403 200 200",
      "401 403 403 404 200", {"password": NEW_PASSWORD}),
    R("PATCH", "/api/v1/users/{colleague}/#role", "401 403 403 200 200", "401 403 403 404 200",
      {"role": "planner"}),
    R("GET", "/api/v1/users/{shared_user}/", "401 403 403 200 200", "401 403 403 404 200"),
    R("PATCH", "/api/v1/users/{shared_user}/#password", "401 403 403 403 200",
      "401 403 403 404 200", {"password": NEW_PASSWORD}),
    R("PATCH", "/api/v1/users/{shared_user}/#role", "401 403 403 403 200",
      "401 403 403 404 200", {"role": "planner"}),
    R("PATCH", "/api/v1/users/{shared_user}/#is_active", "401 403 403 403 200",
      "401 403 403 404 200", {"is_active": False}),
    R("PATCH", "/api/v1/users/{shared_user}/#username", "401 403 403 403 200",
      "401 403 403 404 200", {"username": "renamed"}),
    R("PATCH", "/api/v1/users/{shared_user}/#email", "401 403 403 403 200",
      "401 403 403 404 200", {"email": "renamed@example.com"}),
    R("PATCH", "/api/v1/users/{shared_user}/#sites", "401 403 403 403 200",
      "401 403 403 404 200", lambda w, p: {"sites": [w.own.site.pk]}),
    R("PUT", "/api/v1/users/{shared_user}/", "401 403 403 403 200", "401 403 403 404 200",
      lambda w, p: {"username": "renamed", "role": "technician", "sites": [w.own.site.pk]}),
    R("DELETE", "/api/v1/users/{shared_user}/", "401 403 403 405 405", "401 403 403 405 405"),
    R("GET", "/admin/accounts/user/{shared_user}/change/", "302 302 302 200 200",
      "302 302 302 302 200"),
    R("POST", "/admin/accounts/user/{colleague}/change/", "302 302 302 302 302",
      "302 302 302 302 302", user_form),
    R("POST", "/admin/accounts/user/{shared_user}/change/", "302 302 302 403 302",
      "302 302 302 302 302", user_form),
    R("GET", "/admin/accounts/user/{colleague}/password/", "302 302 302 200 200",
      "302 302 302 404 200"),
    R("POST", "/admin/accounts/user/{colleague}/password/", "302 302 302 302 302",
      "302 302 302 404 302", PASSWORD_FORM),
    R("GET", "/admin/accounts/user/{shared_user}/password/", "302 302 302 403 200",
      "302 302 302 404 200"),
    R("POST", "/admin/accounts/user/{shared_user}/password/", "302 302 302 403 302",
      "302 302 302 404 302", PASSWORD_FORM),
    # Planners deactivate accounts, they do not delete them (any account: 403 before lookup).
    R("POST", "/admin/accounts/user/{shared_user}/delete/", "302 302 302 403 302",
      "302 302 302 403 302", {"post": "yes"}),
]
# ------------------------------------------------------------ end users managed across sites

# Monthly client reports: the client's viewers and the planners, of their own customers only.
REPORTS = [
    R("GET", "/reports/", "302 200 403 200 200"),
    R("GET", "/reports/customers/{customer}/2026-10/", "302 200 403 200 200",
      "302 404 403 404 200"),
    R("GET", "/reports/customers/{customer}/2026-10.pdf", "302 200 403 200 200",
      "302 404 403 404 200"),
]

PROBES = [
    R("GET", "/healthz", "200 200 200 200 200"),
    R("GET", "/readyz", "200 200 200 200 200"),
    R("GET", "/metrics", "403 403 403 403 200"),  # global counts: not a planner's to read
]
# fmt: on

# ---------------------------------------------------------------- shared catalogues (issue 12 §3)
# Job plans belong to a site (`{site_job_plan}`, unused), to the plant's customer
# (`{customer_job_plan}`, used by one of the plant's alert rules) or to every site (SHARED
# below). Planners write their own site's and customer's plans (the own planner plans all of
# Acme's sites); another plant's are 404 like missing ones; deleting a plan in use is 409.


def attack(w, p):
    """The reproduced edit: safety steps replaced, 999 of a part added."""
    return {"steps": [{"text": "Just do it"}], "parts": [{"part": w.part.pk, "quantity": "999"}]}


def job_plan_for(owner):
    def body(w, p):
        key = "site" if owner == "site" else "customer"
        value = p.site.pk if owner == "site" else p.site.customer_id
        return {"code": f"new-{key}", "title": "New", key: value}

    return body


# fmt: off
CATALOGUE = [
    R("GET", "/api/v1/job-plans/{site_job_plan}/", "401 200 200 200 200", "401 404 404 404 200"),
    R("GET", "/api/v1/job-plans/{customer_job_plan}/", "401 200 200 200 200",
      "401 404 404 404 200"),
    R("PATCH", "/api/v1/job-plans/{site_job_plan}/", "401 403 403 200 200",
      "401 403 403 404 200", attack),
    R("PATCH", "/api/v1/job-plans/{customer_job_plan}/", "401 403 403 200 200",
      "401 403 403 404 200", attack),
    R("DELETE", "/api/v1/job-plans/{site_job_plan}/", "401 403 403 204 204",
      "401 403 403 404 204"),
    R("DELETE", "/api/v1/job-plans/{customer_job_plan}/", "401 403 403 409 409",
      "401 403 403 404 409"),
    R("POST", "/api/v1/job-plans/#site", "401 403 403 201 201", "401 403 403 400 201",
      job_plan_for("site")),
    R("POST", "/api/v1/job-plans/#customer", "401 403 403 201 201", "401 403 403 400 201",
      job_plan_for("customer")),
    # A rule of the own site may not use the foreign plant's plan, not even a superuser's.
    R("POST", "/api/v1/alert-rules/#job-plan", "401 403 403 201 201", "401 403 403 400 400",
      lambda w, p: {"name": "r", "site": w.own.site.pk, "job_plan": p.site_job_plan.pk}),
    R("PATCH", "/api/v1/pm-plans/{pm_plan}/#job-plan", "401 403 403 200 200",
      "401 403 403 404 400", lambda w, p: {"job_plan": w.own.site_job_plan.pk}),
    R("GET", "/admin/workorders/jobplan/{site_job_plan}/change/", "302 302 302 200 200",
      "302 302 302 302 200"),
    R("GET", "/admin/workorders/jobplan/{site_job_plan}/delete/", "302 302 302 200 200",
      "302 302 302 302 200"),
    R("POST", "/admin/workorders/jobplan/{site_job_plan}/delete/", "302 302 302 302 302",
      "302 302 302 302 302", {"post": "yes"}),
    # In use: back to the plan's page with the names of what uses it.
    R("POST", "/admin/workorders/jobplan/{customer_job_plan}/delete/", "302 302 302 302 302",
      "302 302 302 302 302", {"post": "yes"}),
    R("GET", "/admin/workorders/jobplan/add/", "302 302 302 200 200"),
]

# Global catalogue rows (the same for both plants): everyone reads, superusers write.
SHARED = [
    R("GET", "/api/v1/job-plans/{job_plan}/", "401 200 200 200 200"),
    R("PATCH", "/api/v1/job-plans/{job_plan}/", "401 403 403 403 200", attack),
    R("DELETE", "/api/v1/job-plans/{job_plan}/", "401 403 403 403 409"),
    R("DELETE", "/api/v1/job-plans/{spare_job_plan}/", "401 403 403 403 204"),
    R("GET", "/admin/workorders/jobplan/{job_plan}/change/", "302 302 302 200 200"),
    R("POST", "/admin/workorders/jobplan/{job_plan}/change/", "302 302 302 403 200",
      {"title": "Hijacked"}),
    R("POST", "/admin/workorders/jobplan/{job_plan}/delete/", "302 302 302 403 302",
      {"post": "yes"}),
    R("PATCH", "/api/v1/equipment-classes/{equipment_class}/", "401 403 403 403 200",
      {"name": "Renamed"}),
    R("DELETE", "/api/v1/equipment-classes/{equipment_class}/", "401 403 403 403 409"),
    R("PATCH", "/api/v1/parts/{part}/", "401 403 403 403 200", {"unit_cost": "0.01"}),
    R("DELETE", "/api/v1/parts/{part}/", "401 403 403 403 409"),
    R("GET", "/api/v1/failure-codes/{failure_code}/", "401 200 200 200 200"),
    R("PATCH", "/api/v1/failure-codes/{failure_code}/", "401 403 403 405 405",
      {"name": "Renamed"}),
    *[
        R("GET", f"/admin/{label}/{{{obj}}}/change/", "302 302 302 200 200")
        for label, obj in [
            ("assets/equipmentclass", "equipment_class"),
            ("assets/part", "part"),
            ("accounts/skill", "skill"),
            ("workorders/failurecode", "failure_code"),
        ]
    ],
    *[
        R(method, f"/admin/{label}/{suffix}", "302 302 302 403 " + ok, "", body)
        for label, obj in [
            ("assets/equipmentclass", "equipment_class"),
            ("assets/part", "part"),
            ("accounts/skill", "skill"),
            ("workorders/failurecode", "failure_code"),
        ]
        for method, suffix, ok, body in [
            ("GET", "add/", "200", None),
            ("POST", f"{{{obj}}}/change/", "200", {"name": "Renamed"}),
            ("GET", f"{{{obj}}}/delete/", "200", None),
        ]
    ],
    R("GET", "/admin/assets/part/import/", "302 302 302 403 200"),
]
# fmt: on

ROWS = API + ADMIN + TECH + PROBES + USERS_ACROSS_SITES + CATALOGUE + REPORTS

# Answers that are wrong today, each with its reason; strict, so a fix turns them red here.
KNOWN_BUGS: dict[tuple[str, str | None, str], str] = {}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def cases():
    for row in ROWS:
        targets = ["own", "foreign"] if PLACEHOLDER.search(row.url) or row.foreign else [None]
        for target in targets:
            expected = row.own if target in (None, "own") else row.foreign
            for role, status in zip(ROLES, expected.split(), strict=True):
                bug = KNOWN_BUGS.get((row.name, target, role))
                marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
                yield pytest.param(
                    row,
                    target,
                    role,
                    int(status),
                    id=f"{row.name}|{target or '-'}|{role}",
                    marks=marks,
                )


def client_for(world, role) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_login(world.user(role))
    return client


def resolve(world, row, target, *, missing=False) -> str:
    plant = world.own if target in (None, "own") else world.foreign

    def sub(match):
        name = match.group(1)
        if missing:
            return MISSING_UUID if name == "gateway" else str(MISSING_ID)
        value = plant.site if name == "site" else plant.objects[name]
        return str(value.pk)

    return PLACEHOLDER.sub(sub, row.url.split("#")[0])


def send(world, row, target, role, *, missing=False):
    plant = world.own if target in (None, "own") else world.foreign
    body = row.body(world, plant) if callable(row.body) else row.body
    url = resolve(world, row, target, missing=missing)
    client = client_for(world, role)
    kwargs = {"format": "json" if url.startswith("/api/") else "multipart"} if body else {}
    return getattr(client, row.method.lower())(url, body, **kwargs)


@pytest.mark.parametrize(("row", "target", "role", "expected"), list(cases()))
def test_the_answer_matches_the_matrix(world, row, target, role, expected):
    response = send(world, row, target, role)
    detail = getattr(response, "content", b"")[:300]
    assert response.status_code == expected, detail


def shared_cases():
    for row in SHARED:
        for role, status in zip(ROLES, row.own.split(), strict=True):
            yield pytest.param(row, role, int(status), id=f"{row.name}|shared|{role}")


@pytest.mark.parametrize(("row", "role", "expected"), list(shared_cases()))
def test_a_global_catalogue_answers_as_the_matrix_says(world, row, role, expected):
    body = row.body(world, world.own) if callable(row.body) else row.body
    url = PLACEHOLDER.sub(lambda m: str(world.shared[m.group(1)].pk), row.url)
    kwargs = {"format": "json" if url.startswith("/api/") else "multipart"} if body else {}
    response = getattr(client_for(world, role), row.method.lower())(url, body, **kwargs)
    assert response.status_code == expected, getattr(response, "content", b"")[:300]


def foreign_cases():
    for row in ROWS:
        if not row.foreign or not PLACEHOLDER.search(row.url):
            continue
        for role in ROLES[:-1]:  # superusers see every plant
            yield pytest.param(row, role, id=f"{row.name}|{role}")


@pytest.mark.parametrize(("row", "role"), list(foreign_cases()))
def test_a_foreign_object_answers_exactly_like_a_missing_one(world, row, role):
    foreign = send(world, row, "foreign", role)
    missing = send(world, row, "foreign", role, missing=True)
    assert foreign.status_code == missing.status_code
    if foreign.status_code == 302:
        assert foreign["Location"].split("?")[0] == missing["Location"].split("?")[0]
    if foreign.headers.get("Content-Type", "").startswith("application/json"):
        assert foreign.json() == missing.json()


def _api_routes() -> set[str]:
    """Every router route as `/api/v1/<prefix>/` and `/api/v1/<prefix>/{id}/<action>/`."""
    from cmms.api.urls import router

    routes = set()
    for prefix, viewset, _basename in router.registry:
        routes.add(f"/api/v1/{prefix}/")
        for extra in viewset.get_extra_actions():
            path = extra.url_path
            routes.add(f"/api/v1/{prefix}/{'{}/' if extra.detail else ''}{path}/")
    return routes


def _covered(route: str) -> bool:
    normalised = {PLACEHOLDER.sub("{}", row.url.split("#")[0]) for row in ROWS}
    pattern = re.escape(route).replace(r"\{\}", r"\{\}")
    return any(
        re.fullmatch(pattern, url) or url.startswith(route) or _same_action(route, url)
        for url in normalised
    )


def _same_action(route: str, url: str) -> bool:
    # `steps/(?P<step_id>\d+)` style url_paths match a row with a placeholder there.
    regex = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", route)
    return regex == url


def test_every_api_route_has_a_row():
    missing = sorted(route for route in _api_routes() if not _covered(route))
    assert not missing, f"add matrix rows for {missing}"


def test_every_admin_model_has_a_row():
    registered = {model._meta.label_lower for model in admin.site._registry}
    missing = sorted(registered - set(ADMIN_CHANGE) - set(ADMIN_LIST_ONLY))
    assert not missing, f"add matrix rows for the admin of {missing}"


def test_every_technician_page_has_a_row():
    from tech import urls as tech_urls

    patterns = {str(p.pattern) for p in tech_urls.urlpatterns}
    rows = {PLACEHOLDER.sub("<>", r.url.removeprefix("/tech/").split("?")[0]) for r in TECH}
    normalised = {re.sub(r"<[^>]+>", "<>", p) for p in patterns}
    missing = sorted(normalised - rows - _TECH_COVERED_ELSEWHERE)
    assert not missing, f"add matrix rows for /tech/{missing}"


def test_every_report_page_has_a_row():
    from reports import urls as report_urls

    rows = {PLACEHOLDER.sub("<>", r.url.removeprefix("/reports/")) for r in REPORTS}
    patterns = {
        re.sub(r"\(\?P<pk>[^)]*\)", "<>", str(p.pattern))
        .replace(r"(?P<month>\d{4}-\d{2})", "2026-10")
        .replace("\\.", ".")
        .strip("^$")
        for p in report_urls.urlpatterns
    }
    missing = sorted(patterns - rows)
    assert not missing, f"add matrix rows for /reports/{missing}"


# Photo files need an uploaded image: tests/tech/test_scoping_and_permissions.py checks that
# they are served only to users of the site; signature files likewise in
# tests/workorders/test_signatures.py.
_TECH_COVERED_ELSEWHERE = {"photos/<>/", "signatures/<>/"}


def test_the_matrix_is_not_empty_and_its_size_is_reported(capsys):
    size = sum(1 for _ in cases())
    with capsys.disabled():
        print(f"\nauthorization matrix: {len(ROWS)} rows, {size} cases")
    assert size > 500


assert get_resolver  # the URLconf is imported by the client; keep the import explicit
