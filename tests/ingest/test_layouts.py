"""Standard layouts of Snipe-IT and Jamf Pro, read row by row (issue 13, defects 5 and 14).

The fixtures in tests/data/layouts are our own (Northwind Traders), laid out as the tools write
them (sources in docs/import-formats.md, sections 2.4, 2.5, 3.4 and 5).  Every figure below was
worked out by hand from the fixture's lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind, detect
from seatledger.ingest.records import (
    UNKNOWN_VENDOR,
    DeviceRecord,
    EntitlementRecord,
    InstallRecord,
    PersonRecord,
    Record,
    RowReader,
)
from seatledger.ingest.tabular import Problem, read_table, sniff
from seatledger.ingest.values import DateOrder, DateReader

LAYOUTS = Path(__file__).parents[1] / "data" / "layouts"


def _read(
    name: str, kind: Kind, order: DateOrder | None = None
) -> tuple[str, list[Record], list[str], RowReader]:
    problems: list[Problem] = []
    table = read_table(sniff(LAYOUTS / name), problems)
    detection = detect(kind, table.header)
    assert detection.complete, detection.missing
    reader = RowReader(table, detection, DateReader(order), problems)
    found = list(reader.records())
    return detection.format_name, found, [str(p) for p in problems], reader


def _purchase(record: Record) -> tuple[object, ...]:
    assert isinstance(record, EntitlementRecord)
    return (
        record.line,
        record.vendor,
        record.product,
        record.quantity,
        record.unit_cost,
        record.currency,
        record.po_reference,
        record.term_start,
        record.term_end,
        record.reseller,
    )


def test_snipeit_2017_import_template() -> None:
    """The product is "Item name", not the person a seat is checked out to ("Name").

    Line 3 checks a second seat of line 2's license out to another person: the same purchase,
    read once.  Line 4 has no manufacturer (Snipe-IT needs none) and no purchase order (its
    order number stands in).  Costs are totals: unit = cost / seats; the symbol is the currency.
    """
    name, found, problems, reader = _read(
        "snipeit_licenses_template_2017.csv", Kind.SNIPEIT, DateOrder.MONTH_FIRST
    )
    assert name == "Snipe-IT license import template"
    assert problems == []
    assert reader.repeated == 1
    day = dt.date
    assert [_purchase(r) for r in found] == [
        (
            2,
            "Adobe",
            "Acrobat Pro",
            12,
            Decimal("99.0000"),  # $1,188.00 / 12
            "USD",
            "PO-2026-0150",  # purchase_order, not the order number SHI-7719034
            day(2026, 1, 15),
            day(2027, 1, 14),
            "SHI International",
        ),
        (
            4,
            UNKNOWN_VENDOR,
            "Sketch",
            1,
            Decimal("99.0000"),
            "USD",
            "SK-2026-118",
            day(2026, 3, 15),
            day(2027, 3, 14),
            "",
        ),
        (
            5,
            "Tableau Software",
            "Tableau Creator",
            3,
            Decimal("720.0000"),  # £2,160.00 / 3
            "GBP",
            "PO-2026-0277",
            day(2026, 5, 1),
            day(2027, 4, 30),
            "Tableau Software",
        ),
        (
            6,
            "Zoom",
            "Zoom Workplace Business",
            20,
            Decimal("219.9000"),  # €4,398.00 / 20
            "EUR",
            "PO-2026-0009",
            day(2026, 1, 15),
            day(2027, 1, 14),
            "Zoom",
        ),
        (
            7,
            "Logovista",
            "EPWING Dictionary Suite",
            4,
            Decimal("15000.0000"),  # ¥60,000 / 4
            "JPY",
            "PO-2026-0301",
            day(2026, 6, 1),
            None,
            "Logovista",
        ),
    ]
    assert all(isinstance(r, EntitlementRecord) and r.metric is Metric.PER_USER for r in found)


def test_snipeit_2023_import_template() -> None:
    """The template of Snipe-IT's own import tests: "Item name", ISO dates, plain costs."""
    name, found, problems, _ = _read("snipeit_licenses_template_2023.csv", Kind.SNIPEIT)
    assert name == "Snipe-IT license import template"
    assert problems == []
    assert [_purchase(r) for r in found] == [
        (
            2,
            "Microsoft",
            "Visio Professional 2024",
            5,
            Decimal("590.0000"),  # 2950 / 5
            "",  # no symbol, no column: the import keeps or defaults the currency
            "INV-2026-31877",
            dt.date(2026, 4, 1),
            dt.date(2027, 3, 31),
            "Insight",
        ),
        (
            3,
            "JetBrains",
            "IntelliJ IDEA Ultimate",
            5,
            Decimal("599.0000"),  # 2995 / 5
            "",
            "JB-2026-10937",
            dt.date(2026, 3, 1),
            dt.date(2027, 2, 28),
            "JetBrains s.r.o.",
        ),
    ]


def test_snipeit_export_prefers_the_purchase_order_number() -> None:
    """The export (v6.3+) has both: "Purchase Order Number" is the PO, "Order Number" not."""
    _, found, problems, _ = _read("../snipeit_licenses.csv", Kind.SNIPEIT)
    assert problems == []
    by_product = {r.product: r.po_reference for r in found if isinstance(r, EntitlementRecord)}
    assert by_product["Zoom Workplace Business"] == "PO-2026-0009"  # not ZM-INV-0041138
    assert by_product["Adobe Acrobat DC (legacy)"] == "Snipe-IT: Adobe Acrobat DC (legacy)"


def test_a_currency_symbol_contradicting_the_currency_column_is_a_problem() -> None:
    _, found, problems, _ = _read("snipeit_currency_conflict.csv", Kind.SNIPEIT)
    assert problems == [
        "line 3, Purchase Cost: is in GBP but the row's currency is EUR (value '£2,160.00')"
    ]
    assert [(r.line, r.currency) for r in found if isinstance(r, EntitlementRecord)] == [
        (2, "USD"),
        (4, "EUR"),
    ]


def test_snipeit_users_fall_back_to_the_username() -> None:
    """Two users have no employee number: their username stands in, and the notes say so."""
    name, found, problems, reader = _read("snipeit_users.csv", Kind.PEOPLE)
    assert name == "Snipe-IT users"
    assert problems == []
    people = [r for r in found if isinstance(r, PersonRecord)]
    assert [(p.line, p.employee_id, p.name, p.email) for p in people] == [
        (2, "E10004", "Margaret Peacock", "mpeacock@northwindtraders.com"),
        (3, "afuller", "Andrew Fuller", "afuller@northwindtraders.com"),
        (4, "E10003", "Janet Leverling", "jleverling@northwindtraders.com"),
        (5, "lcallahan", "Laura Callahan", "lcallahan@northwindtraders.com"),
    ]
    assert reader.notes == [
        "2 rows have no Employee Number; their Username stands in as the Employee ID "
        "(first on line 3)."
    ]


def test_jamf_computers_with_a_row_per_application() -> None:
    """Three computers, six installs: rows under a computer's first row inherit its name."""
    name, found, problems, _ = _read("jamf_computers_apps.csv", Kind.INVENTORY)
    assert name == "Jamf Pro applications"
    assert problems == []
    assert [
        (r.line, r.hostname, r.title, r.version) for r in found if isinstance(r, InstallRecord)
    ] == [
        (2, "NW-MB-0301", "Google Chrome.app", "131.0.6778.86"),
        (3, "NW-MB-0301", "Microsoft Excel.app", "16.91"),
        (4, "NW-MB-0301", "Safari.app", "18.1.1"),
        (5, "NW-MB-0302", "Adobe Acrobat.app", "24.005.20320"),
        (6, "NW-MB-0302", "Google Chrome.app", "131.0.6778.86"),
        (7, "NW-MB-0303", "Safari.app", "18.1.1"),
    ]


def _devices(found: list[Record]) -> list[tuple[object, ...]]:
    return [
        (d.line, d.hostname, d.serial, d.os, d.processors, d.cores, d.owner, d.last_seen)
        for d in found
        if isinstance(d, DeviceRecord)
    ]


def test_the_same_jamf_export_read_as_devices() -> None:
    """Application rows add nothing to a computer: three devices, each from its first row."""
    name, found, problems, reader = _read("jamf_computers_apps.csv", Kind.DEVICES)
    assert name == "Jamf Pro computers"
    assert problems == []
    assert reader.continued == 3
    day = dt.date
    assert _devices(found) == [
        (2, "NW-MB-0301", "C02FN0301MD6", "14.6.1", 1, 10, "mpeacock@northwindtraders.com",
         day(2026, 11, 24)),
        # No email address: the username is the owner.
        (5, "NW-MB-0302", "C02FN0302MD6", "15.1", 1, 12, "afuller", day(2026, 11, 23)),
        (7, "NW-MB-0303", "C02FN0303MD6", "15.1", 1, 8, "jleverling@northwindtraders.com",
         day(2026, 11, 25)),
    ]  # fmt: skip


def test_jamf_computers_with_a_row_per_group() -> None:
    _, found, problems, reader = _read("jamf_computers_groups.csv", Kind.DEVICES)
    assert problems == []
    assert reader.continued == 2
    assert [(d[1], d[5]) for d in _devices(found)] == [("NW-MB-0301", 10), ("NW-MB-0302", 12)]


def test_jamf_mobile_devices_by_display_name() -> None:
    name, found, problems, reader = _read("jamf_mobile_devices.csv", Kind.DEVICES)
    assert name == "Jamf Pro mobile devices"
    assert problems == []
    assert reader.continued == 1
    day = dt.date
    assert _devices(found) == [
        (2, "NW-IPAD-0401", "DMPXK0401Q1", "18.1.1", None, None,
         "mpeacock@northwindtraders.com", day(2026, 11, 24)),
        (4, "NW-IPHONE-0402", "F2LXK0402N7", "18.1", None, None, "afuller", day(2026, 11, 25)),
    ]  # fmt: skip


def test_a_jamf_row_without_a_name_but_with_device_values_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "jamf.csv"
    path.write_text(
        "Computer Name,Serial Number,Total Number of Cores,Last Inventory Update,Computer Group\n"
        "NW-MB-0301,C02FN0301MD6,10,2026-11-24,All Managed Clients\n"
        ",C02FN0399MD6,,,Sales Macs\n",
        encoding="utf-8",
    )
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    reader = RowReader(table, detect(Kind.DEVICES, table.header), DateReader(), problems)
    assert [r.line for r in reader.records()] == [2]
    assert [str(p) for p in problems] == [
        "line 3, Serial Number: is on a row without a computer name; Jamf writes a computer's "
        "fields on its first row only (value 'C02FN0399MD6')"
    ]


def test_other_inventories_still_need_a_host_on_every_row(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text("Computer,Software\nD1,Draw\n,Paint\n", encoding="utf-8")
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    reader = RowReader(table, detect(Kind.INVENTORY, table.header), DateReader(), problems)
    assert [r.line for r in reader.records()] == [2]
    assert [str(p) for p in problems] == [
        "line 3, Computer (Host name): is empty; every row needs one"
    ]
