from cmms.api.viewsets import SiteScopedModelViewSet
from pipeline.api.serializers import AlertRuleSerializer, JobPlanSerializer
from pipeline.filtersets import AlertRuleFilterSet
from pipeline.models import AlertRule
from pipeline.services import alert_rule_save
from workorders.job_plans import job_plan_delete, job_plan_save
from workorders.models import JobPlan


class JobPlanViewSet(SiteScopedModelViewSet):
    """Reusable task templates: global ones, those of the customers of the user's sites and
    those of the user's sites (another site's plan is a 404). Planners write their sites' plans
    and those of customers whose sites they all plan; superusers write global ones (403 else).
    Deleting a plan that an alert rule or PM plan uses answers 409 naming them."""

    queryset = JobPlan.objects.select_related("required_skill").prefetch_related(
        "steps", "parts__part"
    )
    serializer_class = JobPlanSerializer
    filterset_fields = ["is_active", "work_type"]

    def perform_create(self, serializer):
        serializer.instance = job_plan_save(
            by=self.request.user, **_job_plan_fields(serializer.validated_data)
        )

    def perform_update(self, serializer):
        serializer.instance = job_plan_save(
            job_plan=serializer.instance,
            by=self.request.user,
            **_job_plan_fields(serializer.validated_data),
        )

    def perform_destroy(self, instance):
        job_plan_delete(job_plan=instance, by=self.request.user)


def _job_plan_fields(data: dict) -> dict:
    data = dict(data)
    if "steps" in data:
        data["steps"] = [dict(step) for step in data["steps"]]
    if "parts" in data:
        data["parts"] = [(p["part"], p["quantity"]) for p in data["parts"]]
    return data


class AlertRuleViewSet(SiteScopedModelViewSet):
    """Alert rules of the user's sites (and global ones); planners write their sites' rules."""

    queryset = AlertRule.objects.select_related("site", "asset", "equipment_class", "job_plan")
    serializer_class = AlertRuleSerializer
    filterset_class = AlertRuleFilterSet

    def perform_create(self, serializer):
        serializer.instance = alert_rule_save(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = alert_rule_save(
            rule=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def get_queryset(self):
        qs = super().get_queryset()
        if (
            self.request.method not in ("GET", "HEAD", "OPTIONS")
            and not self.request.user.is_superuser
        ):
            qs = qs.filter(site__isnull=False)  # global rules are the superusers' to change
        return qs
