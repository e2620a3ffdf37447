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
# pvu_sub_capacity.csv's columns, in English as data_condition.txt lists them and in Polish as
# the public sample's header writes them (github.com/tstopa/LMT-Explorer, test/audit_snapshot).
SERVER_ENGLISH = (
    "Row No.",
    "Publisher",
    "Imported Part Numbers",
    "Product Name",
    "FlexPoint or Cloud Pak Bundle",
    "Metric Quantity",
    "Metric Peak Value Time",
    "Recalculation Needed",
    "Server Name",
    "Processor",
    "Processor Brand String",
    "PVU Per Core",
    "Changed PVU Per Core",
    "Physical Server CPU Core Subcapacity Limit",
    "Physical Server CPU Core Subcapacity",
    "Physical Server PVU Subcapacity Limit",
    "Physical Server PVU Subcapacity",
    "Comment",
    "Partition Cores",
    "Virtualization Layer ID",
    "Computer",
    "Computer Deleted",
    "OS",
    "IP Address",
    "Product Release",
    "Component",
    "Path",
    "Unconfirmed Product Instance",
    "Computer Last Seen",
    "Exclusion Comment",
)
SERVER_POLISH = (
    "Wiersz nr",
    "Wydawca",
    "Zaimportowane numery części",
    "Nazwa produktu",
    "Pakunek FlexPoint lub Cloud Pak",
    "Wartość wielkości mierzonej",
    "Czas wartości szczytowej wielkości mierzonej",
    "Wymagane przeliczanie",
    "Nazwa serwera",
    "Procesor",
    "Łańcuch marki procesora",
    "PVU na rdzeń",
    "Zmieniono wartość PVU na rdzeń",
    "Rdzenie procesora serwera fizycznego - limit ograniczonej mocy obliczeniowej",
    "Rdzenie procesora serwera fizycznego - ograniczona moc obliczeniowa",
    "PVU serwera fizycznego - limit ograniczonej mocy obliczeniowej",
    "PVU serwera fizycznego - ograniczona moc obliczeniowa",
    "Komentarz",
    "Rdzenie partycji",
    "ID warstwy wirtualizacji",
    "Komputer",
    "Komputer usunięty",
    "System operacyjny",
    "Adres IP",
    "Wydanie produktu",
    "Komponent",
    "Ścieżka",
    "Niepotwierdzona instancja produktu",
    "Ostatnio widziany komputer",
    "Komentarz do wykluczenia",
)
DB2 = "IBM Db2 Standard Edition"
# product, server, PVU per core, server cores, server PVUs, computer, component, exclusion
SERVER_ROWS = (
    (DB2, "esx01.corp.example", "70", "2", "140", "lnx-web01", "Db2 Server 11.5", ""),
    (DB2, "esx01.corp.example", "70", "2", "140", "lnx-web01", "Db2 Client 11.5", ""),
    (DB2, "esx02.corp.example", "70", "0", "0", "lnx-db02", "Db2 Server 11.5", "DR server"),
    (DB2, "aix-p9-01", "70", "2", "140", "aixdb07", "Db2 Server 11.5", ""),
    (
        "IBM WebSphere Application Server",
        "IBM Corp. 7946 99B716687",
        "100",
        "1",
        "100",
        "was01",
        "WebSphere Application Server 9.0",
        "",
    ),
)

ROWS = (
    ("IBM Db2 Standard Edition", "PVU - Subcapacity", "280"),
    ("IBM WebSphere Application Server", "PVU - Subcapacity", "100"),
    ("IBM MQ", "Authorized User", "25"),
)


def condition(start: str, end: str) -> str:
    def listed(name: str, columns: tuple[str, ...]) -> str:
        return f"\t{name}\n" + "".join(f"\t\t{column}\n" for column in columns)

    return (
        "Audit snapshot generated in:\n\tIBM License Metric Tool 9.2.36.0\n"
        f"Start Date:\n\t{start}\nEnd Date:\n\t{end}\nTime Zone:\n\tGMT\n"
        "CSV Files Column Names:\n"
        + listed("pvu_sub_capacity.csv", SERVER_ENGLISH)
        + listed("audit_snapshot_summary.csv", ENGLISH)
        + "Import Status:\n\tThe last data import finished successfully.\n"
    )


def summary(header: tuple[str, ...], rows: tuple[tuple[str, str, str], ...]) -> str:
    lines = [",".join(f'"{h}"' for h in header)]
    for number, (product, metric, quantity) in enumerate(rows, start=1):
        lines.append(f'"{number}","IBM","{product}","None","{metric}","{quantity}",,"No"')
    return "\r\n".join(lines) + "\r\n"


def servers(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    """pvu_sub_capacity.csv as License Metric Tool writes it (the public sample's shape)."""
    lines = [",".join(f'"{h}"' for h in header)]
    for number, (product, server, per_core, cores, pvus, computer, component, why) in enumerate(
        rows, start=1
    ):
        values = (
            str(number), "IBM", None, product, "None", "280", "2026-11-30 00:00:00.000", "No",
            server, "Intel(R) Xeon(R)", "Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz", per_core,
            "No", cores, cores, pvus, pvus, "", cores, "51", computer, "No", "Linux", "10.0.0.7",
            "11.5", component, "/opt/ibm/db2", "No", "2026-11-30 04:59:40", why,
        )  # fmt: skip
        lines.append(",".join("" if v is None else f'"{v}"' for v in values))
    return "\r\n".join(lines) + "\r\n"


def write(  # noqa: PLR0917 (one fixture's every part)
    path: Path,
    header: tuple[str, ...],
    rows: tuple[tuple[str, str, str], ...],
    start: str,
    end: str,
    per_server: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]] | None = None,
) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("audit_snapshot_summary.csv", "\ufeff" + summary(header, rows))
        if per_server is not None:
            archive.writestr("pvu_sub_capacity.csv", "\ufeff" + servers(*per_server))
        archive.writestr("data_condition.txt", condition(start, end))
        archive.writestr("checksums.txt", "")


def main() -> None:
    write(
        HERE / "audit_snapshot_2026-11-30.zip",
        ENGLISH,
        ROWS,
        "Dec 1, 2025",
        "Nov 30, 2026",
        (SERVER_ENGLISH, SERVER_ROWS),
    )
    write(
        HERE / "audit_snapshot_pl_2026-09-30.zip",
        POLISH,
        ROWS[:1],
        "Oct 1, 2025",
        "Sep 30, 2026",
        (SERVER_POLISH, SERVER_ROWS[:1]),
    )
    broken = (("IBM Db2 Standard Edition", "PVU - Subcapacity", "dużo"), ROWS[1], ROWS[1])
    broken_servers = ((*SERVER_ROWS[0][:4], "sto czterdzieści", *SERVER_ROWS[0][5:]),)
    write(
        HERE / "audit_snapshot_broken.zip",
        ENGLISH,
        broken,
        "Dec 1, 2025",
        "Dec 1, 2026",
        (SERVER_ENGLISH, broken_servers),
    )
    # The summary alone, as a snapshot made without the per-server file would be.
    write(HERE / "audit_snapshot_summary_only_2026-12-31.zip", ENGLISH, ROWS, "Jan 1, 2026",
          "Dec 31, 2026")  # fmt: skip


if __name__ == "__main__":
    main()
