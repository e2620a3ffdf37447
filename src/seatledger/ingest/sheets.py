"""Exports made of several tables (a workbook's sheets, or one CSV file per table) whose columns
are found by name: what the RVTools and Hyper-V readers share.

A :class:`Layout` says which headers mean each field of one kind of table and which fields it
cannot do without; :func:`recognize` tells a table's kind from its header, :func:`open_sheet`
finds its columns, and :class:`Cells` reads values from its rows, appending every problem with
its line, its column and the table it is in.  Pure: no storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter

from seatledger.ingest.formats import normal
from seatledger.ingest.tabular import ImportFileError, Problem, Table
from seatledger.ingest.values import ValueProblem, whole
from seatledger.text import agree

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})


@dataclass(frozen=True, slots=True)
class Layout:
    """One kind of table: the headers that mean each field (first the one shown in messages),
    and the fields it must have."""

    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]

    def fits(self, header: set[str]) -> bool:
        """Whether a header (its cells compared loosely) has every required field."""
        return all(
            any(normal(name) in header for name in self.columns[key]) for key in self.required
        )


def recognize(header: list[str], layouts: Mapping[str, Layout]) -> str | None:
    """The first kind (in ``layouts``' order) whose required fields the header has, or None."""
    present = {normal(cell) for cell in header}
    return next((kind for kind, layout in layouts.items() if layout.fits(present)), None)


@dataclass
class Sheet:
    """One table being read: its kind, where it comes from, and which column holds each field."""

    kind: str
    source: str  # "RVTools_tabvHost.csv", or "export.xlsx, sheet vHost"
    table: Table
    columns: dict[str, int]

    @property
    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The table's rows that are not blank: (line, cells)."""
        return self.table.rows

    def has(self, key: str) -> bool:
        """Whether the table has a column for ``key``."""
        return key in self.columns

    def cell(self, cells: list[str], key: str) -> str:
        """The stripped text of ``key``'s column ("" where the table has none or the row ends)."""
        at = self.columns.get(key)
        return cells[at].strip() if at is not None and at < len(cells) else ""

    def reader(self, *keys: str) -> Callable[[list[str]], list[str]]:
        """A function giving the stripped texts of ``keys``' columns of a row at once, as
        :meth:`cell` would one by one (a large export's hundreds of thousands of cells)."""
        positions = [self.columns.get(key, -1) for key in keys]
        width = max(positions, default=-1) + 1
        # A column the table lacks reads the "" appended to the row (index -1); the cells are
        # taken and stripped in C (itemgetter, map), not one by one in Python.
        pick = itemgetter(*positions) if len(positions) > 1 else None
        strip = str.strip

        def read(cells: list[str]) -> list[str]:
            if len(cells) >= width:
                if pick is not None:
                    return list(map(strip, pick([*cells, ""])))
                return [cells[at].strip() if at >= 0 else "" for at in positions]
            return [cells[at].strip() if 0 <= at < len(cells) else "" for at in positions]

        return read

    def label(self, key: str) -> str:
        """``key``'s column as a problem names it: its header and the table."""
        return f"{self.table.header[self.columns[key]]} ({self.source})"


def open_sheet(kind: str, source: str, table: Table, layout: Layout) -> Sheet:
    """``table`` read as ``kind``.

    Raises:
        ImportFileError: the table lacks a column ``layout`` requires (the table is closed).
    """
    index: dict[str, int] = {}
    for position, cell in enumerate(table.header):
        index.setdefault(normal(cell), position)
    columns: dict[str, int] = {}
    for key, spellings in layout.columns.items():
        at = next((index[normal(s)] for s in spellings if normal(s) in index), None)
        if at is not None:
            columns[key] = at
    lacking = [layout.columns[key][0] for key in layout.required if key not in columns]
    if lacking:
        table.close()
        raise ImportFileError(
            f"{source}: the {kind} table has no {', '.join(repr(c) for c in lacking)} "
            f"{agree(len(lacking), 'column')}."
        )
    return Sheet(kind, source, table, columns)


@dataclass
class Cells:
    """Reads values from rows of sheets; each problem is appended to ``problems``."""

    problems: list[Problem]

    def whole(
        self,
        sheet: Sheet,
        line: int,
        cells: list[str],
        key: str,
        *,
        minimum: int = 1,
        maximum: int = 100_000,
    ) -> int | None:
        """A whole number from ``minimum`` to ``maximum``; None (and a problem) otherwise."""
        return self.whole_text(
            sheet, line, key, sheet.cell(cells, key), minimum=minimum, maximum=maximum
        )

    def whole_text(
        self,
        sheet: Sheet,
        line: int,
        key: str,
        text: str,
        *,
        minimum: int = 1,
        maximum: int = 100_000,
    ) -> int | None:
        """:meth:`whole` of a cell's text already read."""
        if text.isascii() and text.isdigit():  # the usual cell, without the general parse
            plain = int(text)
            if minimum <= plain <= maximum:
                return plain
        try:
            number = whole(text, minimum, maximum)
        except ValueProblem as exc:
            self.bad(sheet, line, key, text, str(exc))
            return None
        if number is None:
            self.bad(sheet, line, key, "", "is empty")
        return number

    def flag(self, sheet: Sheet, line: int, cells: list[str], key: str) -> bool:
        """True or False (empty, or no such column: False); a problem for anything else."""
        if not sheet.has(key):
            return False
        return self.flag_text(sheet, line, key, sheet.cell(cells, key))

    def flag_text(self, sheet: Sheet, line: int, key: str, text: str) -> bool:
        """:meth:`flag` of a cell's text already read ("" where there is no such column)."""
        if text in _FALSE:
            return False
        if text.lower() in _TRUE:
            return True
        if text.lower() not in _FALSE:
            self.bad(sheet, line, key, text, "is not True or False")
        return False

    def bad(self, sheet: Sheet, line: int, key: str, value: str, reason: str) -> None:
        """Append a problem with ``key``'s column of ``sheet``."""
        self.problems.append(Problem(line, sheet.label(key), value, reason))
