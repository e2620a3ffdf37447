"""Canonical JSON bytes for ledger entries (the RFC 8785 subset SeatLedger uses).

RFC 8785 (JCS) serializes with sorted keys, no insignificant white space, and UTF-8.  Ledger bodies
hold only strings, integers (ids and counts, far below 2**53), booleans, null, lists and objects
with ASCII keys; for those, sorted ``json.dumps`` output is exactly JCS.  Floats are refused:
JCS number formatting is subtle, and money and quantities are stored as decimal strings or
integers anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_SCALARS = (str, int, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


def _check(value: Any, path: str) -> None:
    kind = type(value)
    if kind in _SCALARS:
        return
    if kind is dict or isinstance(value, Mapping):
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise TypeError(f"{path}: object keys must be ASCII strings, not {key!r}")
            if type(item) not in _SCALARS:
                _check(item, f"{path}.{key}")
        return
    if kind is list or kind is tuple:
        for index, item in enumerate(value):
            inner = type(item)
            if inner in _SCALARS:
                continue
            # A row of scalars (an import's entry lists tens of thousands): checked in place,
            # without the path a problem would need, its types compared as a set (in C).
            if (inner is list or inner is tuple) and _SCALAR_TYPES.issuperset(map(type, item)):
                continue
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not canonical; use an integer or a decimal string")
    if isinstance(value, str | int):  # subclasses (enums) serialize as their base value
        return
    raise TypeError(f"{path}: {type(value).__name__} cannot go into a ledger entry")


def canonical_bytes(value: Mapping[str, Any]) -> bytes:
    """Return the canonical UTF-8 JSON bytes of ``value``.

    Raises:
        TypeError: ``value`` holds a float, a non-ASCII key or a type JSON cannot hold.
    """
    _check(value, "$")
    return _ENCODER.encode(value).encode("utf-8")
