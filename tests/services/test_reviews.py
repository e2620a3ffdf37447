"""Access review campaigns, on both engines: scope, reviewers held to their teams, decisions in
the ledger under the reviewer's name, closing that releases through the seat service."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from conftest import PASSWORD, ledger_size
from seatledger.domain.licensing import Metric
from seatledger.domain.reviews import Decision, Outcome, Recurrence
from seatledger.domain.roles import Role
from seatledger.errors import NotFoundError, PermissionDenied, ValidationError
from seatledger.services.alerts.dashboard import ReviewCounts
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.ledger.state import check_scope
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.services.reviews.report import write_csv
from seatledger.services.reviews.service import count_open
from seatledger.store.models import Entitlement, SeatAssignment


@dataclass
class Review:
    """Two teams with two people each, each holding one seat, and a reviewer per team."""

    admin: Services
    alice: Services  # reviews Finance
    bob: Services  # reviews Sales
    finance: int
    sales: int
    vendor: int
    entitlement: int
    seats: dict[str, int]  # person name -> assignment id


def _operator(admin: Services, name: str, role: Role = Role.REVIEWER) -> Services:
    admin.operators.create(name, name.title(), role, PASSWORD)
    return Services.for_actor(admin.db, operators.sign_in(admin.db, name, PASSWORD))


@pytest.fixture
def review(admin: Services) -> Review:
    vendor = admin.catalog.add_vendor("Contoso Software")
    product = admin.catalog.add_product(vendor, "PDF Studio")
    entitlement = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    finance = admin.directory.add_team("Finance")
    sales = admin.directory.add_team("Sales")
    seats = {}
    for n, (name, team) in enumerate(
        [("Fay", finance), ("Finn", finance), ("Sam", sales), ("Sue", sales)], start=1
    ):
        person = admin.directory.add_person(
            PersonInput(f"E{n:03}", name, f"{name.lower()}@example.com", team)
        )
        seats[name] = admin.seats.assign(entitlement, people=[person]).assignment_ids[0]
    return Review(
        admin,
        _operator(admin, "alice"),
        _operator(admin, "bob"),
        finance,
        sales,
        vendor,
        entitlement,
        seats,
    )


def _start(r: Review, **kwargs: Any) -> int:
    return r.admin.reviews.start(
        "PDF Studio, Q1",
        r.admin.reviews.today() + dt.timedelta(days=14),
        reviewers={r.finance: r.alice.actor.id, r.sales: r.bob.actor.id},
        **kwargs,
    )


def _entries(r: Review, action: str) -> list[dict[str, Any]]:
    with r.admin.db.engine.connect() as conn:
        bodies = conn.execute(
            text("SELECT body FROM ledger_entry WHERE action = :a ORDER BY seq"), {"a": action}
        ).scalars()
        return [json.loads(bytes(b)) for b in bodies]


def _item(r: Review, services: Services, campaign: int, holder: str) -> int:
    return next(row.id for row in services.reviews.items(campaign) if row.holder == holder)


def test_a_reviewer_sees_and_decides_only_their_teams_seats(review: Review) -> None:
    campaign = _start(review)
    assert [row.holder for row in review.alice.reviews.items(campaign)] == ["Fay", "Finn"]
    assert [row.holder for row in review.bob.reviews.items(campaign)] == ["Sam", "Sue"]
    assert len(review.admin.reviews.items(campaign)) == 4
    sam = _item(review, review.admin, campaign, "Sam")
    before = ledger_size(review.admin.db)
    with pytest.raises(PermissionDenied, match="alice does not review Sales"):
        review.alice.reviews.decide(campaign, [sam], Decision.KEEP, "needed")
    with pytest.raises(PermissionDenied, match="does not review Sales"):
        review.alice.reviews.decide_team(campaign, review.sales, Decision.RELEASE, "not used")
    assert ledger_size(review.admin.db) == before
    assert [c.id for c in review.alice.reviews.campaigns()] == [campaign]
    assert review.alice.reviews.my_teams(campaign) == [(review.finance, "Finance")]


@pytest.mark.parametrize(
    ("role", "refused"),
    [
        (Role.VIEWER, "may not decide access reviews"),
        (Role.AUDITOR, "may not decide access reviews"),
        (Role.LICENSE_MANAGER, "may not decide access reviews"),
        (Role.REVIEWER, "does not review Finance"),  # a reviewer not named in this campaign
    ],
)
def test_who_may_not_decide(review: Review, role: Role, refused: str) -> None:
    campaign = _start(review)
    other = _operator(review.admin, f"other-{role.value}", role)
    fay = _item(review, review.admin, campaign, "Fay")
    with pytest.raises(PermissionDenied, match=refused):
        other.reviews.decide(campaign, [fay], Decision.KEEP)
    assert other.reviews.items(campaign) == [] or role is Role.AUDITOR


def test_only_administrators_start_and_close(review: Review) -> None:
    with pytest.raises(PermissionDenied, match="may not start or close access review"):
        review.alice.reviews.start(
            "Mine", review.admin.reviews.today(), reviewers={review.finance: review.alice.actor.id}
        )
    campaign = _start(review)
    with pytest.raises(PermissionDenied):
        review.alice.reviews.close(campaign)


def test_a_reviewer_must_be_able_to_review(review: Review) -> None:
    viewer = _operator(review.admin, "vic", Role.VIEWER)
    with pytest.raises(ValidationError, match="vic may not review access"):
        review.admin.reviews.start(
            "Q1", review.admin.reviews.today(), reviewers={review.finance: viewer.actor.id}
        )
    with pytest.raises(ValidationError, match="has passed"):
        review.admin.reviews.start(
            "Q1",
            review.admin.reviews.today() - dt.timedelta(days=1),
            reviewers={review.finance: review.alice.actor.id},
        )


def test_scope_by_team_and_vendor(review: Review) -> None:
    only_sales = _start(review, teams=[review.sales])
    assert [row.holder for row in review.admin.reviews.items(only_sales)] == ["Sam", "Sue"]
    other_vendor = review.admin.catalog.add_vendor("Fabrikam")
    with pytest.raises(ValidationError, match="No open seat"):
        _start(review, vendors=[other_vendor])


def test_decisions_are_the_reviewers_ledger_entries(review: Review) -> None:
    campaign = _start(review)
    start = _entries(review, "review.start")[-1]
    assert start["what"]["after"]["seats"] == 4
    assert start["what"]["after"]["reviewers"] == {
        str(review.finance): "alice",
        str(review.sales): "bob",
    }
    fay = _item(review, review.alice, campaign, "Fay")
    with pytest.raises(ValidationError, match="A release needs a reason"):
        review.alice.reviews.decide(campaign, [fay], Decision.RELEASE, "  ")
    assert review.alice.reviews.decide(campaign, [fay], Decision.RELEASE, "Left the project") == 1
    entry = _entries(review, "review.decide")[-1]
    assert entry["operator"] == "alice"
    assert entry["what"]["reason"] == "Left the project"
    assert entry["what"]["after"]["decision"] == "release"
    assert entry["what"]["after"]["seats"] == [review.seats["Fay"]]
    # A whole team at once: the undecided seats only.
    assert review.alice.reviews.decide_team(campaign, review.finance, Decision.KEEP) == 1
    assert _entries(review, "review.decide_team")[-1]["operator"] == "alice"
    with pytest.raises(ValidationError, match="decided already"):
        review.alice.reviews.decide_team(campaign, review.finance, Decision.KEEP)
    info = review.admin.reviews.campaign(campaign)
    assert (info.seats, info.decided, info.to_release) == (4, 2, 1)
    assert review.alice.reviews.campaign(campaign).seats == 2  # her teams' progress
    # Nothing is released before the campaign closes.
    with review.admin.db.read() as session:
        assert session.get(SeatAssignment, review.seats["Fay"]).ended_at is None  # type: ignore[union-attr]


def test_closing_releases_through_the_seat_service(review: Review) -> None:
    campaign = _start(review)
    admin, alice, bob = review.admin, review.alice, review.bob
    alice.reviews.decide(
        campaign, [_item(review, alice, campaign, "Fay")], Decision.RELEASE, "Not used"
    )
    alice.reviews.decide(campaign, [_item(review, alice, campaign, "Finn")], Decision.KEEP)
    bob.reviews.decide(
        campaign, [_item(review, bob, campaign, "Sam")], Decision.RELEASE, "Moved to support"
    )
    result = admin.reviews.close(campaign)
    assert (result.released, result.kept, result.undecided, result.ended) == (2, 1, 1, 0)
    assert result.next_campaign is None
    with admin.db.read() as session:
        ended = dict(session.execute(select(SeatAssignment.id, SeatAssignment.ended_at)).all())
        used = session.scalar(
            select(Entitlement.seats_used).where(Entitlement.id == review.entitlement)
        )
    assert ended[review.seats["Fay"]] is not None
    assert ended[review.seats["Sam"]] is not None
    assert ended[review.seats["Finn"]] is None
    assert ended[review.seats["Sue"]] is None
    assert used == 2
    releases = _entries(review, "seat.release")
    assert [e["what"]["reason"] for e in releases] == [
        f'Access review #{campaign} "PDF Studio, Q1": released as alice decided',
        f'Access review #{campaign} "PDF Studio, Q1": released as bob decided',
    ]
    closing = _entries(review, "review.close")[-1]["what"]["after"]
    assert closing["undecided_seats"] == [review.seats["Sue"]]
    outcomes = {row.holder: row.outcome for row in admin.reviews.items(campaign)}
    assert outcomes == {
        "Fay": Outcome.RELEASED,
        "Finn": Outcome.KEPT,
        "Sam": Outcome.RELEASED,
        "Sue": Outcome.UNDECIDED,
    }
    with pytest.raises(ValidationError, match="is closed"):
        alice.reviews.decide(campaign, [_item(review, alice, campaign, "Finn")], Decision.KEEP)
    with pytest.raises(ValidationError, match="closed already"):
        admin.reviews.close(campaign)


def test_a_recurring_campaign_starts_the_next_on_close(review: Review) -> None:
    due = dt.date(2099, 1, 31)
    campaign = review.admin.reviews.start(
        "Quarterly",
        due,
        reviewers={review.finance: review.alice.actor.id},
        recurrence=Recurrence.QUARTERLY,
    )
    fay = _item(review, review.admin, campaign, "Fay")
    review.alice.reviews.decide(campaign, [fay], Decision.RELEASE, "Not used")
    following = review.admin.reviews.close(campaign).next_campaign
    assert following is not None
    info = review.admin.reviews.campaign(following)
    assert (info.due_on, info.seats, info.recurrence) == (dt.date(2099, 4, 30), 3, "quarterly")
    assert [row.holder for row in review.alice.reviews.items(following)] == ["Finn"]


def test_unknown_campaign_and_seat(review: Review) -> None:
    with pytest.raises(NotFoundError):
        review.admin.reviews.campaign(999)
    campaign = _start(review)
    with pytest.raises(NotFoundError, match="not under review"):
        review.admin.reviews.decide(campaign, [999_999], Decision.KEEP)


def test_evidence_of_use(review: Review) -> None:
    """Last install sighting, last checkout and last SaaS activity, from the imported rows."""
    campaign = _start(review)
    with review.admin.db.engine.begin() as conn:
        product = conn.execute(
            text("SELECT product_id FROM entitlement WHERE id = :e"), {"e": review.entitlement}
        ).scalar_one()
        fay = conn.execute(text("SELECT id FROM person WHERE name = 'Fay'")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO device (hostname, serial, owner_id, os, last_seen) "
                "VALUES ('fay-pc', '', :p, '', :d)"
            ),
            {"p": fay, "d": dt.date(2026, 3, 1)},
        )
        conn.execute(
            text(
                "INSERT INTO software_title (publisher, title, version, product_id) "
                "VALUES ('Contoso', 'PDF Studio', '1', :p)"
            ),
            {"p": product},
        )
        conn.execute(
            text(
                "INSERT INTO installation (device_id, title_id, first_seen, import_id) "
                "SELECT d.id, t.id, :f, 1 FROM device d, software_title t"
            ),
            {"f": dt.date(2026, 1, 5)},
        )
        for server, day in (("27000@lic", 10), ("", 20)):
            conn.execute(
                text(
                    "INSERT INTO usage_session (feature, user_name, host, checkout, checkin, "
                    "units, product_id, person_id, import_id, server, handle) "
                    "VALUES ('pdf', 'fay', 'fay-pc', :c, :c, 1, :p, :u, 1, :s, '')"
                ),
                {
                    "c": dt.datetime(2026, 2, day, 9, tzinfo=dt.UTC),
                    "p": product,
                    "u": fay,
                    "s": server,
                },
            )
    rows = {row.holder: row for row in review.admin.reviews.items(campaign)}
    assert rows["Fay"].last_install == dt.date(2026, 3, 1)
    assert rows["Fay"].last_checkout == dt.date(2026, 2, 10)
    assert rows["Fay"].last_activity == dt.date(2026, 2, 20)
    assert rows["Fay"].last_use == dt.date(2026, 3, 1)
    assert rows["Finn"].last_use is None
    assert rows["Finn"].age_days(rows["Finn"].started) == 0


def test_the_dashboard_counts_the_open_campaigns_each_operator_sees(review: Review) -> None:
    assert review.admin.dashboard.figures().reviews == ReviewCounts(open=0, undecided=0, overdue=0)
    campaign = _start(review)
    fay = _item(review, review.alice, campaign, "Fay")
    review.alice.reviews.decide(campaign, [fay], Decision.KEEP, "still needed")
    # The administrator sees the whole campaign; each reviewer only their team's seats.
    assert review.admin.dashboard.figures().reviews == ReviewCounts(open=1, undecided=3, overdue=0)
    assert review.alice.dashboard.figures().reviews == ReviewCounts(open=1, undecided=1, overdue=0)
    assert review.bob.dashboard.figures().reviews == ReviewCounts(open=1, undecided=2, overdue=0)
    # Past its due date (14 days on) with seats undecided: overdue.
    later = review.admin.reviews.today() + dt.timedelta(days=15)
    assert count_open(review.admin.ctx, later) == ReviewCounts(open=1, undecided=3, overdue=1)
    review.admin.reviews.close(campaign)
    assert review.admin.dashboard.figures().reviews == ReviewCounts(open=0, undecided=0, overdue=0)


# ---------------------------------------------------------------------- moves to another person


def _newcomer(r: Review, name: str, team: int | None, number: int) -> int:
    return r.admin.directory.add_person(
        PersonInput(f"N{number:03}", name, f"{name.lower()}@example.com", team)
    )


def test_a_move_ends_the_holders_seat_and_begins_the_chosen_persons_on_close(
    review: Review, tmp_path: Path
) -> None:
    admin, alice = review.admin, review.alice
    fred = _newcomer(review, "Fred", review.finance, 1)
    campaign = _start(review)
    fay = _item(review, alice, campaign, "Fay")
    assert [c.name for c in alice.reviews.move_candidates(campaign, fay, "fr")] == ["Fred"]
    assert alice.reviews.find_person("FRED@example.com") == fred
    assert alice.reviews.find_person("N001") == fred
    assert alice.reviews.move(campaign, fay, fred, "Fay moved to treasury; Fred took over") == (
        "Fred"
    )
    row = next(r for r in admin.reviews.items(campaign) if r.id == fay)
    assert (row.decision, row.move_to, row.decided_by) == (Decision.MOVE, "Fred", "alice")
    assert "1 to move" in admin.reviews.campaign(campaign).progress
    decided = _entries(review, "review.decide")[-1]["what"]["after"]
    assert (decided["decision"], decided["to_person"], decided["seats"]) == (
        "move",
        fred,
        [review.seats["Fay"]],
    )

    result = admin.reviews.close(campaign)
    assert (result.moved, result.released, result.undecided) == (1, 0, 3)
    assert "1 moved to another person" in result.message
    with admin.db.read() as session:
        old = session.get(SeatAssignment, review.seats["Fay"])
        new = session.scalars(
            select(SeatAssignment).where(
                SeatAssignment.person_id == fred, SeatAssignment.ended_at.is_(None)
            )
        ).one()
        used = session.scalar(
            select(Entitlement.seats_used).where(Entitlement.id == review.entitlement)
        )
    assert old is not None
    assert old.ended_at is not None
    assert new.entitlement_id == review.entitlement
    assert new.started_at == old.ended_at  # the same moment: the close's
    assert used == 4  # one freed, one taken
    closing = _entries(review, "review.close")[-1]
    assert closing["what"]["after"]["moved"] == [
        {
            "item": fay,
            "entitlement": review.entitlement,
            "seat": review.seats["Fay"],
            "from_person": old.person_id,
            "to_person": fred,
            "new_seat": new.id,
            "reviewer": "alice",
            "reason": "Fay moved to treasury; Fred took over",
        }
    ]
    assert closing["what"]["after"]["effective"] == admin.reviews.today().isoformat()
    # The ledger accounts for both seats: 'ledger verify' and an audit's scoped check replay
    # the close's moves and find the rows as stored.
    state = admin.ledger.verify_state()
    assert state.ok, state.differences
    verdict, scoped = check_scope(admin.db, review.vendor, set())
    assert verdict.ok
    assert scoped.ok, scoped.differences
    row = next(r for r in admin.reviews.items(campaign) if r.id == fay)
    assert (row.outcome, row.moved_seat) == (Outcome.MOVED, new.id)
    out = write_csv(admin.reviews.items(campaign), tmp_path / "report.csv")
    with out.open(encoding="utf-8") as handle:
        lines = {line["holder"]: line for line in csv.DictReader(handle)}
    assert (lines["Fay"]["move_to"], lines["Fay"]["new_seat"], lines["Fay"]["outcome"]) == (
        "Fred",
        str(new.id),
        "moved",
    )
    assert lines["Finn"]["move_to"] == ""


def test_a_move_that_cannot_be_carried_out_is_refused_when_decided(review: Review) -> None:
    admin, alice = review.admin, review.alice
    gone = _newcomer(review, "Gone", review.finance, 1)
    admin.directory.mark_left(gone, admin.reviews.today())
    seller = _newcomer(review, "Seller", review.sales, 2)
    nobody = _newcomer(review, "Nobody", None, 3)
    fred = _newcomer(review, "Fred", review.finance, 4)
    finn = next(p for p in admin.reviews.items(_start(review)) if p.holder == "Finn")
    campaign = admin.reviews.campaigns()[0].id
    fay = _item(review, alice, campaign, "Fay")
    with admin.db.read() as session:
        finn_person = session.get(SeatAssignment, finn.assignment_id)
    assert finn_person is not None
    assert finn_person.person_id is not None
    before = ledger_size(admin.db)
    refusals: list[tuple[Any, int, str, type[Exception], str]] = [
        (alice, gone, "why", ValidationError, "Gone left the organization"),
        (alice, finn_person.person_id, "why", ValidationError, "Finn already holds a seat"),
        (alice, seller, "why", PermissionDenied, "Seller is in Sales, which alice does not"),
        (alice, nobody, "why", PermissionDenied, "Nobody is in no team, which alice does not"),
        (alice, fred, " ", ValidationError, "A move needs a reason"),
        (review.bob, fred, "why", PermissionDenied, "bob does not review Finance"),
    ]
    for services, person, reason, error, message in refusals:
        with pytest.raises(error, match=message):
            services.reviews.move(campaign, fay, person, reason)
    with pytest.raises(ValidationError, match="one at a time"):
        alice.reviews.decide(campaign, [fay], Decision.MOVE, "why")
    with pytest.raises(ValidationError, match="one at a time"):
        alice.reviews.decide_team(campaign, review.finance, Decision.MOVE, "why")
    assert ledger_size(admin.db) == before
    # The picker offers only whom a move may go to: active, without a seat, in alice's teams.
    assert [c.name for c in alice.reviews.move_candidates(campaign, fay)] == ["Fred"]
    assert {c.name for c in admin.reviews.move_candidates(campaign, fay)} == {
        "Fred",
        "Nobody",
        "Seller",
    }
    # An administrator may move a seat to another team; one person is chosen once per license.
    assert admin.reviews.move(campaign, fay, seller, "Sales needs it") == "Seller"
    sam = _item(review, admin, campaign, "Sam")
    with pytest.raises(ValidationError, match="Seller is already chosen for another seat"):
        admin.reviews.move(campaign, sam, seller, "why")
    # Deciding the seat again replaces the move.
    alice.reviews.decide(campaign, [fay], Decision.KEEP)
    assert next(r for r in admin.reviews.items(campaign) if r.id == fay).move_to == ""


def test_a_close_is_refused_whole_when_a_move_can_no_longer_be_carried_out(
    review: Review,
) -> None:
    admin, alice, bob = review.admin, review.alice, review.bob
    fred = _newcomer(review, "Fred", review.finance, 1)
    campaign = _start(review)
    alice.reviews.move(campaign, _item(review, alice, campaign, "Fay"), fred, "handover")
    bob.reviews.decide(campaign, [_item(review, bob, campaign, "Sam")], Decision.RELEASE, "idle")
    admin.directory.mark_left(fred, admin.reviews.today())
    before = ledger_size(admin.db)
    with pytest.raises(ValidationError, match=r"cannot close: the move of seat .* Fred left"):
        admin.reviews.close(campaign)
    assert ledger_size(admin.db) == before  # not even the release went
    alice.reviews.decide(campaign, [_item(review, alice, campaign, "Fay")], Decision.KEEP)
    result = admin.reviews.close(campaign)
    assert (result.moved, result.released, result.kept) == (0, 1, 1)
