"""Personal fields enter the ledger as salted commitments, so an entry can be shown without them.

A ledger entry is hashed over its exact body, so a name written in it can never be hidden again
without breaking the chain.  Instead, the personal fields of what an entry records (a person's
name, e-mail address and employee number, a device's host name, an operator's full name) are
written as ``{"commit": "<64 hex>"}``::

    salt       = 32 random bytes, one per field of one entity ("<entity type>/<entity id>/<field>")
    commitment = SHA-256("seatledger/commit/v1" 0x00 || salt || canonical JSON of the value)

The value and its salt stay in the organization's database (``ledger_commitment`` holds both,
one row per commitment); the entry, its hash and its inclusion proof can be shown to anyone, who
sees a pseudonym.  The rows an import records as written (``after["written"]``) are committed the
same way, with the salt of the person or device they are.  Opening one commitment (its value and
salt) proves that value to whoever holds the entry, and reveals nothing of any other field:
every salt is drawn on its own.
The same person's field keeps one salt, so the same value gives the same pseudonym in every
entry, and a vendor can follow a person across entries without learning who it is.  Deleting a
field's values from ``ledger_commitment`` erases them, salt and all, from the ledger's readable
history while the chain still verifies; no key is left in the database that would let anyone
test guesses against the commitments that remain.  (Databases from before salts were drawn
derived them as HMAC-SHA256(key, "<entity type>/<entity id>/<field>"), :func:`salt`; their
upgrade stored each salt beside its value and deleted the key.  The demo still derives its salts
from a published key, :func:`keyed`, so a seed builds the same ledger.)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from seatledger.domain.canonical import canonical_bytes

TAG = b"seatledger/commit/v1\x00"
KEY = "commitment"  # the JSON key of a committed value: {"commit": "<hex>"}

PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "person": ("name", "email", "employee_id"),
    "device": ("hostname",),
    "operator": ("full_name",),
}
"""Per entity type, the fields of ``before``/``after`` that are committed, never written out."""


@dataclass(frozen=True, slots=True)
class Opening:
    """What a commitment hides: whose field it is and its value."""

    commitment: str  # 64 hex digits
    entity_type: str
    entity_id: str
    field: str
    value: Any
    salt: bytes


Salts = Callable[[str, str, str], bytes]
"""The salt of one field of one entity: ``salts(entity_type, entity_id, field)``; the same
arguments always give the same salt."""


def salt(key: bytes, entity_type: str, entity_id: str, field: str) -> bytes:
    """A salt derived from a key (an HMAC of the field's name): how salts were made before they
    were drawn at random, and how the demo still makes them."""
    return hmac.digest(key, f"{entity_type}/{entity_id}/{field}".encode(), "sha256")


def keyed(key: bytes) -> Salts:
    """Salts derived from ``key`` (:func:`salt`)."""
    return lambda entity_type, entity_id, field: salt(key, entity_type, entity_id, field)


def commitment(salt_bytes: bytes, value: Any) -> str:
    """The commitment to ``value`` under ``salt_bytes`` (hex)."""
    return hashlib.sha256(TAG + salt_bytes + canonical_bytes(value)).hexdigest()


def is_commitment(value: Any) -> bool:
    """Whether ``value`` is a committed field as an entry body holds it."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and isinstance(value.get("commit"), str)
        and len(value["commit"]) == 64
    )


def commit_fields(
    salts: Salts, entity_type: str, entity_id: str, payload: Any
) -> tuple[Any, list[Opening]]:
    """``payload`` (an entry's before or after) with its personal fields committed.

    Empty values (None, "") are written as they are: there is nothing to hide, and an empty
    e-mail must stay visibly empty.
    """
    fields = PERSONAL_FIELDS.get(entity_type, ())
    if not fields or not isinstance(payload, dict):
        return payload, []
    out = dict(payload)
    openings: list[Opening] = []
    for name in fields:
        value = out.get(name)
        if value is None or value == "" or is_commitment(value):
            continue
        salted = salts(entity_type, entity_id, name)
        digest = commitment(salted, value)
        out[name] = {"commit": digest}
        openings.append(Opening(digest, entity_type, entity_id, name, value, salted))
    return out, openings


def commit_written(salts: Salts, after: Any) -> tuple[Any, list[Opening]]:
    """``after`` with the personal fields of the rows an import wrote committed.

    An import's entry records each row it wrote under ``after["written"][table][row id]``; a
    person's or device's row there is committed exactly as that entity's own entries are (the
    same salt, so the same value gives the same commitment).
    """
    if not isinstance(after, dict) or not isinstance(after.get("written"), dict):
        return after, []
    written: dict[str, Any] = {}
    openings: list[Opening] = []
    for table, rows in after["written"].items():
        if table not in PERSONAL_FIELDS or not isinstance(rows, dict):
            written[table] = rows
            continue
        written[table] = {}
        for row_id, snapshot in rows.items():
            committed, hidden = commit_fields(salts, table, str(row_id), snapshot)
            written[table][row_id] = committed
            openings.extend(hidden)
    return {**after, "written": written}, openings


def entities(entity_type: str, entity_id: str, after: Any) -> dict[str, set[str]]:
    """The entities whose personal fields an entry of ``entity_type`` recording ``after`` may
    commit, by type: the entry's own, and those of the rows an import wrote."""
    found: dict[str, set[str]] = {}
    if entity_type in PERSONAL_FIELDS:
        found.setdefault(entity_type, set()).add(entity_id)
    written = after.get("written") if isinstance(after, dict) else None
    if isinstance(written, dict):
        for table, rows in written.items():
            if table in PERSONAL_FIELDS and isinstance(rows, dict):
                found.setdefault(table, set()).update(str(r) for r in rows)
    return found


def has_personal_fields(entity_type: str, after: Any) -> bool:
    """Whether an entry of ``entity_type`` recording ``after`` may hold personal fields."""
    if entity_type in PERSONAL_FIELDS:
        return True
    written = after.get("written") if isinstance(after, dict) else None
    return isinstance(written, dict) and any(table in PERSONAL_FIELDS for table in written)


def opened(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` with each commitment replaced by its value where ``values`` knows it (for the
    organization's own screens); an unknown (or erased) one is shown as a pseudonym."""
    if is_commitment(value):
        digest = value["commit"]
        return values[digest] if digest in values else f"C-{digest[:16]}"
    if isinstance(value, dict):
        return {k: opened(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [opened(v, values) for v in value]
    return value


def commitments_in(value: Any) -> list[str]:
    """Every commitment (hex) found in a decoded body."""
    if is_commitment(value):
        return [value["commit"]]
    if isinstance(value, dict):
        return [c for v in value.values() for c in commitments_in(v)]
    if isinstance(value, list):
        return [c for v in value for c in commitments_in(v)]
    return []


def check_opening(digest: str, salt_hex: str, value: Any) -> bool:
    """Whether ``value`` under ``salt_hex`` opens ``digest`` (what a vendor checks)."""
    try:
        salt_bytes = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return hmac.compare_digest(commitment(salt_bytes, value), digest)
