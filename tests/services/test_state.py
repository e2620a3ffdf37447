"""Rows changed behind the ledger's back are named (both engines): every legitimate path through
the services replays exactly, and each raw-SQL edit, insert and delete is caught, naming the
table, the row and the field; an audit refuses to sign while its scope differs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from conftest import ledger_size, sqlite_only
from seatledger.domain.ledger import Problem
from seatledger.domain.roles import Role
from seatledger.domain.state import Kind
from seatledger.errors import Cancelled, LedgerIntegrityError, StateIntegrityError
from seatledger.ingest.formats import Kind as FileKind
from seatledger.progress import Reporter
from seatledger.services import details
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.bundle.disclosure import plan
from seatledger.services.audits.bundle.model import SEAL_DAYS, BundleResult, Trigger
from seatledger.services.audits.bundle.verify import verify as verify_bundle
from seatledger.services.audits.signing import TEST_KDF
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.imports import importers
from seatledger.services.imports.options import ImportOptions
from seatledger.services.ledger import state as ledger_state
from seatledger.services.ledger.state import NOT_COVERED, StateReport, check_ledger_and_state
from seatledger.services.operators.session import Services
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.models import Product, SeatAssignment

TODAY = dt.date.today()
HR = (
    "Employee ID,Full Name,Email Address,Department,Employment Status,Termination Date,Start Date\n"
    "H1,Hana Ito,hana@example.com,Research,Active,,2024-03-01\n"
    "H2,Ivo Petrov,ivo@example.com,Research,Terminated,2026-01-31,2023-01-09\n"
)
DEVICES = (
    "Host name,Serial number,Cores,Processors,OS\nsrv-9,SN-99,24,2,Linux\nlt-7,SN-7,4,1,macOS\n"
)
INVENTORY = (
    '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\r\n'
    '"PDF Studio","2.1","Contoso",,"ws-new"\r\n'
)
PURCHASES = (
    "Vendor,Product,Metric,Quantity,Unit cost,Currency,PO Number,Start date,End date,Core factor\n"
    "Fabrikam,Render Farm,Per core,64,12.3456,USD,PO-7,2026-01-01,2027-12-31,0.5\n"
)


def _import(admin: Services, folder: Path, name: str, data: str, kind: FileKind, **kw: Any) -> None:
    path = folder / name
    path.write_text(data, encoding="utf-8")
    admin.imports.commit(path, ImportOptions(kind, **kw))


def history(admin: Services, org: Any, folder: Path) -> dict[str, int]:
    """A history through every path that writes a counted row: the catalog, the directory,
    seats one at a time and in bulk (per core, units differing by device), releases, leavers,
    operators, and imports of people (a full export), devices, an inventory and purchases."""
    seats = admin.seats
    first = seats.assign(org.acrobat, people=[org.people[0]], note="desk 4").assignment_ids[0]
    second = seats.assign(org.acrobat, people=[org.people[1]]).assignment_ids[0]
    cores = seats.assign(org.sql_server, devices=org.devices, reason="cluster").assignment_ids
    seats.release([second], reason="moved teams")
    seats.assign(
        org.acrobat,
        people=[org.people[2], org.people[3]],
        over_commit=True,
        reason="go-live, PO pending",
    )
    current, _ = details.entitlement(admin.ctx, org.acrobat)
    admin.catalog.update_entitlement(
        org.acrobat, dataclasses.replace(current, quantity=6), reason="true-up"
    )
    admin.directory.update_person(org.people[0], PersonInput("E001", "Person One", "one@x.org"))
    admin.directory.update_device(org.devices[1], DeviceInput("db-02", "SN2", None, 1, 4))
    admin.directory.mark_left(org.people[3], TODAY - dt.timedelta(days=3), reason="resigned")
    seats.release_departed()
    manager = admin.operators.create(
        "mira", "Mira Manager", Role.LICENSE_MANAGER, "Quartz-Ladder-91"
    )
    admin.operators.set_role(manager, Role.AUDITOR, active=True, reason="moved to audit")
    _import(admin, folder, "hr.csv", HR, FileKind.PEOPLE)
    _import(admin, folder, "hr-full.csv", HR, FileKind.PEOPLE, full_export=True)
    _import(admin, folder, "devices.csv", DEVICES, FileKind.DEVICES)
    _import(admin, folder, "inventory.csv", INVENTORY, FileKind.INVENTORY)
    _import(admin, folder, "purchases.csv", PURCHASES, FileKind.ENTITLEMENTS)
    return {"first": first, "second": second, "core_seat": cores[0]}


@pytest.fixture
def built(admin: Services, org: Any, tmp_path: Path) -> dict[str, int]:
    return history(admin, org, tmp_path)


def sql(db: Database, statement: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement))


def messages(report: StateReport) -> list[str]:
    return [d.message() for d in report.differences]


# ------------------------------------------------------------------------------ clean state


def test_every_path_through_the_services_replays_exactly(
    admin: Services, built: dict[str, int]
) -> None:
    report = admin.ledger.verify_state()
    assert report.ok, messages(report)
    assert report.rows["seat_assignment"] == 6
    assert report.rows["person"] == 7  # the org's five and the two the HR file added
    assert report.rows["device"] == 5  # two, two from the device file, one the inventory named
    assert report.rows["operator"] == 2
    # Every field of every row is recorded by some entry but the first administrator's full
    # name, which its entry leaves out (bundles disclose that entry as it is), and says so.
    assert report.unrecorded == {("operator", "full_name"): 1}
    assert report.not_covered == NOT_COVERED
    assert any("installs" in line for line in report.coverage())


def test_a_bulk_per_core_assignment_records_each_seat_s_units(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    with admin.db.read() as session:
        units = session.scalars(
            select(SeatAssignment.units)
            .where(SeatAssignment.entitlement_id == org.sql_server)
            .order_by(SeatAssignment.id)
        ).all()
    assert units == [8, 4]  # 2 x 4 minimum, then 1 x 4: not the same, so each is recorded
    sql(admin.db, f"UPDATE seat_assignment SET units = 5 WHERE id = {built['core_seat']}")
    assert messages(admin.ledger.verify_state()) == [
        f"seat_assignment {built['core_seat']}: units is 5 in the database, the ledger says 8"
    ]


# ------------------------------------------------------------------------------ the battery

Tamper = Callable[[Any, dict[str, int]], tuple[str, list[str]]]


def _quantity(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    return (
        f"UPDATE entitlement SET quantity = quantity + 500 WHERE id = {org.acrobat}",
        [f"entitlement {org.acrobat}: quantity is 506 in the database, the ledger says 6"],
    )


def _backdated(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    seat = ids["second"]  # a time is compared and shown as a time, not as its microseconds
    return (
        f"UPDATE seat_assignment SET started_at = '2020-01-01 12:00:00' WHERE id = {seat}",
        [f"seat_assignment {seat}: started_at is 2020-01-01T"],
    )


def _reopened(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    seat = ids["second"]
    return (
        f"UPDATE seat_assignment SET ended_at = NULL, released_by = NULL WHERE id = {seat}",
        [
            f"seat_assignment {seat}: ended_at is empty in the database, the ledger says ",
            f"seat_assignment {seat}: released_by is empty in the database, the ledger says admin",
        ],
    )


def _stayed(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    left = (TODAY - dt.timedelta(days=3)).isoformat()
    return (
        f"UPDATE person SET date_left = NULL WHERE id = {org.people[3]}",
        [f"person {org.people[3]}: date_left is empty in the database, the ledger says {left}"],
    )


def _cores(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    return (
        f"UPDATE device SET cores = 64 WHERE id = {org.devices[0]}",
        [f"device {org.devices[0]}: cores is 64 in the database, the ledger says 8"],
    )


def _renamed(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    # The ledger holds the name as a commitment: the stored name is committed the same way.
    return (
        f"UPDATE person SET name = 'Mallory' WHERE id = {org.people[2]}",
        [f"person {org.people[2]}: name is Mallory in the database, the ledger says a commitment"],
    )


def _imported_row(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    # A row an import wrote is held to what the import's entry recorded.
    return (
        "UPDATE person SET status = 'active', date_left = NULL WHERE employee_id = 'H2'",
        [
            "person 7: status is active in the database, the ledger says left",
            "person 7: date_left is empty in the database, the ledger says 2026-01-31",
        ],
    )


def _inserted(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    return (
        "INSERT INTO seat_assignment (id, entitlement_id, person_id, units, started_at, "
        f"assigned_by, over_commit, over_commit_reason, note) VALUES (900, {org.acrobat}, "
        f"{org.people[4]}, 1, '2026-01-01 00:00:00', 1, false, '', '')",
        ["seat_assignment 900 is in the database, but no ledger entry made it"],
    )


def _deleted(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    seat = ids["second"]
    return (
        f"DELETE FROM seat_assignment WHERE id = {seat}",
        [f"seat_assignment {seat} is not in the database, but the ledger made it"],
    )


def _role(org: Any, ids: dict[str, int]) -> tuple[str, list[str]]:
    return (
        "UPDATE operator SET role = 'administrator' WHERE name = 'mira'",
        ["operator 2: role is administrator in the database, the ledger says auditor"],
    )


@pytest.mark.parametrize(
    "tamper",
    [
        _quantity,
        _backdated,
        _reopened,
        _stayed,
        _cores,
        _renamed,
        _imported_row,
        _inserted,
        _deleted,
        _role,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_row_changed_behind_the_ledger_s_back_is_named(
    admin: Services, org: Any, built: dict[str, int], tamper: Tamper
) -> None:
    statement, expected = tamper(org, built)
    assert admin.ledger.verify_state().ok
    sql(admin.db, statement)
    verdict, report = check_ledger_and_state(admin.db)
    assert verdict.ok  # the chain cannot see it: the entries are untouched
    assert report is not None
    found = messages(report)
    assert len(found) == len(expected), found
    for message, start in zip(found, expected, strict=True):
        assert message.startswith(start), (message, start)
    assert report.total == len(expected)
    assert not report.ok


def test_kinds_and_fields_are_given_apart_from_the_message(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    sql(admin.db, f"UPDATE entitlement SET quantity = 99 WHERE id = {org.acrobat}")
    sql(admin.db, f"DELETE FROM seat_assignment WHERE id = {built['second']}")
    report = admin.ledger.verify_state()
    [changed] = [d for d in report.differences if d.kind is Kind.FIELD]
    assert (changed.table, changed.row, changed.field) == ("entitlement", org.acrobat, "quantity")
    assert (changed.stored, changed.recorded) == (99, 6)
    [gone] = [d for d in report.differences if d.kind is Kind.MISSING_ROW]
    assert (gone.table, gone.row, gone.parent) == ("seat_assignment", built["second"], org.acrobat)
    assert report.by_table == {"entitlement": 1, "seat_assignment": 1}


# ------------------------------------------------------------------------------ chain and state


def test_a_broken_chain_is_reported_before_any_row(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    triggers = ("ledger_no_update", "ledger_no_delete")
    suffix = " ON ledger_entry" if admin.db.dialect == "postgresql" else ""
    for trigger in triggers:
        sql(admin.db, f"DROP TRIGGER {trigger}{suffix}")
    edit = (
        "replace(body, 'quantity', 'quantitx')"
        if admin.db.dialect == "sqlite"
        else "convert_to(replace(convert_from(body, 'UTF8'), 'quantity', 'quantitx'), 'UTF8')"
    )
    sql(admin.db, f"UPDATE ledger_entry SET body = {edit} WHERE seq = 5")
    verdict, report = check_ledger_and_state(admin.db)
    assert report is None
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (5, Problem.EDITED)


def test_the_state_check_reports_progress_and_cancels(
    admin: Services, built: dict[str, int]
) -> None:
    stages: list[str] = []
    reporter = Reporter(stage=stages.append)
    assert admin.ledger.verify_state(reporter).ok
    assert stages == ["Replaying the ledger", "Comparing rows with the ledger"]

    def cancel(done: int, total: int) -> None:
        if done:
            reporter.cancel()

    reporter = Reporter(cancel)
    with pytest.raises(Cancelled):
        admin.ledger.verify_state(reporter)


# ------------------------------------------------------------------------------ audits


def _audit(admin: Services, org: Any) -> int:
    return admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)


def test_an_audit_refuses_to_sign_a_changed_state_in_its_scope(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    audit = admin.audits.get(_audit(admin, org))
    admin.audits.check_verifies(audit)  # clean: no refusal
    sql(admin.db, f"UPDATE entitlement SET quantity = quantity + 500 WHERE id = {org.acrobat}")
    with pytest.raises(StateIntegrityError) as refused:
        admin.audits.check_verifies(audit)
    assert str(refused.value).startswith(
        "1 row in the scope of this audit is not what the activity ledger says, so no report is "
        f"signed: entitlement {org.acrobat}: quantity is 506 in the database, the ledger says 6."
    )


def test_another_vendor_s_changed_row_does_not_block_this_audit(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    """Nor does a person who holds none of its seats and owns no device running its products
    (no license of the vendor counts everyone on staff); a holder's row does."""
    audit = admin.audits.get(_audit(admin, org))
    sql(admin.db, "UPDATE entitlement SET quantity = 1 WHERE po_reference = 'PO-7'")  # Fabrikam
    sql(admin.db, f"UPDATE person SET name = 'Someone Else' WHERE id = {org.people[4]}")
    assert not admin.ledger.verify_state().ok
    admin.audits.check_verifies(audit)
    sql(admin.db, f"UPDATE person SET name = 'Someone Else' WHERE id = {org.people[0]}")
    with pytest.raises(StateIntegrityError, match=f"person {org.people[0]}: name is Someone"):
        admin.audits.check_verifies(audit)


def test_an_audit_refuses_to_sign_a_broken_chain(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    audit = admin.audits.get(_audit(admin, org))
    suffix = " ON ledger_entry" if admin.db.dialect == "postgresql" else ""
    sql(admin.db, f"DROP TRIGGER ledger_no_delete{suffix}")
    sql(admin.db, "DELETE FROM ledger_entry WHERE seq = 3")
    with pytest.raises(LedgerIntegrityError, match="entry 3 is missing") as refused:
        admin.audits.check_verifies(audit)
    assert refused.value.seq == 3


def test_an_imported_core_factor_is_held_to_its_value(
    admin: Services, built: dict[str, int]
) -> None:
    """The import's snapshot and the stored row agree although the file's factor is 0.5 and the
    column keeps 0.500 (numbers compare by value): a change is named all the same."""
    sql(admin.db, "UPDATE entitlement SET core_factor = 1 WHERE po_reference = 'PO-7'")
    [difference] = admin.ledger.verify_state().differences
    assert difference.message().endswith(
        "core_factor is 1.000 in the database, the ledger says 0.5000"
    )


def test_rows_of_an_import_recorded_before_entries_named_them_are_explained(
    admin: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import entry of an earlier SeatLedger says how many rows it wrote, not which: its
    rows differ, and the check says why rather than implying tampering."""
    monkeypatch.setattr(importers.Applied, "snapshot", lambda *_args: None)
    _import(admin, tmp_path, "hr.csv", HR, FileKind.PEOPLE)
    report = admin.ledger.verify_state()
    assert messages(report) == [
        "team 1 is in the database, but no ledger entry made it",
        "person 1 is in the database, but no ledger entry made it",
        "person 2 is in the database, but no ledger entry made it",
    ]
    assert report.unreplayable == 1
    assert (
        "1 import was recorded before imports' entries named the rows they wrote: rows they "
        "added or changed show above as differences the ledger cannot settle"
    ) in report.coverage()


def test_an_audit_reads_its_scope_alone_and_counts_every_difference_in_it(
    admin: Services, org: Any, built: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another vendor's rows are not read at all, however many differ; in scope, every
    difference is counted even when only the first are kept to be named."""
    audit = admin.audits.get(_audit(admin, org))
    monkeypatch.setattr(ledger_state, "KEPT", 1)
    sql(admin.db, "UPDATE product SET notes = 'x' WHERE name = 'Render Farm'")  # Fabrikam's
    sql(admin.db, "UPDATE entitlement SET quantity = 1 WHERE po_reference = 'PO-7'")
    admin.audits.check_verifies(audit)
    sql(admin.db, f"UPDATE entitlement SET quantity = 99 WHERE id = {org.acrobat}")
    sql(admin.db, f"UPDATE device SET cores = 64 WHERE id = {org.devices[0]}")
    with pytest.raises(StateIntegrityError) as refused:
        admin.audits.check_verifies(audit)
    assert str(refused.value).startswith("2 rows in the scope of this audit are not what")
    assert "; and 1 more." in str(refused.value)


def test_entries_appended_during_the_check_are_replayed_on_a_second_pass(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    """Someone working meanwhile adds rows the first pass's ledger did not reach: the check
    starts again rather than name them as rows no entry made."""
    added: list[int] = []

    def meanwhile(done: int, total: int) -> None:
        if not added:
            added.append(admin.catalog.add_vendor("Northwind"))

    report = admin.ledger.verify_state(Reporter(meanwhile))
    assert report.ok, messages(report)
    assert report.rows["vendor"] == 3  # Contoso, Fabrikam and the one added meanwhile


def test_a_ledger_that_keeps_growing_is_said_to_be_unsettled(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    names = iter(range(1000))

    def meanwhile(done: int, total: int) -> None:
        if done == total:  # each pass's last report: the comparison is done
            admin.catalog.add_vendor(f"Vendor {next(names)}")

    with pytest.raises(ledger_state.StateChanged, match="kept growing"):
        admin.ledger.verify_state(Reporter(meanwhile))


# ------------------------------------------------------------------ what an audit reads


def _edit_body(db: Database, seq: int) -> None:
    """Change one stored body by a byte (its hash is left as it was)."""
    suffix = " ON ledger_entry" if db.dialect == "postgresql" else ""
    sql(db, f"DROP TRIGGER ledger_no_update{suffix}")
    edit = (
        "replace(body, '\"seq\":', '\"seq\": ')"
        if db.dialect == "sqlite"
        else "convert_to(replace(convert_from(body, 'UTF8'), '\"seq\":', '\"seq\": '), 'UTF8')"
    )
    sql(db, f"UPDATE ledger_entry SET body = {edit} WHERE seq = {seq}")


def _entry_of(db: Database, action: str, entity_id: int) -> int:
    with db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT seq FROM ledger_entry WHERE action = :a AND entity_id = :e"),
            {"a": action, "e": str(entity_id)},
        ).scalar()
    assert found is not None
    return int(found)


def _sign(admin: Services, audit_id: int, out: Path) -> BundleResult:
    audit = admin.audits.get(audit_id)
    position = admin.position.position(
        audit.as_of, audit.shelf_days, None, admin.audits.position_scope(audit)
    )
    admin.audits.attest(audit_id, "Our records, as of the date.")
    return admin.audits.sign(
        audit_id,
        position,
        passphrase="a long and private passphrase",
        out_dir=out,
        organization="Example Corp",
        kdf=TEST_KDF,
    )


def test_an_edited_entry_outside_the_scope_is_found_by_the_whole_ledger_check(
    admin: Services, org: Any, built: dict[str, int], tmp_path: Path
) -> None:
    """The audit's own check reads its scope alone: the entry that made a person who holds none
    of the vendor's seats is not read there.  Signing checks the whole chain beside the
    audit's work (as 'ledger verify' does) and refuses, naming it: the organization's key never
    vouches for a ledger its own verification calls broken."""
    audit_id = _audit(admin, org)
    seq = _entry_of(admin.db, "person.create", org.people[4])
    _edit_body(admin.db, seq)
    admin.audits.check_verifies(admin.audits.get(audit_id))  # its scope verifies
    verdict = admin.ledger.verify()
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (seq, Problem.EDITED)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LedgerIntegrityError, match=f"entry {seq} is edited") as refused:
        _sign(admin, audit_id, out)
    assert refused.value.seq == seq
    assert list(out.iterdir()) == []
    assert admin.audits.get(audit_id).status.value != "signed"


def test_an_edited_entry_in_the_scope_is_refused_by_the_audit_s_own_check(
    admin: Services, org: Any, built: dict[str, int], tmp_path: Path
) -> None:
    """An entry the audit replays (a seat of its vendor) edited in storage: the audit's own
    check recomputes its hash and refuses before anything is written."""
    audit_id = _audit(admin, org)
    seq = _entry_of(admin.db, "seat.assign", org.acrobat)
    _edit_body(admin.db, seq)
    with pytest.raises(LedgerIntegrityError, match=f"entry {seq} is edited") as refused:
        admin.audits.check_verifies(admin.audits.get(audit_id))
    assert refused.value.seq == seq
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LedgerIntegrityError, match=f"entry {seq} is edited"):
        _sign(admin, audit_id, out)
    assert list(out.iterdir()) == []


def test_a_license_moved_out_of_the_scope_with_raw_sql_is_still_checked(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    """The scope is taken from the ledger as well as the rows: a license moved to another
    vendor's product to hide it from this audit is named."""
    audit = admin.audits.get(_audit(admin, org))
    sql(
        admin.db,
        f"UPDATE entitlement SET product_id = (SELECT id FROM product WHERE name = 'Render Farm') "
        f"WHERE id = {org.acrobat}",
    )
    with pytest.raises(StateIntegrityError, match=f"entitlement {org.acrobat}: product_id is"):
        admin.audits.check_verifies(audit)


@sqlite_only
def test_an_audit_picks_its_entries_by_id_not_by_reading_every_entry_of_a_type(
    admin: Services, org: Any, built: dict[str, int]
) -> None:
    """The scope check and the disclosure name the licenses, seats, people and devices they
    want, and the database finds their entries through the (type, id, seq) index: on a ledger
    of 10 million entries, a vendor with a few licenses no longer reads the 8 million entries
    of every license (an ORDER BY seq steers SQLite to the (type, seq) index instead)."""
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "ledger_entry" in statement and "entity_id IN" in statement:
            statements.append((statement, parameters))

    audit = admin.audits.get(_audit(admin, org))
    event.listen(admin.db.engine, "before_cursor_execute", seen)
    try:
        admin.audits.check_verifies(audit)
        with admin.db.read() as session:
            size = ledger_store.head(session)[0]
            products = session.scalars(select(Product.id).where(Product.vendor_id == org.vendor))
            disclosed = plan(
                session,
                vendor_id=org.vendor,
                product_ids=list(products),
                audit_id=audit.id,
                size=size,
            )
    finally:
        event.remove(admin.db.engine, "before_cursor_execute", seen)
    seat_entry = _entry_of(admin.db, "seat.assign", org.acrobat)
    assert seat_entry in disclosed.seqs
    kinds = {
        kind
        for kind in ("entitlement", "seat", "person", "device")
        for s, _ in statements
        if kind in s
    }
    assert kinds == {"entitlement", "seat", "person", "device"}
    with admin.db.read() as session:
        for statement, parameters in statements:
            found = session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters
            )
            steps = " | ".join(str(row[-1]) for row in found)
            assert "USING INDEX ix_ledger_entity_id_seq (entity_type=? AND entity_id=?" in steps, (
                statement,
                steps,
            )


# ------------------------------------------------------- exports resting on a whole check


def _signed(admin: Services, org: Any, out: Path) -> BundleResult:
    out.mkdir()
    return _sign(admin, _audit(admin, org), out)


def _verifies(result: BundleResult) -> None:
    checked = verify_bundle(result.folder, pubkey=(result.folder / vb.PUBLIC_KEY).read_bytes())
    assert checked.ok, [c.detail for c in checked.checks if not c.ok]


def test_an_export_within_a_week_of_a_whole_check_rests_on_it(
    admin: Services, org: Any, built: dict[str, int], tmp_path: Path
) -> None:
    """The first export re-hashes every entry and records it with its 'audit.sign' entry; the
    next one checks the entries written since, and the blocks of those it discloses, and says
    so in report.json.  Its bundle verifies as any other."""
    first = _signed(admin, org, tmp_path / "first")
    assert first.sealed_by is None
    admin.directory.add_team("Joined later")  # entries after the sealed checkpoint
    second = _signed(admin, org, tmp_path / "second")
    assert second.sealed_by is not None
    assert second.sealed_by.checkpoint == first.checkpoint
    stated = json.loads((second.folder / "report.json").read_bytes())["ledger_check"]
    assert stated["through"] == first.checkpoint.size
    assert set(stated) == {"whole_ledger_checked_at", "through", "newer_entries_checked_at"}
    _verifies(second)
    # The third rests on the same whole check (its time), now through the second's checkpoint.
    third = _signed(admin, org, tmp_path / "third")
    assert third.sealed_by is not None
    assert third.sealed_by.checkpoint == second.checkpoint
    assert third.sealed_by.checked_at == second.sealed_by.checked_at
    _verifies(third)


def test_a_sealed_export_refuses_an_edited_entry_it_discloses(
    admin: Services, org: Any, built: dict[str, int], tmp_path: Path
) -> None:
    _signed(admin, org, tmp_path / "first")
    seq = _entry_of(admin.db, "seat.assign", org.acrobat)  # before the seal, disclosed
    _edit_body(admin.db, seq)
    audit_id = _audit(admin, org)
    with pytest.raises((LedgerIntegrityError, StateIntegrityError), match=f"{seq}|seat"):
        _sign(admin, audit_id, _folder(tmp_path / "second"))
    assert admin.audits.get(audit_id).status.value != "signed"


def test_a_sealed_export_refuses_an_entry_edited_after_the_seal(
    admin: Services, org: Any, built: dict[str, int], tmp_path: Path
) -> None:
    _signed(admin, org, tmp_path / "first")
    admin.directory.add_person(PersonInput("L1", "Late Joiner", "late@example.com", None))
    seq = ledger_size(admin.db)
    _edit_body(admin.db, seq)
    out = _folder(tmp_path / "second")
    with pytest.raises(LedgerIntegrityError, match=f"entry {seq} is edited"):
        _sign(admin, _audit(admin, org), out)
    assert list(out.iterdir()) == []


def test_an_edit_before_the_seal_outside_the_scope_is_left_to_ledger_verify(
    admin: Services, org: Any, built: dict[str, int], tmp_path: Path
) -> None:
    """The price of not re-hashing every entry: an entry the vendor is not shown, edited after
    the whole check, is not read by the export (the vendor's proofs do not rest on its body).
    'ledger verify' still names it; and a week after the whole check the export re-hashes
    everything again and refuses."""
    # Seventy people who hold nothing of the vendor's: whole blocks of 32 entries it does not
    # disclose (a block that discloses one entry is checked whole, the others with it).
    for n in range(70):
        admin.directory.add_person(PersonInput(f"X{n}", f"Other {n}", f"x{n}@example.com", None))
    _signed(admin, org, tmp_path / "first")
    audit_id = _audit(admin, org)
    with admin.db.read() as session:
        size = ledger_store.head(session)[0]
        products = list(session.scalars(select(Product.id).where(Product.vendor_id == org.vendor)))
        disclosed = plan(
            session, vendor_id=org.vendor, product_ids=products, audit_id=audit_id, size=size
        )
    touched = {(n - 1) // 32 for n in disclosed.seqs}
    seq = next(n for n in range(1, size + 1) if (n - 1) // 32 not in touched)
    _edit_body(admin.db, seq)
    verdict = admin.ledger.verify()
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (seq, Problem.EDITED)
    second = _sign(admin, audit_id, _folder(tmp_path / "second"))
    assert second.sealed_by is not None
    _verifies(second)
    later = admin.ctx.clock() + dt.timedelta(days=SEAL_DAYS + 1)
    admin.ctx.clock = lambda: later
    with pytest.raises(LedgerIntegrityError, match=f"entry {seq} is edited"):
        _sign(admin, _audit(admin, org), _folder(tmp_path / "third"))


def _folder(path: Path) -> Path:
    path.mkdir()
    return path
