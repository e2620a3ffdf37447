"""Signing an operator in to a workspace, which may still be opening.

At start-up the dialog is the first window: it is shown before the database layer is imported,
and the workspace arrives (:meth:`SignInDialog.set_workspace`) while the operator types.  So this
module imports neither the services nor SQLAlchemy (tests/test_startup_paths.py checks it).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from seatledger.errors import AuthenticationError, ValidationError
from seatledger.progress import Progress
from seatledger.ui.dialogs.common import FormDialog, InlineMessage, wide
from seatledger.ui.tasks import Task

if TYPE_CHECKING:
    from seatledger.services.operators.session import Services
    from seatledger.services.operators.workspace import Workspace

DEMO_HINT = "Demo operators: admin, manager, auditor, viewer — password demo"


class SignInDialog(FormDialog):
    """Asks for an operator name and password; after Accepted, :attr:`services` is signed in.

    Args:
        workspace: the open workspace, or a future that will hold it (the dialog is then shown
            at once, and the sign-in waits for the workspace if the operator is quicker).
        display_name: what to call the database until the workspace is open.
    """

    def __init__(
        self,
        workspace: Workspace | Future[Workspace],
        parent: QWidget | None = None,
        *,
        operator_name: str = "",
        display_name: str = "",
    ) -> None:
        super().__init__("Sign in to SeatLedger", "Sign in", parent)
        self.workspace: Workspace | None = None
        self._opening: Future[Workspace]
        if isinstance(workspace, Future):
            self._opening = workspace
        else:
            self._opening = Future()
            self._opening.set_result(workspace)
            display_name = workspace.display_name
        self.services: Services | None = None
        # One line whatever the database's name: the path as typed becomes the full path when
        # the database has opened, and a wrapped line would push the form down.
        self._intro_text = ""
        self.intro.setWordWrap(False)
        self.intro.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.intro.installEventFilter(self)
        self.set_intro(f"Sign in to {display_name}.")
        self.name_edit = wide(QLineEdit(operator_name))
        self.name_edit.setPlaceholderText("operator name")
        self.password_edit = wide(QLineEdit())
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_row("&Operator:", self.name_edit, names=("Operator name",))
        self.add_row("&Password:", self.password_edit, names=("Password",))
        # The notes go under the form, and the demo's note has its place kept from the start:
        # it arrives while the operator is typing, and must not move the fields under the
        # pointer or the button about to be clicked (an upgrade's rarer note only adds below).
        self._below = QVBoxLayout()
        self._below.setContentsMargins(0, 0, 0, 0)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertLayout(layout.indexOf(self.form) + 1, self._below)
        self.demo_note = InlineMessage(self)
        self._below.addWidget(self.demo_note)
        if isinstance(workspace, Future):
            self.demo_note.show_message(DEMO_HINT, "info")
            self.demo_note.hide()
            policy = self.demo_note.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            self.demo_note.setSizePolicy(policy)
        if not isinstance(workspace, Future):
            self.set_workspace(workspace)
        self.finish()
        (self.password_edit if operator_name else self.name_edit).setFocus()

    def set_intro(self, text: str) -> None:
        """The sentence naming the database, on one line: a long path is elided in its middle
        (the whole of it is the tooltip and what a screen reader reads)."""
        self._intro_text = text
        self.intro.setToolTip(text)
        self.intro.setAccessibleName(text)
        self.intro.setVisible(bool(text))
        self._elide_intro()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Elide the intro again when its width changes."""
        if watched is self.intro and event.type() == QEvent.Type.Resize:
            self._elide_intro()
        return super().eventFilter(watched, event)

    def _elide_intro(self) -> None:
        metrics = self.intro.fontMetrics()
        width = max(self.intro.contentsRect().width(), 1)
        self.intro.setText(
            metrics.elidedText(self._intro_text, Qt.TextElideMode.ElideMiddle, width)
        )

    def set_workspace(self, workspace: Workspace) -> None:
        """The workspace is open: name it, and say what the operator should know before signing
        in (the demo's operators, an upgrade that signing in will do)."""
        self.workspace = workspace
        self.set_intro(f"Sign in to {workspace.display_name}.")
        if workspace.is_demo:
            self.demo_note.show_message(DEMO_HINT, "info")
        if (pending := workspace.pending_upgrade) is not None:
            upgrade = InlineMessage(self)
            self._below.addWidget(upgrade)
            upgrade.show_message(
                f"This database was written by an older SeatLedger (schema {pending[0]}). "
                f"Signing in upgrades it to schema {pending[1]} in your name; a backup copy is "
                "made first, beside the file.",
                "info",
            )
            self._grow_to_fit()

    def _grow_to_fit(self) -> None:
        """Lengthen the window for a wrapped note added below the form (a dialog's minimum
        height does not follow a wrapped label's), so the note is read whole."""
        if not self.isVisible():
            return  # showing sizes the window to its content
        layout = self.layout()
        assert layout is not None
        layout.activate()
        needed = self.heightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def complete(self) -> bool:
        """Both fields are filled."""
        return bool(self.name_edit.text().strip() and self.password_edit.text())

    def save_in_background(self) -> Task[Services]:
        """Check the password off the GUI thread (Argon2, and a pending upgrade, take time); a
        wrong one clears the field and keeps the dialog open.  A workspace still opening is
        waited for there."""
        opening, name, password = self._opening, self.name_edit.text(), self.password_edit.text()

        def work(_progress: Progress) -> Services:
            workspace = opening.result()  # the opening's own error, if it failed
            try:
                return workspace.sign_in(name, password)
            except AuthenticationError as exc:
                raise ValidationError(str(exc), "Password") from exc

        task = Task(work).on_done(self._signed_in)
        task.failed.connect(lambda _message, _details: self._refused(task))
        return task

    def _signed_in(self, services: Services) -> None:
        self.services = services

    def _refused(self, task: Task[Services]) -> None:
        if isinstance(task.error, ValidationError) and task.error.field == "Password":
            self.password_edit.clear()
