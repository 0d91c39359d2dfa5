"""PM services: `plans` writes plans, `generation` turns due occurrences into work orders,
`meters` records readings and resets."""

from pm.services.generation import GenerationResult, pm_generate_due
from pm.services.meters import (
    ReadingRefused,
    meter_reading_record,
    meter_readings_ingest,
    meter_reset,
    meter_statistics,
)
from pm.services.plans import CALENDAR_TRIGGER_FIELDS, METER_TRIGGER_FIELDS, pm_plan_save

__all__ = [
    "CALENDAR_TRIGGER_FIELDS",
    "METER_TRIGGER_FIELDS",
    "GenerationResult",
    "ReadingRefused",
    "meter_reading_record",
    "meter_readings_ingest",
    "meter_reset",
    "meter_statistics",
    "pm_generate_due",
    "pm_plan_save",
]
