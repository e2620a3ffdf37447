"""A table model over a list of computed rows (a position, its findings, a drill-down).

These lists are computed in one go by a service and stay small (thousands of rows at most), so
the model holds the rows themselves and sorts them in place; the large tables of the app use
:class:`~seatledger.ui.table_model.KeyedTableModel` and SQL instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush

from seatledger.ui.table_model import AnyIndex, number_text
from seatledger.ui.theme import colors

T = TypeVar("T")

_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_SORT = Qt.ItemDataRole.UserRole + 1
_HORIZONTAL = Qt.Orientation.Horizontal
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_DESCENDING = Qt.SortOrder.DescendingOrder
SORT_ROLE = _SORT


@dataclass(frozen=True)
class ListColumn(Generic[T]):
    """One column: its title, the value it shows, and how it looks."""

    title: str
    value: Callable[[T], Any]
    numeric: bool = False
    tip: str = ""
    bad: Callable[[T], bool] | None = None  # shown in red when true


class AtLeast(int):
    """A count known only as a lower bound (shown "≥ 28"; sorts as 28)."""


class AtMost(int):
    """A count known only as an upper bound (shown "≤ 12"; sorts as 12)."""


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, AtLeast):
        return f"≥ {int(value):,}"
    if isinstance(value, AtMost):
        return f"≤ {int(value):,}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return number_text(value)


def _key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, str):  # after the numbers ("unlimited" above every count)
        return (2, value.lower())
    return (1, value)


class ListTableModel(QAbstractTableModel, Generic[T]):
    """Rows of one type shown by column specs; sorting reorders the list itself."""

    def __init__(self, columns: Sequence[ListColumn[T]], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[T] = []
        self._sorted: tuple[int, Qt.SortOrder] | None = None

    @property
    def rows(self) -> list[T]:
        """The rows, in the order shown."""
        return self._rows

    def set_rows(self, rows: Sequence[T]) -> None:
        """Replace the rows (keeping the current sort)."""
        self.beginResetModel()
        self._rows = list(rows)
        if self._sorted is not None:
            self._sort_rows(*self._sorted)
        self.endResetModel()

    def row(self, number: int) -> T:
        """The row shown at ``number``."""
        return self._rows[number]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Rows (none under a parent: a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Columns."""
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        """A cell's text, alignment, sort value, tooltip or colour."""
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], self._columns[index.column()]
        if role == _DISPLAY:
            return _text(column.value(row))
        if role == _ALIGN:
            return _RIGHT if column.numeric else _LEFT
        if role == _SORT:
            return column.value(row)
        if role == _FOREGROUND and column.bad is not None and column.bad(row):
            return QBrush(colors().qcolor("bad"))
        if role == _TOOLTIP and column.tip:
            return column.tip
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        """Column titles."""
        if orientation == _HORIZONTAL and 0 <= section < len(self._columns):
            if role == _DISPLAY:
                return self._columns[section].title
            if role == _TOOLTIP:
                return self._columns[section].tip or None
            if role == _ALIGN:
                return _RIGHT if self._columns[section].numeric else _LEFT
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column's value (None first)."""
        if not 0 <= column < len(self._columns):
            return
        self.beginResetModel()  # a reset, not a layout change: no persistent index to remap
        self._sorted = (column, order)
        self._sort_rows(column, order)
        self.endResetModel()

    def _sort_rows(self, column: int, order: Qt.SortOrder) -> None:
        value = self._columns[column].value
        self._rows.sort(key=lambda r: _key(value(r)), reverse=order == _DESCENDING)
