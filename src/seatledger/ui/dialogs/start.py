"""The first screen: create a database, open the demo, or open an existing database.

After ``exec()`` returns Accepted, :attr:`StartDialog.workspace` is the open database and
:attr:`StartDialog.services` is set when an administrator was just created (already signed in).
A database that cannot be opened is explained inside the dialog, naming the file, and the user
can choose again.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCommandLinkButton,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from seatledger import APP_NAME
from seatledger.errors import DatabaseError, KnownError, ValidationError
from seatledger.paths import data_dir, default_database, expanded, private_folder
from seatledger.progress import Progress
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.dialogs.common import (
    PASSWORDS_DIFFER,
    InlineMessage,
    connect_edited,
    helper_button,
    invalid_text_sheet,
    make_form,
    ok_cancel,
    password_problem,
    row,
    set_invalid,
    wide,
)
from seatledger.ui.dialogs.errors import show_error
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.tasks import Runner, Task, runner_for
from seatledger.ui.theme import keep_styled

DEMO_FILE = "demo.sqlite"
FILE_FILTER = "SeatLedger databases (*.sqlite *.sqlite3 *.db);;All files (*)"
CREATE, DEMO, OPEN = 0, 1, 2


def demo_path() -> Path:
    """Where the demo database lives."""
    return data_dir() / DEMO_FILE


def _note(text: str) -> QLabel:
    """A quiet, wrapped explanation under a page's fields."""
    note = QLabel(text)
    note.setWordWrap(True)
    note.setStyleSheet("color: palette(placeholder-text);")
    return note


def _page(*items: QLayout | QWidget | int) -> QWidget:
    """One choice's page: its fields, notes and spacings (ints) stacked at the top."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 4, 0, 0)
    for item in items:
        if isinstance(item, int):
            layout.addSpacing(item)
        elif isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    layout.addStretch(1)
    return page


class StartDialog(QDialog):
    """Create a new database, open the demo, or open an existing database."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        runner: Runner | None = None,
        start_on: int = CREATE,
        recent: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self._recent = list(recent)
        self.setWindowTitle(f"Welcome to {APP_NAME}")
        self.setMinimumWidth(880)
        self._runner = runner or runner_for(parent)
        self._workspace: Workspace | None = None
        self.services: Services | None = None

        title = QLabel(f"Welcome to {APP_NAME}")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel(
            "Software licenses and seat assignments, with every change signed by the operator "
            "who made it. Choose the database to work in."
        )
        subtitle.setWordWrap(True)

        self.create_choice = QCommandLinkButton(
            "Create a &new database", "Start empty; you become its administrator."
        )
        self.demo_choice = QCommandLinkButton(
            "Open the &demo database", "A fictional organization to try things safely."
        )
        self.open_choice = QCommandLinkButton(
            "Open an &existing database…", "A SeatLedger file, or a PostgreSQL server."
        )
        self._choices = QButtonGroup(self)
        for number, choice in enumerate((self.create_choice, self.demo_choice, self.open_choice)):
            choice.setCheckable(True)
            choice.setAutoDefault(False)
            choice.setFixedWidth(300)
            self._choices.addButton(choice, number)
        self._choices.idToggled.connect(self._choice_toggled)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._create_page())
        self.pages.addWidget(self._demo_page())
        self.pages.addWidget(self._open_page())

        self.message = InlineMessage()
        self.buttons, self.ok_button = ok_cancel(self, self._submit)

        choices = QVBoxLayout()
        choices.setSpacing(4)
        for choice in (self.create_choice, self.demo_choice, self.open_choice):
            choices.addWidget(choice)
        choices.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(18)
        body.addLayout(choices)
        body.addWidget(self.pages, 1)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        # Opening, upgrading or building a database runs off the GUI thread; this shows it.
        self.progress = ProgressStrip("Cancel", self)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does the dialog remember it as its default.
        self.ok_button.setDefault(True)

        for first, second in (
            (self.create_choice, self.demo_choice),
            (self.demo_choice, self.open_choice),
            (self.open_choice, self.create_path),
            (self.create_path, self.create_browse),
            (self.create_browse, self.admin_name),
            (self.admin_name, self.full_name),
            (self.full_name, self.password),
            (self.password, self.confirm),
            (self.confirm, self.open_path),
            (self.open_path, self.open_browse),
            (self.open_browse, self.recent_list),
            (self.recent_list, self.ok_button),
        ):
            QWidget.setTabOrder(first, second)
        # On first run a database is made; from File > Open… one is opened.
        (self.create_choice, self.demo_choice, self.open_choice)[start_on].setChecked(True)

    # ------------------------------------------------------------------ pages
    def _create_page(self) -> QWidget:
        self.create_path = wide(QLineEdit(default_database()), 260)
        self.create_path.setPlaceholderText("file name, or postgresql://user@server/database")
        self.create_browse = helper_button("&Browse…")
        self.create_browse.clicked.connect(self._browse_create)
        self.admin_name = QLineEdit()
        self.admin_name.setPlaceholderText("e.g. jsmith")
        self.full_name = QLineEdit()
        self.full_name.setPlaceholderText("e.g. Jane Smith")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_hint = QLabel()
        keep_styled(self.create_hint, invalid_text_sheet)
        form = make_form()
        self._create_labels = {
            self.create_path: QLabel("Database &file:"),
            self.admin_name: QLabel("&Administrator:"),
            self.full_name: QLabel("F&ull name:"),
            self.password: QLabel("&Password:"),
            self.confirm: QLabel("&Confirm password:"),
        }
        for widget, label in self._create_labels.items():
            label.setBuddy(widget)
            field = row(widget, self.create_browse) if widget is self.create_path else widget
            form.addRow(label, field)
            connect_edited(widget, partial(self._edited, widget))
        form.addRow("", self.create_hint)
        form.setRowVisible(self.create_hint, False)
        self._create_form = form
        return _page(
            form,
            _note(
                "The administrator manages operators and may over-commit licenses. Everything "
                "they do is recorded under their name."
            ),
        )

    def _demo_page(self) -> QWidget:
        text = QLabel(
            "The demo is a fictional organization: vendors, licenses with their terms and "
            "costs, teams, people and devices, seats assigned and a history of changes. Try "
            "anything; nothing touches your real data.\n\n"
            "Operators admin, manager, auditor and viewer all use the password demo."
        )
        text.setWordWrap(True)
        self.demo_status = QLabel()
        self.demo_status.setWordWrap(True)
        self.demo_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return _page(text, 8, self.demo_status)

    def _open_page(self) -> QWidget:
        self.open_path = wide(QLineEdit(), 260)
        self.open_path.setPlaceholderText("file name, or postgresql://user@server/database")
        self.open_browse = helper_button("B&rowse…")
        self.open_browse.clicked.connect(self._browse_open)
        self.open_label = QLabel("Database &file or URL:")
        self.open_label.setBuddy(self.open_path)
        connect_edited(self.open_path, lambda: self._edited(self.open_path))
        # The databases opened lately: a click fills the path, a double click opens it.
        self.recent_list = QListWidget()
        self.recent_list.setAccessibleName("Recent databases")
        self.recent_list.addItems(self._recent)
        self.recent_list.setMaximumHeight(
            self.recent_list.sizeHintForRow(0) * min(max(len(self._recent), 1), 6) + 8
        )
        self.recent_list.currentTextChanged.connect(
            lambda text: self.open_path.setText(text) if text else None
        )
        self.recent_list.itemActivated.connect(lambda _item: self._submit())
        recent_label = QLabel("Recen&t databases:")
        recent_label.setBuddy(self.recent_list)
        self.recent_list.setVisible(bool(self._recent))
        recent_label.setVisible(bool(self._recent))
        form = make_form()
        form.addRow(self.open_label, row(self.open_path, self.open_browse))
        form.addRow(recent_label, self.recent_list)
        return _page(
            form,
            _note(
                "Choose a SeatLedger database file, or type the URL of a PostgreSQL database "
                "shared by your team, such as postgresql://seatledger@db.example.org/licenses. "
                "A database from an older SeatLedger is upgraded when you sign in, after a "
                "backup copy is made."
            ),
        )

    # ------------------------------------------------------------------ state
    @property
    def workspace(self) -> Workspace:
        """The database opened (set once the dialog is accepted)."""
        if self._workspace is None:
            raise RuntimeError("No database was opened: the start dialog was not accepted.")
        return self._workspace

    def choice(self) -> int:
        """The chosen page: ``CREATE``, ``DEMO`` or ``OPEN``."""
        return self.pages.currentIndex()

    def _choice_toggled(self, number: int, checked: bool) -> None:
        if not checked:
            return
        self.pages.setCurrentIndex(number)
        self.message.clear_message()
        if number == DEMO:
            path = demo_path()
            if path.exists():
                self.demo_status.setText(f"Stored at {path}.")
            else:
                self.demo_status.setText(
                    f"It will be built at {path} first; this takes a few seconds."
                )
        focus = {CREATE: self.admin_name, DEMO: self.demo_choice, OPEN: self.open_path}
        focus[number].setFocus()
        self._update()

    def _edited(self, widget: QLineEdit) -> None:
        set_invalid(widget, False, self._label_of(widget))
        if self.message.kind == "error":
            self.message.clear_message()
        self._update()

    def _label_of(self, widget: QLineEdit) -> QLabel | None:
        return self.open_label if widget is self.open_path else self._create_labels.get(widget)

    def _update(self) -> None:
        page = self.choice()
        if page == CREATE:
            problem = password_problem(self.password.text(), self.confirm.text())
            self.create_hint.setText(problem)
            self._create_form.setRowVisible(self.create_hint, bool(problem))
            set_invalid(
                self.confirm,
                problem == PASSWORDS_DIFFER,
                self._create_labels[self.confirm],
            )
            filled = all(
                w.text().strip() for w in (self.create_path, self.admin_name, self.password)
            )
            self.ok_button.setText("Create database")
            self.ok_button.setEnabled(filled and bool(self.confirm.text()) and not problem)
        elif page == DEMO:
            self.ok_button.setText("Open demo" if demo_path().exists() else "Build and open demo")
            self.ok_button.setEnabled(True)
        else:
            self.ok_button.setText("Open database")
            self.ok_button.setEnabled(bool(self.open_path.text().strip()))

    def _refuse(self, text: str, widget: QLineEdit | None = None, kind: str = "error") -> None:
        self.message.show_message(text, kind)
        if widget is not None:
            set_invalid(widget, True, self._label_of(widget))
            widget.setFocus()
            widget.selectAll()

    # ------------------------------------------------------------------ browsing
    def _browse_create(self) -> None:
        start = self.create_path.text().strip() or default_database()
        path, _ = QFileDialog.getSaveFileName(
            self,
            "New SeatLedger database",
            start,
            FILE_FILTER,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            if not Path(path).suffix:
                path += ".sqlite"
            self.create_path.setText(path)

    def _browse_open(self) -> None:
        current = self.open_path.text().strip()
        start = current if current and "://" not in current else str(data_dir())
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a SeatLedger database", start, FILE_FILTER
        )
        if path:
            self.open_path.setText(path)

    # ------------------------------------------------------------------ actions
    def open_location(self, location: str) -> None:
        """Open ``location`` as if typed on the Open page and confirmed (File > Open recent)."""
        self.open_choice.setChecked(True)
        self.open_path.setText(location)
        self._submit()

    def _submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        self.message.clear_message()
        page = self.choice()
        if page == CREATE:
            self._create()
        elif page == DEMO:
            self._demo()
        else:
            self._open()

    def _create(self) -> None:
        target = self.create_path.text().strip()
        if "://" not in target:
            path = expanded(target)
            if path.parent == data_dir():
                private_folder(path.parent)
            target = str(path)
        name, full_name, password = (
            self.admin_name.text(),
            self.full_name.text(),
            self.password.text(),
        )

        def work(_progress: Progress) -> tuple[Workspace, Services]:
            try:
                workspace = Workspace.open(target)
            except DatabaseError as exc:
                raise ValidationError(str(exc), _DATABASE) from exc
            try:
                if not workspace.needs_administrator():
                    raise ValidationError(
                        f"{workspace.display_name} already has operators. Choose “Open an "
                        "existing database” to sign in, or give a new file name.",
                        _DATABASE,
                    )
                return workspace, workspace.create_administrator(name, full_name, password)
            except BaseException:
                workspace.close()
                raise

        fields = {
            _DATABASE: self.create_path,
            "Operator name": self.admin_name,
            "Full name": self.full_name,
            "Password": self.password,
        }
        task = Task(work).on_done(self._created)
        task.failed.connect(lambda text, details: self._failed(task, text, details, fields))
        self._run(task, f"Creating {Path(target).name if '://' not in target else target}…")

    def _created(self, opened: tuple[Workspace, Services]) -> None:
        self._workspace, self.services = opened
        self.accept()

    def _open(self) -> None:
        target = self.open_path.text().strip()

        def work(_progress: Progress) -> Workspace:
            try:
                workspace = Workspace.open(target, create=False)
            except DatabaseError as exc:
                raise ValidationError(str(exc), _DATABASE) from exc
            if workspace.needs_administrator():
                name = workspace.display_name
                workspace.close()
                raise _NoOperators(
                    f"{name} has no operators yet. Create its administrator to start using it."
                )
            return workspace

        task = Task(work).on_done(self._opened)
        task.failed.connect(
            lambda text, details: self._failed(task, text, details, {_DATABASE: self.open_path})
        )
        self._run(task, "Opening the database…")

    def _opened(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self.accept()

    def _failed(
        self, task: Task[Any], text: str, details: str, fields: dict[str, QLineEdit]
    ) -> None:
        error = task.error
        if isinstance(error, _NoOperators):
            self.create_path.setText(self.open_path.text().strip())
            self.create_choice.setChecked(True)
            self._refuse(text, kind="info")
        elif details:
            show_error(self, text, details)
        elif isinstance(error, ValidationError):
            self._refuse(text, fields.get(error.field or ""))
        else:
            self._refuse(text)

    def _demo(self) -> None:
        path = demo_path()
        if not path.exists():
            self._build_demo(path)
            return

        def work(_progress: Progress) -> Workspace:
            return _open_demo(path)

        task = Task(work).on_done(self._opened)
        task.failed.connect(lambda text, details: self._failed(task, text, details, {}))
        self._run(task, "Opening the demo database…")

    def _build_demo(self, path: Path) -> None:
        # Imported here: building a demo is rare and pulls in the generator.
        from seatledger.demo.builder import build_demo  # noqa: PLC0415

        try:
            private_folder(path.parent)
        except OSError as exc:
            self._refuse(f"The folder {path.parent} cannot be created: {exc.strerror}.")
            return

        def work(progress: Progress) -> Workspace:
            build_demo(str(path), "small", progress=progress)  # a cancel removes the new file
            return _open_demo(path)

        task = Task(work, cancel_message="Building the demo database was cancelled.")
        task.on_done(self._opened)
        task.failed.connect(self._demo_failed)
        task.cancelled.connect(self._demo_cancelled)
        self._run(task, "Building the demo database…", cancellable=True)

    def _run(self, task: Task[Any], text: str, *, cancellable: bool = False) -> None:
        """Run ``task`` off the GUI thread while the dialog shows it is busy."""
        self._set_busy(True)
        task.finished.connect(lambda: self._set_busy(False))
        self.progress.follow(task, text, focus=cancellable, cancellable=cancellable)
        self._runner.start(task)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.pages, self.create_choice, self.demo_choice, self.open_choice):
            widget.setEnabled(not busy)
        # The strip's own Cancel stops a build; closing waits until the work has ended.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not busy)
        if busy:
            self.ok_button.setEnabled(False)
        else:
            self._update()

    def reject(self) -> None:
        """Cancel a demo being built (the dialog stays open to say so); wait for an open to end;
        otherwise close."""
        if self.progress.busy:
            self.progress.cancel()
            return
        super().reject()

    def _demo_failed(self, text: str, details: str) -> None:
        # build_demo removes a half-built file itself.
        if details:
            show_error(self, f"The demo database could not be built. {text}", details)
        else:
            self._refuse(f"The demo database could not be built: {text}")

    def _demo_cancelled(self) -> None:
        self._refuse("Building the demo database was cancelled.", kind="info")


_DATABASE = "Database"  # the field a refusal to open or create names


class _NoOperators(KnownError):
    """The database opened has no operators yet: it is to be created, not opened."""


def _open_demo(path: Path) -> Workspace:
    """Open the demo database (in the background).

    Raises:
        DatabaseError: it cannot be opened; the message says to delete it.
    """
    try:
        return Workspace.open(path, create=False)
    except DatabaseError as exc:
        raise DatabaseError(f"{exc} Delete {path} to build the demo again.") from exc
