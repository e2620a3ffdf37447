"""Imports through the service on both engines: preview, commit, re-import, one ledger entry each.

A rejected file changes nothing (no row, no ledger entry); a committed file is one ledger entry
naming the file, its SHA-256 and its counts; the same file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from conftest import last_entry, ledger_size, sqlite_only
from seatledger.domain.normalization import MatchKind
from seatledger.domain.roles import Role
from seatledger.errors import (
    Cancelled,
    KnownError,
    PermissionDenied,
    ValidationError,
)
from seatledger.ingest.formats import Kind
from seatledger.ingest.tabular import ImportFileError
from seatledger.ingest.values import DateOrder
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.imports.service import ImportRejected, ImportResult, Preview
from seatledger.services.operators.accounts import create_first_administrator
from seatledger.services.operators.session import Services
from seatledger.store.bulk import Bulk
from seatledger.store.db import Database
from seatledger.store.models import (
    Device,
    Entitlement,
    ImportBatch,
    Installation,
    Person,
    Product,
    SoftwareTitle,
    Team,
    UsageSession,
    Vendor,
)

# Reading a file does not depend on the engine: the tests of it are sqlite_only.

TABLES = (
    "person",
    "team",
    "device",
    "software_title",
    "installation",
    "usage_session",
    "vendor",
    "product",
    "entitlement",
    "import_batch",
    "import_mapping",
    "normalization_rule",
)


# ------------------------------------------------------------------------------------ helpers


def write(folder: Path, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def state(db: Database) -> dict[str, Any]:
    """Row counts of every table an import writes, and the ledger's size."""
    with db.engine.connect() as conn:
        counts: dict[str, Any] = {
            table: conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() for table in TABLES
        }
    counts["ledger"] = ledger_size(db)
    return counts


def commit(services: Services, path: Path, kind: Kind, **options: Any) -> ImportResult:
    """Commit a file, checking it became exactly one ledger entry that names it."""
    before = ledger_size(services.db)
    result = services.imports.commit(path, ImportOptions(kind, **options))
    if result.already_imported:
        assert ledger_size(services.db) == before
        return result
    assert ledger_size(services.db) == before + 1
    entry = last_entry(services.db)
    assert entry["action"] == f"import.{kind.value}"
    assert entry["operator"] == services.actor.name
    after = entry["after"]
    assert after["file"] == path.name
    assert after["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (after["rows"], after["inserted"], after["updated"], after["unchanged"]) == (
        result.rows,
        result.inserted,
        result.updated,
        result.unchanged,
    )
    assert (after["flagged"], after["removed"]) == (result.flagged, result.removed)
    # Every row the import wrote is what its entry says: the state replays from the ledger.
    report = services.ledger.verify_state()
    assert report.ok, [d.message() for d in report.differences]
    return result


def counts(result: ImportResult) -> tuple[int, int, int, int, int]:
    return result.rows, result.inserted, result.updated, result.unchanged, result.flagged


def people(db: Database) -> dict[str, tuple[str, str, str, str | None, dt.date | None]]:
    """employee id -> (name, email, status, team, date left)."""
    with db.read() as session:
        rows = session.execute(
            select(
                Person.employee_id,
                Person.name,
                Person.email,
                Person.status,
                Team.name,
                Person.date_left,
            )
            .outerjoin(Team, Team.id == Person.team_id)
            .order_by(Person.employee_id)
        ).all()
    return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}


def devices(db: Database) -> dict[str, tuple[str, str, int, int, str | None]]:
    """hostname -> (serial, os, processors, cores, owner's employee id)."""
    with db.read() as session:
        rows = session.execute(
            select(
                Device.hostname,
                Device.serial,
                Device.os,
                Device.processors,
                Device.cores,
                Person.employee_id,
            ).outerjoin(Person, Person.id == Device.owner_id)
        ).all()
    return {r[0]: (r[1], r[2], r[3], r[4], r[5]) for r in rows}


def installs(db: Database) -> dict[tuple[str, str], tuple[str, bool]]:
    """(hostname, title) -> (version, removed)."""
    with db.read() as session:
        rows = session.execute(
            select(
                Device.hostname,
                SoftwareTitle.title,
                SoftwareTitle.version,
                Installation.removed_on,
            )
            .join(Installation, Installation.device_id == Device.id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
            .order_by(Installation.id)  # a reinstall's newest row last: it stands
        ).all()
    return {(r[0], r[1]): (r[2], r[3] is not None) for r in rows}


def title_products(db: Database) -> dict[str, str | None]:
    with db.read() as session:
        rows = session.execute(
            select(SoftwareTitle.title, Product.name).outerjoin(
                Product, Product.id == SoftwareTitle.product_id
            )
        ).all()
    return {r[0]: r[1] for r in rows}


def sessions(db: Database) -> list[tuple[str, str, dt.datetime, dt.datetime | None, str | None]]:
    """(feature, user, checkout, checkin, person's employee id), by checkout."""
    with db.read() as session:
        rows = session.execute(
            select(
                UsageSession.feature,
                UsageSession.user_name,
                UsageSession.checkout,
                UsageSession.checkin,
                Person.employee_id,
            )
            .outerjoin(Person, Person.id == UsageSession.person_id)
            .order_by(UsageSession.checkout, UsageSession.user_name)
        ).all()
    return [(r[0], r[1], _utc(r[2]), _utc(r[3]) if r[3] else None, r[4]) for r in rows]


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


HR = (
    "Employee ID,Full Name,Email Address,Department,Employment Status,Termination Date\r\n"
    "E1,Ann Lee,ann@example.com,Finance,Active,\r\n"
    "E2,Bob Stone,bob@example.com,Sales,Active,\r\n"
    "E3,Cy Núñez,cy@example.com,Sales,Terminated,2026-01-31\r\n"
)


# ------------------------------------------------------------------------------- bad input

_BAD: list[tuple[str, bytes, str]] = [
    (
        "cut-in-quote.csv",
        b'Employee ID,Full Name\nE1,Ann\nE2,"Bob\n',
        "line 3: a quoted field is never closed",
    ),
    ("cut-in-char.csv", "Employee ID,Full Name\nE1,Ann\nE2,Zoë".encode()[:-1], "line 3"),
    (
        "unclosed.csv",
        b'Employee ID,Full Name\nE1,"Ann\nE2,Bob\nE3,Cy\n',
        "line 2: a quoted field is never closed",
    ),
    ("no-id.csv", b"Full Name,Email\nAnn,ann@example.com\n", "Employee ID"),
    ("extra.csv", b"Employee ID,Full Name\nE1,Ann\nE2,Bob,surprise\n", "line 3: the row has 3"),
    ("few.csv", b"Employee ID,Full Name,Email\nE1,Ann,a@x.com\nE2\n", "line 3: the row has 1"),
    (
        "dup.csv",
        b"Employee ID,Full Name\nE1,Ann\nE2,Bob\nE1,Anne\n",
        "line 4, Employee ID: appears again with other values (first on line 2)",
    ),
    ("empty.csv", b"", "empty"),
    ("blank.csv", b"\r\n\r\n", "no header row"),
    ("header-only.csv", b"Employee ID,Full Name\r\n", "line 1"),
    ("random.csv", random.Random(3).randbytes(4000), "binary"),
    (
        "picture.png",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4,
        "binary",
    ),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000), "97-2003"),
    ("archive.zip", b"PK\x03\x04\x14\x00" + random.Random(4).randbytes(300), "workbook"),
    (
        "huge.csv",
        b"Employee ID,Full Name\nE1,Ann\nE2," + b"x" * 140_000 + b"\nE3,Cy\n",
        "line 3: a field is longer than 131,072 characters",
    ),
    ("nul.csv", b"Employee ID,Full Name\nE1,Ann\nE2,B\x00b\n", "line 3"),
    ("undefined.csv", b"Employee ID,Full Name\nE1,M\xfcller\nE2,\x90\n", "line 3"),
    ("long-cell.csv", ("Employee ID,Full Name\nE1," + "A" * 300 + "\n").encode(), "line 2"),
    (
        "bad-status.csv",
        b"Employee ID,Full Name,Employment Status\nE1,Ann,Active\nE2,Bob,Gone\n",
        "line 3, Employment Status: not a status",
    ),
]


def test_bad_files_are_refused_naming_the_line_and_change_nothing(
    admin: Services, tmp_path: Path
) -> None:
    """Each file is refused with the line (or the file) named; no row and no ledger entry."""
    admin.directory.add_person(PersonInput("E0", "Zed Zero", "zed@example.com"))
    before = state(admin.db)
    options = ImportOptions(Kind.PEOPLE, full_export=True)
    for name, data, where in _BAD:
        path = write(tmp_path, name, data)
        try:
            preview = admin.imports.preview(path, options)
        except ImportFileError as exc:
            message = str(exc)
        else:
            assert not preview.ok, name
            message = "\n".join(str(p) for p in preview.problems)
        assert where in message, (name, message)
        with pytest.raises(KnownError) as caught:
            admin.imports.commit(path, options)
        assert isinstance(caught.value, ImportFileError | ImportRejected), name
        assert name in str(caught.value)
        assert where in str(caught.value), (name, str(caught.value))
        if isinstance(caught.value, ImportRejected):
            assert "nothing was imported" in str(caught.value)
        assert state(admin.db) == before, name
    assert people(admin.db)["E0"][2] == "active"


@sqlite_only
def test_rejection_lists_problems_first_first_and_counts_the_rest(
    admin: Services, tmp_path: Path
) -> None:
    body = "".join(f"E{n},Person {n},not-an-email\n" for n in range(2, 40))
    path = write(tmp_path, "bad.csv", "Employee ID,Full Name,Email\n" + body)
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert preview.problem_count == 38
    assert preview.records == 0
    with pytest.raises(ImportRejected) as caught:
        admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert caught.value.total == 38
    message = str(caught.value)
    assert message.startswith("bad.csv: 38 problems; nothing was imported.")
    assert (
        "line 2, Email (Email address): is not an email address (value 'not-an-email')" in message
    )
    assert "...and 28 more" in message


# ---------------------------------------------------------------------------------- people


def test_people_import_inserts_and_the_same_file_changes_nothing(
    admin: Services, tmp_path: Path
) -> None:
    path = write(tmp_path, "hr.csv", HR, "utf-8-sig")
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert preview.ok
    assert (preview.format_name, preview.facts.encoding_label, preview.delimiter) == (
        "HR export",
        "UTF-8 with BOM",
        "comma",
    )
    assert (preview.rows, preview.records) == (3, 3)
    assert preview.sample[0] == (
        2,
        ["E1", "Ann Lee", "ann@example.com", "Finance", "False", "", "", "", "", "", ""],
    )
    assert preview.already_imported is None

    result = commit(admin, path, Kind.PEOPLE)
    assert counts(result) == (3, 3, 0, 0, 1)
    assert people(admin.db) == {
        "E1": ("Ann Lee", "ann@example.com", "active", "Finance", None),
        "E2": ("Bob Stone", "bob@example.com", "active", "Sales", None),
        "E3": ("Cy Núñez", "cy@example.com", "left", "Sales", dt.date(2026, 1, 31)),
    }
    with admin.db.read() as session:
        batch = session.scalars(select(ImportBatch)).one()
        assert (batch.file_name, batch.rows, batch.inserted, batch.operator) == (
            "hr.csv",
            3,
            3,
            "admin",
        )

    snapshot = state(admin.db)
    again = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert again.already_imported
    assert "imported before" in again.summary()
    assert state(admin.db) == snapshot
    assert admin.imports.preview(path, ImportOptions(Kind.PEOPLE)).already_imported is not None

    # The same bytes under another name are the same file.
    copy = write(tmp_path, "copy.csv", path.read_bytes())
    assert admin.imports.commit(copy, ImportOptions(Kind.PEOPLE)).already_imported


def test_every_new_team_is_named_or_counted(admin: Services, tmp_path: Path) -> None:
    """Seven people in six new teams (two in Zeta): five named, 'and 1 more'.  Before: '6 new
    teams: Alpha, Beta, Gamma, Delta, Epsilon', a sixth team counted and never named."""
    teams = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Zeta")
    text = "Employee ID,Full Name,Email Address,Department,Employment Status\n" + "".join(
        f"T{n},Person {n},t{n}@example.com,{team},Active\n" for n, team in enumerate(teams)
    )
    result = commit(admin, write(tmp_path, "teams.csv", text), Kind.PEOPLE)
    assert "6 new teams: Alpha, Beta, Gamma, Delta, Epsilon and 1 more" in result.notes


def test_changed_people_file_updates(admin: Services, tmp_path: Path) -> None:
    commit(admin, write(tmp_path, "hr1.csv", HR), Kind.PEOPLE)
    changed = (
        "Employee ID,Full Name,Email Address,Department,Employment Status,Termination Date\n"
        "E1,Ann Lee,ann@example.com,Finance,Active,\n"  # unchanged
        "E2,Bob Stone,bob.stone@example.com,Marketing,Terminated,2026-02-28\n"  # left
        "E3,Cy Núñez,cy@example.com,Sales,Terminated,2026-01-31\n"  # unchanged
        "E4,Di Park,di@example.com,Marketing,Active,\n"  # new
    )
    result = commit(admin, write(tmp_path, "hr2.csv", changed), Kind.PEOPLE)
    assert counts(result) == (4, 1, 1, 2, 1)
    assert "1 new team: Marketing" in result.notes
    assert people(admin.db)["E2"] == (
        "Bob Stone",
        "bob.stone@example.com",
        "left",
        "Marketing",
        dt.date(2026, 2, 28),
    )
    assert people(admin.db)["E4"][2] == "active"


def memberships(db: Database) -> list[tuple[str, str, str | None, str | None]]:
    """(employee id, team, first day, end day) of every membership, by person and first day."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.employee_id, t.name, m.valid_from, m.valid_to FROM person_team m "
                "JOIN person p ON p.id = m.person_id JOIN team t ON t.id = m.team_id"
            )
        ).all()
    found = [
        (e, t, None if f is None else str(f), None if u is None else str(u)) for e, t, f, u in rows
    ]
    return sorted(found, key=lambda r: (r[0], r[2] or ""))


def test_a_team_change_holds_from_the_files_effective_date(admin: Services, tmp_path: Path) -> None:
    admin.ctx.clock = lambda: dt.datetime(2026, 2, 10, 9, tzinfo=dt.UTC)
    commit(admin, write(tmp_path, "hr1.csv", HR), Kind.PEOPLE)
    assert memberships(admin.db) == [
        ("E1", "Finance", None, None),
        ("E2", "Sales", None, None),
        ("E3", "Sales", None, None),
    ]
    moved = (
        "Employee ID,Full Name,Email Address,Department,Effective Date\n"
        "E1,Ann Lee,ann@example.com,Sales,2026-01-15\n"  # moved before this export
        "E2,Bob Stone,bob@example.com,Sales,2026-01-20\n"  # the same team: no move
    )
    result = commit(admin, write(tmp_path, "hr2.csv", moved), Kind.PEOPLE)
    assert counts(result) == (2, 0, 1, 1, 0)
    after = memberships(admin.db)
    assert after[:2] == [("E1", "Finance", None, "2026-01-15"), ("E1", "Sales", "2026-01-15", None)]
    assert after[2:] == [("E2", "Sales", None, None), ("E3", "Sales", None, None)]

    # A file without an effective date: the move holds from the day of the import.
    undated = "Employee ID,Full Name,Department\nE2,Bob Stone,Marketing\n"
    commit(admin, write(tmp_path, "hr3.csv", undated), Kind.PEOPLE)
    assert [m for m in memberships(admin.db) if m[0] == "E2"] == [
        ("E2", "Sales", None, "2026-02-10"),
        ("E2", "Marketing", "2026-02-10", None),
    ]


def test_full_export_flags_active_people_missing_from_it(admin: Services, tmp_path: Path) -> None:
    commit(admin, write(tmp_path, "hr1.csv", HR), Kind.PEOPLE)
    admin.directory.add_person(PersonInput("X1", "Added By Hand", "x1@example.com"))
    partial = "Employee ID,Full Name\nE1,Ann Lee\n"
    # A partial list (the default) flags no one.
    result = commit(admin, write(tmp_path, "partial.csv", partial), Kind.PEOPLE)
    assert result.flagged == 0
    assert {k: v[2] for k, v in people(admin.db).items()} == {
        "E1": "active",
        "E2": "active",
        "E3": "left",
        "X1": "active",
    }
    partial2 = "Employee ID,Full Name\nE1,Ann Lee\nE5,Eve Diaz\n"
    result = commit(admin, write(tmp_path, "full.csv", partial2), Kind.PEOPLE, full_export=True)
    assert result.flagged == 2
    assert any("not in this full HR export" in note for note in result.notes)
    assert {k: v[2] for k, v in people(admin.db).items()} == {
        "E1": "active",
        "E2": "missing",
        "E3": "left",
        "X1": "missing",
        "E5": "active",
    }
    # Back in a later file: active again.
    result = commit(
        admin, write(tmp_path, "back.csv", "Employee ID,Full Name\nE2,Bob Stone\n"), Kind.PEOPLE
    )
    assert people(admin.db)["E2"][2] == "active"
    assert result.updated == 1


@sqlite_only
def test_a_planned_leaving_date_is_kept_on_reimport(admin: Services, tmp_path: Path) -> None:
    planned = (
        "Employee ID,Full Name,Employment Status,Termination Date\n"
        "E1,Ann Lee,Active,2099-06-30\nE2,Bob Stone,Active,\n"
    )
    commit(admin, write(tmp_path, "hr1.csv", planned), Kind.PEOPLE)
    assert people(admin.db)["E1"][2:] == ("active", None, dt.date(2099, 6, 30))
    result = commit(admin, write(tmp_path, "hr2.csv", planned.replace("\n", "\r\n")), Kind.PEOPLE)
    assert (result.updated, result.unchanged) == (0, 2)
    assert people(admin.db)["E1"][2:] == ("active", None, dt.date(2099, 6, 30))


def test_people_from_active_directory_and_windows_1252(admin: Services, tmp_path: Path) -> None:
    ad = (
        "#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n"
        '"DistinguishedName","Enabled","GivenName","Name","SamAccountName","Surname",'
        '"UserPrincipalName"\r\n'
        '"CN=René","True","René","René Côté","rcote","Côté","rcote@corp.example"\r\n'
        '"CN=Old","False","Ola","Ola Old","oold","Old","oold@corp.example"\r\n'
    )
    path = write(tmp_path, "ad.csv", ad, "cp1252")
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert preview.format_name == "Active Directory (Get-ADUser | Export-Csv)"
    assert preview.facts.encoding_label == "Windows-1252"
    result = commit(admin, path, Kind.PEOPLE)
    assert counts(result) == (2, 2, 0, 0, 0)
    # A disabled account is not a leaver: HR says who left, and the import says so.
    assert people(admin.db) == {
        "rcote": ("René Côté", "rcote@corp.example", "active", None, None),
        "oold": ("Ola Old", "oold@corp.example", "active", None, None),
    }
    assert any("1 account is disabled in the directory" in note for note in result.notes)


@sqlite_only
def test_people_from_excel_unicode_text(admin: Services, tmp_path: Path) -> None:
    text = "Employee ID\tFull Name\tEmail Address\r\nE1\t李雷\tli@example.com\r\n"
    path = write(tmp_path, "hr.txt", "\ufeff" + text, "utf-16-le")
    assert counts(commit(admin, path, Kind.PEOPLE)) == (1, 1, 0, 0, 0)
    assert people(admin.db)["E1"][0] == "李雷"


def test_saved_mapping_makes_an_unknown_layout_importable(admin: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "sap.csv", "Personalnr;Wer;Abteilung\n100;Anna Berg;Einkauf\n")
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert not preview.ok
    assert preview.detection is not None
    assert [f.label for f in preview.detection.missing] == ["Employee ID", "Full name"]
    assert {str(p) for p in preview.problems} == {
        "file, Employee ID: no column feeds this field; map one or use a saved mapping",
        "file, Full name: no column feeds this field; map one or use a saved mapping",
    }
    before = state(admin.db)
    with pytest.raises(ImportRejected, match="Employee ID, Full name"):
        admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert state(admin.db) == before

    columns = {"employee_id": "Personalnr", "name": "Wer", "team": "Abteilung"}
    admin.imports.save_mapping("SAP HR", Kind.PEOPLE, columns)
    assert last_entry(admin.db)["action"] == "import.mapping"
    assert admin.imports.mappings(Kind.PEOPLE) == ["SAP HR"]
    assert admin.imports.mappings(Kind.DEVICES) == []
    kind, saved = admin.imports.mapping("SAP HR")
    assert (kind, saved) == (Kind.PEOPLE, columns)
    options = ImportOptions(Kind.PEOPLE, mapping=saved, mapping_name="SAP HR")
    preview = admin.imports.preview(path, options)
    assert preview.ok
    assert preview.format_name == "saved mapping 'SAP HR'"
    commit(admin, path, Kind.PEOPLE, mapping=saved, mapping_name="SAP HR")
    assert people(admin.db) == {"100": ("Anna Berg", "", "active", "Einkauf", None)}


@sqlite_only
def test_saved_mapping_rules(admin: Services) -> None:
    with pytest.raises(ValidationError, match="name"):
        admin.imports.save_mapping("  ", Kind.PEOPLE, {"employee_id": "x"})
    with pytest.raises(ValidationError, match="serial are not fields"):
        admin.imports.save_mapping("m", Kind.PEOPLE, {"serial": "x"})
    admin.imports.save_mapping("m", Kind.PEOPLE, {"employee_id": "a"})
    admin.imports.save_mapping("m", Kind.DEVICES, {"hostname": "b"})  # replaces
    assert admin.imports.mapping("m") == (Kind.DEVICES, {"hostname": "b"})
    assert admin.imports.mappings() == ["m"]


# ----------------------------------------------------------------------------------- dates


def _hr_with_dates(*dates: str) -> str:
    rows = "".join(f"E{n},Person {n},Terminated,{date}\n" for n, date in enumerate(dates, start=1))
    return "Employee ID,Full Name,Employment Status,Termination Date\n" + rows


@sqlite_only
def test_iso_compact_and_dotted_dates(admin: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", _hr_with_dates("2026-03-04", "20260305", "06.03.2026"))
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert preview.ok
    assert preview.date_note == ""
    commit(admin, path, Kind.PEOPLE)
    assert [v[4] for v in people(admin.db).values()] == [
        dt.date(2026, 3, 4),
        dt.date(2026, 3, 5),
        dt.date(2026, 3, 6),
    ]


@sqlite_only
def test_ambiguous_slash_dates_are_a_problem_until_an_order_is_chosen(
    admin: Services, tmp_path: Path
) -> None:
    path = write(tmp_path, "d.csv", _hr_with_dates("03/04/2026", "04/04/2026", "05/06/2026"))
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert not preview.ok
    assert preview.date_order is None
    assert [str(p) for p in preview.problems] == [
        f"line {n}, Termination Date: day and month cannot be told apart, and no date in the "
        f"file settles it; choose the date order (value '{value}')"
        for n, value in ((2, "03/04/2026"), (4, "05/06/2026"))
    ]
    before = state(admin.db)
    with pytest.raises(ImportRejected, match=r"line 2, Termination Date: .*'03/04/2026'"):
        admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert state(admin.db) == before

    options = ImportOptions(Kind.PEOPLE, date_order=DateOrder.DAY_FIRST)
    preview = admin.imports.preview(path, options)
    assert preview.ok
    assert preview.date_note == "Dates read day first (31/12/2026), as chosen."
    commit(admin, path, Kind.PEOPLE, date_order=DateOrder.DAY_FIRST)
    assert [v[4] for v in people(admin.db).values()] == [
        dt.date(2026, 4, 3),
        dt.date(2026, 4, 4),
        dt.date(2026, 6, 5),
    ]


def test_a_later_unambiguous_date_settles_the_earlier_ones(admin: Services, tmp_path: Path) -> None:
    """03/04/2026 on line 2 is read day first because 25/03/2026 on line 3 can only be."""
    path = write(tmp_path, "d.csv", _hr_with_dates("03/04/2026", "25/03/2026", "01/02/2026"))
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert preview.ok, preview.problems
    assert preview.date_order is DateOrder.DAY_FIRST
    assert preview.date_note == "Dates read day first (31/12/2026), as line 3: 25/03/2026 shows."
    assert (
        preview.sample[0][1][-6] == "2026-04-03"
    )  # date left, joined, team since, manager, cost centre, account disabled
    commit(admin, path, Kind.PEOPLE)
    assert [v[4] for v in people(admin.db).values()] == [
        dt.date(2026, 4, 3),
        dt.date(2026, 3, 25),
        dt.date(2026, 2, 1),
    ]


@sqlite_only
def test_conflicting_date_evidence_is_a_problem(admin: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", _hr_with_dates("25/03/2026", "03/04/2026", "12/31/2026"))
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert [str(p) for p in preview.problems] == [
        "line 4, Termination Date: reads month first (12/31/2026), but line 2: 25/03/2026 reads "
        "day first (31/12/2026) (value '12/31/2026')"
    ]
    before = state(admin.db)
    with pytest.raises(ImportRejected, match="line 4"):
        admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert state(admin.db) == before
    # Choosing an order does not make a date that contradicts it readable.
    options = ImportOptions(Kind.PEOPLE, date_order=DateOrder.MONTH_FIRST)
    assert [p.line for p in admin.imports.preview(path, options).problems] == [2]


@sqlite_only
def test_slash_dates_in_usage_timestamps_are_settled_too(admin: Services, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "u.csv",
        "User,Product,Checkout,Checkin\n"
        "ann,MATLAB,03/04/2026 09:00,03/04/2026 10:00\n"
        "bob,MATLAB,03/13/2026 9:30 AM,03/13/2026 1:15 PM\n",
    )
    result = commit(admin, path, Kind.USAGE)
    assert (result.rows, result.inserted) == (2, 2)
    assert [(s[1], s[2], s[3]) for s in sessions(admin.db)] == [
        (
            "ann",
            dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC),
        ),
        (
            "bob",
            dt.datetime(2026, 3, 13, 9, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 13, 13, 15, tzinfo=dt.UTC),
        ),
    ]


# --------------------------------------------------------------------------------- devices


def _people_for_owners(admin: Services) -> None:
    admin.directory.add_person(PersonInput("E1", "Ann Lee", "ann@example.com"))
    admin.directory.add_person(PersonInput("E2", "Bob Stone", "bob@example.com"))


INTUNE = (
    '"Device name","Serial number","OS","Primary user UPN","Last check-in"\r\n'
    '"LT-1","SN-1","Windows","ann@example.com","2026-03-01 08:00:00.0000000"\r\n'
    '"LT-2","SN-2","Windows","bob@corp.onmicrosoft.com","2026-03-02 09:00:00"\r\n'
    '"LT-3","","macOS","","2026-03-02 09:00:00"\r\n'
)


def test_devices_insert_and_resolve_owners(admin: Services, tmp_path: Path) -> None:
    _people_for_owners(admin)
    path = write(tmp_path, "intune.csv", INTUNE)
    preview = admin.imports.preview(path, ImportOptions(Kind.DEVICES))
    assert preview.format_name == "Microsoft Intune devices"
    assert preview.ok, preview.problems
    result = commit(admin, path, Kind.DEVICES)
    assert counts(result) == (3, 3, 0, 0, 0)
    assert devices(admin.db) == {
        # Intune's export gives no processors or cores: unknown, never an invented 1 × 4.
        "LT-1": ("SN-1", "Windows", None, None, "E1"),
        "LT-2": ("SN-2", "Windows", None, None, "E2"),  # UPN on another domain: same mailbox
        "LT-3": ("", "macOS", None, None, None),
    }
    with admin.db.read() as session:
        seen = session.scalar(select(Device.last_seen).where(Device.hostname == "LT-1"))
    assert seen == dt.date(2026, 3, 1)
    assert admin.imports.commit(path, ImportOptions(Kind.DEVICES)).already_imported


def test_devices_upsert_by_hostname_and_by_serial(admin: Services, tmp_path: Path) -> None:
    _people_for_owners(admin)
    admin.directory.add_device(DeviceInput("DB-1", "SRV-SN", None, 2, 16, "Windows Server"))
    commit(admin, write(tmp_path, "d1.csv", INTUNE), Kind.DEVICES)
    renamed = (
        "Host name,Serial number,Cores,Owner,OS\n"
        "lt-1,SN-1,8,CORP\\bob,Windows\n"  # same host, other case: new owner and cores
        "LT-20,SN-2,,,Windows\n"  # LT-2 renamed: found by its serial
        "LT-3,,,,macOS\n"  # unchanged
        "DB-1,,,,\n"  # listed without details: keeps what it had
        "NEW-9,SN-9,2,nobody@example.com,Linux\n"
    )
    result = commit(admin, write(tmp_path, "d2.csv", renamed), Kind.DEVICES)
    assert counts(result) == (5, 1, 2, 2, 0)
    assert any("nobody@example.com" in note for note in result.notes)
    assert devices(admin.db) == {
        "lt-1": ("SN-1", "Windows", None, 8, "E2"),  # cores given, processors never were
        "LT-20": ("SN-2", "Windows", None, None, "E2"),
        "LT-3": ("", "macOS", None, None, None),
        "DB-1": ("SRV-SN", "Windows Server", 2, 16, None),
        "NEW-9": ("SN-9", "Linux", None, 2, None),
    }


@sqlite_only
def test_placeholder_and_shared_serials_do_not_merge_machines(
    admin: Services, tmp_path: Path
) -> None:
    """BIOS placeholders ("To Be Filled By O.E.M.") are on many machines: no rename by them."""
    first = (
        "Host name,Serial number\n"
        "WS-1,To Be Filled By O.E.M.\n"
        "WS-2,To Be Filled By O.E.M.\n"
        "WS-3,Default string\n"
    )
    commit(admin, write(tmp_path, "d1.csv", first), Kind.DEVICES)
    second = "Host name,Serial number\nWS-4,To Be Filled By O.E.M.\nWS-5,Default string\n"
    result = commit(admin, write(tmp_path, "d2.csv", second), Kind.DEVICES)
    assert (result.inserted, result.updated) == (2, 0)
    assert sorted(devices(admin.db)) == ["WS-1", "WS-2", "WS-3", "WS-4", "WS-5"]


def test_renamed_machine_and_a_new_one_taking_its_old_name(admin: Services, tmp_path: Path) -> None:
    commit(admin, write(tmp_path, "d1.csv", "Host name,Serial number\nPC-1,AAA\n"), Kind.DEVICES)
    swap = "Host name,Serial number\nPC-2,AAA\nPC-1,BBB\n"
    result = commit(admin, write(tmp_path, "d2.csv", swap), Kind.DEVICES)
    assert (result.inserted, result.updated) == (1, 1)
    assert {k: v[0] for k, v in devices(admin.db).items()} == {"PC-2": "AAA", "PC-1": "BBB"}


# ------------------------------------------------------------------------------- inventory

INVENTORY_1 = (
    "#TYPE Selected.System.Management.Automation.PSCustomObject\r\n"
    '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\r\n'
    '"Adobe Acrobat DC (64-bit)","24.1","Adobe","20260105","WS-1"\r\n'
    '"7-Zip 23.01 (x64)","23.01","Igor Pavlov","20260106","WS-1"\r\n'
    '"Adobe Acrobat DC (64-bit)","24.1","Adobe",,"WS-2"\r\n'
    '"Adobe Acrobat DC (64-bit)","24.1","Adobe",,"WS-2"\r\n'  # 32- and 64-bit keys repeat
    '"Notepad++","8.6","Notepad++ Team",,"WS-3"\r\n'
)


def test_inventory_creates_devices_titles_and_installs(admin: Services, tmp_path: Path) -> None:
    admin.directory.add_device(DeviceInput("ws-1", "SN1"))
    path = write(tmp_path, "inv1.csv", INVENTORY_1)
    preview = admin.imports.preview(path, ImportOptions(Kind.INVENTORY))
    assert preview.format_name == "PowerShell registry Uninstall keys"
    result = commit(admin, path, Kind.INVENTORY)
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (5, 4, 0, 0)
    assert any("2 devices were new" in note for note in result.notes)
    assert any("3 titles match no normalization rule" in note for note in result.notes)
    assert sorted(devices(admin.db)) == ["WS-2", "WS-3", "ws-1"]
    assert installs(admin.db) == {
        ("ws-1", "Adobe Acrobat DC (64-bit)"): ("24.1", False),
        ("ws-1", "7-Zip 23.01 (x64)"): ("23.01", False),
        ("WS-2", "Adobe Acrobat DC (64-bit)"): ("24.1", False),
        ("WS-3", "Notepad++"): ("8.6", False),
    }
    with admin.db.read() as session:
        assert session.scalar(select(func.count()).select_from(SoftwareTitle)) == 3
        dates = sorted(
            (str(d), t)
            for d, t in session.execute(
                select(Installation.install_date, Installation.title_id).where(
                    Installation.install_date.is_not(None)
                )
            )
        )
    assert [d for d, _ in dates] == ["2026-01-05", "2026-01-06"]


def test_inventory_reimport_marks_removed_and_reinstalled(admin: Services, tmp_path: Path) -> None:
    commit(admin, write(tmp_path, "inv1.csv", INVENTORY_1), Kind.INVENTORY)
    second = (  # the same tool's export again
        '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\r\n'
        '"Adobe Acrobat DC (64-bit)","24.1","Adobe",,"WS-1"\r\n'  # still there
        '"Adobe Acrobat DC (64-bit)","24.2","Adobe",,"WS-1"\r\n'  # a new version: a new title
        '"Adobe Acrobat DC (64-bit)","24.1","Adobe",,"WS-2"\r\n'
    )
    result = commit(admin, write(tmp_path, "inv2.csv", second), Kind.INVENTORY)
    # 7-Zip and the old Acrobat... only 7-Zip is gone from WS-1; WS-3 was not in this file.
    assert (result.inserted, result.updated, result.unchanged, result.removed) == (1, 0, 2, 1)
    assert "1 no longer present" in result.summary()
    assert installs(admin.db)[("WS-1", "7-Zip 23.01 (x64)")] == ("23.01", True)
    assert installs(admin.db)[("WS-3", "Notepad++")] == ("8.6", False)

    back = (
        '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\r\n'
        '"7-Zip 23.01 (x64)","23.01","Igor Pavlov",,"WS-1"\r\n'
    )
    result = commit(admin, write(tmp_path, "inv3.csv", back), Kind.INVENTORY)
    # Reinstalled: a new install, the first one kept as it was (removed on its day, so a position
    # dated before it still sees it); both Acrobat versions on WS-1 are now gone.
    assert (result.inserted, result.updated, result.unchanged, result.removed) == (1, 0, 0, 2)
    assert installs(admin.db)[("WS-1", "7-Zip 23.01 (x64)")] == ("23.01", False)
    with admin.db.read() as session:
        history = session.execute(
            select(Installation.first_seen, Installation.removed_on)
            .join(Device, Device.id == Installation.device_id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
            .where(Device.hostname == "WS-1", SoftwareTitle.title == "7-Zip 23.01 (x64)")
            .order_by(Installation.id)
        ).all()
    assert [removed is None for _, removed in history] == [False, True]

    other = "Host name,Title\nWS-2,Slack\n"  # another tool's export removes nothing of these
    result = commit(admin, write(tmp_path, "inv4.csv", other), Kind.INVENTORY)
    assert (result.inserted, result.removed) == (1, 0)
    assert installs(admin.db)[("WS-2", "Adobe Acrobat DC (64-bit)")] == ("24.1", False)


def test_inventory_repeats_keep_the_last_date_and_mix_new_and_known_devices(
    admin: Services, tmp_path: Path
) -> None:
    """A pair listed twice counts once with the last date given; blank rows are not rows; a
    device with installs and a new one are written in the same file."""
    commit(admin, write(tmp_path, "a.csv", "Host name,Title\nWS-1,Word\n"), Kind.INVENTORY)
    data = (
        "Host name,Title,Install date\n"
        "WS-1,Excel,2026-01-02\n"
        " ws-1 ,Excel,2026-01-05\n"  # the same device and title: the later date wins
        "WS-1,Excel,\n"  # no date: the one given stands
        ",,\n"
        "WS-1,Word,\n"  # known: unchanged
        "WS-9,Visio,2026-02-01\n"  # a new device
    )
    result = commit(admin, write(tmp_path, "b.csv", data), Kind.INVENTORY)
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (5, 2, 0, 1)
    with admin.db.read() as session:
        dates = dict(
            session.execute(
                select(SoftwareTitle.title, Installation.install_date).join(
                    Installation, Installation.title_id == SoftwareTitle.id
                )
            ).all()
        )
    assert dates == {"Word": None, "Excel": dt.date(2026, 1, 5), "Visio": dt.date(2026, 2, 1)}


@sqlite_only
def test_inventory_titles_are_mapped_by_rules(admin: Services, tmp_path: Path) -> None:
    vendor = admin.catalog.add_vendor("Adobe")
    acrobat = admin.catalog.add_product(vendor, "Acrobat Pro")
    admin.rules.add(RuleInput(acrobat, "Adobe Acrobat*", "Adobe", kind=MatchKind.WILDCARD))
    result = commit(admin, write(tmp_path, "inv1.csv", INVENTORY_1), Kind.INVENTORY)
    assert any("2 titles match no normalization rule" in note for note in result.notes)
    assert title_products(admin.db) == {
        "Adobe Acrobat DC (64-bit)": "Acrobat Pro",
        "7-Zip 23.01 (x64)": None,
        "Notepad++": None,
    }


def test_inventory_after_a_rejected_one_and_with_dates_settled_late(
    admin: Services, tmp_path: Path
) -> None:
    """A rejection rolls back what the inventory staged; the next file imports cleanly."""
    ambiguous = "Host name,Title,Install date\nWS-1,Word,03/04/2026\nWS-1,Excel,05/06/2026\n"
    before = state(admin.db)
    with pytest.raises(ImportRejected, match="choose the date order"):
        admin.imports.commit(write(tmp_path, "a.csv", ambiguous), ImportOptions(Kind.INVENTORY))
    assert state(admin.db) == before
    settled = ambiguous + "WS-2,Word,13/04/2026\n"
    result = commit(admin, write(tmp_path, "b.csv", settled), Kind.INVENTORY)
    assert (result.rows, result.inserted) == (3, 3)
    with admin.db.read() as session:
        dates = session.scalars(select(Installation.install_date).order_by(Installation.id)).all()
    assert sorted(dates) == [dt.date(2026, 4, 3), dt.date(2026, 4, 13), dt.date(2026, 6, 5)]


@sqlite_only
def test_inventory_row_problems_refuse_the_file(admin: Services, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "inv.csv",
        "Host name,Title,Version,Install date\nWS-1,Word,16,2026-01-01\n,Excel,16,\n"
        "WS-2,,16,\nWS-3,Visio,16,yesterday\n",
    )
    with pytest.raises(ImportRejected) as caught:
        admin.imports.commit(path, ImportOptions(Kind.INVENTORY))
    assert [str(p) for p in caught.value.problems] == [
        "line 3, Host name: is empty; every row needs one",
        "line 4, Title: is empty; every row needs one",
        "line 5, Install date: not a date this importer reads (use YYYY-MM-DD) (value 'yesterday')",
    ]
    assert state(admin.db)["installation"] == 0


# ---------------------------------------------------------------------------- entitlements

PURCHASES = (
    "Vendor,Product,License Metric,Quantity,Start Date,End Date,Unit Price,Currency,PO Number,"
    "Reseller\n"
    'Contoso,PDF Studio,Named user,3,2026-01-01,2026-12-31,"1,200.50",USD,PO-1,SoftwareOne\n'
    "Contoso,Database Server,Per core,16,2026-01-01,,,EUR,PO-2,\n"
)


def _entitlements(db: Database) -> dict[str, tuple[str, str, str, int, Decimal | None, str]]:
    with db.read() as session:
        rows = session.execute(
            select(
                Entitlement.po_reference,
                Vendor.name,
                Product.name,
                Entitlement.metric,
                Entitlement.quantity,
                Entitlement.unit_cost,
                Entitlement.currency,
            )
            .join(Product, Product.id == Entitlement.product_id)
            .join(Vendor, Vendor.id == Product.vendor_id)
        ).all()
    return {r[0]: (r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows}


def test_entitlements_create_vendor_product_and_purchase(admin: Services, tmp_path: Path) -> None:
    admin.catalog.add_vendor("contoso")  # an existing vendor, matched without regard to case
    result = commit(admin, write(tmp_path, "e.csv", PURCHASES), Kind.ENTITLEMENTS)
    assert counts(result) == (2, 2, 0, 0, 0)
    assert _entitlements(admin.db) == {
        "PO-1": ("contoso", "PDF Studio", "named_user", 3, Decimal("1200.5"), "USD"),
        "PO-2": ("contoso", "Database Server", "per_core", 16, None, "EUR"),
    }
    changed = PURCHASES.replace(",3,2026", ",5,2026")
    result = commit(admin, write(tmp_path, "e2.csv", changed), Kind.ENTITLEMENTS)
    assert counts(result) == (2, 0, 1, 1, 0)
    assert _entitlements(admin.db)["PO-1"][3] == 5


@sqlite_only
def test_entitlement_fields_a_file_leaves_out_keep_their_values(
    admin: Services, tmp_path: Path
) -> None:
    """A purchases file without cost or currency columns does not turn USD into EUR."""
    commit(admin, write(tmp_path, "e.csv", PURCHASES), Kind.ENTITLEMENTS)
    short = "Vendor,Product,Metric,Quantity,PO Number\nContoso,PDF Studio,Named user,4,PO-1\n"
    result = commit(admin, write(tmp_path, "e2.csv", short), Kind.ENTITLEMENTS)
    assert (result.updated, result.unchanged) == (1, 0)
    assert _entitlements(admin.db)["PO-1"] == (
        "Contoso",
        "PDF Studio",
        "named_user",
        4,
        Decimal("1200.5"),
        "USD",
    )
    with admin.db.read() as session:
        po1 = session.scalars(select(Entitlement).where(Entitlement.po_reference == "PO-1")).one()
        assert (po1.term_start, po1.term_end, po1.reseller) == (
            dt.date(2026, 1, 1),
            dt.date(2026, 12, 31),
            "SoftwareOne",
        )
    new = "Vendor,Product,Metric,Quantity,PO Number\nContoso,Viewer,Site,1,PO-3\n"
    commit(admin, write(tmp_path, "e3.csv", new), Kind.ENTITLEMENTS)
    assert _entitlements(admin.db)["PO-3"][4:] == (None, "EUR")


def test_entitlements_refuse_lowering_quantity_below_seats_in_use(
    admin: Services, tmp_path: Path
) -> None:
    commit(admin, write(tmp_path, "e.csv", PURCHASES), Kind.ENTITLEMENTS)
    with admin.db.read() as session:
        po1 = session.scalar(select(Entitlement.id).where(Entitlement.po_reference == "PO-1"))
    assert po1 is not None
    holders = [
        admin.directory.add_person(PersonInput(f"E{n}", f"Person {n}", f"p{n}@example.com"))
        for n in range(3)
    ]
    admin.seats.assign(po1, people=holders)
    before = state(admin.db)
    lowered = PURCHASES.replace(",3,2026", ",2,2026")
    with pytest.raises(ImportRejected) as caught:
        admin.imports.commit(write(tmp_path, "e2.csv", lowered), ImportOptions(Kind.ENTITLEMENTS))
    assert [str(p) for p in caught.value.problems] == [
        "line 2, Quantity: is below the 3 seats in use on this purchase; release seats first "
        "(value '2')"
    ]
    assert state(admin.db) == before
    assert _entitlements(admin.db)["PO-1"][3] == 3


@sqlite_only
def test_entitlement_core_factor_that_does_not_fit_is_a_problem(
    admin: Services, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "Vendor,Product,Metric,Quantity,PO,Core factor\nContoso,DB,Per core,16,PO-1,1000\n",
    )
    with pytest.raises(ImportRejected, match=r"line 2, Core factor: must be from 0\.01 to 100"):
        admin.imports.commit(path, ImportOptions(Kind.ENTITLEMENTS))


def test_an_import_does_not_change_the_factor_under_assigned_core_seats(
    admin: Services, tmp_path: Path
) -> None:
    header = "Vendor,Product,Metric,Quantity,PO,Core factor\n"
    commit(admin, write(tmp_path, "e.csv", header + "Contoso,DB,Per core,32,PO-1,0.5\n"),
           Kind.ENTITLEMENTS)  # fmt: skip
    with admin.db.read() as session:
        po1 = session.scalar(select(Entitlement.id).where(Entitlement.po_reference == "PO-1"))
    assert po1 is not None
    server = admin.directory.add_device(DeviceInput("db-01", processors=1, cores=16))
    admin.seats.assign(po1, devices=[server])  # 16 × 0.5 = 8 units
    before = state(admin.db)
    doubled = write(tmp_path, "e2.csv", header + "Contoso,DB,Per core,32,PO-1,1\n")
    with pytest.raises(ImportRejected) as caught:
        admin.imports.commit(doubled, ImportOptions(Kind.ENTITLEMENTS))
    assert [str(p) for p in caught.value.problems] == [
        "line 2, Core factor: changes what the 8 units in use on this purchase count; release "
        "the seats first (value '1')"
    ]
    assert state(admin.db) == before


def test_snipeit_licenses(admin: Services, tmp_path: Path) -> None:
    export = (
        "id,Company,Name,Product Key,Purchase Date,Purchase Cost,Order Number,Seats,Supplier,"
        "Expiration Date,Manufacturer\n"
        "9,Northwind,Zoom Workplace,,2026-01-15,4398.00,ZM-41,20,Zoom,2027-01-14,Zoom\n"
        '8,Northwind,Tableau Creator,,2026-05-01,"2,700.00",,3,,,Salesforce\n'
    )
    path = write(tmp_path, "snipeit.csv", export)
    preview = admin.imports.preview(path, ImportOptions(Kind.SNIPEIT))
    assert preview.format_name == "Snipe-IT licenses"
    result = commit(admin, path, Kind.SNIPEIT)
    assert counts(result) == (2, 2, 0, 0, 0)
    assert _entitlements(admin.db) == {
        "ZM-41": ("Zoom", "Zoom Workplace", "named_user", 20, Decimal("219.9"), "EUR"),
        "Snipe-IT: Tableau Creator": (
            "Salesforce",
            "Tableau Creator",
            "named_user",
            3,
            Decimal("900"),
            "EUR",
        ),
    }


@sqlite_only
def test_licenses_need_the_license_permission(
    as_role: Callable[[Role], Services], tmp_path: Path
) -> None:
    path = write(tmp_path, "e.csv", PURCHASES)
    viewer = as_role(Role.VIEWER)
    before = state(viewer.db)
    viewer.imports.preview(path, ImportOptions(Kind.ENTITLEMENTS))  # reading is allowed
    with pytest.raises(PermissionDenied):
        viewer.imports.commit(path, ImportOptions(Kind.ENTITLEMENTS))
    with pytest.raises(PermissionDenied):
        viewer.imports.commit(write(tmp_path, "hr.csv", HR), ImportOptions(Kind.PEOPLE))
    with pytest.raises(PermissionDenied):
        viewer.imports.save_mapping("m", Kind.PEOPLE, {"employee_id": "x"})
    assert state(viewer.db) == before


# ----------------------------------------------------------------------------------- usage

USAGE = (
    "user,product,host,checkout,checkin\n"
    "ann,AutoCAD,WS-1,2026-03-02T08:00:00Z,2026-03-02T12:00:00Z\n"
    "CORP\\bob,AutoCAD,WS-2,2026-03-02T09:00:00+01:00,\n"
    "ghost,AutoCAD,WS-3,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z\n"
)


def test_usage_csv(admin: Services, tmp_path: Path) -> None:
    _people_for_owners(admin)
    vendor = admin.catalog.add_vendor("Autodesk")
    autocad = admin.catalog.add_product(vendor, "AutoCAD")
    admin.rules.add(RuleInput(autocad, "AutoCAD"))
    result = commit(admin, write(tmp_path, "usage.csv", USAGE), Kind.USAGE)
    assert (result.rows, result.inserted) == (3, 3)
    assert any("1 user name matches no person (e.g. ghost, line 4)" in n for n in result.notes)
    assert sessions(admin.db) == [
        ("AutoCAD", "CORP\\bob", dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC), None, "E2"),
        (
            "AutoCAD",
            "ann",
            dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC),
            "E1",
        ),
        (
            "AutoCAD",
            "ghost",
            dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 2, 11, tzinfo=dt.UTC),
            None,
        ),
    ]
    with admin.db.read() as session:
        mapped = session.scalars(select(UsageSession.product_id).distinct()).all()
    assert mapped == [autocad]
    # A later export repeats a session with its checkin: it is updated, not doubled.
    later = USAGE.replace("+01:00,\n", "+01:00,2026-03-02T15:00:00Z\n") + (
        "ann,AutoCAD,WS-1,2026-03-03T08:00:00Z,\n"
    )
    result = commit(admin, write(tmp_path, "usage2.csv", later), Kind.USAGE)
    assert (result.rows, result.inserted, result.unchanged) == (4, 1, 3)
    assert sessions(admin.db)[0][3] == dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)


LMSTAT = """lmutil - Copyright (c) 1989-2023 Flexera. All Rights Reserved.
Flexible License Manager status on Wed 3/4/2026 10:30

License server status: 27000@lic01

Users of MATLAB:  (Total of 10 licenses issued;  Total of 3 licenses in use)

  "MATLAB" v41, vendor: MLM, expiry: 31-dec-2026
  floating license

    ann ws-1 ws-1 (v41) (lic01/27000 301), start Wed 3/4 9:14
    bob ws-2 /dev/pts/3 (v41) (lic01/27000 402), start Tue 3/3 17:02, 2 licenses

Users of Simulink:  (Total of 5 licenses issued;  Total of 1 license in use)

  "Simulink" v41, vendor: MLM, expiry: 31-dec-2026

    ann ws-1 ws-1 (v41) (lic01/27000 303), start Wed 3/4 9:20

"""


def test_lmstat_snapshots_open_and_close_sessions(admin: Services, tmp_path: Path) -> None:
    _people_for_owners(admin)
    vendor = admin.catalog.add_vendor("MathWorks")
    matlab = admin.catalog.add_product(vendor, "MATLAB")
    admin.rules.add(RuleInput(matlab, "MATLAB"))
    first = write(tmp_path, "lm1.txt", LMSTAT.replace("\n", "\r\n"))
    preview = admin.imports.preview(first, ImportOptions(Kind.USAGE))
    assert (preview.format_name, preview.rows, preview.ok) == ("FlexNet lmstat -a", 3, True)
    result = commit(admin, first, Kind.USAGE)
    assert (result.rows, result.inserted) == (3, 3)
    assert [(s[0], s[1], s[3], s[4]) for s in sessions(admin.db)] == [
        ("MATLAB", "bob", None, "E2"),
        ("MATLAB", "ann", None, "E1"),
        ("Simulink", "ann", None, "E1"),
    ]
    with admin.db.read() as session:
        units = session.scalar(select(UsageSession.units).where(UsageSession.user_name == "bob"))
        products = dict(
            session.execute(select(UsageSession.feature, UsageSession.product_id)).all()
        )
    assert units == 2
    assert products == {"MATLAB": matlab, "Simulink": None}

    # An hour later bob has returned MATLAB; ann still holds both.
    later = (
        LMSTAT.replace("3/4/2026 10:30", "3/4/2026 11:30")
        .replace(
            "    bob ws-2 /dev/pts/3 (v41) (lic01/27000 402), start Tue 3/3 17:02, 2 licenses\n", ""
        )
        .replace("Total of 3 licenses in use", "Total of 1 license in use")
    )
    result = commit(admin, write(tmp_path, "lm2.txt", later), Kind.USAGE)
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (2, 0, 1, 2)
    closed = {s[1] + "/" + s[0]: s[3] for s in sessions(admin.db)}
    assert closed == {
        "bob/MATLAB": dt.datetime(2026, 3, 4, 11, 30, tzinfo=dt.UTC),
        "ann/MATLAB": None,
        "ann/Simulink": None,
    }


def test_an_older_snapshot_imported_late_closes_nothing_it_never_saw(
    admin: Services, tmp_path: Path
) -> None:
    commit(admin, write(tmp_path, "lm-1030.txt", LMSTAT), Kind.USAGE)
    # At 9:00 ann held neither of the sessions she started at 9:14 and 9:20.
    older = (
        LMSTAT.replace("3/4/2026 10:30", "3/4/2026 09:00")
        .replace("    ann ws-1 ws-1 (v41) (lic01/27000 301), start Wed 3/4 9:14\n", "")
        .replace("    ann ws-1 ws-1 (v41) (lic01/27000 303), start Wed 3/4 9:20\n", "")
        .replace("Total of 3 licenses in use", "Total of 2 licenses in use")
        .replace("Total of 1 license in use", "Total of 0 licenses in use")
    )
    result = commit(admin, write(tmp_path, "lm-0900.txt", older), Kind.USAGE)
    assert result.updated == 0
    assert all(s[3] is None or s[3] >= s[2] for s in sessions(admin.db))


@sqlite_only
def test_rules_remap_usage_features_as_imported(admin: Services, tmp_path: Path) -> None:
    """The lmstat vendor daemon is not a publisher: a rule edit maps features as the import did."""
    vendor = admin.catalog.add_vendor("MathWorks")
    matlab = admin.catalog.add_product(vendor, "MATLAB")
    simulink = admin.catalog.add_product(vendor, "Simulink")
    admin.rules.add(RuleInput(matlab, "MATLAB"))
    commit(admin, write(tmp_path, "lm.txt", LMSTAT), Kind.USAGE)
    admin.rules.add(RuleInput(simulink, "Simulink"))
    with admin.db.read() as session:
        products = dict(
            session.execute(select(UsageSession.feature, UsageSession.product_id)).all()
        )
    assert products == {"MATLAB": matlab, "Simulink": simulink}


# -------------------------------------------------------------------------- cancel, workbook


def test_cancel_from_progress_writes_nothing(admin: Services, tmp_path: Path) -> None:
    body = "".join(f"E{n},Person {n}\n" for n in range(45_000))
    path = write(tmp_path, "big.csv", "Employee ID,Full Name\n" + body)
    before = state(admin.db)
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if done >= 40_000:
            raise Cancelled("Import cancelled.")

    with pytest.raises(Cancelled):
        admin.imports.commit(path, ImportOptions(Kind.PEOPLE), progress=progress)
    assert calls
    assert state(admin.db) == before

    def cancel_at_the_end(done: int, total: int) -> None:
        if done == total:
            raise Cancelled("Import cancelled.")

    small = write(tmp_path, "small.csv", HR)
    with pytest.raises(Cancelled):
        admin.imports.commit(small, ImportOptions(Kind.PEOPLE), progress=cancel_at_the_end)
    assert state(admin.db) == before


@pytest.mark.slow
def test_cancelling_an_inventory_while_its_installs_are_written_writes_nothing(
    admin: Services, tmp_path: Path
) -> None:
    """The writer thread has written the first chunks when the reader is cancelled."""
    header = '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\n'
    body = "".join(
        f'"Tool {n % 300}","1.{n % 7}","Vendor {n % 11}","2026010{n % 9 + 1}","WS-{n // 7}"\n'
        for n in range(90_000)
    )
    path = write(tmp_path, "inventory.csv", header + body)
    before = state(admin.db)

    def progress(done: int, total: int) -> None:
        if done >= 60_000:
            raise Cancelled("Import cancelled.")

    with pytest.raises(Cancelled):
        admin.imports.commit(path, ImportOptions(Kind.INVENTORY), progress=progress)
    assert state(admin.db) == before
    result = commit(admin, path, Kind.INVENTORY)  # the same file, not cancelled, goes in whole
    assert (result.rows, result.inserted) == (90_000, 90_000)
    with admin.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Installation)) == 90_000


@sqlite_only
def test_an_inventory_that_rebuilds_the_title_index_leaves_the_schema_as_it_was(
    admin: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def indexes() -> list[tuple[str, str]]:
        with admin.db.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'installation' "
                "AND type = 'index' AND sql IS NOT NULL ORDER BY name"
            )
            return [(str(name), str(sql)) for name, sql in rows]

    before = indexes()
    assert "ix_installation_title" in dict(before)
    deferred: list[list[str]] = []
    defer = Bulk.defer_indexes

    def spy(bulk: Bulk, tables: Any, only: Any = ()) -> None:
        deferred.append(list(only))
        defer(bulk, tables, only)

    monkeypatch.setattr(Bulk, "defer_indexes", spy)
    path = write(tmp_path, "inv1.csv", INVENTORY_1)  # an empty inventory: all of it is new
    commit(admin, path, Kind.INVENTORY)
    assert deferred == [["ix_installation_title"]]
    assert indexes() == before
    with admin.db.read() as session:
        plan = session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM installation WHERE title_id = 1"
        )
        assert "ix_installation_title" in " ".join(str(row[-1]) for row in plan)


@sqlite_only
def test_an_inventory_written_without_foreign_key_lookups_keeps_every_reference(
    admin: Services, tmp_path: Path
) -> None:
    admin.directory.add_device(DeviceInput("ws-1", "SN1"))
    commit(admin, write(tmp_path, "inv1.csv", INVENTORY_1), Kind.INVENTORY)
    db = admin.db
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").first() is None
    for _ in range(3):  # whichever pooled connection comes next checks again, at the default
        with db.write() as session:
            conn = session.connection()
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
    with pytest.raises(IntegrityError), db.write() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO installation (device_id, title_id, first_seen, import_id) "
            "VALUES (424242, 1, '2026-01-01', 1)"
        )


def test_an_inventory_into_an_in_memory_database_is_written_on_its_own_thread(
    tmp_path: Path,
) -> None:
    """sqlite:// lives in one thread's connection, so the writer thread is not used."""
    database, _ = Database.open("sqlite://")
    try:
        actor = create_first_administrator(database, "admin", "Ada Admin", "a long password")
        services = Services.for_actor(database, actor)
        path = write(tmp_path, "inv1.csv", INVENTORY_1)
        result = services.imports.commit(path, ImportOptions(Kind.INVENTORY))
        assert (result.rows, result.inserted) == (5, 4)
    finally:
        database.dispose()


@pytest.mark.slow
def test_a_pair_listed_again_chunks_later_keeps_the_last_date_given(
    admin: Services, tmp_path: Path
) -> None:
    """Fresh installs are written a chunk (20,000 rows) at a time: repeats span chunks."""
    header = '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\n'
    filler = "".join(f'"Tool {n}","1.0","Vendor","",WS-{n % 500}\n' for n in range(25_000))
    rows = [
        '"Visio","16","Microsoft","20260105","WS-A"\n',
        '"Excel","16","Microsoft","20260107","WS-A"\n',
        filler,
        '"Visio","16","Microsoft","20260301","WS-A"\n',  # a later date: it wins
        filler,
        '"Visio","16","Microsoft","","WS-A"\n',  # no date: the last one given stays
        '"Excel","16","Microsoft","","WS-A"\n',
    ]
    result = commit(admin, write(tmp_path, "inv.csv", header + "".join(rows)), Kind.INVENTORY)
    assert result.inserted == 2 + 25_000
    with admin.db.read() as session:
        dates = dict(
            session.execute(
                select(SoftwareTitle.title, Installation.install_date)
                .join(SoftwareTitle, Installation.title_id == SoftwareTitle.id)
                .where(SoftwareTitle.title.in_(["Visio", "Excel"]))
            ).all()
        )
    assert dates == {"Visio": dt.date(2026, 3, 1), "Excel": dt.date(2026, 1, 7)}


@sqlite_only
def test_a_file_imported_meanwhile_is_not_imported_twice(
    admin: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two operators commit the same file at once: the second finds it in its transaction."""
    path = write(tmp_path, "hr.csv", HR)
    commit(admin, path, Kind.PEOPLE)
    before = state(admin.db)
    monkeypatch.setattr(type(admin.imports), "_earlier", lambda *_: None)  # the race
    result = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert result.already_imported
    assert state(admin.db) == before


@sqlite_only
def test_commit_refuses_a_file_changed_since_its_preview(admin: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "hr.csv", HR)
    preview: Preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    path.write_text(HR + "E9,Late Comer,,,Active,\n")
    before = state(admin.db)
    with pytest.raises(ValidationError, match="changed since it was previewed"):
        admin.imports.commit(path, ImportOptions(Kind.PEOPLE), expected_sha256=preview.facts.sha256)
    assert state(admin.db) == before


@sqlite_only
def test_workbook_import_with_real_date_cells(admin: Services, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Vendor", "Product", "Metric", "Quantity", "Start date", "End date", "PO"])
    sheet.append(
        [
            "Contoso",
            "PDF Studio",
            "Named user",
            25,
            dt.date(2026, 1, 1),
            dt.datetime(2026, 12, 31),
            "PO-X",
        ]
    )
    sheet.append(["Contoso", "DB Server", "Per core", 16.0, dt.date(2026, 2, 1), None, "PO-Y"])
    for row in sheet.iter_rows(min_row=2, min_col=5, max_col=6):
        for cell in row:
            cell.number_format = "DD/MM/YYYY"
    path = tmp_path / "purchases.xlsx"
    book.save(path)
    preview = admin.imports.preview(path, ImportOptions(Kind.ENTITLEMENTS))
    assert preview.ok, preview.problems
    assert preview.facts.encoding_label == "Excel workbook"
    result = commit(admin, path, Kind.ENTITLEMENTS)
    assert counts(result) == (2, 2, 0, 0, 0)
    with admin.db.read() as session:
        terms = session.execute(
            select(Entitlement.po_reference, Entitlement.term_start, Entitlement.term_end).order_by(
                Entitlement.po_reference
            )
        ).all()
    assert [tuple(t) for t in terms] == [
        ("PO-X", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("PO-Y", dt.date(2026, 2, 1), None),
    ]


@sqlite_only
def test_history_lists_imports_newest_first(admin: Services, tmp_path: Path) -> None:
    commit(admin, write(tmp_path, "hr.csv", HR), Kind.PEOPLE)
    commit(admin, write(tmp_path, "d.csv", INTUNE), Kind.DEVICES)
    assert [(b.kind, b.file_name) for b in admin.imports.history()] == [
        ("devices", "d.csv"),
        ("people", "hr.csv"),
    ]


DATA = Path(__file__).parents[1] / "data"
_SAMPLE_ORDER = [
    ("people_hr.csv", Kind.PEOPLE),
    ("people_adusers.csv", Kind.PEOPLE),
    ("devices_intune.csv", Kind.DEVICES),
    ("devices_sccm.csv", Kind.DEVICES),
    ("devices_lansweeper.csv", Kind.DEVICES),
    ("devices_jamf.csv", Kind.DEVICES),
    ("inventory_intune.csv", Kind.INVENTORY),
    ("inventory_sccm.csv", Kind.INVENTORY),
    ("inventory_lansweeper.csv", Kind.INVENTORY),
    ("inventory_jamf.csv", Kind.INVENTORY),
    ("inventory_registry.csv", Kind.INVENTORY),
    ("inventory_win32product.csv", Kind.INVENTORY),
    ("inventory_excel_utf16.txt", Kind.INVENTORY),
    ("entitlements.csv", Kind.ENTITLEMENTS),
    ("snipeit_licenses.csv", Kind.SNIPEIT),
    ("usage.csv", Kind.USAGE),
    ("lmstat.txt", Kind.USAGE),
]


@pytest.mark.skipif(
    not all((DATA / name).is_file() for name, _ in _SAMPLE_ORDER), reason="no sample exports"
)
def test_the_sample_exports_import_one_after_another(admin: Services) -> None:
    """Every documented export (tests/data) commits, in the order an administrator would."""
    for name, kind in _SAMPLE_ORDER:
        preview = admin.imports.preview(DATA / name, ImportOptions(kind))
        assert preview.ok, (name, preview.problems)
        result = commit(admin, DATA / name, kind)
        assert result.rows == preview.rows, name
    found = state(admin.db)
    assert (found["device"], found["import_batch"], found["ledger"]) == (28, 17, 18)
    assert people(admin.db)["E10007"][2:] == ("left", "Sales", dt.date(2026, 10, 31))
    assert all(d[0] for d in devices(admin.db).values())  # every device has a serial
    for name, kind in _SAMPLE_ORDER:
        assert admin.imports.commit(DATA / name, ImportOptions(kind)).already_imported
