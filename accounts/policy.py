"""Who may manage whose account (the one rule the API, the admin and the account services
ask), and who may be given work.

Superusers (and the system) manage every account. A planner manages an account only when all
of its sites are the planner's own; any other account they can see is read-only to them.
Work goes to active technicians (of the work's site: `workorders.policy.check_assignee`).
"""

from accounts.models import User
from cmms.errors import NotPermitted
from cmms.roles import Role

ONLY_PLANNERS = "Only planners manage user accounts."
NOT_A_SUPERUSER = "Only superusers change a superuser's account."
NO_SITE = "An account without a site is managed by superusers only."
NOT_ALL_SITES = (
    "This account also works at sites you do not manage; only a planner of all its sites "
    "(or a superuser) may change it."
)


def user_management_refusal(*, by, user: User) -> str | None:
    """Why `by` may not change `user`'s account, or None when they may: the one rule that the
    API, the admin and any other caller ask.

    The system (`by=None`) and superusers manage every account. A planner manages an account
    only when every site of it is one of the planner's own: an account shared with a site the
    planner does not manage is read-only to them, or its other sites could be taken over with
    its password. Superusers' accounts, and accounts without any site (nobody's to adopt), are
    managed by superusers only. A planner may change their own account within the same rules.
    """
    if by is None or by.is_superuser:
        return None
    if not by.is_planner:
        return ONLY_PLANNERS
    if user.is_superuser:
        return NOT_A_SUPERUSER
    if user.pk is None or user.pk == by.pk:
        return None
    # From the table itself: `user` may come with only the viewer's sites prefetched.
    memberships = User.sites.through.objects.filter(user_id=user.pk)
    site_ids = set(memberships.values_list("site_id", flat=True))
    if not site_ids:
        return NO_SITE
    if not site_ids <= by.site_ids():
        return NOT_ALL_SITES
    return None


def may_manage_user(*, by, user: User) -> bool:
    """True when `by` may change `user`'s account (see `user_management_refusal`)."""
    return user_management_refusal(by=by, user=user) is None


def check_manager(by, user: User | None = None) -> None:
    """Raise NotPermitted unless `by` may manage accounts (and `user`, when given)."""
    if by is not None and not by.is_superuser and not by.is_planner:
        raise NotPermitted(ONLY_PLANNERS)
    if user is not None:
        refusal = user_management_refusal(by=by, user=user)
        if refusal:
            raise NotPermitted(refusal)


def may_be_assigned(user: User) -> bool:
    """Whether `user` may be given work at all: an active technician."""
    return user.role == Role.TECHNICIAN and user.is_active


def assignable(users):
    """The people of `users` (a queryset) who may be given work (see `may_be_assigned`)."""
    return users.filter(role=Role.TECHNICIAN, is_active=True)
