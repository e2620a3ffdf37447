"""Reading the ledger for verification with the standard library alone.

A helper process that verifies half of a large ledger imports this module and the domain, not
SQLAlchemy, so it starts in a tenth of a second.  Each function takes a DB-API connection
(sqlite3 or psycopg) and ends the driver's transaction after each batch, so a long verification
never holds one open (SQLite's WAL could not checkpoint; PostgreSQL would keep an idle session).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from seatledger.domain.ledger import LocatedRow, ScanRow, StoredEntry, prefix_pieces

STREAM_BATCH = 20_000  # entries a query (a multiple of the tree's block keeps blocks whole)
ENTRY_COLUMNS = "seq, ts, operator, action, entity_type, entity_id, body, prev_hash, hash"


def _prefix_sql(dialect: str) -> str:
    """The body prefix built from the indexed columns, as bytes, in ``dialect``'s SQL."""
    pieces = prefix_pieces()
    if dialect == "sqlite":  # one printf builds it a third faster than a chain of ||
        template = "".join("%s" if column else text.replace("%", "%%") for text, column in pieces)
        columns = ", ".join(column for _, column in pieces if column)
        return "CAST(printf('{}', {}) AS BLOB)".format(template.replace("'", "''"), columns)
    parts = [column or "'" + text.replace("'", "''") + "'" for text, column in pieces]
    return f"convert_to({' || '.join(parts)}, 'UTF8')"


def _located_sql(dialect: str) -> str:
    """Where in the body the prefix its indexed columns make is first found (1: at its start),
    in ``dialect``'s SQL: the prefix is built and searched for without leaving the database."""
    if dialect == "sqlite":
        return f"instr(body, {_prefix_sql(dialect)})"
    return f"position({_prefix_sql(dialect)} in body)"


def _mark(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def batches(
    raw: Any, dialect: str, *, after: int, upto: int, size: int, end: Callable[[], None]
) -> Iterator[tuple[int, int, list[ScanRow]]]:
    """``(after, last, rows)`` for consecutive ranges of at most ``size`` seqs up to ``upto``:
    the rows of entries after+1..last as :data:`~seatledger.domain.ledger.ScanRow` (a range
    with entries missing yields fewer rows).  ``end`` ends the transaction after each batch."""
    mark = _mark(dialect)
    sql = (
        f"SELECT body, prev_hash, hash, {_prefix_sql(dialect)} FROM ledger_entry "
        f"WHERE seq > {mark} AND seq <= {mark} ORDER BY seq"
    )
    return ranges(raw, sql, after=after, upto=upto, size=size, end=end)


def located(
    raw: Any, dialect: str, *, after: int, upto: int, size: int, end: Callable[[], None]
) -> Iterator[tuple[int, int, list[LocatedRow]]]:
    """:func:`batches` with each row's prefix replaced by where the body holds it (see
    :data:`~seatledger.domain.ledger.LocatedRow`): the verification's first reading."""
    mark = _mark(dialect)
    sql = (
        f"SELECT body, prev_hash, hash, {_located_sql(dialect)} FROM ledger_entry "
        f"WHERE seq > {mark} AND seq <= {mark} ORDER BY seq"
    )
    return ranges(raw, sql, after=after, upto=upto, size=size, end=end)


def ranges(
    raw: Any, sql: str, *, after: int, upto: int, size: int, end: Callable[[], None]
) -> Iterator[tuple[int, int, list[Any]]]:
    """``(after, last, rows)``: ``sql`` (two marks: the seqs after and up to) run on consecutive
    ranges of at most ``size`` seqs up to ``upto``, calling ``end`` after each."""
    while after < upto:
        last = min(upto, after + size)
        cursor = raw.cursor()
        try:
            cursor.execute(sql, (after, last))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        end()
        yield after, last, rows
        after = last


def entries(
    raw: Any,
    dialect: str,
    *,
    after: int,
    upto: int,
    size: int,
    end: Callable[[], None],
    progress: Callable[[int], None] | None = None,
) -> Iterator[StoredEntry]:
    """Every entry after+1..upto in ascending seq, ``size`` at a time, as plain tuples in
    :class:`~seatledger.domain.ledger.StoredEntry` order (keyset pages: each query is short).
    ``progress`` is told the count read so far after each batch (it may raise Cancelled)."""
    mark = _mark(dialect)
    sql = (
        f"SELECT {ENTRY_COLUMNS} FROM ledger_entry "
        f"WHERE seq > {mark} AND seq <= {mark} ORDER BY seq LIMIT {mark}"
    )
    done = 0
    while True:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, (after, upto, size))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        end()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]
        done += len(rows)
        if progress is not None:
            progress(done)


def block_roots(raw: Any, dialect: str, first: int, end: int) -> dict[int, bytes]:
    """The stored roots of blocks ``first`` <= index < ``end``."""
    mark = _mark(dialect)
    cursor = raw.cursor()
    try:
        cursor.execute(
            f"SELECT idx, hash FROM ledger_block WHERE idx >= {mark} AND idx < {mark}",
            (first, end),
        )
        return {int(index): bytes(root) for index, root in cursor.fetchall()}
    finally:
        cursor.close()


def _at(raw: Any, dialect: str, columns: str, seqs: list[int]) -> Iterator[tuple[Any, ...]]:
    """``seq, columns`` of the entries ``seqs`` that exist, a few hundred a query."""
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        marks = ", ".join([_mark(dialect)] * len(chunk))
        cursor = raw.cursor()
        try:
            cursor.execute(f"SELECT seq, {columns} FROM ledger_entry WHERE seq IN ({marks})", chunk)
            yield from cursor.fetchall()
        finally:
            cursor.close()


def hashes_at(raw: Any, dialect: str, seqs: list[int]) -> dict[int, bytes]:
    """The stored hashes of entries ``seqs`` (those that exist)."""
    return {int(seq): bytes(digest) for seq, digest in _at(raw, dialect, "hash", seqs)}


def rows_at(raw: Any, dialect: str, seqs: list[int]) -> dict[int, ScanRow]:
    """Entries ``seqs`` as the fast check reads them (see :func:`batches`), by seq."""
    columns = f"body, prev_hash, hash, {_prefix_sql(dialect)}"
    return {int(row[0]): tuple(row[1:]) for row in _at(raw, dialect, columns, seqs)}


def block_hashes(raw: Any, dialect: str, blocks: list[int], size: int) -> dict[int, list[bytes]]:
    """The stored hashes of the entries of ``blocks`` (ascending indexes of ``size`` entries
    each), by block: one query per run of neighbouring blocks."""
    found: dict[int, list[bytes]] = {}
    wanted = set(blocks)
    runs: list[list[int]] = []
    for block in blocks:
        if runs and block - runs[-1][1] <= 2:  # reading a short gap costs less than a query
            runs[-1][1] = block
        else:
            runs.append([block, block])
    mark = _mark(dialect)
    sql = f"SELECT seq, hash FROM ledger_entry WHERE seq > {mark} AND seq <= {mark} ORDER BY seq"
    for first, last in runs:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, (first * size, (last + 1) * size))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if len(rows) == (last + 1 - first) * size:  # every entry there: a block is a slice
            for n, block in enumerate(range(first, last + 1)):
                if block in wanted:
                    found[block] = [bytes(row[1]) for row in rows[n * size : (n + 1) * size]]
            continue
        for seq, digest in rows:
            block = (int(seq) - 1) // size
            if block in wanted:
                found.setdefault(block, []).append(bytes(digest))
    return found
