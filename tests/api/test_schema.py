"""The OpenAPI schema describes the API as a generated client needs it: JSON bodies, a typed
refusal for every operation, one enum per concept with named members, and nullability and
bounds that match what the server answers and accepts.

The schema is generated once per module with drf-spectacular's generator, so the serializers
behind each component can be walked too (`registry`)."""

import ast
import re
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from cmms.api.schema_errors import ERROR_CODES
from cmms.errors import ServiceError
from contracts.choices import ClientApproval
from pm.choices import RunStatus
from tests.factories import WorkOrderFactory
from workorders.choices import Priority, Status

STATUS_REF = "#/components/schemas/WorkOrderStatusEnum"


@pytest.fixture(scope="module")
def generated():
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    return schema, generator.registry


@pytest.fixture(scope="module")
def schema(generated):
    return generated[0]


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def walk(node, where=()):
    """Every mapping in the schema with the path to it."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*where, index))


# ---------------------------------------------------------------- bodies and refusals


def test_every_request_body_is_json_only(schema):
    bodies = [
        (method, path, set(operation["requestBody"]["content"]))
        for method, path, operation in operations(schema)
        if "requestBody" in operation
    ]
    assert bodies
    assert all(media == {"application/json"} for _, _, media in bodies), bodies


def test_every_operation_declares_the_refusals_it_can_answer(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        for code in ("401", "403", "429"):
            assert responses[code]["content"]["application/json"]["schema"] == error, (path, code)
        if "{" in path:
            assert "404" in responses, (method, path)
        if method != "GET":
            assert {"400", "409"} <= set(responses), (method, path)
            bad = responses["400"]["content"]["application/json"]["schema"]
            assert {"$ref": "#/components/schemas/ValidationError"} in bad["oneOf"]
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in responses, (method, path)


def test_the_error_object_documents_every_code_a_service_refuses_with(schema):
    """Codes are given where a ServiceError is raised: find each `code="..."` passed to one."""
    service_errors = {cls.__name__ for cls in _subclasses(ServiceError)}
    raised = set()
    for app in settings.BASE_DIR.iterdir():
        for source in app.glob("**/*.py") if (app / "apps.py").exists() else ():
            raised |= _codes_raised(source, service_errors)
    raised.add("error")  # ServiceError's default
    assert raised - set(ERROR_CODES) == set()
    description = schema["components"]["schemas"]["Error"]["description"]
    assert all(f"`{code}`" in description for code in ERROR_CODES)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _codes_raised(source: Path, names: set[str]) -> set[str]:
    codes = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in names:
            codes |= {
                k.value.value
                for k in node.keywords
                if k.arg == "code" and isinstance(k.value, ast.Constant)
            }
    return codes


# ---------------------------------------------------------------- enums


def test_work_order_status_is_one_type_everywhere(schema):
    statuses = set(Status.values)
    enums = {
        name: set(component["enum"])
        for name, component in schema["components"]["schemas"].items()
        if "enum" in component
    }
    assert enums["WorkOrderStatusEnum"] == statuses
    # The client's decision says "approved" too (issue 18), of an estimate, not a status:
    # its own enum, holding only the decision's values.
    # A round run has its own lifecycle (docs/rounds.md) whose words overlap: its own enum.
    sharing = [name for name, values in enums.items() if values & statuses]
    assert sharing == ["ClientApprovalEnum", "RoundRunStatusEnum", "WorkOrderStatusEnum"]
    assert enums["RoundRunStatusEnum"] == set(RunStatus.values)
    assert enums["ClientApprovalEnum"] == set(ClientApproval.values) - {""}
    inline = [
        where for where, node in walk(schema["paths"]) if set(node.get("enum", ())) & statuses
    ]
    assert inline == []
    for component, field in [
        ("WorkOrder", "status"),
        ("WorkOrderCreateRequest", "status"),
        ("TransitionRequest", "to"),
        ("StatusChange", "to"),
        ("PMPlan", "work_order_status"),
    ]:
        assert _ref_of(schema["components"]["schemas"][component]["properties"][field]) == (
            STATUS_REF
        ), (component, field)
    status_history_from = schema["components"]["schemas"]["StatusChange"]["properties"]["from"]
    assert status_history_from["nullable"] is True
    assert {"$ref": STATUS_REF} in status_history_from["oneOf"]


def _ref_of(property_schema: dict) -> str | None:
    if "$ref" in property_schema:
        return property_schema["$ref"]
    refs = [s["$ref"] for s in property_schema.get("allOf", property_schema.get("oneOf", []))]
    return next((ref for ref in refs if not ref.endswith("NullEnum")), None)


def test_query_parameter_enums_refer_to_the_enum_components(schema):
    inline = [
        (path, parameter["name"])
        for _, path, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        for _, node in walk(parameter["schema"])
        if "enum" in node
    ]
    assert inline == []
    work_order_list = schema["paths"]["/api/v1/work-orders/"]["get"]["parameters"]
    status = next(p for p in work_order_list if p["name"] == "status")
    assert status["schema"]["items"] == {"$ref": STATUS_REF}


def test_priority_members_are_named_after_the_choices(schema):
    priority = schema["components"]["schemas"]["PriorityEnum"]
    assert dict(zip(priority["enum"], priority["x-enum-varnames"], strict=True)) == {
        1: "EMERGENCY",
        2: "HIGH",
        3: "MEDIUM",
        4: "LOW",
    }
    assert Priority.names == ["EMERGENCY", "HIGH", "MEDIUM", "LOW"]


# ---------------------------------------------------------------- nullability and bounds


def response_components(registry):
    """(component name, serializer) of each component a response is described by."""
    for (name, kind), component in registry._components.items():
        is_serializer = isinstance(component.object, serializers.BaseSerializer)
        if kind == "schemas" and is_serializer and not name.endswith("Request"):
            yield name, component.object


def test_every_field_that_can_be_null_is_nullable_in_the_schema(generated):
    """A field is None when its model column is null=True, when any relation on the way to it
    (`changed_by.username`) is, or when the serializer gives None as its default."""
    schema, registry = generated
    components = schema["components"]["schemas"]
    checked, wrong = 0, []
    for name, serializer in response_components(registry):
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        for field_name, field in serializer.fields.items():
            if field.write_only or field_name not in components[name]["properties"]:
                continue
            if not _can_be_null(model, field):
                continue
            checked += 1
            declared = components[name]["properties"][field_name]
            if not declared.get("nullable"):
                wrong.append(f"{name}.{field_name}")
    assert checked > 20
    assert wrong == [], "\n".join(wrong)


def _can_be_null(model, field) -> bool:
    if getattr(field, "allow_null", False) or (
        not field.required and field.default is None and field.source != "*"
    ):
        return True
    if model is None or field.source == "*" or isinstance(field, serializers.SerializerMethodField):
        return False
    for part in field.source.split("."):
        try:
            model_field = model._meta.get_field(part)
        except Exception:  # a property or method: its serializer says
            return False
        if model_field.one_to_many or model_field.many_to_many:
            return False  # a list, empty rather than null
        if model_field.null:
            return True
        if not model_field.is_relation:
            return False
        model = model_field.related_model
    return False


def test_gateway_readings_have_a_nullable_recorder(schema):
    recorded_by = schema["components"]["schemas"]["MeterReading"]["properties"]["recorded_by"]
    assert recorded_by["nullable"] is True


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("IssuePartRequest", "quantity"),
        ("StockReceiveRequest", "quantity"),
        ("JobPlanPartRequest", "quantity"),
        ("LabourRequest", "hours"),
    ],
)
def test_quantities_the_server_wants_above_zero_are_declared_above_zero(schema, component, field):
    pattern = re.compile(schema["components"]["schemas"][component]["properties"][field]["pattern"])
    for accepted in ("1", "0.5", "0.01", "12", "007.5"):
        assert pattern.match(accepted), accepted
    for refused in ("0", "0.0", "-1", "", ".", "-", "abc", "1.2.3"):
        assert not pattern.match(refused), refused


def test_no_decimal_accepts_an_empty_string(schema):
    decimals = [node["pattern"] for _, node in walk(schema) if node.get("format") == "decimal"]
    assert decimals
    assert not [p for p in decimals if re.match(p, "") or re.match(p, "-") or re.match(p, ".")]


def test_model_max_lengths_are_declared(generated):
    """Every CharField a request can write says its maxLength, as the server enforces it."""
    schema, registry = generated
    components = schema["components"]["schemas"]
    missing = []
    for (name, kind), component in registry._components.items():
        if kind != "schemas" or not name.endswith("Request"):
            continue
        serializer = component.object
        for field_name, field in getattr(serializer, "fields", {}).items():
            declared = components[name]["properties"].get(field_name, {})
            if isinstance(field, serializers.CharField) and field.max_length:
                has_max = any("maxLength" in node for _, node in walk(declared))
                missing += [] if has_max else [f"{name}.{field_name}"]
    assert missing == [], "\n".join(missing)


# ---------------------------------------------------------------- the real bodies


def _declared(schema, method: str, path: str, status: int) -> dict:
    """The body schema declared for `status`, with the components its refs point into."""
    operation = schema["paths"][path][method.lower()]
    body = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**body, "components": schema["components"]}


@pytest.mark.django_db
def test_real_refusals_match_the_declared_error_objects(schema, api, as_user, planner, site):
    work_order = WorkOrderFactory(site=site)
    item = "/api/v1/work-orders/{id}/"
    transition = "/api/v1/work-orders/{id}/transition/"
    answers = [
        ("GET", item, api.get(f"/api/v1/work-orders/{work_order.pk}/")),
        ("GET", item, as_user(planner).get("/api/v1/work-orders/999999/")),
        ("POST", transition, as_user(planner).post(_at(work_order), {"to": "closed"})),
        ("POST", transition, as_user(planner).post(_at(work_order), {"to": "sideways"})),
        ("POST", transition, as_user(planner).post(_at(work_order), "{", content_type="text/x")),
        (
            "POST",
            transition,
            as_user(planner).generic(
                "POST", _at(work_order), "{nope", content_type="application/json"
            ),
        ),
    ]
    assert [status for _, _, r in answers for status in [r.status_code]] == [
        401,
        404,
        409,
        400,
        415,
        400,
    ]
    for method, path, response in answers:
        if response.status_code == 415:  # not declared: a generated client sends JSON
            assert set(response.json()) == {"detail", "code"}
            continue
        jsonschema.validate(response.json(), _declared(schema, method, path, response.status_code))
    assert answers[2][2].json()["code"] == "illegal_transition"
    assert answers[5][2].json()["code"] == "parse_error"


def _at(work_order) -> str:
    return f"/api/v1/work-orders/{work_order.pk}/transition/"
