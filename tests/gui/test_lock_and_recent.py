"""Locking the window, switching operator, and the databases opened lately."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from seatledger.domain.roles import Role
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.dialogs.sign_in import SignInDialog
from seatledger.ui.main_window import MainWindow
from seatledger.ui.recent import LIMIT, recent_databases, remember_database

from .conftest import PASSWORD

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen cannot size dialogs

CTRL = Qt.KeyboardModifier.ControlModifier
LEFT = Qt.MouseButton.LeftButton
MakeWindow = Callable[[Services], MainWindow]


def _sign_in_with(qtbot: QtBot, name: str | None, password: str, seen: list[str]) -> None:
    """Answer the next sign-in dialog: ``name`` typed over the one shown (None: keep it)."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SignInDialog):  # another dialog (opening a database) first
            QTimer.singleShot(10, answer)
            return
        seen.append(dialog.name_edit.text())
        if name is not None:
            dialog.name_edit.setText(name)
        qtbot.keyClicks(dialog.password_edit, password)
        qtbot.mouseClick(dialog.ok_button, LEFT)
        if dialog.isVisible():  # refused: the message stays in the dialog; give up
            seen.append(dialog.message.text())
            dialog.reject()

    QTimer.singleShot(0, answer)


def test_ctrl_l_hides_the_data_until_the_operator_signs_in_again(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    window = make_window(admin)
    qtbot.keyClick(window, Qt.Key.Key_L, CTRL)
    assert window.locked
    assert not window.stack.isVisible()  # no page, no count, no table is on screen
    assert not window.nav.isVisible()
    assert window.lock_screen.isVisible()
    assert "admin was signed out of" in window.lock_screen.text.text()
    assert not window.menuBar().isEnabled()
    assert not window.menu_actions["new_license"].isEnabled()
    assert window.menu_actions["quit"].isEnabled()
    assert window.operator_label.text() == "Locked: nobody signed in"
    window.changes.committed.emit({"entitlement"})  # work started before locking commits
    assert not window.menu_actions["new_license"].isEnabled()

    seen: list[str] = []
    _sign_in_with(qtbot, None, "not the password", seen)
    qtbot.mouseClick(window.lock_screen.sign_in_button, LEFT)
    assert seen[0] == "admin"  # the dialog offers the operator who was signed in
    assert "password" in seen[1].lower()
    assert window.locked  # a wrong password leaves it locked

    _sign_in_with(qtbot, None, PASSWORD, seen)
    qtbot.mouseClick(window.lock_screen.sign_in_button, LEFT)
    assert not window.locked
    assert window.stack.isVisible()
    assert window.menuBar().isEnabled()
    assert window.menu_actions["new_license"].isEnabled()
    assert window.operator_label.text() == "Signed in as admin (Administrator)"


def test_another_operator_who_signs_in_gets_a_window_on_the_same_database(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, workspace: Workspace
) -> None:
    admin.operators.create("vera", "Vera Viewer", Role.VIEWER, PASSWORD)
    window = make_window(admin)
    emitted: list[tuple[object, object]] = []
    window.open_requested.connect(lambda services, ws: emitted.append((services, ws)))
    seen: list[str] = []
    _sign_in_with(qtbot, "vera", PASSWORD, seen)
    window.menu_actions["switch_operator"].trigger()
    assert seen == [""]  # switching asks who, not the operator who was signed in
    [(services, opened)] = emitted
    assert opened is workspace  # the same database, not opened again
    assert isinstance(services, Services)
    assert (services.actor.name, services.actor.role) == ("vera", Role.VIEWER)
    assert window.locked  # until the application replaces it, the old window shows nothing


@pytest.fixture
def other(tmp_path: Path, migrated_sqlite: Callable[[Path], Path]) -> Path:
    """A second database, whose administrator is otto."""
    path = migrated_sqlite(tmp_path / "other.sqlite")
    opened = Workspace.open(path)
    opened.create_administrator("otto", "Otto Admin", PASSWORD)
    opened.close()
    return path


def test_the_databases_opened_lately_are_offered_newest_first(
    qtbot: QtBot,
    make_window: MakeWindow,
    admin: Services,
    *,
    workspace: Workspace,
    settings: QSettings,
    other: Path,
) -> None:
    remember_database(settings, str(other))
    window = make_window(admin)
    assert recent_databases(settings) == [workspace.location, str(other)]
    window.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in window.recent_menu.actions() if not a.isSeparator()]
    assert texts == [f"&1 {other}", "&Clear the list"]  # not the one that is open

    emitted: list[tuple[object, object]] = []
    window.open_requested.connect(lambda services, ws: emitted.append((services, ws)))
    seen: list[str] = []
    _sign_in_with(qtbot, "otto", PASSWORD, seen)
    window.recent_menu.actions()[0].trigger()
    [(services, opened_workspace)] = emitted
    assert isinstance(opened_workspace, Workspace)
    assert opened_workspace.location == str(other)
    assert isinstance(services, Services)
    assert services.actor.name == "otto"
    opened_workspace.close()

    window.menu_actions["clear_recent"].trigger()
    assert recent_databases(settings) == [workspace.location]


def test_the_list_keeps_the_newest_and_never_a_password(settings: QSettings) -> None:
    for n in range(LIMIT + 3):
        remember_database(settings, f"/data/db{n}.sqlite")
    remember_database(settings, "/data/db5.sqlite")
    kept = recent_databases(settings)
    assert kept[0] == "/data/db5.sqlite"
    assert len(kept) == LIMIT
    assert kept.count("/data/db5.sqlite") == 1
    from seatledger.store.db import Database

    assert (
        Database.location_of("postgresql+psycopg://sam:secret@db.example.org/licenses")
        == "postgresql+psycopg://sam@db.example.org/licenses"
    )


def test_the_open_page_lists_recent_databases_and_opens_one_on_double_click(
    qtbot: QtBot, other: Path
) -> None:
    from seatledger.ui.dialogs.start import OPEN, StartDialog

    dialog = StartDialog(start_on=OPEN, recent=[str(other), "/gone/missing.sqlite"])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.recent_list.isVisible()
    assert dialog.recent_list.count() == 2
    dialog.recent_list.setCurrentRow(1)
    assert dialog.open_path.text() == "/gone/missing.sqlite"
    dialog.recent_list.setCurrentRow(0)
    item = dialog.recent_list.item(0)
    dialog.recent_list.itemActivated.emit(item)
    qtbot.waitUntil(lambda: dialog.result() == dialog.DialogCode.Accepted)
    assert dialog.workspace.location == str(other)
    dialog.workspace.close()
