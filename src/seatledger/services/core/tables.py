"""What a table's query object is: keys in SQL order, then rows for the visible block.

A table model holds only the keys a query returned (``keys()``) and asks for the rows of the block
on screen (``rows(keys)``), so a million-row table costs one key list and a few small queries.
Sorting and filtering happen in SQL on indexed columns; nothing sorts in Python.  Each feature
package keeps its own queries (``catalog.queries``, ``directory.queries``, ``seats.queries``,
``ledger.activity``); each names its columns with a :class:`TableColumn` enum, which its presenter
and the dialogs showing it use too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol, Self

from sqlalchemy import ColumnElement, Select, func

from seatledger.domain.validation import SEARCH_MAX
from seatledger.errors import ValidationError

if TYPE_CHECKING:
    from seatledger.services.core.context import Context

Row = tuple[Any, ...]


class TableColumn(IntEnum):
    """A table column: its position in the query's rows (the int) and the title over it.

    A query declares its columns in a subclass as ``NAME = position, "Title"``; the query sorts by
    them, its presenter formats them and dialogs hide or size them by name, never by number.
    """

    title: str

    def __new__(cls, position: int, title: str) -> Self:
        member = int.__new__(cls, position)
        member._value_ = position
        member.title = title
        return member


def titles(columns: type[TableColumn]) -> tuple[str, ...]:
    """The column titles in display order (a query's ``columns``)."""
    return tuple(column.title for column in columns)


class KeyPage(list[int]):
    """The first keys of a result too long to read at once, and a way to read the next ones.

    A query whose matches may run into millions (the activity ledger, filtered) returns the first
    :data:`KEY_PAGE` keys this way; the table model appends the next page when the view scrolls
    to the end (Qt's ``canFetchMore``/``fetchMore``), so a filter costs one index range, never a
    count or a scan of every match.
    """

    def __init__(
        self, keys: Sequence[int], after: Callable[[int], list[int]], size: int = 0
    ) -> None:
        """``keys``: a first page of ``size`` keys at most (:data:`KEY_PAGE` by default);
        ``after(last_key)``: the page that follows ``last_key``."""
        super().__init__(keys)
        self.size = size or KEY_PAGE
        self._after: Callable[[int], list[int]] | None = after if len(self) >= self.size else None

    @property
    def complete(self) -> bool:
        """Every matching key has been read."""
        return self._after is None

    def next_page(self) -> list[int]:
        """The keys of the next page (not yet appended: the model appends them as rows)."""
        if self._after is None or not self:
            return []
        page = self._after(self[-1])
        if len(page) < self.size:
            self._after = None
        return page


KEY_PAGE = 5_000  # keys read at a time by a paged query


class TableQuery(Protocol):
    """What a keyed table model needs from a query."""

    columns: tuple[str, ...]
    sortable: tuple[bool, ...]

    def keys(self) -> Sequence[int]:
        """Every matching key, in display order."""
        ...

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """The display rows for ``keys`` (any order), by key."""
        ...


@dataclass(eq=False)
class SearchedQuery:
    """A table query over a search text, sorted by one column, the key column breaking ties.

    A subclass (a dataclass too) gives ``sort_column`` its default and adds its filters as
    keyword-only fields; ``Reads`` binds it to the session's context.
    """

    _ctx: Context
    text: str = ""
    sort_column: int = 0
    descending: bool = False

    def __post_init__(self) -> None:
        self.text = self.text.strip()

    def _ordered_keys(self, query: Select[Any], primary: Any, key: Any) -> list[int]:
        """The keys ``query`` selects, by ``primary`` then ``key``, both in the sort's direction.

        Keys and rows are read through the session's connection (Core), not as ORM results: the
        ORM's row processing cost several times the query for the 200,000 ids of a large list.
        """
        order = primary.desc() if self.descending else primary.asc()
        tie = key.desc() if self.descending else key.asc()
        with self._ctx.read() as session:
            return list(session.connection().execute(query.order_by(order, tie)).scalars())

    def _rows_by_key(self, query: Select[Any]) -> dict[int, Row]:
        """The rows ``query`` selects (the key first), by key."""
        with self._ctx.read() as session:
            return {r[0]: tuple(r[1:]) for r in session.connection().execute(query)}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """The column holds ``text``, in any case (a LIKE with the text's wildcards escaped).

    Raises:
        ValidationError: the text is longer than :data:`~seatledger.domain.validation.SEARCH_MAX`
            (SQLite refuses a pattern that long with an error no user could act on).
    """
    if len(text) > SEARCH_MAX:
        raise ValidationError(
            f"A search is at most {SEARCH_MAX} characters; this one has {len(text):,}.", "search"
        )
    return func.lower(column).like(_like(text), escape="\\")
