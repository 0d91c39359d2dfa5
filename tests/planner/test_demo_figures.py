"""The demo data gives every dashboard figure something to show (screenshots, first login)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from alerts.models import Alert
from assets.models import Asset
from demo import data as demo
from workorders import selectors
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_the_demo_history_makes_every_figure_meaningful():
    demo.seed_demo()
    now = timezone.now()
    data = selectors.dashboard(
        work_orders=WorkOrder.objects.all(),
        alerts=Alert.objects.all(),
        assets=Asset.objects.all(),
        start=now - timedelta(days=90),
        end=now,
        now=now,
    )
    with_mttr = [r for r in data.reliability if r.mttr_hours is not None]
    assert len(with_mttr) >= 3
    assert all(0 < r.mttr_hours < 24 for r in with_mttr)
    assert 50 < data.pm.percent < 100 and data.pm.late > 0
    funnel = data.funnel
    assert funnel.received > funnel.processed > funnel.work_orders > 0
    assert funnel.unmatched >= 3 and funnel.recorded > 0
    assert data.top_assets[0].failures >= 3
    assert 0 < data.planned.planned_percent < 100
    assert data.backlog_total > 0


def test_the_demo_planner_sees_charts_of_only_their_plant(client):
    demo.seed_demo()
    client.force_login(User.objects.get(username="planner.rheinwerk"))
    response = client.get(reverse("admin:planner-dashboard"), {"days": 90})
    assert response.status_code == 200
    assert response.content.decode().count("<svg") >= 7
    assert {a.site for a in response.context["kpis"].top_assets} == {"ber"}
