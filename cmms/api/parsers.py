"""The API's JSON parser: the JSON parser of DRF with nesting capped at MAX_JSON_DEPTH.

Without it a body nested a thousand levels deep raised RecursionError (a 500) while parsing,
and a few hundred levels deep in a field could be stored and fail later wherever it is shown.
"""

import codecs
import math

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.utils import json

from cmms.jsondepth import MAX_JSON_DEPTH, nested_deeper_than

TOO_DEEP = f"Must be nested at most {MAX_JSON_DEPTH} levels deep."
BODY_TOO_DEEP = f"JSON parse error - the body must be nested at most {MAX_JSON_DEPTH} levels deep."


def finite_float(text: str) -> float:
    """A JSON number as a float, refused when it overflows to infinity (`1e400`): DRF refuses
    the `Infinity` literal, but an overflowing number became `inf` and then an OverflowError
    (a 500) in any field that takes an integer, such as a related id."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {text[:40]}")
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            data = json.load(decoded_stream, parse_float=finite_float)
        except RecursionError:
            raise ParseError(BODY_TOO_DEEP) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if not nested_deeper_than(data, MAX_JSON_DEPTH):
            return data
        if isinstance(data, dict):
            # The body object is a level of its own: a field may nest one level less.
            fields = [k for k, v in data.items() if nested_deeper_than(v, MAX_JSON_DEPTH - 1)]
            raise ValidationError({field: [TOO_DEEP] for field in fields[:20]})
        raise ParseError(BODY_TOO_DEEP)
