"""Who changed gateway secrets, alert rules and job plans is recorded and visible to planners
of the site (and only to them); secrets never enter the trail, only fingerprints."""

import pytest

from audit.models import AuditEntry
from gateways import gateway_secrets
from tests.factories import (
    CustomerViewerFactory,
    SiteFactory,
    SuperuserFactory,
    TechnicianFactory,
)

pytestmark = pytest.mark.django_db


def test_gateway_creation_rotation_and_retirement_are_recorded_with_fingerprints_only(
    api, site, planner
):
    api.force_authenticate(planner)
    created = api.post("/api/v1/gateways/", {"site": site.pk, "name": "edge-1"}).json()
    gateway_id, first = created["id"], created["secret"]
    rotated = api.post(f"/api/v1/gateways/{gateway_id}/rotate-secret/").json()["secret"]
    api.post(f"/api/v1/gateways/{gateway_id}/retire-secrets/")
    api.patch(f"/api/v1/gateways/{gateway_id}/", {"is_active": False})

    entries = list(AuditEntry.objects.filter(object_id=gateway_id).order_by("id"))
    assert [e.action for e in entries] == [
        "gateway.create",
        "gateway.rotate_secret",
        "gateway.retire_secrets",
        "gateway.update",
    ]
    assert {e.actor for e in entries} == {planner}
    assert {e.site for e in entries} == {site}
    assert entries[0].changes["secret_fingerprint"] == gateway_secrets.fingerprint(first)
    assert entries[1].changes["secret_fingerprint"] == gateway_secrets.fingerprint(rotated)
    assert entries[2].changes["retired_fingerprints"] == [gateway_secrets.fingerprint(first)]
    assert entries[3].changes == {"is_active": [True, False]}
    trail = str([e.changes for e in entries])
    assert first not in trail and rotated not in trail


def test_alert_rule_and_job_plan_changes_are_recorded_with_what_changed(api, site, planner):
    api.force_authenticate(planner)
    rule = api.post(
        "/api/v1/alert-rules/",
        {"name": "pump vibration", "site": site.pk, "condition_pattern": "vibration.*"},
    ).json()
    api.patch(f"/api/v1/alert-rules/{rule['id']}/", {"condition_pattern": "vibration.high"})
    plan = api.post(
        "/api/v1/job-plans/",
        {"code": "align", "title": "Align", "work_type": "corrective", "site": site.pk},
    ).json()

    update = AuditEntry.objects.get(action="alert_rule.update")
    assert update.actor == planner and update.site == site
    assert update.changes == {"condition_pattern": ["vibration.*", "vibration.high"]}
    created = AuditEntry.objects.get(action="job_plan.create", object_id=str(plan["id"]))
    assert created.actor == planner and created.changes["code"] == [None, "align"]
    assert created.site == site


def test_planners_read_the_trail_of_their_sites_only(api, site, planner):
    other_site = SiteFactory()
    api.force_authenticate(SuperuserFactory())
    api.post("/api/v1/gateways/", {"site": site.pk, "name": "own"})
    api.post("/api/v1/gateways/", {"site": other_site.pk, "name": "foreign"})

    api.force_authenticate(planner)
    listing = api.get("/api/v1/audit/", {"action": "gateway.create"}).json()
    assert [e["object_repr"] for e in listing["results"]] == ["own"]
    for user in (TechnicianFactory(sites=[site]), CustomerViewerFactory(sites=[site])):
        api.force_authenticate(user)
        assert api.get("/api/v1/audit/").status_code == 403


def test_the_trail_is_read_only_in_the_admin_and_the_api(api, client, site, planner):
    api.force_authenticate(planner)
    api.post("/api/v1/gateways/", {"site": site.pk, "name": "edge-1"})
    entry = AuditEntry.objects.get()
    assert api.delete(f"/api/v1/audit/{entry.pk}/").status_code == 405
    assert api.patch(f"/api/v1/audit/{entry.pk}/", {"action": "x"}).status_code == 405
    client.force_login(planner)
    change = client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert change.status_code == 200
    assert b'name="action"' not in change.content  # shown, not editable
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
