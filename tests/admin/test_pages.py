"""Every admin page a planner uses renders, and only superusers and staff planners get in."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import CustomerViewerFactory, PlannerFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"accounts", "assets", "workorders", "pipeline", "contracts"}


def our_model_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
    ]


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_our_apps_has_an_admin():
    from django.apps import apps

    registered = {model for model, _ in our_model_admins()}
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.model_name in {
                "checkliststep",
                "partreservation",
                "jobplanstep",
                "jobplanpart",
                "slatarget",
                "billingrate",
                "holiday",
                "signature",
                "isolationpoint",
            }:
                # edited (or, signatures, shown) inline on their work order, job plan,
                # contract, calendar or asset
                continue
            assert model in registered, f"{model.__name__} has no admin"


def test_every_changelist_and_add_page_renders_for_a_planner(planner_client, plant_a):
    checked = 0
    for model, model_admin in our_model_admins():
        response = planner_client.get(url(model, "changelist"))
        assert response.status_code == 200, f"{model.__name__} changelist: {response.status_code}"
        request = response.wsgi_request
        if model_admin.has_add_permission(request):
            response = planner_client.get(url(model, "add"))
            assert response.status_code == 200, f"{model.__name__} add: {response.status_code}"
        checked += 1
    assert checked >= 12


def test_the_change_pages_with_inlines_render_for_a_planner(planner_client, plant_a):
    for obj in (
        plant_a.work_order,
        plant_a.pump,
        plant_a.stock,
        plant_a.storeroom,
        plant_a.technician,
    ):
        response = planner_client.get(url(type(obj), "change", obj.pk))
        assert response.status_code == 200, type(obj).__name__
    page = planner_client.get(url(type(plant_a.work_order), "change", plant_a.work_order.pk))
    html = page.content.decode()
    assert "LOTO" in html  # checklist inline
    assert "in_progress" in html or "In progress" in html  # history inline
    assert plant_a.stock.part.sku in html  # parts issued inline


def test_each_date_and_time_input_has_its_own_accessible_name(planner_client, plant_a):
    """Django writes "Date:" and "Time:" as bare text; screen readers need a name per input."""
    assert plant_a.work_order.is_open  # its dates are editable
    page = planner_client.get(url(type(plant_a.work_order), "change", plant_a.work_order.pk))
    html = page.content.decode()
    assert 'id="id_due_at_0"' in html
    assert 'aria-label="Due at: date"' in html
    assert 'aria-label="Due at: time"' in html
    assert 'aria-label="Scheduled start: date"' in html


def test_the_asset_list_shows_the_hierarchy_breadcrumb(planner_client, plant_a):
    html = planner_client.get(url(type(plant_a.pump), "changelist")).content.decode()
    assert (
        f"{plant_a.area.tag} \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} {plant_a.line.tag}"
        in html
    )
    assert "asset-depth-2" in html  # the pump sits at depth 2


@pytest.mark.parametrize("factory", [TechnicianFactory, CustomerViewerFactory])
def test_technicians_and_customer_viewers_cannot_enter_even_as_staff(client, plant_a, factory):
    user = factory(sites=[plant_a.site], is_staff=True)
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": "pw-for-tests-1"}
    )
    assert response.status_code == 200
    assert "The admin is for planners" in response.content.decode()
    assert "_auth_user_id" not in client.session

    client.force_login(user)
    for path in (reverse("admin:index"), url(type(plant_a.work_order), "changelist")):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_planner_without_staff_status_cannot_enter(client, plant_a):
    planner = PlannerFactory(sites=[plant_a.site], is_staff=False)
    client.force_login(planner)
    response = client.get(url(type(plant_a.work_order), "changelist"))
    assert response.status_code == 302


def test_a_staff_planner_logs_in_with_a_password_and_needs_no_model_permissions(client, plant_a):
    assert not plant_a.planner.user_permissions.exists()
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": plant_a.planner.username, "password": "pw-for-tests-1", "next": "/admin/"},
    )
    assert response.status_code == 302
    index = client.get(reverse("admin:index")).content.decode()
    assert "Work orders" in index
    assert "Stock movements" in index
