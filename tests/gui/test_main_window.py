"""The main window driven by real input: search, sort, select, shortcuts, roles, verification."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QSplitter, QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from seatledger.domain.ledger import Failure, Problem, Verdict
from seatledger.domain.roles import Role
from seatledger.errors import AuthenticationError, DatabaseError
from seatledger.services.catalog.queries import EntitlementColumn
from seatledger.services.directory.queries import DeviceColumn, PeopleColumn
from seatledger.services.directory.service import DeviceInput
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.services.position.engine import Column
from seatledger.ui.app import open_session, seconds_since_start
from seatledger.ui.main_window import (
    ACTIVITY,
    LICENSES,
    PAGE_TYPES,
    TITLES,
    MainWindow,
    verdict_text,
)
from seatledger.ui.pages.reconciliation import ReconciliationPage
from seatledger.ui.pages.titles import SoftwareTitlesPage
from seatledger.ui.tasks import SyncRunner

from .conftest import PASSWORD

pytestmark = pytest.mark.gui

DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
CTRL = Qt.KeyboardModifier.ControlModifier
LEFT = Qt.MouseButton.LeftButton
MakeWindow = Callable[[Services], MainWindow]


def column_texts(view: QTableView, column: int) -> list[str]:
    """What a table shows in one column, top to bottom."""
    model = view.model()
    return [model.index(row, column).data(DISPLAY) for row in range(model.rowCount())]


def click_header(qtbot: QtBot, view: QTableView, column: int) -> None:
    """Click a column header as a user would."""
    header = view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), LEFT, pos=QPoint(x, header.height() // 2))


def click_row(qtbot: QtBot, view: QTableView, row: int) -> None:
    """Click the first cell of a row."""
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), LEFT, pos=rect.center())


@pytest.fixture
def seated(admin: Services, org: Any) -> Any:
    """The small organization with two seats of the PDF license and one person who left."""
    admin.seats.assign(org.acrobat, people=org.people[:2], note="finance laptops")
    admin.directory.mark_left(org.people[4], dt.date(2026, 1, 31), "resigned")
    return org


# ------------------------------------------------------------------------ licenses


def test_typing_in_the_search_filters_the_licenses(
    qtbot: QtBot, org: Any, window: MainWindow
) -> None:
    page = window.licenses
    assert page.model.rowCount() == 2
    qtbot.keyClicks(page.search, "pdf")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert column_texts(page.table, EntitlementColumn.PRODUCT) == ["PDF Studio"]
    qtbot.keyClick(page.search, Qt.Key.Key_Escape)
    assert page.search.text() == ""
    assert page.model.rowCount() == 2

    qtbot.keyClicks(page.search, "no such thing")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)  # Enter searches at once
    assert page.model.rowCount() == 0


def test_clicking_headers_sorts_in_the_query(qtbot: QtBot, org: Any, window: MainWindow) -> None:
    view = window.licenses.table
    # Same vendor: ties keep the order of entry.
    assert column_texts(view, EntitlementColumn.PRODUCT) == ["PDF Studio", "Database Server"]
    click_header(qtbot, view, EntitlementColumn.QUANTITY)
    assert column_texts(view, EntitlementColumn.QUANTITY) == ["3", "16"]
    click_header(qtbot, view, EntitlementColumn.QUANTITY)
    assert column_texts(view, EntitlementColumn.QUANTITY) == ["16", "3"]
    query = window.licenses._query()
    assert (query.sort_column, query.descending) == (EntitlementColumn.QUANTITY, True)


def test_over_limit_filter_shows_only_over_committed_licenses(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, org: Any
) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:3])
    admin.seats.assign(org.acrobat, people=org.people[3:4], reason="audit", over_commit=True)
    window = make_window(admin)
    page = window.licenses
    page.state.setFocus()
    qtbot.keyClick(page.state, Qt.Key.Key_Down)  # "All licenses" -> "Over the limit"
    assert page.state.currentText() == "Over the limit"
    assert column_texts(page.table, EntitlementColumn.PRODUCT) == ["PDF Studio"]
    assert page.model.index(0, 0).data(TOOLTIP) == "1 over the purchased limit"
    assert column_texts(page.table, EntitlementColumn.FREE) == ["−1"]


def test_selecting_a_license_shows_its_seats(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, seated: Any
) -> None:
    window = make_window(admin)
    page = window.licenses
    row = page.model.row_of(seated.acrobat)
    click_row(qtbot, page.table, row)
    detail = page.detail
    assert detail.entitlement_id == seated.acrobat
    assert detail._title.text() == "Contoso Software PDF Studio"
    assert detail._usage_label.text() == "2 of 3 used · 67 %"
    assert column_texts(detail.seats, 0) == ["Person 2", "Person 1"] or column_texts(
        detail.seats, 0
    ) == ["Person 1", "Person 2"]
    assert window.menu_actions["assign"].isEnabled()
    assert not window.menu_actions["release"].isEnabled()

    click_row(qtbot, detail.seats, 0)
    assert window.menu_actions["release"].isEnabled()
    assert detail._release.isEnabled()

    # Enter on a license moves to its seats.
    click_row(qtbot, page.table, row)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert detail.seats.hasFocus()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform cannot size dialogs
def test_delete_releases_seats_and_every_view_follows(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, seated: Any
) -> None:
    from seatledger.ui.dialogs.assign import ReleaseDialog

    window = make_window(admin)
    page = window.licenses
    page.table.select_key(seated.acrobat)
    detail = page.detail
    entries = window.nav_count(ACTIVITY)
    assert entries is not None
    click_row(qtbot, detail.seats, 0)

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ReleaseDialog)
        qtbot.keyClicks(dialog.reason, "moved team")
        qtbot.mouseClick(dialog.ok_button, LEFT)

    QTimer.singleShot(0, answer)
    qtbot.keyClick(detail.seats, Qt.Key.Key_Delete)
    assert detail.seats.model().rowCount() == 1
    row = page.model.row_of(seated.acrobat)
    assert page.model.index(row, EntitlementColumn.USED).data(DISPLAY) == "1"
    assert detail._usage_label.text() == "1 of 3 used · 33 %"
    qtbot.waitUntil(lambda: window.nav_count(ACTIVITY) == entries + 1)
    window.nav.setCurrentRow(ACTIVITY)
    assert window.activity.model.index(0, 3).data(DISPLAY) == "seat.release"
    assert window.activity.model.index(0, 5).data(DISPLAY) == "moved team"


def test_released_seats_show_only_on_request(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, org: Any
) -> None:
    ids = admin.seats.assign(org.acrobat, people=org.people[:2]).assignment_ids
    admin.seats.release(ids[:1], "moved")
    window = make_window(admin)
    page = window.licenses
    page.table.select_key(org.acrobat)
    detail = page.detail
    assert detail.seats.model().rowCount() == 1
    detail._show_released.click()
    assert detail.seats.model().rowCount() == 2
    released = [
        detail.seats.model().index(row, 5).data(DISPLAY)
        for row in range(detail.seats.model().rowCount())
    ]
    assert sum(1 for text in released if text) == 1


def test_a_change_refreshes_the_tables_and_counts(
    qtbot: QtBot, org: Any, window: MainWindow, admin: Services
) -> None:
    page = window.licenses
    page.table.select_key(org.acrobat)
    row = page.model.row_of(org.acrobat)
    assert page.model.index(row, EntitlementColumn.USED).data(DISPLAY) == "0"
    entries = window.nav_count(ACTIVITY)
    admin.seats.assign(org.acrobat, people=org.people[:1])
    qtbot.keyClick(page.table, Qt.Key.Key_F5)
    assert page.model.index(row, EntitlementColumn.USED).data(DISPLAY) == "1"
    assert page.table.current_key() == org.acrobat  # the selection survives the reload
    assert page.detail.seats.model().rowCount() == 1
    assert window.nav_count(ACTIVITY) == (entries or 0) + 1


def test_empty_database_shows_hints(window: MainWindow) -> None:
    assert window.licenses.model.rowCount() == 0
    assert window.licenses.table._hint.startswith("No licenses yet")
    assert "Ctrl+N" in window.licenses.table._hint
    assert window.nav_count(LICENSES) == 0
    assert window.licenses.detail._pages.currentIndex() == 0  # "Select a license…"
    assert not window.menu_actions["assign"].isEnabled()


# ------------------------------------------------------------------------ other pages


def test_people_page_filters_by_status_and_greys_leavers(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, seated: Any
) -> None:
    window = make_window(admin)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_4, CTRL)
    page = window.people
    assert window.current_page() is page
    assert page.model.rowCount() == 5
    page.status.setCurrentIndex(page.status.findData("left"))
    assert column_texts(page.table, PeopleColumn.STATUS) == ["Left 2026-01-31"]
    assert page.model.index(0, 0).data(TOOLTIP) == "Left on 2026-01-31"
    page.status.setCurrentIndex(0)
    qtbot.keyClicks(page.search, "E002")
    page.search.flush()
    assert column_texts(page.table, PeopleColumn.NAME) == ["Person 2"]
    assert column_texts(page.table, PeopleColumn.SEATS) == ["1"]


def test_devices_page_searches(qtbot: QtBot, org: Any, window: MainWindow) -> None:
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_5, CTRL)
    page = window.devices
    assert window.current_page() is page
    assert column_texts(page.table, 0) == ["db-01", "db-02"]
    qtbot.keyClicks(page.search, "02")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert column_texts(page.table, 0) == ["db-02"]


def test_devices_page_shows_the_operating_system_whole_at_1280_px(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    """The screenshots' size: the system's name is read whole, the long processor model may be
    elided (it once left the system two letters, "Wi…")."""
    system = "Windows 11 Enterprise 23H2"
    model = "AMD Ryzen 7 PRO 7840U w/ Radeon 780M Graphics"
    admin.directory.add_device(DeviceInput("DT-AMS-00014", "5CG92042L6", None, 1, 8, system, model))
    window = make_window(admin)
    window.resize(1280, 800)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_5, CTRL)
    page = window.devices
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    QApplication.processEvents()
    shown = page.table.visualRect(page.model.index(0, DeviceColumn.OS))
    needed = page.table.fontMetrics().horizontalAdvance(system)
    assert shown.width() > needed
    assert page.table.viewport().rect().contains(shown)
    assert column_texts(page.table, DeviceColumn.OS) == [system]


def test_activity_page_filters_and_shows_the_entry(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, seated: Any
) -> None:
    window = make_window(admin)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_7, CTRL)
    page = window.activity
    assert window.current_page() is page
    total = page.model.rowCount()
    assert total == window.nav_count(ACTIVITY)
    page.action.setCurrentIndex(page.action.findData("person.leave"))
    assert page.model.rowCount() == 1
    click_row(qtbot, page.table, 0)
    text = page.entry.toPlainText()
    assert '"action": "person.leave"' in text
    assert '"reason": "resigned"' in text
    page.action.setCurrentIndex(0)
    page.operator.setCurrentIndex(page.operator.findData("admin"))
    assert page.model.rowCount() == total
    page.date_from.any.setChecked(False)
    page.date_from.set_value(dt.date.today() + dt.timedelta(days=1))
    assert page.model.rowCount() == 0
    assert page.table._hint == "No entries match the filters."


def test_ctrl_digits_switch_pages(qtbot: QtBot, window: MainWindow) -> None:
    for digit, page in zip(
        (Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_1), (1, 2, 3, 0), strict=True
    ):
        qtbot.keyClick(window.current_page(), digit, CTRL)
        assert window.nav.currentRow() == page
        assert window.stack.currentIndex() == page
    assert window.current_page() is window.dashboard  # Ctrl+1: the dashboard comes first
    qtbot.keyClick(window.current_page(), Qt.Key.Key_2, CTRL)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_F, CTRL)
    assert window.licenses.search.hasFocus()


# ------------------------------------------------------------------------ roles and chrome


def test_viewer_cannot_change_anything(
    make_window: MakeWindow, as_role: Callable[[Role], Services], org: Any
) -> None:
    window = make_window(as_role(Role.VIEWER))
    window.licenses.table.select_key(org.acrobat)
    actions = window.menu_actions
    for name in (
        "new_vendor",
        "new_product",
        "new_license",
        "new_team",
        "new_person",
        "new_device",
        "assign",
        "release",
        "release_departed",
        "operators",
    ):
        assert not actions[name].isEnabled(), name
    for name in ("verify_ledger", "refresh", "find", "open_database", "quit", "about"):
        assert actions[name].isEnabled(), name
    assert not window.admin_menu.menuAction().isVisible()
    assert not window.licenses.detail._assign.isEnabled()
    assert not window.licenses.detail._edit.isEnabled()
    assert not window.people.new_button.isEnabled()
    assert not window.devices.new_button.isEnabled()


def test_license_manager_edits_but_does_not_manage_operators(
    make_window: MakeWindow, as_role: Callable[[Role], Services], org: Any
) -> None:
    window = make_window(as_role(Role.LICENSE_MANAGER))
    actions = window.menu_actions
    assert actions["new_license"].isEnabled()
    assert actions["new_person"].isEnabled()
    assert actions["assign"].isEnabled()  # the first license is selected at start
    window.licenses.search.setText("no such license")
    window.licenses.search.flush()
    assert not actions["assign"].isEnabled()  # nothing to assign from
    assert not actions["operators"].isEnabled()


def test_administrator_has_every_action(org: Any, window: MainWindow) -> None:
    window.licenses.table.select_key(org.acrobat)
    for name in ("new_license", "new_team", "assign", "release_departed", "operators"):
        assert window.menu_actions[name].isEnabled(), name
    assert window.admin_menu.menuAction().isVisible()
    assert window.menu_actions["new_license"].shortcut().toString() == "Ctrl+N"
    assert window.menu_actions["assign"].shortcut().toString() == "Ctrl+Shift+A"
    assert window.menu_actions["open_database"].shortcut().toString() == "Ctrl+O"
    assert window.menu_actions["quit"].shortcut().toString() == "Ctrl+Q"


def test_status_bar_names_operator_and_database(window: MainWindow, workspace: Workspace) -> None:
    assert window.operator_label.text() == "Signed in as admin (Administrator)"
    assert window.database_status.text() == workspace.display_name
    assert not window.demo_badge.isVisible()
    assert window.windowTitle() == "SeatLedger — gui.sqlite"


@pytest.mark.skipif(
    importlib.util.find_spec("seatledger.demo.builder") is None,
    reason="the demo builder (seatledger.demo.builder) is not in this checkout",
)
def test_demo_database_is_badged(qtbot: QtBot, tmp_path: Path, settings: QSettings) -> None:
    from seatledger.demo.builder import build_demo

    path = tmp_path / "demo.sqlite"
    build_demo(str(path), "small")
    workspace = Workspace.open(path, create=False)
    try:
        window = MainWindow(
            workspace.sign_in("admin", "demo"), workspace, runner=SyncRunner(), settings=settings
        )
        qtbot.addWidget(window)
        window.show()
        assert window.windowTitle() == "SeatLedger — demo.sqlite — DEMO"
        assert window.demo_badge.isVisible()
        assert window.demo_badge.text() == "DEMO"
        assert window.licenses.model.rowCount() > 10
        window.close()
    finally:
        workspace.close()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform cannot size dialogs
def test_verify_ledger_reports_an_intact_chain(
    qtbot: QtBot, org: Any, window: MainWindow, admin: Services
) -> None:
    entries = window.nav_count(ACTIVITY)
    assert entries
    window.menu_actions["verify_ledger"].trigger()
    box = window.verify_box
    assert box is not None
    rows = sum(admin.ledger.verify_state().rows.values())
    assert box.text() == (
        f"The ledger is intact: {entries:,} entries verified, and {rows:,} rows are what it says."
    )
    assert box.informativeText().startswith("Head hash:\n")
    assert len(box.informativeText().split("\n")[1]) == 64
    assert "State verified" in box.informativeText()
    assert "not covered: installs" in box.informativeText()
    assert window.menu_actions["verify_ledger"].isEnabled()
    box.close()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform cannot size dialogs
def test_verify_ledger_names_a_row_changed_behind_its_back(
    qtbot: QtBot, org: Any, window: MainWindow, admin: Services
) -> None:
    with admin.db.engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE entitlement SET quantity = quantity + 500 WHERE id = {org.acrobat}"
        )
    window.menu_actions["verify_ledger"].trigger()
    box = window.verify_box
    assert box is not None
    assert box.text() == (
        "The ledger is intact, but the database differs from it in 1 place; the first: "
        f"entitlement {org.acrobat}: quantity is 503 in the database, the ledger says 3."
    )
    assert "State BROKEN: 1 difference" in box.informativeText()
    box.close()


def test_layout_is_remembered(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, settings: QSettings
) -> None:
    first = make_window(admin)
    first.resize(780, 520)
    first.nav.setCurrentRow(2)
    first.close()
    assert settings.value("main_window/page") in (2, "2")
    second = make_window(admin)
    assert second.nav.currentRow() == 2
    assert (second.width(), second.height()) == (780, 520)


# ------------------------------------------------------------------------ start-up


@pytest.mark.slow
def test_app_paints_and_exits_for_the_benchmark(tmp_path: Path, admin: Services) -> None:
    """``seatledger --db X`` with the env sign-in paints, signs in, prints both times and quits."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SEATLEDGER_EXIT_AFTER_PAINT": "1",
        "SEATLEDGER_OPERATOR": "admin",
        "SEATLEDGER_PASSWORD": PASSWORD,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    database = admin.db.display_name
    done = subprocess.run(
        [sys.executable, "-m", "seatledger", "--db", database],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    painted, usable = (line.split() for line in done.stdout.splitlines())
    assert painted[0] == "painted"  # the start frame, before the database layer is imported
    assert usable[0] == "usable"  # the main window, signed in, with its data
    assert 0 < float(painted[1]) < float(usable[1])


def test_open_session_refuses_a_wrong_password_and_a_non_database(
    tmp_path: Path, admin: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "wrong")
    with pytest.raises(AuthenticationError, match="Wrong operator name or password"):
        open_session(admin.db.display_name)
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    with pytest.raises(DatabaseError, match=r"notes\.txt"):
        open_session(str(junk))


def test_unexpected_errors_are_shown_with_details_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: object
) -> None:
    from seatledger.ui import app
    from seatledger.ui.dialogs import errors

    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(app, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(
        errors, "show_error", lambda _p, message, details="": shown.append((message, details))
    )
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app.log, "handlers", [])
    app.install_excepthook()
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    for handler in app.log.handlers:
        handler.flush()
        handler.close()
    assert len(shown) == 1
    message, details = shown[0]
    assert message.startswith("Something went wrong: boom")
    assert "rolled back" in message
    assert "Traceback" in details
    assert "RuntimeError: boom" in details
    assert "RuntimeError: boom" in (tmp_path / "seatledger.log").read_text(encoding="utf-8")


def test_seconds_since_start_counts_from_the_process_start() -> None:
    assert seconds_since_start() > 0


def test_a_broken_ledger_names_the_first_bad_entry() -> None:
    verdict = Verdict(4, bytes(32), Failure(5, Problem.EDITED))
    ok, headline, details = verdict_text(verdict)
    assert not ok
    assert headline == (
        "The ledger is BROKEN: entry 5 is edited: its hash does not match its contents."
    )
    assert details.startswith("The 4 entries before it verify.")


# ------------------------------------------------------------------------ reconciliation


def test_reconciliation_shows_the_position_and_what_is_behind_a_number(  # noqa: PLR0917
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    make_window: MakeWindow,
    admin: Services,
    seated: Any,
    tmp_path: Path,
) -> None:
    window = make_window(admin)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_3, CTRL)
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    titles = [row.title for row in page.position_model.rows]
    assert "Contoso Software PDF Studio" in titles
    assert "short of rights" in page.summary.text()
    page.select_number("PDF Studio", Column.ASSIGNED)
    assert page.holder_model.rowCount() == 2
    assert "2 behind “assigned”" in page.holder_title.text()
    qtmodeltester.check(page.position_model)
    qtmodeltester.check(page.holder_model)
    page.search.setText("nothing like this")
    page.search.flush()
    assert page.position_model.rowCount() == 0
    target = tmp_path / "position.csv"
    page.export_to(target)
    assert "PDF Studio" in target.read_text(encoding="utf-8-sig")


def test_reconciliation_of_one_vendor_shows_only_its_products_and_findings(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, seated: Any
) -> None:
    from seatledger.domain.licensing import Metric
    from seatledger.services.catalog.service import EntitlementInput

    other = admin.catalog.add_vendor("Fabrikam")
    designer = admin.catalog.add_entitlement(
        EntitlementInput(admin.catalog.add_product(other, "Designer"), Metric.PER_USER, 1)
    )
    admin.seats.assign(designer, people=seated.people[2:4], over_commit=True, reason="pilot")
    admin.directory.mark_left(seated.people[0], dt.date(2026, 2, 28), "moved abroad")
    window = make_window(admin)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_3, CTRL)
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    assert {row.vendor for row in page.position_model.rows} == {"Contoso Software", "Fabrikam"}
    everything = list(page.position_model.rows)
    findings = list(page.finding_model.rows)
    assert {f.vendor for f in findings} == {"Contoso Software", "Fabrikam"}
    page.vendor.setCurrentIndex(page.vendor.findText("Contoso Software"))
    page.vendor.activated.emit(page.vendor.currentIndex())
    assert page.position_model.rows == [r for r in everything if r.vendor == "Contoso Software"]
    assert page.summary.text().startswith("<b>Contoso Software, ")
    # The seat of the one who left is the vendor's finding; the other vendor's are not shown.
    assert page.finding_model.rows == [f for f in findings if f.vendor == "Contoso Software"]
    page.vendor.setCurrentIndex(page.vendor.findText("Fabrikam"))
    page.vendor.activated.emit(page.vendor.currentIndex())
    assert [r.title for r in page.position_model.rows] == ["Fabrikam Designer"]
    assert page.finding_model.rows == [f for f in findings if f.vendor == "Fabrikam"]
    page.vendor.setCurrentIndex(0)
    page.vendor.activated.emit(0)
    assert page.position_model.rows == everything
    assert page.finding_model.rows == findings


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform cannot size dialogs
def test_unmatched_titles_are_mapped_in_a_few_clicks(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, org: Any, tmp_path: Path
) -> None:
    from seatledger.ingest.formats import Kind
    from seatledger.services.imports.options import ImportOptions
    from seatledger.ui.dialogs.rules import MapTitlesDialog

    inventory = tmp_path / "apps.csv"
    inventory.write_text(
        "Computer Name,Application Title,Application Version\n"
        "db-01,PDF Studio 2024,1\ndb-02,PDF Studio 2024,2\ndb-02,Free Zip,9\n",
        encoding="utf-8",
    )
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    window = make_window(admin)
    window.nav.setCurrentRow(TITLES)
    page = window.current_page()
    assert isinstance(page, SoftwareTitlesPage)
    assert [u.title for u in page.unmatched_model.rows] == ["PDF Studio 2024", "Free Zip"]
    assert not page.map_button.isEnabled()
    page.unmatched_view.selectRow(0)
    assert page.map_button.isEnabled()

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, MapTitlesDialog)
        dialog.product.setCurrentIndex(dialog.product.findText("Contoso Software PDF Studio"))
        qtbot.mouseClick(dialog.ok_button, LEFT)

    QTimer.singleShot(0, answer)
    qtbot.mouseClick(page.map_button, LEFT)
    assert [u.title for u in page.unmatched_model.rows] == ["Free Zip"]
    assert [r.title for r in page.rule_model.rows] == ["PDF Studio 2024"]
    assert "re-mapped" in window.statusBar().currentMessage()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform cannot size dialogs
def test_file_import_opens_the_wizard_for_those_who_may_import(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, as_role: Callable[[Role], Services]
) -> None:
    from seatledger.ui.dialogs.import_wizard import ImportWizard

    window = make_window(admin)
    action = window.menu_actions["import"]
    assert action.shortcut().toString() == "Ctrl+I"
    assert action.isEnabled()
    seen: list[object] = []

    def close() -> None:
        dialog = QApplication.activeModalWidget()
        seen.append(dialog)
        assert dialog is not None
        dialog.reject()

    QTimer.singleShot(0, close)
    action.trigger()
    assert isinstance(seen[0], ImportWizard)
    viewer = make_window(as_role(Role.VIEWER))
    assert not viewer.menu_actions["import"].isEnabled()


def test_a_license_file_granting_more_than_bought_is_a_finding_with_its_lines_behind_it(
    qtbot: QtBot, qtmodeltester: ModelTester, make_window: MakeWindow, admin: Services
) -> None:
    from PySide6.QtCore import QDate

    from seatledger.domain.licensing import Metric
    from seatledger.ingest.formats import Kind
    from seatledger.services.catalog.service import EntitlementInput
    from seatledger.services.imports.options import ImportOptions
    from seatledger.services.imports.rules import RuleInput
    from seatledger.services.position.engine import FindingKind

    vendor = admin.catalog.add_vendor("MathWorks")
    product = admin.catalog.add_product(vendor, "MATLAB")
    admin.rules.add(RuleInput(product, "MATLAB"))
    admin.catalog.add_entitlement(
        EntitlementInput(
            product, Metric.CONCURRENT, 45, name="MATLAB campus", term_end=dt.date(2027, 12, 31)
        )
    )
    grants = Path(__file__).parents[1] / "data" / "lmstat_i" / "v11_16_two_daemons.txt"
    admin.imports.commit(grants, ImportOptions(Kind.GRANTS, server="27000@lic01"))
    window = make_window(admin)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_3, CTRL)
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    page.as_of.setDate(QDate(2027, 1, 15))
    page.finding_kind.setCurrentIndex(page.finding_kind.findData(FindingKind.GRANTS_OVER))
    # Lines 10 and 11 of the file grant 40 + 10 = 50 MATLAB licenses; 45 were bought.
    assert [(f.title, f.count) for f in page.finding_model.rows] == [("MathWorks MATLAB", 5)]
    page.finding_view.selectRow(0)
    assert sorted((h.kind, h.detail) for h in page.holder_model.rows) == [
        ("entitlement", "45 Concurrent, term until 2027-12-31"),
        ("grant", "10 licenses, expires 2027-06-30; MLM on 27000@lic01, line 11"),
        ("grant", "40 licenses, expires 2027-12-31; MLM on 27000@lic01, line 10"),
    ]
    assert "License file grants more</b> — MathWorks MATLAB: the license files grant 50" in (
        page.holder_title.text()
    )
    qtmodeltester.check(page.holder_model)


def test_a_new_window_gets_back_every_pages_splitters_and_headers(
    qtbot: QtBot,
    make_window: Callable[[Services], MainWindow],
    admin: Services,
    settings: QSettings,
) -> None:
    """Each page's layouts() are saved on close and given back to the page when next built."""
    first = make_window(admin)
    pages = [first.page(number) for number in range(len(PAGE_TYPES))]
    remembered = {key: widget for page in pages for key, widget in page.layouts().items()}
    assert set(remembered) == {
        "licenses/splitter",
        "reconciliation/splitter",
        "titles/splitter",
        "usage/teams_splitter",
        "activity/splitter",
        "audits/header",
        "reviews/header",
    }
    for widget in remembered.values():  # a layout that is not the one a page starts with
        if isinstance(widget, QSplitter):
            widget.setSizes([40, 300])
        else:
            widget.resizeSection(0, 321)
    saved = {key: bytes(widget.saveState().data()) for key, widget in remembered.items()}
    first.save_settings()
    first.close()

    second = MainWindow(admin, first.workspace, runner=SyncRunner(), settings=settings)
    qtbot.addWidget(second)
    again = [second.page(number) for number in range(len(PAGE_TYPES))]
    restored = {key: widget for page in again for key, widget in page.layouts().items()}
    assert {key: bytes(w.saveState().data()) for key, w in restored.items()} == saved
    second.close()
