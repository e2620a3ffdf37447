"""A seat change runs prepared statements on the driver's connection, without a Session (both
engines): they read and write what SQLAlchemy would, and the change is still all or nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from conftest import ledger_size, sqlite_only
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Permission
from seatledger.errors import DatabaseError, LedgerIntegrityError
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.context import Appended, Change
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators.session import Services
from seatledger.store import db as store_db
from seatledger.store.db import Database
from seatledger.store.models import Entitlement, Person, SeatAssignment
from seatledger.store.prepared import Sql

_LICENSE = select(
    Entitlement.id,
    Entitlement.term_start,
    Entitlement.core_factor,
    Entitlement.retired,
    Entitlement.seats_used,
).where(Entitlement.id.in_(bindparam("ids", expanding=True)))


def _license(admin: Services, quantity: int = 10) -> int:
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Diagram Studio")
    return admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=product,
            metric=Metric.PER_USER,
            quantity=quantity,
            term_start=dt.date(2020, 1, 1),
        )
    )


def _people(admin: Services, count: int) -> list[int]:
    return [
        admin.directory.add_person(PersonInput(f"E{n:03}", f"Person {n}")) for n in range(count)
    ]


def test_prepared_statements_read_and_write_what_sqlalchemy_does(admin: Services) -> None:
    license_id = _license(admin)
    people = _people(admin, 3)
    with admin.db.engine.connect() as conn:
        expected = conn.execute(_LICENSE, {"ids": [license_id, license_id + 99]}).all()
    with admin.db.direct() as sql:
        # Dates, decimals and booleans come back as the types SQLAlchemy gives, a list
        # parameter is written out.
        assert sql.rows(_LICENSE, {"ids": [license_id, license_id + 99]}) == [
            tuple(row) for row in expected
        ]
        (row,) = sql.rows(_LICENSE, {"ids": [license_id]})
        assert (row[1], row[2], row[3]) == (dt.date(2020, 1, 1), Decimal(1), False)
        now = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
        seat = {
            "entitlement_id": license_id,
            "device_id": None,
            "units": 1,
            "started_at": now,
            "assigned_by": admin.ctx.actor.id,
        }
        made = sql.insert(
            SeatAssignment.__table__,  # type: ignore[arg-type]
            [{**seat, "person_id": person} for person in people],
            ("id", "person_id"),
        )
        assert sorted(person for _, person in made) == sorted(people)
    # A constraint broken comes out as SQLAlchemy's error, as from a Connection (and the
    # transaction is rolled back).
    with pytest.raises(IntegrityError), admin.db.direct() as sql:
        sql.run(insert(Person), {"id": people[0], "employee_id": "X", "name": "Twin"})
    with admin.db.engine.connect() as conn:
        stored = conn.execute(
            select(SeatAssignment.started_at, SeatAssignment.over_commit).where(
                SeatAssignment.entitlement_id == license_id
            )
        ).all()
    # Stored as SQLAlchemy stores it (SQLite keeps text without the zone), defaults applied.
    assert {(started.replace(tzinfo=None), over) for started, over in stored} == {
        (now.replace(tzinfo=None), False)
    }


def test_a_seat_change_that_fails_leaves_nothing_and_the_next_one_works(admin: Services) -> None:
    license_id = _license(admin)
    first, second = _people(admin, 2)
    size = ledger_size(admin.db)

    def fail(change: Change, entry: Appended) -> None:
        assert entry.action == "seat.assign"
        raise RuntimeError("an observer failed after the entry")

    admin.ctx.observers.append(fail)
    with pytest.raises(RuntimeError, match="an observer failed"):
        admin.seats.assign(license_id, people=[first])
    admin.ctx.observers.remove(fail)
    assert ledger_size(admin.db) == size
    with admin.db.engine.connect() as conn:
        seats = conn.execute(text("SELECT count(*) FROM seat_assignment")).scalar()
        used = conn.execute(
            text("SELECT seats_used FROM entitlement WHERE id = :e"), {"e": license_id}
        ).scalar()
    assert (seats, used) == (0, 0)

    seats = admin.seats.assign(license_id, people=[first, second]).assignment_ids
    assert admin.seats.release(seats) == 2
    assert ledger_size(admin.db) == size + 2


def test_a_direct_change_has_no_session_and_keeps_personal_entries_out(admin: Services) -> None:
    size = ledger_size(admin.db)
    with (
        pytest.raises(RuntimeError, match="no Session"),
        admin.ctx.change(Permission.ASSIGN_SEATS, "seat.assign", "seat", "test", direct=True) as c,
    ):
        c.session.flush()
    # A person's fields are committed with salts the Session keeps: not without it.
    with pytest.raises(ValueError, match="appended with its Session"):
        _person_change_without_session(admin)
    assert ledger_size(admin.db) == size


def _person_change_without_session(admin: Services) -> None:
    with admin.ctx.change(
        Permission.EDIT_DIRECTORY, "person.update", "person", "test", direct=True
    ) as change:
        change.entity_id = "1"
        change.after = {"name": "Someone"}


def test_an_entry_beyond_the_head_stops_a_seat_change(admin: Services) -> None:
    license_id = _license(admin)
    (person,) = _people(admin, 1)
    size = ledger_size(admin.db)
    with admin.db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entry (seq, ts, operator, action, entity_type, entity_id, "
                "body, prev_hash, hash) VALUES (:seq, '', '', '', '', '', :b, :b, :b)"
            ),
            {"seq": size + 1, "b": bytes(32)},
        )
    with pytest.raises(LedgerIntegrityError, match=f"entry {size + 1} beyond its recorded head"):
        admin.seats.assign(license_id, people=[person])


@sqlite_only
def test_a_locked_database_is_explained_to_a_seat_change_too(
    admin: Services, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    license_id = _license(admin)
    (person,) = _people(admin, 1)
    path = admin.db.sqlite_path
    assert path is not None
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 150)
    db, _ = Database.open(path)  # connections made now wait 150 ms for a lock
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        services = Services.for_actor(db, admin.ctx.actor)
        with pytest.raises(DatabaseError, match="is locked by"):
            services.seats.assign(license_id, people=[person])
        other.execute("ROLLBACK")
        assert services.seats.assign(license_id, people=[person]).units == 1
    finally:
        other.close()
        db.dispose()


def test_sql_of_a_connection_runs_in_its_transaction(database: Database) -> None:
    with database.engine.connect() as conn:
        conn.begin()
        sql = Sql.of(conn)
        sql.run(insert(Person), {"employee_id": "E1", "name": "Inside", "status": "active"})
        assert conn.execute(text("SELECT count(*) FROM person")).scalar() == 1
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM person")).scalar() == 0
