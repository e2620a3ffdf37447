"""The large demo's figures on PostgreSQL, each beside the same figure on SQLite in the same run.

Usage: ``make bench ENGINE=postgresql`` (``python bench/pg.py [--url URL] [--samples N]
[--operators N] [--each N]``).

Teams that outgrow one workstation share a PostgreSQL server (issue 20): every figure of the
large demo on it within 2x of SQLite's, and ten operators assigning seats at once (separate
processes) with a p95 of at most 20 ms and no lost update.

- **The server.**  Without ``--url`` a throwaway cluster is initialized in a temporary folder
  (``tests/throwaway_postgres.py``, as the suite's), but with production durability: ``fsync``,
  ``full_page_writes`` and ``synchronous_commit`` on, as a shared server runs.  It listens on a
  free port of 127.0.0.1 and is removed at the end.  ``--url`` names an empty database instead
  (its tables are made by the demo build).
- **The demo** is built into it (``build_demo(url, "large")``; the build time is shown beside
  the SQLite build's recorded in ``bench/.cache/large.json``).  SQLite's figures run on the
  cached ``bench/.cache/large.sqlite`` (copied where they write).
- **Figures** (PostgreSQL, then SQLite as the baseline column): one seat assignment (p95 of
  ``--samples``); ten operators at once: ``--operators`` processes, each signed in as the
  demo's license manager, assigning ``--each`` people one at a time to the SAME license (the
  worst case: every assignment locks that license's row), started together; afterwards the
  license's open seats must equal those it had plus every assignment that succeeded (no lost
  update) and never exceed its quantity; ledger verification (entries/s); the whole position
  (reconcile); the dashboard's figures (median of 5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
LARGE = CACHE / "large.sqlite"
WORK = CACHE / "work-pg.sqlite"  # SQLite's copy for the figures that write
DURABLE = (
    "-c fsync=on -c full_page_writes=on -c synchronous_commit=on "
    "-c listen_addresses=127.0.0.1 -c max_connections=100"
)
OPERATOR, PASSWORD = "manager", "demo"  # the large demo's license manager

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    """The URL of an empty database: ``url``, or one in a throwaway cluster of our own."""
    if url:
        yield url
        return
    from tests import throwaway_postgres as pg  # the suite's cluster, made durable here

    binaries = pg.server_binaries()
    if binaries is None:
        raise SystemExit(
            "No PostgreSQL server is installed here (no initdb): install postgresql "
            "(Debian: apt install postgresql), or give --url of an empty database."
        )
    pg.SERVER_SETTINGS = DURABLE
    with pg.throwaway_cluster(binaries) as admin_url:
        from sqlalchemy import create_engine, text

        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE seatledger_bench"))
        engine.dispose()
        yield admin_url.rsplit("/", 1)[0] + "/seatledger_bench"


# ------------------------------------------------------------------------------- the figures


_TARGETS = """
    SELECT e.id, p.id FROM entitlement e JOIN person p ON p.status = 'active'
    WHERE e.metric IN ('named_user', 'user_subscription') AND NOT e.retired
      AND e.quantity - e.seats_used >= :need
      AND (e.term_start IS NULL OR e.term_start <= :today)
      AND (e.term_end IS NULL OR e.term_end >= :today)
      AND NOT EXISTS (SELECT 1 FROM seat_assignment s WHERE s.entitlement_id = e.id
                      AND s.person_id = p.id AND s.ended_at IS NULL)
    ORDER BY e.id, p.id
"""


def _free(db: Any, need: int, one_license: bool) -> list[tuple[int, int]]:
    """(license, person) pairs nobody holds: from one license with room for ``need`` more
    seats (``one_license``), or one person from each of many licenses."""
    from sqlalchemy import text

    found: list[tuple[int, int]] = []
    by_license: dict[int, int] = {}
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(_TARGETS), {"need": need if one_license else 20, "today": dt.date.today()}
        )
        for license_id, person in rows:
            if one_license:
                if found and license_id != found[0][0]:
                    break
                found.append((license_id, person))
                if len(found) == need:
                    break
            elif by_license.get(license_id, 0) < 3:
                by_license[license_id] = by_license.get(license_id, 0) + 1
                found.append((license_id, person))
                if len(found) == need:
                    break
    return found


def _assign_p95(target: str, samples: int) -> tuple[float, int]:
    """p95 of Services.seats.assign (one person, its ledger entry, committed)."""
    from seatledger.errors import KnownError
    from seatledger.services.operators.accounts import sign_in
    from seatledger.services.operators.session import Services
    from seatledger.store.db import Database

    db, _ = Database.open(target, create=False, upgrade=False)
    try:
        services = Services.for_actor(db, sign_in(db, OPERATOR, PASSWORD))
        times = []
        for license_id, person in _free(db, samples + 10, one_license=False):
            started = time.perf_counter()
            try:
                services.seats.assign(license_id, people=[person], reason="benchmark")
            except KnownError:
                continue
            times.append(time.perf_counter() - started)
    finally:
        db.dispose()
    times = times[10:]  # the first ones warm the caches and the connection
    return _p95(times), len(times)


_OPERATOR = r"""
import json, sys, time
from seatledger.errors import KnownError
from seatledger.services.operators.accounts import sign_in
from seatledger.services.operators.session import Services
from seatledger.store.db import Database
target, license_id, people = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
db, _ = Database.open(target, create=False, upgrade=False)
services = Services.for_actor(db, sign_in(db, "manager", "demo"))
print("ready", flush=True)
sys.stdin.readline()  # all start together
times, refused = [], []
for person in people:
    started = time.perf_counter()
    try:
        services.seats.assign(license_id, people=[person], reason="ten at once")
    except KnownError as exc:
        refused.append(str(exc))
        continue
    times.append(time.perf_counter() - started)
db.dispose()
print(json.dumps({"times": times, "refused": refused}))
"""


def _open_seats(target: str, license_id: int) -> tuple[int, int]:
    """(open seats, quantity) of one license, read from the rows."""
    from sqlalchemy import text

    from seatledger.store.db import Database

    db, _ = Database.open(target, create=False, upgrade=False)
    try:
        with db.engine.connect() as conn:
            open_seats = conn.execute(
                text(
                    "SELECT count(*) FROM seat_assignment WHERE entitlement_id = :e "
                    "AND ended_at IS NULL"
                ),
                {"e": license_id},
            ).scalar_one()
            quantity = conn.execute(
                text("SELECT quantity FROM entitlement WHERE id = :e"), {"e": license_id}
            ).scalar_one()
    finally:
        db.dispose()
    return int(open_seats), int(quantity)


def _at_once(target: str, operators: int, each: int) -> dict[str, Any]:
    """``operators`` processes assigning ``each`` people each to one license, started together."""
    from seatledger.store.db import Database

    db, _ = Database.open(target, create=False, upgrade=False)
    try:
        pairs = _free(db, operators * each, one_license=True)
    finally:
        db.dispose()
    if len(pairs) < operators * each:
        raise SystemExit(f"No license has room for {operators * each} more seats in the demo")
    license_id = pairs[0][0]
    before, quantity = _open_seats(target, license_id)
    people = [person for _, person in pairs]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _OPERATOR,
                target,
                str(license_id),
                json.dumps(people[n * each : (n + 1) * each]),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(operators)
    ]
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("An operator process did not start")
    started = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    times: list[float] = []
    refused: list[str] = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        if child.returncode != 0:
            raise SystemExit(f"An operator process failed (exit {child.returncode})")
        found = json.loads(out.strip().splitlines()[-1])
        times += found["times"]
        refused += found["refused"]
    wall = time.perf_counter() - started
    after, _ = _open_seats(target, license_id)
    return {
        "p95": _p95(times) if len(times) >= 2 else float("nan"),
        "assigned": len(times),
        "refused": refused,
        "wall": wall,
        "lost": before + len(times) - after,  # 0: every assignment that succeeded is there
        "over": max(after - quantity, 0),
    }


def _verify(target: str) -> tuple[float, int, bool]:
    """Entries/s of ``ledger verify`` (the command line's path: it may fork a helper)."""
    from seatledger.services.ledger import verify as ledger
    from seatledger.store.db import Database

    db, _ = Database.open(target, create=False, upgrade=False)
    try:
        started = time.perf_counter()
        verdict = ledger.verify(db)
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
    return verdict.entries / seconds, verdict.entries, verdict.ok


def _reconcile(target: str) -> tuple[float, int]:
    """Seconds of the whole position (rows and findings) today, and its rows."""
    from seatledger.services.core.context import Context
    from seatledger.services.position.engine import PositionService
    from seatledger.store.db import Database

    db, _ = Database.open(target, create=False, upgrade=False)
    try:
        started = time.perf_counter()
        position = PositionService(Context.reader(db)).position(dt.date.today())
        return time.perf_counter() - started, len(position.rows)
    finally:
        db.dispose()


def _dashboard(target: str, runs: int = 5) -> float:
    """Median seconds of the dashboard's figures, after one warm-up."""
    from seatledger.services.alerts.dashboard import DashboardService
    from seatledger.services.core.context import Context
    from seatledger.store.db import Database

    db, _ = Database.open(target, create=False, upgrade=False)
    try:
        service = DashboardService(Context.reader(db))
        service.figures()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            service.figures()
            times.append(time.perf_counter() - started)
        return statistics.median(times)
    finally:
        db.dispose()


# ---------------------------------------------------------------------------------- the run


def _build_row(url: str, sqlite_built: float) -> Any:
    """Build the large demo into ``url``; its time beside SQLite's recorded build."""
    import run
    from seatledger.demo.builder import build_demo

    _say("Building the large demo on PostgreSQL ...")
    started = time.perf_counter()
    summary = build_demo(url, "large")
    built = time.perf_counter() - started
    _say(f"  {summary} ({built:.0f} s)")
    ratio, met = _within(built, sqlite_built) if sqlite_built else ("-", None)
    return run.Row(
        "large demo build (PostgreSQL, durable)",
        f"{built:.0f} s",
        f"SQLite's build as recorded in large.json: {sqlite_built:.0f} s" if sqlite_built else "-",
        ratio,
        "within 2x of SQLite",
        met,
    )


def _within(pg: float, sqlite: float, goal: float = 2.0) -> tuple[str, bool]:
    """The ratio PostgreSQL / SQLite (of times: lower is better) and whether within ``goal``."""
    ratio = pg / sqlite if sqlite > 0 else float("inf")
    return f"{ratio:.2f}x SQLite", ratio <= goal


def main(argv: list[str] | None = None) -> int:
    """Build the large demo on PostgreSQL, run the figures on both engines, print the table."""
    import run  # bench/run.py: the cached SQLite demo, the table printer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway one)")
    parser.add_argument("--samples", type=int, default=200, help="single assignments timed")
    parser.add_argument("--operators", type=int, default=10, help="processes assigning at once")
    parser.add_argument("--each", type=int, default=30, help="assignments per process")
    parser.add_argument(
        "--built", action="store_true", help="--url holds the large demo already: no build"
    )
    args = parser.parse_args(argv)
    record = run._cached_or_built(rebuild=False)  # the SQLite side, as cached
    rows: list[run.Row] = []
    with _server(args.url) as url:
        if not (args.built and args.url):
            rows.append(_build_row(url, float(record.get("seconds", 0.0))))
        _say("Copying the SQLite demo for the figures that write ...")
        shutil.copyfile(LARGE, WORK)
        try:
            _say("One seat assignment at a time ...")
            pg_p95, pg_n = _assign_p95(url, args.samples)
            sq_p95, sq_n = _assign_p95(str(WORK), args.samples)
            ratio, met = _within(pg_p95, sq_p95)
            rows.append(
                run.Row(
                    f"one seat assignment, p95 of {pg_n}",
                    f"{pg_p95 * 1000:.1f} ms",
                    f"SQLite, p95 of {sq_n}: {sq_p95 * 1000:.1f} ms",
                    ratio,
                    "within 2x of SQLite",
                    met,
                )
            )
            _say(f"{args.operators} operators assigning at once ...")
            pg_once = _at_once(url, args.operators, args.each)
            sq_once = _at_once(str(WORK), args.operators, args.each)
            whole = pg_once["lost"] == 0 and pg_once["over"] == 0
            rows.append(
                run.Row(
                    f"{args.operators} operators at once (processes), {args.each} seats each on "
                    f"one license: p95 of {pg_once['assigned']}",
                    f"{pg_once['p95'] * 1000:.1f} ms; lost updates {pg_once['lost']}, over the "
                    f"quantity {pg_once['over']}; {len(pg_once['refused'])} refused",
                    f"SQLite: {sq_once['p95'] * 1000:.1f} ms, lost {sq_once['lost']}, "
                    f"{len(sq_once['refused'])} refused",
                    f"{pg_once['wall']:.1f} s wall (SQLite {sq_once['wall']:.1f} s)",
                    "<= 20 ms, no lost update",
                    pg_once["p95"] <= 0.020 and whole,
                )
            )
            for reason in sorted(set(pg_once["refused"] + sq_once["refused"]))[:3]:
                _say(f"  refused: {reason}")
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{WORK}{suffix}").unlink(missing_ok=True)
        _say("Verifying the ledger ...")
        pg_rate, entries, pg_ok = _verify(url)
        sq_rate, _, sq_ok = _verify(str(LARGE))
        ratio, met = _within(sq_rate, pg_rate)  # rates: SQLite's over PostgreSQL's
        rows.append(
            run.Row(
                f"ledger verify, {entries:,} entries" + ("" if pg_ok else " (FAILED)"),
                f"{pg_rate:,.0f} entries/s",
                f"SQLite: {sq_rate:,.0f} entries/s" + ("" if sq_ok else " (FAILED)"),
                ratio.replace("x SQLite", "x slower than SQLite"),
                "within 2x of SQLite",
                met and pg_ok,
            )
        )
        _say("Reconciling ...")
        pg_seconds, pg_rows = _reconcile(url)
        sq_seconds, _ = _reconcile(str(LARGE))
        ratio, met = _within(pg_seconds, sq_seconds)
        rows.append(
            run.Row(
                f"reconcile: the whole position, {pg_rows:,} rows",
                f"{pg_seconds:.1f} s",
                f"SQLite: {sq_seconds:.1f} s",
                ratio,
                "within 2x of SQLite",
                met,
            )
        )
        _say("Dashboard figures ...")
        pg_dash = _dashboard(url)
        sq_dash = _dashboard(str(LARGE))
        ratio, met = _within(pg_dash, sq_dash)
        rows.append(
            run.Row(
                "dashboard figures, median of 5",
                f"{pg_dash * 1000:.0f} ms",
                f"SQLite: {sq_dash * 1000:.0f} ms",
                ratio,
                "within 2x of SQLite",
                met,
            )
        )
    _print(rows)
    return 0


def _print(rows: list[Any]) -> None:
    """The table: each PostgreSQL figure beside SQLite's from the same run."""
    titles = ["figure (PostgreSQL)", "measured", "SQLite, same run", "ratio", "goal", "met?"]
    table = [titles]
    for row in rows:
        table.append(
            [row.figure, row.measured, row.baseline, row.ratio, row.budget, row.goal_text()]
        )
    widths = [max(len(cells[n]) for cells in table) for n in range(len(titles))]
    print()
    for n, cells in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
