"""OpenAPI schema naming: one component name per choice set used in several places.

drf-spectacular names enums after the field; the same choices under several field names
(`type`, `work_type`) or several choice sets under one name (`status`) need a fixed name.
Values are import paths to the choices, so this module imports nothing at settings time.
"""

ENUM_NAME_OVERRIDES = {
    "WorkOrderStatusEnum": "workorders.choices.Status",
    "WorkOrderTypeEnum": "workorders.choices.WorkOrderType",
    "AlertSeverityEnum": "pipeline.choices.Severity",
    # PM plans' `work_order_status` (approved/scheduled) would otherwise take the name above
    # and overwrite the work orders' full status enum in the schema.
    "PMInitialWorkOrderStatusEnum": "pm.choices.WorkOrderStatus",
    # A gateway's `status` (online/late/offline/never_seen) and a sensor's `state`.
    "GatewayStatusEnum": "gateways.choices.Connectivity",
    "SensorStateEnum": "gateways.choices.SensorState",
    # A work order's `hold_reason` and a contract's `pausing_hold_reasons`: one concept.
    "HoldReasonEnum": "cmms.work.HoldReason",
    # A checklist or job plan step's `kind` (task, lockout, permit); other `kind`s are others.
    "StepKindEnum": "workorders.choices.StepKind",
}

# Subsets of one concept that drf-spectacular would make types of their own (by their field's
# name): `cmms.api.openapi` points them at the concept's one enum and drops them.
ENUM_ALIASES = {
    "WorkOrderInitialStatusEnum": "WorkOrderStatusEnum",
    "WorkOrderTransitionTargetEnum": "WorkOrderStatusEnum",
    "PMInitialWorkOrderStatusEnum": "WorkOrderStatusEnum",
}
ENUM_NAME_OVERRIDES |= {
    "WorkOrderInitialStatusEnum": "workorders.api.serializers.INITIAL_STATUSES",
    "WorkOrderTransitionTargetEnum": "workorders.api.serializers.TARGET_STATUSES",
}

# Integer enums whose members a generated client names after the choices (`x-enum-varnames`);
# string enums are named after their values already.
ENUM_MEMBER_NAMES = {
    "PriorityEnum": "workorders.choices.Priority",
}
