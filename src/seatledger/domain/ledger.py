"""The hash chain of the activity ledger, and its verification over a stream of stored entries.

Entry hash = SHA-256(domain tag || seq as 8 bytes big-endian || previous hash || canonical body).
The body is stored as the exact bytes that were hashed, so verification never re-serializes JSON.
The first entry's previous hash is 32 zero bytes.

The body's top-level keys sort so that the searchable fields come first::

    {"action":…,"entity":…,"entity_id":…,"operator":…,"seq":…,"ts":…,"v":1,"what":{…}}

``what`` holds the change itself (after, before, reason, role).  The indexed columns stored beside
the body must therefore equal a prefix of it, which verification checks with one ``startswith``
instead of parsing a million JSON documents.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import repeat
from typing import Any, NamedTuple, TypedDict, Unpack

from seatledger.domain.canonical import canonical_bytes
from seatledger.domain.commitments import (
    Opening,
    Salts,
    commit_fields,
    commit_written,
    has_personal_fields,
)

DOMAIN_TAG = b"seatledger/ledger/v1\x00"
GENESIS_HASH = bytes(32)
FORMAT_VERSION = 1
_sha256 = hashlib.sha256
_SEQ = struct.Struct(">Q")  # the sequence number as 8 bytes, big-endian


def entry_hash(seq: int, prev_hash: bytes, body: bytes) -> bytes:
    """Return the chain hash of entry ``seq`` whose predecessor hashed to ``prev_hash``."""
    digest = _sha256(DOMAIN_TAG)
    digest.update(_SEQ.pack(seq))
    digest.update(prev_hash)
    digest.update(body)
    return digest.digest()


Unchained = tuple[int, str, str, str, str, str, bytes]
"""A new entry before it is linked: seq, ts, operator, action, entity type, entity id, body."""
Chained = tuple[int, str, str, str, str, str, bytes, bytes, bytes]
"""A new entry as it is stored (:class:`StoredEntry` order): the above, previous hash, hash."""


def chain(entries: Iterable[Unchained], prev_hash: bytes) -> list[Chained]:
    """Link consecutive new entries onto a ledger whose last entry hashed to ``prev_hash``.

    The one place entries are chained: :func:`seatledger.store.ledger_store.append` links one,
    the demo builder a batch at a time.
    """
    rows: list[Chained] = []
    add = rows.append
    for seq, ts, operator, action, entity_type, entity_id, body in entries:
        digest = entry_hash(seq, prev_hash, body)
        add((seq, ts, operator, action, entity_type, entity_id, body, prev_hash, digest))
        prev_hash = digest
    return rows


class NewEntry(TypedDict):
    """What a new entry says besides its seq: who did what to which entity, why, and the
    before and after (any canonical-JSON values)."""

    ts: str
    operator: str
    role: str
    action: str
    entity_type: str
    entity_id: str
    reason: str
    before: Any
    after: Any


def make_body(*, seq: int, **entry: Unpack[NewEntry]) -> bytes:
    """Build the canonical body of a new entry."""
    return canonical_bytes(
        {
            "v": FORMAT_VERSION,
            "seq": seq,
            "ts": entry["ts"],
            "operator": entry["operator"],
            "action": entry["action"],
            "entity": entry["entity_type"],
            "entity_id": entry["entity_id"],
            "what": {
                "role": entry["role"],
                "reason": entry["reason"],
                "before": entry["before"],
                "after": entry["after"],
            },
        }
    )


def committed_body(
    *, seq: int, salts: Salts | None, **entry: Unpack[NewEntry]
) -> tuple[bytes, list[Opening]]:
    """The canonical body of a new entry with its personal fields committed with ``salts``
    (see :mod:`seatledger.domain.commitments`), and what each commitment hides.

    Without salts (no personal field could be written) it is :func:`make_body`.
    """
    entity_type, entity_id = entry["entity_type"], entry["entity_id"]
    if salts is None or not has_personal_fields(entity_type, entry["after"]):
        return make_body(seq=seq, **entry), []
    before, hidden_before = commit_fields(salts, entity_type, entity_id, entry["before"])
    after, hidden_after = commit_fields(salts, entity_type, entity_id, entry["after"])
    after, hidden_written = commit_written(salts, after)
    body = make_body(
        seq=seq,
        ts=entry["ts"],
        operator=entry["operator"],
        role=entry["role"],
        action=entry["action"],
        entity_type=entity_type,
        entity_id=entity_id,
        reason=entry["reason"],
        before=before,
        after=after,
    )
    return body, hidden_before + hidden_after + hidden_written


def _json_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _template(action: str, entity_type: str, operator: str) -> str:
    """A %-template of the body prefix with the per-entry fields (entity id, seq, ts) left open."""
    fixed = [_json_str(v).replace("%", "%%") for v in (action, entity_type, operator)]
    return (
        f'{{"action":{fixed[0]},"entity":{fixed[1]},"entity_id":%s,"operator":{fixed[2]},'
        f'"seq":%d,"ts":%s,"v":{FORMAT_VERSION},"what":'
    )


def column_prefix(
    seq: int, ts: str, operator: str, action: str, *, entity_type: str, entity_id: str
) -> bytes:
    """The bytes a body must start with, given its indexed columns."""
    return (
        f'{{"action":{_json_str(action)},"entity":{_json_str(entity_type)},'
        f'"entity_id":{_json_str(entity_id)},"operator":{_json_str(operator)},'
        f'"seq":{seq},"ts":{_json_str(ts)},"v":{FORMAT_VERSION},"what":'
    ).encode()


PREFIX_LAYOUT: tuple[tuple[str, str, bool], ...] = (
    ("action", "action", True),
    ("entity", "entity_type", True),
    ("entity_id", "entity_id", True),
    ("operator", "operator", True),
    ("seq", "seq", False),
    ("ts", "ts", True),
)
"""The body prefix's keys in order, the stored column each holds and whether it is a JSON string:
storage builds the prefix from the columns with plain concatenation (see :func:`intact_batch`)."""
PREFIX_END = f',"v":{FORMAT_VERSION},"what":'
_PREFIX_QUOTES = sum(4 if quoted else 2 for _key, _column, quoted in PREFIX_LAYOUT) + 4
_UNSAFE = bytes(range(32)) + b"\\"  # what JSON escapes in a string (besides the quote)
_digest = type(hashlib.sha256()).digest  # unbound: no attribute lookup per call


def prefix_pieces() -> list[tuple[str, str | None]]:
    """The body prefix as literal text and column names, in order, for storage to concatenate:
    ``('{"action":"', None), ('action', 'action'), ...``; a piece with a column name stands for
    that column's value (a literal piece's second item is None)."""
    pieces: list[tuple[str, str | None]] = []
    text = "{"
    for index, (key, column, quoted) in enumerate(PREFIX_LAYOUT):
        text += ("," if index else "") + f'"{key}":' + ('"' if quoted else "")
        pieces += [(text, None), (column, column)]
        text = '"' if quoted else ""
    pieces.append((text + PREFIX_END, None))
    return pieces


ScanRow = tuple[bytes, bytes, bytes, bytes]
"""One stored entry as the fast check reads it: body, previous hash, hash, and the body prefix
its indexed columns make when concatenated as :func:`prefix_pieces` says (no JSON escaping)."""


def _chained(
    bodies: Sequence[bytes],
    prevs: Sequence[bytes],
    hashes: Sequence[bytes],
    first_seq: int,
    prev: bytes,
) -> bool:
    """Whether consecutive entries ``first_seq``... link to ``prev`` and to each other, and each
    stored hash is its body's: the chain part of the fast checks, in C loops (a value of the
    wrong type raises TypeError, which the callers take as "decides nothing")."""
    if prevs[0] != prev or prevs[1:] != hashes[:-1]:
        return False
    seqs = map(_SEQ.pack, range(first_seq, first_seq + len(bodies)))
    inputs = map(b"".join, zip(repeat(DOMAIN_TAG), seqs, prevs, bodies))
    return tuple(map(_digest, map(_sha256, inputs))) == tuple(hashes)


def intact_batch(rows: Sequence[ScanRow], first_seq: int, prev: bytes) -> tuple[bytes, ...] | None:
    """The stored hashes of consecutive entries ``first_seq``... when every one certainly passes
    what :func:`verify_chain` checks (link, hash, indexed columns), else None.

    None decides nothing: the caller then checks those entries one by one with
    :func:`verify_chain`, which names the first bad one.  The work runs in C loops over the
    whole batch (one ``map`` per step instead of Python bytecode per entry).

    The columns are compared without JSON escaping, so a match is taken as proof only when the
    concatenated prefixes hold no backslash or control character and no quote beyond the
    layout's own: then every column's JSON string is the column between quotes, and the prefix
    is exactly the one :func:`verify_chain` would build.
    """
    if not rows:
        return ()
    try:
        bodies, prevs, hashes, prefixes = zip(*rows, strict=True)
        if not _chained(bodies, prevs, hashes, first_seq, prev):
            return None
        if not all(map(bytes.startswith, bodies, prefixes)):
            return None
        joined = b"".join(prefixes)
    except TypeError:  # a value stored as text, or NULL: the exact check says what it is
        return None
    if joined.count(b'"') != _PREFIX_QUOTES * len(rows) or len(
        joined.translate(None, _UNSAFE)
    ) != len(joined):
        return None
    return tuple(hashes)


LocatedRow = tuple[bytes, bytes, bytes, int]
"""One stored entry as the quickest check reads it: body, previous hash, hash, and where in the
body the prefix its indexed columns make is first found (1: the body starts with it), as storage
computes it (see :func:`intact_located`)."""


def intact_located(
    rows: Sequence[LocatedRow], first_seq: int, prev: bytes
) -> tuple[bytes, ...] | None:
    """:func:`intact_batch` for rows that carry where storage found each column prefix in its
    body instead of the prefix itself: the prefix never leaves the database.

    A body that starts with its columns' prefix proves them when the body holds no backslash:
    a canonical body (its hash just verified) then escapes nothing, so the prefix region holds
    exactly the layout's quotes, while a column holding a quote would add one to the prefix and
    a column holding an escaped character's unescaped text would need a backslash in the body.
    A batch with a backslash anywhere in a body decides nothing (None): the caller checks it
    with :func:`intact_batch`, which compares the prefixes themselves.
    """
    if not rows:
        return ()
    try:
        bodies, prevs, hashes, found = zip(*rows, strict=True)
        # The backslash first: one search of the batch, before the hashing it would waste.
        if found.count(1) != len(found) or b"\\" in b"".join(bodies):
            return None
        if not _chained(bodies, prevs, hashes, first_seq, prev):
            return None
    except TypeError:  # a value stored as text, or NULL: the exact check says what it is
        return None
    return tuple(hashes)


class Problem(Enum):
    """Why an entry fails verification; the values are shown to the user."""

    EDITED = "edited: its hash does not match its contents"
    COLUMNS = "edited: its indexed columns disagree with its hashed body"
    MISSING = "missing: the sequence skips"
    REORDERED = "out of order: it does not chain to the entry before it"
    TRUNCATED = "truncated: the ledger ends before the recorded head"
    UNRECORDED = "unrecorded: it lies beyond the recorded head (written outside SeatLedger)"
    UNREADABLE = "unreadable: its body is not valid JSON"
    TREE = "not in the Merkle tree as recorded: the stored tree disagrees with the entries"


class StoredEntry(NamedTuple):
    """One row as read back from storage (storage may yield plain tuples in this order)."""

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


def verify_chain(
    entries: Iterable[tuple[int, str, str, str, str, str, bytes, bytes, bytes]],
    *,
    expected_size: int | None = None,
    expected_head: bytes | None = None,
    check_columns: bool = True,
    start_seq: int = 1,
    start_hash: bytes = GENESIS_HASH,
) -> Verdict:
    """Verify entries streamed in ascending ``seq`` order, in constant memory.

    Args:
        entries: stored entries (:class:`StoredEntry` or plain tuples in its field order), in the
            order storage returns them by ``seq``.
        expected_size: the size (last seq) recorded elsewhere (the head record or a
            checkpoint); a shorter ledger is reported as truncated.
        expected_head: the head hash recorded with ``expected_size``.
        check_columns: also check that the indexed columns match the hashed body.
        start_seq: the first seq expected (a range of the ledger verified on its own).
        start_hash: the stored hash of the entry before ``start_seq``.

    Returns:
        A verdict naming the first bad entry, if any.
    """
    prev = start_hash
    expected_seq = start_seq
    count = 0
    sha256 = _sha256
    pack = _SEQ.pack
    tag = DOMAIN_TAG
    # Operators, actions and entity types repeat: build each prefix template once.
    templates: dict[tuple[str, str, str], str] = {}
    for seq, ts, operator, action, entity_type, entity_id, body, prev_hash, digest in entries:
        if seq != expected_seq:
            problem = Problem.MISSING if seq > expected_seq else Problem.REORDERED
            detail = f"expected entry {expected_seq}, found entry {seq}"
            return Verdict(count, prev, Failure(expected_seq, problem, detail))
        if prev_hash != prev:
            detail = "its previous-hash is not the hash before it"
            return Verdict(count, prev, Failure(seq, Problem.REORDERED, detail))
        try:
            computed = sha256(b"%s%s%s%s" % (tag, pack(seq), prev, body)).digest()
        except TypeError:  # stored as text by someone else: SQLite columns take any type
            return Verdict(count, prev, Failure(seq, Problem.EDITED, "its body is not bytes"))
        if computed != digest:
            return Verdict(count, prev, Failure(seq, Problem.EDITED))
        if check_columns:
            key = (action, entity_type, operator)
            template = templates.get(key)
            if template is None:
                template = _template(action, entity_type, operator)
                if len(templates) < 65536:
                    templates[key] = template
            # Fast path: the entity id and time as they are.  A match proves equality when they
            # hold no backslash (so no escapes in the body there, so no quotes either); anything
            # else is decided by the exact, escaped comparison.
            fast = (template % (f'"{entity_id}"', seq, f'"{ts}"')).encode()
            if not (body.startswith(fast) and "\\" not in entity_id and "\\" not in ts):
                exact = template % (_json_str(entity_id), seq, _json_str(ts))
                if not body.startswith(exact.encode()):
                    return Verdict(count, prev, Failure(seq, Problem.COLUMNS))
        prev = digest
        expected_seq += 1
        count += 1
    last = expected_seq - 1
    if expected_size is not None and last < expected_size:
        detail = f"{last} entries present, {expected_size} recorded"
        return Verdict(count, prev, Failure(last + 1, Problem.TRUNCATED, detail))
    if (
        expected_size is not None
        and last == expected_size
        and expected_head is not None
        and prev != expected_head
    ):
        detail = "the last hash differs from the recorded head"
        return Verdict(count, prev, Failure(last, Problem.EDITED, detail))
    return Verdict(count, prev, None)


def verify_entries(
    entries: Iterable[tuple[int, str, str, str, str, str, bytes, bytes, bytes]],
    hash_before: Callable[[int], bytes | None],
) -> Failure | None:
    """Check some entries of a ledger, not necessarily consecutive, as :func:`verify_chain`
    checks each one: its previous hash is the hash stored with the entry before it
    (``hash_before(seq)``, None when that entry is missing), its hash is recomputed from its exact
    body, and its indexed columns are the body's.  Returns the first that fails, in the order
    given.

    What an audit checks of the entries in its scope (the entries outside it are the whole
    ledger's check, ``ledger verify``): a range verified this way holds no entry that was
    edited, relabelled or re-linked, though entries between them are not read.
    """
    sha256, pack, tag = _sha256, _SEQ.pack, DOMAIN_TAG
    templates: dict[tuple[str, str, str], str] = {}
    for seq, ts, operator, action, entity_type, entity_id, body, prev_hash, digest in entries:
        before = hash_before(seq)
        if before is None:
            return Failure(seq - 1, Problem.MISSING, f"entry {seq} follows no entry {seq - 1}")
        if prev_hash != before:
            detail = "its previous-hash is not the hash before it"
            return Failure(seq, Problem.REORDERED, detail)
        try:
            computed = sha256(b"%s%s%s%s" % (tag, pack(seq), prev_hash, body)).digest()
        except TypeError:  # stored as text by someone else: SQLite columns take any type
            return Failure(seq, Problem.EDITED, "its body is not bytes")
        if computed != digest:
            return Failure(seq, Problem.EDITED)
        key = (action, entity_type, operator)
        template = templates.get(key)
        if template is None:
            template = templates[key] = _template(action, entity_type, operator)
        # As verify_chain: the columns as they are when they hold no backslash, else escaped.
        fast = (template % (f'"{entity_id}"', seq, f'"{ts}"')).encode()
        if not (body.startswith(fast) and "\\" not in entity_id and "\\" not in ts):
            exact = template % (_json_str(entity_id), seq, _json_str(ts))
            if not body.startswith(exact.encode()):
                return Failure(seq, Problem.COLUMNS)
    return None
