"""Two planners record a sensor with the same code at once: one is created, the other is a
400 naming `code`, never a 500 (the database's unique constraint decides the race)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from gateways.models import Sensor
from tests.factories import GatewayFactory, PlannerFactory, SiteFactory

THREADS = 6

pytestmark = pytest.mark.postgresql(reason="concurrent writers need PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_of_one_code_make_one_sensor_and_clear_refusals():
    site = SiteFactory(code="race")
    planner = PlannerFactory(username="racer", sites=[site])
    gateway = GatewayFactory(site=site)
    barrier = threading.Barrier(THREADS)
    answers = [None] * THREADS

    def create(index):
        try:
            client = APIClient()
            client.force_authenticate(planner)
            barrier.wait(timeout=10)
            answers[index] = client.post(
                "/api/v1/sensors/", {"gateway": str(gateway.pk), "code": "vib-1"}, format="json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(a.status_code for a in answers) == [201] + [400] * (THREADS - 1)
    refusals = [a.json() for a in answers if a.status_code == 400]
    assert all(
        r == {"code": ["This gateway already has a sensor with this code."]} for r in refusals
    )
    assert Sensor.objects.filter(gateway=gateway, code="vib-1").count() == 1
