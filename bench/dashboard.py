"""Dashboard and alert benchmarks on the large demo, for ``bench/run.py``.

- **dashboard figures**: :meth:`DashboardService.figures` (every card, the top-10 chart's rows),
  the median of several runs after one warm-up, beside a bare ``SELECT count(*)`` of the tables
  it reads (entitlement, seat_assignment, person, alert) in the same run;
- **seat assignment with the alert rules on**: the p95 of single assignments through
  ``Services`` (whose alert observer runs in each assignment's transaction), interleaved with
  the same assignments with the observer removed, so the rules' cost is the difference.

A cached demo built before migration 0004 gained ``ix_seat_person_open`` lacks that index; the
figures are then measured as cached and again on the copy with the index added.

Run alone: ``python bench/dashboard.py`` (uses the cached large demo; writes only to a copy).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LARGE = HERE / ".cache" / "large.sqlite"
WORK = HERE / ".cache" / "work-dashboard.sqlite"
RAW_TABLES = ("entitlement", "seat_assignment", "person", "alert")
INDEX = "ix_seat_person_open"  # added by migration 0004

_OPEN_LICENSES = """
SELECT e.id FROM entitlement e
WHERE e.retired = 0 AND e.metric IN ('named_user', 'subscription', 'concurrent')
  AND (e.term_start IS NULL OR e.term_start <= :today)
  AND (e.term_end IS NULL OR e.term_end >= :today)
  AND e.quantity - e.seats_used >= 20
ORDER BY e.id LIMIT 40
"""
_FREE_PEOPLE = """
SELECT p.id FROM person p WHERE p.status = 'active' AND NOT EXISTS (
  SELECT 1 FROM seat_assignment s
  WHERE s.person_id = p.id AND s.entitlement_id = :e AND s.ended_at IS NULL)
ORDER BY p.id LIMIT 20
"""


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def figures_times(db_path: Path, runs: int) -> tuple[list[float], list[float], Any]:
    """Times of ``figures()`` and of the bare counts, alternating, after one warm-up each."""
    from seatledger.services.alerts.dashboard import DashboardService
    from seatledger.services.core.context import Context
    from seatledger.store.db import Database

    db, _ = Database.open(db_path, create=False, upgrade=False)
    try:
        service = DashboardService(Context.reader(db))
        raw = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            figures = service.figures()
            for table in RAW_TABLES:
                raw.execute(f"SELECT count(*) FROM {table}").fetchone()
            timed: list[float] = []
            bare: list[float] = []
            for _ in range(runs):
                started = time.perf_counter()
                figures = service.figures()
                timed.append(time.perf_counter() - started)
                started = time.perf_counter()
                for table in RAW_TABLES:
                    raw.execute(f"SELECT count(*) FROM {table}").fetchone()
                bare.append(time.perf_counter() - started)
        finally:
            raw.close()
    finally:
        db.dispose()
    return timed, bare, figures


def assign_times(work: Path, samples: int) -> tuple[list[float], list[float]]:
    """Single seat assignments with the alert rules on and off, interleaved."""
    from sqlalchemy import text

    from seatledger.errors import KnownError
    from seatledger.services.operators.accounts import sign_in
    from seatledger.services.operators.session import Services
    from seatledger.store.db import Database

    db, _ = Database.open(work, create=False)
    try:
        actor = sign_in(db, "manager", "demo")
        with_rules = Services.for_actor(db, actor)
        without = Services.for_actor(db, actor)
        without.ctx.observers.clear()
        today = dt.date.today().isoformat()
        with db.engine.connect() as conn:
            licenses = conn.execute(text(_OPEN_LICENSES), {"today": today}).scalars().all()
            targets = [
                (license_id, person)
                for license_id in licenses
                for person in conn.execute(text(_FREE_PEOPLE), {"e": license_id}).scalars()
            ]
        on: list[float] = []
        off: list[float] = []
        for number, (license_id, person) in enumerate(targets[: 2 * samples + 20]):
            services, into = (with_rules, on) if number % 2 == 0 else (without, off)
            started = time.perf_counter()
            try:
                services.seats.assign(license_id, people=[person], reason="benchmark")
            except KnownError:
                continue
            into.append(time.perf_counter() - started)
        alerts = with_rules.alerts.open_count()
    finally:
        db.dispose()
    _say(f"  {alerts:,} alerts open after the assignments (bursts, limits, working hours)")
    return on[10:], off[10:]


def _has_index(db_path: Path, name: str) -> bool:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).fetchone()
    finally:
        conn.close()
    return found is not None


def _add_index(db_path: Path) -> None:
    """Give a copy built before migration 0004 had it the index the schema now has."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} "
            "ON seat_assignment (person_id, ended_at, entitlement_id)"
        )
        conn.commit()
    finally:
        conn.close()


def _figures_row(row: Callable[..., Any], db_path: Path, runs: int, note: str) -> Any:
    timed, bare, figures = figures_times(db_path, runs)
    return row(
        f"dashboard figures, median of {runs} ({figures.licenses:,} licenses, "
        f"{figures.open_alerts:,} alerts){note}",
        _ms(statistics.median(timed)),
        f"bare count(*) of {', '.join(RAW_TABLES)}: {_ms(statistics.median(bare))}",
        f"{statistics.median(timed) / statistics.median(bare):.1f}x",
        "<= 100 ms",
    )


def dashboard_rows(row: Callable[..., Any], large: Path, work: Path, args: Any) -> list[Any]:
    """The rows for ``bench/run.py``: the figures (with ``--only gui``) and the seat assignment
    with the alert rules (with ``--only assign``, on ``work``, run.py's copy of the demo)."""
    only = set(getattr(args, "only", None) or ("gui", "assign"))
    rows: list[Any] = []
    if "gui" in only:
        _say("Dashboard figures ...")
        runs = max(getattr(args, "runs", 3), 5)
        indexed = _has_index(large, INDEX)
        note = "" if indexed else f", cached demo without {INDEX}"
        rows.append(_figures_row(row, large, runs, note))
        if not indexed and work.exists():
            _say(f"Adding {INDEX} to the copy (the cached demo predates it) ...")
            _add_index(work)
            rows.append(_figures_row(row, work, runs, f", with {INDEX}"))
    if "assign" in only and work.exists():
        samples = getattr(args, "samples", 200)
        _say(f"{samples} seat assignments with the alert rules on, {samples} with them off ...")
        on, off = assign_times(work, samples)
        rows.append(
            row(
                f"one seat assignment with alert rules, p95 of {len(on)}",
                _ms(_p95(on)),
                f"the same without the rules (interleaved): {_ms(_p95(off))}",
                f"{_p95(on) / _p95(off):.1f}x",
                "<= 10 ms",
            )
        )
    return rows


def main() -> int:
    """Run both figures on a copy of the cached large demo and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--no-assign", action="store_true", help="figures only (no copy)")
    args = parser.parse_args()
    if not LARGE.exists():
        _say("No cached large demo: run 'python bench/run.py --only build' first.")
        return 2
    args.only = ["gui"] if args.no_assign else ["gui", "assign"]
    if not args.no_assign:
        _say("Copying the demo ...")
        shutil.copyfile(LARGE, WORK)
    try:
        rows = dashboard_rows(lambda *cells: cells, LARGE, WORK, args)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{WORK}{suffix}").unlink(missing_ok=True)
    for cells in rows:
        print(" | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
