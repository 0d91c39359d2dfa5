from django.db import models


class AuditAction(models.TextChoices):
    """What was done; `<entity>.<verb>` so entries group by entity."""

    GATEWAY_CREATE = "gateway.create", "Gateway created (first secret issued)"
    GATEWAY_UPDATE = "gateway.update", "Gateway changed"
    GATEWAY_ENABLE = "gateway.enable", "Gateway enabled"
    GATEWAY_DISABLE = "gateway.disable", "Gateway disabled"
    GATEWAY_ROTATE_SECRET = "gateway.rotate_secret", "Gateway secret issued"
    GATEWAY_RETIRE_SECRETS = "gateway.retire_secrets", "Gateway secrets retired"
    ALERTS_MAP = "alerts.map", "Unmatched alerts mapped to an asset"
    ALERT_RULE_CREATE = "alert_rule.create", "Alert rule created"
    ALERT_RULE_UPDATE = "alert_rule.update", "Alert rule changed"
    JOB_PLAN_CREATE = "job_plan.create", "Job plan created"
    JOB_PLAN_UPDATE = "job_plan.update", "Job plan changed"
    USER_CREATE = "user.create", "User account created"
    USER_UPDATE = "user.update", "User's role, sites, active flag or password changed"
    JOB_PLAN_DELETE = "job_plan.delete", "Job plan deleted"
    API_TOKEN_ISSUE = "api_token.issue", "API token issued"
    API_TOKEN_REVOKE = "api_token.revoke", "API tokens revoked"
    CONTRACT_CREATE = "contract.create", "Contract created"
    CONTRACT_UPDATE = "contract.update", "Contract changed"
    CALENDAR_CREATE = "business_calendar.create", "Business calendar created"
    CALENDAR_UPDATE = "business_calendar.update", "Business calendar changed"
    WORK_ORDER_ESTIMATE = "work_order.estimate", "Work order estimate set"
    CLIENT_APPROVAL_REQUEST = "work_order.client_approval_request", "Client approval requested"
    CLIENT_APPROVAL_DECIDE = "work_order.client_approval_decide", "Client approved or rejected"
