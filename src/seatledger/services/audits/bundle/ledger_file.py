"""ledger.jsonl, written by a helper process while the bundle's other files are made.

A bundle discloses only the entries in the audit's scope (see :mod:`.disclosure`), but the
organization's key must not vouch for a ledger its own ``ledger verify`` calls broken, so the
helper streams every entry 1..size (unless a recent whole check covers them, below) and checks
the chain as it goes: sequence numbers
without a gap, each entry's stored previous hash equal to the entry before it, each entry's hash
recomputed from its exact body bytes (about a microsecond an entry), its indexed columns (which
decide what is disclosed) equal to the body's, the last hash equal to the head.  It also
rebuilds the Merkle tree's root from the entries' hashes, which must equal the root recorded with
the head, since the vendor checks the disclosed entries against that root.

Within :data:`~.model.SEAL_DAYS` of such a whole check (recorded with the signed export that made
it, see :class:`~.model.Seal`), an export rests on it instead: the helper checks the entries
written since, every block of 32 entries before it that holds a disclosed entry (whole: links,
content hashes, indexed columns, the block's stored root), and that the stored tree still gives
the sealed checkpoint's head and root.  What the vendor is shown is checked either way; an entry
it is not shown, edited since the whole check, is left to ``ledger verify`` until the next one.

Each disclosed entry is one line: ``{"seq":N,"hash":H,"prev":P,"body":BODY}`` with BODY the
exact hashed bytes; an entry whose body names a person or another vendor (written before
personal fields were committed, see :mod:`seatledger.domain.redaction`) is withheld:
``{"seq":N,"hash":H,"withheld":REASON,"summary":{action, entity, ts}}``, proved by its hash alone.
The bundle writer compresses the file into the zip as it grows.  Where no helper process can be
started (a frozen build), a thread does the same.

The whole-ledger check is the export's longest piece of work, so the writer's process does the
rest meanwhile (the audit's scope check, then the bundle's tables); the helper plans what it
discloses itself (:func:`~.disclosure.plan`) before its check starts.  Messages to the writer:
``("progress", entries, bytes)``, ``("done", sha256_hex, bytes, withheld, disclosed)``,
``("failed", seq, problem, detail)``, ``("error", text)``.
"""

from __future__ import annotations

import binascii
import bisect
import dataclasses
import hashlib
import json
import multiprocessing
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seatledger.domain.ledger import (
    GENESIS_HASH,
    Failure,
    Problem,
    ScanRow,
    intact_batch,
    verify_chain,
)
from seatledger.domain.merkle import (
    BLOCK,
    StoredTree,
    block_roots,
    edge_of,
    leaf_hashes,
    multiproof,
)
from seatledger.domain.redaction import PhraseScanner
from seatledger.services.core.forking import can_fork, die_with_parent
from seatledger.services.ledger.scan import Reader, scan
from seatledger.store import ledger_scan

Message = tuple[Any, ...]


class _Stop(Exception):
    """The writer cancelled (thread mode)."""


@dataclass(frozen=True, slots=True)
class Job:
    """What to write: the database, the file, the checkpoint to verify against, the entries
    to disclose and the phrases that withhold an entry's content."""

    url: str
    path: str
    size: int
    head: str  # hex
    root: str  # hex
    disclose: list[int]  # ascending seqs
    phrases: list[str]  # besides those of ``vendor_id``'s bundle, read here
    proof_path: str = ""  # where to write the multiproof of the disclosed entries and the head
    vendor_id: int | None = None  # the audited vendor: the phrases of its bundle are read here
    # An earlier export's check of the whole ledger up to sealed_size (see model.Seal): entries
    # after it are checked whole, those before it only in the blocks that disclose entries.
    sealed_size: int = 0
    sealed_head: str = ""  # hex
    sealed_root: str = ""  # hex
    # With ``product_ids`` (and ``vendor_id``), the helper plans the disclosure itself (see
    # :func:`~.disclosure.plan`: ``disclose`` and the server names in ``phrases`` are added to
    # what is given), so the writer's process goes on to its own work at once.
    product_ids: list[int] | None = None
    audit_id: int = 0
    topology: bool = False


# ASCII text's words (runs of letters, digits and underscores, as ``\w+`` matches them in ASCII
# text), lower-cased as casefold() does ASCII: every other byte a space.
_ASCII_WORDS = bytes(
    c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 or c == 95 else 32
    for c in range(256)
)
# The first word of each NUL-separated phrase, as PhraseScanner splits them.
_FIRST_WORDS = re.compile(r"(?:^|\x00)[^\w\x00]*(\w+)")


def first_words(phrases: Sequence[str]) -> set[bytes]:
    """The words any of ``phrases`` begins with, casefolded, as UTF-8: a body none of whose
    words is one contains none of the phrases (:class:`~seatledger.domain.redaction.
    PhraseScanner` looks for a phrase only where its first word is)."""
    return {w.encode() for w in _FIRST_WORDS.findall("\x00".join(phrases).casefold())}


def may_name(starts: set[bytes], body: bytes) -> bool:
    """Whether ``body`` may contain a phrase beginning with one of ``starts`` (False: it
    cannot).  ASCII bodies, nearly all, are split into words in a C pass over their bytes
    (what ``words()`` makes of them, without decoding, casefolding or a regular expression);
    any other body may."""
    return not body.isascii() or not starts.isdisjoint(body.translate(_ASCII_WORDS).split())


WITHHELD = "its content names a person, another vendor or a server; only its hash is disclosed"


def produce(job: Job, send: Callable[[Message], None]) -> None:
    """Write ledger.jsonl for ``job``, reporting through ``send``."""
    from seatledger.store.db import Database  # noqa: PLC0415 (a fresh helper imports it here)

    database, _ = Database.open(job.url, create=False, upgrade=False)
    try:
        _write(database, job, send)
    except _Stop:
        pass
    except Exception as exc:  # reported to the writer, which raises it
        send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        database.dispose()


def _write(database: Any, job: Job, send: Callable[[Message], None]) -> None:
    """Check the whole chain as ``ledger verify`` does (:func:`~seatledger.services.ledger.scan.
    scan`: links, hashes, indexed columns, the head and every stored block root, in C loops a
    batch at a time) while writing the disclosed entries, then the right edge against the root
    recorded with the head, and only then the multiproof of the disclosed entries."""
    vendor_id = job.vendor_id
    if vendor_id is not None:
        from seatledger.services.audits.bundle.disclosure import phrases, plan  # noqa: PLC0415
        from seatledger.services.core.context import Context  # noqa: PLC0415

        with Context.reader(database).read() as session:
            if job.product_ids is not None:
                planned = plan(
                    session,
                    vendor_id=vendor_id,
                    product_ids=job.product_ids,
                    audit_id=job.audit_id,
                    size=job.size,
                    topology=job.topology,
                )
                job = dataclasses.replace(
                    job,
                    disclose=sorted(set(job.disclose) | set(planned.seqs)),
                    phrases=job.phrases + planned.phrases,
                )
            job = dataclasses.replace(job, phrases=job.phrases + phrases(session, vendor_id))
    out = _Disclosed(job)
    with database.engine.connect() as conn, open(job.path, "wb") as handle:
        out.handle = handle
        raw = conn.connection.driver_connection

        def end() -> None:
            # The driver began this transaction (psycopg does so on any query): end it too.
            raw.rollback()
            conn.rollback()

        blocks = job.size // BLOCK
        stored = ledger_scan.block_roots(raw, database.dialect, 0, blocks)
        end()
        reader = Reader(raw, database.dialect, end)

        def flush(done: int) -> None:
            out.flush()
            send(("progress", done, out.written))

        after, start_hash = 0, GENESIS_HASH
        if job.sealed_size:
            sealed = _sealed(reader, job, stored, out)
            if isinstance(sealed, Failure):
                send(("failed", sealed.seq, sealed.problem.name, sealed.detail))
                return
            after, start_hash = sealed
        part = scan(
            reader,
            after=after,
            upto=job.size,
            start_hash=start_hash,
            expected_head=bytes.fromhex(job.head),
            stored=stored,
            progress=lambda done: flush(after + done),
            seen=out.take,
        )
        out.flush()
    failure = part.verdict.failure
    if failure is not None:
        send(("failed", failure.seq, failure.problem.name, failure.detail))
        return
    if part.differs is not None:
        first = part.differs * BLOCK + 1
        detail = (
            "the stored Merkle tree does not give the root recorded with the head (the stored "
            f"root of entries {first}-{first + BLOCK - 1} differs)"
        )
        send(("failed", first, Problem.TREE.name, detail))
        return
    roots = [stored.get(index, b"") for index in range(blocks)]
    if edge_of(roots, part.tail).root().hex() != job.root:
        detail = "the Merkle root recorded with the head is not the root of the entries"
        send(("failed", job.size, Problem.TREE.name, detail))
        return
    if job.proof_path:
        # Every block root was just recomputed from its entries: proofs from them are sound.
        tree = StoredTree(job.size, roots, out.block_leaves)
        indexes = sorted({seq - 1 for seq in job.disclose} | {job.size - 1})
        with open(job.proof_path, "wb") as proof:
            proof.write(b"".join(multiproof(tree, indexes)) if job.size else b"")
    send(("done", out.digest.hexdigest(), out.written, out.withheld, len(job.disclose)))


def _sealed(
    reader: Reader, job: Job, stored: dict[int, bytes], out: _Disclosed
) -> tuple[int, bytes] | Failure:
    """Check what an export resting on an earlier whole check must before the seal: each
    disclosed entry as a plain pass checks it (its hash recomputed from its body and stored
    previous hash, its indexed columns), the blocks holding them (their stored hashes give the
    stored block root), and that the stored tree still gives the sealed head and root.  Writes
    those entries; returns where the whole check of the newer entries starts (a block boundary)
    and the hash stored before it."""
    raw, dialect = reader.raw, reader.dialect
    size = job.sealed_size
    start = size - size % BLOCK  # the newer entries are checked from this block on
    early = job.disclose[: bisect.bisect_right(job.disclose, start)]
    rows = ledger_scan.rows_at(raw, dialect, early)
    reader.end()
    for seq in early:
        row = rows.get(seq)
        if row is None or intact_batch([row], seq, row[1]) is None:
            return _named(reader, seq, row)
    blocks = sorted({(seq - 1) // BLOCK for seq in early})
    kept = ledger_scan.block_hashes(raw, dialect, blocks, BLOCK)
    edge = ledger_scan.hashes_at(raw, dialect, [seq for seq in range(start, size + 1) if seq])
    reader.end()
    for block in blocks:
        if len(kept.get(block, ())) != BLOCK:
            first = block * BLOCK + 1
            return Failure(
                first, Problem.MISSING, f"an entry of {first}-{first + BLOCK - 1} is missing"
            )
    leaves = leaf_hashes(digest for block in blocks for digest in kept[block])
    for n, (block, root) in enumerate(zip(blocks, block_roots(leaves), strict=True)):
        if root != stored.get(block):
            first = block * BLOCK + 1
            detail = f"the stored root of entries {first}-{first + BLOCK - 1} differs"
            return Failure(first, Problem.TREE, detail)
        out.blocks[block] = b"".join(leaves[n * BLOCK : (n + 1) * BLOCK])
    for seq in early:
        out.line(seq, rows[seq])
    out.at = len(early)
    # The sealed checkpoint, as the stored tree gives it now: unchanged, or the seal is void.
    edge[0] = GENESIS_HASH
    roots = [stored.get(index, b"") for index in range(start // BLOCK)]
    tail = [edge.get(seq, b"") for seq in range(start + 1, size + 1)]
    if (
        edge.get(size) != bytes.fromhex(job.sealed_head)
        or edge_of(roots, leaf_hashes(tail)).root().hex() != job.sealed_root
    ):
        detail = "the stored tree no longer gives the checkpoint the last whole check sealed"
        return Failure(size, Problem.TREE, detail)
    return start, edge[start]


def _named(reader: Reader, seq: int, row: ScanRow | None) -> Failure:
    """What is wrong with entry ``seq``, named as a plain pass names it."""
    if row is None:
        return Failure(seq, Problem.MISSING, "a disclosed entry before the seal is missing")
    entries = list(
        ledger_scan.entries(
            reader.raw, reader.dialect, after=seq - 1, upto=seq, size=1, end=reader.end
        )
    )
    verdict = verify_chain(entries, expected_size=seq, start_seq=seq, start_hash=bytes(row[1]))
    if verdict.failure is not None:
        return verdict.failure
    return Failure(seq, Problem.EDITED, "its stored columns cannot be read as written")


class _Disclosed:
    """The entries streaming past the chain check: the disclosed ones go into ledger.jsonl (an
    entry is written before its batch's check ends, but a failed check discards the whole
    file), and the leaf hashes of the blocks holding them are kept for the proof."""

    def __init__(self, job: Job) -> None:
        self.scanner = PhraseScanner(job.phrases)
        self.starts = first_words(job.phrases)
        self.disclose = job.disclose
        self.at = 0  # the next of ``disclose`` to write
        self.size = job.size
        self.blocks: dict[int, bytes] = {}  # leaf hashes of the blocks proofs reach into
        self.lines: list[bytes] = []
        self.digest = hashlib.sha256()
        self.written = 0
        self.withheld = 0
        self.handle: Any = None

    def take(self, first: int, rows: Sequence[Sequence[bytes]], leaves: Sequence[bytes]) -> None:
        """One verified batch: entries ``first``... as (body, previous hash, hash, ...), and
        their leaf hashes."""
        last = first + len(rows) - 1
        wanted = self.disclose
        start = self.at
        stop = bisect.bisect_right(wanted, last, start)
        self.at = stop
        touched = {(seq - 1) // BLOCK for seq in wanted[start:stop]}
        if first <= self.size <= last:
            touched.add((self.size - 1) // BLOCK)  # the head's path is always proved
        if touched:
            for block in touched:
                offset = block * BLOCK - (first - 1)
                self.blocks[block] = b"".join(leaves[offset : offset + BLOCK])
        for seq in wanted[start:stop]:
            self.line(seq, rows[seq - first])

    def line(self, seq: int, row: Sequence[bytes]) -> None:
        """Entry ``seq``'s line (its body, previous hash and hash first in ``row``), or its hash
        alone where its body names someone or something the bundle withholds."""
        body, prev, digest = row[:3]
        body = bytes(body)
        if (
            not may_name(self.starts, body)
            or self.scanner.find(body.decode("utf-8", "replace")) is None
        ):
            hexlify = binascii.hexlify
            self.lines.append(
                b'{"seq":%d,"hash":"%s","prev":"%s","body":%s}\n'
                % (seq, hexlify(digest), hexlify(prev), body)
            )
        else:
            self.withheld += 1
            self.lines.append(_withheld(seq, bytes(digest), body))

    def block_leaves(self, index: int) -> list[bytes]:
        """The leaf hashes of block ``index`` (one of the blocks kept)."""
        data = self.blocks[index]
        return [data[n : n + 32] for n in range(0, len(data), 32)]

    def flush(self) -> None:
        """Write what is waiting (after each batch: the writer tails the file)."""
        data = b"".join(self.lines)
        self.lines.clear()
        if data:
            self.handle.write(data)
            self.handle.flush()  # the writer reads what is written, from its own handle
            self.digest.update(data)
            self.written += len(data)


def _withheld(seq: int, digest: bytes, body: bytes) -> bytes:
    """The line of an entry disclosed by its hash alone, with what it did but not to whom."""
    try:
        value = json.loads(body)
        summary = {key: value.get(key) for key in ("action", "entity", "entity_id", "ts")}
    except (ValueError, AttributeError):
        summary = {}
    line = {"seq": seq, "hash": digest.hex(), "withheld": WITHHELD, "summary": summary}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _process_main(job: Job, connection: Any, parent: int) -> None:
    die_with_parent(parent)
    try:
        produce(job, connection.send)
    finally:
        connection.close()


def subprocess_main() -> None:
    """Entry point of a helper started as ``python -c`` (the job as JSON on stdin).

    Messages go to stdout as JSON lines.  A fresh interpreter is safe beside any threads, and
    unlike multiprocessing's spawn it never re-runs the parent's main script.
    """
    die_with_parent()
    job = Job(**json.loads(sys.stdin.read()))
    out = sys.stdout

    def send(message: Message) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    produce(job, send)


_SUBPROCESS = (
    "from seatledger.services.audits.bundle.ledger_file import subprocess_main; subprocess_main()"
)


class Producer:
    """The helper writing ledger.jsonl: a forked process where this one may fork, else a fresh
    interpreter, else (a frozen build) a thread."""

    def __init__(self, job: Job) -> None:
        self._process: Any = None
        self._popen: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        if can_fork():
            context: Any = multiprocessing.get_context("fork")
            self._receive, sender = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_process_main,
                args=(job, sender, os.getpid()),
                name="bundle-ledger",
                daemon=True,
            )
            self._process.start()
            sender.close()
        elif not getattr(sys, "frozen", False):
            # Forking beside threads can deadlock; a fresh interpreter is safe anywhere.
            self._popen = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [sys.executable, "-c", _SUBPROCESS],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": _package_root()},
            )
            assert self._popen.stdin is not None
            self._popen.stdin.write(json.dumps(dataclasses.asdict(job)))
            self._popen.stdin.close()
        else:
            self._queue: queue.Queue[Message] = queue.Queue()

            def send(message: Message) -> None:
                if self._stop.is_set():
                    raise _Stop
                self._queue.put(message)

            self._thread = threading.Thread(
                target=produce, args=(job, send), name="bundle-ledger", daemon=True
            )
            self._thread.start()

    def receive(self) -> Message:
        """The next message (an error message if the helper died without a word)."""
        if self._thread is not None:
            return self._queue.get()
        if self._popen is not None:
            assert self._popen.stdout is not None
            line = self._popen.stdout.readline()
            if not line:
                return ("error", "the ledger helper process stopped unexpectedly")
            return tuple(json.loads(line))
        try:
            message: Message = self._receive.recv()
        except (EOFError, OSError):
            return ("error", "the ledger helper process stopped unexpectedly")
        return message

    def stop(self) -> None:
        """End the helper (cancelled, or finished) and release it."""
        self._stop.set()
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._receive.close()
        elif self._popen is not None:
            if self._popen.poll() is None:
                self._popen.terminate()
            self._popen.wait()
            if self._popen.stdout is not None:
                self._popen.stdout.close()
        elif self._thread is not None:
            self._thread.join()


def _package_root() -> str:
    """The folder holding the seatledger package, first on the helper's import path."""
    root = str(Path(__file__).resolve().parents[4])
    existing = os.environ.get("PYTHONPATH", "")
    return root + (os.pathsep + existing if existing else "")
