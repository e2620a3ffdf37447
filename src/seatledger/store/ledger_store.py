"""Appending to and streaming the ledger table.  Callers hold the write transaction."""

from __future__ import annotations

import bisect
import json
import secrets
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Unpack

from sqlalchemy import Connection, Select, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from seatledger.domain.canonical import canonical_bytes
from seatledger.domain.commitments import (
    PERSONAL_FIELDS,
    Opening,
    Salts,
    entities,
    has_personal_fields,
    keyed,
)
from seatledger.domain.ledger import GENESIS_HASH, NewEntry, StoredEntry, chain, committed_body
from seatledger.domain.merkle import BLOCK, Frontier, StoredTree, leaf_hash, leaf_hashes
from seatledger.errors import LedgerIntegrityError
from seatledger.store import ledger_scan
from seatledger.store.models import (
    LedgerBlock,
    LedgerCommitment,
    LedgerEntry,
    LedgerHead,
    Setting,
)
from seatledger.store.prepared import Sql

STREAM_BATCH = ledger_scan.STREAM_BATCH  # entries a query


class Recorded(NamedTuple):
    """The head record: the ledger's size, its head hash and the tree's stored right edge."""

    size: int
    head: bytes
    edge: bytes | None


EMPTY = Recorded(0, GENESIS_HASH, None)

# The statements every append runs, built once: a seat change must stay within milliseconds,
# and building a statement costs more than running it.
_HEAD = select(LedgerHead.size, LedgerHead.head, LedgerHead.frontier).where(LedgerHead.id == 1)
_INSERT_ENTRY = insert(LedgerEntry)
_INSERT_HEAD = insert(LedgerHead)
_INSERT_BLOCK = insert(LedgerBlock)
_UPDATE_HEAD = update(LedgerHead).where(LedgerHead.id == 1)


def with_head(*columns: Any) -> Select[Any]:
    """``select(*columns)`` with the head record's three columns added last, outer-joined (an
    empty ledger has none): a writer reads the head in a statement it runs anyway, then hands
    :func:`recorded_from` of the row to :func:`append`."""
    return select(*columns, LedgerHead.size, LedgerHead.head, LedgerHead.frontier).outerjoin(
        LedgerHead, LedgerHead.id == 1
    )


def recorded_from(row: Sequence[Any]) -> Recorded:
    """The head record from the last three values of a row read with :func:`with_head`."""
    size, last, edge = row[-3], row[-2], row[-1]
    if size is None:
        return EMPTY
    return Recorded(int(size), bytes(last), None if edge is None else bytes(edge))


def head(session: Session) -> tuple[int, bytes]:
    """The recorded ledger size and head hash (0 and the genesis hash when empty)."""
    size, last, _edge = recorded(session)
    return size, last


def recorded(session: Session) -> Recorded:
    """The head record in one read: size, head hash and the tree's stored right edge."""
    return recorded_on(Sql.of(session.connection()))


def recorded_on(sql: Sql) -> Recorded:
    """:func:`recorded`, in the transaction ``sql`` runs in."""
    row = sql.first(_HEAD)
    return EMPTY if row is None else recorded_from(row)


def stored_hash(session: Session, seq: int) -> bytes | None:
    """The hash stored with entry ``seq``, or None if there is no such entry."""
    value = session.scalar(select(LedgerEntry.hash).where(LedgerEntry.seq == seq))
    return None if value is None else bytes(value)


def last_seq(session: Session) -> int:
    """The highest stored seq (0 when empty), whatever the head record says."""
    return int(session.scalar(select(func.max(LedgerEntry.seq))) or 0)


def append(session: Session, known: Recorded | None = None, **new: Unpack[NewEntry]) -> int:
    """Append one entry inside the caller's (serialized) write transaction; return its seq.

    ``known``: the head record as the caller read it in this same transaction (see
    :func:`with_head`), which saves reading it again; nothing may have appended since.
    """
    return append_on(Sql.of(session.connection()), known, session=session, **new)


def append_on(
    sql: Sql,
    known: Recorded | None = None,
    *,
    session: Session | None = None,
    **new: Unpack[NewEntry],
) -> int:
    """:func:`append` on the driver connection of the caller's write transaction.

    ``session``: the transaction's Session, which keeps what the commitments of an entry with
    personal fields hide; an entry that may have none (a seat's) needs no Session.
    """
    size, prev, stored_edge = recorded_on(sql) if known is None else known
    seq = size + 1
    salts = None
    if has_personal_fields(new["entity_type"], new["after"]):
        if session is None:
            raise ValueError(f"a {new['entity_type']} entry is appended with its Session")
        salts = kept_salts(session, entities(new["entity_type"], new["entity_id"], new["after"]))
    body, openings = committed_body(seq=seq, salts=salts, **new)
    if openings:
        assert session is not None  # there are salts
        keep_openings(session, openings)
        session.flush()
    ts, operator, action = new["ts"], new["operator"], new["action"]
    (row,) = chain([(seq, ts, operator, action, new["entity_type"], new["entity_id"], body)], prev)
    entry = StoredEntry(*row)
    digest = entry.hash
    try:
        sql.run(_INSERT_ENTRY, entry._asdict())
    except IntegrityError as exc:
        raise LedgerIntegrityError(
            f"The activity ledger already holds an entry {seq} beyond its recorded head, so "
            "nothing can be recorded. Run 'seatledger ledger verify' and restore the database "
            "from a backup.",
            seq,
        ) from exc
    edge = _edge(sql, size, stored_edge)
    block = edge.append(leaf_hash(digest))
    if block is not None:
        sql.run(_INSERT_BLOCK, {"idx": seq // BLOCK - 1, "hash": block})
    values = {"size": seq, "head": digest, "frontier": edge.to_bytes()}
    if size == 0:
        sql.run(_INSERT_HEAD, {"id": 1, **values})
    else:
        sql.run(_UPDATE_HEAD, values)
    return seq


def kept_salts(session: Session, wanted: dict[str, set[str]]) -> Salts:
    """The salts of the given entities' fields: the one kept with an earlier commitment of the
    same field (so the same value gives the same commitment), else 32 new random bytes.

    The kept ones are read at once, a chunk of entity ids per query (an import writes
    thousands of rows in one entry).
    """
    known: dict[tuple[str, str, str], bytes] = {}
    for entity_type, ids in wanted.items():
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            rows = session.execute(
                select(LedgerCommitment.entity_id, LedgerCommitment.field, LedgerCommitment.salt)
                .where(LedgerCommitment.entity_type == entity_type)
                .where(LedgerCommitment.entity_id.in_(ordered[start : start + 500]))
                .where(LedgerCommitment.salt.is_not(None))
            )
            for entity_id, field, salt in rows:
                if salt is not None:
                    known[(entity_type, entity_id, field)] = bytes(salt)

    def salts(entity_type: str, entity_id: str, field: str) -> bytes:
        found = known.get((entity_type, entity_id, field))
        if found is None:
            found = known[(entity_type, entity_id, field)] = secrets.token_bytes(32)
        return found

    return salts


LEGACY_KEY = "commitment_key"  # the setting that held the salts' key before revision 0020
_SALT = 32
_NO_SALT = bytes(_SALT)
PERSONAL_FIELDS_INDEX = {
    (entity_type, name): n
    for entity_type, names in PERSONAL_FIELDS.items()
    for n, name in enumerate(names)
}


SaltLookup = Callable[[str, str, str], bytes | None]


def salt_lookup(
    session: Session,
    entity_types: Iterable[str],
    only: Mapping[str, Collection[int] | None] | None = None,
) -> SaltLookup:
    """The kept salt of any field of the given entity types (None where it is not kept);
    ``only`` narrows an entity type to some ids (None there: all of them).

    A database not yet upgraded to keep salts (read without upgrading it) still has the key they
    were derived from: its salts are derived from it.
    """
    columns = {c["name"] for c in inspect(session.connection()).get_columns("ledger_commitment")}
    if "salt" not in columns:
        stored = session.scalar(select(Setting.value).where(Setting.key == LEGACY_KEY))
        if not stored:
            return lambda _type, _id, _field: None
        return keyed(bytes.fromhex(stored))
    # Packed: per entity, its fields' salts side by side in PERSONAL_FIELDS order (zeros where
    # none is kept): a large ledger keeps a quarter of a million of them during a state check.
    kept: dict[str, dict[str, bytearray]] = {}
    for entity_type in entity_types:
        order = {name: n for n, name in enumerate(PERSONAL_FIELDS.get(entity_type, ()))}
        packed = kept[entity_type] = {}
        query = (
            select(LedgerCommitment.entity_id, LedgerCommitment.field, LedgerCommitment.salt)
            .where(LedgerCommitment.entity_type == entity_type)
            .where(LedgerCommitment.salt.is_not(None))
        )
        ids = None if only is None else only.get(entity_type)
        if ids is None:
            chunks: Iterable[Any] = session.execute(query.execution_options(yield_per=10_000))
        else:
            wanted = sorted(str(i) for i in ids)
            chunks = (
                row
                for start in range(0, len(wanted), 5000)
                for row in session.execute(
                    query.where(LedgerCommitment.entity_id.in_(wanted[start : start + 5000]))
                )
            )
        for entity_id, field, salt in chunks:
            n = order.get(field)
            if n is None or salt is None or len(salt) != _SALT:
                continue
            slot = packed.get(entity_id)
            if slot is None:
                slot = packed[entity_id] = bytearray(_SALT * len(order))
            slot[n * _SALT : (n + 1) * _SALT] = salt

    def lookup(entity_type: str, entity_id: str, field: str) -> bytes | None:
        slot = kept.get(entity_type, {}).get(entity_id)
        n = PERSONAL_FIELDS_INDEX.get((entity_type, field))
        if slot is None or n is None:
            return None
        found = bytes(slot[n * _SALT : (n + 1) * _SALT])
        return None if found == _NO_SALT else found

    return lookup


def keep_openings(session: Session, openings: Iterable[Opening]) -> None:
    """Record what new commitments hide, and their salts (one row per commitment)."""
    for opening in openings:
        if session.get(LedgerCommitment, opening.commitment) is None:
            session.add(
                LedgerCommitment(
                    commitment=opening.commitment,
                    entity_type=opening.entity_type,
                    entity_id=opening.entity_id,
                    field=opening.field,
                    value=canonical_bytes(opening.value).decode(),
                    salt=opening.salt,
                )
            )


def opened_values(session: Session, commitments: Iterable[str]) -> dict[str, Any]:
    """The values the given commitments hide, where they are still kept."""
    wanted = sorted(set(commitments))
    found: dict[str, Any] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(LedgerCommitment.commitment, LedgerCommitment.value).where(
                LedgerCommitment.commitment.in_(chunk)
            )
        )
        found.update({digest: json.loads(value) for digest, value in rows})
    return found


def frontier(session: Session, size: int) -> Frontier:
    """The Merkle tree's right edge at the recorded ``size`` (read from the head)."""
    if size == 0:
        return Frontier()
    return stored_frontier(session, size, recorded(session)[2])


def stored_blocks(session: Session) -> dict[int, bytes]:
    """Every stored block root by block index."""
    rows = session.execute(select(LedgerBlock.idx, LedgerBlock.hash))
    return {int(index): bytes(root) for index, root in rows}


def stored_frontier(session: Session, size: int, stored: bytes | None) -> Frontier:
    """The right edge of ``size`` entries from its stored bytes (see :func:`recorded`)."""
    return _edge(Sql.of(session.connection()), size, stored)


def _edge(sql: Sql, size: int, stored: bytes | None) -> Frontier:
    if size == 0:
        return Frontier()
    if stored is None:  # a head written by hand (a test, an old tool): rebuild it once
        return _rebuilt(sql.raw, sql.dialect.paramstyle, size)
    try:
        return Frontier.from_bytes(size, stored)
    except ValueError as exc:
        raise LedgerIntegrityError(
            f"The activity ledger's Merkle tree record does not fit its {size} entries ({exc}). "
            "Run 'seatledger ledger verify' and restore the database from a backup.",
            size,
        ) from exc


def rebuild_frontier(conn: Connection, size: int) -> Frontier:
    """The right edge of the tree over entries 1..size, from their stored hashes."""
    raw = conn.connection.driver_connection
    return _rebuilt(raw, conn.dialect.paramstyle, size)


def _rebuilt(raw: Any, paramstyle: str, size: int) -> Frontier:
    edge = Frontier()
    for batch in _hash_batches(raw, paramstyle, 0, size):
        for digest in batch:
            edge.append(leaf_hash(digest))
    return edge


def first_gap(session: Session, size: int) -> int | None:
    """The first of entries 1..size that is not stored, or None when none is missing.

    Counted, not read: entries are numbered from 1, so when as many are stored as the highest
    number, none is missing (entries appended beyond ``size`` meanwhile count the same way).
    Only a ledger with a gap is searched for it.
    """
    seq = LedgerEntry.seq
    total, low, high = session.execute(select(func.count(), func.min(seq), func.max(seq))).one()
    if size == 0 or (low == 1 and total == high and high >= size):
        return None
    if low != 1:
        return 1
    after = aliased(LedgerEntry)
    following = select(after.seq).where(after.seq == seq + 1).exists()
    found = session.scalar(select(func.min(seq)).where(seq < size, ~following))
    return size if found is None else int(found) + 1


def checkpoint(session: Session) -> tuple[int, bytes, bytes]:
    """The recorded size, head hash and Merkle root, read together."""
    size, last, stored_edge = recorded(session)
    return size, last, stored_frontier(session, size, stored_edge).root()


def _stay() -> None:
    """Keeps the caller's transaction open between batches (it ends it itself)."""


def hash_batches(conn: Connection, after: int, upto: int) -> Iterator[list[bytes]]:
    """The stored hashes of entries after+1..upto, in order, a batch at a time."""
    yield from _hash_batches(
        conn.connection.driver_connection, conn.dialect.paramstyle, after, upto
    )


def _hash_batches(raw: Any, paramstyle: str, after: int, upto: int) -> Iterator[list[bytes]]:
    mark = "?" if paramstyle == "qmark" else "%s"
    sql = f"SELECT seq, hash FROM ledger_entry WHERE seq > {mark} AND seq <= {mark} ORDER BY seq"
    assert raw is not None
    for start, last, rows in ledger_scan.ranges(
        raw, sql, after=after, upto=upto, size=STREAM_BATCH, end=_stay
    ):
        if (
            [row[0] for row in rows[:1]] != [start + 1]
            or rows[-1][0] != last
            or len(rows) != last - start
        ):
            raise LedgerIntegrityError(
                f"The activity ledger is missing entries between {start + 1} and {last}. "
                "Run 'seatledger ledger verify'.",
                start + 1,
            )
        yield [bytes(row[1]) for row in rows]


PROOF_WINDOW = 4096  # blocks whose entries are read together when a proof first reaches one


def tree(conn: Connection, size: int, wanted: Sequence[int] = ()) -> StoredTree:
    """The Merkle tree over entries 1..size, for proofs (``size`` at most the recorded size).

    The block roots are read at once (a 10M-entry ledger has 312,500); a block's entries are
    read only where a proof reaches into it.  ``wanted``: the leaves (0-based) proofs will be
    made for, left to right; the entries of their blocks are then read a window of
    :data:`PROOF_WINDOW` blocks at a time, in a few queries, instead of a query a block.
    """
    blocks = [
        bytes(row[0])
        for row in conn.execute(
            select(LedgerBlock.hash)
            .where(LedgerBlock.idx < size // BLOCK)
            .order_by(LedgerBlock.idx)
        )
    ]
    touched = sorted({index // BLOCK for index in wanted if index < len(blocks) * BLOCK})
    read: dict[int, list[bytes]] = {}

    def leaves(index: int) -> list[bytes]:
        if index not in read:
            at = bisect.bisect_left(touched, index)
            if at < len(touched) and touched[at] == index:
                window = touched[at : at + PROOF_WINDOW]
                raw = conn.connection.driver_connection
                read.clear()
                read.update(ledger_scan.block_hashes(raw, conn.dialect.name, window, BLOCK))
        found = read.pop(index, None)
        if found is None:
            first = index * BLOCK
            (found,) = hash_batches(conn, first, min(size, first + BLOCK))
        return leaf_hashes(found)

    return StoredTree(size, blocks, leaves)


def stream(
    conn: Connection,
    *,
    after: int = 0,
    upto: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[StoredEntry]:
    """Yield every entry in ascending seq, in batches, in constant memory.

    Rows come straight from the driver's cursor as plain tuples in :class:`StoredEntry` order
    (a million entries are verified in seconds; result-row objects would double that).  Keyset
    pagination by ``seq`` keeps each query short, so a long verification never holds a read
    transaction that would stop SQLite's WAL from checkpointing.

    Args:
        conn: a connection outside any long transaction.
        after: start after this seq (to verify a range on its own).
        upto: stop after this seq (the head read when verification started), so entries appended
            meanwhile are left for the next run.
        progress: called with the count streamed so far after each batch; it raises
            :class:`~seatledger.errors.Cancelled` to stop.
    """
    raw = conn.connection.driver_connection
    assert raw is not None

    def end() -> None:
        # The driver, not SQLAlchemy, began this transaction (psycopg does so on any query), so
        # conn.rollback() alone would leave it open across every batch.
        raw.rollback()
        conn.rollback()

    yield from ledger_scan.entries(
        raw,
        conn.dialect.name,
        after=after,
        upto=upto if upto is not None else 2**62,
        size=STREAM_BATCH,
        end=end,
        progress=progress,
    )
