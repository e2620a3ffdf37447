"""Reading and verifying the activity ledger."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seatledger.domain.ledger import Failure, Problem, Verdict, verify_chain
from seatledger.errors import PermissionDenied
from seatledger.progress import Progress
from seatledger.services.core.context import Context
from seatledger.services.core.forking import can_fork, die_with_parent
from seatledger.services.ledger.reveal import Revealed, reveal
from seatledger.services.ledger.state import StateReport, verify_state
from seatledger.services.ledger.tree import check_tree
from seatledger.store import ledger_store
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
    """Stream the whole ledger and check every link against the recorded head.

    A large ledger is checked in two halves at once when a second process can be forked safely
    (see :func:`~seatledger.services.core.forking.can_fork`): the second half starts from the hash
    stored with the last entry of the first, and the first half proves that hash, so the halves
    together check exactly what one pass would.  Memory stays constant either way.

    Args:
        db: the open database.
        progress: told the number of entries checked so far, of the head's count.

    Raises:
        Cancelled: ``progress`` was cancelled.
    """
    with db.read() as session:  # one snapshot: the head and the highest entry agree in time
        size, head = ledger_store.head(session)
        last = ledger_store.last_seq(session)
        split = size // 2
        boundary = ledger_store.stored_hash(session, split) if size >= PARALLEL_FROM else None
    if size == 0 and last:
        return Verdict(0, head, Failure(1, Problem.TRUNCATED, "the head record is missing"))
    if boundary is not None and can_fork():
        verdict = _verify_halves(db, _Halves(size, head, split, boundary), progress)
    else:
        with db.engine.connect() as conn:
            verdict = verify_chain(
                ledger_store.stream(conn, upto=size, progress=_counted(progress, size)),
                expected_size=size,
                expected_head=head,
            )
    if verdict.ok and last > size:
        detail = f"entries up to {last} are stored, the head records {size}"
        return Verdict(verdict.entries, verdict.head, Failure(size + 1, Problem.UNRECORDED, detail))
    if verdict.ok:
        if progress is not None:
            progress.stage("Checking the Merkle tree")
        failure = check_tree(db, size, _counted(progress, size))
        if failure is not None:
            return Verdict(verdict.entries, verdict.head, failure)
    return verdict


@dataclass(frozen=True, slots=True)
class _Halves:
    size: int
    head: bytes
    split: int
    boundary: bytes  # the hash stored with entry ``split``


def _second_half(url: str, halves: _Halves, out: Any, parent: int) -> None:
    """Forked child: verify entries split+1..size and send the verdict back."""
    die_with_parent(parent)
    database, _ = Database.open(url, create=False, upgrade=False)
    try:
        with database.engine.connect() as conn:
            verdict = verify_chain(
                ledger_store.stream(conn, after=halves.split, upto=halves.size),
                expected_size=halves.size,
                expected_head=halves.head,
                start_seq=halves.split + 1,
                start_hash=halves.boundary,
            )
        out.send(verdict)
    finally:
        database.dispose()
        out.close()


def _counted(progress: Progress | None, size: int, pace: int = 1) -> Callable[[int], None] | None:
    """The stream's count of entries read, reported as (done, size); ``pace`` entries each."""
    if progress is None:
        return None
    return lambda done: progress(min(pace * done, size), size)


def _verify_halves(db: Database, halves: _Halves, progress: Progress | None) -> Verdict:
    size = halves.size
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_second_half, args=(db.url, halves, send, os.getpid()), daemon=True
    )
    child.start()
    send.close()
    # The halves run at the same pace: report this one's progress twice over.
    doubled = _counted(progress, size, pace=2)
    second: Verdict | None = None
    try:
        with db.engine.connect() as conn:
            first = verify_chain(
                ledger_store.stream(conn, upto=halves.split, progress=doubled),
                expected_size=halves.split,
                expected_head=halves.boundary,
            )
        if first.failure is not None:
            return first
        second = receive.recv()
    except (EOFError, OSError):
        pass
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receive.close()
    if second is None:  # the helper died: fall back to one pass rather than guess
        with db.engine.connect() as conn:
            return verify_chain(
                ledger_store.stream(conn, upto=size, progress=_counted(progress, size)),
                expected_size=size,
                expected_head=halves.head,
            )
    return Verdict(first.entries + second.entries, second.head, second.failure)


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
