"""SeatLedger benchmarks on the large demo, each figure beside a raw baseline from the same run.

Usage: ``python bench/run.py [--size large|xlarge] [--rebuild] [--samples N] [--only NAME]...
[--repeat N]`` (``make bench``; ``make bench BENCH_ARGS="--only import --repeat 3"`` for one
figure; ``make bench BENCH_ARGS="--size xlarge"`` for the extra-large demo's build, verification,
page figures (``bench/scale.py``) and a typical vendor's bundle from its 10M entries, exported
whole and then resting on that whole check (``bench/audit.py``)).

The large demo is built once into ``bench/.cache/large.sqlite``; its build time and what it
was built with are kept in ``bench/.cache/large.json`` so later runs print them (and rebuild when
the schema, the demo builder or the ledger body format changed).  Figures that write work on a
copy, so the cached database stays as built.  Machines are shared and noisy (PERF.md): read the
ratios to the baselines, not the absolute times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
LARGE = CACHE / "large.sqlite"
RECORD = CACHE / "large.json"
WORK = CACHE / "work.sqlite"  # a copy the writing figures may change
SEED = 2026
CHUNK = 50_000
RAW_TABLES = ("ledger_entry", "seat_assignment", "person", "device")
FIGURES = ("build", "assign", "verify", "reconcile", "import", "gui")  # for --only
FIGURES += ("charts", "dashboard", "audit")  # bench/charts.py, dashboard.py, audit.py
FIGURES += ("debuglog",)  # bench/debuglog.py
FIGURES += ("state",)  # the rows compared with the ledger, beside the chain check
FIGURES += ("scale",)  # bench/scale.py: the Activity page and the licenses table, read only
FIGURES += ("frozen",)  # bench/frozen.py: `make package`'s program beside the source install
FIGURES += ("bundle",)  # bench/audit.py: a typical vendor's bundle, whole and after a whole check
SIZE = "large"  # the demo the figures run on (--size); xlarge runs XLARGE_FIGURES by default
XLARGE_FIGURES = ("build", "verify", "scale", "dashboard", "bundle")
WRITING = ("assign", "import", "gui", "audit")  # figures that need the work copy (and dashboard's
# seat assignments, on the large demo only: at xlarge it reads, a copy would be 13 GB)
WRITING += ("frozen",)  # signs in to the demo, as the start-up figure does
WRITING += ("bundle",)  # creates the signing identity


@dataclass
class Row:
    """One line of the result table."""

    figure: str
    measured: str
    baseline: str
    ratio: str
    budget: str
    # Whether the figure meets its goal (issue 20); None: not judged by the code that made the row.
    met: bool | None = None

    def goal_text(self) -> str:
        """The goal column: met, NOT met, or blank when not judged."""
        return "" if self.met is None else ("met" if self.met else "NOT met")


# ------------------------------------------------------------------------------------ helpers


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _ratio(measured: float, baseline: float) -> str:
    return f"{measured / baseline:.1f}x" if baseline > 0 else "-"


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _fingerprint() -> dict[str, str]:
    """What the cached demo depends on: a change in any of these rebuilds it."""
    from seatledger.demo import builder as demo
    from seatledger.domain.ledger import entry_hash, make_body
    from seatledger.store.db import head_revision

    sample = make_body(
        seq=1,
        ts="2026-01-01T00:00:00.000000Z",
        operator="admin",
        role="administrator",
        action="seat.assign",
        entity_type="entitlement",
        entity_id="1",
        reason="",
        before={"seats_used": 0},
        after={"seats_used": 1, "quantity": 1, "assignments": [1], "units": 1, "people": [1]},
    )
    from seatledger.demo import inventory as demo_inventory
    from seatledger.services.core import snapshots
    from seatledger.services.directory import service as directory
    from seatledger.services.seats import service as seats

    # The demo's entries come from the services' own builders: a change there rebuilds it too.
    modules = (demo, demo_inventory, snapshots, seats, directory)
    builder = b"".join(Path(str(module.__file__)).read_bytes() for module in modules)
    return {
        "schema": head_revision(),
        "builder": hashlib.sha256(builder).hexdigest()[:16],
        "body_format": entry_hash(1, bytes(32), sample).hex()[:16],
    }


# -------------------------------------------------------------------------------- the build


def _build() -> dict[str, Any]:
    """Build the large demo into the cache and record how long it took."""
    from seatledger.demo.builder import build_demo
    from seatledger.progress import Reporter

    _remove_db(LARGE)
    CACHE.mkdir(parents=True, exist_ok=True)
    progress = Reporter(stage=lambda stage: _say(f"  {stage} ..."))

    _say(f"Building the {SIZE} demo into {LARGE} (once; --rebuild forces it) ...")
    started = time.perf_counter()
    summary = build_demo(str(LARGE), SIZE, seed=SEED, progress=progress)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
    record = {
        "seconds": round(seconds, 1),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "summary": summary,
        "max_rss_mib": round(own.ru_maxrss / 1024),
        "worker_max_rss_mib": round(worker.ru_maxrss / 1024),
        "fingerprint": _fingerprint(),
    }
    RECORD.write_text(json.dumps(record, indent=2) + "\n")
    _say(f"  built in {seconds:.1f} s: {summary}")
    return record


def _cached_or_built(rebuild: bool) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if RECORD.exists():
        record = json.loads(RECORD.read_text())
    reason = ""
    if rebuild:
        reason = "--rebuild"
    elif not LARGE.exists() or not record:
        reason = "no cached demo"
    elif record.get("fingerprint") != _fingerprint():
        reason = "the schema, the builder or the ledger body format changed"
    if reason:
        _say(f"({reason})")
        return _build()
    return record


# -------------------------------------------------------------------- raw executemany limit


def _synthetic_rows(
    table: str, count: int, widths: dict[str, int]
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows shaped like the demo's (same columns, about the same bytes), in chunks."""
    body = b"x" * widths.get("body", 300)
    digest = bytes(range(32))
    for start in range(1, count + 1, CHUNK):
        ids = range(start, min(start + CHUNK, count + 1))
        if table == "ledger_entry":
            yield [
                (
                    i,
                    f"2026-01-01T10:00:00.{i % 1_000_000:06d}Z",
                    "manager",
                    "seat.assign",
                    "entitlement",
                    str(i % 8000),
                    body,
                    digest,
                    digest,
                )
                for i in ids
            ]
        elif table == "seat_assignment":
            yield [
                (
                    i,
                    i % 8000 + 1,
                    i % 50_000 + 1,
                    None,
                    1,
                    "2026-01-01 10:00:00.000000",
                    None,
                    2,
                    None,
                    0,
                    "",
                    "",
                )
                for i in ids
            ]
        elif table == "person":
            yield [
                (
                    i,
                    f"E{i:06d}",
                    "Firstname Lastname",
                    f"first.last{i}@fabrikam.example",
                    i % 100,
                    "active",
                    None,
                    1,
                )
                for i in ids
            ]
        else:
            yield [
                (
                    i,
                    f"LT-AMS-{i:06d}",
                    "ABCD123",
                    i % 50_000 + 1,
                    1,
                    8,
                    "Windows 11 Enterprise",
                    "2026-11-27",
                )
                for i in ids
            ]


def _raw_build_baseline() -> tuple[float, int]:
    """Raw sqlite3 executemany of as many rows as the demo's big tables hold, one transaction.

    Same tables (their CREATE TABLE statements, without the secondary indexes), same row
    counts, rows of about the same width, WAL and synchronous=OFF as the demo build uses.
    Only executemany and the commit are timed.
    """
    source = sqlite3.connect(f"file:{LARGE}?mode=ro", uri=True)
    try:
        plan = []
        for table in RAW_TABLES:
            (ddl,) = source.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            (count,) = source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
            widths = {}
            if table == "ledger_entry":
                (avg,) = source.execute(
                    "SELECT AVG(LENGTH(body)) FROM (SELECT body FROM ledger_entry LIMIT 100000)"
                ).fetchone()
                widths["body"] = round(avg)
            plan.append((table, ddl, count, widths))
    finally:
        source.close()
    path = CACHE / "raw.sqlite"
    _remove_db(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        for _, ddl, _, _ in plan:
            conn.execute(ddl)
        elapsed, rows = 0.0, 0
        conn.execute("BEGIN")
        for table, _, count, widths in plan:
            columns = len(conn.execute(f"SELECT * FROM {table} LIMIT 0").description)
            sql = f"INSERT INTO {table} VALUES ({', '.join('?' * columns)})"
            for rows_made in _synthetic_rows(table, count, widths):
                # Columns added since these rows were written (a hire date, a processor model)
                # are left empty, as the demo leaves them for most rows.
                pad = (None,) * (columns - len(rows_made[0])) if rows_made else ()
                chunk = [row + pad for row in rows_made] if pad else rows_made
                started = time.perf_counter()
                conn.executemany(sql, chunk)
                elapsed += time.perf_counter() - started
                rows += len(chunk)
        started = time.perf_counter()
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - started
    finally:
        conn.close()
        _remove_db(path)
    return elapsed, rows


# ------------------------------------------------------------------------- seat assignment


# Licenses a person can get a seat of today, with room to spare; people without one yet.
_OPEN_LICENSES = """
    SELECT id FROM entitlement
    WHERE metric IN ('named_user', 'user_subscription', 'concurrent') AND NOT retired
      AND quantity - seats_used >= 20
      AND (term_start IS NULL OR term_start <= :today) AND (term_end IS NULL OR term_end >= :today)
    ORDER BY id LIMIT 60
"""
_FREE_PEOPLE = """
    SELECT id FROM person
    WHERE status = 'active' AND id NOT IN (
        SELECT person_id FROM seat_assignment
        WHERE entitlement_id = :e AND ended_at IS NULL AND person_id IS NOT NULL)
    ORDER BY id LIMIT 5
"""


def _assign_p95(samples: int) -> tuple[float, int]:
    """p95 of Services.seats.assign (with its ledger entry, committed) on a copy of the demo."""
    from sqlalchemy import text

    from seatledger.errors import KnownError
    from seatledger.services.operators.accounts import sign_in
    from seatledger.services.operators.session import Services
    from seatledger.store.db import Database

    # The copy was just written: flush it first, or its writeback (1.4 GB) lands on these
    # commits' fsyncs and not on the raw baseline's, measured after them.
    fd = os.open(WORK, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    db, _ = Database.open(WORK, create=False)
    try:
        services = Services.for_actor(db, sign_in(db, "manager", "demo"))
        today = dt.date.today().isoformat()
        with db.engine.connect() as conn:
            licenses = conn.execute(text(_OPEN_LICENSES), {"today": today}).scalars().all()
            targets = []
            for license_id in licenses:
                people = conn.execute(text(_FREE_PEOPLE), {"e": license_id}).scalars().all()
                targets += [(license_id, person) for person in people]
        times = []
        for license_id, person in targets[: samples + 10]:
            started = time.perf_counter()
            try:
                services.seats.assign(license_id, people=[person], reason="benchmark")
            except KnownError:
                continue
            times.append(time.perf_counter() - started)
        times = times[10:]  # the first ones warm the caches and the connection pool
    finally:
        db.dispose()
    return _p95(times), len(times)


def _raw_commit_p95(samples: int) -> float:
    """p95 of a raw sqlite3 single-row INSERT + COMMIT, WAL and synchronous=FULL."""
    path = CACHE / "commit.sqlite"
    _remove_db(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)")
        times = []
        for n in range(samples + 10):
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (a, b) VALUES (?, ?)", (n, "2026-01-01 10:00:00.000000"))
            conn.execute("COMMIT")
            times.append(time.perf_counter() - started)
    finally:
        conn.close()
        _remove_db(path)
    return _p95(times[10:])


# ---------------------------------------------------------------------------- verification


def _raw_chain_rate() -> tuple[float, float]:
    """Entries/s of plain SHA-256 chained over each entry's seq and body, streamed in batches of
    20,000 from SQLite (the floor any verification of the same bytes stands on), and its CPU s."""
    conn = sqlite3.connect(f"file:{LARGE}?mode=ro", uri=True)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        tag, prev, count, after = b"seatledger/ledger/v1\x00", bytes(32), 0, 0
        sha256 = hashlib.sha256
        while True:
            rows = conn.execute(
                "SELECT seq, body FROM ledger_entry WHERE seq > ? ORDER BY seq LIMIT 20000",
                (after,),
            ).fetchall()
            if not rows:
                break
            for seq, body in rows:
                prev = sha256(tag + seq.to_bytes(8, "big") + prev + body).digest()
            count += len(rows)
            after = rows[-1][0]
        return count / (time.perf_counter() - started), time.process_time() - cpu
    finally:
        conn.close()


VERIFY_PATHS = {
    "forked helper": "a second process forked (the command line)",
    "started helper": "no fork: a thread is running, as in the window",
    "one process": "no helper at all (one core)",
}


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _verify_rate(path: str) -> tuple[float, float, int, str, tuple[float, float]]:
    """Entries/s of ledger.verify on one of VERIFY_PATHS and of the raw chain just before it,
    and the CPU seconds of each (the machine is shared: CPU time shows the work, not the wait)."""
    import threading

    from seatledger.services.ledger import verify as ledger
    from seatledger.store.db import Database

    raw_rate, raw_cpu = _raw_chain_rate()
    db, _ = Database.open(LARGE, create=False, upgrade=False)
    idle = threading.Event()
    thread = threading.Thread(target=idle.wait)  # a thread forbids forking (see can_fork)
    parallel_from = ledger.PARALLEL_FROM
    try:
        if path == "started helper":
            thread.start()
        if path == "one process":
            ledger.PARALLEL_FROM = 2**62
        if path == "forked helper" and not ledger.can_fork():
            _say("  (this process may not fork: the helper is started instead)")
        started, cpu = time.perf_counter(), _cpu_seconds()
        verdict = ledger.verify(db)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    finally:
        ledger.PARALLEL_FROM = parallel_from
        idle.set()
        if thread.is_alive():
            thread.join()
        db.dispose()
    problem = "" if verdict.ok else verdict.failure.message() if verdict.failure else "failed"
    return verdict.entries / seconds, raw_rate, verdict.entries, problem, (cpu, raw_cpu)


def _verify_rows() -> list[Row]:
    """Verification on each path, each beside the raw chain rate measured just before it."""
    rows = []
    for path, how in VERIFY_PATHS.items():
        _say(f"Verifying the ledger: {how} ...")
        rate, raw_rate, entries, problem, (cpu, raw_cpu) = _verify_rate(path)
        goal = ">= 0.8x raw" if path != "one process" else "(one core: shown, no goal)"
        if path != "one process":
            goal += " met" if rate >= 0.8 * raw_rate and not problem else " NOT MET"
        rows.append(
            Row(
                f"ledger verification, {entries:,} entries, {how}",
                f"{rate:,.0f} entries/s (CPU {cpu:.1f} s)"
                + (f" (FAILED: {problem})" if problem else ""),
                f"SHA-256 chain of the same bytes: {raw_rate:,.0f} entries/s (CPU {raw_cpu:.1f} s)",
                f"{rate / raw_rate:.2f}x raw",
                goal,
            )
        )
    return rows


# --------------------------------------------------------------------- import and reconcile

IMPORT_ROWS = 1_000_000
_CHILD = r"""
import json, resource, sys, time, datetime as dt
from pathlib import Path
what, db, extra = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
if what == "reconcile":
    from seatledger.store.db import Database
    from seatledger.services.core.context import Context
    from seatledger.services.position.engine import PositionScope, PositionService
    database, _ = Database.open(db, create=False, upgrade=False)
    scope = PositionScope(vendor_id=int(extra)) if extra else PositionScope()
    started = time.perf_counter()
    position = PositionService(Context.reader(database)).position(dt.date.today(), scope=scope)
    out["seconds"] = time.perf_counter() - started
    out["rows"] = len(position.rows)
    out["findings"] = len(position.findings)
    out["installs"] = position.facts["installs"]
    out["seats"] = position.facts["seats"]
elif what in ("chain", "state", "both"):
    from seatledger.store.db import Database
    from seatledger.services.ledger import state, verify
    database, _ = Database.open(db, create=False, upgrade=False)
    started = time.perf_counter()
    if what == "chain":
        ok = verify.verify(database).ok
    elif what == "state":
        report = state.verify_state(database)
        ok = report.ok
        out["rows"] = sum(report.rows.values())
        out["entries"] = report.entries
    else:
        verdict, report = state.check_ledger_and_state(database)
        ok = verdict.ok and report is not None and report.ok
    out["seconds"] = time.perf_counter() - started
    out["ok"] = ok
else:
    from seatledger.ingest.formats import Kind
    from seatledger.services.imports.options import ImportOptions
    from seatledger.services.operators.workspace import Workspace
    services = Workspace.open(db, create=False).sign_in("admin", "demo")
    started = time.perf_counter()
    preview = services.imports.preview(Path(extra), ImportOptions(Kind.INVENTORY))
    out["preview"] = time.perf_counter() - started
    started = time.perf_counter()
    result = services.imports.commit(
        Path(extra), ImportOptions(Kind.INVENTORY), expected_sha256=preview.facts.sha256
    )
    out["seconds"] = time.perf_counter() - started
    out["summary"] = result.summary()
# VmHWM, not ru_maxrss: Linux carries the parent's peak across fork and exec into ru_maxrss,
# so a child of a bench that built the demo would report the build's 875 MiB as its own.
try:
    status = Path("/proc/self/status").read_text()
    out["max_rss_mib"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
except (OSError, IndexError):
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _child(what: str, db: Path, extra: str = "") -> dict[str, Any]:
    """Run one figure in a fresh process, so its peak memory is its own."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, what, str(db), extra],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _state_rows() -> list[Row]:
    """The rows compared with the ledger (replay and comparison), beside the chain check of the
    same database in the same run, each in a process of its own (its peak memory its own)."""
    _say("Verifying the ledger, then the rows it accounts for ...")
    chain = _child("chain", LARGE)
    state = _child("state", LARGE)
    both = _child("both", LARGE)
    failed = "" if state["ok"] and chain["ok"] and both["ok"] else " (FAILED)"
    return [
        Row(
            f"state check, {state['rows']:,} rows against {state['entries']:,} entries",
            f"{state['seconds']:.1f} s, {state['max_rss_mib']:.0f} MiB{failed}",
            f"ledger verify (chain): {chain['seconds']:.1f} s, {chain['max_rss_mib']:.0f} MiB",
            _ratio(state["seconds"], chain["seconds"]),
            "<= 500 MB",
        ),
        Row(
            "chain and state in one pass (what signing an audit runs)",
            f"{both['seconds']:.1f} s, {both['max_rss_mib']:.0f} MiB",
            f"chain, then state: {chain['seconds'] + state['seconds']:.1f} s",
            _ratio(both["seconds"], chain["seconds"] + state["seconds"]),
            "",
        ),
    ]


def _inventory_file() -> Path:
    """An Intune discovered-apps export of IMPORT_ROWS installs on the demo's devices (cached).

    Most titles are ones the demo knows (mapped or not); one in fifty rows is a title never seen
    before, so the import also creates and normalizes titles.
    """
    import csv
    import random

    path = CACHE / f"inventory-{IMPORT_ROWS}.csv"
    if path.exists():
        return path
    conn = sqlite3.connect(f"file:{LARGE}?mode=ro", uri=True)
    try:
        hosts = [h for (h,) in conn.execute("SELECT hostname FROM device ORDER BY id")]
        titles = list(conn.execute("SELECT publisher, title, version FROM software_title"))
    finally:
        conn.close()
    rng = random.Random(SEED)
    news = [(f"Vendor {n % 97}", f"Utility {n}", f"{n % 7}.{n % 13}") for n in range(2000)]
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "DeviceName",
                "ApplicationName",
                "ApplicationPublisher",
                "ApplicationVersion",
                "Platform",
            ]
        )
        for n in range(IMPORT_ROWS):
            publisher, title, version = news[n % 2000] if n % 50 == 0 else rng.choice(titles)
            writer.writerow([hosts[n % len(hosts)], title, publisher, version, "Windows"])
    temporary.replace(path)
    return path


def _raw_install_baseline(rows: int) -> float:
    """Raw sqlite3 executemany of ``rows`` installs into the same table and indexes, one
    transaction, WAL and synchronous=FULL as the app writes."""
    source = sqlite3.connect(f"file:{LARGE}?mode=ro", uri=True)
    try:
        ddl = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'installation' AND sql IS NOT NULL "
                "ORDER BY type DESC"
            )
        ]
    finally:
        source.close()
    path = CACHE / "raw-installs.sqlite"
    _remove_db(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        for statement in ddl:
            conn.execute(statement)
        data = [
            (n % 100_000 + 1, n // 100_000 * 37 % 9000 + 1, "2026-11-28", None, None, 1)
            for n in range(rows)
        ]
        sql = (
            "INSERT INTO installation (device_id, title_id, first_seen, removed_on, install_date,"
            " import_id) VALUES (?, ?, ?, ?, ?, ?)"
        )
        conn.execute("PRAGMA foreign_keys = OFF")
        started = time.perf_counter()
        conn.execute("BEGIN")
        for start in range(0, rows, CHUNK):
            conn.executemany(sql, data[start : start + CHUNK])
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()
        _remove_db(path)


def _raw_read_baseline() -> float:
    """Reading every install's (title, device) pair with plain sqlite3: the floor of a
    reconciliation that looks at every install."""
    conn = sqlite3.connect(f"file:{LARGE}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        cursor = conn.execute("SELECT title_id, device_id FROM installation")
        while cursor.fetchmany(200_000):
            pass
        return time.perf_counter() - started
    finally:
        conn.close()


def _busiest_vendor() -> tuple[int, str, float]:
    """The vendor with the most seats, and a plain sqlite3 read of its installs' (title,
    device) pairs: the floor of a reconciliation of that vendor alone."""
    conn = sqlite3.connect(f"file:{LARGE}?mode=ro", uri=True)
    try:
        vendor_id, name = conn.execute(
            "SELECT v.id, v.name FROM seat_assignment s JOIN entitlement e ON e.id = "
            "s.entitlement_id JOIN product p ON p.id = e.product_id JOIN vendor v ON v.id = "
            "p.vendor_id GROUP BY v.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        started = time.perf_counter()
        cursor = conn.execute(
            "SELECT title_id, device_id FROM installation WHERE title_id IN (SELECT t.id FROM "
            "software_title t JOIN product p ON p.id = t.product_id WHERE p.vendor_id = ?)",
            (vendor_id,),
        )
        while cursor.fetchmany(200_000):
            pass
        return int(vendor_id), str(name), time.perf_counter() - started
    finally:
        conn.close()


def _reconcile_rows() -> list[Row]:
    _say("Reconciling the large demo ...")
    raw_read = _raw_read_baseline()
    found = _child("reconcile", LARGE)
    vendor_id, vendor, raw_vendor = _busiest_vendor()
    _say(f"Reconciling {vendor} alone ...")
    alone = _child("reconcile", LARGE, str(vendor_id))
    return [
        Row(
            f"reconcile: position + findings, {found['installs']:,} installed (product, device) "
            f"pairs, {found['seats']:,} seats",
            f"{found['seconds']:.1f} s, peak RSS {found['max_rss_mib']:.0f} MiB",
            f"plain sqlite3 read of every install: {raw_read:.1f} s",
            _ratio(found["seconds"], raw_read),
            "<= 2x raw, <= 500 MB",
        ),
        Row(
            f"reconcile of one vendor ({vendor}): {alone['rows']} rows, {alone['installs']:,} "
            f"installed pairs, {alone['seats']:,} seats",
            f"{alone['seconds']:.2f} s, peak RSS {alone['max_rss_mib']:.0f} MiB",
            f"plain sqlite3 read of its installs: {raw_vendor:.2f} s",
            _ratio(alone["seconds"], raw_vendor),
            "scoped: none of the rest read",
        ),
    ]


def _import_rows(repeat: int) -> list[Row]:
    """Import the same export into a copy of the demo, then into an emptied inventory.

    With ``repeat`` above one, each figure is measured that many times (on a fresh copy each
    time) beside its own raw baseline, and the run with the median ratio is shown.
    """
    _say(f"Writing a {IMPORT_ROWS:,}-row inventory export (once) ...")
    path = _inventory_file()
    runs = []
    for n in range(repeat):
        if n:
            _remove_db(WORK)
            shutil.copyfile(LARGE, WORK)
        _say(f"Importing {IMPORT_ROWS:,} installs into a copy of the large demo ...")
        into_demo = _child("import", WORK, str(path))
        conn = sqlite3.connect(WORK)
        try:  # the same file again, into an empty inventory (bench set-up, not a service)
            conn.execute("DELETE FROM installation")
            conn.execute("DELETE FROM import_batch WHERE kind = 'inventory'")
            conn.commit()
        finally:
            conn.close()
        into_empty = _child("import", WORK, str(path))
        raw = _raw_install_baseline(IMPORT_ROWS)
        _say(
            f"  into the demo {into_demo['seconds']:.1f} s, into an empty inventory "
            f"{into_empty['seconds']:.1f} s, raw {raw:.1f} s: {raw / into_empty['seconds']:.0%}"
        )
        runs.append((raw / into_empty["seconds"], into_demo, into_empty, raw))
    runs.sort(key=lambda run: run[0])
    _, into_demo, into_empty, raw = runs[len(runs) // 2]
    of = f", median ratio of {repeat} runs" if repeat > 1 else ""
    return [
        Row(
            f"import {IMPORT_ROWS:,} inventory rows (CSV), into an empty inventory{of}",
            f"{into_empty['seconds']:.1f} s (+ preview {into_empty['preview']:.1f} s), "
            f"peak RSS {into_empty['max_rss_mib']:.0f} MiB",
            f"raw executemany of {IMPORT_ROWS:,} installs, same indexes: {raw:.1f} s",
            f"{raw / into_empty['seconds']:.0%} of raw speed",
            ">= 50 % of raw speed",
        ),
        Row(
            f"import {IMPORT_ROWS:,} inventory rows, upserted into the demo's installs",
            f"{into_demo['seconds']:.1f} s (+ preview {into_demo['preview']:.1f} s), "
            f"peak RSS {into_demo['max_rss_mib']:.0f} MiB",
            f"same raw baseline: {raw:.1f} s",
            f"{raw / into_demo['seconds']:.0%} of raw speed",
            "(information)",
        ),
    ]


# ------------------------------------------------------------------------------------- GUI

BASELINE_WINDOW = r"""
import os, sys, time
def since_start():
    stat = open("/proc/self/stat", "rb").read()
    fields = stat[stat.rindex(b")") + 2:].split()
    return time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv)
window = QLabel("SeatLedger")
window.resize(1280, 800)
class Probe(QObject):
    done = False
    def eventFilter(self, watched, event):
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            QTimer.singleShot(0, self.report)
        return False
    def report(self):
        print(f"painted {since_start():.3f}", flush=True)
        app.quit()
probe = Probe()
window.installEventFilter(probe)
window.show()
app.exec()
"""


def _times(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds from process start to each moment the process reports (``painted``, ``usable``)."""
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return {}
    times: dict[str, float] = {}
    for line in done.stdout.splitlines():
        word, _, value = line.partition(" ")
        if word in {"painted", "usable"}:
            times[word] = float(value)
    return times


def _start_env() -> dict[str, str]:
    """The start-up figures' environment: offscreen, signed in as the demo's viewer, warm."""
    env = dict(os.environ)
    # Warm means compiled: a user's installation keeps its bytecode, so the figure must not pay
    # for compiling the package's source on every start (PYTHONDONTWRITEBYTECODE may be set).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        SEATLEDGER_EXIT_AFTER_PAINT="1",
        SEATLEDGER_OPERATOR="viewer",
        SEATLEDGER_PASSWORD="demo",
        XDG_CONFIG_HOME=str(CACHE / "xdg" / "config"),
        XDG_DATA_HOME=str(CACHE / "xdg" / "data"),
        XDG_CACHE_HOME=str(CACHE / "xdg" / "cache"),
        XDG_STATE_HOME=str(CACHE / "xdg" / "state"),
    )
    return env


def _start_rows(runs: int) -> list[Row]:
    env = _start_env()
    command = [sys.executable, "-m", "seatledger", "--db", str(WORK)]
    _times(command, env)  # untimed: writes the bytecode (and upgrades an older cached demo)
    app = [_times(command, env) for _ in range(runs)]
    bare = [
        _times([sys.executable, "-c", BASELINE_WINDOW], env).get("painted") for _ in range(runs)
    ]
    base = [s for s in bare if s is not None]
    base_text = f"bare PySide6 window: {statistics.median(base):.3f} s" if base else "n/a"
    rows = []
    for word, figure, budget, goal in (
        ("painted", "start to painted window (warm)", "<= 0.5 s", 0.5),
        ("usable", "start to usable main window (warm)", "<= 1.0 s", 1.0),
    ):
        found = [t[word] for t in app if word in t]
        if len(found) < len(app) or not base:
            rows.append(Row(figure, "n/a (GUI not available)", base_text, "-", budget))
            continue
        median = statistics.median(found)
        rows.append(
            Row(
                figure,
                f"{median:.3f} s",
                base_text,
                _ratio(median, statistics.median(base)),
                budget,
                met=median <= goal,
            )
        )
    return rows


def _table_rows(runs: int) -> list[Row]:
    """First paint of the licenses table and a jump to its last row, beside a bare QTableView."""
    first, jump = "licenses table: first paint", "licenses table: jump to last row"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from PySide6.QtCore import QAbstractTableModel
        from PySide6.QtWidgets import QApplication, QTableView

        from paint import BareModel, PaintWait  # bench/paint.py
        from seatledger.services.catalog.queries import EntitlementQuery
        from seatledger.services.core.context import Context
        from seatledger.store.db import Database
        from seatledger.ui.table_model import KeyedTableModel
    except ImportError as exc:
        _say(f"  GUI not available: {exc}")
        na = "n/a (GUI not available)"
        return [Row(first, na, "-", "-", "<= 150 ms"), Row(jump, na, "-", "-", "<= 50 ms")]
    try:
        from seatledger.ui.presenters import EntitlementPresenter

        presenter: Any = EntitlementPresenter()
    except ImportError:
        presenter = None

    app = QApplication.instance() or QApplication([])
    db, _ = Database.open(WORK, create=False)

    def measure(make_model: Callable[[], QAbstractTableModel]) -> tuple[float, float]:
        started = time.perf_counter()
        model = make_model()
        view = QTableView()
        view.setModel(model)
        view.resize(1280, 800)
        waiter = PaintWait(view)
        waiter.wait(view.show)
        painted = time.perf_counter() - started  # the model's query included
        jumped = waiter.wait(view.scrollToBottom)
        view.close()
        view.deleteLater()
        return painted, jumped

    try:
        ctx = Context.reader(db)
        real = [
            measure(lambda: KeyedTableModel(EntitlementQuery(ctx), presenter)) for _ in range(runs)
        ]
        bare = [measure(lambda: BareModel(1_000_000, 8)) for _ in range(runs)]
    finally:
        db.dispose()
    app.processEvents()
    real_first, real_jump = (statistics.median(x) for x in zip(*real, strict=True))
    bare_first, bare_jump = (statistics.median(x) for x in zip(*bare, strict=True))
    return [
        Row(
            first,
            _ms(real_first),
            f"bare QTableView, 1M-row model: {_ms(bare_first)}",
            _ratio(real_first, bare_first),
            "<= 150 ms",
            met=real_first <= 0.150,
        ),
        Row(
            jump,
            _ms(real_jump),
            f"bare QTableView, 1M-row model: {_ms(bare_jump)}",
            _ratio(real_jump, bare_jump),
            "<= 50 ms",
            met=real_jump <= 0.050,
        ),
    ]


# ------------------------------------------------------------------------------------ main


def _cells(row: Row) -> list[str]:
    return [row.figure, row.measured, row.baseline, row.ratio, row.budget, row.goal_text()]


def _print_table(rows: list[Row], header: list[str]) -> None:
    titles = _cells(Row("figure", "measured", "raw baseline (same run)", "ratio", "budget"))
    titles[-1] = "goal"
    table = [titles, *(_cells(r) for r in rows)]
    widths = [max(len(cells[n]) for cells in table) for n in range(len(titles))]
    for line in header:
        print(line)
    print()
    for n, cells in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        choices=("large", "xlarge"),
        default="large",
        help="the demo to measure (xlarge: 10M ledger entries; runs "
        f"{', '.join(XLARGE_FIGURES)} unless --only says otherwise)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the demo again")
    parser.add_argument("--samples", type=int, default=200, help="seat assignments to time")
    parser.add_argument("--runs", type=int, default=3, help="repeats of the GUI figures")
    parser.add_argument(
        "--only",
        action="append",
        choices=FIGURES,
        metavar="NAME",
        help=f"run only these figures (repeatable): {', '.join(FIGURES)}",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="repeats of the import figures (median shown)"
    )
    args = parser.parse_args(argv)
    only = set(args.only or (XLARGE_FIGURES if args.size == "xlarge" else FIGURES))
    global SIZE, LARGE, RECORD  # noqa: PLW0603 (the figures read them; one size per run)
    SIZE = args.size
    LARGE, RECORD = CACHE / f"{SIZE}.sqlite", CACHE / f"{SIZE}.json"

    # First, while this process is single-threaded (the build forks a worker).
    record = _cached_or_built(args.rebuild)
    rows: list[Row] = []

    if "build" in only:
        _say("Raw executemany of as many rows as the demo holds ...")
        raw_seconds, raw_rows = _raw_build_baseline()
        rows.append(
            Row(
                f"demo build, {SIZE} (recorded)",
                f"{record['seconds']:.1f} s",
                f"raw executemany, {raw_rows:,} rows like the demo's: {raw_seconds:.1f} s",
                _ratio(record["seconds"], raw_seconds),
                "< 120 s (brief)" if SIZE == "large" else "<= 10 min (issue 20)",
            )
        )

    _remove_db(WORK)
    if only & (set(WRITING) | ({"dashboard"} if SIZE == "large" else set())):
        _say("Copying the demo for the figures that write ...")
        shutil.copyfile(LARGE, WORK)
    try:
        if "assign" in only:
            _say(f"{args.samples} seat assignments ...")
            p95, count = _assign_p95(args.samples)
            raw_p95 = _raw_commit_p95(args.samples)
            rows.append(
                Row(
                    f"one seat assignment, p95 of {count}",
                    _ms(p95),
                    f"raw INSERT+COMMIT, synchronous=FULL: {_ms(raw_p95)}",
                    _ratio(p95, raw_p95),
                    "<= 5 ms and <= 5x raw",
                    p95 <= 0.005 and p95 <= 5 * raw_p95,
                )
            )

        if "verify" in only:
            rows += _verify_rows()

        if "state" in only:
            rows += _state_rows()
        if "reconcile" in only:
            rows += _reconcile_rows()
        if "import" in only:
            rows += _import_rows(args.repeat)

        if "gui" in only:
            _say("GUI figures ...")
            rows += _table_rows(args.runs)
            rows += _start_rows(args.runs)
        if "charts" in only:
            rows += __import__("charts").chart_rows(Row, LARGE, args.runs)  # bench/charts.py
        if "dashboard" in only:  # bench/dashboard.py
            # At xlarge only its figures (it reads); on the large demo, also its assignments.
            asked = args if SIZE == "large" else argparse.Namespace(only=["gui"], runs=args.runs)
            rows += __import__("dashboard").dashboard_rows(Row, LARGE, WORK, asked)
        if "audit" in only:
            rows += __import__("audit").audit_rows(WORK, Row)  # bench/audit.py
        if "bundle" in only:
            rows += __import__("audit").bundle_rows(WORK, Row)  # bench/audit.py
        if "scale" in only:
            _say("Page figures ...")
            rows += __import__("scale").scale_rows(Row, LARGE, max(args.runs, 5))  # bench/scale.py
        if "frozen" in only:
            _say("The frozen program beside the source install ...")
            frozen = __import__("frozen")  # bench/frozen.py
            rows += frozen.frozen_rows(Row, _times, _start_env(), WORK, args.runs)
        if "debuglog" in only:
            rows += __import__("debuglog").debuglog_rows(Row)  # bench/debuglog.py
    finally:
        _remove_db(WORK)

    header = [
        f"SeatLedger benchmarks, {dt.datetime.now().isoformat(timespec='seconds')}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}",
        f"{SIZE} demo ({LARGE.relative_to(HERE.parent)}), built {record['built_at']} in "
        f"{record['seconds']} s, peak RSS {record.get('max_rss_mib', '?')} MiB "
        f"(+ body worker {record.get('worker_max_rss_mib', '?')} MiB):",
        f"  {record['summary']}",
        "ratio: measured / baseline (verification: measured rate / raw rate)",
    ]
    _print_table(rows, header)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
