"""A seat change is a fixed handful of statements, however many seats it touches (both engines).

The role check, the limit, the seats, the ledger entry and the alert rules of one assignment or
release run as a few statements built once: a seat is assigned within milliseconds because no
rule reads a row again that the change already holds, and nothing is read per holder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from conftest import last_entry
from seatledger.domain.alerts import AlertSettings, Rule
from seatledger.domain.licensing import Metric
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators.session import Services

# role and ledger head, license, holders, seats, count, entry, head, the rules' settings (with
# the burst rule's newest seat changes and whether its alert is open, in the same read)
ASSIGN_STATEMENTS = 8
RELEASE_STATEMENTS = 9  # role and head, seats and licenses, end, count, entry, head, rules
HOLDERS = 40
# What opens, ends or locks the transaction (not counted), and SQLite's trigger notes.
_NOT_COUNTED = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SELECT pg_advisory_xact_lock|--)", re.IGNORECASE
)


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The statements the driver runs meanwhile, but for those opening and ending the
    transaction: counted at the driver (SQLite's trace callback, a psycopg cursor that
    records), since a seat change runs prepared statements on it without SQLAlchemy's
    execution events."""
    sent: list[str] = []

    def record(statement: str) -> None:
        if not _NOT_COUNTED.match(statement):
            sent.append(statement)

    engine = services.db.engine
    sqlite = engine.dialect.name == "sqlite"
    recording = None if sqlite else _recording_cursor(record)
    factories: dict[int, Any] = {}  # each psycopg connection's own cursor class

    def checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if sqlite:
            dbapi_conn.set_trace_callback(record)
        else:
            factories.setdefault(id(dbapi_conn), dbapi_conn.cursor_factory)
            dbapi_conn.cursor_factory = recording

    def checkin(dbapi_conn: Any, _record: Any) -> None:
        if dbapi_conn is None:
            return
        if sqlite:
            dbapi_conn.set_trace_callback(None)
        elif id(dbapi_conn) in factories:
            dbapi_conn.cursor_factory = factories[id(dbapi_conn)]

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield sent
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


def _recording_cursor(record: Any) -> Any:
    import psycopg  # the PostgreSQL run only

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            record(str(query))
            return super().execute(query, *args, **kwargs)

        def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            record(str(query))
            return super().executemany(query, *args, **kwargs)

    return Recording


def test_one_seat_or_forty_take_the_same_few_statements(admin: Services) -> None:
    # Working hours are left out: the test may run at night, when that rule raises an alert.
    admin.alerts.save_settings(AlertSettings(enabled=frozenset(Rule) - {Rule.AFTER_HOURS}))
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Diagram Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=100)
    )
    people = [
        admin.directory.add_person(PersonInput(f"E{n:03}", f"Person {n}"))
        for n in range(HOLDERS + 1)
    ]

    with statements(admin) as one:
        (seat,) = admin.seats.assign(license_id, people=people[:1]).assignment_ids
    with statements(admin) as many:
        seats = admin.seats.assign(license_id, people=people[1:]).assignment_ids
    assert len(one) == len(many) == ASSIGN_STATEMENTS, one
    assert last_entry(admin.db)["after"]["seats_used"] == HOLDERS + 1

    with statements(admin) as one:
        admin.seats.release([seat])
    with statements(admin) as many:
        admin.seats.release(seats)
    assert len(one) == len(many) == RELEASE_STATEMENTS, one
    assert last_entry(admin.db)["after"]["seats_used"] == {str(license_id): 0}

    verdict = ledger.verify(admin.db)
    assert verdict.ok, verdict.failure


def test_the_rules_still_see_the_count_the_change_leaves(admin: Services) -> None:
    """The limit rules take the license from the change instead of reading it: what they
    raise and clear must be what a fresh read would give."""
    admin.alerts.save_settings(AlertSettings(enabled=frozenset({Rule.LIMIT, Rule.WARNING})))
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Diagram Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    people = [admin.directory.add_person(PersonInput(f"E{n:03}", f"Person {n}")) for n in range(12)]

    seats = admin.seats.assign(license_id, people=people[:8]).assignment_ids
    assert [a.rule for a in admin.alerts.alerts()] == []
    seats += admin.seats.assign(license_id, people=people[8:9]).assignment_ids
    warning = admin.alerts.alerts()
    assert [(a.rule, a.subject) for a in warning] == [
        (Rule.WARNING, "Contoso Diagram Studio is at 90 % of its limit: 9 of 10 used")
    ]
    seats += admin.seats.assign(
        license_id, people=people[9:12], over_commit=True, reason="audit season"
    ).assignment_ids
    assert {a.rule for a in admin.alerts.alerts()} == {Rule.WARNING, Rule.LIMIT}

    admin.seats.release(seats[-3:])  # back to 9 of 10: the limit ends, the warning holds
    with admin.db.engine.connect() as conn:
        open_keys = sorted(
            key
            for (key,) in conn.exec_driver_sql(
                "SELECT dedupe_key FROM alert WHERE cleared_at IS NULL"
            )
        )
    assert open_keys == [f"warning:{license_id}"]
    admin.seats.release(seats[:2])  # 7 of 10: under the warning level
    with admin.db.engine.connect() as conn:
        still_open = conn.exec_driver_sql(
            "SELECT count(*) FROM alert WHERE cleared_at IS NULL"
        ).scalar()
    assert still_open == 0
