"""Probes for load balancers and metrics for Prometheus."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from ops import selectors
from tests.factories import (
    AssetFactory,
    GatewayFactory,
    PlannerFactory,
    SuperuserFactory,
    TechnicianFactory,
    WorkOrderFactory,
)
from tests.workers import RedisServer

pytestmark = pytest.mark.django_db


def make_alert(gateway, asset, n, *, status="received", age=timedelta(0)):
    return Alert.objects.create(
        gateway=gateway,
        site=gateway.site,
        alert_id=f"a-{n}",
        asset=asset,
        asset_tag=asset.tag,
        condition="vibration.high",
        severity="major",
        observed_at=timezone.now(),
        received_at=timezone.now() - age,
        content_hash="x",
        status=status,
    )


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_with_the_database_and_no_broker_configured(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["database"] == {"status": "ok"}


def test_readyz_answers_503_naming_the_database_when_it_is_down(client, monkeypatch):
    def down():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(selectors, "database_ping", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


def test_readyz_answers_503_naming_the_broker_when_redis_is_stopped(client, settings):
    server = RedisServer().start()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = server.url
    try:
        assert client.get("/readyz").status_code == 200
        server.stop()
        response = client.get("/readyz")
    finally:
        server.stop()
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["broker"]["error"] == "broker unavailable"


def test_readyz_fails_when_an_alert_waits_longer_than_the_configured_age(client, settings):
    gateway = GatewayFactory()
    asset = AssetFactory(site=gateway.site)
    make_alert(gateway, asset, 1, age=timedelta(minutes=10))
    settings.READYZ_MAX_ALERT_AGE_SECONDS = 0
    assert client.get("/readyz").status_code == 200
    settings.READYZ_MAX_ALERT_AGE_SECONDS = 300
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["alert_backlog"]
    assert response.json()["checks"]["alert_backlog"]["oldest_unprocessed_age_seconds"] >= 600


def test_metrics_need_the_token_or_a_superuser_session(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    client = Client()
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert ok.status_code == 200
    client.force_login(TechnicianFactory())
    assert client.get("/metrics").status_code == 403
    client.force_login(PlannerFactory())  # the counts span every customer's plants
    assert client.get("/metrics").status_code == 403
    client.force_login(SuperuserFactory())
    assert client.get("/metrics").status_code == 200


def test_metrics_report_backlog_oldest_age_queue_lengths_and_open_work(
    client, settings, django_assert_max_num_queries
):
    gateway = GatewayFactory()
    asset = AssetFactory(site=gateway.site)
    make_alert(gateway, asset, 1, age=timedelta(seconds=120))
    make_alert(gateway, asset, 2)
    make_alert(gateway, asset, 3, status="failed")
    make_alert(gateway, asset, 4, status="processed", age=timedelta(hours=5))
    WorkOrderFactory(site=gateway.site, asset=asset, priority=1)
    WorkOrderFactory(site=gateway.site, asset=asset, priority=3)
    server = RedisServer().start()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = server.url
    settings.METRICS_TOKEN = "t0ken"
    try:
        import redis

        redis.Redis.from_url(server.url).rpush("alerts", "m1", "m2", "m3")
        with django_assert_max_num_queries(3):
            response = client.get("/metrics", headers={"Authorization": "Bearer t0ken"})
    finally:
        server.stop()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    assert samples['cmms_alert_backlog{status="received"}'] == 2
    assert samples['cmms_alert_backlog{status="failed"}'] == 1
    assert 120 <= samples["cmms_alert_oldest_unprocessed_age_seconds"] < 3600
    assert samples['cmms_celery_queue_length{queue="alerts"}'] == 3
    assert samples['cmms_celery_queue_length{queue="default"}'] == 0
    assert samples['cmms_work_orders_open{priority="1"}'] == 1
    assert samples['cmms_work_orders_open{priority="3"}'] == 1
    assert samples['cmms_work_orders_open{priority="2"}'] == 0
