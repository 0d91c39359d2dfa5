"""Odd input answers a 4xx, never a 500: every page, filter, form, admin action and API write."""

import json
import subprocess
import sys
from pathlib import Path

import django_filters
import pytest

from cmms.api.filters import FilterSet, IntegerFilter
from tech.selectors import search_work
from tests.factories import SuperuserFactory
from tests.forms import form_data
from tests.trust.test_authorization_matrix import ADMIN_CHANGE

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(module_world, db):
    """The module's one world (`module_world`), each test in its own savepoint."""
    return module_world


@pytest.mark.parametrize(
    "query",
    [
        "created_after=0059-11-12T12:57:03%2B20:07",  # offset PostgreSQL cannot store
        "due_before=0292-10-17T21:41:30.26-19:27",
    ],
)
def test_a_date_postgresql_cannot_store_answers_400(api, query):
    api.force_authenticate(SuperuserFactory())
    response = api.get(f"/api/v1/work-orders/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_range"


def nested_list(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [33, 900, 100_000])
def test_an_api_body_nested_deeper_than_32_levels_answers_400(api, levels):
    api.force_authenticate(SuperuserFactory())

    response = api.generic(
        "POST", "/api/v1/customers/", nested_list(levels), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - the body must be nested at most 32 levels deep.",
        "code": "parse_error",
    }


def test_an_api_field_nested_too_deep_answers_400_naming_the_field(api):
    api.force_authenticate(SuperuserFactory())
    body = '{"name": "Acme", "notes": ' + nested_list(32) + "}"

    response = api.generic("POST", "/api/v1/customers/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"notes": ["Must be nested at most 32 levels deep."]}


def test_an_api_body_nested_32_levels_reaches_the_serializer(api):
    api.force_authenticate(SuperuserFactory())
    body = '{"name": "Acme", "notes": ' + nested_list(31) + "}"

    response = api.generic("POST", "/api/v1/customers/", body, content_type="application/json")

    assert response.status_code == 201


# ---------------------------------------------------------------- every page and API route

# Values a database cannot take or a careless parse trips on: NUL (PostgreSQL text refuses
# it), integers beyond 64 bits (SQLite and PostgreSQL bigint), digits int() refuses.
NUL = "a\x00b"
ODD_VALUES = ["99999999999999999999", "²"]
PAGE_PARAMS = ["q", "site", "week", "ids", "part_q", "status", "days", "page"]
ADMIN_PARAMS = ["q", "p", "o", "_to_field"]
API_PARAMS = ["page", "page_size"]
# fmt: off
ODD_QUERIES = [
    "p=abc&o=zzz", "o=-99.zzz", "%ED%A0%80=%ED%A0%80", "q=%FF%FE", "%00=1",
    "site=-99999999999999999999", "ids=1,99999999999999999999",
]
# fmt: on
NO_PARAMETERS = {"/api/v1/schema/", "/api/v1/docs/"}  # static documents, slow to build
PLANNER_PAGES = [
    "/admin/planner/",
    "/admin/planner/triage/",
    "/admin/planner/dispatch/",
    "/admin/pm/pmplan/forecast/",
]


def _get_urls():
    from tests.trust.test_authorization_matrix import ROWS

    urls = {row.url.split("?")[0] for row in ROWS if row.method == "GET"}
    return sorted(urls - NO_PARAMETERS | set(PLANNER_PAGES))


def _params(url: str) -> list[str]:
    """The parameters a page reads: an API route's filters, an admin changelist's filters."""
    from django.contrib import admin
    from django.urls import resolve as resolve_url

    if url.startswith("/api/v1/"):
        view = resolve_url(url).func
        filterset = getattr(getattr(view, "cls", None), "filterset_class", None)
        return API_PARAMS + (list(filterset.base_filters) if filterset else [])
    if not url.startswith("/admin/") or url in PLANNER_PAGES:
        return PAGE_PARAMS
    params = list(ADMIN_PARAMS)
    for model, model_admin in admin.site._registry.items():
        if url == f"/admin/{model._meta.app_label}/{model._meta.model_name}/":
            for list_filter in model_admin.list_filter:
                if isinstance(list_filter, str):
                    params += [f"{list_filter}__exact", f"{list_filter}__id__exact"]
                else:
                    name = getattr(list_filter, "parameter_name", None)
                    params += [name] if name else []
    return params


def _concrete(world, url: str) -> str:
    from tests.trust.test_authorization_matrix import PLACEHOLDER

    def sub(match):
        name = match.group(1)
        return str(world.own.site.pk if name == "site" else world.own.objects[name].pk)

    return PLACEHOLDER.sub(sub, url)


@pytest.mark.parametrize("url", _get_urls())
def test_odd_query_parameters_never_answer_500(world, logged_in, url):
    url = _concrete(world, url)
    roles = ["superuser", "technician"] if url.startswith("/tech/") else ["superuser"]
    params = _params(url)
    failures = []
    for role in roles:
        client = logged_in(world.user(role))
        queries = [{param: NUL for param in params}]
        queries += [{param: value} for param in params for value in ODD_VALUES]
        queries += ODD_QUERIES
        for query in queries:
            if isinstance(query, str):
                response = client.get(f"{url}?{query}")
            else:
                response = client.get(url, query)
            if response.status_code >= 500:
                failures.append((role, query, response.status_code))
    assert not failures


# Each field in turn, on an otherwise valid body.
ODD_FIELD_VALUES = [10**40, "a\x00b"]
# Every field at once.
ODD_BODY_VALUES = [
    -(10**40),
    1e300,
    "99999999999999999999",
    "²",
    "0001-01-01T00:00:00+23:59",
    {"a": [1]},
]
# The own plant's object each API prefix's `{id}` names.
OBJECT_OF_PREFIX = {
    "users": "colleague",
    "customers": "customer",
    "sites": "site",
    "equipment-classes": "pump.equipment_class",
    "assets": "pump",
    "meters": "meter",
    "parts": "stock.part",
    "storerooms": "spare_storeroom",
    "stock": "stock",
    "work-orders": "work_order",
    "gateways": "gateway",
    "sensors": "sensor",
    "job-plans": "pm_plan.job_plan",
    "alert-rules": "rule",
    "pm-plans": "pm_plan",
    "monitored-measurements": "monitored",
    "round-runs": "round_run",
    "webhook-endpoints": "webhook_endpoint",
    "contracts": "contract",
    "business-calendars": "business_calendar",
}


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
    return _SCHEMA


_SCHEMA = None


def _write_operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, operations in _schema()["paths"].items()
        for method in operations
        if method in ("post", "put", "patch")
    ]


def _request_fields(method: str, path: str) -> dict[str, str]:
    """The writable fields of an operation's JSON body and their formats, from the schema."""
    body = _schema()["paths"][path][method.lower()].get("requestBody", {})
    ref = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if ref is None:
        return {}
    component = _schema()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return {
        name: spec.get("format", "")
        for name, spec in component["properties"].items()
        if not spec.get("readOnly")
    }


# Dates at the ends of the calendar, for date fields: arithmetic on them overflows.
CALENDAR_ENDS = {
    "date": ["0001-01-01", "9999-12-31"],
    "date-time": ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"],
}


def _object(world, dotted: str):
    name, *attributes = dotted.split(".")
    value = world.own.site if name == "site" else world.own.objects[name]
    for attribute in attributes:
        value = getattr(value, attribute)
    return value


def _valid_body(world, method: str, url: str) -> dict:
    """The authorization matrix's body for this operation (a PUT takes the PATCH's), or {}."""
    from tests.trust.test_authorization_matrix import API, resolve

    wanted = "PATCH" if method == "PUT" else method
    for row in API:
        if row.method == wanted and row.body and resolve(world, row, "own") == url:
            return row.body(world, world.own) if callable(row.body) else dict(row.body)
    return {}


@pytest.mark.parametrize(("method", "path"), _write_operations(), ids=str)
def test_api_writes_with_missing_or_odd_fields_never_answer_500(world, method, path):
    from tests.trust.test_authorization_matrix import client_for

    url = path
    if "{id}" in path:
        prefix = path.split("/")[3]
        url = path.replace("{id}", str(_object(world, OBJECT_OF_PREFIX[prefix]).pk))
    url = url.replace("{step_id}", str(world.own.step.pk))
    url = url.replace("{delivery_id}", str(world.own.webhook_delivery.pk))
    body = _valid_body(world, method, url)
    formats = _request_fields(method, path)
    fields = sorted(set(formats) | set(body))
    bodies = [{}]
    bodies += [{**body, field: value} for field in fields for value in ODD_FIELD_VALUES]
    bodies += [
        {**body, field: value}
        for field, format_ in formats.items()
        for value in CALENDAR_ENDS.get(format_, [])
    ]
    bodies += [{field: value for field in fields} for value in ODD_BODY_VALUES]
    client = client_for(world, "superuser")
    failures = []
    for data in bodies:
        response = getattr(client, method.lower())(url, data, format="json")
        if response.status_code >= 500:
            failures.append((data, response.status_code))
    # A number that overflows a float (json.dumps never writes one): every field at once.
    overflowing = "{" + ", ".join(f"{json.dumps(field)}: 1e400" for field in fields) + "}"
    response = client.generic(method, url, overflowing, content_type="application/json")
    if response.status_code >= 500:
        failures.append((overflowing, response.status_code))
    assert not failures


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/api-tokens/", '{"name": "phone", "user": 1e400}'),
        ("/api/v1/job-plans/", '{"code": "x", "title": "x", "site": 1e400}'),
        ("/api/v1/customers/", '{"name": "x", "notes": [1, -1e400]}'),
    ],
)
def test_a_number_that_overflows_a_float_answers_400(api, url, body):
    api.force_authenticate(SuperuserFactory())

    response = api.generic("POST", url, body, content_type="application/json")

    assert response.status_code == 400
    assert "Out of range float values are not JSON compliant" in response.json()["detail"]


# ---------------------------------------------------------------- integers beyond 64 bits

TOO_BIG = "99999999999999999999"


def _integer_filter_paths() -> dict[str, int]:
    """Every id filter of every API list route with a value beyond 64 bits, and its answer."""
    from cmms.api.urls import router

    paths = {}
    for prefix, viewset, _basename in router.registry:
        filterset = getattr(viewset, "filterset_class", None)
        for name, declared in (filterset.base_filters if filterset else {}).items():
            if isinstance(declared, IntegerFilter | django_filters.ModelChoiceFilter):
                paths[f"/api/v1/{prefix}/?{name}={TOO_BIG}"] = 400
                paths[f"/api/v1/{prefix}/?{name}=-{TOO_BIG}"] = 400
    paths[f"/api/v1/assets/?equipment_class={TOO_BIG}"] = 200  # a code or an id: none matches
    paths[f"/api/v1/work-orders/?assignee={TOO_BIG}"] = 400
    return paths


def test_every_id_filter_is_range_checked_and_there_are_many():
    paths = _integer_filter_paths()
    assert len(paths) > 40
    for needle in (
        "assets/?site=",
        "stock/?part=",
        "stock-movements/?stock=",
        "failure-codes/?parent=",
        "alerts/?asset=",
    ):
        assert any(needle in path for path in paths), needle


def test_no_filterset_declares_an_unbounded_number_filter():
    from cmms.api.urls import router

    for _prefix, viewset, _basename in router.registry:
        filterset = getattr(viewset, "filterset_class", None)
        if filterset is None:
            continue
        assert issubclass(filterset, FilterSet), filterset
        for name, declared in filterset.base_filters.items():
            unbounded = type(declared) is django_filters.NumberFilter
            assert not unbounded, f"{filterset.__name__}.{name}: use IntegerFilter"


def test_integers_beyond_64_bits_in_api_filters_answer_400_on_postgresql(api):
    api.force_authenticate(SuperuserFactory())
    answers = {path: api.get(path).status_code for path in _integer_filter_paths()}
    assert answers == _integer_filter_paths()


@pytest.mark.slow
def test_integers_beyond_64_bits_in_api_filters_answer_400_on_sqlite():
    expected = _integer_filter_paths()
    script = Path(__file__).with_name("sqlite_get.py")
    done = subprocess.run(
        [sys.executable, str(script)],
        input=json.dumps(list(expected)),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers == expected


# ---------------------------------------------------------------- pages: NUL and odd ids


def test_a_nul_in_the_technician_search_answers_400_naming_the_parameter(world, logged_in):
    client = logged_in(world.user("technician"))

    response = client.get("/tech/", {"q": "P-1\x00"})

    assert response.status_code == 400
    assert response.content.decode() == (
        "The parameter 'q' contains a NUL character, which is not allowed."
    )


def test_a_nul_in_a_login_form_field_answers_400(db, client):
    response = client.post("/tech/login/", {"username": "ann\x00", "password": "secret"})

    assert response.status_code == 400
    assert b"'username' contains a NUL character" in response.content


def test_the_api_keeps_naming_a_nul_filter_in_its_own_answer(world, api):
    api.force_authenticate(world.user("superuser"))

    response = api.get("/api/v1/work-orders/", {"number": "WO\x00"})

    assert response.status_code == 400
    assert response.json() == {"number": ["Null characters are not allowed."]}


@pytest.mark.parametrize("query", ["²", "99999999999999999999", "000000000000000000042"])
def test_technician_search_for_digits_that_are_no_id_finds_nothing(world, logged_in, query):
    technician = world.user("technician")

    response = logged_in(technician).get("/tech/", {"q": query})

    assert response.status_code == 200
    assert search_work(technician, query) == []


def test_technician_search_for_a_work_order_id_finds_it(world):
    work_order = world.own.work_order

    assert search_work(world.user("technician"), str(work_order.pk)) == [work_order]


@pytest.mark.parametrize("posted_id", ["abc", "²", "99999999999999999999"])
def test_a_triage_decision_on_an_id_that_is_no_id_answers_404(world, logged_in, posted_id):
    client = logged_in(world.user("planner"))

    response = client.post("/admin/planner/triage/", {"op": "approve", "id": posted_id})

    assert response.status_code == 404


@pytest.mark.parametrize("into", ["²", "99999999999999999999"])
def test_merging_into_a_number_that_is_no_id_is_refused_with_a_message(world, logged_in, into):
    client = logged_in(world.user("planner"))
    work_order = world.own.work_order

    response = client.post(
        "/admin/planner/triage/",
        {"op": "merge", "id": work_order.pk, "into": into},
        follow=True,
    )

    assert response.status_code == 200
    assert f"No work order {into.upper()} at your sites" in response.content.decode()


def _admin_changelists_with_actions(superuser) -> list[tuple[str, str]]:
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = superuser
    found = []
    for model, model_admin in admin.site._registry.items():
        for action in model_admin.get_actions(request):
            found.append((f"/admin/{model._meta.app_label}/{model._meta.model_name}/", action))
    return found


@pytest.mark.parametrize("selected", ["abc", "99999999999999999999", "²", "a\x00"])
def test_admin_actions_on_ids_that_are_no_ids_answer_with_a_message(world, logged_in, selected):
    superuser = world.user("superuser")
    client = logged_in(superuser)
    changelists = _admin_changelists_with_actions(superuser)
    assert len(changelists) > 10

    answers = {
        (url, action): client.post(
            url, {"action": action, "_selected_action": [selected], "index": "0"}
        ).status_code
        for url, action in changelists
    }

    expected = 400 if "\x00" in selected else 302
    assert answers == dict.fromkeys(answers, expected)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("0001-01-01", "2025-01-01", "Give a date from 1900-01-01."),
        ("2025-01-01", "9999-12-31", "Give a date up to 2999-12-31."),
    ],
)
def test_a_dashboard_period_at_the_ends_of_the_calendar_is_a_form_error(
    world, logged_in, start, end, message
):
    client = logged_in(world.user("planner"))

    response = client.get("/admin/planner/", {"start": start, "end": end})

    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31"])
def test_the_dispatch_board_shows_this_week_for_a_week_at_the_ends_of_the_calendar(
    world, logged_in, week
):
    client = logged_in(world.user("planner"))

    response = client.get("/admin/planner/dispatch/", {"week": week})

    assert response.status_code == 200
    assert week not in response.content.decode()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dispatching_to_a_day_at_the_ends_of_the_calendar_is_refused(world, logged_in, day):
    client = logged_in(world.user("planner"))
    work_order = world.own.work_order
    before = (work_order.assignee_id, work_order.scheduled_start)

    response = client.post(
        "/admin/planner/dispatch/",
        {
            "work_order": work_order.pk,
            "assignee": world.own.technician.pk,
            "day": day,
            "time": "23:59",
        },
    )

    assert response.status_code in (200, 302)
    work_order.refresh_from_db()
    assert (work_order.assignee_id, work_order.scheduled_start) == before


FORMSET_COUNTS = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")


@pytest.mark.parametrize("label", sorted(ADMIN_CHANGE))
def test_admin_change_forms_with_odd_values_never_answer_500(world, logged_in, label):
    client = logged_in(world.user("superuser"))
    name = ADMIN_CHANGE[label]
    pk = world.own.site.pk if name == "site" else world.own.objects[name].pk
    url = f"/admin/{label.replace('.', '/')}/{pk}/change/"
    data = form_data(client.get(url))
    fields = [k for k in data if not k.endswith(FORMSET_COUNTS) and k != "csrfmiddlewaretoken"]

    failures = [
        (field, value)
        for field in fields
        for value in ("99999999999999999999", "9999-12-31", "0001-01-01")
        if client.post(url, {**data, field: value}).status_code >= 500
    ]

    assert not failures


def _page_form_rows():
    from tests.trust.test_authorization_matrix import TECH

    return [row for row in TECH if row.method == "POST" and row.body]


@pytest.mark.parametrize("row", _page_form_rows(), ids=lambda row: row.url)
def test_technician_forms_with_odd_values_never_answer_500(world, logged_in, row):
    from tests.trust.test_authorization_matrix import resolve

    client = logged_in(world.user("technician"))
    url = resolve(world, row, "own")
    body = row.body(world, world.own) if callable(row.body) else dict(row.body)
    values = ("99999999999999999999", "-1e999999", "²", "9999-12-31", "a\x00b")

    failures = [
        (field, value)
        for field in body
        for value in values
        if client.post(url, {**body, field: value}).status_code >= 500
    ]

    assert not failures
