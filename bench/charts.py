"""Usage-chart figures on the large demo: a five-year daily chart of 50 products.

``chart_rows(Row, db, runs)`` returns result rows for ``bench/run.py``; ``python bench/charts.py
[--db PATH] [--runs N]`` prints them alone.  Measured, each beside a baseline from the same run:

- the series of 50 products over five years (seats, installs, checkouts, limits), against the
  raw SQLite aggregation of the same products' seats by day;
- drawing them (50 used lines and 50 limit steps) and painting a 1200×600 chart, against bare
  pyqtgraph drawing 50 random five-year daily curves and 50 limit lines the same way;
- ``render_usage_chart`` writing the same chart to a PNG, as the command line and reports do.

The 50 products are those with the most seats (the heaviest charts of the demo).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PRODUCTS = 50
YEARS = 5
WIDTH, HEIGHT = 1200, 600


def _median(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _ratio(measured: float, baseline: float) -> str:
    return f"{measured / baseline:.1f}x" if baseline > 0 else "-"


def _top_products(db: Path) -> list[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [
            row[0]
            for row in conn.execute(
                "SELECT product_id FROM entitlement GROUP BY product_id "
                f"ORDER BY SUM(seats_used) DESC LIMIT {PRODUCTS}"
            )
        ]
    finally:
        conn.close()


def _raw_seat_days(db: Path, products: list[int]) -> None:
    """The seats of those products grouped by product, start day and end day, in raw SQLite."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(products))
        conn.execute(
            "SELECT e.product_id, CAST(julianday(s.started_at) - 2440587.5 AS INTEGER), "
            "CAST(julianday(s.ended_at) - 2440587.5 AS INTEGER), SUM(s.units) "
            "FROM seat_assignment s JOIN entitlement e ON e.id = s.entitlement_id "
            f"WHERE e.product_id IN ({marks}) GROUP BY 1, 2, 3",
            products,
        ).fetchall()
    finally:
        conn.close()


def _paint(widget: Any, app: Any) -> None:
    widget.resize(WIDTH, HEIGHT)
    widget.grab()  # lays out and paints every item once, as showing it would
    widget.close()
    widget.deleteLater()
    app.processEvents()


def _bare_pyqtgraph(app: Any, days: int) -> Callable[[], None]:
    import numpy as np
    import pyqtgraph as pg

    rng = np.random.default_rng(2026)
    x = np.arange(days + 1, dtype=np.float64)
    curves = [np.cumsum(rng.integers(-1, 2, size=days)) + 500 for _ in range(PRODUCTS)]
    limits = [np.full(days, 600.0 + 10 * n) for n in range(PRODUCTS)]

    def draw() -> None:
        widget = pg.PlotWidget(background="w")
        plot = widget.getPlotItem()
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        for n in range(PRODUCTS):
            color = pg.intColor(n, hues=PRODUCTS)
            plot.addItem(pg.PlotDataItem(x, curves[n], stepMode="center", pen=color))
            plot.addItem(pg.PlotDataItem(x, limits[n], stepMode="center", pen=color))
        _paint(widget, app)

    return draw


def chart_rows(row: type, db: Path, runs: int = 3) -> list[Any]:
    """The usage-chart figures as ``row(figure, measured, baseline, ratio, budget)`` objects."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    import pyqtgraph as pg

    from seatledger.charts.usage import date_axis, draw_usage, render_usage_chart, style_plot
    from seatledger.services.core.context import Context
    from seatledger.services.usage.history import UsageHistoryService
    from seatledger.store.db import Database

    products = _top_products(db)
    database, _ = Database.open(db, create=False, upgrade=False)
    try:
        service = UsageHistoryService(Context.reader(database))
        end = dt.date.today()
        start = end - dt.timedelta(days=YEARS * 365)
        series: list[Any] = []

        def compute() -> None:
            series[:] = service.product_series(products, start, end)

        compute_seconds = _median(compute, runs)
        raw_seconds = _median(lambda: _raw_seat_days(db, products), runs)

        def draw() -> None:
            widget = pg.PlotWidget(background="w", axisItems={"bottom": date_axis()})
            style_plot(widget.getPlotItem())
            draw_usage(widget.getPlotItem(), series)
            _paint(widget, app)

        draw()  # the first paint loads fonts and pyqtgraph's shaders: not what is measured
        bare = _bare_pyqtgraph(app, len(series[0].days))
        bare()
        draw_seconds = _median(draw, runs)
        bare_seconds = _median(bare, runs)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "chart.png"
            file_seconds = _median(lambda: render_usage_chart(series, out, WIDTH, HEIGHT), runs)
    finally:
        database.dispose()
    days = len(series[0].days)
    seats = sum(int(s.used[-1]) for s in series)
    return [
        row(
            f"usage series, {PRODUCTS} products x {days:,} days ({seats:,} rights held now)",
            _ms(compute_seconds),
            f"raw SQLite GROUP BY of their seats by day: {_ms(raw_seconds)}",
            _ratio(compute_seconds, raw_seconds),
            "(measured; computed off the GUI thread)",
        ),
        row(
            f"usage chart, {PRODUCTS} products x {YEARS} years daily, draw + paint",
            _ms(draw_seconds),
            f"bare pyqtgraph, {PRODUCTS} random curves + limit lines: {_ms(bare_seconds)}",
            _ratio(draw_seconds, bare_seconds),
            "<= 250 ms",
        ),
        row(
            f"render_usage_chart to PNG, same {PRODUCTS} series",
            _ms(file_seconds),
            f"bare pyqtgraph paint: {_ms(bare_seconds)}",
            _ratio(file_seconds, bare_seconds),
            "(the CLI and reports)",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the usage-chart figures for a database (default: the cached large demo)."""
    from dataclasses import make_dataclass

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=HERE / ".cache" / "large.sqlite")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"{args.db} does not exist: run bench/run.py once to build the large demo.")
        return 2
    fields = ["figure", "measured", "baseline", "ratio", "budget"]
    row = make_dataclass("Row", fields)
    for line in chart_rows(row, args.db, args.runs):
        print(" | ".join(getattr(line, name) for name in fields))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
