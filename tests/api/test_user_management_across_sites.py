"""A planner changes only accounts whose sites are all theirs; the rest are read-only to them.

The reproduced takeover: a technician at `ber` and `chi`, and the `ber`-only planner setting
their password (then logging in as them to read `chi`). The rule lives in
`accounts.policy.user_management_refusal`, asked by the API, the admin and the services.
"""

import pytest
from django.core.exceptions import ValidationError

from accounts import policy, services
from accounts.models import User
from audit.models import AuditEntry
from cmms.errors import NotPermitted
from tests.factories import (
    PlannerFactory,
    SiteFactory,
    SuperuserFactory,
    TechnicianFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct-Horse-battery-7"


@pytest.fixture
def ber():
    return SiteFactory(code="ber")


@pytest.fixture
def chi():
    return SiteFactory(code="chi")


@pytest.fixture
def ber_planner(ber):
    return PlannerFactory(username="ber-planner", sites=[ber])


@pytest.fixture
def shared(ber, chi):
    """A technician of both plants."""
    return TechnicianFactory(username="shared-tech", sites=[ber, chi])


def stored(user) -> User:
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(
    "body",
    [
        {"password": GOOD_PASSWORD},
        {"role": "planner"},
        {"is_active": False},
        {"username": "renamed"},
        {"email": "new@example.com"},
        {"sites": []},
        {"first_name": "Ann"},
    ],
    ids=lambda body: next(iter(body)),
)
def test_a_planner_cannot_change_a_user_who_also_works_at_a_site_they_do_not_manage(
    as_user, ber_planner, shared, ber, chi, body
):
    before = stored(shared)
    if "sites" in body:
        body = {"sites": [ber.pk]}
    response = as_user(ber_planner).patch(f"/api/v1/users/{shared.pk}/", body, format="json")
    assert response.status_code == 403, response.data
    after = stored(shared)
    assert after.password == before.password
    assert (after.username, after.email, after.role, after.is_active, after.is_staff) == (
        "shared-tech",
        "shared-tech@example.com",
        "technician",
        True,
        False,
    )
    assert set(after.sites.values_list("code", flat=True)) == {"ber", "chi"}
    assert not AuditEntry.objects.filter(object_id=str(shared.pk)).exists()


def test_a_full_put_on_a_shared_user_is_refused_too(as_user, ber_planner, shared, ber):
    body = {"username": "shared-tech", "role": "technician", "sites": [ber.pk]}
    response = as_user(ber_planner).put(f"/api/v1/users/{shared.pk}/", body, format="json")
    assert response.status_code == 403


def test_a_planner_of_all_the_users_sites_may_change_them(as_user, ber, chi, shared):
    both = PlannerFactory(sites=[ber, chi])
    response = as_user(both).patch(
        f"/api/v1/users/{shared.pk}/", {"password": GOOD_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.data
    assert stored(shared).check_password(GOOD_PASSWORD)


def test_a_planner_cannot_change_a_superuser_who_works_at_their_site(ber, ber_planner):
    boss = SuperuserFactory(sites=[ber])
    with pytest.raises(NotPermitted):
        services.user_update(user=boss, by=ber_planner, first_name="Bob")
    assert policy.user_management_refusal(by=ber_planner, user=boss) == (policy.NOT_A_SUPERUSER)


def test_a_user_without_any_site_is_for_superusers_to_manage(as_user, ber, ber_planner):
    loner = TechnicianFactory(username="loner")
    assert policy.user_management_refusal(by=ber_planner, user=loner) == policy.NO_SITE
    with pytest.raises(NotPermitted):
        services.user_update(user=loner, by=ber_planner, sites=[ber])
    assert as_user(ber_planner).get(f"/api/v1/users/{loner.pk}/").status_code == 404
    assert not stored(loner).sites.exists()


def test_a_planner_cannot_give_themselves_a_site_or_superuser_status(ber, chi, ber_planner):
    assert policy.may_manage_user(by=ber_planner, user=ber_planner)
    with pytest.raises(ValidationError) as refused:
        services.user_update(user=ber_planner, by=ber_planner, sites=[ber, chi])
    assert "sites" in str(refused.value)
    with pytest.raises(NotPermitted):
        services.user_update(user=ber_planner, by=ber_planner, is_superuser=True)
    me = stored(ber_planner)
    assert list(me.sites.values_list("code", flat=True)) == ["ber"]
    assert not me.is_superuser


def test_a_planner_cannot_give_a_site_they_do_not_hold(as_user, ber, chi, ber_planner):
    colleague = TechnicianFactory(sites=[ber])
    response = as_user(ber_planner).patch(
        f"/api/v1/users/{colleague.pk}/", {"sites": [ber.pk, chi.pk]}, format="json"
    )
    assert response.status_code == 400
    assert list(stored(colleague).sites.values_list("code", flat=True)) == ["ber"]


def test_the_service_refuses_another_sites_site_whoever_calls_it(ber, chi, ber_planner):
    colleague = TechnicianFactory(sites=[ber])
    with pytest.raises(ValidationError) as refused:
        services.user_update(user=colleague, by=ber_planner, sites=[ber, chi])
    assert "sites" in str(refused.value)


def test_the_policy_reads_the_sites_from_the_database_not_from_a_scoped_prefetch(
    ber, chi, ber_planner, shared
):
    from django.db.models import Prefetch

    from assets.models import Site

    seen_by_planner = User.objects.prefetch_related(
        Prefetch("sites", queryset=Site.objects.for_user(ber_planner))
    ).get(pk=shared.pk)
    assert [site.code for site in seen_by_planner.sites.all()] == ["ber"]
    assert not policy.may_manage_user(by=ber_planner, user=seen_by_planner)


def test_a_role_and_site_change_is_audited_once_per_site_concerned(ber, chi):
    boss = SuperuserFactory(username="boss")
    colleague = TechnicianFactory(username="tom", sites=[ber])
    services.user_update(user=colleague, by=boss, role="planner", sites=[chi])
    entries = {
        entry.site.code: entry
        for entry in AuditEntry.objects.filter(action="user.update", object_id=str(colleague.pk))
    }
    assert set(entries) == {"ber", "chi"}
    assert entries["ber"].actor_name == "boss"
    assert entries["ber"].changes == {
        "role": ["technician", "planner"],
        "sites": ["ber", None],
    }
    assert entries["chi"].changes == {
        "role": ["technician", "planner"],
        "sites": [None, "chi"],
    }


def test_each_sites_planners_see_the_entry_of_their_site_and_no_other_site(as_user, ber, chi):
    boss = SuperuserFactory()
    colleague = TechnicianFactory(sites=[ber])
    services.user_update(user=colleague, by=boss, sites=[ber, chi])
    chi_planner = PlannerFactory(sites=[chi])
    ber_planner = PlannerFactory(sites=[ber])
    chi_rows = as_user(chi_planner).get("/api/v1/audit/?action=user.update").data["results"]
    assert [(row["changes"], row["object_id"]) for row in chi_rows] == [
        ({"sites": [None, "chi"]}, str(colleague.pk))
    ]
    # ber's membership did not change: nothing of chi is written where ber's planners look.
    ber_rows = as_user(ber_planner).get("/api/v1/audit/?action=user.update").data["results"]
    assert ber_rows == []


def test_a_password_change_is_audited_without_the_password(as_user, ber, ber_planner):
    colleague = TechnicianFactory(sites=[ber])
    as_user(ber_planner).patch(
        f"/api/v1/users/{colleague.pk}/", {"password": GOOD_PASSWORD}, format="json"
    )
    entry = AuditEntry.objects.get(action="user.update", object_id=str(colleague.pk))
    assert (entry.site, entry.actor, entry.changes) == (ber, ber_planner, {"password": "changed"})
    assert GOOD_PASSWORD not in str(entry.changes)


def test_creating_a_user_is_audited_at_each_of_their_sites(as_user, ber, ber_planner):
    response = as_user(ber_planner).post(
        "/api/v1/users/",
        {"username": "newbie", "role": "technician", "sites": [ber.pk]},
        format="json",
    )
    assert response.status_code == 201, response.data
    entry = AuditEntry.objects.get(action="user.create")
    assert (entry.site, entry.actor, entry.object_repr) == (ber, ber_planner, "newbie")
    assert entry.changes == {
        "role": [None, "technician"],
        "is_active": [None, True],
        "sites": [None, "ber"],
    }


def test_a_change_that_touches_no_access_field_writes_no_audit_entry(ber, ber_planner):
    colleague = UserFactory(sites=[ber])
    services.user_update(user=colleague, by=ber_planner, first_name="Ann")
    assert not AuditEntry.objects.exists()


def test_a_write_to_a_shared_user_is_refused_before_the_body_is_checked(
    as_user, ber_planner, shared, chi
):
    taken = TechnicianFactory(username="taken").username
    for body in ({"username": taken}, {"sites": [chi.pk]}, {"role": "boss"}):
        response = as_user(ber_planner).patch(f"/api/v1/users/{shared.pk}/", body, format="json")
        assert response.status_code == 403, (body, response.data)


def test_a_planner_gives_only_roles_they_hold_or_below(ber, ber_planner, monkeypatch):
    colleague = TechnicianFactory(sites=[ber])
    for role in ("planner", "technician", "customer_viewer"):
        services.user_update(user=colleague, by=ber_planner, role=role)
    monkeypatch.setitem(services.GRANTABLE_ROLES, "planner", frozenset({"technician"}))
    with pytest.raises(NotPermitted):
        services.user_update(user=colleague, by=ber_planner, role="planner")
    with pytest.raises(NotPermitted):
        services.user_create(username="x", role="planner", sites=[ber], by=ber_planner)
