from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cmms.errors import NotPermitted
from pm.choices import OccurrenceStatus
from pm.services import meter_reading_record, meter_reset
from tests.factories import CustomerViewerFactory, MeterFactory
from tests.scheduling import generate_at, local, occurrences, pm_work_orders

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"


@pytest.fixture
def hours(pump):
    return MeterFactory(asset=pump, code="hours", unit="h")


def read(meter, value, *args):
    return meter_reading_record(meter=meter, value=Decimal(value), observed_at=local(BERLIN, *args))


def test_a_reading_below_the_previous_one_of_a_cumulative_meter_is_refused(hours):
    read(hours, "1234.5", 2025, 5, 1, 8)

    with pytest.raises(ValidationError) as refused:
        read(hours, "1200", 2025, 5, 2, 8)

    assert refused.value.code == "backwards"
    message = refused.value.message_dict["value"][0]
    assert "1200 h is below the reading 1234.500 h" in message and "reset" in message
    assert hours.readings.count() == 1


def test_a_late_reading_must_fit_between_its_neighbours(hours):
    read(hours, "100", 2025, 5, 1, 8)
    read(hours, "200", 2025, 5, 3, 8)

    read(hours, "150", 2025, 5, 2, 8)
    with pytest.raises(ValidationError, match="above the later reading"):
        read(hours, "250", 2025, 5, 2, 9)


def test_a_non_cumulative_meter_may_go_down(pump):
    temperature = MeterFactory(asset=pump, code="temp", unit="C", cumulative=False)
    read(temperature, "60", 2025, 5, 1, 8)
    read(temperature, "40", 2025, 5, 1, 9)

    assert temperature.readings.count() == 2


def test_after_an_explicit_reset_readings_count_from_the_new_value(hours):
    read(hours, "9990", 2025, 5, 1, 8)
    reset = meter_reset(
        meter=hours, reason="Hour counter replaced", reset_at=local(BERLIN, 2025, 5, 1, 9)
    )
    read(hours, "5", 2025, 5, 1, 12)

    assert (reset.value_before, reset.offset) == (Decimal("9990"), Decimal("9990"))
    with pytest.raises(ValidationError, match="above the later reading 9990"):
        read(hours, "9995", 2025, 4, 30, 8)  # before the reset, it still counts the old way
    with pytest.raises(ValidationError, match="below the reading 5"):
        read(hours, "4", 2025, 5, 1, 13)


def test_a_customer_viewer_cannot_record_readings(hours, site):
    viewer = CustomerViewerFactory(sites=[site])
    with pytest.raises(NotPermitted):
        meter_reading_record(meter=hours, value=1, observed_at=local(BERLIN, 2025, 5, 1), by=viewer)


def test_a_meter_plan_generates_when_the_projected_reading_reaches_the_threshold(make_plan, hours):
    plan = make_plan(
        local(BERLIN, 2025, 4, 1),
        trigger="meter",
        meter_code="hours",
        meter_interval=Decimal("500"),
        meter_start=Decimal("0"),
        meter_lead=Decimal("10"),
        lead_days=2,
        interval=None,
        starts_on=None,
    )
    # 20 h a day.
    read(hours, "400", 2025, 5, 1, 0)
    read(hours, "420", 2025, 5, 2, 0)
    read(hours, "440", 2025, 5, 3, 0)
    generate_at(local(BERLIN, 2025, 5, 3, 1))
    assert pm_work_orders(plan) == []  # projected 480.8 two days ahead: below 500 - 10

    read(hours, "460", 2025, 5, 4, 0)
    generate_at(local(BERLIN, 2025, 5, 4, 1))  # projected 500.8 two days ahead

    [wo] = pm_work_orders(plan)
    assert wo.pm_occurrence.threshold == Decimal("500")
    assert wo.planned_due_at == local(BERLIN, 2025, 5, 6, 0)  # 40 h to go at 20 h a day
    assert not wo.pm_occurrence.late


def test_thresholds_passed_at_once_generate_the_highest_and_record_the_others(make_plan, hours):
    plan = make_plan(
        local(BERLIN, 2025, 4, 1),
        trigger="meter",
        meter_code="hours",
        meter_interval=Decimal("500"),
        interval=None,
        starts_on=None,
    )
    read(hours, "1234", 2025, 5, 1, 0)
    generate_at(local(BERLIN, 2025, 5, 1, 0, 5))

    rows = [(o.threshold, o.status) for o in occurrences(plan)]
    assert sorted(rows) == [
        (Decimal("500"), OccurrenceStatus.SKIPPED),
        (Decimal("1000"), OccurrenceStatus.GENERATED),
    ]
    skipped = next(o for o in occurrences(plan) if o.status == OccurrenceStatus.SKIPPED)
    assert "superseded by 1000" in skipped.reason
    assert len(pm_work_orders(plan)) == 1


def test_a_meter_plan_counts_lifetime_hours_across_a_reset(make_plan, hours):
    plan = make_plan(
        local(BERLIN, 2025, 4, 1),
        trigger="meter",
        meter_code="hours",
        meter_interval=Decimal("500"),
        meter_start=Decimal("0"),
        interval=None,
        starts_on=None,
    )
    read(hours, "450", 2025, 5, 1, 0)
    meter_reset(meter=hours, reason="Counter replaced", reset_at=local(BERLIN, 2025, 5, 1, 1))
    read(hours, "30", 2025, 5, 2, 0)  # lifetime 480
    generate_at(local(BERLIN, 2025, 5, 2, 0, 5))
    assert pm_work_orders(plan) == []

    read(hours, "60", 2025, 5, 3, 0)  # lifetime 510
    generate_at(local(BERLIN, 2025, 5, 3, 0, 5))
    [wo] = pm_work_orders(plan)
    assert wo.pm_occurrence.threshold == Decimal("500")


def test_a_new_meter_plan_on_a_meter_already_past_its_threshold_is_generated_on_time(
    make_plan, hours
):
    read(hours, "620", 2025, 5, 1, 8)
    plan = make_plan(
        local(BERLIN, 2025, 5, 20, 10),
        trigger="meter",
        meter_code="hours",
        meter_interval=Decimal("500"),
        interval=None,
        starts_on=None,
    )
    generate_at(local(BERLIN, 2025, 5, 20, 10, 30))

    [wo] = pm_work_orders(plan)
    assert wo.pm_occurrence.threshold == Decimal("500")
    assert not wo.pm_occurrence.late
    assert wo.needs_attention == ""
