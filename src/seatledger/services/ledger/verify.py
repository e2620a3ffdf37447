"""Reading and verifying the activity ledger."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from seatledger.domain.ledger import GENESIS_HASH, Failure, Problem, Verdict
from seatledger.domain.merkle import BLOCK, edge_of
from seatledger.errors import PermissionDenied
from seatledger.progress import Progress
from seatledger.services.core.collector import collector_paused
from seatledger.services.core.context import Context
from seatledger.services.core.forking import can_fork, die_with_parent
from seatledger.services.ledger.reveal import Revealed, reveal
from seatledger.services.ledger.scan import Part, Reader, scan
from seatledger.services.ledger.state import StateReport, verify_state
from seatledger.services.ledger.tree import check_tree
from seatledger.store import ledger_scan, ledger_store
from seatledger.store.db import Database

PARALLEL_FROM = 200_000  # below this, forking a second process costs more than it saves


class LedgerService:
    """The ledger of one open database, as the window and the command line check it."""

    def __init__(self, db: Database, ctx: Context | None = None) -> None:
        self._db = db
        self._ctx = ctx

    def size(self) -> int:
        """How many entries the head records (one read, however long the ledger)."""
        with self._db.read() as session:
            return ledger_store.head(session)[0]

    def verify(self, progress: Progress | None = None) -> Verdict:
        """Check every link of the ledger; see :func:`verify`."""
        return verify(self._db, progress)

    def checkpoint(self) -> tuple[int, bytes, bytes]:
        """The recorded size, head hash and Merkle root (one read of the head)."""
        with self._db.read() as session:
            return ledger_store.checkpoint(session)

    def reveal(self, commitment: str, reason: str) -> Revealed:
        """Open one committed personal field; see :func:`.reveal.reveal`."""
        if self._ctx is None:
            raise PermissionDenied("Sign in to reveal a committed value.")
        return reveal(self._ctx, commitment, reason)

    def verify_state(self, progress: Progress | None = None) -> StateReport:
        """Compare the rows a report counts with what the ledger says of them; see
        :func:`~seatledger.services.ledger.state.verify_state`."""
        return verify_state(self._db, progress)


def verify(db: Database, progress: Progress | None = None) -> Verdict:
    """Stream the whole ledger and check every link, every entry's indexed columns and the
    stored Merkle tree against the recorded head, in one pass (see :mod:`.scan`).

    A large ledger is checked in two halves at once by a helper process (forked when that is
    safe, see :func:`~seatledger.services.core.forking.can_fork`, else started afresh): the
    second half starts from the hash stored with the last entry of the first, and the first half
    proves that hash, so the halves together check exactly what one pass would.  Memory stays
    constant either way (the stored block roots aside: 32 bytes for 32 entries).

    Args:
        db: the open database.
        progress: told the number of entries checked so far, of the head's count.

    Raises:
        Cancelled: ``progress`` was cancelled.
    """
    with collector_paused():  # millions of small objects, no cycles: see collector_paused
        return _verify(db, progress)


def _verify(db: Database, progress: Progress | None) -> Verdict:
    with db.read() as session:  # one snapshot: the head, the tree and the highest entry agree
        size, head, edge = ledger_store.recorded(session)
        last = ledger_store.last_seq(session)
        # The block roots through the driver (a third of the ORM's time for 40,000 rows).
        raw = session.connection().connection.driver_connection
        stored = ledger_scan.block_roots(raw, db.dialect, 0, 2**62)
        split = size // 2 - size // 2 % BLOCK  # whole blocks on each side
        boundary = ledger_store.stored_hash(session, split) if size >= PARALLEL_FROM else None
    if size == 0 and last:
        return Verdict(0, head, Failure(1, Problem.TRUNCATED, "the head record is missing"))
    helper = None
    if boundary is not None and split:
        helper = _Helper.start(db, _Halves(size, head, split, boundary))
    if helper is None:
        part = _one_pass(db, size, head, stored, _counted(progress, size))
    else:
        part = _two_halves(db, helper, stored, progress)
    verdict = part.verdict
    if verdict.ok and last > size:
        detail = f"entries up to {last} are stored, the head records {size}"
        return Verdict(verdict.entries, verdict.head, Failure(size + 1, Problem.UNRECORDED, detail))
    if verdict.ok:
        failure = _tree_failure(db, part, size, stored=stored, edge=edge, progress=progress)
        if failure is not None:
            return Verdict(verdict.entries, verdict.head, failure)
    return verdict


def _tree_failure(
    db: Database,
    part: Part,
    size: int,
    *,
    stored: dict[int, bytes],
    edge: bytes | None,
    progress: Progress | None,
) -> Failure | None:
    """The first entry the stored tree misplaces, once the chain of ``size`` entries verified:
    a block whose stored root differs, a root stored beyond the entries, or the right edge."""
    if not part.complete:  # entries appeared while a broken range was re-read: check it anew
        if progress is not None:
            progress.stage("Checking the Merkle tree")
        return check_tree(db, size, _counted(progress, size))
    if part.differs is not None:
        first = part.differs * BLOCK + 1
        detail = f"the stored root of entries {first}-{first + BLOCK - 1} differs"
        return Failure(first, Problem.TREE, detail)
    blocks = size // BLOCK
    beyond = [index for index in stored if not 0 <= index < blocks]
    if beyond:
        index = min(beyond)
        detail = f"a root is stored for entries {index * BLOCK + 1}-{(index + 1) * BLOCK}"
        return Failure(index * BLOCK + 1, Problem.TREE, detail + ", which are not recorded")
    with db.read() as session:
        stored_edge = ledger_store.stored_frontier(session, size, edge)
    # Every block root below was just recomputed from its entries and found as stored.
    if edge_of([stored[index] for index in range(blocks)], part.tail) != stored_edge:
        return Failure(size, Problem.TREE, "the right edge stored with the head differs")
    return None


def _reader(conn: Connection) -> Reader:
    raw = conn.connection.driver_connection
    assert raw is not None

    def end() -> None:
        # The driver began this transaction (psycopg does so on any query): end it too.
        raw.rollback()
        conn.rollback()

    return Reader(raw, conn.dialect.name, end)


def _one_pass(
    db: Database,
    size: int,
    head: bytes,
    stored: dict[int, bytes],
    progress: Callable[[int], None] | None,
) -> Part:
    with db.engine.connect() as conn:
        return scan(
            _reader(conn),
            after=0,
            upto=size,
            start_hash=GENESIS_HASH,
            expected_head=head,
            stored=stored,
            progress=progress,
            batch=ledger_store.STREAM_BATCH,
        )


@dataclass(frozen=True, slots=True)
class _Halves:
    size: int
    head: bytes
    split: int  # a multiple of BLOCK
    boundary: bytes  # the hash stored with entry ``split``


def _second_half(url: str, halves: _Halves, out: Any, parent: int) -> None:
    """Forked child: check entries split+1..size and send the part back."""
    die_with_parent(parent)
    database, _ = Database.open(url, create=False, upgrade=False)
    try:
        with database.engine.connect() as conn:
            reader = _reader(conn)
            stored = ledger_scan.block_roots(
                reader.raw, reader.dialect, halves.split // BLOCK, halves.size // BLOCK
            )
            reader.end()
            part = scan(
                reader,
                after=halves.split,
                upto=halves.size,
                start_hash=halves.boundary,
                expected_head=halves.head,
                stored=stored,
            )
        out.send(part)
    finally:
        database.dispose()
        out.close()


class _Helper:
    """The process checking the second half: forked, or a fresh interpreter when this process
    may not fork (see :mod:`.scan`); None from :meth:`start` when neither is possible."""

    def __init__(self, halves: _Halves, wait: Callable[[], Part | None], stop: Callable[[], None]):
        self.halves = halves
        self.wait = wait  # the helper's part, or None if it failed
        self.stop = stop  # end the helper (at once if it is still working)

    @classmethod
    def start(cls, db: Database, halves: _Halves) -> _Helper | None:
        if can_fork():
            return cls._forked(db, halves)
        if getattr(sys, "frozen", False) or not sys.executable:
            return None
        return cls._spawned(db, halves)

    @classmethod
    def _forked(cls, db: Database, halves: _Halves) -> _Helper:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_second_half, args=(db.url, halves, send, os.getpid()), daemon=True
        )
        child.start()
        send.close()

        def wait() -> Part | None:
            try:
                part = receive.recv()
            except (EOFError, OSError):
                return None
            return part if isinstance(part, Part) else None

        def stop() -> None:
            if child.is_alive():
                child.terminate()
            child.join()
            receive.close()

        return cls(halves, wait, stop)

    @classmethod
    def _spawned(cls, db: Database, halves: _Halves) -> _Helper | None:
        path = db.sqlite_path
        where = ["--sqlite", str(path)] if path is not None else ["--url", db.url]
        command = [
            sys.executable,
            "-m",
            "seatledger.services.ledger.scan",
            "--parent",
            str(os.getpid()),
            *where,
            "--after",
            str(halves.split),
            "--upto",
            str(halves.size),
            "--start-hash",
            halves.boundary.hex(),
            "--head",
            halves.head.hex(),
        ]
        try:
            child = subprocess.Popen(  # noqa: S603 (this interpreter, arguments of our own)
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
        except OSError:
            return None

        def wait() -> Part | None:
            out, _ = child.communicate()
            if child.returncode != 0 or not out.strip():
                return None
            try:
                return Part.from_json(out.strip().splitlines()[-1])
            except (ValueError, KeyError, TypeError, IndexError):
                return None

        def stop() -> None:
            if child.poll() is None:
                child.kill()
            child.wait()
            if child.stdout is not None:
                child.stdout.close()

        return cls(halves, wait, stop)


def _counted(progress: Progress | None, size: int, pace: int = 1) -> Callable[[int], None] | None:
    """The stream's count of entries read, reported as (done, size); ``pace`` entries each."""
    if progress is None:
        return None
    return lambda done: progress(min(pace * done, size), size)


def _two_halves(
    db: Database, helper: _Helper, stored: dict[int, bytes], progress: Progress | None
) -> Part:
    halves = helper.halves
    second: Part | None = None
    try:
        # The halves run at about the same pace: report this one's progress twice over.
        with db.engine.connect() as conn:
            first = scan(
                _reader(conn),
                after=0,
                upto=halves.split,
                start_hash=GENESIS_HASH,
                expected_head=halves.boundary,
                stored=stored,
                progress=_counted(progress, halves.size, pace=2),
                batch=ledger_store.STREAM_BATCH,
            )
        if first.verdict.failure is not None:
            return first
        second = helper.wait()
    finally:
        helper.stop()
    if second is None:  # the helper failed: this process checks its half rather than guess
        done = halves.split

        def counted(count: int) -> None:
            if progress is not None:
                progress(min(done + count, halves.size), halves.size)

        with db.engine.connect() as conn:
            second = scan(
                _reader(conn),
                after=halves.split,
                upto=halves.size,
                start_hash=halves.boundary,
                expected_head=halves.head,
                stored=stored,
                progress=counted,
                batch=ledger_store.STREAM_BATCH,
            )
    verdict = Verdict(
        first.verdict.entries + second.verdict.entries, second.verdict.head, second.verdict.failure
    )
    differs = first.differs if first.differs is not None else second.differs
    return Part(verdict, differs, second.tail, first.complete and second.complete)


def decode_body(body: bytes) -> dict[str, Any]:
    """The stored canonical body as a dict (for display)."""
    value = json.loads(body)
    assert isinstance(value, dict)
    return value


ACTIONS = (
    "database.backup",
    "database.upgrade",
    "device.create",
    "device.update",
    "entitlement.create",
    "entitlement.update",
    "import.devices",
    "import.entitlements",
    "import.inventory",
    "import.mapping",
    "import.people",
    "import.snipeit",
    "import.topology",
    "import.usage",
    "operator.create",
    "operator.password",
    "operator.sign_in",
    "operator.sign_in_failed",
    "operator.update",
    "person.create",
    "person.leave",
    "person.update",
    "product.create",
    "rule.create",
    "rule.delete",
    "seat.assign",
    "seat.bulk_assign",
    "seat.bulk_release",
    "seat.release",
    "seat.release_departed",
    "team.create",
    "vendor.create",
)
ENTITY_TYPES = (
    "database",
    "device",
    "entitlement",
    "import",
    "import_mapping",
    "normalization_rule",
    "operator",
    "person",
    "product",
    "seat",
    "team",
    "vendor",
)


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
