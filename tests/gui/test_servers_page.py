"""The Servers page: empty until an export is imported (through its own dialog, previewed and
refused by line), then the position per product with its reason, and a what-if that shows the
requirement after a VM moves without writing anything.

Figures as counted by hand in tests/services/test_server_position.py: Windows Server needs 208
core licenses on the RVTools fixture, 112 once sql01 moves to the DMZ host.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from tests.conftest import ledger_size
from tests.services.test_server_physical_only import physical_only  # noqa: F401 (a fixture)
from tests.services.test_vendor_statements import estate  # noqa: F401 (a fixture)

from seatledger.domain.roles import Role
from seatledger.services.directory.service import DeviceInput
from seatledger.services.operators.session import Services
from seatledger.services.servers.importing import TopologySource
from seatledger.services.servers.statements import StatementKind
from seatledger.ui.dialogs.import_wizard import ImportWizard
from seatledger.ui.dialogs.statement_import import StatementImportDialog
from seatledger.ui.dialogs.topology_import import TopologyImportDialog
from seatledger.ui.main_window import PAGE_TYPES, MainWindow
from seatledger.ui.pages.servers import ServersPage
from seatledger.ui.tasks import SyncRunner

DATA = Path(__file__).parents[1] / "data"
RVTOOLS = sorted((DATA / "rvtools").glob("RVTools_tab*.csv"))
SERVERS = next(n for n, page in enumerate(PAGE_TYPES) if page is ServersPage)


def _page(window: MainWindow) -> ServersPage:
    window.nav.setCurrentRow(SERVERS)
    page = window.page(SERVERS)
    assert isinstance(page, ServersPage)
    return page


def test_the_page_imports_an_export_and_shows_the_position(
    qtbot: QtBot, window: MainWindow, admin: Services, tmp_path: Path
) -> None:
    page = _page(window)
    assert page.showing_empty
    bad = tmp_path / "bad"
    bad.mkdir()
    for path in RVTOOLS:
        shutil.copyfile(path, bad / path.name)
    info = bad / "RVTools_tabvInfo.csv"
    info.write_text(
        info.read_text(encoding="utf-8").replace("esx02.corp.example,Micro", "esx99,Micro")
    )
    dialog = TopologyImportDialog(admin, page)
    qtbot.addWidget(dialog)
    dialog.set_files(sorted(bad.iterdir()))
    assert not dialog.ok.isEnabled()
    assert "line 3" in dialog.report.toPlainText()
    assert "esx99" in dialog.report.toPlainText()
    dialog.set_files(RVTOOLS)
    assert dialog.ok.isEnabled()
    with qtbot.waitSignal(dialog.imported):
        dialog.ok.click()
    qtbot.waitUntil(lambda: not page.showing_empty)
    rows = page.model.rows
    windows = next(line for line, _ in rows if line.product == "Windows Server")
    assert windows.required == 208
    page.table.selectRow(0)
    assert "208 core licenses" in page.reason.toPlainText()


def test_a_what_if_shows_the_requirement_after_a_move_and_writes_nothing(
    qtbot: QtBot,
    make_window: Callable[[Services], MainWindow],
    admin: Services,
    as_role: Callable[[Role], Services],
    tmp_path: Path,
) -> None:
    admin.servers.import_topology(
        RVTOOLS, TopologySource.RVTOOLS, taken_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    )
    viewer = as_role(Role.VIEWER)
    page = _page(make_window(viewer))
    assert not page.import_button.isEnabled()  # a viewer reads, and may try what-ifs
    before = ledger_size(admin.db)
    page.vm_combo.setCurrentText("sql01")
    page.host_combo.setCurrentText("esx-dmz01.corp.example")
    page.move_button.click()
    rows = {line.product: (line.required, after) for line, after in page.model.rows}
    required, after = rows["Windows Server"]
    assert required == 208
    assert after is not None
    assert after.required == 112
    assert page.change_list.item(0).text() == "sql01 moved to esx-dmz01.corp.example"
    page.cores_spin.setValue(999)
    with qtbot.waitSignal(page.status_message) as said:
        page.pin_button.click()  # sql01, on esx-dmz01 now, pinned to more cores than it has
    assert said.args == ["sql01 cannot be pinned to 999 cores: esx-dmz01.corp.example has 12."]
    assert page.change_list.count() == 1  # the refused change is not kept
    exported = tmp_path / "after.csv"
    page.export(exported)
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        cells = list(csv.reader(handle))
    assert {row[6]: row[7] for row in cells[1:] if row[1] == "Windows Server"} == {
        "esx01.corp.example": "32",
        "esx02.corp.example": "32",
        "esx03.corp.example": "32",
        "esx-dmz01.corp.example": "16",
    }
    page.clear_button.click()
    assert all(after is None for _, after in page.model.rows)
    assert ledger_size(admin.db) == before


def test_the_import_wizard_offers_the_topology_dialog(
    qtbot: QtBot, admin: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """File ▸ Import…: the first page's button opens the export's dialog; its import closes
    the wizard with the import's summary."""
    opened: list[TopologyImportDialog] = []
    monkeypatch.setattr(TopologyImportDialog, "open", lambda self: opened.append(self))  # noqa: PLW0108 (binds self)
    wizard = ImportWizard(admin, SyncRunner())
    qtbot.addWidget(wizard)
    wizard.choose_page.topology_button.click()
    assert len(opened) == 1
    opened[0].set_files(RVTOOLS)
    opened[0].ok.click()
    assert wizard.result_summary.startswith("RVTools_tabvCPU.csv")
    assert "hosts 6 new" in wizard.result_summary


def test_a_statement_is_previewed_imported_and_its_findings_shown(
    qtbot: QtBot,
    make_window: Callable[[Services], MainWindow],
    admin: Services,
    as_role: Callable[[Role], Services],
) -> None:
    """The statement dialog refuses a broken Microsoft License Statement by sheet, line and
    column, imports a good one, and the page shows its findings (the fixture's Office
    Professional Plus: 50 in Microsoft's record, no purchase; tests/data/mls/README.md)."""
    admin.servers.import_topology(
        RVTOOLS, TopologySource.RVTOOLS, taken_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    )
    viewer_page = _page(make_window(as_role(Role.VIEWER)))
    assert not viewer_page.statement_button.isEnabled()
    page = _page(make_window(admin))
    assert page.statement_button.isEnabled()
    dialog = StatementImportDialog(admin, page)
    qtbot.addWidget(dialog)
    dialog.set_file(DATA / "mls" / "mls_broken.xlsx")
    assert not dialog.ok.isEnabled()
    assert "line 11, Effective License Quantity (mls_broken.xlsx, sheet Pivot Data)" in (
        dialog.report.toPlainText()
    )
    dialog.set_file(DATA / "ilmt" / "audit_snapshot_2026-11-30.zip")
    assert dialog.chosen_kind is StatementKind.ILMT  # the kind follows the file
    assert dialog.ok.isEnabled()
    dialog.set_file(DATA / "mls" / "mls_2026-11-30.xlsx")
    assert dialog.chosen_kind is StatementKind.MLS
    assert "calculated 2026-11-30: 4 product lines" in dialog.report.toPlainText()
    with qtbot.waitSignal(dialog.imported):
        dialog.ok.click()
    qtbot.waitUntil(lambda: "Office Professional Plus" in page.reason.toPlainText())
    assert "says 50 (Pivot Data line 15)" in page.reason.toPlainText()


def test_the_ilmt_per_server_findings_show_on_the_page(
    qtbot: QtBot,
    make_window: Callable[[Services], MainWindow],
    estate: Services,  # noqa: F811 (the fixture imported above)
) -> None:
    """With the ILMT snapshot's pvu_sub_capacity.csv imported, the page's findings name the
    server, both numbers and the file lines (figures: tests/services/test_vendor_statements.py)."""
    estate.servers.import_statement(
        DATA / "ilmt" / "audit_snapshot_2026-11-30.zip", StatementKind.ILMT
    )
    page = _page(make_window(estate))
    qtbot.waitUntil(lambda: "on esx01.corp.example" in page.reason.toPlainText())
    shown = page.reason.toPlainText()
    assert "says 140 PVUs on it at the peak (pvu_sub_capacity.csv lines 2, 3)" in shown
    assert "SeatLedger computes 240 PVUs on it for Db2" in shown
    assert "IBM Db2 Standard Edition on aix-p9-01" in shown


def test_physical_servers_and_an_edition_what_if_on_the_page(
    qtbot: QtBot, make_window: Callable[[Services], MainWindow], admin: Services
) -> None:
    """A physical Windows server of 2 × 6 cores adds 16 core licenses (the minimums, one OSE)
    to the 208: 224; one without cores is named, not counted.  Prod licensed with Datacenter:
    3 × 32 + 16 + 16 = 128, the cost 24,360.00 more (figures: tests/services/
    test_server_physical.py).  The what-if's host boxes show host names whole."""
    admin.servers.import_topology(
        RVTOOLS, TopologySource.RVTOOLS, taken_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    )
    admin.directory.add_device(
        DeviceInput("db-phys01", processors=2, cores=12, os="Windows Server 2022 Datacenter")
    )
    admin.directory.add_device(DeviceInput("lab-srv02", os="Windows Server 2019 Standard"))
    window = make_window(admin)
    window.resize(1400, 850)
    page = _page(window)
    assert "2 physical servers (1 with unknown cores, not counted)" in page.summary.text()
    windows = next(line for line, _ in page.model.rows if line.product == "Windows Server")
    assert windows.required == 224
    page.table.selectRow(0)
    shown = page.reason.toPlainText()
    assert "db-phys01 16: a physical server running Windows Server 2022 Datacenter" in shown
    assert "1 server with unknown cores" in shown
    page.edition_target.setCurrentIndex(page.edition_target.findData("Prod"))
    assert page.edition_target.currentText() == "Prod (cluster)"
    page.edition_combo.setCurrentIndex(page.edition_combo.findData("Datacenter"))
    page.edition_button.click()
    row = next(n for n, (line, _) in enumerate(page.model.rows) if line.product == "Windows Server")
    after = page.model.rows[row][1]
    assert after is not None
    assert after.required == 128
    headers = [
        page.model.headerData(n, Qt.Orientation.Horizontal) for n in range(page.model.columnCount())
    ]
    cost_change = page.model.index(row, headers.index("Cost change"))
    assert page.model.data(cost_change) == "+24,360.00"
    assert page.change_list.item(0).text() == "Prod licensed with Windows Server Datacenter"
    for combo in (page.host_combo, page.remove_combo):
        combo.setCurrentText("esx-dmz01.corp.example")
        needed = combo.fontMetrics().horizontalAdvance("esx-dmz01.corp.example")
        assert combo.width() > needed


def test_physical_servers_alone_fill_the_page_without_vm_or_host_controls(
    make_window: Callable[[Services], MainWindow],
    physical_only: Services,  # noqa: F811 (the fixture)
) -> None:
    """No hypervisor export, db-phys01 alone (test_server_physical_only counts it by hand):
    its lines, no '0 hosts' in the summary, and the what-if offers only the edition."""
    page = _page(make_window(physical_only))
    assert not page.showing_empty
    assert [(line.product, line.required, line.short) for line, _ in page.model.rows] == [
        ("Windows Server", 24, 24),
        ("SQL Server", 24, 8),
    ]
    assert "1 physical server" in page.summary.text()
    assert "host" not in page.summary.text()
    for widget in (page.vm_combo, page.move_button, page.pin_button, page.remove_button):
        assert not widget.isEnabled()
    assert page.edition_button.isEnabled()
    assert page.edition_target.currentData() == "db-phys01"
