"""Figure 7: PM work orders generated per second from many plans (bulk, exactly once)."""

import time


def pm_figure(scale: dict) -> dict:
    from bench.pm_generation import load
    from pm.models import PMPlan
    from pm.services import pm_generate_due
    from workorders.models import WorkOrder

    plans = scale["pm_plans"]
    site = load(plans)
    plan_ids = PMPlan.objects.filter(site=site).values_list("id", flat=True)
    started = time.perf_counter()
    result = pm_generate_due(plan_ids=plan_ids, chunk_size=1000)
    seconds = time.perf_counter() - started
    again = pm_generate_due(plan_ids=plan_ids, chunk_size=1000)
    return {
        "plans": plans,
        "work_orders": WorkOrder.objects.filter(site=site).count(),
        "seconds": round(seconds, 2),
        "work_orders_per_s": round(result.generated / seconds, 1),
        "second_run_generated": again.generated,
    }
