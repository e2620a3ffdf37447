"""Jamf School's device export, laid out as a public sample shows it (tests/data/public/README.md:
tonyyo11/jamf-reports-community, tests/fixtures/csv/harboredu_school_devices.csv).

Semicolon-delimited, 36 PascalCase columns, ISO 8601 UTC times, a quoted cell holding '&amp;' (a
';' inside quotes).  The owner is OwnerEmail, else OwnerUsername; the trailing 'Username' column
is empty.  Before: "columns matched by name", the owner read from that trailing column (every
owner dropped without a word) and no last-seen date, exit 0.  Figures counted by hand below.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from seatledger.ingest.formats import Kind, detect
from seatledger.ingest.records import DeviceRecord, RowReader
from seatledger.ingest.tabular import Problem, read_table, sniff
from seatledger.ingest.values import DateReader
from seatledger.services.directory.service import PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services
from seatledger.store.models import Device, Person

EXPORT = Path(__file__).parents[1] / "data" / "public" / "jamf_school_devices_semicolon.csv"


def test_the_jamf_school_export_is_recognized_and_read_exactly() -> None:
    problems: list[Problem] = []
    table = read_table(sniff(EXPORT), problems)
    assert len(table.header) == 36
    detection = detect(Kind.DEVICES, table.header)
    assert detection.format_name == "Jamf School devices"
    found = list(RowReader(table, detection, DateReader(), problems).records())
    assert problems == []
    day = dt.date
    assert [
        (d.line, d.hostname, d.serial, d.os, d.processors, d.cores, d.owner, d.last_seen)
        for d in found
        if isinstance(d, DeviceRecord)
    ] == [
        # LastConnected 2026-11-24T08:45:47Z (DateModified, 11-23, is not a sighting).
        (2, "Maya Peacock's iPad", "NWJS0001Q16M", "iOS 26.1.0", None, None,
         "m.peacock@northwind.example", day(2026, 11, 24)),
        # A shared iPad: no owner at all.
        (3, "Cart B iPad 07", "NWJS0002K0", "iOS 26.1.1", None, None, "", day(2026, 11, 24)),
        # OwnerEmail empty: OwnerUsername stands in.
        (4, "NW-Z16XNQ4D2J", "Z16XNQ4D2J", "macOS 26.1.0", None, None, "a.fuller",
         day(2026, 11, 22)),
        (5, "Janet Leverling Mac", "ZR9MWTQ004", "macOS 15.3.1", None, None,
         "j.leverling@northwind.example", day(2026, 11, 21)),
    ]  # fmt: skip


def test_the_jamf_school_export_imported_keeps_cores_unknown_and_names_lost_owners(
    admin: Services,
) -> None:
    """Two of the three owners are people (by e-mail, by e-mail's local part for 'a.fuller');
    Janet Leverling is not: said, not dropped.  No core or processor figure is invented."""
    admin.directory.add_person(PersonInput("E1", "Maya Peacock", "m.peacock@northwind.example"))
    admin.directory.add_person(PersonInput("E2", "Andrew Fuller", "a.fuller@northwind.example"))
    result = admin.imports.commit(EXPORT, ImportOptions(Kind.DEVICES))
    assert (result.rows, result.inserted) == (4, 4)
    assert any(
        "1 primary user is" in note and "j.leverling@northwind.example" in note
        for note in result.notes
    ), result.notes
    with admin.db.read() as session:
        owners = dict(
            session.execute(
                select(Device.hostname, Person.name).outerjoin(Person, Person.id == Device.owner_id)
            ).all()
        )
        hardware = set(session.execute(select(Device.processors, Device.cores)).all())
    assert owners == {
        "Maya Peacock's iPad": "Maya Peacock",
        "Cart B iPad 07": None,
        "NW-Z16XNQ4D2J": "Andrew Fuller",
        "Janet Leverling Mac": None,
    }
    assert hardware == {(None, None)}
