"""Reading and verifying the activity ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from seatledger.domain.ledger import Failure, Problem, Verdict, verify_chain
from seatledger.store import ledger_store
from seatledger.store.db import Database


def verify(db: Database, progress: Callable[[int], bool] | None = None) -> Verdict:
    """Stream the whole ledger and check every link against the recorded head.

    Args:
        db: the open database.
        progress: called with the number of entries checked so far; returning False cancels.
    """
    with db.read() as session:  # one snapshot: the head and the highest entry agree in time
        size, head = ledger_store.head(session)
        last = ledger_store.last_seq(session)
    if size == 0 and last:
        return Verdict(0, head, Failure(1, Problem.TRUNCATED, "the head record is missing"))
    with db.engine.connect() as conn:
        verdict = verify_chain(
            ledger_store.stream(conn, upto=size, progress=progress),
            expected_size=size,
            expected_head=head,
        )
    if verdict.ok and last > size:
        detail = f"entries up to {last} are stored, the head records {size}"
        return Verdict(verdict.entries, verdict.head, Failure(size + 1, Problem.UNRECORDED, detail))
    return verdict


def decode_body(body: bytes) -> dict[str, Any]:
    """The stored canonical body as a dict (for display)."""
    value = json.loads(body)
    assert isinstance(value, dict)
    return value


ACTIONS = (
    "device.create",
    "device.update",
    "entitlement.create",
    "entitlement.update",
    "operator.create",
    "operator.password",
    "operator.update",
    "person.create",
    "person.leave",
    "person.update",
    "product.create",
    "seat.assign",
    "seat.bulk_assign",
    "seat.bulk_release",
    "seat.release",
    "seat.release_departed",
    "team.create",
    "vendor.create",
)
ENTITY_TYPES = ("device", "entitlement", "operator", "person", "product", "seat", "team", "vendor")


def _short(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} items" if len(value) > 3 else ", ".join(map(str, value))
    if isinstance(value, dict):
        if len(value) > 3:
            return f"{len(value)} items"
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    return str(value)


def summarize(body: dict[str, Any]) -> str:
    """One line saying what an entry changed, e.g. ``quantity: 50 → 60``."""
    what = body.get("what") if isinstance(body.get("what"), dict) else {}
    assert isinstance(what, dict)
    before = what.get("before") if isinstance(what.get("before"), dict) else {}
    after = what.get("after") if isinstance(what.get("after"), dict) else {}
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    parts = []
    for key, value in after.items():
        if key in before:
            parts.append(f"{key}: {_short(before[key])} → {_short(value)}")
        else:
            parts.append(f"{key}: {_short(value)}")
    return "; ".join(parts)
