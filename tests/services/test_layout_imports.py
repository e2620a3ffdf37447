"""Snipe-IT and Jamf layouts imported end to end: what each row stores (issue 13, 5 and 14)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from seatledger.ingest.formats import Kind
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services
from seatledger.store.models import (
    Device,
    Entitlement,
    Installation,
    Person,
    Product,
    SoftwareTitle,
    Vendor,
)

LAYOUTS = Path(__file__).parents[1] / "data" / "layouts"


def _stored(admin: Services) -> dict[str, tuple[object, ...]]:
    """PO reference -> (vendor, product, quantity, unit cost, currency, start, end, reseller)."""
    with admin.db.read() as session:
        rows = session.execute(
            select(
                Entitlement.po_reference,
                Vendor.name,
                Product.name,
                Entitlement.quantity,
                Entitlement.unit_cost,
                Entitlement.currency,
                Entitlement.term_start,
                Entitlement.term_end,
                Entitlement.reseller,
            )
            .join(Product, Product.id == Entitlement.product_id)
            .join(Vendor, Vendor.id == Product.vendor_id)
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_the_2017_snipeit_template_stores_what_each_row_says(admin: Services) -> None:
    path = LAYOUTS / "snipeit_licenses_template_2017.csv"
    preview = admin.imports.preview(path, ImportOptions(Kind.SNIPEIT))
    assert preview.ok, preview.problems
    assert preview.format_name == "Snipe-IT license import template"
    result = admin.imports.commit(path, ImportOptions(Kind.SNIPEIT))
    assert (result.rows, result.inserted, result.repeated) == (6, 5, 1)
    found = {po: (v[0], v[1], v[2], Decimal(str(v[3])), v[4]) for po, v in _stored(admin).items()}
    assert found == {
        "PO-2026-0150": ("Adobe", "Acrobat Pro", 12, Decimal(99), "USD"),
        "SK-2026-118": ("Unknown manufacturer", "Sketch", 1, Decimal(99), "USD"),
        "PO-2026-0277": ("Tableau Software", "Tableau Creator", 3, Decimal(720), "GBP"),
        "PO-2026-0009": ("Zoom", "Zoom Workplace Business", 20, Decimal("219.9"), "EUR"),
        "PO-2026-0301": ("Logovista", "EPWING Dictionary Suite", 4, Decimal(15000), "JPY"),
    }


def test_a_dollar_amount_turns_a_stored_euro_purchase_into_dollars(
    admin: Services, tmp_path: Path
) -> None:
    """Before, only a new purchase took the symbol's currency; an update kept EUR."""
    plain = tmp_path / "plain.csv"
    plain.write_text("Item name,Manufacturer,Seats,Purchase Cost,purchase_order\n"
                     "Acrobat Pro,Adobe,12,1188.00,PO-1\n", encoding="utf-8")  # fmt: skip
    admin.imports.commit(plain, ImportOptions(Kind.SNIPEIT))
    assert _stored(admin)["PO-1"][4] == "EUR"  # no symbol, no column: the default
    dollars = tmp_path / "dollars.csv"
    dollars.write_text(plain.read_text(encoding="utf-8").replace("1188.00", '"$1,188.00"'))
    assert admin.imports.commit(dollars, ImportOptions(Kind.SNIPEIT)).updated == 1
    assert _stored(admin)["PO-1"][4] == "USD"
    again = tmp_path / "again.csv"
    again.write_text(plain.read_text(encoding="utf-8") + "\n")
    assert admin.imports.commit(again, ImportOptions(Kind.SNIPEIT)).unchanged == 1
    assert _stored(admin)["PO-1"][4] == "USD"  # an amount without a symbol says nothing


def test_the_2023_snipeit_template_is_imported(admin: Services) -> None:
    result = admin.imports.commit(
        LAYOUTS / "snipeit_licenses_template_2023.csv", ImportOptions(Kind.SNIPEIT)
    )
    assert (result.rows, result.inserted) == (2, 2)
    assert {po: v[:5] for po, v in _stored(admin).items()} == {
        "INV-2026-31877": ("Microsoft", "Visio Professional 2024", 5, Decimal(590), "EUR"),
        "JB-2026-10937": ("JetBrains", "IntelliJ IDEA Ultimate", 5, Decimal(599), "EUR"),
    }


def test_a_jamf_export_with_a_row_per_application(admin: Services) -> None:
    """Imported as devices and as installs: three computers, six installs."""
    path = LAYOUTS / "jamf_computers_apps.csv"
    devices = admin.imports.commit(path, ImportOptions(Kind.DEVICES))
    assert (devices.rows, devices.inserted) == (6, 3)
    installs = admin.imports.commit(path, ImportOptions(Kind.INVENTORY))
    assert installs.rows == 6
    with admin.db.read() as session:
        hosts = dict(session.execute(select(Device.hostname, Device.cores)).all())
        pairs = session.execute(
            select(Device.hostname, SoftwareTitle.title)
            .join(Installation, Installation.device_id == Device.id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
        ).all()
    assert hosts == {"NW-MB-0301": 10, "NW-MB-0302": 12, "NW-MB-0303": 8}
    per_host: dict[str, int] = {}
    for host, _ in pairs:
        per_host[host] = per_host.get(host, 0) + 1
    assert per_host == {"NW-MB-0301": 3, "NW-MB-0302": 2, "NW-MB-0303": 1}


def test_jamf_mobile_devices_are_imported_by_display_name(admin: Services) -> None:
    result = admin.imports.commit(LAYOUTS / "jamf_mobile_devices.csv", ImportOptions(Kind.DEVICES))
    assert (result.rows, result.inserted) == (3, 2)
    with admin.db.read() as session:
        found = set(session.scalars(select(Device.hostname)))
    assert found == {"NW-IPAD-0401", "NW-IPHONE-0402"}


def test_snipeit_users_without_employee_numbers_say_what_stands_in(admin: Services) -> None:
    result = admin.imports.commit(LAYOUTS / "snipeit_users.csv", ImportOptions(Kind.PEOPLE))
    with admin.db.read() as session:
        ids = sorted(session.scalars(select(Person.employee_id)))
    # Lines 3 and 5 give no Employee Number: their Username is the ID (and the notes say so).
    assert ids == ["E10003", "E10004", "afuller", "lcallahan"]
    assert (
        "2 rows have no Employee Number; their Username stands in as the Employee ID (first on "
        "line 3)." in result.notes
    )
