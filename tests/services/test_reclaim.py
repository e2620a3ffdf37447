"""Reclaiming idle seats, on both engines: a seat unused for N days is released after the grace
period unless kept, exclusions are left alone, every step is a ledger entry, the notices name
the right people."""

from __future__ import annotations

import datetime as dt
import email
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from conftest import ledger_size
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.errors import PermissionDenied, ValidationError
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.context import Clock
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators.session import Services
from seatledger.services.reclaim.service import count_reclaimed
from seatledger.store.models import SeatAssignment

START = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


@dataclass
class Shop:
    admin: Services
    product: int
    team: int
    people: dict[str, int]
    seats: dict[str, int]


def _at(services: Services, moment: dt.datetime) -> None:
    clock: Clock = lambda: moment  # noqa: E731
    services.ctx.clock = clock


@pytest.fixture
def shop(admin: Services) -> Shop:
    """Ann, Ben and Cat each got a seat of PDF Studio on 5 January; Ben used it on 1 March."""
    _at(admin, START)
    vendor = admin.catalog.add_vendor("Contoso Software")
    product = admin.catalog.add_product(vendor, "PDF Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=product, metric=Metric.PER_USER, quantity=5, unit_cost=_cost("120")
        )
    )
    team = admin.directory.add_team("Finance")
    people, seats = {}, {}
    for n, name in enumerate(("Ann", "Ben", "Cat")):
        people[name] = admin.directory.add_person(
            PersonInput(f"E{n}", name, f"{name.lower()}@example.com", team)
        )
        seats[name] = admin.seats.assign(license_id, people=[people[name]]).assignment_ids[0]
    with admin.db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO usage_session (feature, user_name, host, checkout, checkin, units, "
                "product_id, person_id, import_id, server, handle) "
                "VALUES ('pdf', 'ben', 'pc', :c, :c, 1, :p, :u, 1, '', '')"
            ),
            {"c": dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC), "p": product, "u": people["Ben"]},
        )
    return Shop(admin, product, team, people, seats)


def _cost(value: str) -> Any:
    from decimal import Decimal

    return Decimal(value)


def _entries(admin: Services, action: str) -> list[dict[str, Any]]:
    with admin.db.engine.connect() as conn:
        bodies = conn.execute(
            text("SELECT body FROM ledger_entry WHERE action = :a ORDER BY seq"), {"a": action}
        ).scalars()
        return [json.loads(bytes(b)) for b in bodies]


def test_idle_seats_are_released_after_the_grace_period_unless_kept(
    shop: Shop, tmp_path: Path
) -> None:
    admin = shop.admin
    admin.reclaim.set_rule(shop.product, idle_days=60, grace_days=14)
    _at(admin, dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC))  # Ann and Cat: 95 days; Ben: 40
    run = admin.reclaim.start_run()
    found = {c.holder: c for c in admin.reclaim.candidates(run)}
    assert sorted(found) == ["Ann", "Cat"]
    assert found["Ann"].last_use is None
    assert found["Ann"].release_on == dt.date(2026, 4, 24)
    assert _entries(admin, "reclaim.start")[-1]["what"]["after"]["candidates"] == [
        shop.seats["Ann"],
        shop.seats["Cat"],
    ]
    # The notices: a CSV of both, and one draft to each holder.
    files = admin.reclaim.write_notices(run, tmp_path / "notices", sender="it@example.com")
    assert [f.name for f in files] == ["notices.csv", "notice-0001.eml", "notice-0002.eml"]
    drafts = [email.message_from_bytes(f.read_bytes()) for f in files[1:]]
    assert [d["To"] for d in drafts] == ["Ann <ann@example.com>", "Cat <cat@example.com>"]
    body = drafts[0].get_payload(decode=True).decode()
    assert "PDF Studio" in body
    assert "released on 2026-04-24" in body
    assert "Ben" not in files[0].read_text(encoding="utf-8")
    # Cat's manager asks to keep hers; the grace period must pass before the rest goes.
    with pytest.raises(ValidationError, match="Say why"):
        admin.reclaim.keep(run, [found["Cat"].id], " ")
    admin.reclaim.keep(run, [found["Cat"].id], "Her manager: quarter-end reports")
    with pytest.raises(ValidationError, match="grace period runs until 2026-04-24"):
        admin.reclaim.finish(run)
    _at(admin, dt.datetime(2026, 4, 24, 9, tzinfo=dt.UTC))
    assert admin.reclaim.finish(run) == 1
    with admin.db.read() as session:
        ended = dict(session.execute(select(SeatAssignment.id, SeatAssignment.ended_at)).all())
    assert ended[shop.seats["Ann"]] is not None
    assert ended[shop.seats["Cat"]] is None
    assert ended[shop.seats["Ben"]] is None
    release = _entries(admin, "seat.release")[-1]["what"]
    assert release["reason"].startswith(f"Reclaim run #{run}:")
    assert release["after"]["released"] == [shop.seats["Ann"]]
    outcomes = {c.holder: c.outcome for c in admin.reclaim.candidates(run)}
    assert outcomes == {"Ann": "released", "Cat": "kept"}
    for action in ("reclaim.rule", "reclaim.notices", "reclaim.keep", "reclaim.finish"):
        assert _entries(admin, action), action
    assert [(r.candidates, r.kept, r.released) for r in admin.reclaim.runs()] == [(2, 1, 1)]
    month = admin.reclaim.reclaimed_by_month()
    assert [(m.month, m.seats, m.cost) for m in month] == [("2026-04", 1, {"EUR": _cost("120")})]
    # The dashboard: this month's seats and cost, and the twelve months up to it.
    euros = {"EUR": _cost("120")}
    figures = [
        (c.month, c.month_cost, c.year, c.year_cost)
        for c in (
            count_reclaimed(admin.ctx, day)
            for day in (dt.date(2026, 4, 30), dt.date(2027, 3, 31), dt.date(2027, 4, 1))
        )
    ]
    assert figures == [(1, euros, 1, euros), (0, {}, 1, euros), (0, {}, 0, {})]
    _at(admin, dt.datetime(2026, 4, 30, 9, tzinfo=dt.UTC))
    reclaimed = admin.dashboard.figures().reclaimed
    assert reclaimed is not None
    assert (reclaimed.month, reclaimed.year) == (1, 1)
    with pytest.raises(ValidationError, match="finished already"):
        admin.reclaim.finish(run)


def test_exclusions_are_left_alone(shop: Shop) -> None:
    admin = shop.admin
    admin.reclaim.set_rule(shop.product, idle_days=30, grace_days=0)
    admin.reclaim.exclude("person", shop.people["Ann"], "CFO")
    _at(admin, dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC))
    run = admin.reclaim.start_run()
    assert sorted(c.holder for c in admin.reclaim.candidates(run)) == ["Ben", "Cat"]
    admin.reclaim.exclude("team", shop.team, "Month-end close")
    with pytest.raises(ValidationError, match="No seat is idle"):
        admin.reclaim.start_run()
    admin.reclaim.include("team", shop.team)
    admin.reclaim.exclude("product", shop.product, "Contract requires named seats")
    with pytest.raises(ValidationError, match="No seat is idle"):
        admin.reclaim.start_run()


def test_rules_are_checked_and_refused_to_readers(shop: Shop, as_role: Any) -> None:
    admin = shop.admin
    with pytest.raises(ValidationError, match="Idle days"):
        admin.reclaim.set_rule(shop.product, idle_days=0, grace_days=7)
    with pytest.raises(ValidationError, match="no reclaim rule"):
        admin.reclaim.start_run()
    admin.reclaim.set_rule(shop.product, idle_days=90, grace_days=7)
    admin.reclaim.set_rule(shop.product, idle_days=45, grace_days=7)
    assert [(r.product, r.idle_days) for r in admin.reclaim.rules()] == [
        ("Contoso Software PDF Studio", 45)
    ]
    readers = [as_role(role) for role in (Role.VIEWER, Role.AUDITOR, Role.REVIEWER)]
    before = ledger_size(admin.db)
    for reader in readers:
        with pytest.raises(PermissionDenied):
            reader.reclaim.set_rule(shop.product, idle_days=10, grace_days=1)
    assert ledger_size(admin.db) == before
