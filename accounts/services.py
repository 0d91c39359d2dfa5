"""Writes to user accounts: creation and changes, with the site rules for planners; API tokens.

Superusers manage everyone. A planner manages an account only when all of its sites are the
planner's own (`accounts.policy.user_management_refusal`); any other account they can see is
read-only to them, in the API, the admin and anywhere else, because every write comes through
here.

A planner never grants what they do not hold: only their own sites, and no superuser status
(staff status follows the role). The roles are planner, technician and customer viewer, and a
planner holds the highest of them, so a planner may give any of the three.

Changes of access (role, sites, active flag, password, superuser status) are written to the
audit trail, one entry per site concerned (the old and the new sites), so that the planners
of each of those sites see them; each entry names only its own site.

Everyone issues and revokes their own API tokens; planners also those of the users they
manage (the same rule).
"""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from knox.settings import knox_settings

from accounts import policy
from accounts.models import ApiToken, Skill, User
from assets.models import Site
from audit.choices import AuditAction
from audit.services import audit_record
from cmms.errors import NotPermitted
from cmms.roles import Role

DEFAULT_TTL = object()  # api_token_issue: the configured lifetime (API_TOKEN_TTL_DAYS)
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length

UPDATABLE_FIELDS = frozenset(
    {
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "available_hours_per_day",
    }
)
# Given by superusers (or the system) only; so are Django's `groups` and `user_permissions`.
SUPERUSER_FIELDS = frozenset({"is_superuser"})
# The fields whose change gives or takes access: audited.
ACCESS_FIELDS = ("role", "is_active", "is_superuser")
PASSWORD_CHANGED = "changed"
PASSWORD_DISABLED = "disabled"

# The roles each role may give: only roles it holds or that rank below it.
GRANTABLE_ROLES = {Role.PLANNER: frozenset(Role)}


def _check_grants(by, *, sites: list | None, fields: dict, permissions: dict) -> None:
    """A planner gives only their own sites, and never superuser status or permissions."""
    if by is None or by.is_superuser:
        return
    given = {name for name, value in permissions.items() if value is not None}
    refused = sorted((set(fields) & SUPERUSER_FIELDS) | given)
    if refused:
        raise NotPermitted(f"Only superusers change {', '.join(refused)}.")
    if "role" in fields and fields["role"] not in GRANTABLE_ROLES.get(by.role, ()):
        raise NotPermitted("You can only give a role you hold or one below it.")
    if sites is None:
        return
    if any(not by.may_see_site(site.pk) for site in sites):
        # Named like an id that does not exist: another site's existence is not confirmed.
        raise ValidationError({"sites": "You can only give sites of your own."})
    if not sites:
        raise ValidationError({"sites": "Give at least one of your sites."})


def _skills_for(codes: Iterable[str], *, by) -> list[Skill]:
    """Skills by code. Skills are a global catalogue: an unknown code creates the skill (named
    after its code) only for the system or a superuser; a planner names existing skills."""
    skills = []
    for code in dict.fromkeys(codes):
        try:
            validate_slug(code)
        except ValidationError:
            raise ValidationError({"skills": f"{code!r} is not a valid skill code."}) from None
        if by is not None and not by.is_superuser:
            try:
                skills.append(Skill.objects.get(code=code))
            except Skill.DoesNotExist:
                raise ValidationError(
                    {"skills": f"There is no skill {code!r}; superusers add skills."}
                ) from None
            continue
        skill, _ = Skill.objects.get_or_create(
            code=code, defaults={"name": code.replace("-", " ").replace("_", " ").title()}
        )
        skills.append(skill)
    return skills


def _set_password(user: User, password: str | None) -> None:
    if password is None:
        user.set_unusable_password()
        return
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)


def _staff_follows_role(user: User) -> None:
    """Planners work in the Django admin; the other roles do not."""
    if not user.is_superuser:
        user.is_staff = user.role == Role.PLANNER


def _audit_access(
    *, by, user: User, action: str, changes: dict, old_sites: set[Site], new_sites: set[Site]
) -> None:
    """One audit entry per site concerned (old and new sites), each naming only its own site:
    the planners of every site see who changed the account's access there, and nothing of the
    account's other sites. An account without any site gets one entry without a site.
    """
    sites = sorted(old_sites | new_sites, key=lambda site: site.pk)
    for site in sites or [None]:
        entry = dict(changes)
        if site is not None and site in old_sites ^ new_sites:
            # [old, new] membership of this site: ["ber", None] taken away, [None, "chi"] given.
            entry["sites"] = [
                site.code if site in old_sites else None,
                site.code if site in new_sites else None,
            ]
        if entry:
            audit_record(by=by, action=action, obj=user, site=site, changes=entry)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None = None,
    email: str = "",
    role: str = Role.TECHNICIAN,
    sites: Iterable = (),
    skills: Iterable[str] = (),
    by=None,
    **fields,
) -> User:
    """Create an account with a validated, hashed password (or none usable) at the given sites."""
    policy.check_manager(by)
    unknown = set(fields) - UPDATABLE_FIELDS - SUPERUSER_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    sites = list(sites)
    _check_grants(by, sites=sites, fields={**fields, "role": role}, permissions={})
    user = User(username=username, email=email, role=role, **fields)
    _staff_follows_role(user)
    _set_password(user, password)
    user.full_clean()
    user.save()
    user.sites.set(sites)
    user.skills.set(_skills_for(skills, by=by))
    changes = {"role": [None, user.role], "is_active": [None, user.is_active]}
    if user.is_superuser:
        changes["is_superuser"] = [None, True]
    _audit_access(
        by=by,
        user=user,
        action=AuditAction.USER_CREATE,
        changes=changes,
        old_sites=set(),
        new_sites=set(sites),
    )
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    by=None,
    password: str | None = None,
    sites: Iterable | None = None,
    skills: Iterable[str] | None = None,
    groups: Iterable | None = None,
    user_permissions: Iterable | None = None,
    **fields,
) -> User:
    """Change an account. `sites`/`skills` replace the lists when given; `password` is validated.

    Refused (NotPermitted) unless `by` may manage the account as it is now, under its lock.
    """
    permissions = {"groups": groups, "user_permissions": user_permissions}
    user = User.objects.select_for_update().get(pk=user.pk)
    policy.check_manager(by, user)
    unknown = set(fields) - UPDATABLE_FIELDS - SUPERUSER_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    sites = None if sites is None else list(sites)
    _check_grants(by, sites=sites, fields=fields, permissions=permissions)
    before = {name: getattr(user, name) for name in ACCESS_FIELDS}
    old_sites = set(Site.objects.filter(users=user))
    for name, value in fields.items():
        setattr(user, name, value)
    _staff_follows_role(user)
    if password is not None:
        _set_password(user, password)
    user.full_clean()
    user.save()
    _replace_relations(user, by=by, sites=sites, skills=skills, permissions=permissions)
    _audit_update(
        by=by,
        user=user,
        before=before,
        password_changed=password is not None,
        old_sites=old_sites,
        new_sites=old_sites if sites is None else set(sites),
    )
    return user


def _replace_relations(user: User, *, by, sites, skills, permissions: dict) -> None:
    """Replace the account's sites, skills, groups and permissions that were given (not None)."""
    if sites is not None:
        user.sites.set(sites)
    if skills is not None:
        user.skills.set(_skills_for(skills, by=by))
    for name, values in permissions.items():
        if values is not None:
            getattr(user, name).set(values)


def _audit_update(
    *, by, user: User, before: dict, password_changed: bool, old_sites: set, new_sites: set
) -> None:
    """Record the access changes (fields, password, sites) of an update; nothing when none."""
    changes = {
        name: [before[name], getattr(user, name)]
        for name in ACCESS_FIELDS
        if before[name] != getattr(user, name)
    }
    if password_changed:
        changes["password"] = PASSWORD_CHANGED
    if changes or old_sites != new_sites:
        _audit_access(
            by=by,
            user=user,
            action=AuditAction.USER_UPDATE,
            changes=changes,
            old_sites=old_sites,
            new_sites=new_sites,
        )


@transaction.atomic
def user_set_password(*, user: User, password: str | None, by=None) -> User:
    """Set a validated password, or with None make it unusable (no password login at all)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    policy.check_manager(by, user)
    _set_password(user, password)
    user.save(update_fields=["password"])
    sites = set(Site.objects.filter(users=user))
    _audit_access(
        by=by,
        user=user,
        action=AuditAction.USER_UPDATE,
        changes={"password": PASSWORD_CHANGED if password is not None else PASSWORD_DISABLED},
        old_sites=sites,
        new_sites=sites,
    )
    return user


# ---------------------------------------------------------------- API tokens


def may_manage_tokens_of(by, user: User) -> bool:
    """Everyone revokes their own tokens; planners those of the users they manage."""
    if by is None or by.pk == user.pk:
        return True
    try:
        policy.check_manager(by, user)
    except NotPermitted:
        return False
    return True


def _check_token_holder(by, user: User) -> None:
    if not may_manage_tokens_of(by, user):
        raise NotPermitted("You manage only your own tokens and those of the users you manage.")


def _audit_tokens(*, by, user: User, changes: dict, action: str) -> None:
    """Issuing and revoking credentials is in the audit trail, seen at each of the user's sites."""
    sites = set(Site.objects.filter(users=user))
    _audit_access(
        by=by, user=user, action=action, changes=changes, old_sites=sites, new_sites=sites
    )


ISSUE_FOR_ONESELF = (
    "A person issues their own tokens (superusers also for integration accounts); planners "
    "revoke them."
)
ISSUE_FROM_SESSION = (
    "Issue a new token from a signed-in session (the admin, or the API with a session), not "
    "with another token: a stolen token could otherwise mint one that outlives its revocation."
)


@transaction.atomic
def api_token_issue(
    *,
    user: User,
    name: str,
    by,
    expires_in: timedelta | object | None = DEFAULT_TTL,
    from_token: bool = False,
) -> tuple[ApiToken, str]:
    """Issue a token for one device or integration; returns it and its key, shown only now.

    Only the key's hash is stored. `expires_in` defaults to API_TOKEN_TTL_DAYS, which is also
    the longest lifetime allowed (0: no limit, None: never expires). A key is a credential for
    the person, so only they (or a superuser, for an integration account) may see it: a
    planner who issued a technician's key could act as them, also at sites given to them later.
    `from_token` says the caller authenticated with a token, which may not issue another.
    """
    if by is not None and not by.is_superuser and by.pk != user.pk:
        raise NotPermitted(ISSUE_FOR_ONESELF)
    if from_token:
        raise NotPermitted(ISSUE_FROM_SESSION)
    user = User.objects.select_for_update().get(pk=user.pk)  # the count below is per user
    if not user.is_active:
        raise ValidationError({"user": "This account is deactivated."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the device or integration the token is for."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"At most {NAME_MAX_LENGTH} characters."})
    longest = knox_settings.TOKEN_TTL
    if expires_in is DEFAULT_TTL:
        expires_in = longest
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValidationError({"expires_in_days": "A token must live at least one day."})
    if longest is not None and (expires_in is None or expires_in > longest):
        raise ValidationError({"expires_in_days": f"At most {longest.days} days."})
    live = ApiToken.objects.filter(user=user).filter(
        Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    )
    limit = settings.API_TOKEN_LIMIT_PER_USER
    if live.count() >= limit:
        raise ValidationError(
            {"name": f"This account already has {limit} live tokens; revoke one first."}
        )
    token, key = ApiToken.objects.create(user=user, name=name, expiry=expires_in)
    _audit_tokens(by=by, user=user, changes={"api_token": name}, action=AuditAction.API_TOKEN_ISSUE)
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by) -> None:
    """Revoke one token (a lost phone): it stops authenticating at once."""
    _check_token_holder(by, token.user)
    token.delete()
    _audit_tokens(
        by=by,
        user=token.user,
        changes={"api_tokens": [token.name]},
        action=AuditAction.API_TOKEN_REVOKE,
    )


@transaction.atomic
def api_token_revoke_all(*, user: User, by) -> int:
    """Revoke every token of `user`; returns how many there were."""
    _check_token_holder(by, user)
    tokens = ApiToken.objects.filter(user=user)
    names = sorted(tokens.values_list("name", flat=True))
    revoked, _ = tokens.delete()
    if revoked:
        _audit_tokens(
            by=by, user=user, changes={"api_tokens": names}, action=AuditAction.API_TOKEN_REVOKE
        )
    return revoked
