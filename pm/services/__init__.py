"""PM services: `plans` writes plans, `generation` turns due occurrences into work orders,
`meters` records readings and resets,
`rounds` schedules inspection rounds and records their results, `routes` writes the routes
walked (audited)."""

from pm.services.generation import GenerationResult, pm_generate_due
from pm.services.meters import (
    ReadingRefused,
    meter_reading_record,
    meter_readings_ingest,
    meter_reset,
    meter_statistics,
)
from pm.services.plans import CALENDAR_TRIGGER_FIELDS, METER_TRIGGER_FIELDS, pm_plan_save
from pm.services.rounds import (
    RoundsGenerated,
    round_result_record,
    round_run_complete,
    rounds_generate_due,
)
from pm.services.routes import route_point_delete, route_point_save, route_save

__all__ = [
    "CALENDAR_TRIGGER_FIELDS",
    "METER_TRIGGER_FIELDS",
    "GenerationResult",
    "ReadingRefused",
    "RoundsGenerated",
    "meter_reading_record",
    "meter_readings_ingest",
    "meter_reset",
    "meter_statistics",
    "pm_generate_due",
    "pm_plan_save",
    "round_result_record",
    "round_run_complete",
    "rounds_generate_due",
    "route_point_delete",
    "route_point_save",
    "route_save",
]
