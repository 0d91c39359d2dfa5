"""Who may read client reports: the client's own viewers and the partner's planners.

Technicians do field work and never see a report (it carries billed amounts and the
contract's terms). Which customers and sites a reader sees is the usual site scoping.
"""

REPORTS_ARE_FOR_VIEWERS_AND_PLANNERS = (
    "Monthly reports are for the client's viewers and the planners."
)


def may_read_reports(user) -> bool:
    return user.is_authenticated and (user.is_planner or user.is_customer_viewer)
