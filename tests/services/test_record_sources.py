"""Sources of what the position counts besides installs and checkouts: seats, purchases, people,
devices and the people who used a product on a license server, each named by its import's file,
SHA-256 and line, or by the ledger entry of the operator who entered it by hand; and the
position export's Sources (a sheet, a CSV beside the position, or JSON's ``sources``).

The lines below are counted by hand from the files written here (line 1 is the header).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Column
from seatledger.services.position.export import export_position, sources_path
from seatledger.services.position.sources import (
    SOURCE_NOT_RECORDED,
    line_cells,
    line_ranges,
    record_sources,
)
from seatledger.store.models import Device, Entitlement, LedgerEntry, Person

TODAY = dt.date.today()

HR_1 = "Employee ID,Full Name,Email\nE1,Ann Lee,ann@example.com\nE2,Bob Roe,bob@example.com\n"
# Ann as she was (line 2: unchanged, keeps HR_1's line 2); Bob renamed on line 3.
HR_2 = "Employee ID,Full Name,Email\nE1,Ann Lee,ann@example.com\nE2,Bob Roe-Smith,bob@example.com\n"
DEVICES = "Host name,Serial number,Cores,OS\nLT-1,SN-1,8,Windows\nLT-2,SN-2,4,Windows\n"
# NEW-7 is first named on line 3 (again on 4): the device the import adds by host name.
INVENTORY = (
    "Host name,Title,Publisher\n"
    "LT-1,PDF Studio,Contoso\n"
    "NEW-7,PDF Studio,Contoso\n"
    "NEW-7,Excel,Microsoft\n"
)
PURCHASES_1 = (
    "Vendor,Product,License Metric,Quantity,Start Date,End Date,PO Number\n"
    "Contoso,PDF Studio,Named user,3,2020-01-01,,PO-1\n"
    "Contoso,PDF Studio,Named user,2,2020-01-01,,PO-2\n"
)
# PO-2 changed (line 2 here); PO-1 not listed: it keeps PURCHASES_1's line 2.
PURCHASES_2 = (
    "Vendor,Product,License Metric,Quantity,Start Date,End Date,PO Number\n"
    "Contoso,PDF Studio,Named user,4,2020-01-01,,PO-2\n"
)


def _write(folder: Path, name: str, data: str) -> tuple[Path, str]:
    path = folder / name
    path.write_bytes(data.encode("utf-8"))
    return path, hashlib.sha256(data.encode("utf-8")).hexdigest()


def _where(name: str, sha: str, line: int) -> str:
    return f"{name} (SHA-256 {sha[:12]}…), line {line}"


def _import(admin: Services, folder: Path, name: str, data: str, kind: Kind) -> str:
    path, sha = _write(folder, name, data)
    admin.imports.commit(path, ImportOptions(kind))
    return sha


def _head(admin: Services) -> int:
    with admin.db.read() as session:
        return int(session.scalar(select(func.max(LedgerEntry.seq))) or 0)


def _ids(admin: Services, model: type[Person] | type[Device]) -> dict[str, int]:
    with admin.db.read() as session:
        if model is Person:
            return {
                str(k): int(i) for k, i in session.execute(select(Person.employee_id, Person.id))
            }
        return {str(k): int(i) for k, i in session.execute(select(Device.hostname, Device.id))}


def _records(admin: Services, kind: str, ids: dict[str, int]) -> dict[str, str]:
    with admin.db.read() as session:
        found = record_sources(session, kind, set(ids.values()))
    return {name: found[i] for name, i in ids.items()}


def _utc_day() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def test_people_and_devices_name_the_line_that_last_set_them(
    admin: Services, tmp_path: Path
) -> None:
    hr1 = _import(admin, tmp_path, "hr-1.csv", HR_1, Kind.PEOPLE)
    hr2 = _import(admin, tmp_path, "hr-2.csv", HR_2, Kind.PEOPLE)
    people = _ids(admin, Person)
    assert _records(admin, "person", people) == {
        "E1": _where("hr-1.csv", hr1, 2),
        "E2": _where("hr-2.csv", hr2, 3),
    }
    # An edit by hand makes Ann's fields the operator's: her source is that ledger entry.
    admin.directory.update_person(
        people["E1"], PersonInput("E1", "Ann Lee-Park", "ann@example.com")
    )
    edited = _head(admin)
    assert _records(admin, "person", people)["E1"] == (
        f"changed by admin on {_utc_day()} (ledger entry #{edited})"
    )

    devices_sha = _import(admin, tmp_path, "devices.csv", DEVICES, Kind.DEVICES)
    inventory_sha = _import(admin, tmp_path, "inventory.csv", INVENTORY, Kind.INVENTORY)
    devices = _ids(admin, Device)
    assert _records(admin, "device", devices) == {
        "LT-1": _where("devices.csv", devices_sha, 2),  # an inventory listing sets none of it
        "LT-2": _where("devices.csv", devices_sha, 3),
        "NEW-7": _where("inventory.csv", inventory_sha, 3),
    }
    # The same device file again changes nothing: the lines stand.  Changed cores on LT-2
    # (line 3 of the new file) take the new file's line.
    _import(admin, tmp_path, "devices-again.csv", DEVICES, Kind.DEVICES)
    newer = DEVICES.replace("LT-2,SN-2,4", "LT-2,SN-2,6")
    newer_sha = _import(admin, tmp_path, "devices-newer.csv", newer, Kind.DEVICES)
    assert _records(admin, "device", devices) == {
        "LT-1": _where("devices.csv", devices_sha, 2),
        "LT-2": _where("devices-newer.csv", newer_sha, 3),
        "NEW-7": _where("inventory.csv", inventory_sha, 3),
    }

    # Rows from before schema 0029 kept no source, and none is invented for them.
    with admin.db.engine.begin() as conn:
        conn.execute(text("UPDATE person SET source_import_id = NULL, source_line = NULL"))
    assert _records(admin, "person", people)["E2"] == SOURCE_NOT_RECORDED


def _product(admin: Services) -> int:
    vendor = admin.catalog.add_vendor("Contoso")
    pdf = admin.catalog.add_product(vendor, "PDF Studio")
    admin.rules.add(RuleInput(pdf, "PDF Studio"))
    return pdf


def _usage(folder: Path) -> tuple[Path, str]:
    start = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(8), tzinfo=dt.UTC)
    stamp = [(start + dt.timedelta(hours=h)).isoformat() for h in range(6)]
    # Ann on line 2; Bob on lines 3 and 4 (line 4 his latest checkout).
    return _write(
        folder,
        "usage.csv",
        "user,product,host,checkout,checkin\n"
        f"ann,PDF Studio,WS-1,{stamp[0]},{stamp[1]}\n"
        f"bob,PDF Studio,WS-2,{stamp[1]},{stamp[2]}\n"
        f"bob,PDF Studio,WS-2,{stamp[3]},{stamp[4]}\n",
    )


def _purchases_seats_and_use(admin: Services, folder: Path) -> dict[str, object]:
    """Purchases by import and by hand, a seat by hand and usage; what the tests expect."""
    pdf = _product(admin)
    hr = _import(admin, folder, "hr-1.csv", HR_1, Kind.PEOPLE)
    first = _import(admin, folder, "purchases-1.csv", PURCHASES_1, Kind.ENTITLEMENTS)
    second = _import(admin, folder, "purchases-2.csv", PURCHASES_2, Kind.ENTITLEMENTS)
    by_hand = admin.catalog.add_entitlement(
        EntitlementInput(pdf, Metric.PER_USER, 1, name="Spare seat", term_start=dt.date(2020, 1, 1))
    )
    entered = _head(admin)
    with admin.db.read() as session:
        rows = session.execute(select(Entitlement.po_reference, Entitlement.id))
        po = {str(k): int(i) for k, i in rows}
    ann = _ids(admin, Person)["E1"]
    admin.seats.assign(po["PO-1"], people=[ann])
    assigned = _head(admin)
    usage, usage_sha = _usage(folder)
    admin.imports.commit(usage, ImportOptions(Kind.USAGE))
    return {
        "pdf": pdf,
        "hr": hr,
        "first": first,
        "second": second,
        "po": po,
        "by_hand": by_hand,
        "entered": entered,
        "assigned": assigned,
        "usage": usage_sha,
    }


def test_the_drill_down_names_the_source_of_purchases_seats_and_use(
    admin: Services, tmp_path: Path
) -> None:
    made = _purchases_seats_and_use(admin, tmp_path)
    pdf, po, day = made["pdf"], made["po"], _utc_day()
    assert isinstance(pdf, int)
    assert isinstance(po, dict)
    owned, _ = admin.position.holders(pdf, Metric.PER_USER, Column.OWNED, TODAY)
    assert {h.id: h.source for h in owned} == {
        po["PO-1"]: _where("purchases-1.csv", str(made["first"]), 2),
        po["PO-2"]: _where("purchases-2.csv", str(made["second"]), 2),
        made["by_hand"]: f"entered by admin on {day} (ledger entry #{made['entered']})",
    }
    assigned, _ = admin.position.holders(pdf, Metric.PER_USER, Column.ASSIGNED, TODAY)
    assert [(h.name, h.source, h.record) for h in assigned] == [
        (
            "Ann Lee",
            f"assigned by admin on {day} (ledger entry #{made['assigned']})",
            _where("hr-1.csv", str(made["hr"]), 2),
        )
    ]
    # Named users: Ann holds a seat (her row is the seat's); Bob used it on the license
    # server without one: his latest checkout's line, of two.
    needed, total = admin.position.holders(pdf, Metric.PER_USER, Column.NEEDED, TODAY)
    assert total == 2
    usage = str(made["usage"])
    assert {h.name: h.source for h in needed} == {
        "Ann Lee": f"assigned by admin on {day} (ledger entry #{made['assigned']})",
        "Bob Roe": "latest of 2 checkouts: " + _where("usage.csv", usage, 4),
    }
    assert {h.name: h.record for h in needed}["Bob Roe"] == _where("hr-1.csv", str(made["hr"]), 3)
    finding = next(
        f for f in admin.position.position(TODAY).findings if f.kind.value == "used_without_seat"
    )
    rows = admin.position.finding_rows(finding, TODAY, 90)
    assert [(h.name, h.source) for h in rows] == [
        ("Bob Roe", "latest of 2 checkouts: " + _where("usage.csv", usage, 4))
    ]

    # Purchases from before schema 0029: no import and no entry of their own say where
    # they came from, and nothing is invented.
    with admin.db.engine.begin() as conn:
        conn.execute(text("UPDATE entitlement SET import_id = NULL, source_line = NULL"))
    owned, _ = admin.position.holders(pdf, Metric.PER_USER, Column.OWNED, TODAY)
    assert {h.id: h.source for h in owned}[po["PO-1"]] == SOURCE_NOT_RECORDED


def test_the_position_export_names_the_sources_of_each_product(
    admin: Services, tmp_path: Path
) -> None:
    made = _purchases_seats_and_use(admin, tmp_path)
    position = admin.position.position(TODAY)
    sources = admin.position.sources(position)
    first, second, usage = str(made["first"]), str(made["second"]), str(made["usage"])
    expected = [
        # (evidence, file, SHA-256, rows, rows without a line, lines)
        ("purchases", "purchases-1.csv", first, 1, 0, "2"),
        ("purchases", "purchases-2.csv", second, 1, 0, "2"),
        (
            "purchases",
            "",
            "",
            1,
            1,
            f"entered or last changed by hand: ledger entry #{made['entered']}",
        ),
        (
            "seats",
            "",
            "",
            1,
            1,
            "assigned by hand (or before schema 0029 kept sources): each "
            "seat's operator and ledger entry are in the drill-down",
        ),
        ("checkouts", "usage.csv", usage, 3, 0, "2-4"),
    ]
    assert [
        (s.evidence, s.file_name, s.sha256, s.rows, s.unlined, s.lines)
        for s in sources
        if s.product == "PDF Studio"
    ] == [(e, f, h, r, u, ln) for e, f, h, r, u, ln in expected]

    # The workbook's Sources sheet, the CSV beside the position and the JSON say the same.
    book = load_workbook(export_position(position, tmp_path / "p.xlsx", sources), read_only=True)
    sheet = [list(r) for r in book["Sources"].iter_rows(values_only=True)]
    book.close()
    assert sheet[0][:3] == ["Vendor", "Product", "Evidence"]
    assert [(r[2], r[5], r[11]) for r in sheet[1:] if r[1] == "PDF Studio"] == [
        (e, f or None, ln) for e, f, _, _, _, ln in expected
    ]
    export_position(position, tmp_path / "p.csv", sources)
    with sources_path(tmp_path / "p.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Product"] == "PDF Studio"]
    assert [(r["Evidence"], r["SHA-256"], r["Rows"], r["Lines"]) for r in rows] == [
        (e, h, str(n), ln) for e, _, h, n, _, ln in expected
    ]
    assert (tmp_path / "p-sources.csv").exists()
    body = json.loads(export_position(position, tmp_path / "p.json", sources).read_text())
    checkouts = [s for s in body["sources"] if s["evidence"] == "checkouts"]
    assert checkouts == [
        {
            "vendor": "Contoso",
            "product": "PDF Studio",
            "evidence": "checkouts",
            "figures": "rights needed (concurrent: the peak over the 90 days)",
            "import_id": checkouts[0]["import_id"],
            "file": "usage.csv",
            "sha256": usage,
            "format": checkouts[0]["format"],
            "imported_at": checkouts[0]["imported_at"],
            "rows": 3,
            "rows_without_line": 0,
            "lines": "2-4",
        }
    ]


def test_reconcile_out_writes_the_sources_beside_a_csv(
    admin: Services, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = _purchases_seats_and_use(admin, tmp_path)
    out = tmp_path / "position.csv"
    capsys.readouterr()
    assert cli.main(["reconcile", "--db", db_url, "--out", str(out)]) == 0
    assert f"Wrote the sources behind its figures to {tmp_path / 'position-sources.csv'}." in (
        capsys.readouterr().out
    )
    with (tmp_path / "position-sources.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["Evidence"], r["File"], r["Lines"]) for r in rows if r["File"]] == [
        ("purchases", "purchases-1.csv", "2"),
        ("purchases", "purchases-2.csv", "2"),
        ("checkouts", "usage.csv", "2-4"),
    ]
    assert rows[0]["SHA-256"] == made["first"]


def test_a_long_list_of_lines_continues_in_the_next_cell() -> None:
    """A spreadsheet cell holds 32,767 characters: 10,000 scattered lines take several."""
    ranges = line_ranges(range(2, 20_002, 2))  # 2, 4, ..., 20000: no two adjacent
    cells = list(line_cells(ranges))
    assert len(cells) > 1
    assert all(len(cell) <= 30_000 for cell in cells)
    assert ", ".join(cells).split(", ") == [str(n) for n in range(2, 20_002, 2)]


def test_a_seat_an_import_made_names_its_file_and_line(admin: Services, tmp_path: Path) -> None:
    """No import makes seats yet; one that does records its import and line on the seat, and
    the drill-down names them instead of an operator's entry."""
    made = _purchases_seats_and_use(admin, tmp_path)
    pdf = made["pdf"]
    assert isinstance(pdf, int)
    with admin.db.engine.begin() as conn:
        batch = conn.execute(
            text("SELECT id FROM import_batch WHERE file_name = 'purchases-1.csv'")
        ).scalar_one()
        conn.execute(
            text("UPDATE seat_assignment SET import_id = :b, source_line = 7"), {"b": batch}
        )
    assigned, _ = admin.position.holders(pdf, Metric.PER_USER, Column.ASSIGNED, TODAY)
    assert [h.source for h in assigned] == [_where("purchases-1.csv", str(made["first"]), 7)]
