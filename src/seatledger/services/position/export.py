"""Writing the position and its findings as CSV, XLSX or JSON for people and spreadsheets.

Text cells that begin with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) are prefixed
with an apostrophe, so a spreadsheet never runs a product name as a formula (CSV injection);
numbers stay numbers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from seatledger.errors import KnownError
from seatledger.paths import replaced
from seatledger.services.position.engine import Finding, Position, PositionRow
from seatledger.services.position.evidence import SOURCE_HEADERS, SourceRow

POSITION_HEADERS = (
    "Vendor",
    "Product",
    "Metric",
    "Bought",
    "Rights owned",
    "Rights assigned",
    "Rights needed",
    "Available",
    "Unlicensed installs",
    "Unit cost",
    "True-up cost",
    "Over-licensed",
    "Currency",
    "Devices with unknown hardware",
)
FINDING_HEADERS = ("Finding", "Vendor", "Product", "Entitlement id", "Count", "Detail")
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """A text cell a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(_RISKY) else value


def position_cells(row: PositionRow) -> list[Any]:
    """One position row as cells (None where a number does not apply)."""
    return [
        row.vendor,
        row.product,
        row.metric.label,
        "yes" if row.bought else "no",
        "unlimited" if row.owned is None else row.owned,
        row.assigned,
        row.needed,
        row.available,
        row.unlicensed,
        row.unit_cost,
        row.true_up,
        row.over_licensed,
        row.currency,
        row.unknown_hardware,
    ]


def finding_cells(finding: Finding) -> list[Any]:
    """One finding as cells."""
    return [
        finding.kind.label,
        finding.vendor,
        finding.product,
        finding.entitlement_id,
        finding.count,
        finding.text,
    ]


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _rows(position: Position) -> Iterator[list[Any]]:
    for row in position.rows:
        yield [_cell(v) for v in position_cells(row)]


def sources_path(path: Path) -> Path:
    """Where a CSV export's sources go: beside it, "position.csv" -> "position-sources.csv"."""
    return path.with_name(f"{path.stem}-sources{path.suffix}")


def export_position(
    position: Position, path: Path, sources: Sequence[SourceRow] | None = None
) -> Path:
    """Write the position (and, in a workbook, its findings on a second sheet) to ``path``.

    ``sources`` (see :func:`~seatledger.services.position.evidence.position_sources`): the
    imports and hand entries each product's figures rest on, written as a Sources sheet, as
    ``sources`` in JSON, or for CSV as a second file beside the position (:func:`sources_path`).
    The format follows the extension: ``.csv``, ``.xlsx`` or ``.json``.  Each file is written
    beside its target and moved into place, so a failure never leaves half a file.

    Raises:
        KnownError: an unknown extension or a folder that cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx", ".json"}:
        raise KnownError(f"{path.name}: export to .csv, .xlsx or .json.")
    if suffix == ".csv" and sources is not None:
        with _written(sources_path(path)) as target:
            _write_csv(target, SOURCE_HEADERS, _source_rows(sources))
    with _written(path) as target:
        if suffix == ".csv":
            _write_csv(target, POSITION_HEADERS, _rows(position))
        elif suffix == ".json":
            body = position_json(position)
            if sources is not None:
                body["sources"] = [s.as_json() for s in sources]
            target.write_text(json.dumps(body, indent=2), encoding="utf-8")
        else:
            _write_xlsx(target, position, sources)
    return path


def _source_rows(sources: Sequence[SourceRow]) -> Iterator[list[Any]]:
    for row in sources:
        yield [_cell(v) for v in row.cells()]


@contextmanager
def _written(path: Path) -> Iterator[Path]:
    """A file to write that takes ``path``'s place when complete (see :func:`replaced`)."""
    try:
        with replaced(path) as target:
            yield target
    except OSError as exc:
        raise KnownError(f"Cannot write {path}: {exc.strerror}.") from None


def export_findings_csv(position: Position, path: Path) -> Path:
    """Write the findings as CSV."""
    rows = ([_cell(v) for v in finding_cells(f)] for f in position.findings)
    _write_csv(path, FINDING_HEADERS, rows)
    return path


def _write_csv(path: Path, headers: Sequence[str], rows: Iterator[list[Any]]) -> None:
    # UTF-8 with a BOM: Excel then reads accents right; a comma delimiter either way.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


def _write_xlsx(path: Path, position: Position, sources: Sequence[SourceRow] | None) -> None:
    from openpyxl import Workbook  # noqa: PLC0415 (only when exporting a workbook)

    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"Position {position.as_of.isoformat()}")
    sheet.append(list(POSITION_HEADERS))
    for values in _rows(position):
        sheet.append(_cells(sheet, values))
    findings = book.create_sheet("Findings")
    findings.append(list(FINDING_HEADERS))
    for finding in position.findings:
        findings.append(_cells(findings, map(_cell, finding_cells(finding))))
    if sources is not None:
        sheet = book.create_sheet("Sources")
        sheet.append(list(SOURCE_HEADERS))
        for values in _source_rows(sources):
            sheet.append(_cells(sheet, values))
    book.save(path)


def _cells(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A write-only sheet's row of ``values``: text is stored as text, never as a formula."""
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def amount(value: Decimal | None) -> str | None:
    """An amount as a JSON value: its exact digits, or null."""
    return None if value is None else str(value)


def row_json(r: PositionRow) -> dict[str, Any]:
    """One position row as plain JSON values (the export's and the audit report's)."""
    return {
        "vendor": r.vendor,
        "product": r.product,
        "product_id": r.product_id,
        "metric": r.metric.value,
        "bought": r.bought,
        "owned": r.owned,
        "assigned": r.assigned,
        "needed": r.needed,
        "available": r.available,
        "unlicensed_installs": r.unlicensed,
        "unit_cost": amount(r.unit_cost),
        "true_up": amount(r.true_up),
        "over_licensed": r.over_licensed,
        "currency": r.currency,
        # Devices a per-core or per-processor figure leaves out (hardware unknown): "needed" is
        # then a lower bound.
        "unknown_hardware": r.unknown_hardware,
        # Bought in several currencies: the shortfall priced in each (true_up is then null).
        "true_up_by_currency": {c: amount(v) for c, v in r.true_ups.items()},
    }


def finding_json(f: Finding) -> dict[str, Any]:
    """One finding as plain JSON values (the audit report adds its resolution)."""
    return {
        "kind": f.kind.value,
        "vendor": f.vendor,
        "product": f.product,
        "product_id": f.product_id,
        "entitlement_id": f.entitlement_id,
        "count": f.count,
        "detail": f.text,
    }


def position_json(position: Position) -> dict[str, Any]:
    """The position as plain JSON values (amounts as strings, exact)."""
    return {
        "as_of": position.as_of.isoformat(),
        "shelf_days": position.shelf_days,
        "rows": [row_json(r) for r in position.rows],
        "findings": [finding_json(f) for f in position.findings],
        # What each concurrent-use figure rests on (snapshots: how many, how old; or a log).
        "concurrency_basis": {
            str(pid): {"text": basis.text(), "stale": basis.stale}
            for pid, basis in position.basis.items()
        },
    }


def export_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], path: Path) -> Path:
    """Write any small table (a chargeback by team, say) as ``.csv`` or ``.xlsx``, with the same
    escaping and the same write-then-move as the position.

    Raises:
        KnownError: an unknown extension or a folder that cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise KnownError(f"{path.name}: export to .csv or .xlsx.")
    cells = [[_cell(value) for value in row] for row in rows]
    with _written(path) as target:
        if suffix == ".csv":
            _write_csv(target, headers, iter(cells))
        else:
            from openpyxl import Workbook  # noqa: PLC0415 (only when exporting a workbook)

            book = Workbook(write_only=True)
            sheet = book.create_sheet(path.stem[:31] or "Sheet")
            sheet.append(list(headers))
            for values in cells:
                sheet.append(_cells(sheet, values))
            book.save(target)
    return path
