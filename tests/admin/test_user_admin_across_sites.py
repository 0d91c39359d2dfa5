"""The user admin asks the same rule as the API: a planner changes only accounts whose sites
are all theirs; a person shared with another site is read-only to them (change form, password
form), and every admin write goes through the account services (audited)."""

import pytest
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEntry
from tests.factories import SuperuserFactory
from tests.forms import form_data

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "correct-Horse-battery-7"


@pytest.fixture
def shared(plant_a, plant_b):
    """plant_a's technician, who also works at plant_b."""
    plant_a.technician.sites.add(plant_b.site)
    return plant_a.technician


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def password_url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


def test_a_shared_users_change_form_is_read_only_and_shows_only_the_planners_sites(
    planner_client, plant_a, plant_b, shared
):
    response = planner_client.get(change_url(shared))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    page = response.content.decode()
    assert plant_a.site.name in page
    assert plant_b.site.name not in page
    assert 'name="username"' not in page


def test_posting_a_shared_users_change_form_is_refused_and_changes_nothing(
    planner_client, plant_a, shared
):
    before = User.objects.get(pk=shared.pk)
    data = {
        "username": shared.username,
        "role": "planner",
        "sites": [str(plant_a.site.pk)],
        "is_active": "on",
        "is_staff": "on",
        "available_hours_per_day": "8.0",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = planner_client.post(change_url(shared), data)
    assert response.status_code == 403
    after = User.objects.get(pk=shared.pk)
    assert (after.role, after.is_staff, after.password) == ("technician", False, before.password)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_shared_users_password_form_is_refused(planner_client, shared, method):
    before = User.objects.get(pk=shared.pk).password
    body = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    response = getattr(planner_client, method)(password_url(shared), body)
    assert response.status_code == 403
    assert User.objects.get(pk=shared.pk).password == before


def test_a_planner_sets_the_password_of_a_user_of_their_sites_through_the_service(
    planner_client, plant_a
):
    technician = plant_a.technician
    response = planner_client.post(
        password_url(technician),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=technician.pk).check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.get(action="user.update", object_id=str(technician.pk))
    assert (entry.site, entry.actor, entry.changes) == (
        plant_a.site,
        plant_a.planner,
        {"password": "changed"},
    )


def test_a_weak_password_in_the_admin_is_a_form_error(planner_client, plant_a):
    response = planner_client.post(
        password_url(plant_a.technician),
        {"password1": "abc", "password2": "abc", "usable_password": "true"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not AuditEntry.objects.filter(action="user.update").exists()


def test_a_role_change_in_the_admin_goes_through_the_service_and_is_audited(
    planner_client, plant_a
):
    technician = plant_a.technician
    url = change_url(technician)
    data = form_data(planner_client.get(url), "user_form")
    data["role"] = "planner"
    response = planner_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = User.objects.get(pk=technician.pk)
    assert (stored.role, stored.is_staff) == ("planner", True)  # staff follows the role
    entry = AuditEntry.objects.get(action="user.update", object_id=str(technician.pk))
    assert (entry.site, entry.actor, entry.changes) == (
        plant_a.site,
        plant_a.planner,
        {"role": ["technician", "planner"]},
    )


def test_a_planner_cannot_make_a_technician_staff_in_the_admin(planner_client, plant_a):
    technician = plant_a.technician
    url = change_url(technician)
    data = form_data(planner_client.get(url), "user_form")
    assert "is_staff" not in data  # shown read-only: it follows the role
    data["is_staff"] = "on"
    data["first_name"] = "Tia"
    response = planner_client.post(url, data)
    assert response.status_code == 302
    stored = User.objects.get(pk=technician.pk)
    assert (stored.first_name, stored.is_staff) == ("Tia", False)


def test_a_planner_adds_a_user_at_their_site_through_the_service(planner_client, plant_a):
    response = planner_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "role": "technician",
            "sites": [str(plant_a.site.pk)],
            "available_hours_per_day": "8.0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    newbie = User.objects.get(username="newbie")
    assert newbie.check_password(NEW_PASSWORD)
    assert list(newbie.sites.all()) == [plant_a.site]
    entry = AuditEntry.objects.get(action="user.create")
    assert (entry.site, entry.actor, entry.object_repr) == (plant_a.site, plant_a.planner, "newbie")


def test_a_planner_adding_a_user_without_a_site_gets_a_form_error(planner_client, plant_a):
    response = planner_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "nobody",
            "usable_password": "false",
            "role": "technician",
            "available_hours_per_day": "8.0",
        },
    )
    assert response.status_code == 200
    assert "sites" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="nobody").exists()


def test_planners_do_not_delete_accounts(planner_client, plant_a):
    url = reverse("admin:accounts_user_delete", args=[plant_a.technician.pk])
    assert planner_client.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=plant_a.technician.pk).exists()


def test_a_superuser_changes_a_shared_user_and_may_grant_superuser_status(
    client, plant_a, plant_b, shared
):
    boss = SuperuserFactory(username="boss")
    client.force_login(boss)
    url = change_url(shared)
    data = form_data(client.get(url), "user_form")
    assert sorted(data["sites"]) == sorted([str(plant_a.site.pk), str(plant_b.site.pk)])
    data["is_superuser"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(pk=shared.pk).is_superuser
    entries = AuditEntry.objects.filter(action="user.update", object_id=str(shared.pk))
    assert sorted(entry.site.code for entry in entries) == ["aaa", "bbb"]
    assert {str(entry.changes) for entry in entries} == {"{'is_superuser': [False, True]}"}
