"""Where the keyboard is after assigning seats: on the seats just assigned, not lost.

The offscreen platform leaves a closed dialog the active window; a desktop's window manager
activates the main window again, which the tests do themselves (:func:`back_to`), so that the
keys below go where a user's would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.assign import AssignDialog, ReleaseDialog
from seatledger.ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen cannot size dialogs

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
MakeWindow = Callable[[Services], MainWindow]


def back_to(qtbot: QtBot, window: MainWindow) -> None:
    """The main window active again after a dialog closed, as the window manager makes it."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_after_assigning_the_new_seats_have_the_focus_and_the_keyboard_goes_on_from_them(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, org: Any
) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:1])  # a seat held before: not selected
    window = make_window(admin)
    page = window.licenses
    assert page.table.select_key(org.acrobat)
    page.table.setFocus()
    qtbot.waitUntil(page.table.hasFocus)
    seen: list[str] = []

    def assign_by_keyboard() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, AssignDialog)
        assert dialog.focusWidget() is dialog.picker.search
        qtbot.keyClicks(dialog.picker.search, "Person 3")
        qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Return)  # search now
        qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Tab)  # to the team filter...
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)  # ...select all...
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)  # ...the people
        assert dialog.focusWidget() is dialog.picker.view
        qtbot.keyClick(dialog.picker.view, Qt.Key.Key_Home)  # the first (and only) match
        seen.append(dialog.ok_button.text())
        qtbot.keyClick(dialog.picker.view, Qt.Key.Key_Return)  # the default button: Assign

    QTimer.singleShot(0, assign_by_keyboard)
    qtbot.keyClick(page.table, Qt.Key.Key_A, CTRL_SHIFT)
    assert seen == ["Assign 1 seat"]

    seats = page.detail.seats
    back_to(qtbot, window)
    assert QApplication.focusWidget() is seats  # the focus came back to what was just done
    assigned = admin.reads.seats(org.acrobat, include_released=False).keys()
    assert len(assigned) == 2
    newest = max(assigned)
    assert seats.selected_keys() == [newest]
    assert seats.current_key() == newest

    # The keyboard goes on from there: Delete offers to release exactly that seat.
    offered: list[list[int]] = []

    def decline_release() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ReleaseDialog)
        offered.append(dialog.assignment_ids)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    QTimer.singleShot(0, decline_release)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Delete)
    assert offered == [[newest]]
    back_to(qtbot, window)
    assert QApplication.focusWidget() is seats


def test_cancelling_the_assign_dialog_leaves_the_focus_where_it_was(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, org: Any
) -> None:
    window = make_window(admin)
    page = window.licenses
    assert page.table.select_key(org.acrobat)
    page.table.setFocus()
    qtbot.waitUntil(page.table.hasFocus)

    def cancel() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, AssignDialog)
        qtbot.keyClick(dialog.picker.search, Qt.Key.Key_Escape)

    QTimer.singleShot(0, cancel)
    qtbot.keyClick(page.table, Qt.Key.Key_A, CTRL_SHIFT)
    back_to(qtbot, window)
    assert QApplication.focusWidget() is page.table
    assert page.table.current_key() == org.acrobat
