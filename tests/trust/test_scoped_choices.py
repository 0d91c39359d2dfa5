"""What a planner is offered to filter or pick, and the values and counts they are shown, stay
within their sites: every admin changelist (its filters and its columns), every API filter
that takes a related row's id, the user admin and `/metrics`.

The admin and API checks run over every registered admin and every API filterset, so a new
list filter or filter field that is not scoped fails here.
"""

import pytest
from django.contrib import admin
from django.contrib.admin import RelatedFieldListFilter
from django.test import Client
from django.urls import reverse
from django_filters.filters import QuerySetRequestMixin

from alerts.models import Alert
from cmms.scoping import scoped_choices
from tests.factories import SiteFactory, TechnicianFactory
from tests.trust.plants import MISSING_ID, MISSING_UUID

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(module_world, db):
    """The module's one world (`module_world`), each test in its own savepoint."""
    return module_world


@pytest.fixture
def crossing(world):
    """People and sites that cross the boundary of the planner's plant, and the strings that
    would give the other plant away if they showed on a planner's page."""
    own, foreign = world.own, world.foreign
    foreign.site.code, foreign.site.name = "zz-globex", "Globex Works"
    foreign.site.save()
    foreign.customer.name = "Globex Holding"
    foreign.customer.save()
    # A site of the planner's own customer that the planner does not have.
    SiteFactory(customer=own.site.customer, code="zz-sister", name="Sister Works")
    shared = TechnicianFactory(
        username="shared-tech", sites=[own.site, foreign.site], skills=["vibration"]
    )
    TechnicianFactory(username="zz-stranger", sites=[foreign.site], skills=["vibration"])
    own.technician.skills.add(shared.skills.get())
    Alert.objects.filter(pk=foreign.alert.pk).update(condition="zz.globex-secret")
    return {
        "markers": [
            "zz-globex",
            "Globex",
            "zz-sister",
            "Sister Works",
            "zz-stranger",
            "zz.globex-secret",
            str(foreign.gateway.pk),
            foreign.technician.username,
            foreign.colleague.username,
        ],
        "shared": shared,
    }


def planner_client(world) -> Client:
    client = Client()
    client.force_login(world.user("planner"))
    return client


def _changelists():
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label_lower):
        yield pytest.param(model, id=model._meta.label_lower)


@pytest.mark.parametrize("model", list(_changelists()))
def test_no_admin_list_names_another_sites_rows_in_its_filters_or_columns(world, crossing, model):
    planner = world.user("planner")
    opts = model._meta
    response = planner_client(world).get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    )
    if response.status_code == 403:
        return  # not a planner's table (auth groups, tokens, login attempts)
    assert response.status_code == 200
    page = response.content.decode()
    for marker in crossing["markers"]:
        assert marker not in page, f"{marker!r} shows on the {opts.label_lower} list"
    for spec in response.context["cl"].filter_specs:
        if not isinstance(spec, RelatedFieldListFilter):
            continue
        visible = scoped_choices(spec.field.related_model, planner)
        if visible is None:
            continue  # a global catalogue (equipment classes, skills, job plans)
        offered = {pk for pk, _label in spec.lookup_choices}
        assert offered <= set(visible.values_list("pk", flat=True)), spec.title


def test_the_user_list_shows_a_shared_person_with_the_planners_sites_only(world, crossing):
    response = planner_client(world).get(reverse("admin:accounts_user_changelist"))
    page = response.content.decode()
    assert "shared-tech" in page
    site_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.field_path == "sites"
    )
    assert [pk for pk, _ in site_filter.lookup_choices] == [world.own.site.pk]


def test_skill_holders_are_counted_among_the_planners_people(world, crossing):
    response = planner_client(world).get(reverse("admin:accounts_skill_changelist"))
    counts = {skill.code: skill.holder_count for skill in response.context["cl"].result_list}
    assert counts["vibration"] == 2  # own technician and the shared one, not the stranger


def test_the_assign_form_labels_a_shared_technician_with_the_planners_sites(world, crossing):
    response = planner_client(world).post(
        reverse("admin:workorders_workorder_changelist"),
        {"action": "assign", "_selected_action": [world.own.work_order.pk]},
    )
    labels = dict(
        (str(value), label)
        for value, label in response.context["form"].fields["technician"].choices
    )
    assert labels[str(crossing["shared"].pk)] == "shared-tech (own)"


def _api_choice_filters():
    from cmms.api.urls import router

    for prefix, viewset, _basename in router.registry:
        filterset = getattr(viewset, "filterset_class", None)
        for name, field in getattr(filterset, "base_filters", {}).items():
            if isinstance(field, QuerySetRequestMixin):
                yield pytest.param(prefix, name, field, id=f"{prefix}?{name}")


@pytest.mark.parametrize(("prefix", "name", "choice_filter"), list(_api_choice_filters()))
def test_an_api_filter_answers_another_sites_id_exactly_like_a_missing_one(
    world, crossing, prefix, name, choice_filter
):
    planner = world.user("planner")
    queryset = choice_filter.queryset
    if callable(queryset):
        return  # built from the request, already scoped (e.g. `subtree_of`)
    model = queryset.model
    visible = scoped_choices(model, planner)
    if visible is None:
        return  # a global catalogue
    other = model._default_manager.exclude(pk__in=visible.values("pk")).first()
    assert other is not None, f"the world has no {model.__name__} of another site"
    missing = MISSING_UUID if model._meta.pk.get_internal_type() == "UUIDField" else MISSING_ID
    client = planner_client(world)
    foreign_answer = client.get(f"/api/v1/{prefix}/?{name}={other.pk}")
    missing_answer = client.get(f"/api/v1/{prefix}/?{name}={missing}")
    assert foreign_answer.status_code == missing_answer.status_code == 400
    assert foreign_answer.json() == missing_answer.json()


def test_the_users_site_filter_finds_nobody_at_another_site(world, crossing):
    client = planner_client(world)
    foreign = client.get(f"/api/v1/users/?site={world.foreign.site.pk}")
    missing = client.get(f"/api/v1/users/?site={MISSING_ID}")
    assert foreign.status_code == missing.status_code == 200
    assert foreign.json() == missing.json()
    assert foreign.json()["count"] == 0
    own = client.get(f"/api/v1/users/?site={world.own.site.pk}").json()["results"]
    assert "shared-tech" in {row["username"] for row in own}


def test_metrics_are_not_a_planners_to_read(world, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert planner_client(world).get("/metrics").status_code == 403


def test_a_new_filter_on_values_across_a_relation_lists_only_the_planners_rows(
    world, crossing, monkeypatch
):
    from assets.models import Meter

    world.foreign.pump.name = "zz-globex pump"
    world.foreign.pump.save()
    meter_admin = admin.site._registry[Meter]
    monkeypatch.setattr(meter_admin, "list_filter", ("asset__name", "asset__site"))
    response = planner_client(world).get(reverse("admin:assets_meter_changelist"))
    page = response.content.decode()
    assert world.own.pump.name in page
    assert "zz-globex pump" not in page
    assert "Globex Works" not in page
