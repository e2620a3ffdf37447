"""Admin ▸ Signing key…: the organization's report-signing identity, its rotation, and the
"key lost" procedure.

Rotating needs the current passphrase.  When it is lost, one administrator declares the key lost
with a reason and a second one approves the replacement (the service refuses the requester);
each step is a ledger entry.  The dialog offers what the pending request allows: declare, or
approve and turn down (another administrator's request), or withdraw (one's own).
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QWidget

from seatledger.progress import Progress
from seatledger.services.audits.signing import (
    MIN_KEY_LOST_REASON,
    MIN_PASSPHRASE,
    KeyLostRequest,
    fingerprint_text,
)
from seatledger.services.operators.session import ORGANIZATION_KEY, Services, read_setting
from seatledger.ui.dialogs.common import FormDialog
from seatledger.ui.tasks import Task


class Action(StrEnum):
    """What the dialog does when its button is pressed."""

    ROTATE = "rotate"
    DECLARE_LOST = "declare"
    APPROVE = "approve"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        """The choice as the combo shows it."""
        return _WORDS[self][0]

    @property
    def button(self) -> str:
        """The OK button's text for this choice."""
        return _WORDS[self][1]


# Each action: the choice as the combo shows it, and the OK button's text.
_WORDS = {
    Action.ROTATE: ("Rotate the key (I know its passphrase)", "&Rotate"),
    Action.DECLARE_LOST: (
        "Declare the key lost (a second administrator approves)",
        "&Declare lost",
    ),
    Action.APPROVE: ("Approve the replacement of the lost key", "&Approve and replace"),
    Action.WITHDRAW: ("Turn down or withdraw the key-lost request", "&Withdraw request"),
}


def available(pending: KeyLostRequest | None, me: str) -> list[Action]:
    """The actions a pending request (or none) leaves to operator ``me``."""
    if pending is None:
        return [Action.ROTATE, Action.DECLARE_LOST]
    if pending.requested_by == me:
        return [Action.WITHDRAW]
    return [Action.APPROVE, Action.WITHDRAW]


class SigningKeyDialog(FormDialog):
    """Shows the active identity and rotates it or runs the key-lost procedure (administrators)."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__("Signing key", "&Rotate", parent)
        self.setObjectName("signing_key")
        self.setMinimumWidth(620)
        self._services = services
        self.done_text = ""
        signing = services.signing
        current = signing.current()
        self.pending = signing.key_lost_request()
        self.set_intro(
            "Reports are signed with the organization's key. Vendors pin its fingerprint; a "
            "rotation is endorsed by the old key, so they follow it. If the passphrase is lost, "
            "nobody can sign with the key: one administrator declares it lost, another approves "
            "its replacement, and vendors are told the new key replaced a lost one."
        )
        if current is None:
            self.add_note("No signing key yet: it is created when the first report is signed.")
        self.identity = QLabel(self)
        self.identity.setObjectName("identity")
        self.fingerprint = QLabel(self)
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if current is not None:
            self.identity.setText(
                f"Identity {current.id} for {current.organization}, {current.origin} "
                f"{current.created_at.astimezone():%Y-%m-%d} by {current.created_by}"
            )
            groups = fingerprint_text(current.ed25519_fingerprint).split()
            self.fingerprint.setText(f"{' '.join(groups[:8])}\n{' '.join(groups[8:])}")
        self.add_row("Active key", self.identity)
        self.add_row("SHA-256", self.fingerprint)
        self.pending_note = (
            self.add_note(f"Pending: {self.pending.text}.", "warning")
            if self.pending is not None
            else None
        )
        self.action = QComboBox(self)
        for action in available(self.pending, services.actor.name) if current else []:
            self.action.addItem(action.label, action.value)
        self.action_label = self.add_row("&What to do", self.action, names=["action"])
        self.current = _secret(self, "passphrase now")
        self.current_label = self.add_row("&Current passphrase", self.current, names=["current"])
        self.new = _secret(self, f"at least {MIN_PASSPHRASE} characters, several words")
        self.new_label = self.add_row("&New passphrase", self.new, names=["passphrase"])
        self.repeat = _secret(self, "the new passphrase again")
        self.repeat_label = self.add_row("Re&peat it", self.repeat, names=["repeat"])
        self.reason = QLineEdit(self)
        self.reason_label = self.add_row("&Reason", self.reason, names=["reason"])
        self.action.currentIndexChanged.connect(self._choose)
        self.finish()
        self._choose()

    def chosen(self) -> Action | None:
        """The action picked (None when there is nothing to do)."""
        value = self.action.currentData()
        return Action(value) if value else None

    def _choose(self) -> None:
        action = self.chosen()
        self.ok_button.setText(action.button if action else "&Close")
        self.set_row_visible(self.action, action is not None)
        self.set_row_visible(self.current, action is Action.ROTATE)
        self.set_row_visible(self.new, action in (Action.ROTATE, Action.APPROVE))
        self.set_row_visible(self.repeat, action in (Action.ROTATE, Action.APPROVE))
        self.set_row_visible(
            self.reason, action in (Action.ROTATE, Action.DECLARE_LOST, Action.WITHDRAW)
        )
        self.reason.setPlaceholderText(
            f"why the key is lost (at least {MIN_KEY_LOST_REASON} characters; vendors read it)"
            if action is Action.DECLARE_LOST
            else "e.g. yearly rotation"
            if action is Action.ROTATE
            else "optional"
        )
        self.message.clear_message()
        self.update_state()

    def complete(self) -> bool:
        """Every field the chosen action needs is filled."""
        action = self.chosen()
        if action is Action.ROTATE:
            filled = (self.current, self.new, self.repeat)
            return all(f.text() for f in filled) and bool(self.reason.text().strip())
        if action is Action.APPROVE:
            return bool(self.new.text() and self.repeat.text())
        if action is Action.DECLARE_LOST:
            return bool(self.reason.text().strip())
        return True

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """A short new passphrase or a repeat that differs, as typed."""
        if self.chosen() not in (Action.ROTATE, Action.APPROVE):
            return []
        found: list[tuple[str, QWidget | None]] = []
        if self.new.text() and len(self.new.text()) < MIN_PASSPHRASE:
            found.append(
                (f"The passphrase must have at least {MIN_PASSPHRASE} characters.", self.new)
            )
        if self.repeat.text() and self.repeat.text() != self.new.text():
            found.append(("The two passphrases differ.", self.repeat))
        return found

    def save_in_background(self) -> Task[str]:
        """Run the chosen action off the GUI thread (sealing a key takes a moment)."""
        signing = self._services.signing
        action = self.chosen()
        current, new, reason = self.current.text(), self.new.text(), self.reason.text()
        organization = read_setting(self._services.db, ORGANIZATION_KEY)

        def work(_progress: Progress) -> str:
            if action is Action.ROTATE:
                made = signing.rotate(current, new, organization, reason)
                return f"Signing key rotated: identity {made.id}, endorsed by the old key."
            if action is Action.DECLARE_LOST:
                request = signing.request_key_lost(reason)
                return (
                    f"Signing key declared lost (ledger entry {request.seq}); another "
                    "administrator approves its replacement."
                )
            if action is Action.APPROVE:
                made = signing.approve_key_lost(new)
                return (
                    f"The lost key is replaced by identity {made.id}: give vendors its "
                    f"fingerprint by another channel ({made.ed25519_fingerprint[:16]}…)."
                )
            if action is Action.WITHDRAW:
                signing.withdraw_key_lost(reason)
                return "The key-lost request is withdrawn."
            return ""

        return Task(work).on_done(self._done)

    def _done(self, text: str) -> None:
        self.done_text = text


def _secret(parent: QWidget, placeholder: str) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(placeholder)
    return edit
