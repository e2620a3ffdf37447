"""What every dialog shares: the inline message, field highlighting, the form dialog base (which
can save off the GUI thread) and the searchable picker table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.passwords import MIN_LENGTH
from seatledger.errors import KnownError, ValidationError
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.table_model import KeyedTableModel, Presenter
from seatledger.ui.tasks import Task, runner_for
from seatledger.ui.theme import colors, keep_notice_styled, keep_styled
from seatledger.ui.widgets import DataTable, SearchBox, accessible, name_by_labels

if TYPE_CHECKING:  # the sign-in window shows before SQLAlchemy is imported (ui/app.py)
    from seatledger.services.core.tables import TableQuery

FIELD_WIDTH = 300
W = TypeVar("W", bound=QWidget)


def invalid_text_sheet() -> str:
    """The style of a label that names a refused value (red for the palette in use)."""
    return f"color:{colors().bad};"


@contextmanager
def wait_cursor() -> Iterator[None]:
    """Show the busy cursor while a short service call runs on the GUI thread."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


class InlineMessage(QLabel):
    """A message inside the dialog (never a popup): an error, a warning or a note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setObjectName("inlineMessage")
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text`` styled as ``error``, ``warning`` or ``info``."""
        self.kind = kind
        self.setText(text)
        keep_notice_styled(self, kind)
        self.show()

    def clear_message(self) -> None:
        """Hide the message."""
        self.kind = ""
        self.setText("")
        self.hide()


def set_invalid(widget: QWidget, invalid: bool, label: QLabel | None = None) -> None:
    """Mark a field (and its label) as holding a refused value, or clear the mark.

    The palette tints the field itself; the label turns red too (colour only: a bold label would
    widen the label column and shift the form), because some platform styles ignore palette
    changes on inputs.
    """
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    if invalid:
        palette = widget.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(colors().invalid_base))
        palette.setColor(QPalette.ColorRole.Button, QColor(colors().invalid_base))
        widget.setPalette(palette)
    else:
        widget.setPalette(QPalette())
    if label is not None:
        keep_styled(label, invalid_text_sheet if invalid else str)


def input_widgets(item: QWidget | QLayout) -> list[QWidget]:
    """The input widgets in a form field (a widget, or a row layout of several)."""
    if isinstance(item, QWidget):
        return [item]
    found: list[QWidget] = []
    for i in range(item.count()):
        child = item.itemAt(i)
        if child is None:
            continue
        widget = child.widget()
        layout = child.layout()
        if widget is not None:
            found.append(widget)
        elif layout is not None:
            found.extend(input_widgets(layout))
    return found


def connect_edited(widget: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the user changes the value of an input widget."""

    def slot(*_args: object) -> None:
        callback()

    if isinstance(widget, QLineEdit):
        widget.textChanged.connect(slot)
    elif isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(slot)
        if widget.isEditable():
            widget.editTextChanged.connect(slot)
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        # The spin box's own textChanged waits for a valid value; its editor reports every key.
        editor = widget.findChild(QLineEdit)
        if editor is not None:
            editor.textChanged.connect(slot)
    elif isinstance(widget, QDateEdit):
        widget.dateChanged.connect(slot)
    elif isinstance(widget, QCheckBox):
        widget.toggled.connect(slot)
    elif isinstance(widget, QPlainTextEdit):
        widget.textChanged.connect(slot)


PASSWORDS_DIFFER = "The passwords do not match."


def password_problem(password: str, confirmation: str) -> str:
    """What is wrong with a new password and its confirmation so far, or ''.

    Only what is cheap to say while typing (length, confirmation); the service checks the whole
    policy (names, guessable passwords) when the form is saved.
    """
    if password and len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    if confirmation and password != confirmation:
        return PASSWORDS_DIFFER
    return ""


class _ReturnKey(QObject):
    """Consumes Return and Enter in a field and calls back instead (see :func:`on_return`)."""

    def __init__(self, field: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(field)
        self._callback = callback
        field.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Return or Enter: call back, and keep the key from the dialog's default button."""
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._callback()
            return True
        return False


def on_return(field: QWidget, callback: Callable[[], None]) -> None:
    """Make Return in ``field`` do ``callback`` (record this decision, sign now…) instead of
    pressing the dialog's default button (which would move a wizard to its next step)."""
    _ReturnKey(field, callback)


def helper_button(text: str) -> QPushButton:
    """A button beside a field (Browse…, New…): Enter in a field never presses it."""
    button = QPushButton(text)
    button.setAutoDefault(False)
    return button


def wide(widget: W, width: int = FIELD_WIDTH) -> W:
    """Give a field a comfortable minimum width."""
    widget.setMinimumWidth(width)
    return widget


def ok_cancel(dialog: QDialog, submit: Callable[[], None]) -> tuple[QDialogButtonBox, QPushButton]:
    """OK and Cancel buttons, and the OK button: OK calls ``submit``, Cancel rejects ``dialog``."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
    buttons.accepted.connect(submit)
    buttons.rejected.connect(dialog.reject)
    return buttons, ok_button


def count_box(
    low: int,
    high: int,
    value: int,
    suffix: str = "",
    *,
    prefix: str = "",
    tip: str = "",
    parent: QWidget | None = None,
) -> QSpinBox:
    """A whole-number field from ``low`` to ``high`` showing ``value``, with its unit around it
    (``prefix``, ``suffix``: " days") and a tooltip."""
    box = QSpinBox(parent)
    box.setRange(low, high)
    box.setValue(value)
    if prefix:
        box.setPrefix(prefix)
    if suffix:
        box.setSuffix(suffix)
    if tip:
        box.setToolTip(tip)
    return box


def make_form() -> QFormLayout:
    """A form with right-aligned labels and fields that take the spare width."""
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(8)
    return form


def row(*items: QWidget | int) -> QHBoxLayout:
    """Lay widgets out side by side; an int adds that much spacing, 0 a stretch."""
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    for item in items:
        if isinstance(item, int):
            if item:
                layout.addSpacing(item)
            else:
                layout.addStretch(1)
        else:
            layout.addWidget(item)
    return layout


class FormDialog(QDialog):
    """A dialog around a form whose OK button saves through a service.

    Subclasses build rows with :meth:`add_row`, say when the form is complete (:meth:`complete`),
    list live format problems (:meth:`problems`) and save in :meth:`save`.  A
    :class:`~seatledger.errors.KnownError` raised by ``save`` is shown in the dialog; a
    :class:`~seatledger.errors.ValidationError` also highlights the field it names, and the
    dialog stays open with the input kept.  Saving that can take longer than a blink (hashing a
    password, upgrading a database) returns a task from :meth:`save_in_background` instead: it
    runs on the window's runner while the dialog shows a busy strip, and its failure is shown
    in the dialog the same way.
    """

    def __init__(self, title: str, action: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.hide()
        self.form = make_form()
        self.message = InlineMessage()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        keep_styled(self.hint, invalid_text_sheet)
        self.hint.hide()
        self.buttons, self.ok_button = ok_cancel(self, self._submit)
        self.ok_button.setText(action)
        self.notes = QVBoxLayout()
        self.notes.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.intro)
        layout.addLayout(self.notes)
        layout.addLayout(self.form)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.busy = ProgressStrip(parent=self, cancellable=False)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does the dialog remember it as its default.
        self.ok_button.setDefault(True)
        self._fields: dict[str, QWidget] = {}
        self._labels: dict[QWidget, QLabel] = {}
        self._rows: dict[QWidget, int] = {}
        self._inputs: list[QWidget] = []
        self._error_widget: QWidget | None = None
        self._live_invalid: set[QWidget] = set()

    # ----------------------------------------------------------------- building
    def set_intro(self, text: str) -> None:
        """A sentence above the form saying what the dialog does."""
        self.intro.setText(text)
        self.intro.setVisible(bool(text))

    def add_note(self, text: str, kind: str = "info") -> InlineMessage:
        """A lasting note above the form (the refusal message stays under it)."""
        note = InlineMessage(self)  # in the dialog before it shows: never a window of its own
        self.notes.addWidget(note)
        note.show_message(text, kind)
        return note

    def add_row(
        self,
        text: str,
        field: QWidget | QLayout,
        *,
        names: Sequence[str] = (),
        buddy: QWidget | None = None,
    ) -> QLabel:
        """Add a labelled row.

        Args:
            text: the label, with ``&`` before its accelerator letter.
            field: the input widget, or a row layout holding it and its helpers.
            names: the ``ValidationError.field`` names the services use for this input.
            buddy: the widget the accelerator focuses (default: the first input of ``field``).
        """
        widgets = input_widgets(field)
        target = buddy or widgets[0]
        label = QLabel(text)
        label.setBuddy(target)
        self.form.addRow(label, field)
        self._rows[target] = self.form.rowCount() - 1
        self._labels[target] = label
        for name in names:
            self._fields[name] = target
        for widget in widgets:
            if widget not in self._inputs:
                self._inputs.append(widget)
                connect_edited(widget, partial(self._edited, widget))
        return label

    def name_field(self, name: str, widget: QWidget) -> None:
        """Map a service field name to a widget (when the row holds several)."""
        self._fields[name] = widget

    def set_row_visible(self, widget: QWidget, visible: bool) -> None:
        """Show or hide the form row whose label is the buddy of ``widget``."""
        self.form.setRowVisible(self._rows[widget], visible)

    def finish(self) -> None:
        """Fix the tab order to the visual order and evaluate the form once."""
        chain: list[QWidget] = []
        for widget in self._inputs:
            if isinstance(widget, PickerTable):
                chain += [widget.search, widget.view]
            elif widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
                chain.append(widget)
        chain += [self.ok_button, self.buttons.button(QDialogButtonBox.StandardButton.Cancel)]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        name_by_labels(self)
        self.update_state()

    # ----------------------------------------------------------------- subclass hooks
    def complete(self) -> bool:
        """Whether every required field is filled."""
        return True

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """Input that is filled but cannot be right (shown as you type), with its field."""
        return []

    def save(self) -> None:
        """Call the service; raise a KnownError to refuse."""
        raise NotImplementedError

    def save_in_background(self) -> Task[Any] | None:
        """The saving work as a task to run off the GUI thread (then :meth:`save` is not called).

        Its work must only read values taken from the widgets beforehand; the dialog accepts
        once it succeeds, after the task's own ``on_done`` callbacks.
        """
        return None

    # ----------------------------------------------------------------- state
    def _edited(self, widget: QWidget) -> None:
        if widget is self._error_widget:
            self._error_widget = None
            self.message.clear_message()
            self._mark(widget)
        self.update_state()

    def update_state(self) -> None:
        """Re-evaluate the form: live problems, highlights, and whether OK is enabled."""
        found = self.problems()
        live = {widget for _, widget in found if widget is not None}
        self.hint.setText("\n".join(text for text, _ in found))
        self.hint.setVisible(bool(found))
        previous, self._live_invalid = self._live_invalid, live
        for widget in previous | live:
            self._mark(widget)
        self.ok_button.setEnabled(self.complete() and not found)

    def _mark(self, widget: QWidget) -> None:
        invalid = widget in self._live_invalid or widget is self._error_widget
        set_invalid(widget, invalid, self._labels.get(widget))

    def show_error(self, text: str, field: str | None = None) -> None:
        """Show a refusal; highlight and focus the field it names, if the form has it."""
        previous = self._error_widget
        self._error_widget = self._fields.get(field) if field else None
        if previous is not None:
            self._mark(previous)
        self.message.show_message(text, "error")
        self._grow_to_fit()
        if self._error_widget is not None:
            self._mark(self._error_widget)
            self._error_widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def _grow_to_fit(self) -> None:
        """Grow taller when a long message wraps, so no note or message is cut off."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = self.width()
        needed = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if needed > self.height():
            self.resize(width, needed)

    def _submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        self.message.clear_message()
        previous, self._error_widget = self._error_widget, None
        if previous is not None:
            self._mark(previous)
        task = self.save_in_background()
        if task is not None:
            self._save_with(task)
            return
        try:
            with wait_cursor():
                self.save()
        except ValidationError as exc:
            self.show_error(str(exc), exc.field)
        except KnownError as exc:
            self.show_error(str(exc))
        else:
            self.accept()

    def _save_with(self, task: Task[Any]) -> None:
        task.on_done(lambda _result: self.accept())
        task.failed.connect(lambda message, details: self._save_failed(task, message, details))
        task.finished.connect(lambda: self._set_saving(False))
        self._set_saving(True)
        self.busy.follow(task, f"{self.ok_button.text()}…")
        runner_for(self).start(task)

    def _set_saving(self, saving: bool) -> None:
        for widget in self._inputs:
            widget.setEnabled(not saving)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not saving)
        self.ok_button.setEnabled(not saving and self.complete() and not self.problems())

    def reject(self) -> None:
        """Close, unless saving is under way (it cannot be taken back halfway)."""
        if not self.busy.busy:
            super().reject()

    def _save_failed(self, task: Task[Any], message: str, details: str) -> None:
        error = task.error
        self._set_saving(False)
        if isinstance(error, ValidationError):
            self.show_error(message, error.field)
        else:
            self.show_error(message)
        if details:
            from seatledger.ui.dialogs.errors import show_error  # noqa: PLC0415

            show_error(self, message, details)


# ------------------------------------------------------------------------------ picker table

QueryFactory = Callable[[str, int, bool], "TableQuery"]
"""Builds the picker's query (a table query) from the search text, sort column and direction."""


class PickerTable(QWidget):
    """A search box over a sortable, lazily filled table of keys (people, devices...).

    Signals:
        selection_changed(): the selected rows changed (also after a new search).
    """

    selection_changed = Signal()

    def __init__(
        self,
        make_query: QueryFactory,
        *,
        sort_column: int = 0,
        multi: bool = False,
        presenter: Presenter | None = None,
        hidden_columns: Sequence[int] = (),
        widths: Mapping[int, int] | None = None,
        stretch: int | None = None,
        placeholder: str = "Search",
        empty_hint: str = "",
        name: str = "Matches",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._make_query = make_query
        self.search = SearchBox(placeholder, name=f"Search {name.lower()}")
        self.view = accessible(DataTable(), name, "The records the search finds; select them")
        if not multi:
            self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.model = KeyedTableModel(make_query("", sort_column, False), presenter, parent=self)
        self.view.attach(self.model, sort_column, False)
        for column in hidden_columns:
            self.view.setColumnHidden(column, True)
        self.view.set_column_widths(widths or {}, stretch)
        self.view.set_empty_hint(empty_hint)
        self.search.searched.connect(lambda _text: self.refilter())
        self.view.selectionModel().selectionChanged.connect(self.selection_changed)
        self.filters = QHBoxLayout()
        self.filters.setContentsMargins(0, 0, 0, 0)
        self.filters.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.filters)
        layout.addWidget(self.view, 1)
        self.setFocusProxy(self.search)

    def refilter(self) -> None:
        """Re-run the query with the current search text, sort order and filters."""
        header = self.view.horizontalHeader()
        query = self._make_query(
            self.search.text().strip(),
            header.sortIndicatorSection(),
            header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder,
        )
        self.model.set_query(query)
        # A model reset clears the selection without a signal.
        self.selection_changed.emit()

    def selected_rows(self) -> list[int]:
        """Row numbers of the selection, in display order."""
        return self.view.selected_rows()

    def selected_keys(self) -> list[int]:
        """Keys of the selected rows, in display order."""
        return self.view.selected_keys()
