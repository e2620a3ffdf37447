"""A table model that holds keys only and fetches the rows of the visible block on demand.

The query (see :mod:`seatledger.services.core.tables`) sorts and filters in SQL and returns every
matching key; ``data()`` asks the query for the block of rows around the one the view paints and
keeps a bounded cache.  Sorting re-runs the query; there is no proxy model.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

if TYPE_CHECKING:  # the sign-in window shows before SQLAlchemy is imported (ui/app.py)
    from seatledger.services.core.tables import KeyPage, Row, TableQuery

# What Qt hands a model or a delegate: an index, or a persistent one.
AnyIndex: TypeAlias = QModelIndex | QPersistentModelIndex

# Enum lookups cost microseconds each in PySide6; data() runs for every painted cell.
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
ALIGN = Qt.ItemDataRole.TextAlignmentRole
FOREGROUND = Qt.ItemDataRole.ForegroundRole
BACKGROUND = Qt.ItemDataRole.BackgroundRole
USER = Qt.ItemDataRole.UserRole
KEY_ROLE = int(USER) + 1
SORT_ROLE = int(USER) + 2
ROW_ROLE = int(USER) + 3
HORIZONTAL = Qt.Orientation.Horizontal
ASCENDING = Qt.SortOrder.AscendingOrder
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
ENABLED_SELECTABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
NO_FLAGS = Qt.ItemFlag.NoItemFlags

BLOCK = 128
CACHE_ROWS = 4096


def plain(value: Any) -> str:
    """Default cell text."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else ""
    return number_text(value)


def number_text(value: Any) -> str:
    """Amounts with two decimals and counts with thousands separators; anything else as ``str``
    (a ``bool`` is an ``int``: callers word it first)."""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class Presenter(Protocol):
    """Turns a query row into what each role shows."""

    def display(self, row: Row, column: int) -> str:
        """Cell text."""
        ...

    def sort_value(self, row: Row, column: int) -> Any:
        """The native value of a cell."""
        ...

    def alignment(self, column: int) -> int:
        """Cell alignment flags."""
        ...

    def foreground(self, row: Row, column: int) -> QBrush | None:
        """Text colour, or None."""
        ...

    def background(self, row: Row, column: int) -> QBrush | None:
        """Cell background, or None."""
        ...

    def tooltip(self, row: Row, column: int) -> str | None:
        """Tooltip, or None."""
        ...


class PlainPresenter:
    """Shows ``row[column]``; numbers right-aligned."""

    def __init__(self, numeric_columns: Sequence[int] = ()) -> None:
        self._numeric = frozenset(numeric_columns)

    def display(self, row: Row, column: int) -> str:
        """Cell text."""
        return plain(row[column])

    def sort_value(self, row: Row, column: int) -> Any:
        """The native value."""
        return row[column]

    def alignment(self, column: int) -> int:
        """Numbers right, text left."""
        return RIGHT if column in self._numeric else LEFT

    def foreground(self, row: Row, column: int) -> QBrush | None:
        """No colour."""
        return None

    def background(self, row: Row, column: int) -> QBrush | None:
        """No background."""
        return None

    def tooltip(self, row: Row, column: int) -> str | None:
        """The full text, for cells that may be cut."""
        return None


def _paged(keys: Sequence[int]) -> KeyPage | None:
    """``keys`` as the first page of a paged query, or None when they are every key."""
    # Imported with the first table, not by the sign-in window (SQLAlchemy comes with it).
    from seatledger.services.core.tables import KeyPage  # noqa: PLC0415

    return keys if isinstance(keys, KeyPage) else None


class KeyedTableModel(QAbstractTableModel):
    """Holds the keys a query returned; fetches rows for the block being painted."""

    def __init__(
        self,
        query: TableQuery,
        presenter: Presenter | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self._query = query
        self._presenter: Presenter = presenter or PlainPresenter()
        self._keys: Sequence[int] = ()
        self._cache: OrderedDict[int, Row] = OrderedDict()
        self._columns = tuple(query.columns)
        self._fetching = False
        self.reload()

    # ------------------------------------------------------------------ query management
    @property
    def query(self) -> TableQuery:
        """The query behind the model."""
        return self._query

    def set_query(self, query: TableQuery) -> None:
        """Show another query's results (new filter); resets the model."""
        self._query = query
        self.reload()

    def reload(self) -> None:
        """Re-run the query (after a change or a new sort) and drop cached rows."""
        self.beginResetModel()
        self._keys = self._query.keys()
        self._cache.clear()
        self.endResetModel()

    def key_at(self, row: int) -> int:
        """The key shown in ``row``."""
        return self._keys[row]

    def row_of(self, key: int) -> int:
        """The row showing ``key``, or -1 (linear: use for single lookups only)."""
        try:
            return self._keys.index(key)
        except ValueError:
            return -1

    def row_data(self, row: int) -> Row | None:
        """The full query row shown in ``row`` (None if it vanished since the keys were read)."""
        return self._fetch(row)

    # ------------------------------------------------------------------ Qt model interface
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of keys (0 under a valid parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._keys)

    def canFetchMore(self, parent: AnyIndex) -> bool:
        """More keys follow those shown (a paged query the view has not scrolled through)."""
        keys = _paged(self._keys)
        return (
            not parent.isValid() and keys is not None and not keys.complete and not self._fetching
        )

    def fetchMore(self, parent: AnyIndex) -> None:
        """Append the next page of keys as rows (the view asks when it reaches the end)."""
        keys = _paged(self._keys)
        if parent.isValid() or keys is None or self._fetching:
            return
        page = keys.next_page()
        if page:
            # Views (and the model tester) ask again from inside the insertion's signals: the
            # page being inserted must not be read twice.
            self._fetching = True
            try:
                first = len(keys)
                self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
                keys.extend(page)
                self.endInsertRows()
            finally:
                self._fetching = False

    @property
    def complete(self) -> bool:
        """Every matching key is loaded (False while a paged query has more to fetch)."""
        keys = _paged(self._keys)
        return keys is None or keys.complete

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of columns the query declares."""
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        """Column titles; row numbers are not shown."""
        if orientation == HORIZONTAL and role == DISPLAY and 0 <= section < len(self._columns):
            return self._columns[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        """Rows are selectable, never editable in place (edits go through dialogs)."""
        return ENABLED_SELECTABLE if index.isValid() else NO_FLAGS

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        """Cell data for the roles the views use."""
        if not index.isValid():
            return None
        row_number = index.row()
        if row_number >= len(self._keys):
            return None
        if role == KEY_ROLE:
            return self._keys[row_number]
        column = index.column()
        if role == ALIGN:
            return self._presenter.alignment(column)
        if role not in (DISPLAY, SORT_ROLE, FOREGROUND, BACKGROUND, TOOLTIP, ROW_ROLE):
            return None
        row = self._fetch(row_number)
        if row is None:
            return None
        if role == DISPLAY:
            return self._presenter.display(row, column)
        if role == SORT_ROLE:
            return self._presenter.sort_value(row, column)
        if role == FOREGROUND:
            return self._presenter.foreground(row, column)
        if role == BACKGROUND:
            return self._presenter.background(row, column)
        if role == TOOLTIP:
            return self._presenter.tooltip(row, column)
        return row

    def sort(self, column: int, order: Qt.SortOrder = ASCENDING) -> None:
        """Sort in SQL by re-running the query (columns the query cannot sort are ignored)."""
        if not 0 <= column < len(self._columns) or not self._query.sortable[column]:
            return
        query: Any = self._query
        query.sort_column = column
        query.descending = order != ASCENDING
        self.reload()

    # ------------------------------------------------------------------ block fetching
    def _fetch(self, row_number: int) -> Row | None:
        key = self._keys[row_number]
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        start = max(0, row_number - BLOCK // 4)
        block = [k for k in self._keys[start : start + BLOCK] if k not in self._cache]
        if key not in block:
            block.append(key)
        fetched = self._query.rows(block)
        for k in block:
            if k in fetched:
                self._cache[k] = fetched[k]
        while len(self._cache) > CACHE_ROWS:
            self._cache.popitem(last=False)
        return self._cache.get(key)
