"""The pinned error answer of the gateway webhooks, shared by every body schema.

A body that breaks its schema is refused whole with every problem listed as
``{"index", "field", "message"}`` (``index`` is the item's place in a batch, or None).
"""


class BodyInvalid(Exception):
    """A request body that breaks its schema; `errors` holds the problems in the pinned shape."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} schema error(s)")
        self.errors = errors


def body_error(index: int | None, field: str | None, message: str) -> dict:
    return {"index": index, "field": field, "message": message}
