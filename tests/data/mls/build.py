"""Writes the Microsoft License Statement fixtures of this folder (run once; the files are
committed): ``python tests/data/mls/build.py``.

The layout is the Pivot Data sheet's as the public import guides describe it (see README.md):
title rows, the calculation date in K3 (label in J3), the header in row 10.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
ENGLISH = (
    "Product Pool",
    "License Product Family",
    "License Version",
    "Effective License Quantity",
    "Upgrade License Quantity",
    "Upgrade License Quantity (w/ Maintenance)",
    "Active SA Quantity",
    "Country of Usage",
    "Expiring SA 0 - 12 Months",
    "Expiring SA 12 - 24 Months",
    "Expiring SA > 24 Months",
)
GERMAN = (
    "Produktpool",
    "Lizenzproduktfamilie",
    "Lizenzversion",
    "Effektive Lizenzmenge",
    "Upgrade-Lizenzmenge",
    "Upgrade-Lizenzmenge (mit Wartung)",
    "Aktive SA-Menge",
    "Nutzungsland",
    "Ablaufende SA 0 - 12 Monate",
    "Ablaufende SA 12 - 24 Monate",
    "Ablaufende SA > 24 Monate",
)
ROWS = (  # pool, family, version, effective quantity, country
    ("Server", "Windows Server Standard - 2 Core License Pack", "2022", 80, "All Countries"),
    ("Server", "Windows Server Datacenter - 2 Core License Pack", "2022", 24, "All Countries"),
    ("Server", "Windows Server Datacenter - 2 Core License Pack", "2022", 10, "Germany"),
    ("Server", "SQL Server Enterprise - 2 Core License Pack", "2022", 1, "All Countries"),
    ("Applications", "Office Professional Plus", "2021", 50, "All Countries"),
)


SUMMARY = (
    "Product Pool",
    "Licensed Product",
    "Version",
    "Effective Quantity",
    "Active SA Quantity",
)
# The License Summary of the English statement: each product's All Countries total.
SUMMARY_ROWS = (  # pool, product, version, effective quantity
    ("Server", "Windows Server Standard - 2 Core License Pack", "2022", 80),
    ("Server", "Windows Server Datacenter - 2 Core License Pack", "2022", 24),
    ("Server", "SQL Server Enterprise - 2 Core License Pack", "2022", 1),
    ("Applications", "Office Professional Plus", "2021", 50),
)


def write(  # noqa: PLR0917 (one fixture's every part)
    path: Path,
    sheet: str | None,
    header: tuple[str, ...],
    label: str,
    day: object,
    rows: tuple[tuple[object, ...], ...],
    country: str = "All Countries",
    summary: tuple[tuple[str, ...], tuple[tuple[object, ...], ...]] | None = None,
) -> None:
    """A statement: its License Summary sheet first (where ``summary`` gives its header and
    rows, the header in row 6), then its Pivot Data sheet named ``sheet`` (none if None)."""
    book = Workbook()
    first = book.active
    assert first is not None
    if summary is not None:
        first.title = "License Summary"
        first["A1"] = "License Summary"
        first["A3"] = label
        first["B3"] = day
        names, lines = summary
        for column, name in enumerate(names, start=1):
            first.cell(row=6, column=column, value=name)
        for offset, values in enumerate(lines):
            for column, value in enumerate(values, start=1):
                first.cell(row=7 + offset, column=column, value=value)
        if sheet is None:
            book.save(path)
            return
        pivot = book.create_sheet(sheet)
    else:
        assert sheet is not None
        pivot = first
        pivot.title = sheet
    pivot["A1"] = "Microsoft License Statement"
    pivot["J3"] = label
    pivot["K3"] = day
    for column, name in enumerate(header, start=1):
        pivot.cell(row=10, column=column, value=name)
    for offset, (pool, family, version, quantity, where, *more) in enumerate(rows):
        values = (
            pool,
            family,
            version,
            quantity,
            0,
            0,
            quantity,
            country if where == "All Countries" else where,
            0,
            0,
            0,
            *more,
        )
        for column, value in enumerate(values, start=1):
            pivot.cell(row=11 + offset, column=column, value=value)
    book.save(path)


def main() -> None:
    write(
        HERE / "mls_2026-11-30.xlsx",
        "Pivot Data",
        ENGLISH,
        "Calculation Date",
        "2026/11/30",
        ROWS,
        summary=(SUMMARY, SUMMARY_ROWS),
    )
    write(
        HERE / "mls_de_2026-10-31.xlsx",
        "Pivot-Daten",
        GERMAN,
        "Berechnungsdatum",
        dt.datetime(2026, 10, 31),
        ROWS[:2],
        "Alle Länder",
    )
    broken = ((*ROWS[0][:3], "zwölf", ROWS[0][4]), ROWS[1], ROWS[1])
    write(HERE / "mls_broken.xlsx", "Pivot Data", ENGLISH, "Calculation Date", "2026/12/01", broken)
    # Only a License Summary, quantities per agreement and their Total.
    per_agreement = (
        ("Licensed Product", "Version", "Enrollment 6543210", "Enrollment 7654321", "Total"),
        (
            ("Windows Server Standard - 2 Core License Pack", "2022", 50, 30, 80),
            ("Windows Server Datacenter - 2 Core License Pack", "2022", 24, 0, 24),
        ),
    )
    write(
        HERE / "mls_summary_2026-12-15.xlsx",
        None,
        ENGLISH,
        "Calculation Date",
        "2026/12/15",
        (),
        summary=per_agreement,
    )
    # Both sheets, disagreeing: Datacenter 30 against 24; Office missing from the summary;
    # Visio on the summary only.
    disagreeing = (
        SUMMARY_ROWS[0],
        (*SUMMARY_ROWS[1][:3], 30),
        SUMMARY_ROWS[2],
        ("Applications", "Visio Professional", "2021", 5),
    )
    write(
        HERE / "mls_disagree_2026-12-01.xlsx",
        "Pivot Data",
        ENGLISH,
        "Calculation Date",
        "2026/12/01",
        ROWS,
        summary=(SUMMARY, disagreeing),
    )
    # Pivot Data with a column no public layout names.
    write(
        HERE / "mls_extra_column.xlsx",
        "Pivot Data",
        (*ENGLISH, "Licensing Program"),
        "Calculation Date",
        "2026/12/01",
        tuple((*row, "Enterprise") for row in ROWS[:2]),
    )
    # A German statement's Pivot-Daten whose family and quantity headers are words SeatLedger
    # does not know (as a real localized statement's may be).
    unknown = (GERMAN[0], "Produktfamilie", GERMAN[2], "Effektive Menge", *GERMAN[4:])
    write(
        HERE / "mls_de_unknown.xlsx",
        "Pivot-Daten",
        unknown,
        "Berechnungsdatum",
        dt.datetime(2026, 12, 1),
        ROWS[:1],
        "Alle Länder",
    )


if __name__ == "__main__":
    main()
