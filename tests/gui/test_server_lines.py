"""Server lines beside the desktop position: the audit wizard's position step, Reconciliation.

The estate is the RVTools fixture of ``tests/services/test_server_position.py`` (its figures are
counted by hand there): Microsoft's lines are Windows Server (208 required, 192 bought) and SQL
Server (8 required, 4 bought: 4 short), on the organization's own screens by their real names.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from tests.services.test_server_physical_only import physical_only  # noqa: F401 (a fixture)
from tests.services.test_server_position import estate  # noqa: F401 (the fixture)

from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.audits.service import Step
from seatledger.services.operators.session import Services
from seatledger.services.servers.position import IBM, ORACLE, RHEL, SQL, WINDOWS
from seatledger.ui.dialogs.audit_wizard import AuditWizard
from seatledger.ui.main_window import MainWindow
from seatledger.ui.pages.reconciliation import ReconciliationPage
from seatledger.ui.tasks import SyncRunner

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def test_the_wizard_shows_the_vendors_server_lines_with_what_stands_behind_them(
    qtbot: QtBot,
    estate: Services,  # noqa: F811 (the fixture)
) -> None:
    microsoft = next(v.id for v in estate.catalog.vendors() if v.name == "Microsoft")
    audit_id = estate.audits.start(microsoft, Trigger.VENDOR_REQUEST)
    for warning in estate.audits.freshness(audit_id):
        estate.audits.acknowledge(audit_id, warning.topic, warning.text)
    estate.audits.set_step(audit_id, Step.POSITION)
    wizard = AuditWizard(estate, SyncRunner(), None, audit_id)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.currentId() == Step.POSITION.order
    view = wizard.position_page.servers
    assert view.isVisible()
    lines = view.model.rows
    assert [(ln.family, ln.required, ln.purchased, ln.short) for ln in lines] == [
        (WINDOWS, 208, 192, 0),
        (SQL, 8, 4, 4),
    ]
    assert "short: SQL Server" in view.summary.text()
    # Select SQL Server: its reason, the host and the VM behind its 8.
    view.table.selectRow(1)
    why = view.why.toPlainText()
    assert "8 core licenses; 4 bought" in why
    assert "esx03.corp.example 8:" in why
    assert "VMs: sql01" in why
    assert "Oracle" not in why  # another vendor's servers are not this audit's


@pytest.mark.usefixtures("org")
def test_a_vendor_without_servers_shows_no_server_lines(qtbot: QtBot, admin: Services) -> None:
    vendor = next(v.id for v in admin.catalog.vendors() if v.name == "Contoso Software")
    audit_id = admin.audits.start(vendor, Trigger.VENDOR_REQUEST)
    for warning in admin.audits.freshness(audit_id):
        admin.audits.acknowledge(audit_id, warning.topic, warning.text)
    admin.audits.set_step(audit_id, Step.POSITION)
    wizard = AuditWizard(admin, SyncRunner(), None, audit_id)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.currentId() == Step.POSITION.order
    assert not wizard.position_page.servers.isVisible()


def test_reconciliation_shows_the_server_lines_beside_the_desktop_position(
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    make_window: Callable[[Services], MainWindow],
    estate: Services,  # noqa: F811 (the fixture)
) -> None:
    estate.catalog.add_vendor("Contoso")
    window = make_window(estate)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    assert page.tabs.isTabVisible(2)
    assert page.tabs.tabText(2) == "Ser&vers (5, 4 short)"
    view = page.servers_view
    qtmodeltester.check(view.model)
    assert {(ln.family, ln.product): ln.short for ln in view.model.rows} == {
        (WINDOWS, WINDOWS): 0,
        (SQL, SQL): 4,
        (ORACLE, "Oracle Database Enterprise Edition"): 8,
        (IBM, "Db2"): 240,
        (RHEL, RHEL): 1,
    }
    page.tabs.setCurrentIndex(2)
    # Drill down to the hosts behind Oracle's 16 processors: the Oracle cluster, whole.
    oracle = next(i for i, ln in enumerate(view.model.rows) if ln.family == ORACLE)
    view.table.selectRow(oracle)
    why = view.why.toPlainText()
    assert "esx11.corp.example 16:" in why
    assert "esx12.corp.example 16:" in why
    # One vendor chosen: its lines only.
    page.vendor.setCurrentIndex(page.vendor.findText("Microsoft"))
    page.vendor.activated.emit(page.vendor.currentIndex())
    assert [ln.family for ln in view.model.rows] == [WINDOWS, SQL]
    assert page.tabs.tabText(2) == "Ser&vers (2, 1 short)"
    page.vendor.setCurrentIndex(page.vendor.findText("Contoso"))
    page.vendor.activated.emit(page.vendor.currentIndex())
    assert not page.tabs.isTabVisible(2)  # a vendor without server rules


@pytest.mark.usefixtures("org")
def test_reconciliation_without_servers_has_no_server_tab(
    qtbot: QtBot, make_window: Callable[[Services], MainWindow], admin: Services
) -> None:
    window = make_window(admin)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    assert not page.tabs.isTabVisible(2)


def test_reconciliation_shows_physical_servers_without_any_hypervisor(
    qtbot: QtBot,
    make_window: Callable[[Services], MainWindow],
    physical_only: Services,  # noqa: F811 (the fixture)
) -> None:
    """No hypervisor export: db-phys01's lines (Windows Server 24 required, none bought; SQL
    Server 24 against 16, counted by hand in test_server_physical_only) are on the tab."""
    window = make_window(physical_only)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    assert page.tabs.isTabVisible(2)
    assert page.tabs.tabText(2) == "Ser&vers (2, 2 short)"
    view = page.servers_view
    assert [(ln.family, ln.required, ln.purchased, ln.short) for ln in view.model.rows] == [
        (WINDOWS, 24, 0, 24),
        (SQL, 24, 16, 8),
    ]
    assert "physical servers" in view.summary.text()
    view.table.selectRow(1)
    assert "db-phys01 24:" in view.why.toPlainText()
