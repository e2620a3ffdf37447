"""The reconciliation page: the effective license position and its findings, as of any date.

The position is computed off the GUI thread (with progress and cancel) whenever the date or the
shelfware window changes, or data changed.  Selecting a number shows the people, devices or
purchases behind it; selecting a finding shows the seats or installs behind it.  The position
exports to CSV, XLSX or JSON.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from html import escape
from pathlib import Path

from PySide6.QtCore import QDate, QItemSelection, QModelIndex, QSettings, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Permission
from seatledger.progress import Progress
from seatledger.services.operators.session import Services
from seatledger.services.position import export
from seatledger.services.position.engine import (
    CONCURRENT_WINDOW_DAYS,
    Column,
    Finding,
    FindingKind,
    Holder,
    Position,
    PositionRow,
    PositionScope,
    short_of_rights,
)
from seatledger.services.servers.position import ServerLine
from seatledger.text import agree, plural
from seatledger.ui.list_model import AtLeast, AtMost, ListColumn, ListTableModel
from seatledger.ui.pages import Page
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.server_lines import ServerLinesView
from seatledger.ui.tasks import Task
from seatledger.ui.theme import colors
from seatledger.ui.widgets import (
    EmptyState,
    SearchBox,
    Stateful,
    accessible,
    from_qdate,
    list_table,
    splitter,
)

_SERVERS_TAB = 2
ServerLines = tuple[tuple[ServerLine, ...], tuple[str, ...]]  # lines and findings

_POSITION_COLUMNS: list[ListColumn[PositionRow]] = [
    ListColumn("Product", lambda r: r.title),
    ListColumn("Metric", lambda r: r.metric_label),
    ListColumn(
        "Owned",
        lambda r: "unlimited" if r.owned is None else r.owned,
        numeric=True,
        tip="Rights owned: entitlements in term on the date",
    ),
    ListColumn(
        "Assigned",
        lambda r: r.assigned,
        numeric=True,
        tip="Rights assigned: seats held on the date",
    ),
    ListColumn(
        "Needed",
        lambda r: AtLeast(r.needed) if r.unknown_hardware else r.needed,
        numeric=True,
        tip="Rights needed: the metric over seats, installs and license-server use "
        "(≥: devices whose cores are unknown are left out; see the findings)",
    ),
    ListColumn(
        "Available",
        lambda r: (
            AtMost(r.available) if r.unknown_hardware and r.available is not None else r.available
        ),
        numeric=True,
        tip="Owned minus needed; negative means short",
        bad=lambda r: r.shortfall > 0,
    ),
    ListColumn(
        "Unlicensed",
        lambda r: r.unlicensed,
        numeric=True,
        tip="Installs on devices (or of owners) holding no seat",
        bad=lambda r: r.unlicensed > 0,
    ),
    ListColumn(
        "True-up",
        lambda r: r.true_ups_text() if r.true_ups else r.true_up or None,
        numeric=True,
        tip="Shortfall × the purchases' average unit cost",
        bad=lambda r: r.shortfall > 0,
    ),
    ListColumn(
        "Over-licensed",
        lambda r: AtMost(r.over_licensed) if r.unknown_hardware else r.over_licensed,
        numeric=True,
        tip="Rights owned beyond what is needed",
    ),
    ListColumn("Currency", lambda r: r.currency),
]
_DRILLABLE = {2: Column.OWNED, 3: Column.ASSIGNED, 4: Column.NEEDED, 6: Column.UNLICENSED}
_FINDING_COLUMNS: list[ListColumn[Finding]] = [
    ListColumn("Finding", lambda f: f.kind.label),
    ListColumn("Product", lambda f: f.title),
    ListColumn("Count", lambda f: f.count, numeric=True),
    ListColumn("Detail", lambda f: f.text),
]
_HOLDER_COLUMNS: list[ListColumn[Holder]] = [
    ListColumn("Kind", lambda h: h.kind.capitalize()),
    ListColumn("Name", lambda h: h.name),
    ListColumn("Why it counts", lambda h: h.detail),
    ListColumn("Since", lambda h: h.since or None),
    ListColumn(
        "Source",
        lambda h: h.source or None,
        tip="The import the row rests on (file, SHA-256 and line), or for a seat or purchase "
        "entered by hand, who entered it and the ledger entry",
    ),
    ListColumn(
        "Person or device from",
        lambda h: h.record or None,
        tip="The import line (or ledger entry) that last set this person's or device's own fields",
    ),
]


def _table(
    parent: QWidget,
    model: ListTableModel[object]
    | ListTableModel[PositionRow]
    | ListTableModel[Finding]
    | ListTableModel[Holder],
) -> QTableView:
    view = list_table(
        parent,
        model,
        QAbstractItemView.SelectionMode.SingleSelection,
        QAbstractItemView.SelectionBehavior.SelectItems,
    )
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setHighlightSections(False)
    return view


def _money(totals: dict[str, Decimal]) -> str:
    return " + ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(totals.items()))


class ReconciliationPage(Page):
    """Position table, findings, and the rows behind every number."""

    title = "Reconciliation"
    settings_group = "reconciliation"
    # What the position is computed from: purchases, seats, installs, holders and title rules.
    shows = frozenset(
        {
            "entitlement", "seat", "vendor", "product", "person", "device", "team", "import",
            "normalization_rule", "server_vm",
        }
    )  # fmt: skip

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._service = services.position
        self._position: Position | None = None

        self.as_of = QDateEdit(self)
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.as_of.setDate(QDate.currentDate())
        self.as_of.setToolTip("The position as it stood at the end of this day")
        accessible(self.as_of, "As of")
        self.shelf_days = QSpinBox(self)
        self.shelf_days.setRange(1, 3650)
        self.shelf_days.setValue(90)
        self.shelf_days.setSuffix(" days")
        self.shelf_days.setToolTip(
            "A seat is shelfware when its holder shows no install or use for this long"
        )
        accessible(self.shelf_days, "Shelfware after")
        self.vendor = QComboBox(self)
        self.vendor.addItem("All vendors", None)
        self.vendor.setToolTip(
            "Compute the position of one vendor's products only (much faster on a large "
            "organization)"
        )
        accessible(self.vendor, "Vendor")
        self.recalculate = QPushButton("&Recalculate", self)
        self.export_button = QPushButton("&Export…", self)
        self.export_button.setToolTip("Save the position and findings as CSV, XLSX or JSON")
        self.progress = ProgressStrip("Cancel", self)
        self.progress.setMaximumWidth(360)
        self.progress.busy_changed.connect(self._set_busy)
        self.summary = QLabel(self)
        self.summary.setObjectName("position_summary")
        self.summary.setWordWrap(True)  # warnings (old imports, old snapshots) follow the figures
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("As of", self))
        bar.addWidget(self.as_of)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Shelfware after", self))
        bar.addWidget(self.shelf_days)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Vendor", self))
        bar.addWidget(self.vendor)
        bar.addWidget(self.recalculate)
        bar.addStretch(1)
        bar.addWidget(self.progress)
        bar.addWidget(self.export_button)

        self.position_model: ListTableModel[PositionRow] = ListTableModel(_POSITION_COLUMNS, self)
        self.finding_model: ListTableModel[Finding] = ListTableModel(_FINDING_COLUMNS, self)
        self.holder_model: ListTableModel[Holder] = ListTableModel(_HOLDER_COLUMNS, self)
        self.search = SearchBox("Filter products (Ctrl+F)", self, name="Filter products")
        self.only_problems = QComboBox(self)
        self.only_problems.addItems(
            ["All products", "Short of rights", "Unlicensed installs", "Over-licensed"]
        )
        accessible(self.only_problems, "Show products")
        self.position_view = accessible(
            _table(self, self.position_model),
            "License position",
            "Rights owned, assigned and needed per product and metric",
        )
        # A product name cut for room keeps its end ("Microsoft Windows…2022 Datacenter").
        self.position_view.setWordWrap(False)  # a wrapped cell elides at its end whatever
        self.position_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.finding_kind = QComboBox(self)
        self.finding_kind.addItem("All findings", None)
        for kind in FindingKind:
            self.finding_kind.addItem(kind.label, kind)
        accessible(self.finding_kind, "Show findings")
        self.finding_view = accessible(_table(self, self.finding_model), "Findings")
        self.finding_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.holder_view = accessible(
            _table(self, self.holder_model), "Rows behind the number", "Select a figure above"
        )
        self.holder_title = QLabel(
            "Select a number to see the people, devices or purchases behind it.", self
        )
        self.holder_title.setWordWrap(True)

        position_tab = QWidget(self)
        layout = QVBoxLayout(position_tab)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.only_problems)
        layout.addLayout(filters)
        layout.addWidget(self.position_view)
        findings_tab = QWidget(self)
        layout = QVBoxLayout(findings_tab)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show", self))
        filters.addWidget(self.finding_kind)
        filters.addStretch(1)
        layout.addLayout(filters)
        layout.addWidget(self.finding_view)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(position_tab, "&Position")
        self.tabs.addTab(findings_tab, "F&indings")
        # The server lines (Windows Server, SQL Server, Oracle, IBM, RHEL on the imported hosts
        # and VMs), shown where hosts were imported and the vendor chosen has server rules.
        self.servers_view = ServerLinesView(self)
        self.servers_view.setObjectName("reconciliationServers")
        self.tabs.addTab(self.servers_view, "Ser&vers")
        self.tabs.setTabVisible(_SERVERS_TAB, False)
        detail = QWidget(self)
        layout = QVBoxLayout(detail)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.holder_title)
        layout.addWidget(self.holder_view)
        self.splitter = splitter(self, self.tabs, detail, (3, 2))
        # The server lines carry their own drill-down (hosts and VMs); the rows pane is the
        # desktop figures'.
        self.tabs.currentChanged.connect(lambda index: detail.setVisible(index != _SERVERS_TAB))

        outer = QVBoxLayout(self.body())
        outer.addLayout(bar)
        outer.addWidget(self.summary)
        outer.addWidget(self.splitter, 1)
        empty = EmptyState(
            "Nothing to reconcile yet",
            "Reconciliation compares what was bought (licenses) with what is assigned, "
            "installed and used, product by product, and lists every difference as a finding "
            "for an audit to decide. Import your purchases, then an inventory export from "
            "your discovery tool.",
            self,
        )
        may_import = self.may(Permission.EDIT_LICENSES)
        refused = "" if may_import else "License managers and administrators import files."
        for label, import_kind in (
            ("Import &purchases…", "entitlements"),
            ("Import &inventory…", "inventory"),
        ):
            empty.add_action(
                label,
                partial(self.import_requested.emit, import_kind),
                enabled=may_import,
                tip=refused,
            )
        self.set_empty_state(empty)
        self._set_busy(False)

        self.recalculate.clicked.connect(self.refresh)
        self.as_of.dateChanged.connect(lambda _date: self.refresh())
        self.shelf_days.editingFinished.connect(self.refresh)
        self.vendor.activated.connect(lambda _index: self.refresh())
        self.export_button.clicked.connect(self.export_dialog)
        self.search.searched.connect(lambda _text: self._apply_filters())
        self.only_problems.currentIndexChanged.connect(lambda _index: self._apply_filters())
        self.finding_kind.currentIndexChanged.connect(lambda _index: self._apply_filters())
        self.position_view.selectionModel().selectionChanged.connect(self._position_selected)
        self.finding_view.selectionModel().selectionChanged.connect(self._finding_selected)
        self._stale = True

    # ------------------------------------------------------------------ computing
    def as_of_date(self) -> dt.date:
        """The chosen date."""
        return from_qdate(self.as_of.date())

    def vendor_id(self) -> int | None:
        """The vendor the position is computed for (None: every vendor)."""
        value = self.vendor.currentData()
        return int(value) if isinstance(value, int) else None

    def _fill_vendors(self) -> None:
        """The vendors to choose from, keeping the one chosen while it exists."""
        chosen = self.vendor_id()
        vendors = self.services.catalog.vendors()
        if [(v.id, v.name) for v in vendors] == [
            (self.vendor.itemData(i), self.vendor.itemText(i))
            for i in range(1, self.vendor.count())
        ]:
            return
        self.vendor.blockSignals(True)
        self.vendor.clear()
        self.vendor.addItem("All vendors", None)
        for item in vendors:
            self.vendor.addItem(item.name, item.id)
        self.vendor.setCurrentIndex(max(self.vendor.findData(chosen), 0))
        self.vendor.blockSignals(False)

    def refresh(self) -> None:
        """Recompute the position in the background (of the chosen vendor only, if one is)."""
        super().refresh()
        self._fill_vendors()
        as_of, shelf = self.as_of_date(), self.shelf_days.value()
        service = self._service
        vendor_id = self.vendor_id()
        scope = PositionScope(vendor_id=vendor_id)

        def work(progress: Progress) -> Position:
            return service.position(as_of, shelf, progress, scope)

        # A newer computation (another date) supersedes one still running: it is cancelled and
        # its outcome dropped.
        task = Task(work, self).on_done(self._show)
        task.failed.connect(
            lambda message, _details: self.summary.setText(
                f"The position could not be computed: {message}"
            )
        )
        task.cancelled.connect(lambda: self.summary.setText("Cancelled; showing the last result."))
        self.progress.follow(task, "Computing…")
        of = "" if vendor_id is None else f" of {self.vendor.currentText()}"
        self.summary.setText(f"Computing the position{of} on {as_of}…")
        self.runner.start(task, key=(self, "position"))
        servers = self.services.servers

        def server_lines(_progress: Progress) -> tuple[ServerLines, str] | None:
            found = servers.lines_of(as_of, vendor_id)
            return None if found is None else (found, of)

        lines_task = Task(server_lines, self).on_done(self._show_servers)
        self.runner.start(lines_task, key=(self, "servers"))

    def _show_servers(self, result: tuple[ServerLines, str] | None) -> None:
        """The server lines beside the position (their tab hidden where there are none)."""
        self.tabs.setTabVisible(_SERVERS_TAB, result is not None)
        if result is None:
            return
        (lines, findings), of = result
        self.servers_view.set_lines(
            f"Servers{of} on {self.as_of_date()} (hypervisor hosts and clusters, their VMs, "
            "physical servers)",
            lines,
            findings,
        )
        short = sum(1 for line in lines if line.short)
        self.tabs.setTabText(
            _SERVERS_TAB, f"Ser&vers ({len(lines):,}" + (f", {short:,} short)" if short else ")")
        )

    def _set_busy(self, busy: bool) -> None:
        self.recalculate.setEnabled(not busy)
        self.export_button.setEnabled(not busy and self._position is not None)

    def _show(self, result: Position) -> None:
        self._position = result
        self._set_busy(False)
        rows = result.rows
        short = [r for r in rows if r.shortfall]
        cost: dict[str, Decimal] = {}
        unknown = 0
        for row in short:
            if row.true_up is None:
                unknown += 1
            else:
                cost[row.currency] = cost.get(row.currency, Decimal(0)) + row.true_up
        unlicensed = sum(r.unlicensed for r in rows)
        chosen = self.vendor.findData(result.scope.vendor_id)
        of = "" if result.scope.whole else f"{escape(self.vendor.itemText(chosen))}, "
        text = (
            f"<b>{of}{result.as_of.isoformat()}</b>: {len(rows):,} product/metric rows; "
            f"<b>{short_of_rights(rows)}</b>"
        )
        if cost:
            text += f" (true-up {_money(cost)}"
            text += f", {unknown} without a known cost)" if unknown else ")"
        text += (
            f"; {plural(unlicensed, 'unlicensed install')}; "
            f"{plural(len(result.findings), 'finding')}."
        )
        stale = [
            f"{source.kind} ({plural(source.age_days or 0, 'day')} old)"
            for source in self.services.settings.sources(result.as_of)
            if source.stale
        ]
        if stale:
            allowed = self.services.settings.data().freshness_days
            text += (
                f" <span style='color:{colors().bad}'>Older than "
                f"{plural(allowed, 'day')}: {', '.join(stale)}; the figures miss what changed "
                "since.</span>"
            )
        unknown_hardware = sum(r.unknown_hardware for r in rows)
        if unknown_hardware:
            text += (
                f" {plural(unknown_hardware, 'device')} with unknown cores or processors (or "
                f"a processor without a rate) {agree(unknown_hardware, 'is')} left out: "
                "figures marked ≥ or ≤ are bounds."
            )
        old_snapshots = sum(1 for b in result.basis.values() if b.stale)
        if old_snapshots:
            figures = plural(old_snapshots, "concurrent-use figure")
            verb = "rests" if old_snapshots == 1 else "rest"
            text += (
                f" <span style='color:{colors().bad}'>{figures} {verb} on snapshots older than "
                "the sampling interval (select Needed for which).</span>"
            )
        self.summary.setText(text)
        self.tabs.setTabText(1, f"F&indings ({len(result.findings):,})")
        self._apply_filters()
        # A vendor with nothing to show is not an empty database: the vendor stays choosable.
        self.show_empty(result.scope.whole and not rows and not result.findings)

    def _fit_position_columns(self) -> None:
        """Every column as wide as its contents; the product column gives way only when the
        figures would not fit otherwise (a stretched product column was cut at any width)."""
        view = self.position_view
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.resizeColumnsToContents()
        columns = self.position_model.columnCount()
        others = sum(header.sectionSize(c) for c in range(1, columns))
        # The width inside the frame, less a vertical scroll bar (shown or about to be).
        inside = view.width() - 2 * view.frameWidth() - view.verticalScrollBar().sizeHint().width()
        room = inside - others
        header.resizeSection(0, max(room, min(header.sectionSize(0), 180)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Refit the position's columns to the new width."""
        super().resizeEvent(event)
        if self._position is not None:
            self._fit_position_columns()

    def _apply_filters(self) -> None:
        position = self._position
        if position is None:
            return
        needle = self.search.text().strip().lower()
        mode = self.only_problems.currentIndex()
        rows = [
            r
            for r in position.rows
            if (not needle or needle in r.title.lower())
            and (
                mode == 0
                or (mode == 1 and r.shortfall > 0)
                or (mode == 2 and r.unlicensed > 0)
                or (mode == 3 and r.over_licensed > 0)
            )
        ]
        self.position_model.set_rows(rows)
        # Qt hands the kind back as a plain string: compared by value, not identity.
        kind = self.finding_kind.currentData()
        self.finding_model.set_rows(
            [
                f
                for f in position.findings
                if (kind is None or f.kind == kind) and (not needle or needle in f.title.lower())
            ]
        )
        self._fit_position_columns()
        self.finding_view.resizeColumnToContents(0)
        self.finding_view.resizeColumnToContents(1)
        self.finding_view.horizontalHeader().setStretchLastSection(True)

    # ------------------------------------------------------------------ drill-down
    def _position_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        index = self.position_view.currentIndex()
        if not index.isValid():
            return
        row = self.position_model.row(index.row())
        column = _DRILLABLE.get(index.column(), Column.NEEDED)
        self.show_holders(row, column)

    def show_holders(self, row: PositionRow, column: Column) -> None:
        """Load the rows behind one number of the position."""
        as_of, service = self.as_of_date(), self._service
        label = {
            Column.OWNED: "owned",
            Column.ASSIGNED: "assigned",
            Column.NEEDED: "needed",
            Column.UNLICENSED: "unlicensed installs",
        }[column]
        self.holder_title.setText(f"Loading what is behind {label} for {row.title}…")
        task = Task(
            lambda _report: service.holders(row.product_id, row.metric, column, as_of), self
        )

        def shown(result: tuple[list[Holder], int]) -> None:
            holders, total = result
            self.holder_model.set_rows(holders)
            more = f" (the first {len(holders):,} shown)" if total > len(holders) else ""
            text = f"<b>{row.title}</b>, {row.metric_label}: {total:,} behind “{label}”{more}."
            if row.metric is Metric.CONCURRENT and column is Column.NEEDED:
                text = (
                    f"<b>{row.title}</b>, concurrent: {total:,} checkouts and seats in the last "
                    f"{CONCURRENT_WINDOW_DAYS} days{more}; at most {row.needed:,} licenses were "
                    "out at once (the peak is what counts)."
                )
                basis = self._position.basis.get(row.product_id) if self._position else None
                if basis is not None:  # snapshots (how many, how old) or a complete log
                    said = escape(basis.text())
                    text += (
                        f" <span style='color:{colors().bad}'>{said}</span>"
                        if basis.stale
                        else f" {said}"
                    )
            self.holder_title.setText(text)
            self._fit_holders()

        task.on_done(shown)
        task.failed.connect(lambda message, _d: self.holder_title.setText(message))
        self.runner.start(task, key=(self, "detail"))

    def _finding_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        index = self.finding_view.currentIndex()
        if not index.isValid() or self._position is None:
            return
        finding = self.finding_model.row(index.row())
        as_of, shelf, service = self.as_of_date(), self._position.shelf_days, self._service
        task = Task(lambda _report: service.finding_rows(finding, as_of, shelf), self)

        def shown(result: list[Holder]) -> None:
            self.holder_model.set_rows(result)
            self.holder_title.setText(
                f"<b>{finding.kind.label}</b> — {finding.title}: {finding.text}."
            )
            self._fit_holders()

        task.on_done(shown)
        task.failed.connect(lambda message, _d: self.holder_title.setText(message))
        self.runner.start(task, key=(self, "detail"))

    def _fit_holders(self) -> None:
        self.holder_view.resizeColumnToContents(0)
        self.holder_view.resizeColumnToContents(1)
        self.holder_view.resizeColumnToContents(2)
        self.holder_view.resizeColumnToContents(3)
        self.holder_view.resizeColumnToContents(4)
        self.holder_view.horizontalHeader().setStretchLastSection(True)

    def select_number(self, product: str, column: Column) -> None:
        """Select one product's number, as a click would (keyboard and tests)."""
        for number, row in enumerate(self.position_model.rows):
            if row.product == product:
                target = next(c for c, col in _DRILLABLE.items() if col is column)
                self.position_view.setCurrentIndex(self.position_model.index(number, target))
                return

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> None:
        """Ask where to save the position, then write it."""
        if self._position is None:
            return
        default = f"position-{self._position.as_of.isoformat()}.xlsx"
        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Export the position",
            default,
            "Excel workbook (*.xlsx);;CSV (*.csv);;JSON (*.json)",
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> None:
        """Write the position shown to ``path`` (format by extension), with the sources of its
        figures, in the background (reading every source line takes seconds on a large
        database)."""
        if self._position is None:
            return
        position, service = self._position, self._service
        self.status_message.emit(f"Exporting the position and its sources to {path.name}…")
        task = Task(
            lambda _report: export.export_position(position, path, service.sources(position)),
            self,
        )
        task.on_done(
            lambda _path: self.status_message.emit(f"Exported the position to {path.name}.")
        )
        task.failed.connect(self.show_error)
        self.runner.start(task, key=(self, "export"))

    # ------------------------------------------------------------------ state
    def focus_search(self) -> None:
        """Ctrl+F filters the products."""
        self.tabs.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    def layouts(self) -> dict[str, Stateful]:
        """The splitter."""
        return {"reconciliation/splitter": self.splitter}

    def save_state(self, settings: QSettings) -> None:
        """Remember the splitter and the shelfware window."""
        super().save_state(settings)
        settings.setValue("reconciliation/shelf_days", self.shelf_days.value())

    def restore_state(self, settings: QSettings) -> None:
        """Restore what :meth:`save_state` saved."""
        super().restore_state(settings)
        days = settings.value("reconciliation/shelf_days")
        if days is not None:
            self.shelf_days.setValue(int(str(days)))

    def current_index(self) -> QModelIndex:
        """The selected cell of the position table."""
        return self.position_view.currentIndex()
