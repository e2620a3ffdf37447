"""Page figures at the extra-large size (issue 20): the Activity page, the licenses table.

``bench/run.py --size xlarge`` calls :func:`scale_rows` with the cached xlarge demo (200,000
people, 400,000 devices, 10 million ledger entries); each figure is the time from asking for the
data to the table's first paint, the median of several runs, beside a bare ``QTableView`` over a
model that computes its cells (the cheapest a view can paint) in the same run.  The demo is only
read.  Run alone: ``python bench/scale.py DB``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def scale_rows(row: Callable[..., Any], db_path: Path, runs: int) -> list[Any]:
    """Activity first paint, the Activity filtered by operator and by entity, and the licenses
    table's first paint, each beside a bare view's first paint."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QAbstractTableModel
    from PySide6.QtWidgets import QApplication, QTableView

    from paint import BareModel, PaintWait  # bench/paint.py
    from seatledger.services.catalog.queries import EntitlementQuery
    from seatledger.services.core.context import Context
    from seatledger.services.ledger.activity import ActivityFilter, ActivityQuery
    from seatledger.store.db import Database
    from seatledger.ui.presenters import ActivityPresenter, EntitlementPresenter
    from seatledger.ui.table_model import KeyedTableModel

    app = QApplication.instance() or QApplication([])

    def first_paint(make_model: Callable[[], QAbstractTableModel]) -> float:
        started = time.perf_counter()
        model = make_model()
        view = QTableView()
        view.setModel(model)
        view.resize(1280, 800)
        PaintWait(view).wait(view.show)
        seconds = time.perf_counter() - started
        view.close()
        view.deleteLater()
        app.processEvents()
        return seconds

    def median(make_model: Callable[[], QAbstractTableModel]) -> float:
        first_paint(make_model)  # warm: the first run pays for the page cache
        return statistics.median(first_paint(make_model) for _ in range(runs))

    db, _ = Database.open(db_path, create=False, upgrade=False)
    try:
        ctx = Context.reader(db)
        with ctx.read() as session:
            entries = int(session.execute(_sql("SELECT size FROM ledger_head")).scalar() or 0)
            busiest = session.execute(
                _sql("SELECT operator FROM ledger_entry WHERE seq > :s - 1000 LIMIT 1"),
                {"s": entries},
            ).scalar()
        bare = median(lambda: BareModel(10_000_000, 7))
        figures = [
            (
                f"Activity: first paint, {entries:,} entries",
                lambda: KeyedTableModel(ActivityQuery(ctx), ActivityPresenter()),
                "<= 150 ms",
            ),
            (
                f"Activity: filter by operator ({busiest})",
                lambda: KeyedTableModel(
                    ActivityQuery(ctx, ActivityFilter(operator=str(busiest))), ActivityPresenter()
                ),
                "<= 200 ms",
            ),
            (
                "Activity: filter by entity (person)",
                lambda: KeyedTableModel(
                    ActivityQuery(ctx, ActivityFilter(entity_type="person")), ActivityPresenter()
                ),
                "<= 200 ms",
            ),
            (
                "Activity: filter by operator and action (admin, seat.release)",
                lambda: KeyedTableModel(
                    ActivityQuery(ctx, ActivityFilter(operator="admin", action="seat.release")),
                    ActivityPresenter(),
                ),
                "<= 200 ms",
            ),
            (
                "licenses table: first paint",
                lambda: KeyedTableModel(EntitlementQuery(ctx), EntitlementPresenter()),
                "<= 150 ms",
            ),
        ]
        rows = []
        for name, make, goal in figures:
            _say(f"  {name} ...")
            seconds = median(make)
            rows.append(
                row(
                    name,
                    _ms(seconds),
                    f"bare QTableView, 10M-row model: {_ms(bare)}",
                    f"{seconds / bare:.1f}x",
                    goal,
                )
            )
    finally:
        db.dispose()
    return rows


def _sql(text: str) -> Any:
    from sqlalchemy import text as sql_text

    return sql_text(text)


def main() -> int:
    """Print the page figures for a database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for cells in scale_rows(lambda *cells: cells, args.db, args.runs):
        print(" | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
