"""Signing an operator in to an open workspace."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QWidget

from seatledger.errors import AuthenticationError, ValidationError
from seatledger.progress import Progress
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.dialogs.common import FormDialog, wide
from seatledger.ui.tasks import Task

DEMO_HINT = "Demo operators: admin, manager, auditor, viewer — password demo"


class SignInDialog(FormDialog):
    """Asks for an operator name and password; after Accepted, :attr:`services` is signed in."""

    def __init__(
        self, workspace: Workspace, parent: QWidget | None = None, *, operator_name: str = ""
    ) -> None:
        super().__init__("Sign in to SeatLedger", "Sign in", parent)
        self.workspace = workspace
        self.services: Services | None = None
        self.set_intro(f"Sign in to {workspace.display_name}.")
        self.name_edit = wide(QLineEdit(operator_name))
        self.name_edit.setPlaceholderText("operator name")
        self.password_edit = wide(QLineEdit())
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_row("&Operator:", self.name_edit, names=("Operator name",))
        self.add_row("&Password:", self.password_edit, names=("Password",))
        if workspace.is_demo:
            self.add_note(DEMO_HINT)
        if (pending := workspace.pending_upgrade) is not None:
            self.add_note(
                f"This database was written by an older SeatLedger (schema {pending[0]}). "
                f"Signing in upgrades it to schema {pending[1]} in your name; a backup copy is "
                "made first, beside the file."
            )
        self.finish()
        (self.password_edit if operator_name else self.name_edit).setFocus()

    def complete(self) -> bool:
        """Both fields are filled."""
        return bool(self.name_edit.text().strip() and self.password_edit.text())

    def save_in_background(self) -> Task[Services]:
        """Check the password off the GUI thread (Argon2, and a pending upgrade, take time); a
        wrong one clears the field and keeps the dialog open."""
        workspace, name, password = self.workspace, self.name_edit.text(), self.password_edit.text()

        def work(_progress: Progress) -> Services:
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
