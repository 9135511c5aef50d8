"""The one reader of untrusted JSON: request bodies, webhooks and live frames.

`json.loads` alone accepts any size, nesting until it raises `RecursionError` (which is not a
`ValueError`, so it escapes handlers written for bad JSON), integers of thousands of digits
that overflow a BIGINT later, and NaN or Infinity. `load_json` bounds all four and raises
`UnsafeJson` (a `ValueError`) with a reason for each.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Deepest nesting of objects and arrays accepted; our own documents nest a few levels.
MAX_DEPTH = 32
#: Largest JSON text read by default (request bodies have their own, larger, Flask limit).
MAX_BYTES = 1024 * 1024
#: Integers must fit a signed 64-bit column.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class UnsafeJson(ValueError):
    """The text is not JSON, or is JSON beyond our bounds; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: "syntax", "size", "depth", "number" or "encoding".
        self.reason = reason


def _int(text: str) -> int:
    # Cheap length test first: int() of a huge digit string is the costly part.
    if len(text) > 20:
        raise UnsafeJson("number")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise UnsafeJson("number")
    return value


def _float(text: str) -> float:
    if len(text) > 100:
        raise UnsafeJson("number")
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJson("number")
    return value


def _constant(text: str) -> Any:
    raise UnsafeJson("number")  # NaN, Infinity, -Infinity: not JSON


def depth_of(value: Any) -> int:
    """How deeply objects and arrays nest in `value` (a scalar is 0); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def load_json(
    raw: bytes | bytearray | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    int64: bool = True,
) -> Any:
    """Parse `raw` as JSON within the bounds, or raise UnsafeJson.

    `int64=False` leaves integers unbounded (Python's own limit of 4,300 digits still holds)
    for a caller that validates every number against a model with bounds of its own, which
    then names the field that is out of range.
    """
    if len(raw) > max_bytes:
        raise UnsafeJson("size")
    if isinstance(raw, bytes | bytearray):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnsafeJson("encoding") from None
    else:
        text = raw
    try:
        value = json.loads(
            text, parse_int=_int if int64 else int, parse_float=_float, parse_constant=_constant
        )
    except UnsafeJson:
        raise
    except RecursionError:
        raise UnsafeJson("depth") from None
    except ValueError:
        raise UnsafeJson("syntax") from None
    if depth_of(value) > max_depth:
        raise UnsafeJson("depth")
    return value
