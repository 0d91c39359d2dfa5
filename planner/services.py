"""Planner writes that combine work order services: merging a duplicate, dispatching work;
and the dashboard's period figures kept for beat (`dashboard_snapshots_refresh`).

They add no rule of their own: the lifecycle, site and assignee checks are those of
`workorders.services`, called inside one transaction so a refusal leaves nothing half done.
"""

from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from alerts.models import Alert
from assets.models import Asset, Site
from cmms.roles import Role
from planner.forms import SitePeriodForm
from planner.selectors import (
    SNAPSHOT_KEPT_SECONDS,
    SNAPSHOT_PERIODS,
    DashboardSnapshot,
    dashboard_snapshot_key,
)
from workorders import policy as wo_policy
from workorders import selectors as wo_selectors
from workorders import services as wo_services
from workorders.choices import Status
from workorders.models import WorkOrder
from workorders.notes import work_order_note_add

DISPATCHABLE = (Status.APPROVED, Status.SCHEDULED, Status.ON_HOLD, Status.IN_PROGRESS)


@transaction.atomic
def work_order_merge(*, duplicate: WorkOrder, into: WorkOrder, by) -> WorkOrder:
    """Cancel a duplicate request in favour of an open work order of the same site.

    The duplicate is cancelled with the reason "duplicate of WO-…" (its history says so), its
    alerts move to the kept work order, and the kept one gets a note naming the duplicate.
    """
    if duplicate.pk == into.pk:
        raise ValidationError({"into": "A work order cannot be merged into itself."})
    if duplicate.site_id != into.site_id:
        raise ValidationError({"into": f"{into.number} is at another site."})
    if not into.is_open:
        raise ValidationError({"into": f"{into.number} is {into.status}; pick open work."})
    wo_services.work_order_transition(
        work_order=duplicate,
        to=Status.CANCELLED,
        by=by,
        reason=f"duplicate of {into.number}",
    )
    moved = Alert.objects.filter(work_order=duplicate).update(work_order=into)
    note = f"{duplicate.number} ({duplicate.title}) merged into this work order as a duplicate"
    work_order_note_add(
        work_order=into, by=by, message=f"{note}; {moved} alert(s) moved." if moved else note
    )
    return into


@transaction.atomic
def work_order_dispatch(
    *, work_order: WorkOrder, assignee, scheduled_start: datetime, by
) -> WorkOrder:
    """Give open work to a technician on a day: assign, set the start, and schedule approved work.

    Approved work moves to scheduled (through the lifecycle); work already scheduled, running
    or on hold keeps its status and only moves in the plan.
    """
    if work_order.status not in DISPATCHABLE:
        raise ValidationError(
            {
                "work_order": f"{work_order.number} is {work_order.get_status_display().lower()}; "
                "approve it before dispatching it."
            }
        )
    # Work waiting for (or refused by) the client is not planned, whatever its status: the
    # same check the lifecycle makes before scheduling.
    wo_policy.check_client_approval(work_order, Status.SCHEDULED)
    fields = {"scheduled_start": scheduled_start}
    if assignee != work_order.assignee:
        fields["assignee"] = assignee
    wo_services.work_order_update(work_order=work_order, by=by, **fields)
    if work_order.status == Status.APPROVED:
        wo_services.work_order_transition(work_order=work_order, to=Status.SCHEDULED, by=by)
    return work_order


def dashboard_snapshots_refresh(*, now: datetime | None = None) -> int:
    """Compute the dashboard's period figures for every set of several sites a planner sees
    (a planner's sites; every site, for superusers) over the last 30, 90 and 365 days, and keep
    them in the cache with the time they were computed. Returns how many were kept.

    The periods are those the dashboard's form gives in the server's time zone, so the page
    finds them by the same key; one site's figures, custom periods and a cache that beat does
    not share (the demo's in-process cache) are read live by the page instead.
    """
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    kept = 0
    for site_ids in _planner_site_sets():
        work_orders = WorkOrder.objects.filter(site_id__in=site_ids)
        alerts = Alert.objects.filter(site_id__in=site_ids)
        assets = Asset.objects.filter(site_id__in=site_ids)
        for days in SNAPSHOT_PERIODS:
            form = SitePeriodForm({"days": str(days)}, sites=Site.objects.none())
            start, end = form.period(zone)
            figures = wo_selectors.period_figures(
                work_orders=work_orders, alerts=alerts, assets=assets, start=start, end=end, now=now
            )
            snapshot = DashboardSnapshot(figures=figures, computed_at=now)
            key = dashboard_snapshot_key(site_ids, start, end)
            cache.set(key, snapshot, SNAPSHOT_KEPT_SECONDS)
            kept += 1
    return kept


def _planner_site_sets() -> set[tuple[int, ...]]:
    """Each active planner's sites when there are several, and every site (superusers)."""
    memberships: dict[int, set[int]] = {}
    rows = User.sites.through.objects.filter(
        user__is_active=True, user__is_staff=True, user__role=Role.PLANNER
    ).values_list("user_id", "site_id")
    for user_id, site_id in rows:
        memberships.setdefault(user_id, set()).add(site_id)
    sets = {tuple(sorted(ids)) for ids in memberships.values() if len(ids) > 1}
    every_site = tuple(Site.objects.order_by("pk").values_list("pk", flat=True))
    if len(every_site) > 1:
        sets.add(every_site)
    return sets
