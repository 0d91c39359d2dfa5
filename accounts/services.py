"""Writes to user accounts: creation and changes, with the site rules for planners; API tokens.

Superusers manage everyone. Planners manage the users of their own sites and may only give
sites they have themselves; a user's other sites stay as they are. Everyone issues and revokes
their own API tokens; planners also those of the users they manage.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from knox.settings import knox_settings

from accounts.choices import Role
from accounts.models import ApiToken, Skill, User
from assets.models import Site
from cmms.errors import NotPermitted

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


def _check_manager(by, user: User | None = None) -> None:
    """Raise unless `by` may manage accounts (and `user`, when given)."""
    if by is None or by.is_superuser:
        return
    if not by.is_planner:
        raise NotPermitted("Only planners manage user accounts.")
    if user is None or user.pk == by.pk:
        return
    shares_a_site = Site.objects.filter(users=user, pk__in=by.site_ids()).exists()
    if user.is_superuser or not shares_a_site:
        raise NotPermitted("You manage only the users of your own sites.")


def _sites_granted(by, sites: Iterable, *, current: Iterable = ()) -> list:
    """The sites to set: the requested ones, which must all be `by`'s own, plus the user's
    current sites that `by` does not have (a planner cannot take those away).
    """
    sites = list(sites)
    if by is None or by.is_superuser:
        return sites
    foreign = sorted(str(site) for site in sites if not by.may_see_site(site.pk))
    if foreign:
        raise ValidationError(
            {"sites": f"You can only give your own sites, not {', '.join(foreign)}."}
        )
    kept = [site for site in current if not by.may_see_site(site.pk)]
    if not sites and not kept:
        raise ValidationError({"sites": "Give at least one of your sites."})
    return sites + kept


def _skills_for(codes: Iterable[str]) -> list[Skill]:
    """Skills by code; an unknown code creates the skill (named after its code)."""
    skills = []
    for code in dict.fromkeys(codes):
        try:
            validate_slug(code)
        except ValidationError:
            raise ValidationError({"skills": f"{code!r} is not a valid skill code."}) from None
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
    _check_manager(by)
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    sites = _sites_granted(by, sites)
    user = User(username=username, email=email, role=role, **fields)
    _staff_follows_role(user)
    _set_password(user, password)
    user.full_clean()
    user.save()
    user.sites.set(sites)
    user.skills.set(_skills_for(skills))
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    by=None,
    password: str | None = None,
    sites: Iterable | None = None,
    skills: Iterable[str] | None = None,
    **fields,
) -> User:
    """Change an account. `sites`/`skills` replace the lists when given; `password` is validated."""
    _check_manager(by, user)
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    for name, value in fields.items():
        setattr(user, name, value)
    _staff_follows_role(user)
    if password is not None:
        _set_password(user, password)
    user.full_clean()
    user.save()
    if sites is not None:
        user.sites.set(_sites_granted(by, sites, current=Site.objects.filter(users=user)))
    if skills is not None:
        user.skills.set(_skills_for(skills))
    if hasattr(user, "_site_ids"):
        del user._site_ids
    return user


# ---------------------------------------------------------------- API tokens


def may_manage_tokens_of(by, user: User) -> bool:
    """Everyone manages their own tokens; planners those of the users they manage."""
    if by is None or by.pk == user.pk:
        return True
    try:
        _check_manager(by, user)
    except NotPermitted:
        return False
    return True


def _check_token_holder(by, user: User) -> None:
    if not may_manage_tokens_of(by, user):
        raise NotPermitted("You manage only your own tokens and those of the users you manage.")


@transaction.atomic
def api_token_issue(
    *, user: User, name: str, by, expires_in: timedelta | object | None = DEFAULT_TTL
) -> tuple[ApiToken, str]:
    """Issue a token for one device or integration; returns it and its key, shown only now.

    Only the key's hash is stored. `expires_in` defaults to API_TOKEN_TTL_DAYS (None: never).
    """
    _check_token_holder(by, user)
    if not user.is_active:
        raise ValidationError({"user": "This account is deactivated."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the device or integration the token is for."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"At most {NAME_MAX_LENGTH} characters."})
    if expires_in is DEFAULT_TTL:
        expires_in = knox_settings.TOKEN_TTL
    if expires_in is not None and expires_in <= timedelta(0):
        raise ValidationError({"expires_in_days": "A token must live at least one day."})
    return ApiToken.objects.create(user=user, name=name, expiry=expires_in)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by) -> None:
    """Revoke one token (a lost phone): it stops authenticating at once."""
    _check_token_holder(by, token.user)
    token.delete()


@transaction.atomic
def api_token_revoke_all(*, user: User, by) -> int:
    """Revoke every token of `user`; returns how many there were."""
    _check_token_holder(by, user)
    revoked, _ = ApiToken.objects.filter(user=user).delete()
    return revoked
