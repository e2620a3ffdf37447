"""The Usage page: chart a license from the licenses page, pick scopes and ranges, read the hover
figures, export the chart; the Teams tab's table, bars and chargeback export."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCompleter
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from seatledger.services.operators.session import Services
from seatledger.ui.main_window import USAGE, MainWindow
from seatledger.ui.pages.usage import LICENSE, PRODUCT, TEAM


def _assign_two(admin: Services, org: Any) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:2])


def test_chart_this_opens_the_usage_page_on_the_license(
    qtbot: QtBot, window: MainWindow, admin: Services, org: Any
) -> None:
    _assign_two(admin, org)
    window.refresh_all()
    licenses = window.licenses
    assert licenses.table.select_key(org.acrobat)
    assert licenses.chart_action in licenses.table.actions()  # the table's context menu

    with qtbot.waitSignal(window.usage.series_shown, timeout=10_000):
        licenses.chart_action.trigger()

    page = window.usage
    assert window.nav.currentRow() == USAGE
    assert page.kind.currentIndex() == LICENSE
    assert page.item.currentData() == org.acrobat
    series = page.series()
    assert series is not None
    assert int(series.used[-1]) == 2
    assert float(series.limit[-1]) == 3.0
    today = dt.datetime.now(dt.UTC).date()
    assert page.readout_at(today) == f"{today} · used 2 seats · limit 3 (67%)"
    assert page.forecast.text().startswith("<b>Forecast:</b>")
    assert "license #" in page.readout.text()


def test_hover_shows_the_day_under_the_mouse(
    qtbot: QtBot, window: MainWindow, admin: Services, org: Any
) -> None:
    _assign_two(admin, org)
    with qtbot.waitSignal(window.usage.series_shown, timeout=10_000):
        window.chart_license(org.acrobat)
    page = window.usage
    plot = page.plot
    # The middle of the plot area, in widget coordinates.
    centre = plot.vb.sceneBoundingRect().center()
    point = page.plot_widget.mapFromScene(centre)
    qtbot.mouseMove(page.plot_widget.viewport(), QPoint(point.x(), point.y()))
    qtbot.waitUntil(lambda: "used" in page.readout.text())
    assert " · limit " in page.readout.text()


def test_typing_a_product_charts_it_and_the_range_presets(
    qtbot: QtBot, window: MainWindow, admin: Services, org: Any
) -> None:
    _assign_two(admin, org)
    window.nav.setCurrentRow(USAGE)
    page = window.usage
    page.kind.setCurrentIndex(PRODUCT)
    page.item_line.clear()
    completer = page.item.completer()
    assert completer is not None
    # The off-screen platform cannot raise a popup (it warns); inline completion needs none.
    completer.setCompletionMode(QCompleter.CompletionMode.InlineCompletion)
    with qtbot.waitSignal(page.series_shown, timeout=10_000):
        qtbot.keyClicks(page.item_line, "Contoso Software PDF Studio")
        qtbot.keyClick(page.item_line, Qt.Key.Key_Return)
    series = page.series()
    assert series is not None
    assert series.label == "Contoso Software PDF Studio"
    assert len(series.days) == 365

    with qtbot.waitSignal(page.series_shown, timeout=10_000):
        page.range.setCurrentIndex(0)  # last 90 days
    series = page.series()
    assert series is not None
    assert len(series.days) == 90
    assert int(series.used[-1]) == 2


def test_team_scope_and_export(
    qtbot: QtBot, window: MainWindow, admin: Services, org: Any, tmp_path: Path
) -> None:
    _assign_two(admin, org)
    window.nav.setCurrentRow(USAGE)
    page = window.usage
    with qtbot.waitSignal(page.series_shown, timeout=10_000):
        page.kind.setCurrentIndex(TEAM)  # Finance, the only team
    series = page.series()
    assert series is not None
    assert series.label == "Team Finance (CC-100)"
    assert int(series.used[-1]) == 2
    assert "no forecast" in page.forecast.text().lower()

    png, svg = tmp_path / "team.png", tmp_path / "team.svg"
    page.export_chart(png)
    page.export_chart(svg)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:2000]


def test_teams_tab_table_bars_and_chargeback(
    qtbot: QtBot, window: MainWindow, admin: Services, org: Any, tmp_path: Path
) -> None:
    _assign_two(admin, org)
    window.nav.setCurrentRow(USAGE)
    page = window.usage
    with qtbot.waitSignal(page.teams_shown, timeout=10_000):
        qtbot.mouseClick(
            page.tabs.tabBar(),
            Qt.MouseButton.LeftButton,
            pos=page.tabs.tabBar().tabRect(1).center(),
        )
    model = page.team_model
    ModelTester(None).check(model)  # type: ignore[arg-type]
    finance = next(r for r in model.rows if r.team == "Finance")
    assert (finance.people, finance.seats, finance.licenses) == (5, 2, 1)
    page.measure.setCurrentIndex(1)  # bars show seats
    import pyqtgraph as pg

    bars = [i for i in page.team_chart.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == 1
    assert list(bars[0].opts["width"]) == [2.0]  # Finance, the only team holding seats

    out = tmp_path / "chargeback.csv"
    page.export_teams(out)
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["Team", "Cost centre", "People", "Seats"]
    assert ["Finance", "CC-100", "5", "2"] in [row[:4] for row in rows]
