"""The Servers page: the server position and a what-if beside it.

What each server product (Windows Server, SQL Server, Oracle, IBM, Red Hat Enterprise Linux)
requires on the imported hosts and VMs under its vendor's rule, what was bought and what is
short, with the reason in words and the hosts and VMs behind each figure.  The what-if panel
moves VMs, pins them in hard partitions, takes hosts out, switches SQL Server to Enterprise with
Software Assurance, widens Oracle's soft partitions or licenses a host, cluster or physical
server with a Windows Server edition instead of the cheaper one; the table then shows the
requirement (and its cost at the prices the reason names) after it beside the one before.
Nothing the what-if does is written.  Physical servers (a server OS on its own hardware, from
the device inventory) are counted beside the hosts and named in the reasons.

Import export… reads an RVTools or Hyper-V export
(:class:`~seatledger.ui.dialogs.topology_import.TopologyImportDialog`, loaded when it opens).
"""

from __future__ import annotations

import dataclasses
import html
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.roles import Permission
from seatledger.domain.server.microsoft import Edition
from seatledger.domain.server.topology import Reach
from seatledger.errors import KnownError
from seatledger.progress import Progress
from seatledger.services.operators.session import Services
from seatledger.services.position.export import export_table
from seatledger.services.servers import position
from seatledger.services.servers.position import (
    RULES,
    ServerLine,
    ServerPosition,
    ServerState,
    WhatIf,
)
from seatledger.text import plural
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.pages import Page
from seatledger.ui.server_lines import STANDING_TIP, details_html, findings_html
from seatledger.ui.tasks import Task
from seatledger.ui.widgets import EmptyState, accessible, list_table

_Row = tuple[ServerLine, ServerLine | None]  # the line, and the same line after the what-if


def _after(row: _Row) -> int | None:
    return None if row[1] is None else row[1].required


def _change(row: _Row) -> str | None:
    if row[1] is None:
        return None
    delta = row[1].required - row[0].required
    return f"{delta:+,}" if delta else "="


def _cost_change(row: _Row) -> str | None:
    line, after = row
    if after is None or after.cost is None:
        return None
    delta = after.cost - (line.cost or Decimal(0))
    return f"{delta:+,.2f}" if delta else "="


_COLUMNS: list[ListColumn[_Row]] = [
    ListColumn("Product", lambda r: r[0].title),
    ListColumn("Counts", lambda r: r[0].unit),
    ListColumn("Required", lambda r: r[0].required, numeric=True),
    ListColumn("Bought", lambda r: r[0].purchased, numeric=True),
    ListColumn(
        "Short",
        lambda r: r[0].short or None,
        numeric=True,
        bad=lambda r: r[0].short > 0,
        tip="What the requirement needs beyond what was bought",
    ),
    ListColumn("Status", lambda r: r[0].standing, tip=STANDING_TIP),
    ListColumn(
        "What if",
        _after,
        numeric=True,
        tip="The requirement after the what-if (nothing is written)",
        bad=lambda r: r[1] is not None and r[1].short > 0,
    ),
    ListColumn("Change", _change, numeric=True),
    ListColumn(
        "Cost",
        lambda r: r[0].cost,
        numeric=True,
        tip="What the requirement costs at the prices its reason names (Windows Server, Red Hat)",
    ),
    ListColumn(
        "Cost change",
        _cost_change,
        numeric=True,
        tip="What the what-if's requirement costs more (+) or less (−) than the one before",
    ),
    ListColumn("Rule", lambda r: RULES.get(r[0].family, r[0].family)),
]


class ServersPage(Page):
    """The server position, its reasons, and a what-if."""

    title = "Servers"
    settings_group = "servers"
    shows = frozenset(
        {"import", "entitlement", "product", "vendor", "normalization_rule", "server_vm"}
    )

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._state: ServerState | None = None
        self._before: ServerPosition | None = None
        self._whatif = WhatIf()

        self.summary = QLabel(self)
        self.summary.setObjectName("serversSummary")
        self.summary.setWordWrap(True)
        self.import_button = QPushButton("&Import export…", self)
        self.import_button.setObjectName("import_topology")
        self.import_button.setEnabled(self.may(Permission.EDIT_DIRECTORY))
        self.import_button.clicked.connect(self.import_export)
        self.statement_button = QPushButton("Import &statement…", self)
        self.statement_button.setObjectName("import_statement")
        self.statement_button.setToolTip(
            "A Microsoft License Statement or an ILMT audit snapshot, as evidence: each "
            "difference from the purchases and the requirement becomes a finding below"
        )
        self.statement_button.setEnabled(self.may(Permission.EDIT_LICENSES))
        self.statement_button.clicked.connect(self.import_statement)
        self.export_button = QPushButton("E&xport…", self)
        self.export_button.setObjectName("export_servers")
        self.export_button.setToolTip(
            "A row per host, partition and VM behind each figure (after the what-if, if any), "
            "as CSV or XLSX: the Microsoft per-host summary, the Oracle server worksheet"
        )
        self.export_button.clicked.connect(self.export)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.export_button)
        top.addWidget(self.import_button)
        top.addWidget(self.statement_button)

        self.model: ListTableModel[_Row] = ListTableModel(_COLUMNS, self)
        self.table = list_table(self, self.model)
        self.table.setObjectName("serverPosition")
        accessible(self.table, "Server position", "Select a product to see why")
        self.table.setSortingEnabled(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_reason())
        self.reason = QTextBrowser(self)
        self.reason.setObjectName("serverReason")
        accessible(self.reason, "Why", "The selected product's requirement in words")

        # The table spans the page (its ten columns fit at 1280 px); why and what-if share the
        # lower half side by side.
        self.whatif_box = self._build_whatif()
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(self.reason)
        lower.addWidget(self.whatif_box)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 1)

        body = QSplitter(Qt.Orientation.Vertical, self)
        body.addWidget(self.table)
        body.addWidget(lower)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 2)
        body.setSizes([1000, 2000])  # a third for the table (a product a row: a few rows)

        layout = QVBoxLayout(self.body())
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(body, 1)

        empty = EmptyState(
            "No servers yet",
            "Import an RVTools export (its workbook, or the CSV files of 'Export all to csv') or "
            "Hyper-V's PowerShell exports (Get-VM, Win32_Processor, Get-VMHost, "
            "Get-ClusterNode): the Servers page then counts what Windows Server, SQL Server, "
            "Oracle, IBM and Red Hat require on those hosts and VMs against what was bought. "
            "Physical servers need no export: a device inventory that gives a server's OS, "
            "processors and cores (ConfigMgr, Lansweeper, Jamf) puts them here.",
            self,
        )
        may_import = self.may(Permission.EDIT_DIRECTORY)
        empty.add_action(
            "&Import export…",
            self.import_export,
            enabled=may_import,
            tip="" if may_import else "License managers and administrators import.",
        )
        self.set_empty_state(empty)
        self.refresh()

    # ------------------------------------------------------------------ what-if controls
    def _build_whatif(self) -> QGroupBox:
        box = QGroupBox("What if…", self)
        box.setObjectName("whatIf")
        self.vm_combo = QComboBox(box)
        self.vm_combo.setObjectName("whatIfVm")
        self.host_combo = QComboBox(box)
        self.host_combo.setObjectName("whatIfHost")
        self.move_button = QPushButton("Move he&re", box)
        self.move_button.setObjectName("whatIfMove")
        self.move_button.clicked.connect(self._move)
        self.cores_spin = QSpinBox(box)
        self.cores_spin.setRange(1, 4096)
        self.cores_spin.setValue(8)
        self.pin_button = QPushButton("&Pin to cores", box)
        self.pin_button.setObjectName("whatIfPin")
        self.pin_button.setToolTip(
            "Hard partitioning: an approved technology pins the VM to these physical cores"
        )
        self.pin_button.clicked.connect(self._pin)
        self.off_button = QPushButton("Po&wer off", box)
        self.off_button.clicked.connect(self._power_off)
        self.remove_combo = QComboBox(box)
        self.remove_combo.setObjectName("whatIfRemoveHost")
        self.remove_button = QPushButton("&Take host out", box)
        self.remove_button.clicked.connect(self._remove_host)
        self.edition_target = QComboBox(box)
        self.edition_target.setObjectName("whatIfEditionTarget")
        accessible(self.edition_target, "Host, cluster or physical server to license")
        self.edition_combo = QComboBox(box)
        self.edition_combo.setObjectName("whatIfEdition")
        for edition in Edition:
            self.edition_combo.addItem(edition.value, edition.value)
        self.edition_button = QPushButton("Lice&nse with", box)
        self.edition_button.setObjectName("whatIfLicense")
        self.edition_button.setToolTip(
            "License this host, every host of this cluster, or this physical server with this "
            "Windows Server edition instead of the cheaper one"
        )
        self.edition_button.clicked.connect(self._license)
        for combo in (self.vm_combo, self.host_combo, self.remove_combo, self.edition_target):
            # Host names are long (esx-dmz01.corp.example): show them whole, never cut.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(24)
        self.sql_sa = QCheckBox("SQL Server Enterprise with Software Ass&urance", box)
        self.sql_sa.setObjectName("whatIfSqlSa")
        self.sql_sa.toggled.connect(self._options_changed)
        self.reach_combo = QComboBox(box)
        self.reach_combo.setObjectName("whatIfReach")
        for reach, label in (
            (Reach.CLUSTER, "its cluster"),
            (Reach.VCENTER, "its vCenter"),
            (Reach.EVERYWHERE, "every host"),
        ):
            self.reach_combo.addItem(label, reach.value)
        self.reach_combo.currentIndexChanged.connect(self._options_changed)
        self.change_list = QListWidget(box)
        self.change_list.setObjectName("whatIfChanges")
        accessible(self.change_list, "What-if changes")
        self.clear_button = QPushButton("C&lear", box)
        self.clear_button.setObjectName("whatIfClear")
        self.clear_button.clicked.connect(self._clear)

        form = QFormLayout()
        form.addRow("V&M:", self.vm_combo)
        form.addRow("H&ost:", self.host_combo)
        actions = QHBoxLayout()
        actions.addWidget(self.move_button)
        actions.addWidget(self.off_button)
        form.addRow(actions)
        pin = QHBoxLayout()
        pin.addWidget(self.cores_spin)
        pin.addWidget(self.pin_button)
        form.addRow("Cores:", pin)
        form.addRow("Take out:", self.remove_combo)
        form.addRow("", self.remove_button)
        form.addRow("Win&dows on:", self.edition_target)
        license_row = QHBoxLayout()
        license_row.addWidget(self.edition_button)
        license_row.addWidget(self.edition_combo, 1)
        form.addRow("", license_row)
        form.addRow(self.sql_sa)
        form.addRow("Ora&cle counts:", self.reach_combo)
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        layout.addWidget(QLabel("Changes (nothing is written):", box))
        layout.addWidget(self.change_list, 1)
        layout.addWidget(self.clear_button)
        return box

    def _move(self) -> None:
        vm, host = self.vm_combo.currentText(), self.host_combo.currentText()
        if vm and host:
            self._try(self._with(moves={**self._whatif.moves, vm: host}))

    def _pin(self) -> None:
        vm = self.vm_combo.currentText()
        if vm:
            cores = self.cores_spin.value()
            self._try(self._with(hard_partitions={**self._whatif.hard_partitions, vm: cores}))

    def _power_off(self) -> None:
        vm = self.vm_combo.currentText()
        if vm:
            self._try(self._with(powered_off=self._whatif.powered_off | {vm}))

    def _remove_host(self) -> None:
        host = self.remove_combo.currentText()
        if host:
            self._try(self._with(removed_hosts=self._whatif.removed_hosts | {host}))

    def _license(self) -> None:
        name = self.edition_target.currentData()
        if name:
            edition = Edition(self.edition_combo.currentData())
            self._try(self._with(editions={**self._whatif.editions, name: edition}))

    def _options_changed(self) -> None:
        self._try(
            self._with(
                sql_enterprise_sa=self.sql_sa.isChecked(),
                oracle_reach=Reach(self.reach_combo.currentData()),
            )
        )

    def _clear(self) -> None:
        self.sql_sa.blockSignals(True)
        self.reach_combo.blockSignals(True)
        self.sql_sa.setChecked(False)
        self.reach_combo.setCurrentIndex(0)
        self.sql_sa.blockSignals(False)
        self.reach_combo.blockSignals(False)
        self._try(WhatIf())

    def _with(self, **changes: Any) -> WhatIf:
        return dataclasses.replace(self._whatif, **changes)

    def _try(self, whatif: WhatIf) -> None:
        """Recompute with ``whatif`` in the background; one that cannot be done is said (in
        the status bar) and not kept."""
        state = self._state
        if state is None:
            return

        def work(_progress: Progress) -> ServerPosition | None:
            if whatif.empty:
                return None
            try:
                return position.compute(state, whatif)
            except ValueError as exc:  # a VM or host that is not there, too many cores
                raise KnownError(str(exc)) from None

        def done(after: ServerPosition | None) -> None:
            self._whatif = whatif
            self.change_list.clear()
            self.change_list.addItems(whatif.describe())
            self._show(after)

        task = Task(work, self).on_done(done)
        task.failed.connect(lambda message, _details: self.status_message.emit(message))
        self.runner.start(task, key=(self, "whatif"))

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Read the topology, installs and purchases again (in the background)."""
        super().refresh()
        service = self.services.servers

        def work(_progress: Progress) -> tuple[ServerState, ServerPosition]:
            state = service.state()
            return state, position.compute(state)

        task = Task(work, self).on_done(self._loaded)
        self.runner.start(task, key=(self, "servers"))

    def _loaded(self, outcome: tuple[ServerState, ServerPosition]) -> None:
        self._state, self._before = outcome
        topology = self._state.topology
        vms = sorted(vm.name for vm in topology.vms)
        hosts = sorted(topology.hosts)
        for combo, names in (
            (self.vm_combo, vms),
            (self.host_combo, hosts),
            (self.remove_combo, hosts),
        ):
            current = combo.currentText()
            combo.clear()
            combo.addItems(names)
            if current in names:
                combo.setCurrentText(current)
        # Without VMs or hosts (physical servers alone) there is nothing to move, pin, power off
        # or take out.
        for widget, enabled in (
            (self.vm_combo, bool(vms)),
            (self.off_button, bool(vms)),
            (self.cores_spin, bool(vms)),
            (self.pin_button, bool(vms)),
            (self.host_combo, bool(hosts)),
            (self.move_button, bool(vms and hosts)),
            (self.remove_combo, bool(hosts)),
            (self.remove_button, bool(hosts)),
        ):
            widget.setEnabled(enabled)
        chosen = self.edition_target.currentData()
        self.edition_target.clear()
        for label, names in (
            ("cluster", sorted(topology.clusters)),
            ("host", hosts),
            ("physical", sorted(s.name for s in self._state.physical if s.known)),
        ):
            for name in names:
                self.edition_target.addItem(f"{name} ({label})" if label != "host" else name, name)
        if chosen is not None and self.edition_target.findData(chosen) >= 0:
            self.edition_target.setCurrentIndex(self.edition_target.findData(chosen))
        self.edition_target.setEnabled(self.edition_target.count() > 0)
        self.edition_button.setEnabled(self.edition_target.count() > 0)
        self.show_empty(not topology.hosts and not self._state.physical)
        try:
            after = position.compute(self._state, self._whatif) if not self._whatif.empty else None
        except ValueError:  # the what-if names what the new data no longer holds
            self._whatif = WhatIf()
            self.change_list.clear()
            after = None
        self._show(after)

    def _show(self, after: ServerPosition | None) -> None:
        before = self._before
        if before is None:
            return
        keep = self.table.currentIndex().row()
        rows: list[_Row] = [
            (line, None if after is None else after.line(line.family, line.product))
            for line in before.lines
        ]
        if after is not None:  # what the what-if adds (a product newly counted)
            rows += [
                (_nothing(line), line)
                for line in after.lines
                if before.line(line.family, line.product) is None
            ]
        self.model.set_rows(rows)
        short = [line.title for line in before.lines if line.short]
        self.summary.setText(
            f"<b>Server position on {before.as_of}</b>: {html.escape(before.estate)}"
            + ". "
            + (
                f"<span style='color: palette(link)'>Short: {html.escape(', '.join(short))}.</span>"
                if short
                else "Nothing is short."
            )
        )
        self.table.resizeColumnsToContents()
        if rows:
            self.table.selectRow(min(max(keep, 0), len(rows) - 1))
        self._show_reason()

    def _show_reason(self) -> None:
        row = self.table.currentIndex().row()
        rows = self.model.rows
        if not 0 <= row < len(rows):
            self.reason.setHtml(self._findings_html())
            return
        line, after = rows[row]
        parts = [f"<h3>{html.escape(line.title)}</h3>", f"<p>{html.escape(line.reason)}</p>"]
        parts += details_html(line)
        if after is not None:
            parts.append(
                f"<h4>What if {html.escape('; '.join(self._whatif.describe()))}</h4>"
                f"<p>{html.escape(after.reason)}</p>"
            )
            parts += details_html(after)
        self.reason.setHtml("".join(parts) + self._findings_html())

    def _findings_html(self) -> str:
        return "" if self._before is None else findings_html(self._before.findings)

    # ------------------------------------------------------------------ exporting
    def export(self, target: Path | None = None) -> None:
        """Write the position shown (after the what-if, if any) to a CSV or XLSX file."""
        if self._state is None:
            return
        if target is None:
            name, _ = QFileDialog.getSaveFileName(
                self,
                "Export the server position",
                str(Path.home() / "server-position.xlsx"),
                "Excel workbook (*.xlsx);;CSV (*.csv)",
            )
            if not name:
                return
            target = Path(name)
        shown = position.compute(self._state, self._whatif)
        headers, rows = shown.table()
        try:
            written = export_table(headers, rows, target)
        except KnownError as exc:
            self.status_message.emit(str(exc))
            return
        self.status_message.emit(f"Wrote {plural(len(rows), 'row')} to {written}.")

    # ------------------------------------------------------------------ importing
    def import_export(self) -> None:
        """Choose an RVTools or Hyper-V export and import it (preview first)."""
        # The export readers load with the dialog, not with the window (start-up stays light).
        from seatledger.ui.dialogs.topology_import import TopologyImportDialog  # noqa: PLC0415

        dialog = TopologyImportDialog(self.services, self)
        dialog.imported.connect(self.status_message.emit)
        dialog.open()

    def import_statement(self) -> None:
        """Choose a vendor statement and import it as evidence (preview first)."""
        from seatledger.ui.dialogs.statement_import import (  # noqa: PLC0415
            StatementImportDialog,
        )

        dialog = StatementImportDialog(self.services, self)
        dialog.imported.connect(self.status_message.emit)
        dialog.open()


def _nothing(line: ServerLine) -> ServerLine:
    return ServerLine(line.family, line.product, line.unit, 0, 0, 0, "Nothing runs now.")
