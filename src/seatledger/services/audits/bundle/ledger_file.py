"""ledger.jsonl, written by a helper process while the bundle's other files are made.

A bundle discloses only the entries in the audit's scope (see :mod:`.disclosure`), but the
organization's key must never vouch for a ledger its own ``ledger verify`` calls broken, so the
helper still streams every entry 1..size and checks the chain as it goes: sequence numbers
without a gap, each entry's stored previous hash equal to the entry before it, each entry's hash
recomputed from its exact body bytes (about a microsecond an entry), its indexed columns (which
decide what is disclosed) equal to the body's, the last hash equal to the head.  It also
rebuilds the Merkle tree's root from the entries' hashes, which must equal the root recorded with
the head, since the vendor checks the disclosed entries against that root.

Each disclosed entry is one line: ``{"seq":N,"hash":H,"prev":P,"body":BODY}`` with BODY the
exact hashed bytes; an entry whose body names a person or another vendor (written before
personal fields were committed, see :mod:`seatledger.domain.redaction`) is withheld:
``{"seq":N,"hash":H,"withheld":REASON,"summary":{action, entity, ts}}``, proved by its hash alone.
The bundle writer compresses the file into the zip as it grows.  Where no helper process can be
started (a frozen build), a thread does the same.

Messages to the writer: ``("progress", entries, bytes)``,
``("done", sha256_hex, bytes, withheld)``, ``("failed", seq, problem, detail)``,
``("error", text)``.
"""

from __future__ import annotations

import binascii
import dataclasses
import hashlib
import json
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seatledger.domain.ledger import GENESIS_HASH, Problem, column_prefix, entry_hash
from seatledger.domain.merkle import Frontier, leaf_hash
from seatledger.domain.redaction import PhraseScanner
from seatledger.services.core.forking import can_fork, die_with_parent

BATCH = 20_000
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
    phrases: list[str]


WITHHELD = "its content names a person or another vendor; only its hash is disclosed"


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
    hexlify = binascii.hexlify
    digest_of_file = hashlib.sha256()
    prev = GENESIS_HASH
    expected = 1
    written = 0
    withheld = 0
    edge = Frontier()
    scanner = PhraseScanner(job.phrases)
    disclose = iter(job.disclose)
    wanted = next(disclose, 0)
    with database.engine.connect() as conn, open(job.path, "wb") as handle:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        sql = (
            "SELECT seq, body, prev_hash, hash, ts, operator, action, entity_type, entity_id "
            f"FROM ledger_entry WHERE seq > {mark} AND seq <= {mark} ORDER BY seq LIMIT {mark}"
        )
        raw = conn.connection.driver_connection
        while expected <= job.size:
            cursor = raw.cursor()
            try:
                cursor.execute(sql, (expected - 1, job.size, BATCH))
                rows = cursor.fetchall()
            finally:
                cursor.close()
            raw.rollback()  # no read transaction held across batches (see ledger_store.stream)
            conn.rollback()
            if not rows:
                break
            lines = []
            for seq, body, linked, digest, ts, operator, action, entity_type, entity_id in rows:
                if seq != expected:
                    problem = Problem.MISSING if seq > expected else Problem.REORDERED
                    send(("failed", expected, problem.name, f"found entry {seq}"))
                    return
                if linked != prev:
                    detail = "its previous-hash is not the hash before it"
                    send(("failed", seq, Problem.REORDERED.name, detail))
                    return
                if entry_hash(seq, prev, bytes(body)) != bytes(digest):
                    send(("failed", seq, Problem.EDITED.name, "its body was changed"))
                    return
                # The columns decide which entries are disclosed: one relabelled to another
                # entity would slip out of (or into) the vendor's scope.
                prefix = column_prefix(
                    seq, ts, operator, action, entity_type=entity_type, entity_id=entity_id
                )
                if not bytes(body).startswith(prefix):
                    send(("failed", seq, Problem.COLUMNS.name, ""))
                    return
                edge.append(leaf_hash(bytes(digest)))
                if seq == wanted:
                    if scanner.find(bytes(body).decode("utf-8", "replace")) is None:
                        lines.append(
                            b'{"seq":%d,"hash":"%s","prev":"%s","body":%s}\n'
                            % (seq, hexlify(digest), hexlify(prev), body)
                        )
                    else:
                        withheld += 1
                        lines.append(_withheld(seq, bytes(digest), bytes(body)))
                    wanted = next(disclose, 0)
                prev = digest
                expected += 1
            data = b"".join(lines)
            handle.write(data)
            handle.flush()  # the writer reads what is written, from its own handle
            digest_of_file.update(data)
            written += len(data)
            send(("progress", expected - 1, written))
    if expected - 1 < job.size:
        detail = f"{expected - 1} entries present, {job.size} recorded"
        send(("failed", expected, Problem.TRUNCATED.name, detail))
    elif bytes(prev).hex() != job.head:
        send(("failed", expected - 1, Problem.EDITED.name, "the last hash differs from the head"))
    elif edge.root().hex() != job.root:
        detail = "the Merkle root recorded with the head is not the root of the entries"
        send(("failed", expected - 1, Problem.TREE.name, detail))
    else:
        send(("done", digest_of_file.hexdigest(), written, withheld))


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
