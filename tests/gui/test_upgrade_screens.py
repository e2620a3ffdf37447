"""What a user sees when they open a database written by an older SeatLedger."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.store.db import HEAD_REVISION
from seatledger.ui.dialogs.sign_in import SignInDialog
from seatledger.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

OLDEST = Path(__file__).parents[1] / "upgrade_corpus" / "S1-0002-e47b204.sqlite"


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "licenses.sqlite"
    shutil.copyfile(OLDEST, path)
    return path


@pytest.fixture
def workspace(old_file: Path) -> Iterator[Workspace]:
    """The oldest corpus database (schema 0002), opened as the app opens it."""
    opened = Workspace.open(old_file, create=False)
    yield opened
    opened.close()


def _sign_in(qtbot: QtBot, workspace: Workspace) -> SignInDialog:
    dialog = SignInDialog(workspace)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name_edit.setText("admin")
    dialog.password_edit.setText("demo")
    dialog.ok_button.click()
    return dialog


def test_sign_in_says_it_upgrades_and_the_window_says_what_it_did(
    qtbot: QtBot, workspace: Workspace, make_window: Callable[[Services], MainWindow]
) -> None:
    dialog = SignInDialog(workspace)
    qtbot.addWidget(dialog)
    notes = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert f"older SeatLedger (schema 0002). Signing in upgrades it to schema {HEAD_REVISION}" in (
        notes
    )
    dialog.close()

    signed_in = _sign_in(qtbot, workspace)
    assert signed_in.services is not None
    window = make_window(signed_in.services)
    message = window.statusBar().currentMessage()
    assert f"Upgraded the database from schema 0002 to {HEAD_REVISION}" in message
    assert "licenses.before-upgrade-from-0002." in message


def test_a_failed_upgrade_is_explained_in_the_sign_in_dialog(
    qtbot: QtBot, workspace: Workspace, old_file: Path
) -> None:
    conn = sqlite3.connect(old_file)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("UPDATE seat_assignment SET person_id = 999999 WHERE id = 1")
    conn.commit()
    conn.close()
    dialog = _sign_in(qtbot, workspace)
    assert dialog.services is None
    assert dialog.isVisible()  # the user can read it, and cancel
    text = dialog.message.text()
    assert "refers to a missing person" in text
    assert "Nothing was changed" in text
    assert "before-upgrade-from-0002" in text
    # The whole message fits: the dialog grew to show it.
    assert dialog.message.geometry().bottom() <= dialog.height()
    assert dialog.message.height() >= dialog.message.heightForWidth(dialog.message.width())
