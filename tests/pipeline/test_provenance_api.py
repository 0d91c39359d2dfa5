"""The API shows where alert-made work comes from; processing errors are kept and retried."""

import pytest

from alerts import processing
from alerts.processing import alert_settle
from tests.factories import PlannerFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_a_work_order_from_alerts_exposes_source_count_rule_and_linked_alerts(
    api, plant, make_alert
):
    first = make_alert(severity="major", value=9.1)
    alert_settle(alert_id=first.pk)
    alert_settle(alert_id=make_alert(severity="critical", value=14.2).pk)
    planner = PlannerFactory(sites=[plant["site"]])
    api.force_authenticate(planner)
    first.refresh_from_db()
    wo = first.work_order

    detail = api.get(f"/api/v1/work-orders/{wo.pk}/").json()
    assert (detail["source"], detail["alert_count"], detail["alert_severity"]) == (
        "alert",
        2,
        "critical",
    )
    assert detail["condition"] == "vibration.high"
    assert detail["priority"] == 1

    linked = api.get(f"/api/v1/work-orders/{wo.pk}/alerts/").json()
    assert linked["count"] == 2
    assert sorted(a["value"] for a in linked["results"]) == [9.1, 14.2]
    assert {a["threshold"] for a in linked["results"]} == {7.1}
    by_filter = api.get(f"/api/v1/alerts/?work_order={wo.pk}").json()
    assert by_filter["count"] == 2


def test_the_linked_alerts_of_another_sites_work_order_are_a_404(api, plant, make_alert):
    alert = make_alert()
    alert_settle(alert_id=alert.pk)
    alert.refresh_from_db()
    api.force_authenticate(PlannerFactory(sites=[SiteFactory()]))
    assert api.get(f"/api/v1/work-orders/{alert.work_order_id}/alerts/").status_code == 404


def test_an_unexpected_error_marks_the_alert_failed_with_the_error_kept(
    plant, make_alert, monkeypatch
):
    alert = make_alert()

    def broken(alert):
        raise RuntimeError("rule store unavailable")

    monkeypatch.setattr("alerts.processing.rule_for", broken)
    assert processing.alert_process(alert_id=alert.pk) == "failed"
    alert.refresh_from_db()
    assert alert.status == "failed"
    assert "rule store unavailable" in alert.error
    assert alert.attempts == 1 and alert.next_attempt_at is not None
    assert alert.work_order is None
