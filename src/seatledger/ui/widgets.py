"""Small widgets the pages share: a debounced search box and a keyed table view.

:class:`DataTable` is the one table widget of the app: a :class:`QTableView` over a
:class:`~seatledger.ui.table_model.KeyedTableModel`, with fixed row heights (so the view never
measures every row), sorting handed to the model (SQL), an empty-state hint painted on the
viewport, and helpers that reload the keys while keeping the user's selection and scroll position.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QDate,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.validation import SEARCH_MAX
from seatledger.ui.table_model import KEY_ROLE, KeyedTableModel

SEARCH_DELAY_MS = 250
_RESTORE_SELECTION_LIMIT = 10_000
_FEW = 8  # up to this many keys, one linear row_of() each beats one pass over every key

_KEY_ESCAPE = Qt.Key.Key_Escape
_KEY_RETURN = Qt.Key.Key_Return
_KEY_ENTER = Qt.Key.Key_Enter
_ASCENDING = Qt.SortOrder.AscendingOrder
_DESCENDING = Qt.SortOrder.DescendingOrder
_SELECT = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
_CURRENT = QItemSelectionModel.SelectionFlag.NoUpdate
_HINT_FLAGS = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)
_PLACEHOLDER = QPalette.ColorRole.PlaceholderText
W = TypeVar("W", bound=QWidget)


def accessible(widget: W, name: str, description: str = "") -> W:
    """Name a control for screen readers, and describe it where the name is not enough (the
    tooltip, unless ``description`` says more); returns the widget."""
    widget.setAccessibleName(name)
    text = description or widget.toolTip()
    if text:
        widget.setAccessibleDescription(text)
    return widget


def to_qdate(value: dt.date) -> QDate:
    """A Python date as a QDate."""
    return QDate(value.year, value.month, value.day)


def from_qdate(value: QDate) -> dt.date:
    """A QDate as a Python date."""
    return dt.date(value.year(), value.month(), value.day())


class Stateful(Protocol):
    """A widget whose layout Qt saves as bytes: a splitter, a header, a main window."""

    def saveState(self) -> QByteArray: ...

    def restoreState(self, state: QByteArray) -> bool: ...


def save_layout(settings: QSettings, key: str, widget: Stateful) -> None:
    """Keep a splitter's, a header's or a window's layout under ``key``."""
    settings.setValue(key, widget.saveState())


def restore_layout(settings: QSettings, key: str, widget: Stateful) -> None:
    """Give ``widget`` back the layout :func:`save_layout` kept under ``key``, if any."""
    state = settings.value(key)
    if state is not None:
        widget.restoreState(state)


def splitter(
    parent: QWidget,
    first: QWidget,
    second: QWidget,
    stretch: tuple[int, int] | None = None,
    *,
    across: bool = False,
    collapsible: bool = True,
) -> QSplitter:
    """Two panes, one above the other (``across``: side by side), sharing the spare room as
    ``stretch`` says; not ``collapsible``: neither can be dragged shut."""
    split = QSplitter(Qt.Orientation.Horizontal if across else Qt.Orientation.Vertical, parent)
    if not collapsible:
        split.setChildrenCollapsible(False)
    split.addWidget(first)
    split.addWidget(second)
    if stretch is not None:
        split.setStretchFactor(0, stretch[0])
        split.setStretchFactor(1, stretch[1])
    return split


def list_table(
    parent: QWidget,
    model: QAbstractItemModel,
    selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.SingleSelection,
    behavior: QAbstractItemView.SelectionBehavior = QAbstractItemView.SelectionBehavior.SelectRows,
) -> QTableView:
    """A read-only table over a small model: alternating rows, no row numbers."""
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(behavior)
    view.setSelectionMode(selection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    return view


class EmptyState(QWidget):
    """What a page shows instead of an empty table: what goes there, and the actions that fill
    it ("No licenses yet" with Add license… and Import purchases…)."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("empty_state")
        self.title = QLabel(title, self)
        self.title.setObjectName("empty_title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.text = QLabel(text, self)
        self.text.setObjectName("empty_text")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons: list[QPushButton] = []
        self._row = QHBoxLayout()
        self._row.setSpacing(8)
        box = QVBoxLayout()
        box.setSpacing(10)
        box.addStretch(2)
        box.addWidget(self.title)
        box.addWidget(self.text)
        box.addSpacing(6)
        box.addLayout(self._row)
        box.addStretch(3)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(box, 3)
        outer.addStretch(1)
        self._row.addStretch(1)

    def add_action(
        self, text: str, slot: Callable[[], object], *, enabled: bool = True, tip: str = ""
    ) -> QPushButton:
        """A button that fills the page (the first one is the default)."""
        button = QPushButton(text, self)
        button.setEnabled(enabled)
        if tip:
            button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())
        self._row.insertWidget(len(self.buttons), button)
        if not self.buttons:
            button.setDefault(True)
        self.buttons.append(button)
        return button


def name_by_labels(root: QWidget) -> None:
    """Name every control under ``root`` that a label names (its buddy) and has no name yet.

    Screen readers relate a label to its control only while both are shown side by side; a
    control on a wizard page not shown yet, or in a row of its own, would be read without one.
    """
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None and not buddy.accessibleName():
            text = label.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            buddy.setAccessibleName(text.strip().rstrip(":").strip())
            if buddy.toolTip() and not buddy.accessibleDescription():
                buddy.setAccessibleDescription(buddy.toolTip())


class SearchBox(QLineEdit):
    """A search field that reports its text once typing pauses.

    Signals:
        searched(str): the text, ``SEARCH_DELAY_MS`` after the last keystroke, at once on Enter.
    """

    searched = Signal(str)

    def __init__(
        self, placeholder: str, parent: QWidget | None = None, *, name: str = "Search"
    ) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        # Screen readers say the name, then what may be typed (the placeholder, shortcut aside).
        accessible(
            self, name, placeholder.split("  (", maxsplit=1)[0].split(" (Ctrl", maxsplit=1)[0]
        )
        self.setClearButtonEnabled(True)
        self.setMaxLength(SEARCH_MAX)  # what the services accept
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._emit)
        self._last: str | None = None
        self.textChanged.connect(lambda _text: self._timer.start())

    def _emit(self) -> None:
        self._timer.stop()
        text = self.text().strip()
        if text != self._last:
            self._last = text
            self.searched.emit(text)

    def flush(self) -> None:
        """Report a pending search now."""
        self._emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter searches at once; Escape clears the search."""
        key = event.key()
        if key in (_KEY_RETURN, _KEY_ENTER):
            self._emit()
            return
        if key == _KEY_ESCAPE and self.text():
            self.clear()
            self._emit()
            return
        super().keyPressEvent(event)


class DataTable(QTableView):
    """A read-only table over a keyed model, sorted by the model, with an empty-state hint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hint = ""
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setShowGrid(False)
        # Room between a right-aligned number and the text of the next column.
        self.setStyleSheet("QTableView::item { padding: 0px 6px; }")
        self.setTabKeyNavigation(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vertical = self.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        horizontal = self.horizontalHeader()
        horizontal.setHighlightSections(False)
        horizontal.setSectionsMovable(True)
        horizontal.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        horizontal.setMinimumSectionSize(40)

    # ------------------------------------------------------------------ model and sorting
    def keyed_model(self) -> KeyedTableModel:
        """The model shown."""
        model = self.model()
        assert isinstance(model, KeyedTableModel)
        return model

    def attach(self, model: KeyedTableModel, sort_column: int, descending: bool) -> None:
        """Show ``model``, already sorted by the query, with the header saying so.

        The indicator is set with the header's signals blocked: the model's keys are already in
        that order, and letting the view call ``sort()`` would run the query a second time.
        """
        self.setModel(model)
        header = self.horizontalHeader()
        sortable = any(model.query.sortable)
        if sortable:
            header.blockSignals(True)
            header.setSortIndicator(sort_column, _DESCENDING if descending else _ASCENDING)
            header.blockSignals(False)
        self.setSortingEnabled(sortable)
        header.setSectionsClickable(sortable)
        header.setSortIndicatorShown(sortable)

    def set_column_widths(self, widths: Mapping[int, int], stretch: int | None = None) -> None:
        """Column widths in characters, and the column that takes the spare width."""
        advance = self.fontMetrics().horizontalAdvance("0")
        header = self.horizontalHeader()
        for column, chars in widths.items():
            header.resizeSection(column, chars * advance + 16)
        if stretch is not None:
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    def set_empty_hint(self, text: str) -> None:
        """What to show when the table is empty (e.g. how to add the first item)."""
        self._hint = text
        self.viewport().update()

    # ------------------------------------------------------------------ keys and selection
    def current_key(self) -> int | None:
        """The key of the current row, or None."""
        index = self.currentIndex()
        if not index.isValid():
            return None
        key = index.data(KEY_ROLE)
        return int(key) if key is not None else None

    def selected_rows(self) -> list[int]:
        """The selected row numbers, in order (read from the selection ranges, not cell by cell)."""
        if not isinstance(self.model(), KeyedTableModel):
            return []
        selection = self.selectionModel().selection()
        rows: set[int] = set()
        for number in range(selection.count()):
            selected = selection.at(number)
            rows.update(range(selected.top(), selected.bottom() + 1))
        return sorted(rows)

    def selected_keys(self) -> list[int]:
        """The keys of the selected rows, in display order."""
        rows = self.selected_rows()
        if not rows:
            return []
        keyed = self.keyed_model()
        return [keyed.key_at(row) for row in rows]

    def select_key(self, key: int) -> bool:
        """Make the row showing ``key`` current and selected; False if it is not shown."""
        keyed = self.keyed_model()
        row = keyed.row_of(key)
        if row < 0:
            return False
        self.selectRow(row)
        self.scrollTo(keyed.index(row, 0))
        return True

    def select_keys(self, keys: Sequence[int]) -> bool:
        """Select the rows showing ``keys`` (the first 10,000), make the first of them in the
        table current and scroll to it; False if none is shown."""
        keyed = self.keyed_model()
        wanted = list(keys[:_RESTORE_SELECTION_LIMIT])
        rows = _rows_of(keyed, wanted)
        if not rows:
            return False
        self.clearSelection()
        self._restore(keyed, wanted, keyed.key_at(min(rows)))
        self.scrollTo(keyed.index(min(rows), 0))
        return True

    def reload(self) -> None:
        """Re-run the query, keeping the selected rows, the current row and the scroll position."""
        keyed = self.keyed_model()
        selected = self.selected_keys()[:_RESTORE_SELECTION_LIMIT]
        current = self.current_key()
        scroll = self.verticalScrollBar().value()
        keyed.reload()
        self._restore(keyed, selected, current)
        self.verticalScrollBar().setValue(scroll)

    def keep_or_select_first(self, previous: int | None) -> None:
        """After a new search: keep the row that was current if it still matches, else the first."""
        if previous is not None and self.select_key(previous):
            return
        self.select_first()

    def select_first(self) -> None:
        """Make the first row current when nothing is (so the keyboard has a place to start)."""
        keyed = self.keyed_model()
        if keyed.rowCount() and not self.currentIndex().isValid():
            self.selectRow(0)

    def _restore(self, keyed: KeyedTableModel, selected: list[int], current: int | None) -> None:
        selection_model = self.selectionModel()
        selection = QItemSelection()
        last = keyed.columnCount() - 1
        for row in _rows_of(keyed, selected):
            selection.select(keyed.index(row, 0), keyed.index(row, last))
        if not selection.isEmpty():
            selection_model.select(selection, _SELECT)
        if current is not None:
            row = keyed.row_of(current)
            if row >= 0:
                selection_model.setCurrentIndex(keyed.index(row, 0), _CURRENT)

    # ------------------------------------------------------------------ header state
    def header_state(self) -> QByteArray:
        """Column widths and order, for QSettings."""
        return self.horizontalHeader().saveState()

    def restore_header_state(self, state: object) -> None:
        """Restore what :meth:`header_state` saved (ignored if it no longer fits the columns)."""
        if isinstance(state, QByteArray) and not state.isEmpty():
            header = self.horizontalHeader()
            sort_section = header.sortIndicatorSection()
            sort_order = header.sortIndicatorOrder()
            header.blockSignals(True)
            header.restoreState(state)
            # The query decides the order; the saved indicator may be stale.
            header.setSortIndicator(sort_section, sort_order)
            header.blockSignals(False)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the rows, or the empty-state hint when there are none."""
        super().paintEvent(event)
        model = self.model()
        if not self._hint or model is None or model.rowCount() > 0:
            return
        painter = QPainter(self.viewport())
        try:
            painter.setPen(self.palette().color(_PLACEHOLDER))
            area = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(area, _HINT_FLAGS, self._hint)
        finally:
            painter.end()


def _rows_of(keyed: KeyedTableModel, keys: Sequence[int]) -> list[int]:
    """The rows showing ``keys`` (those still shown)."""
    if len(keys) <= _FEW:
        return [row for row in map(keyed.row_of, keys) if row >= 0]
    wanted = set(keys)
    return [row for row in range(keyed.rowCount()) if keyed.key_at(row) in wanted]


def index_key(index: QModelIndex) -> int | None:
    """The key of the row of ``index``, or None."""
    if not index.isValid():
        return None
    key = index.data(KEY_ROLE)
    return int(key) if key is not None else None
