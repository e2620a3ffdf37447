"""The usage chart written to files (PNG, SVG) and by ``seatledger chart``; no pixels compared."""

from __future__ import annotations

import datetime as dt
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from seatledger.cli import EXIT_ERROR, EXIT_OK, main
from seatledger.domain.licensing import Metric
from seatledger.domain.usage import UsageSeries, forecast
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database

pytestmark = pytest.mark.usefixtures("qapp")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _svg_root(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return root


def _series(days: int = 120) -> UsageSeries:
    first = np.datetime64("2026-01-01", "D")
    span = first + np.arange(days)
    used = np.minimum(np.arange(days) // 3, 35).astype(np.int64)
    limit = np.where(np.arange(days) < 60, 30.0, 40.0)  # a true-up on day 60
    return UsageSeries(
        days=span,
        used=used,
        installs=(used + 2).astype(np.int64),
        peaks=None,
        limit=limit,
        warning_level=0.9,
        label="Studio Soft Designer",
        unit="seats",
        forecast=forecast(span, used, limit),
    )


def test_png_has_the_size_asked_for(tmp_path: Path) -> None:
    from seatledger.charts.usage import render_usage_chart

    out = render_usage_chart(_series(), tmp_path / "usage.png", width=900, height=450)
    assert out == tmp_path / "usage.png"
    assert _png_size(out) == (900, 450)


def test_svg_is_an_svg_with_the_title(tmp_path: Path) -> None:
    from seatledger.charts.usage import render_usage_chart

    out = render_usage_chart(_series(), tmp_path / "usage.svg")
    root = _svg_root(out)
    assert root.get("viewBox") == "0 0 1200 600"
    assert "Studio Soft Designer" in out.read_text(encoding="utf-8")


def test_several_series_in_one_chart(tmp_path: Path) -> None:
    from seatledger.charts.usage import render_usage_chart

    out = render_usage_chart([_series(), _series()], tmp_path / "many.png", 640, 320)
    assert _png_size(out) == (640, 320)


def test_other_suffixes_are_refused(tmp_path: Path) -> None:
    from seatledger.charts.usage import render_usage_chart
    from seatledger.errors import KnownError

    with pytest.raises(KnownError, match=r"\.png or \.svg"):
        render_usage_chart(_series(), tmp_path / "usage.pdf")
    with pytest.raises(KnownError, match="does not exist"):
        render_usage_chart(_series(), tmp_path / "missing" / "usage.png")


def test_hover_readout_names_the_day_and_its_figures() -> None:
    import pyqtgraph as pg

    from seatledger.charts.usage import date_axis, draw_usage, epoch_days

    plot = pg.PlotItem(axisItems={"bottom": date_axis()})
    series = _series()
    drawn = draw_usage(plot, series)
    x = epoch_days(series.days)[61] + 0.5  # noon on 2026-03-03
    assert drawn.readout(x) == ("2026-03-03 · used 20 seats · limit 40 (50%) · installs 22")
    assert drawn.readout(epoch_days(series.days)[0] - 3) is None
    assert drawn.forecast_until is not None


def test_the_date_axis_labels_days() -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    from seatledger.charts.usage import DayAxis

    axis = DayAxis()
    axis.fontMetrics = QFontMetrics(QFont())
    first = float((dt.date(2026, 1, 1) - dt.date(1970, 1, 1)).days)
    ((_spacing, ticks),) = axis.tickValues(first - 10, first + 365, 1200)
    assert axis.tickStrings(ticks, 1.0, _spacing)[:3] == ["Jan 2026", "Feb 2026", "Mar 2026"]
    ((_spacing, ticks),) = axis.tickValues(first, first + 6, 1200)
    assert axis.tickStrings(ticks, 1.0, _spacing)[:2] == ["1 Jan 2026", "2 Jan 2026"]
    ((_spacing, ticks),) = axis.tickValues(first, first + 20 * 365, 600)
    assert axis.tickStrings(ticks, 1.0, _spacing)[:2] == ["2026", "2028"]


def _drawn_labels(width: int, days: float) -> list[tuple[Any, str]]:
    """The date axis's labels (with their rectangles) on a chart ``width`` pixels wide showing
    ``days`` days from 2026-01-01, as pyqtgraph lays them out to paint them."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter

    from seatledger.charts.usage import date_axis

    widget = pg.PlotWidget(axisItems={"bottom": date_axis()})
    try:
        widget.resize(width, 300)
        widget.show()
        first = float((dt.date(2026, 1, 1) - dt.date(1970, 1, 1)).days)
        widget.setXRange(first, first + days, padding=0)
        pg.QtWidgets.QApplication.processEvents()
        image = QImage(8, 8, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            specs = widget.getPlotItem().getAxis("bottom").generateDrawSpecs(painter)
        finally:
            painter.end()
        return [(rect, text) for rect, _flags, text in specs[2]]
    finally:
        widget.close()
        widget.deleteLater()


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("days", [0.4, 3, 30, 90, 365, 5 * 365, 30 * 365])
def test_the_date_axis_is_readable_at_every_zoom(width: int, days: float) -> None:
    """Every label is a whole date (day, month and year; or month and year; or a year), no two
    touch, and even a narrow chart names at least one date."""
    labels = _drawn_labels(width, days)
    assert labels, "no date on the axis"
    if width >= 1280 and days >= 2:
        assert len(labels) >= 2
    for _rect, text in labels:
        parsed = None
        for form in ("%d %b %Y", "%b %Y", "%Y"):
            try:
                parsed = dt.datetime.strptime(text, form)
                break
            except ValueError:
                continue
        assert parsed is not None, f"{text!r} does not name a date"
    rects = [rect for rect, _text in labels]
    touching = [
        (labels[a][1], labels[b][1])
        for a in range(len(rects))
        for b in range(a + 1, len(rects))
        if rects[a].intersects(rects[b])
    ]
    assert touching == []


def test_wide_ranges_step_by_months_or_years_not_days() -> None:
    texts = [text for _rect, text in _drawn_labels(1280, 5 * 365)]
    assert all(len(text.split()) <= 2 for text in texts), texts  # "Jul 2027" or "2028"
    assert len(texts) <= 16


# ---------------------------------------------------------------------------------- the CLI


@pytest.fixture
def chart_db(sqlite_db: Database) -> str:
    actor = operators.create_first_administrator(sqlite_db, "admin", "Ada", "correct horse")
    services = Services.for_actor(sqlite_db, actor)
    vendor = services.catalog.add_vendor("Studio Soft")
    product = services.catalog.add_product(vendor, "Designer")
    services.catalog.add_entitlement(
        EntitlementInput(product, Metric.PER_USER, 5, term_start=dt.date(2026, 1, 1))
    )
    services.directory.add_team("Finance", "CC-100")
    path = sqlite_db.sqlite_path
    assert path is not None
    return str(path)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_cli_writes_the_chart(
    chart_db: str, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"chart{suffix}"
    code = main(
        ["chart", "--db", chart_db, "--product", "Designer", "--from", "2026-01-01",
         "--to", "2026-03-31", "--out", str(out)]
    )  # fmt: skip
    assert code == EXIT_OK
    printed = capsys.readouterr().out
    assert "Studio Soft Designer, 2026-01-01 to 2026-03-31" in printed
    assert "Forecast:" in printed
    if suffix == ".png":
        assert _png_size(out) == (1200, 600)
    else:
        _svg_root(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vendor", "Nope"], "No vendor named 'Nope'"),
        (["--product", "Nope"], "No product named 'Nope'"),
        (["--team", "Nope"], "No team or cost centre named 'Nope'"),
        (["--license", "99"], "no license #99"),
        (["--from", "2026-02-30"], "--from must be a date as YYYY-MM-DD"),
        (["--from", "2026-03-01", "--to", "2026-01-01"], "ends (2026-01-01) before it starts"),
    ],
)
def test_cli_refuses_unknown_names_and_bad_dates(
    chart_db: str,
    tmp_path: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "chart.png"
    assert main(["chart", "--db", chart_db, *args, "--out", str(out)]) == EXIT_ERROR
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_other_formats(chart_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chart", "--db", chart_db, "--out", "chart.pdf"]) == EXIT_ERROR
    assert ".png or .svg" in capsys.readouterr().err


def test_zooming_in_keeps_the_steps(qtbot: QtBot) -> None:
    """Clip-to-view on a zoom once broke ``stepMode="center"`` lines (len(x) must be len(y)+1)."""
    import pyqtgraph as pg

    from seatledger.charts.usage import date_axis, draw_usage, epoch_days

    widget = pg.PlotWidget(axisItems={"bottom": date_axis()})
    qtbot.addWidget(widget)
    series = _series(400)
    draw_usage(widget.getPlotItem(), series)
    widget.resize(600, 400)
    widget.grab()
    start = epoch_days(series.days)[200]
    widget.getPlotItem().setXRange(start, start + 30, padding=0)
    widget.grab()
    used = next(i for i in widget.getPlotItem().listDataItems() if i.name() == "Used (seats)")
    x, _y = used.getData()
    assert len(x) < len(series.days)  # clipped to the 30 days in view
