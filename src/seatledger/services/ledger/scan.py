"""One pass over a range of the ledger that checks the chain, the indexed columns and the stored
Merkle tree's blocks at once, and the helper process that checks the second half of a large one.

Each batch is read as four values an entry (body, previous hash, hash and where the body holds
the prefix its indexed columns make, built and searched for by the database) and checked in C
loops (:func:`~seatledger.domain.ledger.intact_located`; a batch with a backslash in a body is
read again with the prefixes themselves for :func:`~seatledger.domain.ledger.intact_batch`).
The leaf hashes of the same batch then give its block roots
(:class:`~seatledger.domain.merkle.BlockCheck`), so the tree costs no second read.  A batch the
fast check cannot vouch for is read again whole and checked entry by entry with
:func:`~seatledger.domain.ledger.verify_chain`, which names the first bad entry exactly as
a plain pass would.

``python -m seatledger.services.ledger.scan`` is the helper a verification starts when it may
not fork (a window's process has threads): it imports the standard library, the domain and
:mod:`seatledger.store.ledger_scan` only, checks the range it is given and prints the outcome
as one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seatledger.domain.ledger import (
    Failure,
    Problem,
    Verdict,
    intact_batch,
    intact_located,
    verify_chain,
)
from seatledger.domain.merkle import BLOCK, BlockCheck, leaf_hashes
from seatledger.services.core.collector import collector_paused
from seatledger.store import ledger_scan


@dataclass(frozen=True, slots=True)
class Part:
    """What a pass over entries after+1..upto found."""

    verdict: Verdict
    differs: int | None = None  # the first block whose stored root differs from its entries'
    tail: list[bytes] = field(default_factory=list)  # leaf hashes after the last whole block
    complete: bool = True  # every entry's leaf went through the block check

    def to_json(self) -> str:
        """One line for the helper's parent."""
        failure = self.verdict.failure
        return json.dumps(
            {
                "entries": self.verdict.entries,
                "head": self.verdict.head.hex(),
                "failure": None
                if failure is None
                else [failure.seq, failure.problem.name, failure.detail],
                "differs": self.differs,
                "tail": [leaf.hex() for leaf in self.tail],
                "complete": self.complete,
            }
        )

    @classmethod
    def from_json(cls, line: str) -> Part:
        """The part a helper printed."""
        value = json.loads(line)
        failure = value["failure"]
        return cls(
            Verdict(
                int(value["entries"]),
                bytes.fromhex(value["head"]),
                None if failure is None else Failure(failure[0], Problem[failure[1]], failure[2]),
            ),
            value["differs"],
            [bytes.fromhex(leaf) for leaf in value["tail"]],
            bool(value["complete"]),
        )


@dataclass(frozen=True, slots=True)
class Reader:
    """A DB-API connection to read the ledger with, its dialect, and how to end the driver's
    transaction after each batch."""

    raw: Any
    dialect: str
    end: Callable[[], None]


@collector_paused()  # a context manager made by contextmanager decorates a function too
def scan(
    reader: Reader,
    *,
    after: int,
    upto: int,
    start_hash: bytes,
    expected_head: bytes,
    stored: Mapping[int, bytes],
    progress: Callable[[int], None] | None = None,
    batch: int = ledger_scan.STREAM_BATCH,
    seen: Callable[[int, Sequence[Sequence[bytes]], Sequence[bytes]], None] | None = None,
) -> Part:
    """Check entries after+1..upto (``after`` a multiple of :data:`BLOCK`) against the hash
    stored before them, the head expected at ``upto`` and the stored block roots.

    The verdict is the one :func:`verify_chain` gives over the same entries; ``progress`` is
    told the count checked after each batch (it may raise Cancelled); ``seen`` is given each
    batch that verified, as its first seq, a row an entry whose first three values are its
    body, previous hash and hash, and their leaf hashes (a bundle's export writes the entries
    it discloses and keeps the leaves its proof needs).  Python's cycle collector is paused
    meanwhile (see :func:`~seatledger.services.core.collector.collector_paused`).
    """
    raw, dialect, end = reader.raw, reader.dialect, reader.end
    prev = start_hash
    count = 0
    blocks = BlockCheck(after // BLOCK, stored)
    for first, last, found in ledger_scan.located(
        raw, dialect, after=after, upto=upto, size=batch, end=end
    ):
        rows: Sequence[Sequence[Any]] = found
        whole = len(rows) == last - first
        hashes = intact_located(found, first + 1, prev) if whole else None
        if hashes is None and whole:
            # A body with a backslash (or a fault): compare the column prefixes themselves.
            ((_, _, prefixed),) = ledger_scan.batches(
                raw, dialect, after=first, upto=last, size=last - first, end=end
            )
            rows = prefixed
            whole = len(rows) == last - first
            hashes = intact_batch(prefixed, first + 1, prev) if whole else None
        if hashes is None and not whole:
            # Entries are missing: the plain pass from here names what is wrong.
            def counted(done: int, before: int = count) -> None:
                if progress is not None:
                    progress(before + done)

            rest = ledger_scan.entries(
                raw, dialect, after=first, upto=upto, size=batch, end=end, progress=counted
            )
            verdict = verify_chain(
                rest,
                expected_size=upto,
                expected_head=expected_head,
                start_seq=first + 1,
                start_hash=prev,
            )
            part = Verdict(count + verdict.entries, verdict.head, verdict.failure)
            return Part(part, blocks.differs, blocks.tail, complete=False)
        if hashes is None:
            # Something the fast check cannot vouch for (a tampered entry, or a column that
            # needs JSON escaping): these entries one by one, as a plain pass checks them.
            slow = list(
                ledger_scan.entries(raw, dialect, after=first, upto=last, size=batch, end=end)
            )
            verdict = verify_chain(slow, expected_size=last, start_seq=first + 1, start_hash=prev)
            if verdict.failure is not None:
                part = Verdict(count + verdict.entries, verdict.head, verdict.failure)
                return Part(part, blocks.differs, blocks.tail)
            hashes = tuple(row[8] for row in slow)
            entries: Sequence[Sequence[bytes]] = [(row[6], row[7], row[8]) for row in slow]
        else:
            entries = rows
        leaves = blocks.add(hashes)
        if seen is not None:
            seen(first + 1, entries, leaf_hashes(hashes) if leaves is None else leaves)
        if hashes:
            prev = hashes[-1]
        count += len(hashes)
        if progress is not None:
            progress(count)
    ending = verify_chain(
        (), expected_size=upto, expected_head=expected_head, start_seq=upto + 1, start_hash=prev
    )
    return Part(Verdict(count, prev, ending.failure), blocks.differs, blocks.tail)


def sqlite_reader(path: Path) -> Reader:
    """A read-only connection of the standard library's own to a SQLite database file."""
    raw = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    return Reader(raw, "sqlite", raw.rollback)


def main(argv: list[str] | None = None) -> int:
    """The helper: check one range and print its :class:`Part` as a line of JSON."""
    from seatledger.services.core.forking import die_with_parent  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="seatledger.services.ledger.scan")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--sqlite", help="the database file (else --url)")
    parser.add_argument("--url")
    parser.add_argument("--after", type=int, required=True)
    parser.add_argument("--upto", type=int, required=True)
    parser.add_argument("--start-hash", required=True)
    parser.add_argument("--head", required=True)
    args = parser.parse_args(argv)
    die_with_parent(args.parent)
    first_block, end_block = args.after // BLOCK, args.upto // BLOCK
    if args.sqlite:
        reader = sqlite_reader(Path(args.sqlite))
        close: Callable[[], None] = reader.raw.close
    else:
        from seatledger.store.db import Database  # noqa: PLC0415

        database, _ = Database.open(args.url, create=False, upgrade=False)
        conn = database.engine.connect()
        raw = conn.connection.driver_connection
        assert raw is not None

        def end() -> None:
            raw.rollback()
            conn.rollback()

        def close() -> None:
            conn.close()
            database.dispose()

        reader = Reader(raw, database.dialect, end)
    try:
        stored = ledger_scan.block_roots(reader.raw, reader.dialect, first_block, end_block)
        reader.end()
        part = scan(
            reader,
            after=args.after,
            upto=args.upto,
            start_hash=bytes.fromhex(args.start_hash),
            expected_head=bytes.fromhex(args.head),
            stored=stored,
        )
    finally:
        close()
    sys.stdout.write(part.to_json() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
