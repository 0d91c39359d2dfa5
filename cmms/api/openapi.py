"""The OpenAPI schema an integrator downloads: JSON bodies, typed errors, one enum per concept.

An integrator's first step is to generate a client from `/api/v1/schema/`. drf-spectacular's
defaults made that client unusable: every body was declared as JSON, form and multipart at
once (the generated modules did not import, and a hand-patched client sent multipart, which
cannot carry `null` or nested steps), no refusal had a body, and one status had four types.
`AutoSchema` and `postprocess_schema` below fix the schema, not the API: the parsers stay, so
the browsable API keeps its forms for people. Names of enums are in `cmms.api.schema`.
"""

from django.utils.module_loading import import_string
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from cmms.api.schema import ENUM_ALIASES, ENUM_MEMBER_NAMES
from cmms.api.schema_errors import ERROR_COMPONENTS, refusals_for

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The header of idempotent requests (declared by `sync.idempotency.KEY_PARAMETER`).
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, declaring JSON request bodies and every refusal."""

    def map_parsers(self):
        """JSON only: the form parsers serve the browsable API, and no endpoint takes a file."""
        return ["application/json"]

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field, bounded=direction == "request")
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            self._add_refusals(operation)
        return operation

    def _add_refusals(self, operation: dict) -> None:
        """Each refusal this operation can answer, with its typed body. A description given
        with `@extend_schema` (what a 409 means for that action) is kept."""
        parameters = operation.get("parameters", [])
        responses = operation.setdefault("responses", {})
        for code, (description, schema) in refusals_for(
            method=self.method,
            takes_query=any(p["in"] == "query" for p in parameters),
            takes_path=any(p["in"] == "path" for p in parameters),
            idempotent=any(
                p["in"] == "header" and p["name"] == IDEMPOTENCY_KEY_HEADER for p in parameters
            ),
        ).items():
            response = responses.setdefault(code, {"description": description})
            response.setdefault("content", {"application/json": {"schema": schema}})


def decimal_pattern(field: serializers.DecimalField, *, bounded: bool) -> str:
    """The decimals `field` accepts, as a string pattern: at least one digit (drf-spectacular's
    own pattern took "" and "-"), its digits, and for input (`bounded`) its lower bound: no
    sign when it takes nothing below zero, and no zero either when its least value is above
    zero (a quantity). Leading zeros are free: the server does not count them as digits."""
    whole, places = field.max_whole_digits, field.decimal_places
    low = field.min_value if bounded else None
    sign = "" if low is not None and low >= 0 else "-?"
    if low is not None and low > 0:
        some_whole = rf"0*[1-9]\d{{0,{whole - 1}}}(?:\.\d{{0,{places}}})?"
        fractions = "|".join(
            rf"0{{{zeros}}}[1-9]\d{{0,{places - zeros - 1}}}" for zeros in range(places)
        )
        return rf"^(?:{some_whole}|0*\.(?:{fractions}))$"
    return rf"^{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


def postprocess_schema(result, generator, request, public):
    """After drf-spectacular's enum hook: add the error components, merge enums of one concept,
    point query parameters at the enum components, and name integer enum members."""
    schemas = result["components"]["schemas"]
    schemas.update(ERROR_COMPONENTS)
    _merge_enum_aliases(result, schemas)
    _reference_query_enums(result, schemas)
    _name_enum_members(schemas)
    return result


def _merge_enum_aliases(result: dict, schemas: dict) -> None:
    """One type per concept: a subset of work order statuses (the initial ones, the targets of
    a transition) is the work order status; the server still refuses the others with a 400."""
    for alias, canonical in ENUM_ALIASES.items():
        subset = schemas.pop(alias, None)
        if subset is None:
            continue
        assert set(subset["enum"]) <= set(schemas[canonical]["enum"]), (alias, canonical)
        _replace_refs(result, f"#/components/schemas/{alias}", f"#/components/schemas/{canonical}")


def _replace_refs(node, old: str, new: str) -> None:
    if isinstance(node, dict):
        if node.get("$ref") == old:
            node["$ref"] = new
        for value in node.values():
            _replace_refs(value, old, new)
    elif isinstance(node, list):
        for value in node:
            _replace_refs(value, old, new)


def _reference_query_enums(result: dict, schemas: dict) -> None:
    """A filter on a status takes the status enum, not an anonymous copy of it (which clients
    generate as one more type per parameter)."""
    by_values = {
        frozenset(schema["enum"]): name
        for name, schema in schemas.items()
        if "enum" in schema and None not in schema["enum"]
    }
    for operation in _operations(result):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            holder = schema.get("items", schema) if schema.get("type") == "array" else schema
            name = by_values.get(frozenset(holder.get("enum", ())))
            if name is None:
                continue
            description = holder.get("description")
            holder.clear()
            holder["$ref"] = f"#/components/schemas/{name}"
            if description and holder is schema:
                parameter.setdefault("description", description)


def _operations(result: dict):
    for path_item in result["paths"].values():
        for method, operation in path_item.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                yield operation


def _name_enum_members(schemas: dict) -> None:
    """Members named after the choices (`PriorityEnum.EMERGENCY`, not `VALUE_1`) through the
    `x-enum-varnames` extension that openapi-python-client and other generators read."""
    for name, choices_path in ENUM_MEMBER_NAMES.items():
        schema = schemas.get(name)
        if schema is None:
            continue
        choices = import_string(choices_path)
        names = dict(zip(choices.values, choices.names, strict=True))
        schema["x-enum-varnames"] = [names[value] for value in schema["enum"]]
