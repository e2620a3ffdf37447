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


def write(  # noqa: PLR0917 (one fixture's every part)
    path: Path,
    sheet: str,
    header: tuple[str, ...],
    label: str,
    day: object,
    rows: tuple[tuple[object, ...], ...],
    country: str = "All Countries",
) -> None:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "License Summary"
    summary["A1"] = "License Summary"
    pivot = book.create_sheet(sheet)
    pivot["A1"] = "Microsoft License Statement"
    pivot["J3"] = label
    pivot["K3"] = day
    for column, name in enumerate(header, start=1):
        pivot.cell(row=10, column=column, value=name)
    for offset, (pool, family, version, quantity, where) in enumerate(rows):
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
        )
        for column, value in enumerate(values, start=1):
            pivot.cell(row=11 + offset, column=column, value=value)
    book.save(path)


def main() -> None:
    write(
        HERE / "mls_2026-11-30.xlsx", "Pivot Data", ENGLISH, "Calculation Date", "2026/11/30", ROWS
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


if __name__ == "__main__":
    main()
