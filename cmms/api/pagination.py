"""Pages: by number (the default), or keyset pages for sync walks (`?cursor=`, docs/sync.md)."""

import operator
from functools import reduce

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cmms.api.filters import OrderingFilter

CURSOR_SALT = "cmms.api.pagination.cursor"
INVALID_CURSOR = "Invalid cursor: use the `next` link as given."


class StandardPagination(PageNumberPagination):
    """Pages of 50 by default; clients may ask for up to 500 with ?page_size=.

    `?cursor=` (empty for the first page) switches to keyset pages instead, on the lists that
    offer it (`ordering_fields` with the view's `cursor_ordering`, `updated_at` by default).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    cursor_query_param = "cursor"
    keyset = None

    def paginate_queryset(self, queryset, request, view=None):
        if self.cursor_query_param not in request.query_params:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.keyset = KeysetPage(
            ordering=cursor_ordering(request, view),
            size=self.get_page_size(request),
            token=request.query_params[self.cursor_query_param],
        )
        return self.keyset.rows(queryset)

    def get_paginated_response(self, data):
        if self.keyset is None:
            return super().get_paginated_response(data)
        token = self.keyset.next_token()
        url = self.request.build_absolute_uri()
        link = replace_query_param(url, self.cursor_query_param, token) if token else None
        return Response({"next": link, "results": data})

    def get_paginated_response_schema(self, schema):
        """`count` and `previous` are absent in cursor mode, so not required."""
        schema = super().get_paginated_response_schema(schema)
        schema["required"] = ["results"]
        schema["properties"]["count"]["description"] = "Absent when paging with `cursor`."
        return schema

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        offered = getattr(view, "ordering_fields", None) or {}
        walkable = getattr(view, "cursor_ordering", "updated_at") in offered
        if walkable and getattr(view, "action", None) == "list":
            parameters.append(
                {
                    "name": self.cursor_query_param,
                    "required": False,
                    "in": "query",
                    "description": "Keyset pages for a sync walk: empty for the first page, "
                    "then the `next` link (docs/sync.md). Opaque; no `count` in this mode.",
                    "schema": {"type": "string"},
                }
            )
        return parameters


def cursor_ordering(request, view) -> list[str]:
    """The columns a keyset walk follows: the requested `ordering`, else the view's sync order
    (`cursor_ordering`, `updated_at` by default, then `id`). 400 on a list without one, and on
    a view's other lists (a work order's history), whose rows are another model's."""
    if getattr(view, "action", None) != "list":
        raise ValidationError({"cursor": ["This list cannot be walked with a cursor."]})
    ordering = OrderingFilter().get_ordering(request, view)
    if ordering:
        return ordering
    offered = getattr(view, "ordering_fields", None) or {}
    name = getattr(view, "cursor_ordering", "updated_at")
    if name not in offered:
        raise ValidationError({"cursor": ["This list cannot be walked with a cursor."]})
    return [offered[name], "id"]


class KeysetPage:
    """One page after a position in a total order: `WHERE (a, id) > (x, y) ORDER BY a, id LIMIT n`.

    Unlike an offset, the position is the last row's values, so rows changed or added while a
    client walks never shift the pages: a row updated behind the cursor moves ahead of it (its
    `updated_at` grew) and is seen again, at its new version. The cursor is signed (opaque;
    a tampered or foreign one answers 400) and names its ordering, which must not change.
    """

    def __init__(self, *, ordering: list[str], size: int, token: str):
        self.ordering = ordering
        self.size = size
        self.after = self._decode(token) if token else None
        self.page: list = []
        self.more = False

    def _decode(self, token: str) -> list[str]:
        try:
            state = signing.loads(token, salt=CURSOR_SALT)
        except signing.BadSignature:
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None
        if not isinstance(state, dict) or state.get("o") != self.ordering:
            raise ValidationError({"cursor": ["This cursor was made for another ordering."]})
        return state["v"]

    def rows(self, queryset) -> list:
        queryset = queryset.order_by(*self.ordering)
        if self.after is not None:
            queryset = queryset.filter(self._after_q(queryset.model))
        self.page = list(queryset[: self.size + 1])
        self.more = len(self.page) > self.size
        self.page = self.page[: self.size]
        return self.page

    def _after_q(self, model) -> Q:
        """(a > x) OR (a = x AND id > y) ..., with a leading `a >= x` for the index range."""
        columns = [column.lstrip("-") for column in self.ordering]
        if len(self.after) != len(columns):
            raise ValidationError({"cursor": [INVALID_CURSOR]})
        values = [self._value(model, c, v) for c, v in zip(columns, self.after, strict=True)]
        terms, equal = [], Q()
        for column, value, spec in zip(columns, values, self.ordering, strict=True):
            beyond = "lt" if spec.startswith("-") else "gt"
            terms.append(equal & Q(**{f"{column}__{beyond}": value}))
            equal &= Q(**{column: value})
        leading = "lte" if self.ordering[0].startswith("-") else "gte"
        return Q(**{f"{columns[0]}__{leading}": values[0]}) & reduce(operator.or_, terms)

    @staticmethod
    def _value(model, column: str, raw):
        try:
            return model._meta.get_field(column).to_python(raw)
        except (DjangoValidationError, TypeError, ValueError):
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None

    def next_token(self) -> str | None:
        if not self.more:
            return None
        last = self.page[-1]
        values = [_plain(getattr(last, column.lstrip("-"))) for column in self.ordering]
        return signing.dumps({"o": self.ordering, "v": values}, salt=CURSOR_SALT)


def _plain(value):
    """A JSON-safe form that the column's `to_python` reads back exactly."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
