"""Writes the ILMT audit snapshot fixtures of this folder (run once; the zips are committed):
``python tests/data/ilmt/build.py``.

The layout is License Metric Tool's (see README.md): audit_snapshot_summary.csv with Row No.,
Publisher, Product Name, FlexPoint or Cloud Pak Bundle, Metric, Metric Quantity, Imported Part
Numbers, Recalculation Needed, all fields quoted; data_condition.txt with the period and each
CSV file's English column names, tab-indented.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGLISH = (
    "Row No.",
    "Publisher",
    "Product Name",
    "FlexPoint or Cloud Pak Bundle",
    "Metric",
    "Metric Quantity",
    "Imported Part Numbers",
    "Recalculation Needed",
)
POLISH = (  # as a Polish License Metric Tool server writes them
    "Wiersz nr",
    "Wydawca",
    "Nazwa produktu",
    "Pakunek FlexPoint lub Cloud Pak",
    "Wielkość mierzona",
    "Wartość wielkości mierzonej",
    "Zaimportowane numery części",
    "Wymagane przeliczanie",
)
ROWS = (
    ("IBM Db2 Standard Edition", "PVU - Subcapacity", "280"),
    ("IBM WebSphere Application Server", "PVU - Subcapacity", "100"),
    ("IBM MQ", "Authorized User", "25"),
)


def condition(start: str, end: str) -> str:
    columns = "".join(f"\t\t{name}\n" for name in ENGLISH)
    return (
        "Audit snapshot generated in:\n\tIBM License Metric Tool 9.2.36.0\n"
        f"Start Date:\n\t{start}\nEnd Date:\n\t{end}\nTime Zone:\n\tGMT\n"
        f"CSV Files Column Names:\n\taudit_snapshot_summary.csv\n{columns}"
        "Import Status:\n\tThe last data import finished successfully.\n"
    )


def summary(header: tuple[str, ...], rows: tuple[tuple[str, str, str], ...]) -> str:
    lines = [",".join(f'"{h}"' for h in header)]
    for number, (product, metric, quantity) in enumerate(rows, start=1):
        lines.append(f'"{number}","IBM","{product}","None","{metric}","{quantity}",,"No"')
    return "\r\n".join(lines) + "\r\n"


def write(
    path: Path,
    header: tuple[str, ...],
    rows: tuple[tuple[str, str, str], ...],
    start: str,
    end: str,
) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("audit_snapshot_summary.csv", "\ufeff" + summary(header, rows))
        archive.writestr("data_condition.txt", condition(start, end))
        archive.writestr("checksums.txt", "")


def main() -> None:
    write(HERE / "audit_snapshot_2026-11-30.zip", ENGLISH, ROWS, "Dec 1, 2025", "Nov 30, 2026")
    write(
        HERE / "audit_snapshot_pl_2026-09-30.zip", POLISH, ROWS[:1], "Oct 1, 2025", "Sep 30, 2026"
    )
    broken = (("IBM Db2 Standard Edition", "PVU - Subcapacity", "dużo"), ROWS[1], ROWS[1])
    write(HERE / "audit_snapshot_broken.zip", ENGLISH, broken, "Dec 1, 2025", "Dec 1, 2026")


if __name__ == "__main__":
    main()
