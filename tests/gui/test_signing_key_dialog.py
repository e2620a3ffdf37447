"""Admin ▸ Signing key…: rotation with the passphrase, and the key-lost procedure of two
administrators."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from seatledger.domain.roles import Role
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.dialogs.signing_key import Action, SigningKeyDialog
from seatledger.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

PASSPHRASE = "a long and private passphrase"
SECOND = "violet harbor kettle 42"


def click(qtbot: QtBot, button: QWidget) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _dialog(qtbot: QtBot, services: Services) -> SigningKeyDialog:
    dialog = SigningKeyDialog(services)
    qtbot.addWidget(dialog)
    return dialog


def _choices(dialog: SigningKeyDialog) -> list[Action]:
    return [Action(dialog.action.itemData(i)) for i in range(dialog.action.count())]


def test_a_lost_key_is_declared_by_one_administrator_and_replaced_by_another(
    qtbot: QtBot,
    admin: Services,
    workspace: Workspace,
    make_window: Callable[[Services], MainWindow],
) -> None:
    old = admin.signing.create(PASSPHRASE, "Example Corp")
    window = make_window(admin)
    assert window.menu_actions["signing_key"].isEnabled()
    dialog = _dialog(qtbot, admin)
    assert dialog.fingerprint.text().replace(" ", "").replace("\n", "") == old.ed25519_fingerprint
    assert _choices(dialog) == [Action.ROTATE, Action.DECLARE_LOST]
    dialog.action.setCurrentIndex(1)
    assert dialog.ok_button.text() == "&Declare lost"
    assert not dialog.form.isRowVisible(dialog.current)
    assert not dialog.form.isRowVisible(dialog.new)
    assert dialog.form.isRowVisible(dialog.reason)
    assert not dialog.ok_button.isEnabled()  # the reason is needed
    qtbot.keyClicks(dialog.reason, "lost")
    click(qtbot, dialog.ok_button)
    assert "at least 10 characters" in dialog.message.text()  # refused, kept open
    dialog.reason.clear()
    qtbot.keyClicks(dialog.reason, "Our custodian left with the passphrase")
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert "declared lost" in dialog.done_text
    # The requester can only withdraw; the pending request is shown.
    again = _dialog(qtbot, admin)
    assert _choices(again) == [Action.WITHDRAW]
    assert again.pending_note is not None
    assert "Our custodian left with the passphrase" in again.pending_note.text()
    # A second administrator approves, with a new passphrase typed twice.
    admin.operators.create("bea", "Bea Second", Role.ADMINISTRATOR, SECOND)
    second = workspace.sign_in("bea", SECOND)
    approve = _dialog(qtbot, second)
    assert _choices(approve) == [Action.APPROVE, Action.WITHDRAW]
    assert approve.ok_button.text() == "&Approve and replace"
    qtbot.keyClicks(approve.new, "a brand new passphrase")
    qtbot.keyClicks(approve.repeat, "a brand new passphrase!")
    assert "The two passphrases differ." in approve.hint.text()
    assert not approve.ok_button.isEnabled()
    approve.repeat.clear()
    qtbot.keyClicks(approve.repeat, "a brand new passphrase")
    click(qtbot, approve.ok_button)
    assert approve.result() == QDialog.DialogCode.Accepted, approve.message.text()
    assert "replaced by identity" in approve.done_text
    current = admin.signing.current()
    assert current is not None
    assert current.ed25519_fingerprint != old.ed25519_fingerprint
    assert admin.signing.key_lost_request() is None


def test_the_key_is_rotated_with_its_passphrase(qtbot: QtBot, admin: Services) -> None:
    old = admin.signing.create(PASSPHRASE, "Example Corp")
    dialog = _dialog(qtbot, admin)
    assert dialog.ok_button.text() == "&Rotate"
    qtbot.keyClicks(dialog.current, "not the passphrase at all")
    qtbot.keyClicks(dialog.new, "a brand new passphrase")
    qtbot.keyClicks(dialog.repeat, "a brand new passphrase")
    qtbot.keyClicks(dialog.reason, "yearly rotation")
    click(qtbot, dialog.ok_button)
    assert "Wrong passphrase" in dialog.message.text()
    dialog.current.clear()
    qtbot.keyClicks(dialog.current, PASSPHRASE)
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.message.text()
    current = admin.signing.current()
    assert current is not None
    assert current.ed25519_fingerprint != old.ed25519_fingerprint
