"""Beat's tasks keep their registered names and run the checks at the current time."""

import pytest

from cmms.celery import app
from fleet import tasks
from gateways.models import FirmwareTarget, Gateway
from tests.fleet.checks.devices import OFFLINE_AT, make_gateway
from workorders.models import WorkOrder


def test_the_beat_schedule_names_registered_tasks(settings):
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"fleet.tasks.check_connectivity", "fleet.tasks.check_upkeep"} <= names
    assert {"fleet.tasks.check_connectivity", "fleet.tasks.check_upkeep"} <= set(app.tasks)


@pytest.mark.django_db
def test_the_connectivity_task_checks_at_the_current_time(clock, site):
    gateway = make_gateway(site)
    clock.at(OFFLINE_AT)

    tasks.check_connectivity()

    gateway.refresh_from_db()
    assert gateway.connectivity == "offline"
    assert WorkOrder.objects.get().gateway == gateway


@pytest.mark.django_db
def test_the_upkeep_task_checks_at_the_current_time(clock, site):
    FirmwareTarget.objects.create(model="EG-100", version="2.0")
    gateway = make_gateway(site, model="EG-100")
    Gateway.objects.filter(pk=gateway.pk).update(firmware="1.9")

    tasks.check_upkeep()

    assert WorkOrder.objects.get().device_issue == "firmware_outdated"
