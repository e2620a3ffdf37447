"""The hash chain of the activity ledger, and its verification over a stream of stored entries.

Entry hash = SHA-256(domain tag || seq as 8 bytes big-endian || previous hash || canonical body).
The body is stored as the exact bytes that were hashed, so verification never re-serializes JSON.
The first entry's previous hash is 32 zero bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from seatledger.domain.canonical import canonical_bytes

DOMAIN_TAG = b"seatledger/ledger/v1\x00"
GENESIS_HASH = bytes(32)
_sha256 = hashlib.sha256


def entry_hash(seq: int, prev_hash: bytes, body: bytes) -> bytes:
    """Return the chain hash of entry ``seq`` whose predecessor hashed to ``prev_hash``."""
    digest = _sha256(DOMAIN_TAG)
    digest.update(seq.to_bytes(8, "big"))
    digest.update(prev_hash)
    digest.update(body)
    return digest.digest()


@dataclass(frozen=True, slots=True)
class EntryFields:
    """The searchable columns an entry is stored with; they must agree with its body."""

    seq: int
    ts: str
    operator: str
    action: str
    entity_type: str
    entity_id: str


def make_body(
    *,
    seq: int,
    ts: str,
    operator: str,
    role: str,
    action: str,
    entity_type: str,
    entity_id: str,
    reason: str,
    before: Any,
    after: Any,
) -> bytes:
    """Build the canonical body of a new entry."""
    return canonical_bytes(
        {
            "v": 1,
            "seq": seq,
            "ts": ts,
            "operator": operator,
            "role": role,
            "action": action,
            "entity": entity_type,
            "entity_id": entity_id,
            "reason": reason,
            "before": before,
            "after": after,
        }
    )


class Problem(Enum):
    """Why an entry fails verification; the values are shown to the user."""

    EDITED = "edited: its hash does not match its contents"
    COLUMNS = "edited: its indexed columns disagree with its hashed body"
    MISSING = "missing: the sequence skips"
    REORDERED = "out of order: it does not chain to the entry before it"
    TRUNCATED = "truncated: the ledger ends before the recorded head"
    UNREADABLE = "unreadable: its body is not valid JSON"


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One row as read back from storage."""

    seq: int
    ts: str
    operator: str
    action: str
    entity_type: str
    entity_id: str
    body: bytes
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class Failure:
    """The first entry that does not verify."""

    seq: int
    problem: Problem
    detail: str = ""

    def message(self) -> str:
        """Human-readable verdict naming the entry."""
        text = f"entry {self.seq} is {self.problem.value}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of verifying a ledger."""

    entries: int
    head: bytes
    failure: Failure | None

    @property
    def ok(self) -> bool:
        """True when every entry verified."""
        return self.failure is None


def _columns_agree(entry: StoredEntry) -> str:
    try:
        body = json.loads(entry.body)
    except ValueError:
        return "unreadable"
    if (
        body.get("seq") != entry.seq
        or body.get("ts") != entry.ts
        or body.get("operator") != entry.operator
        or body.get("action") != entry.action
        or body.get("entity") != entry.entity_type
        or body.get("entity_id") != entry.entity_id
    ):
        return "disagree"
    return ""


def verify_chain(
    entries: Iterable[StoredEntry],
    *,
    expected_size: int | None = None,
    expected_head: bytes | None = None,
    check_columns: bool = True,
) -> Verdict:
    """Verify entries streamed in ascending ``seq`` order, in constant memory.

    Args:
        entries: the stored entries, in the order storage returns them by ``seq``.
        expected_size: the size recorded elsewhere (the head record or a checkpoint); a shorter
            ledger is reported as truncated.
        expected_head: the head hash recorded with ``expected_size``.
        check_columns: also check that the indexed columns match the hashed body.

    Returns:
        A verdict naming the first bad entry, if any.
    """
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in entries:
        if entry.seq != expected_seq:
            problem = Problem.MISSING if entry.seq > expected_seq else Problem.REORDERED
            detail = f"expected entry {expected_seq}, found entry {entry.seq}"
            return Verdict(count, prev, Failure(expected_seq, problem, detail))
        if entry.prev_hash != prev:
            return Verdict(
                count,
                prev,
                Failure(
                    entry.seq, Problem.REORDERED, "its previous-hash is not the hash before it"
                ),
            )
        if entry_hash(entry.seq, prev, entry.body) != entry.hash:
            return Verdict(count, prev, Failure(entry.seq, Problem.EDITED))
        if check_columns:
            mismatch = _columns_agree(entry)
            if mismatch == "unreadable":
                return Verdict(count, prev, Failure(entry.seq, Problem.UNREADABLE))
            if mismatch:
                return Verdict(count, prev, Failure(entry.seq, Problem.COLUMNS))
        prev = entry.hash
        expected_seq += 1
        count += 1
    if expected_size is not None and count < expected_size:
        detail = f"{count} entries present, {expected_size} recorded"
        return Verdict(count, prev, Failure(count + 1, Problem.TRUNCATED, detail))
    if (
        expected_size is not None
        and count == expected_size
        and expected_head is not None
        and prev != expected_head
    ):
        return Verdict(
            count,
            prev,
            Failure(count, Problem.EDITED, "the last hash differs from the recorded head"),
        )
    return Verdict(count, prev, None)
