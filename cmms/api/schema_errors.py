"""The API's two refusal bodies as OpenAPI components, and which refusals an operation declares.

The bodies are the ones `cmms.api.exceptions` writes: `{"detail", "code"}` for a refusal of the
whole request and the per-field messages of a 400. Declaring them for every operation lets a
generated client parse a refusal instead of returning nothing; schemathesis checks every answer
it gets against them, so they stay truthful.
"""

ERROR_CODES = {
    # cmms.errors.refusal_for and the services' ConflictError codes
    "not_permitted": "403: your role may not do this.",
    "illegal_transition": "409: the work order's lifecycle does not allow this status now.",
    "client_approval_pending": "409: the work waits for the client to approve its estimate.",
    "client_approval_rejected": "409: the client rejected the work's estimate.",
    "client_approval_not_pending": "409: the work is not waiting for the client's decision.",
    "client_approval_running_work": (
        "409: running work is put on hold before its estimate goes above the contract's limit."
    ),
    "insufficient_stock": "409: the storeroom has less than the quantity asked for.",
    "idempotency_key_reused": (
        "422: the Idempotency-Key was already used for a different request (method, path or body)."
    ),
    "signature_required": "409: completing the work needs a sign-off signature not yet given.",
    "safety_steps_unconfirmed": (
        "409: the work does not start until every safety step (lockout/tagout, permit) is "
        "confirmed; the message lists them."
    ),
    "safety_step_confirmed": (
        "409: a safety step of work that has started stays confirmed (it cannot be unticked); "
        "a confirmed safety step is not changed or removed from the checklist."
    ),
    "safety_step_after_start": (
        "409: work that has started gets no new safety step (it would hold nothing back)."
    ),
    "safety_step_ticked": "409: a ticked task step does not become a safety step.",
    "round_closed": "409: the inspection round is completed or missed; its results are final.",
    "in_use": "409: the object is still referenced and cannot be deleted.",
    "out_of_range": "400: a value is beyond what the database can store.",
    "invalid": "400: a refusal that names no field.",
    "error": "400: a service refused the request for another reason.",
    # Django REST framework's own refusals
    "parse_error": "400: the body is not valid JSON.",
    "not_authenticated": "401: no credentials were given.",
    "authentication_failed": "401: the token or session is not valid (or has expired).",
    "permission_denied": "403: the user may not use this endpoint or object.",
    "not_found": "404: no such object among those you may see (or no such page).",
    "method_not_allowed": "405: the endpoint does not take this method.",
    "not_acceptable": "406: the Accept header asks for a format the API cannot give.",
    "unsupported_media_type": "415: the body is not application/json.",
    "throttled": "429: too many requests; retry after the Retry-After header's seconds.",
}

ERROR_REF = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR_REF = {"$ref": "#/components/schemas/ValidationError"}
BAD_REQUEST = {"oneOf": [ERROR_REF, VALIDATION_ERROR_REF]}


def _codes_description() -> str:
    return "\n".join(f"- `{code}`: {meaning}" for code, meaning in ERROR_CODES.items())


# The messages of one field: a list of strings, or for nested input (a job plan's steps, a
# list of skill codes) the same shape per item (a list of objects) or per index (an object).
_FIELD_MESSAGES = {
    "anyOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
        {"type": "object", "additionalProperties": {}},
    ]
}

ERROR_COMPONENTS = {
    "Error": {
        "type": "object",
        "description": (
            "A refusal of the whole request: `detail` for people, `code` for programs. "
            "The codes (new ones may be added; treat an unknown code by its HTTP status):\n"
            + _codes_description()
        ),
        "properties": {
            "detail": {"type": "string", "description": "What was refused and why, for people."},
            "code": {"type": "string", "description": "A machine code from the list above."},
        },
        "required": ["detail", "code"],
    },
    "ValidationError": {
        "type": "object",
        "description": (
            "Invalid input (HTTP 400): each field that was refused, with its messages. "
            "`non_field_errors` holds those about the request as a whole."
        ),
        "properties": {
            "non_field_errors": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": _FIELD_MESSAGES,
    },
}


def refusals_for(
    *, method: str, takes_query: bool, takes_path: bool, idempotent: bool = False
) -> dict:
    """The refusals (status: description and body schema) an operation may answer.

    Every operation may be refused for credentials (401), permission (403) and rate (429).
    Input can be invalid (400) wherever there is input; an id or a page can be missing (404);
    a write can conflict with the data's state (409: a lifecycle, the stock, a row in use);
    an `idempotent` one can be sent with a key already used for another request (422).
    """
    write = method in {"POST", "PUT", "PATCH", "DELETE"}
    refusals = {}
    if write or takes_query or takes_path:
        refusals["400"] = ("Invalid input: the fields and why, or a coded refusal", BAD_REQUEST)
    refusals["401"] = ("Not authenticated (no or an invalid token)", ERROR_REF)
    refusals["403"] = ("Not permitted for this user", ERROR_REF)
    if takes_path or takes_query:
        refusals["404"] = ("No such object among those you may see, or no such page", ERROR_REF)
    if write:
        refusals["409"] = ("Refused by the current state of the data", ERROR_REF)
    if idempotent:
        refusals["422"] = ("The Idempotency-Key was used for a different request", ERROR_REF)
    refusals["429"] = ("Too many requests: retry after the Retry-After header", ERROR_REF)
    return refusals
