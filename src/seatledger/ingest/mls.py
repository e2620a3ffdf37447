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
("Pivot-Daten" in German); the British "Licence" appears too.  Layout sources are cited in
docs/import-formats.md.

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

# Each field's header, first as the English statement writes it (the one problems name), then
# the British spelling and the German and French translations.
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
REQUIRED = ("family", "quantity")
_ALL_COUNTRIES = {normal(t) for t in ("All Countries", "Alle Länder", "Tous les pays")}
_TOTALS = {normal(t) for t in ("Grand Total", "Gesamtergebnis", "Total général", "Total")}
_DATE_LABELS = ("calculation date", "berechnungsdatum", "date de calcul", "datum der berechnung")
_HEADER_SEARCH = 40  # rows from the top in which the header row is looked for
_ISO = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})")
_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


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


def read_mls(path: Path, problems: list[Problem]) -> MlsStatement:
    """The Pivot Data lines of a Microsoft License Statement.

    Problems (appended to ``problems``) name the sheet, the line and the column; the statement
    then holds only the lines without problems, so a caller imports nothing while there are any.

    Raises:
        ImportFileError: the file is not a workbook, has no Pivot Data sheet, or that sheet has no
            header row naming the product family and the effective quantity.
    """
    facts = sniff(path)
    if facts.kind != "xlsx":
        raise ImportFileError(
            f"{path.name} is not an Excel workbook: a Microsoft License Statement is the XLSX "
            "Microsoft or the reseller sends (its Pivot Data sheet is read)."
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
            wanted = {normal(name) for name in PIVOT_SHEETS}
            name = next((n for n in book.sheetnames if normal(n) in wanted), None)
            if name is None:
                raise ImportFileError(
                    f"{path.name} has no Pivot Data sheet (its sheets: "
                    f"{', '.join(book.sheetnames)}): is it a Microsoft License Statement?"
                )
            rows = [list(values) for values in book[name].iter_rows(values_only=True)]
        finally:
            book.close()
    finally:
        handle.close()
    return _read_rows(path.name, name, rows, problems)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(
    file: str, sheet: str, rows: list[list[Any]], problems: list[Problem]
) -> MlsStatement:
    where = f"{file}, sheet {sheet}"
    header_at, columns = _header(rows)
    if header_at is None:
        names = " and ".join(f"'{COLUMNS[key][0]}'" for key in REQUIRED)
        raise ImportFileError(
            f"{where}: no header row names {names} in the first {_HEADER_SEARCH} rows."
        )
    header = [_text(v) for v in rows[header_at]]

    def label(key: str) -> str:
        return f"{header[columns[key]]} ({where})"

    statement = MlsStatement(file, sheet, _calculated_on(rows[:header_at]))
    if statement.calculated_on is None:
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


def _header(rows: list[list[Any]]) -> tuple[int | None, dict[str, int]]:
    spellings = {key: {normal(s) for s in names} for key, names in COLUMNS.items()}
    for index, values in enumerate(rows[:_HEADER_SEARCH]):
        columns: dict[str, int] = {}
        for position, value in enumerate(values):
            folded = normal(_text(value))
            for key, names in spellings.items():
                if folded in names and key not in columns:
                    columns[key] = position
        if all(key in columns for key in REQUIRED):
            return index, columns
    return None, {}


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
