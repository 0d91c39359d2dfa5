"""Users API: superusers manage everyone, planners the users of their sites, others only /me/."""

import pytest

from accounts.models import Skill, User
from tests.factories import SkillFactory, SuperuserFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct-Horse-battery-7"


def test_a_superuser_creates_a_user_with_a_write_only_password(as_user, superuser, site_a):
    response = as_user(superuser).post(
        "/api/v1/users/",
        {
            "username": "anna",
            "password": GOOD_PASSWORD,
            "email": "anna@example.com",
            "role": "technician",
            "sites": [site_a.pk],
            "skills": ["mechanical", "vibration"],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert "password" not in response.data
    assert GOOD_PASSWORD not in str(response.content)
    assert response.data["sites"] == [site_a.pk]
    assert sorted(response.data["skills"]) == ["mechanical", "vibration"]
    user = User.objects.get(username="anna")
    assert user.check_password(GOOD_PASSWORD)
    assert user.password != GOOD_PASSWORD
    assert not user.is_staff


def test_the_password_is_never_returned_on_read(as_user, superuser, technician):
    body = as_user(superuser).get(f"/api/v1/users/{technician.pk}/").data
    assert "password" not in body


def test_a_weak_password_is_refused_by_the_validators(as_user, superuser, site_a):
    response = as_user(superuser).post(
        "/api/v1/users/",
        {"username": "weak", "password": "12345678", "sites": [site_a.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "password" in response.data
    assert not User.objects.filter(username="weak").exists()


def test_unknown_skill_codes_are_created(as_user, superuser, site_a):
    response = as_user(superuser).post(
        "/api/v1/users/",
        {"username": "bo", "sites": [site_a.pk], "skills": ["thermography"]},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert Skill.objects.get(code="thermography").name == "Thermography"


def test_a_planner_names_existing_skills_but_cannot_add_one_to_the_global_catalogue(
    as_user, planner, site_a
):
    SkillFactory(code="welding")
    response = as_user(planner).post(
        "/api/v1/users/",
        {"username": "bo", "sites": [site_a.pk], "skills": ["welding", "thermography"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.data["skills"] == ["There is no skill 'thermography'; superusers add skills."]
    assert not Skill.objects.filter(code="thermography").exists()
    assert not User.objects.filter(username="bo").exists()

    response = as_user(planner).post(
        "/api/v1/users/",
        {"username": "bo", "sites": [site_a.pk], "skills": ["welding"]},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["skills"] == ["welding"]


def test_a_malformed_skill_code_is_a_400(as_user, superuser):
    response = as_user(superuser).post(
        "/api/v1/users/", {"username": "bo", "skills": ["not a code"]}, format="json"
    )
    assert response.status_code == 400
    assert "skills" in response.data


def test_a_planner_creates_a_technician_at_their_site(as_user, planner, site_a):
    response = as_user(planner).post(
        "/api/v1/users/",
        {"username": "tom", "password": GOOD_PASSWORD, "sites": [site_a.pk]},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert User.objects.get(username="tom").role == "technician"


def test_a_planner_cannot_create_a_user_at_a_site_they_do_not_have(
    as_user, planner, site_a, site_b
):
    response = as_user(planner).post(
        "/api/v1/users/",
        {"username": "tom", "password": GOOD_PASSWORD, "sites": [site_a.pk, site_b.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert "Invalid pk" in str(response.data["sites"])
    assert not User.objects.filter(username="tom").exists()


def test_a_planner_must_give_one_of_their_sites(as_user, planner):
    response = as_user(planner).post(
        "/api/v1/users/", {"username": "tom", "password": GOOD_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert "sites" in response.data


def test_a_planner_lists_only_the_users_of_their_sites(as_user, planner, technician, site_b):
    stranger = TechnicianFactory(sites=[site_b])
    boss = SuperuserFactory()
    boss.sites.add(*planner.sites.all())
    client = as_user(planner)
    listed = {row["id"] for row in client.get("/api/v1/users/").data["results"]}
    assert listed == {planner.pk, technician.pk}
    assert client.get(f"/api/v1/users/{stranger.pk}/").status_code == 404
    assert client.get(f"/api/v1/users/{boss.pk}/").status_code == 404


def test_a_planner_sees_a_shared_user_with_only_their_own_sites(as_user, planner, site_a, site_b):
    shared = TechnicianFactory(sites=[site_a, site_b])
    response = as_user(planner).get(f"/api/v1/users/{shared.pk}/")
    assert response.status_code == 200
    assert response.data["sites"] == [site_a.pk]


def test_changing_the_password_validates_and_hashes_it(as_user, planner, technician):
    client = as_user(planner)
    weak = client.patch(f"/api/v1/users/{technician.pk}/", {"password": "abc"}, format="json")
    assert weak.status_code == 400
    assert "password" in weak.data
    ok = client.patch(f"/api/v1/users/{technician.pk}/", {"password": GOOD_PASSWORD}, format="json")
    assert ok.status_code == 200
    technician.refresh_from_db()
    assert technician.check_password(GOOD_PASSWORD)


def test_a_planner_role_gets_admin_access(as_user, planner, technician):
    response = as_user(planner).patch(
        f"/api/v1/users/{technician.pk}/", {"role": "planner"}, format="json"
    )
    assert response.status_code == 200
    technician.refresh_from_db()
    assert technician.is_staff


def test_an_unknown_role_is_a_400(as_user, superuser):
    response = as_user(superuser).post(
        "/api/v1/users/", {"username": "x", "role": "boss"}, format="json"
    )
    assert response.status_code == 400
    assert "role" in response.data


@pytest.mark.parametrize("role", ["technician", "viewer"])
def test_technicians_and_viewers_cannot_list_users_but_see_themselves(role, request, as_user):
    user = request.getfixturevalue(role)
    client = as_user(user)
    assert client.get("/api/v1/users/").status_code == 403
    assert client.get(f"/api/v1/users/{user.pk}/").status_code == 403
    assert client.post("/api/v1/users/", {"username": "x"}, format="json").status_code == 403
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert (me.data["id"], me.data["role"]) == (user.pk, user.role)
    assert "password" not in me.data


def test_users_are_deactivated_not_deleted(as_user, superuser, technician):
    client = as_user(superuser)
    assert client.delete(f"/api/v1/users/{technician.pk}/").status_code == 405
    response = client.patch(f"/api/v1/users/{technician.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    technician.refresh_from_db()
    assert not technician.is_active


def test_users_filter_by_role_site_and_skill(as_user, superuser, site_a, site_b):
    a = TechnicianFactory(sites=[site_a], skills=["electrical"])
    b = TechnicianFactory(sites=[site_b], skills=["mechanical"])
    client = as_user(superuser)

    def ids(query):
        return {row["id"] for row in client.get(f"/api/v1/users/?{query}").data["results"]}

    assert ids(f"site={site_a.pk}") == {a.pk}
    assert ids("skill=mechanical") == {b.pk}
    assert ids("role=technician") >= {a.pk, b.pk}
    assert superuser.pk not in ids("role=technician")
