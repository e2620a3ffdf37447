"""The Usage page: any license, product, vendor or team charted against its limit over time, and
the seats and cost each team holds (chargeback).

The series is computed in the background (:class:`~seatledger.ui.tasks.Task`) and drawn by
:mod:`seatledger.charts.usage`, the module the command line and the audit report use, so the
window, ``seatledger chart`` and a report show the same chart.  pyqtgraph loads when the page is
first shown, not at start-up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from seatledger.charts.colors import ChartColors
from seatledger.errors import KnownError
from seatledger.progress import Progress
from seatledger.services.lookups import NamedItem
from seatledger.services.operators.session import Services
from seatledger.services.position import export
from seatledger.services.usage.history import (
    TEAM_HEADERS,
    Scope,
    TeamCost,
    UsageSeries,
    team_cells,
)
from seatledger.text import plural
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.pages import Page
from seatledger.ui.tasks import Task
from seatledger.ui.theme import colors
from seatledger.ui.widgets import (
    Stateful,
    accessible,
    from_qdate,
    list_table,
    splitter,
    to_qdate,
)

EVERYTHING, LICENSE, PRODUCT, VENDOR, TEAM = range(5)
KINDS = ("All licenses", "License", "Product", "Vendor", "Team")
RANGES: tuple[tuple[str, int | None], ...] = (
    ("Last 90 days", 90),
    ("Last year", 365),
    ("Last 5 years", 5 * 365 + 1),
    ("Custom…", None),
)
CUSTOM = len(RANGES) - 1
TOP_TEAMS = 20

_TEAM_COLUMNS: list[ListColumn[TeamCost]] = [
    ListColumn("Team", lambda r: r.team),
    ListColumn("Cost centre", lambda r: r.cost_centre),
    ListColumn(
        "People", lambda r: r.people, numeric=True, tip="People in the team who have not left"
    ),
    ListColumn(
        "Seats",
        lambda r: r.seats,
        numeric=True,
        tip="Rights held on the day by the team's people and the devices they own",
    ),
    ListColumn("Licenses", lambda r: r.licenses, numeric=True, tip="Licenses they draw on"),
    ListColumn("Cost", lambda r: r.cost, numeric=True, tip="Unit cost × seats, per currency"),
    ListColumn("Currency", lambda r: r.currency),
    ListColumn(
        "Without unit cost",
        lambda r: r.uncosted_seats or None,
        numeric=True,
        tip="Seats of licenses with no unit cost recorded (not in the cost)",
        bad=lambda r: r.uncosted_seats > 0,
    ),
]


def _date_edit(parent: QWidget, tip: str, name: str) -> QDateEdit:
    edit = accessible(QDateEdit(parent), name, tip)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setToolTip(tip)
    return edit


class UsagePage(Page):
    """Usage against limits over time, per scope; and seats and cost per team.

    Signals:
        series_shown(): a newly computed series is on the chart (tests wait on it).
        teams_shown(): the team table was recomputed.
    """

    title = "Usage"
    settings_group = "usage"
    # Seats and usage over time, by license, product and team.
    shows = frozenset(
        {"entitlement", "seat", "vendor", "product", "person", "device", "team", "import"}
    )

    series_shown = Signal()
    teams_shown = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        import pyqtgraph as pg  # noqa: PLC0415 (loads with the page, not at start-up)

        from seatledger.charts.usage import date_axis, style_plot  # noqa: PLC0415

        self._service = services.usage_history
        self._choices: dict[int, list[NamedItem]] = {}
        self._series: UsageSeries | None = None
        self._drawn: Any = None
        self._teams_loaded = False
        self._shown_once = False

        # ------------------------------------------------------------ scope and range
        self.kind = QComboBox(self)
        self.kind.addItems(list(KINDS))
        self.kind.setToolTip("What to chart")
        accessible(self.kind, "Chart", "What to chart: all licenses, or one license, product…")
        self.item = QComboBox(self)
        self.item.setObjectName("usage_scope")
        accessible(self.item, "Which one", "Type to find the license, product, vendor or team")
        self.item.setEditable(True)
        self.item.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.item.setMinimumContentsLength(36)
        self.item.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        completer = self.item.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        line = self.item.lineEdit()
        assert line is not None  # an editable combo box has one
        self.item_line = line
        self.range = QComboBox(self)
        self.range.addItems([name for name, _days in RANGES])
        self.range.setCurrentIndex(1)
        accessible(self.range, "Period")
        self.start = _date_edit(self, "First day of a custom range", "From")
        self.end = _date_edit(self, "Last day of a custom range", "To")
        today = self._service.today()
        self.end.setDate(to_qdate(today))
        self.start.setDate(to_qdate(today - dt.timedelta(days=364)))
        self.export_button = QPushButton("&Export chart…", self)
        self.export_button.setToolTip("Save the chart as PNG or SVG")
        self.status = QLabel(self)
        self.status.setObjectName("usage_status")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Chart", self))
        bar.addWidget(self.kind)
        bar.addWidget(self.item, 1)
        bar.addSpacing(12)
        bar.addWidget(self.range)
        bar.addWidget(self.start)
        bar.addWidget(QLabel("to", self))
        bar.addWidget(self.end)
        bar.addSpacing(12)
        bar.addWidget(self.status)
        bar.addWidget(self.export_button)

        # ------------------------------------------------------------ the chart
        self._chart_colors = colors().chart
        chart_colors = self._chart_colors
        self.plot_widget = pg.PlotWidget(
            self, background=chart_colors.background, axisItems={"bottom": date_axis()}
        )
        self.plot_widget.setObjectName("usage_chart")
        accessible(
            self.plot_widget,
            "Usage chart",
            "Rights used per day against the limit; the line above the chart reads the day "
            "under the mouse, the forecast is written below it",
        )
        self.plot = self.plot_widget.getPlotItem()
        style_plot(self.plot, chart_colors)
        self.plot.setMenuEnabled(False)
        self._cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(chart_colors.cursor))
        self.readout = QLabel(" ", self)
        self.readout.setObjectName("usage_readout")
        self.readout.setToolTip("The day under the mouse; drag to pan, wheel to zoom")
        self.forecast = QLabel(self)
        self.forecast.setObjectName("usage_forecast")
        self.forecast.setWordWrap(True)
        self.forecast.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes = QLabel(self)
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: palette(placeholder-text);")
        chart_tab = QWidget(self)
        chart_layout = QVBoxLayout(chart_tab)
        chart_layout.addLayout(bar)
        chart_layout.addWidget(self.readout)
        chart_layout.addWidget(self.plot_widget, 1)
        chart_layout.addWidget(self.forecast)
        chart_layout.addWidget(self.notes)
        self.plot_widget.scene().sigMouseMoved.connect(self._hover)

        # ------------------------------------------------------------ teams
        self.as_of = _date_edit(self, "Seats held at the end of this day", "As of")
        self.as_of.setDate(to_qdate(today))
        self.measure = QComboBox(self)
        self.measure.addItems(["Cost", "Seats"])
        self.measure.setToolTip("What the bars show (the top 20 teams)")
        accessible(self.measure, "Bars show")
        self.teams_export = QPushButton("E&xport…", self)
        self.teams_export.setToolTip("Save the table as CSV or XLSX (chargeback)")
        self.teams_status = QLabel(self)
        team_bar = QHBoxLayout()
        team_bar.addWidget(QLabel("As of", self))
        team_bar.addWidget(self.as_of)
        team_bar.addSpacing(12)
        team_bar.addWidget(QLabel("Bars show", self))
        team_bar.addWidget(self.measure)
        team_bar.addStretch(1)
        team_bar.addWidget(self.teams_status)
        team_bar.addWidget(self.teams_export)
        self.team_model: ListTableModel[TeamCost] = ListTableModel(_TEAM_COLUMNS, self)
        self.team_view = list_table(
            self, self.team_model, QAbstractItemView.SelectionMode.ExtendedSelection
        )
        self.team_view.setObjectName("team_costs")
        accessible(self.team_view, "Seats and cost by team")
        self.team_view.setSortingEnabled(True)
        self.team_view.sortByColumn(5, Qt.SortOrder.DescendingOrder)
        self.team_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.team_chart = pg.PlotWidget(self, background=chart_colors.background)
        self.team_chart.setObjectName("team_chart")
        accessible(self.team_chart, "Top teams chart", "The table beside it holds the same figures")
        self.team_chart.setMenuEnabled(False)
        style_plot(self.team_chart.getPlotItem(), chart_colors)
        self.team_splitter = splitter(self, self.team_view, self.team_chart, (1, 1), across=True)
        self.team_splitter.setSizes([640, 480])
        teams_tab = QWidget(self)
        teams_layout = QVBoxLayout(teams_tab)
        teams_layout.addLayout(team_bar)
        teams_layout.addWidget(self.team_splitter, 1)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(chart_tab, "&Chart")
        self.tabs.addTab(teams_tab, "&Teams")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.tabs)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.item.activated.connect(lambda _index: self.recompute())
        self.range.currentIndexChanged.connect(self._range_changed)
        self.start.dateChanged.connect(lambda _d: self._custom_dates_changed())
        self.end.dateChanged.connect(lambda _d: self._custom_dates_changed())
        self.export_button.clicked.connect(self._export_menu)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.as_of.dateChanged.connect(lambda _d: self.recompute_teams())
        self.measure.currentIndexChanged.connect(lambda _i: self._draw_teams())
        self.teams_export.clicked.connect(self._export_teams)
        self._range_changed(self.range.currentIndex())
        self._kind_changed(EVERYTHING)

    def activate(self) -> None:
        """The first time the page is shown, chart everything."""
        if not self._shown_once:
            self._shown_once = True
            self._stale = False
            self.recompute()
        super().activate()

    # ------------------------------------------------------------------ scope
    def scope(self) -> Scope:
        """The scope the pickers name."""
        kind = self.kind.currentIndex()
        if kind == EVERYTHING:
            return Scope()
        chosen = self.item.currentData()
        if not isinstance(chosen, int):
            return Scope()
        return {
            LICENSE: Scope(entitlement_id=chosen),
            PRODUCT: Scope(product_id=chosen),
            VENDOR: Scope(vendor_id=chosen),
            TEAM: Scope(team_id=chosen),
        }[kind]

    def span(self) -> tuple[dt.date, dt.date]:
        """The range the pickers name."""
        days = RANGES[self.range.currentIndex()][1]
        if days is None:
            return from_qdate(self.start.date()), from_qdate(self.end.date())
        end = self._service.today()
        return end - dt.timedelta(days=days - 1), end

    def _load_choices(self, kind: int) -> list[NamedItem]:
        if kind not in self._choices:
            loaders = {
                LICENSE: self._service.entitlements,
                PRODUCT: self._service.products,
                VENDOR: self._service.vendors,
                TEAM: self._service.teams,
            }
            self._choices[kind] = loaders[kind]() if kind in loaders else []
        return self._choices[kind]

    def _kind_changed(self, kind: int) -> None:
        self.item.blockSignals(True)
        self.item.clear()
        try:
            for choice in self._load_choices(kind):
                self.item.addItem(choice.name, choice.id)
        except KnownError as exc:
            self.report(exc)
        self.item.setEnabled(kind != EVERYTHING)
        self.item_line.setPlaceholderText(
            "Everything" if kind == EVERYTHING else f"Type to find a {KINDS[kind].lower()}…"
        )
        self.item.blockSignals(False)
        if kind == EVERYTHING or self.item.count():
            self.recompute()

    def _range_changed(self, index: int) -> None:
        custom = index == CUSTOM
        self.start.setEnabled(custom)
        self.end.setEnabled(custom)
        if not custom:
            start, end = self.span()
            for edit, day in ((self.start, start), (self.end, end)):
                edit.blockSignals(True)
                edit.setDate(to_qdate(day))
                edit.blockSignals(False)
        self.recompute()

    def _custom_dates_changed(self) -> None:
        if self.range.currentIndex() == CUSTOM:
            self.recompute()

    def show_license(self, entitlement_id: int) -> None:
        """Chart one license (the licenses page's "Chart usage")."""
        self._shown_once = True
        self.tabs.setCurrentIndex(0)
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(LICENSE)
        self.kind.blockSignals(False)
        self._kind_changed(LICENSE)
        row = self.item.findData(entitlement_id)
        if row < 0:  # added since the list was read
            self._choices.pop(LICENSE, None)
            self._kind_changed(LICENSE)
            row = self.item.findData(entitlement_id)
        self.item.setCurrentIndex(row)
        self.recompute()

    # ------------------------------------------------------------------ computing
    def recompute(self) -> None:
        """Compute the series the pickers name in the background; the newest request wins."""
        if not self._shown_once:
            return  # nothing is computed until the page is first shown
        self.runner.supersede((self, "series"))  # whatever was asked before is out of date
        scope = self.scope()
        if self.kind.currentIndex() != EVERYTHING and scope.is_everything:
            return  # nothing picked yet
        try:
            start, end = self.span()
        except KnownError as exc:
            self.report(exc)
            return
        service = self._service
        self.status.setText("Computing…")

        def work(_progress: Progress) -> UsageSeries:
            return service.series(scope, start, end)

        task = Task(work, self).on_done(self._show_series)
        task.failed.connect(lambda message, _details: self._failed(message))
        self.runner.start(task, key=(self, "series"))

    def _failed(self, message: str) -> None:
        self.status.setText("")
        self.forecast.setText(message)

    def _show_series(self, result: UsageSeries) -> None:
        from seatledger.charts.usage import draw_usage  # noqa: PLC0415

        self._series = result
        self._drawn = draw_usage(self.plot, result, colors=self._chart_colors)
        self.plot.addItem(self._cursor, ignoreBounds=True)
        self._cursor.setVisible(False)
        self.status.setText(plural(len(result.days), "day"))
        self.forecast.setText(f"<b>Forecast:</b> {_html(result.forecast.method)}")
        self.notes.setText(" ".join(result.notes))
        self.notes.setVisible(bool(result.notes))
        self.readout.setText(_html(result.label))
        self.series_shown.emit()

    def _hover(self, position: Any) -> None:
        if self._drawn is None:
            return
        if not self.plot.sceneBoundingRect().contains(position):
            self._cursor.setVisible(False)
            return
        x = self.plot.vb.mapSceneToView(position).x()
        text = self._drawn.readout(x)
        self._cursor.setVisible(text is not None)
        if text is not None:
            self._cursor.setPos(int(x) + 0.5)
            self.readout.setText(text)

    def series(self) -> UsageSeries | None:
        """The series on the chart."""
        return self._series

    def readout_at(self, day: dt.date) -> str | None:
        """The hover text for ``day`` (what the readout shows with the mouse over it)."""
        if self._drawn is None:
            return None
        x = float((day - dt.date(1970, 1, 1)).days) + 0.5
        text: str | None = self._drawn.readout(x)
        return text

    # ------------------------------------------------------------------ exporting the chart
    def _export_menu(self) -> None:
        menu = QMenu(self)
        menu.addAction("PNG image…", lambda: self._ask_export(".png"))
        menu.addAction("SVG drawing…", lambda: self._ask_export(".svg"))
        menu.exec(self.export_button.mapToGlobal(self.export_button.rect().bottomLeft()))

    def _ask_export(self, suffix: str) -> None:
        if self._series is None:
            return
        kind = "PNG image (*.png)" if suffix == ".png" else "SVG drawing (*.svg)"
        name = f"usage-{self._series.end}{suffix}"
        path, _filter = QFileDialog.getSaveFileName(self, "Export the chart", name, kind)
        if path:
            self.export_chart(Path(path).with_suffix(suffix))

    def export_chart(self, path: Path) -> None:
        """Write the chart shown to ``path`` (PNG or SVG, as the command line draws it)."""
        if self._series is None:
            return
        from seatledger.charts.usage import render_usage_chart  # noqa: PLC0415

        try:
            render_usage_chart(self._series, path)
        except KnownError as exc:
            self.report(exc)
            return
        self.status_message.emit(f"Saved the chart to {path.name}.")

    # ------------------------------------------------------------------ teams
    def _tab_changed(self, index: int) -> None:
        if index == 1 and not self._teams_loaded:
            self.recompute_teams()

    def recompute_teams(self) -> None:
        """Recompute the team table for the chosen day in the background."""
        self._teams_loaded = True
        day = from_qdate(self.as_of.date())
        service = self._service
        self.teams_status.setText("Computing…")

        def work(_progress: Progress) -> list[TeamCost]:
            return service.team_costs(day)

        task = Task(work, self).on_done(self._show_teams)
        task.failed.connect(lambda message, _details: self.teams_status.setText(message))
        self.runner.start(task, key=(self, "teams"))

    def _show_teams(self, rows: list[TeamCost]) -> None:
        self.team_model.set_rows(rows)
        seats = sum(r.seats for r in rows)
        self.teams_status.setText(f"{plural(len(rows), 'row')} · {plural(seats, 'seat')}")
        self._draw_teams()
        self.teams_shown.emit()

    def _draw_teams(self) -> None:
        import pyqtgraph as pg  # noqa: PLC0415

        plot = self.team_chart.getPlotItem()
        plot.clear()
        by_cost = self.measure.currentIndex() == 0
        # Chargeback is per team: seats of nobody's team (devices without an owner) are in the
        # table, not among the bars.
        rows = [r for r in self.team_model.rows if r.seats and r.team_id is not None]
        label = "Seats"
        if by_cost:  # one currency: the one most seats are paid in
            paid: dict[str, int] = {}
            for r in rows:
                paid[r.currency] = paid.get(r.currency, 0) + r.seats
            main = max(paid, key=lambda c: paid[c], default="")
            rows = [r for r in rows if r.currency == main]
            label = f"Cost ({main})" if main else "Cost"

        def value(row: TeamCost) -> float:
            return float(row.cost or 0) if by_cost else float(row.seats)

        top = sorted(rows, key=value, reverse=True)[:TOP_TEAMS]
        top.reverse()  # the largest at the top
        if not top:
            return
        bars = pg.BarGraphItem(
            x0=0, y=list(range(len(top))), height=0.7, width=[value(r) for r in top],
            brush=pg.mkBrush(self._chart_colors.used), pen=pg.mkPen(None),
        )  # fmt: skip
        plot.addItem(bars)
        plot.getAxis("left").setTicks([[(n, r.team) for n, r in enumerate(top)]])
        plot.setLabel("bottom", label)
        plot.setTitle(f"Top {len(top)} teams", color=self._chart_colors.text, size="10pt")
        plot.setMouseEnabled(x=False, y=False)
        plot.autoRange()

    def _export_teams(self) -> None:
        default = f"chargeback-{from_qdate(self.as_of.date())}.xlsx"
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export seats and cost by team", default, "Excel workbook (*.xlsx);;CSV (*.csv)"
        )
        if path:
            self.export_teams(Path(path))

    def export_teams(self, path: Path) -> None:
        """Write the team table to ``path`` (.csv or .xlsx)."""
        try:
            export.export_table(TEAM_HEADERS, [team_cells(r) for r in self.team_model.rows], path)
        except KnownError as exc:
            self.report(exc)
            return
        self.status_message.emit(f"Exported seats and cost by team to {path.name}.")

    # ------------------------------------------------------------------ light and dark
    def changeEvent(self, event: QEvent) -> None:
        """Light to dark or back: the charts are drawn again in the matching colours."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and colors().chart != self._chart_colors:
            self.restyle_charts()

    def chart_colors(self) -> ChartColors:
        """The colours the charts are drawn in now."""
        return self._chart_colors

    def restyle_charts(self) -> None:
        """Draw both charts in the colours of the palette in use."""
        import pyqtgraph as pg  # noqa: PLC0415

        from seatledger.charts.usage import draw_usage, style_plot  # noqa: PLC0415

        chart_colors = self._chart_colors = colors().chart
        for widget in (self.plot_widget, self.team_chart):
            widget.setBackground(chart_colors.background)
            style_plot(widget.getPlotItem(), chart_colors)
        self._cursor.setPen(pg.mkPen(chart_colors.cursor))
        if self._series is not None:
            self._drawn = draw_usage(self.plot, self._series, colors=chart_colors)
            self.plot.addItem(self._cursor, ignoreBounds=True)
            self._cursor.setVisible(False)
        if self._teams_loaded:
            self._draw_teams()

    # ------------------------------------------------------------------ page
    def refresh(self) -> None:
        """Data changed: read the pickers' lists again and recompute what is shown."""
        super().refresh()
        kind = self.kind.currentIndex()
        chosen = self.item.currentData()
        self._choices.clear()
        self._kind_changed(kind)
        if chosen is not None:
            row = self.item.findData(chosen)
            if row >= 0:
                self.item.setCurrentIndex(row)
        self.recompute()
        if self._teams_loaded:
            self.recompute_teams()

    def focus_search(self) -> None:
        """Ctrl+F: the scope picker."""
        self.item.setFocus()
        self.item_line.selectAll()

    def layouts(self) -> dict[str, Stateful]:
        """The team splitter."""
        return {"usage/teams_splitter": self.team_splitter}

    def save_state(self, settings: QSettings) -> None:
        """Remember the range and the team splitter."""
        settings.setValue("usage/range", self.range.currentIndex())
        super().save_state(settings)

    def restore_state(self, settings: QSettings) -> None:
        """Restore what :meth:`save_state` saved."""
        value = str(settings.value("usage/range", ""))
        if value.isdigit() and 0 <= int(value) < CUSTOM:
            self.range.setCurrentIndex(int(value))
        super().restore_state(settings)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
