"""JSON nesting: capped on the way in, and stored documents always loadable and showable.

Python's json module, DRF's renderer and Django's templates recurse once per nesting level, so
a document nested a few hundred levels deep (well within any size limit) raises RecursionError
wherever it is parsed, dumped or rendered, at a depth that depends on the caller's stack.
Every JSON input (webhook bodies, API bodies) refuses documents deeper than MAX_JSON_DEPTH; a
`DepthSafeJSONField` loads a stored document deeper than that (stored before the cap, or by
hand) as its JSON text, so it is shown and saved back as it is, and nothing is lost.
"""

import json

from django.db import models

MAX_JSON_DEPTH = 32


def nested_deeper_than(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and objects in `value` nest more than `limit` levels ({} is one level).

    Walks one level at a time without recursion, so it is safe on any depth.
    """
    containers = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        containers = [
            child
            for node in containers
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not containers:
            return False
    return bool(containers)


class StoredJSONText(str):
    """A stored JSON document nested too deeply to handle as Python objects: its JSON text."""


class _VerbatimEncoder(json.JSONEncoder):
    def encode(self, o):
        return str(o) if isinstance(o, StoredJSONText) else super().encode(o)


class DepthSafeJSONField(models.JSONField):
    """A JSONField that never hands the code above it a document deeper than MAX_JSON_DEPTH.

    Such a document loads as `StoredJSONText`, which pages and the API show as text and which
    is written back to the database unchanged.
    """

    def from_db_value(self, value, expression, connection):
        try:
            loaded = super().from_db_value(value, expression, connection)
        except RecursionError:
            return StoredJSONText(value)
        if isinstance(value, str) and nested_deeper_than(loaded):
            return StoredJSONText(value)
        return loaded

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, StoredJSONText):
            return connection.ops.adapt_json_value(value, _VerbatimEncoder)
        return super().get_db_prep_value(value, connection, prepared)
