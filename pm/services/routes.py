"""Writes to inspection routes, their points and each point's checks (the admin calls these).

Every save is in the audit trail against the route, at the route's site: the route's own
fields as `[old, new]`, and what happened to its rows under `points` and `checks`
(`{"added": [...], "changed": {row: {field: [old, new]}}, "deleted": [...]}`), a point named
by its position and asset tag, a check by its point and label. A change made on a point's own
page is recorded the same way as one made in the route's points.
"""

from django.db import transaction

from audit.choices import AuditAction
from audit.services import audit_record, field_changes
from cmms.rows import RowEdits, row_edits_apply
from pm.models import Route, RouteCheck, RoutePoint


def _point_label(point: RoutePoint) -> str:
    return f"{point.position}. {point.asset.tag}"


def _check_label(check: RouteCheck) -> str:
    return f"{_point_label(check.point)}: {check.label}"


def _points_applied(route: Route, edits: RowEdits | None) -> dict:
    if not edits:
        return {}
    return row_edits_apply(
        route.points.select_related("asset"),
        edits,
        new=lambda values: RoutePoint(route=route, **values),
        label=_point_label,
    )


def _checks_applied(point: RoutePoint, edits: RowEdits | None) -> dict:
    if not edits:
        return {}
    return row_edits_apply(
        point.checks.select_related("point__asset"),
        edits,
        new=lambda values: RouteCheck(point=point, **values),
        label=_check_label,
    )


def _record(route: Route, *, creating: bool, by, changes: dict) -> None:
    """The route's audit entry, unless the save changed nothing."""
    changes = {name: value for name, value in changes.items() if value}
    if creating or changes:
        audit_record(
            by=by,
            action=AuditAction.ROUTE_CREATE if creating else AuditAction.ROUTE_UPDATE,
            obj=route,
            site=route.site,
            changes=changes,
        )


@transaction.atomic
def route_save(
    *, route: Route | None = None, points: RowEdits | None = None, by=None, **fields
) -> Route:
    """Create a route, or change the stored `route`'s given `fields`, with the points added,
    changed and deleted in `points`; each row is validated as the model does (a point's asset
    at the route's site). Recorded in the audit trail with `by`."""
    creating = route is None
    route = route or Route()
    before = {} if creating else {name: getattr(route, name) for name in fields}
    for name, value in fields.items():
        setattr(route, name, value)
    if fields or creating:
        route.full_clean()
        route.save()
    changes = field_changes(before, fields)
    changes["points"] = _points_applied(route, points)
    _record(route, creating=creating, by=by, changes=changes)
    return route


@transaction.atomic
def route_point_save(
    *, point: RoutePoint | None = None, checks: RowEdits | None = None, by=None, **fields
) -> RoutePoint:
    """Create a point (give its `route`), or change the stored `point`'s given `fields` (its
    route stays), with the checks added, changed and deleted in `checks`. Recorded in the
    audit trail as a change of the point's route."""
    if point is not None:
        fields.pop("route", None)
        route = point.route
        edits = RowEdits(changed={point.pk: fields}) if fields else None
        summary = _points_applied(route, edits)
        point = route.points.select_related("asset").get(pk=point.pk)
    else:
        route = fields.pop("route")
        summary = _points_applied(route, RowEdits(added=[fields]))
        point = route.points.select_related("asset").get(position=fields["position"])
    changes = {"points": summary, "checks": _checks_applied(point, checks)}
    _record(route, creating=False, by=by, changes=changes)
    return point


@transaction.atomic
def route_point_delete(*, point: RoutePoint, by=None) -> None:
    """Delete a point with its checks (refused by the database while a run's result refers to
    one of them). Recorded in the audit trail as a change of the point's route."""
    route = point.route
    checks = [_check_label(check) for check in point.checks.select_related("point__asset")]
    summary = _points_applied(route, RowEdits(deleted=[point.pk]))
    _record(
        route,
        creating=False,
        by=by,
        changes={"points": summary, "checks": {"deleted": checks} if checks else {}},
    )
