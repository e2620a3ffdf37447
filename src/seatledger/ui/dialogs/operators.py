"""Administrators manage operators: add them, change their role or deactivate them, reset
their passwords."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.roles import Permission, Role, allows
from seatledger.progress import Progress
from seatledger.services.operators.accounts import OperatorInfo
from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.common import (
    PASSWORDS_DIFFER,
    FormDialog,
    InlineMessage,
    helper_button,
    password_problem,
    wide,
)
from seatledger.ui.table_model import KEY_ROLE, AnyIndex
from seatledger.ui.tasks import Task
from seatledger.ui.widgets import DataTable, accessible

COL_NAME, COL_FULL_NAME, COL_ROLE, COL_ACTIVE, COL_FAILED = range(5)
_HEADERS = ("Name", "Full name", "Role", "Active", "Failed sign-ins")
_DISPLAY = Qt.ItemDataRole.DisplayRole


class OperatorTableModel(QAbstractTableModel):
    """The operators of the database, by name (a few dozen at most: held in memory)."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._rows: list[OperatorInfo] = []
        self.reload()

    def reload(self) -> None:
        """Read the operators again."""
        self.beginResetModel()
        self._rows = self._services.operators.list()
        self.endResetModel()

    def operator_at(self, row: int) -> OperatorInfo:
        """The operator shown in ``row``."""
        return self._rows[row]

    def row_of(self, operator_id: int) -> int:
        """The row showing an operator, or -1."""
        return next((n for n, info in enumerate(self._rows) if info.id == operator_id), -1)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """One row per operator (none under a valid parent: a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Name, full name, role, active, failed sign-ins."""
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == _DISPLAY
            and 0 <= section < len(_HEADERS)
        ):
            return _HEADERS[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        """Selectable, not editable in place."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        """Cell text, the operator id (KEY_ROLE), and tool tips on inactive operators and on
        failed sign-ins."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        info = self._rows[index.row()]
        if role == _DISPLAY:
            return (
                info.name,
                info.full_name,
                info.role.label,
                "Yes" if info.active else "No",
                str(info.failed_sign_ins) if info.failed_sign_ins else "",
            )[index.column()]
        if role == KEY_ROLE:
            return info.id
        if role == Qt.ItemDataRole.ToolTipRole:
            if index.column() == COL_FAILED and info.failed_sign_ins:
                return (
                    f"{info.failed_sign_ins} failed sign-ins in a row since the last success; "
                    "each is in the activity ledger (operator.sign_in_failed). Resetting the "
                    "password ends the wait."
                )
            if not info.active:
                return f"{info.name} is deactivated and cannot sign in."
        return None


class AddOperatorDialog(FormDialog):
    """Adds an operator with a role and a first password."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__("Add operator", "Add operator", parent)
        self.services = services
        self.saved_id: int | None = None
        self.name_edit = wide(QLineEdit())
        self.name_edit.setPlaceholderText("sign-in name, e.g. jsmith")
        self.full_name = QLineEdit()
        self.full_name.setPlaceholderText("e.g. Jane Smith")
        self.role_combo = role_combo(Role.LICENSE_MANAGER)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_row("&Name:", self.name_edit, names=("Operator name",))
        self.add_row("&Full name:", self.full_name, names=("Full name",))
        self.add_row("&Role:", self.role_combo, names=("Role",))
        self.add_row("&Password:", self.password, names=("Password",))
        self.add_row("&Confirm password:", self.confirm)
        self.finish()

    def complete(self) -> bool:
        """Name, password and confirmation are given."""
        return bool(self.name_edit.text().strip() and self.password.text() and self.confirm.text())

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """A short password or a confirmation that differs."""
        problem = password_problem(self.password.text(), self.confirm.text())
        if not problem:
            return []
        return [(problem, self.confirm if problem == PASSWORDS_DIFFER else self.password)]

    def save_in_background(self) -> Task[int]:
        """Add the operator off the GUI thread (hashing the password takes a while)."""
        operators = self.services.operators
        name, full_name = self.name_edit.text(), self.full_name.text()
        role, password = Role(self.role_combo.currentData()), self.password.text()

        def work(_progress: Progress) -> int:
            return operators.create(name, full_name, role, password)

        return Task(work).on_done(self._saved)

    def _saved(self, operator_id: int) -> None:
        self.saved_id = operator_id


class ChangeRoleDialog(FormDialog):
    """Changes an operator's role or deactivates them, with a reason."""

    def __init__(
        self, services: Services, operator: OperatorInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(f"Change role — {operator.name}", "Change role", parent)
        self.services = services
        self.operator = operator
        who = html.escape(operator.name)
        if operator.full_name:
            who += f" ({html.escape(operator.full_name)})"
        self.set_intro(f"Operator <b>{who}</b> is {operator.role.label.lower()}.")
        self.role_combo = role_combo(operator.role)
        self.active = QCheckBox("&Active (may sign in)")
        self.active.setChecked(operator.active)
        self.reason = wide(QLineEdit())
        self.reason.setPlaceholderText("required, e.g. moved to the audit team")
        self.add_row("&Role:", self.role_combo, names=("Role",))
        self.add_row("", self.active, names=("Active",))
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self.finish()

    def chosen_role(self) -> Role:
        """The role chosen in the combo."""
        return Role(self.role_combo.currentData())

    def complete(self) -> bool:
        """Something changes and a reason is given."""
        changed = (
            self.chosen_role() is not self.operator.role
            or self.active.isChecked() != self.operator.active
        )
        return changed and bool(self.reason.text().strip())

    def save(self) -> None:
        """Apply the change (the service keeps the last administrator)."""
        self.services.operators.set_role(
            self.operator.id, self.chosen_role(), self.active.isChecked(), self.reason.text()
        )


class ResetPasswordDialog(FormDialog):
    """Sets a new password for an operator."""

    def __init__(
        self, services: Services, operator: OperatorInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(f"Reset password — {operator.name}", "Set password", parent)
        self.services = services
        self.operator = operator
        self.set_intro(
            f"A new password for <b>{html.escape(operator.name)}</b>. Tell them in person; "
            "SeatLedger records that it changed, never the password."
        )
        self.password = wide(QLineEdit())
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_row("New &password:", self.password, names=("Password",))
        self.add_row("&Confirm password:", self.confirm)
        self.finish()

    def complete(self) -> bool:
        """Both fields are filled."""
        return bool(self.password.text() and self.confirm.text())

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """A short password or a confirmation that differs."""
        problem = password_problem(self.password.text(), self.confirm.text())
        if not problem:
            return []
        return [(problem, self.confirm if problem == PASSWORDS_DIFFER else self.password)]

    def save_in_background(self) -> Task[None]:
        """Set the password off the GUI thread (hashing it takes a while)."""
        operators, operator_id, password = (
            self.services.operators,
            self.operator.id,
            self.password.text(),
        )
        return Task(lambda _progress: operators.set_password(operator_id, password))


def role_combo(selected: Role) -> QComboBox:
    """A combo of the roles, showing their labels."""
    combo = QComboBox()
    for role in Role:
        combo.addItem(role.label, role.value)
    combo.setCurrentIndex(combo.findData(selected.value))
    return combo


class OperatorsDialog(QDialog):
    """Lists the operators and opens the add / change role / reset password forms."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Operators")
        self.setMinimumSize(640, 380)
        self.services = services
        self.form: FormDialog | None = None
        self.is_admin = allows(services.actor.role, Permission.MANAGE_OPERATORS)
        intro = QLabel(
            "Operators sign in to SeatLedger; their role decides what they may do, and every "
            "change they make is recorded under their name."
        )
        intro.setWordWrap(True)
        self.model = OperatorTableModel(services, self)
        self.view = accessible(DataTable(), "Operators")
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.set_column_widths(
            {COL_NAME: 14, COL_ROLE: 16, COL_ACTIVE: 6, COL_FAILED: 12}, COL_FULL_NAME
        )
        self.view.doubleClicked.connect(lambda _index: self.change_role())
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)

        self.add_button = helper_button("&Add operator…")
        self.role_button = helper_button("Change &role…")
        self.password_button = helper_button("Reset &password…")
        self.add_button.clicked.connect(self.add_operator)
        self.role_button.clicked.connect(self.change_role)
        self.password_button.clicked.connect(self.reset_password)
        self.message = InlineMessage()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        side = QVBoxLayout()
        for button in (self.add_button, self.role_button, self.password_button):
            side.addWidget(button)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.view, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        layout.addWidget(close)
        if not self.is_admin:
            self.message.show_message(
                "Only administrators manage operators; you may reset your own password.", "info"
            )
        own = self.model.row_of(services.actor.id)
        self.view.selectRow(max(own, 0))
        self._selection_changed()

    def selected(self) -> OperatorInfo | None:
        """The selected operator."""
        rows = self.view.selectionModel().selectedRows()
        return self.model.operator_at(rows[0].row()) if rows else None

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.add_button.setEnabled(self.is_admin)
        self.role_button.setEnabled(self.is_admin and chosen is not None)
        own = chosen is not None and chosen.id == self.services.actor.id
        self.password_button.setEnabled(chosen is not None and (self.is_admin or own))

    def _open(self, form: FormDialog) -> None:
        self.form = form
        form.accepted.connect(self._changed)
        form.open()

    def _changed(self) -> None:
        keep = self.form.saved_id if isinstance(self.form, AddOperatorDialog) else None
        if keep is None:
            chosen = self.selected()
            keep = chosen.id if chosen else None
        self.model.reload()
        if keep is not None:
            self.view.selectRow(self.model.row_of(keep))
        self._selection_changed()

    def add_operator(self) -> None:
        """Open the form that adds an operator."""
        if self.is_admin:
            self._open(AddOperatorDialog(self.services, self))

    def change_role(self) -> None:
        """Open the form that changes the selected operator's role."""
        chosen = self.selected()
        if chosen is not None and self.is_admin:
            self._open(ChangeRoleDialog(self.services, chosen, self))

    def reset_password(self) -> None:
        """Open the form that sets the selected operator's password."""
        chosen = self.selected()
        if chosen is not None and self.password_button.isEnabled():
            self._open(ResetPasswordDialog(self.services, chosen, self))
