"""The Microsoft License Statement (MLS): Microsoft's own record of the volume licenses it
believes an organization bought, an XLSX workbook a reseller or Microsoft sends on request.

Its "Pivot Data" sheet is the machine-readable one (the one Flexera's and ServiceNow's imports
read): a few title rows, the calculation date near the top (cell K3 in the English statement,
L3 or elsewhere in localized ones), then a header row (row 10) with Product Pool, License
Product Family, License Version, Effective License Quantity, Upgrade License Quantity,
Upgrade License Quantity (w/ Maintenance), Active SA Quantity, Country of Usage and the
Expiring SA columns, and one row per product pool, family and version.  Only the rows of
Country of Usage "All Countries" are the organization's total; the others break it down by
country and are left out.  The sheet and its headers are translated in localized statements
("Pivot-Daten" in German); the British "Licence" appears too.

Its "License Summary" sheet gives, per licensed product and version, the effective quantity
the Pivot Data's All Countries rows break down by pool.  Where a workbook has both sheets the
summary is read too and each product's figure checked against the sum of its Pivot Data rows: a
difference, or a product on one sheet only, is a problem naming both sheets and their lines.  A
workbook with one of them is read from that one, and its notes say so.  A column header the
reader does not know, on a sheet it recognises, is a problem naming the sheet, the cell and the
header: a statement is never read with a column skipped unseen.  Layout sources (and what could
not be confirmed) are cited in docs/import-formats.md.

Pure: reads the file, appends every problem with its sheet, line and column, stores nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seatledger.ingest.formats import normal
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.ingest.values import ValueProblem, whole
from seatledger.text import plural

FORMAT_NAME = "Microsoft License Statement"

# The Pivot Data sheet as it is called in the English, German, French and Danish statements.
PIVOT_SHEETS = ("Pivot Data", "Pivot-Daten", "Pivot- Daten", "Données pivot", "Pivotdata")
# The License Summary sheet: its English name, and the German name Microsoft gives the VLSC's
# License Summary ("Lizenzzusammenfassung", its German License Summary FAQ); that a German
# statement's sheet is so named is unconfirmed (see docs/import-formats.md).
SUMMARY_SHEETS = ("License Summary", "Licence Summary", "Lizenzzusammenfassung")

# Each field's header, first as the English statement writes it (the one problems name), then
# the British spelling and the German and French translations (ours: unconfirmed, see the docs).
COLUMNS: dict[str, tuple[str, ...]] = {
    "pool": ("Product Pool", "Produktpool", "Pool de produits"),
    "family": (
        "License Product Family",
        "Licence Product Family",
        "Licensed Product Family",
        "Lizenzproduktfamilie",
        "Lizenz-Produktfamilie",
        "Famille de produits de licence",
        "Famille de produits sous licence",
    ),
    "version": ("License Version", "Licence Version", "Lizenzversion", "Version de licence"),
    "quantity": (
        "Effective License Quantity",
        "Effective Licence Quantity",
        "Effective Quantity",
        "Effektive Lizenzmenge",
        "Effektive Lizenzanzahl",
        "Quantité de licences effective",
        "Quantité effective de licences",
    ),
    "country": ("Country of Usage", "Nutzungsland", "Land der Nutzung", "Pays d'utilisation"),
}
# The Pivot Data columns that are known but not read (Flexera's list, then our translations).
PIVOT_OTHER = (
    "Upgrade License Quantity",
    "Upgrade Licence Quantity",
    "Upgrade License Quantity (w/ Maintenance)",
    "Upgrade Licence Quantity (w/ Maintenance)",
    "Active SA Quantity",
    "Expiring SA 0 - 12 Months",
    "Expiring SA 12 - 24 Months",
    "Expiring SA > 24 Months",
    "Upgrade-Lizenzmenge",
    "Upgrade-Lizenzmenge (mit Wartung)",
    "Aktive SA-Menge",
    "Ablaufende SA 0 - 12 Monate",
    "Ablaufende SA 12 - 24 Monate",
    "Ablaufende SA > 24 Monate",
)
# The License Summary: a product (family) and version per row and its effective quantity, the
# figure the Pivot Data rows of All Countries break down; "Total" where the sheet gives the
# quantity per agreement and their total.  Where a row has both, the effective quantity is read.
SUMMARY_COLUMNS: dict[str, tuple[str, ...]] = {
    "pool": COLUMNS["pool"],
    "family": (
        "Licensed Product",
        *COLUMNS["family"],
        "Product Family",
        "Product",
    ),
    "version": ("Version", *COLUMNS["version"]),
    "quantity": (
        "Effective Quantity",
        *COLUMNS["quantity"],
        "Total Effective Quantity",
        "Total",
    ),
}
SUMMARY_OTHER = (
    "Active SA Quantity",
    "Unresolved Quantity",
    "Upgrade Quantity",
    "Upgrade License Quantity",
    "Upgrade Licence Quantity",
    "License Entitlement",
    "Licence Entitlement",
)
REQUIRED = ("family", "quantity")
# A License Summary column per agreement: headed by its number (or "Enrollment 12345678").
_AGREEMENT = re.compile(r"\D{0,40}\d{5,}[\d\s-]*")
_ALL_COUNTRIES = {normal(t) for t in ("All Countries", "Alle Länder", "Tous les pays")}
_TOTALS = {normal(t) for t in ("Grand Total", "Gesamtergebnis", "Total général", "Total")}
_DATE_LABELS = ("calculation date", "berechnungsdatum", "date de calcul", "datum der berechnung")
_HEADER_SEARCH = 40  # rows from the top in which the header row is looked for
_ISO = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})")
_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass(frozen=True, slots=True)
class _Layout:
    """What one sheet's header row may name: the fields read, and the columns known only."""

    columns: dict[str, tuple[str, ...]]
    other: tuple[str, ...]
    agreements: bool = False  # whether columns headed by an agreement's number belong

    def known(self, header: str) -> bool:
        folded = normal(header)
        if any(folded == normal(n) for names in self.columns.values() for n in names):
            return True
        if any(folded == normal(n) for n in self.other):
            return True
        return self.agreements and _AGREEMENT.fullmatch(header) is not None


PIVOT = _Layout(COLUMNS, PIVOT_OTHER)
SUMMARY = _Layout(SUMMARY_COLUMNS, SUMMARY_OTHER, agreements=True)


@dataclass(frozen=True, slots=True)
class MlsLine:
    """One product line of the statement (Country of Usage: all countries)."""

    line: int
    pool: str
    family: str
    version: str
    quantity: int


@dataclass
class MlsStatement:
    """What a statement says, and where it was read."""

    file: str
    sheet: str
    calculated_on: dt.date | None
    lines: list[MlsLine] = field(default_factory=list)
    by_country: int = 0  # rows of one country, left out
    notes: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field -> its column's header


def read_mls(path: Path, problems: list[Problem]) -> MlsStatement:
    """The product lines of a Microsoft License Statement: its Pivot Data sheet's, checked
    against its License Summary sheet where it has both, else the one sheet it has.

    Problems (appended to ``problems``) name the sheet, the line and the column (or the cell);
    the statement then holds only the lines without problems, so a caller imports nothing while
    there are any.

    Raises:
        ImportFileError: the file is not a workbook, or has neither a Pivot Data nor a License
            Summary sheet.
    """
    facts = sniff(path)
    if facts.kind != "xlsx":
        raise ImportFileError(
            f"{path.name} is not an Excel workbook: a Microsoft License Statement is the XLSX "
            "Microsoft or the reseller sends (its Pivot Data and License Summary sheets are read)."
        )
    from openpyxl import load_workbook  # noqa: PLC0415 (only for workbooks)

    handle = path.open("rb")
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                book = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # a damaged workbook fails in any of openpyxl's layers
            raise ImportFileError(
                f"{path.name} looks like an Excel workbook but cannot be opened "
                f"({type(exc).__name__})."
            ) from None
        try:
            pivot = _sheet(book.sheetnames, PIVOT_SHEETS)
            summary = _sheet(book.sheetnames, SUMMARY_SHEETS)
            if pivot is None and summary is None:
                raise ImportFileError(
                    f"{path.name} has no Pivot Data sheet and no License Summary sheet (its "
                    f"sheets: {', '.join(book.sheetnames)}): is it a Microsoft License Statement?"
                )
            pivot_rows = _rows(book, pivot)
            summary_rows = _rows(book, summary)
        finally:
            book.close()
    finally:
        handle.close()
    if pivot is None:
        assert summary is not None
        statement = _read_rows(path.name, summary, summary_rows, problems, SUMMARY)
        statement.notes.append(
            f"No Pivot Data sheet: the products were read from the {summary} sheet alone."
        )
        return statement
    before = len(problems)
    statement = _read_rows(path.name, pivot, pivot_rows, problems, PIVOT)
    if summary is None:
        statement.notes.append(
            f"No License Summary sheet: the products were read from the {pivot} sheet alone "
            "(nothing to check them against)."
        )
        return statement
    checked = _read_rows(path.name, summary, summary_rows, problems, SUMMARY, dated=False)
    if len(problems) == before:  # both sheets read whole: then whether they agree
        agreed = _cross_check(path.name, statement, pivot, checked, summary, problems)
        if len(problems) == before:
            statement.notes.append(
                f"{plural(agreed, 'product')} of the {summary} sheet agree with the {pivot} "
                "sheet's All Countries rows."
            )
    return statement


def _sheet(names: list[str], wanted: tuple[str, ...]) -> str | None:
    folded = {normal(name) for name in wanted}
    return next((n for n in names if normal(n) in folded), None)


def _rows(book: Any, name: str | None) -> list[list[Any]]:
    if name is None:
        return []
    return [list(values) for values in book[name].iter_rows(values_only=True)]


def _cross_check(  # noqa: PLR0917 (both sheets and where each was read)
    file: str,
    pivot: MlsStatement,
    pivot_sheet: str,
    summary: MlsStatement,
    summary_sheet: str,
    problems: list[Problem],
) -> int:
    """Each product and version's License Summary quantity against the sum of its Pivot Data
    lines (every pool); a difference, or a product on one sheet only, is a problem naming both
    sheets and their lines.  Returns how many agree."""

    def grouped(lines: list[MlsLine]) -> dict[tuple[str, str], list[MlsLine]]:
        found: dict[tuple[str, str], list[MlsLine]] = {}
        for line in lines:
            found.setdefault((normal(line.family), normal(line.version)), []).append(line)
        return found

    said, broken_down = grouped(summary.lines), grouped(pivot.lines)
    summary_where = f"{file}, sheet {summary_sheet}"
    pivot_where = f"{file}, sheet {pivot_sheet}"
    summary_family = f"{summary.headers['family']} ({summary_where})"
    summary_quantity = f"{summary.headers['quantity']} ({summary_where})"
    pivot_family = f"{pivot.headers['family']} ({pivot_where})"
    agreed = 0
    for key, lines in said.items():
        total = sum(line.quantity for line in lines)
        first = lines[0]
        name = f"{first.family}, version {first.version or 'none'}"
        parts = broken_down.get(key)
        if parts is None:
            problems.append(
                Problem(
                    first.line,
                    summary_family,
                    first.family,
                    f"{name}: {total:,} on the {summary_sheet} sheet, on no All Countries row of "
                    f"the {pivot_sheet} sheet: the two sheets disagree",
                )
            )
            continue
        counted = sum(line.quantity for line in parts)
        if counted != total:
            problems.append(
                Problem(
                    first.line,
                    summary_quantity,
                    str(total),
                    f"{name}: the {summary_sheet} sheet says {total:,} ("
                    + _lines(lines)
                    + f"), the {pivot_sheet} sheet's All Countries rows add up to {counted:,} ("
                    + _lines(parts)
                    + "): the two sheets disagree",
                )
            )
            continue
        agreed += 1
    for key, parts in broken_down.items():
        if key in said:
            continue
        first = parts[0]
        problems.append(
            Problem(
                first.line,
                pivot_family,
                first.family,
                f"{first.family}, version {first.version or 'none'}: "
                f"{sum(p.quantity for p in parts):,} on the {pivot_sheet} sheet ("
                + _lines(parts)
                + f"), not on the {summary_sheet} sheet: the two sheets disagree",
            )
        )
    return agreed


def _lines(lines: list[MlsLine]) -> str:
    numbers = ", ".join(str(line.line) for line in lines)
    return f"line {numbers}" if len(lines) == 1 else f"lines {numbers}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(
    file: str,
    sheet: str,
    rows: list[list[Any]],
    problems: list[Problem],
    layout: _Layout,
    *,
    dated: bool = True,
) -> MlsStatement:
    where = f"{file}, sheet {sheet}"
    header_at, columns = _header(rows, layout)
    if header_at is None:
        statement = MlsStatement(file, sheet, _calculated_on(rows[:_HEADER_SEARCH]))
        _unknown_header(where, rows, layout, problems)
        return statement
    header = [_text(v) for v in rows[header_at]]
    for position, text in enumerate(header):
        if text and not layout.known(text):
            problems.append(
                Problem(
                    header_at + 1,
                    f"cell {_cell(position, header_at)} ({where})",
                    text,
                    "is a column header SeatLedger does not know on this sheet: nothing is "
                    "imported while a column's meaning is unknown (say which field it is and "
                    "it is added)",
                )
            )

    def label(key: str) -> str:
        return f"{header[columns[key]]} ({where})"

    statement = MlsStatement(file, sheet, _calculated_on(rows[:header_at]))
    statement.headers = {key: header[at] for key, at in columns.items()}
    if statement.calculated_on is None and dated:
        problems.append(
            Problem(
                0,
                where,
                "",
                "no calculation date above the header row (the statement writes it near the "
                "top, e.g. cell K3, as YYYY/MM/DD): a statement is evidence as of its date",
            )
        )
    seen: dict[tuple[str, str, str], int] = {}
    for index in range(header_at + 1, len(rows)):
        line = index + 1
        cells = [_text(v) for v in rows[index]]

        def cell(key: str, cells: list[str] = cells) -> str:
            at = columns.get(key)
            return cells[at] if at is not None and at < len(cells) else ""

        if not any(cells):
            continue
        pool, family, version = cell("pool"), cell("family"), cell("version")
        if normal(pool) in _TOTALS or normal(family) in _TOTALS:
            continue
        country = cell("country")
        if "country" in columns and normal(country) not in _ALL_COUNTRIES:
            statement.by_country += 1
            continue
        if not family:
            problems.append(Problem(line, label("family"), "", "is empty"))
            continue
        text = cell("quantity")
        try:
            quantity = whole(text, 0, 100_000_000)
        except ValueProblem as exc:
            problems.append(Problem(line, label("quantity"), text, str(exc)))
            continue
        if quantity is None:
            problems.append(Problem(line, label("quantity"), "", "is empty"))
            continue
        key = (normal(pool), normal(family), normal(version))
        if key in seen:
            problems.append(
                Problem(
                    line,
                    label("family"),
                    family,
                    f"is listed twice for {pool or 'no pool'}, version {version or 'none'} "
                    f"(line {seen[key]})",
                )
            )
            continue
        seen[key] = line
        statement.lines.append(MlsLine(line, pool, family, version, quantity))
    if statement.by_country:
        statement.notes.append(
            f"{plural(statement.by_country, 'row')} of a single country left out (the All "
            "Countries rows are the total)."
        )
    return statement


def _header(rows: list[list[Any]], layout: _Layout) -> tuple[int | None, dict[str, int]]:
    """The header row (the first naming every required field) and each field's column: where
    two columns name one field, the one its spellings list first ("Effective Quantity" before
    "Total")."""
    spellings = {
        key: {normal(s): rank for rank, s in enumerate(reversed(names))}
        for key, names in layout.columns.items()
    }
    for index, values in enumerate(rows[:_HEADER_SEARCH]):
        columns: dict[str, tuple[int, int]] = {}
        for position, value in enumerate(values):
            folded = normal(_text(value))
            for key, names in spellings.items():
                rank = names.get(folded)
                if rank is not None and (key not in columns or columns[key][0] < rank):
                    columns[key] = (rank, position)
        if all(key in columns for key in REQUIRED):
            return index, {key: position for key, (_, position) in columns.items()}
    return None, {}


def _unknown_header(
    where: str, rows: list[list[Any]], layout: _Layout, problems: list[Problem]
) -> None:
    """No row names the fields read: the row that looks most like a header (the most cells of
    text, at least three) has each header it does not know named by its cell; a sheet without
    such a row is one problem."""
    best, best_count = None, 2
    for index, values in enumerate(rows[:_HEADER_SEARCH]):
        count = sum(1 for v in values if isinstance(v, str) and v.strip())
        if count > best_count:
            best, best_count = index, count
    names = " and ".join(f"'{layout.columns[key][0]}'" for key in REQUIRED)
    if best is None:
        problems.append(
            Problem(
                0,
                where,
                "",
                f"no header row naming {names} in the first {_HEADER_SEARCH} rows: not a "
                "layout SeatLedger knows",
            )
        )
        return
    unknown = [
        (position, _text(v))
        for position, v in enumerate(rows[best])
        if _text(v) and not layout.known(_text(v))
    ]
    for position, text in unknown:
        problems.append(
            Problem(
                best + 1,
                f"cell {_cell(position, best)} ({where})",
                text,
                f"is a column header SeatLedger does not know (the header row must name {names}, "
                "in English or a language SeatLedger knows): say which field it is and it is "
                "added",
            )
        )
    if not unknown:
        problems.append(
            Problem(best + 1, where, "", f"the header row names no {names}: nothing to read")
        )


def _cell(position: int, index: int) -> str:
    """A cell's reference as Excel shows it: column ``position`` (0 = A) of row ``index + 1``."""
    from openpyxl.utils import get_column_letter  # noqa: PLC0415 (only for workbooks)

    return f"{get_column_letter(position + 1)}{index + 1}"


def _calculated_on(rows: list[list[Any]]) -> dt.date | None:
    """The calculation date: the cell after a label naming it, else the only date above the
    header."""
    found: list[dt.date] = []
    for values in rows:
        for position, value in enumerate(values):
            text = _text(value).casefold()
            if any(text.startswith(label) for label in _DATE_LABELS):
                after = [v for v in values[position + 1 :] if v is not None and _text(v)]
                day = _date(after[0]) if after else _date(text.split(":", 1)[-1])
                if day is not None:
                    return day
            day = _date(value)
            if day is not None:
                found.append(day)
    return found[0] if len(set(found)) == 1 else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern, order in ((_ISO, (0, 1, 2)), (_GERMAN, (2, 1, 0))):
        match = pattern.fullmatch(text)
        if match:
            parts = [int(g) for g in match.groups()]
            try:
                return dt.date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return None
    return None
