"""The demo builder: what someone trying SeatLedger on the small demo relies on."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from seatledger.cli import main
from seatledger.demo.builder import build_demo
from seatledger.domain.alerts import Rule
from seatledger.domain.licensing import Metric, units_for_device
from seatledger.domain.roles import Role
from seatledger.errors import Cancelled, KnownError
from seatledger.progress import Reporter
from seatledger.services.catalog.queries import EntitlementQuery
from seatledger.services.core.context import Context, iso
from seatledger.services.ledger import verify as ledger
from seatledger.services.ledger.state import verify_state
from seatledger.services.operators.accounts import sign_in
from seatledger.services.operators.session import DEMO_KEY, ORGANIZATION_KEY, read_setting
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.models import (
    Device,
    Entitlement,
    LedgerEntry,
    Person,
    Product,
    SeatAssignment,
    Team,
    Vendor,
)
from seatledger.store.models_alerts import Alert


@dataclass
class Built:
    """A small demo built once for the module."""

    path: Path
    summary: str
    stages: list[str]
    db: Database


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The small demo, built with the default seed."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    stages: list[str] = []
    summary = build_demo(str(path), "small", progress=Reporter(stage=stages.append))
    db, _ = Database.open(path, create=False)
    yield Built(path, summary, stages, db)
    db.dispose()


def _head(path: Path) -> tuple[int, bytes]:
    db, _ = Database.open(path, create=False)
    try:
        with db.read() as session:
            return ledger_store.head(session)
    finally:
        db.dispose()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_demo_holds_a_small_organization(demo: Built) -> None:
    with demo.db.read() as session:

        def count(model: type[object]) -> int:
            return session.scalar(select(func.count()).select_from(model)) or 0

        assert count(Person) == 200
        assert count(Team) == 12
        assert 240 <= count(Device) <= 280
        assert count(Product) == 30
        assert 14 <= count(Vendor) <= 25
        assert 35 <= count(Entitlement) <= 45
        assert 1_000 <= count(SeatAssignment) <= 4_000
        servers = session.execute(
            select(Device.processors, Device.cores).where(Device.processors == 2)
        ).all()
        assert servers
        assert all(16 <= cores <= 64 for _, cores in servers)
        metrics = set(session.scalars(select(Entitlement.metric)))
    assert metrics == {m.value for m in Metric}
    assert "200 people" in demo.summary
    assert demo.stages[0] == "Planning"
    assert "Seats and ledger" in demo.stages


def test_the_four_operators_sign_in_with_the_demo_password(demo: Built) -> None:
    roles = {name: sign_in(demo.db, name, "demo").role for name in OPERATORS}
    assert roles == OPERATORS


OPERATORS = {
    "admin": Role.ADMINISTRATOR,
    "manager": Role.LICENSE_MANAGER,
    "auditor": Role.AUDITOR,
    "viewer": Role.VIEWER,
}


def test_every_reference_points_at_a_row(demo: Built) -> None:
    """The builder writes without the foreign-key checks; the result must pass them."""
    with demo.db.read() as session:
        assert session.connection().exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_it_says_it_is_a_demo_of_a_named_organization(demo: Built) -> None:
    assert read_setting(demo.db, DEMO_KEY) == "1"
    assert read_setting(demo.db, ORGANIZATION_KEY)


def test_the_ledger_verifies_and_records_every_row(demo: Built) -> None:
    verdict = ledger.verify(demo.db)
    assert verdict.ok, verdict.failure and verdict.failure.message()
    with demo.db.read() as session:
        assert verdict.entries == ledger_store.head(session)[0]
        rows = session.execute(
            select(LedgerEntry.ts, LedgerEntry.action).order_by(LedgerEntry.seq)
        ).all()
        created = {
            "person.create": session.scalar(select(func.count()).select_from(Person)),
            "device.create": session.scalar(select(func.count()).select_from(Device)),
            "entitlement.create": session.scalar(select(func.count()).select_from(Entitlement)),
            "seat.assign": session.scalar(select(func.count()).select_from(SeatAssignment)),
            "seat.release": session.scalar(
                select(func.count()).where(SeatAssignment.ended_at.is_not(None))
            ),
        }
    times = [ts for ts, _ in rows]
    assert times == sorted(times), "timestamps go back in time"
    assert all(iso(dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z")) == ts for ts in times)
    assert times[-1] < iso(dt.datetime.now(dt.UTC))
    actions = [action for _, action in rows]
    assert set(actions) <= set(ledger.ACTIONS)
    for action, expected in created.items():
        assert actions.count(action) == expected, action


def test_every_row_is_what_the_ledger_says(demo: Built) -> None:
    report = verify_state(demo.db)
    assert report.ok, [d.message() for d in report.differences]
    # The demo's entries record every field compared but the first administrator's full name.
    assert report.unrecorded == {("operator", "full_name"): 1}
    assert report.rows["seat_assignment"] > 1000


def test_seat_counts_match_the_open_assignments(demo: Built) -> None:
    with demo.db.read() as session:
        open_units = dict(
            session.execute(
                select(SeatAssignment.entitlement_id, func.sum(SeatAssignment.units))
                .where(SeatAssignment.ended_at.is_(None))
                .group_by(SeatAssignment.entitlement_id)
            ).all()
        )
        for entitlement in session.scalars(select(Entitlement)):
            assert entitlement.seats_used == open_units.get(entitlement.id, 0), entitlement.id
        doubled = session.execute(
            select(
                SeatAssignment.entitlement_id, SeatAssignment.person_id, SeatAssignment.device_id
            )
            .where(SeatAssignment.ended_at.is_(None))
            .group_by(
                SeatAssignment.entitlement_id, SeatAssignment.person_id, SeatAssignment.device_id
            )
            .having(func.count() > 1)
        ).all()
        assert doubled == []


def test_seats_follow_the_metric_rules(demo: Built) -> None:
    with demo.db.read() as session:
        rows = session.execute(
            select(SeatAssignment, Entitlement, Device)
            .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
            .outerjoin(Device, SeatAssignment.device_id == Device.id)
        ).all()
        for seat, entitlement, device in rows:
            metric = Metric(entitlement.metric)
            assert (device is not None) == metric.assigns_to_device
            if device is not None:
                cores = entitlement.min_cores_per_processor
                expected = units_for_device(metric, device.processors, device.cores, cores)
                assert seat.units == expected
            if entitlement.term_start is not None:
                assert seat.started_at.date() >= entitlement.term_start
            if entitlement.term_end is not None:
                assert seat.started_at.date() <= entitlement.term_end
            assert seat.ended_at is None or seat.ended_at > seat.started_at


def test_the_demo_has_findings_to_explore(demo: Built) -> None:
    today = dt.date.today()
    query = EntitlementQuery(Context.reader(demo.db))
    licenses = list(query.entitlements(query.keys()).values())
    over = [row.id for row in licenses if row.over_limit]
    assert 1 <= len(over) <= 2
    assert any(row.expired(today) for row in licenses)
    assert any(row.expiring(today) for row in licenses)
    assert any(row.utilization is not None and row.utilization >= 0.9 for row in licenses)
    with demo.db.read() as session:
        reasons = session.scalars(
            select(SeatAssignment.over_commit_reason).where(
                SeatAssignment.entitlement_id.in_(over), SeatAssignment.over_commit.is_(True)
            )
        ).all()
        assert reasons
        assert all(reason.strip() for reason in reasons)
        left_holding = session.scalar(
            select(func.count(func.distinct(Person.id)))
            .join(SeatAssignment, SeatAssignment.person_id == Person.id)
            .where(Person.status == "left", SeatAssignment.ended_at.is_(None))
        )
        assert left_holding
        assert session.scalar(select(func.count()).where(Person.status == "left")) == 8


def test_the_demo_raises_the_alerts_its_imports_show(demo: Built) -> None:
    # Issue 17: a bulk-built demo showed "Open alerts 0" beside licenses over their limit.
    # The rules watch the demo's inventory and usage imports as they watch real ones.
    query = EntitlementQuery(Context.reader(demo.db))
    licenses = list(query.entitlements(query.keys()).values())
    over = sorted(str(row.id) for row in licenses if row.over_limit)
    with demo.db.read() as session:
        raised = session.execute(select(Alert.rule, Alert.entity_id)).all()
        seq = set(session.scalars(select(Alert.ledger_seq)))
        actions = set(session.scalars(select(LedgerEntry.action).where(LedgerEntry.seq.in_(seq))))
    assert sorted(entity for rule, entity in raised if rule == Rule.LIMIT.value) == over
    assert any(rule == Rule.WARNING.value for rule, _ in raised)
    assert any(rule == Rule.UNLICENSED.value for rule, _ in raised)
    assert actions <= {"import.inventory", "import.usage"}  # each raised by the import showing it


def test_the_command_line_builds_the_same_ledger(demo: Built, tmp_path: Path) -> None:
    path = tmp_path / "cli.sqlite"
    assert main(["demo", "--db", str(path), "--size", "small"]) == 0
    assert _head(path) == _head(demo.path)


def test_another_seed_builds_another_ledger(demo: Built, tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    build_demo(str(path), "small", seed=7)
    assert _head(path)[1] != _head(demo.path)[1]


def test_an_existing_file_is_never_overwritten(demo: Built) -> None:
    before = _digest(demo.path)
    with pytest.raises(KnownError, match="already exists"):
        build_demo(str(demo.path), "small")
    assert main(["demo", "--db", str(demo.path)]) == 2
    assert _digest(demo.path) == before


def test_a_cancelled_build_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "cancelled.sqlite"

    def cancel_at_seats(stage: str) -> None:
        if stage == "Seats and ledger":
            progress.cancel()  # the user cancels as the seats are written

    progress = Reporter(stage=cancel_at_seats)
    with pytest.raises(Cancelled):
        build_demo(str(path), "small", progress=progress)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_demo_builds_on_postgresql(db_url: str) -> None:
    build_demo(db_url, "small")
    db, _ = Database.open(db_url, create=False)
    try:
        assert ledger.verify(db).ok
        report = verify_state(db)
        assert report.ok, [d.message() for d in report.differences]
        assert sign_in(db, "manager", "demo").role is Role.LICENSE_MANAGER
        with pytest.raises(KnownError, match="already holds tables"):
            build_demo(db_url, "small")
    finally:
        db.dispose()
