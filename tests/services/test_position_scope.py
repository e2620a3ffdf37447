"""A scoped position is the whole position of its part of the organization, read alone.

On organizations hypothesis draws (as in :mod:`test_position_reference`, with the products spread
over two vendors and people in teams for some days), the position of a vendor or of a set of
products equals the whole position's rows and findings of those products, figure for figure; the
position of some teams equals the reference model's position of the organization cut down to the
people in those teams on the date, the devices they own, and their seats, installs and checkouts
(purchases stay whole).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from decimal import Decimal

import reference_position as ref
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from test_position_reference import (
    _HEALTH,
    DAYS,
    PRODUCTS,
    Built,
    Clock,
    Maker,
    Plan,
    PurchasePlan,
    SeatPlan,
    _day,
    build,
    engine_findings,
    engine_rows,
    fresh_admin,  # noqa: F401 (the fixture, used by name)
    plans,
)

from seatledger.services.position.engine import Position, PositionScope, PositionService
from seatledger.store.db import Database
from seatledger.store.models import PersonTeam, Product, Team, Vendor

EXAMPLES = 60


@dataclasses.dataclass(frozen=True)
class ScopePlan:
    """Which products move to the second vendor, each person's team and when, what to scope."""

    moved: tuple[bool, ...]  # per product: the second vendor's
    # per person: (team index, first day, day after the last) or None (in no team)
    teams: tuple[tuple[int, int | None, int | None] | None, ...]
    products: tuple[bool, ...]  # per product: in the product-set scope
    chosen: tuple[int, ...]  # teams of the team scope


@st.composite
def scope_plans(draw: st.DrawFn) -> ScopePlan:
    memberships: list[tuple[int, int | None, int | None] | None] = []
    for _ in range(4):  # plans() draws at most four people
        if draw(st.booleans()):
            since = draw(st.none() | st.integers(-2, DAYS + 50))
            until = draw(st.none() | st.integers((-3 if since is None else since) + 1, DAYS + 110))
            memberships.append((draw(st.integers(0, 1)), since, until))
        else:
            memberships.append(None)
    return ScopePlan(
        moved=tuple(draw(st.booleans()) for _ in range(3)),
        teams=tuple(memberships),
        products=tuple(draw(st.booleans()) for _ in range(3)),
        chosen=tuple(sorted(draw(st.sets(st.integers(0, 1), min_size=1)))),
    )


def _spread(db: Database, built: Built, plan: Plan, scope: ScopePlan) -> dict[str, int]:
    """Move the chosen products to a second vendor and put people in teams (directly: the
    position reads these rows as they are, whichever service wrote them)."""
    with db.engine.begin() as conn:
        contoso = conn.execute(select(Vendor.id).where(Vendor.name == "Contoso")).scalar_one()
        other = conn.execute(
            Vendor.__table__.insert().values(name="Fabrikam", website="", notes="")
        ).inserted_primary_key
        assert other is not None
        moved = [pid for pid, key in built.products.items() if scope.moved[_index(key)]]
        if moved:
            conn.execute(update(Product).where(Product.id.in_(moved)).values(vendor_id=other[0]))
        teams = []
        for name in ("Finance", "Sales"):
            made = conn.execute(
                Team.__table__.insert().values(name=name, cost_centre="")
            ).inserted_primary_key
            assert made is not None
            teams.append(int(made[0]))
        conn.execute(delete(PersonTeam))
        by_key = {key: pid for pid, key in built.people.items()}
        for n, membership in enumerate(scope.teams[: len(plan.people)]):
            if membership is None:
                continue
            team, since, until = membership
            conn.execute(
                PersonTeam.__table__.insert().values(
                    person_id=by_key[f"P{n + 1}"],
                    team_id=teams[team],
                    valid_from=None if since is None else _day(since),
                    valid_to=None if until is None else _day(until),
                )
            )
    return {"Contoso": contoso, "Fabrikam": int(other[0]), "team0": teams[0], "team1": teams[1]}


def _index(product: str) -> int:
    return PRODUCTS.index(product)


def _in_teams(plan: Plan, scope: ScopePlan, as_of: dt.date) -> set[str]:
    """The people (reference keys) in the chosen teams on ``as_of``."""
    kept = set()
    for n, membership in enumerate(scope.teams[: len(plan.people)]):
        if membership is None:
            continue
        team, since, until = membership
        if (
            team in scope.chosen
            and (since is None or _day(since) <= as_of)
            and (until is None or _day(until) > as_of)
        ):
            kept.add(f"P{n + 1}")
    return kept


def _cut(org: ref.Organization, people: set[str]) -> ref.Organization:
    """``org`` with only ``people``, the devices they own, and what those hold, run and use."""
    devices = tuple(d for d in org.devices if d.owner in people)
    owned = {d.key for d in devices}
    return dataclasses.replace(
        org,
        people=tuple(p for p in org.people if p.key in people),
        devices=devices,
        seats=tuple(
            s for s in org.seats if s.holder[1] in (people if s.holder[0] == "person" else owned)
        ),
        installs=tuple(i for i in org.installs if i.device in owned),
        checkouts=tuple(c for c in org.checkouts if c.user in people),
    )


def _part(whole: Position, keep: set[int]) -> tuple[list[object], list[object]]:
    return (
        [r for r in whole.rows if r.product_id in keep],
        [f for f in whole.findings if f.product_id in keep],
    )


# Found by the search: a seat's units were read as its holder, so someone outside the teams
# holding one unit counted whenever a person with id 1 was in them.
_UNITS_AS_HOLDER = (
    Plan(
        people=((0, 0), (141, None), (110, 140), (0, 31)),
        devices=(),
        products=2,
        purchases=(
            PurchasePlan(0, "named_user", 1, None, None, None, "EUR", Decimal("0.5"), 0),
            PurchasePlan(0, "per_device", 0, None, None, None, "EUR", Decimal("0.5"), 0),
            PurchasePlan(0, "named_user", 2, None, 207, Decimal("0.3333"), "EUR", Decimal(1), 16),
        ),
        seats=(
            SeatPlan(purchase=0, holder=3, day=43, release=None, over_commit=True),
            SeatPlan(purchase=2, holder=1, day=45, release=None, over_commit=True),
            SeatPlan(purchase=2, holder=3, day=116, release=131, over_commit=True),
            SeatPlan(purchase=0, holder=3, day=3, release=None, over_commit=False),
            SeatPlan(purchase=0, holder=1, day=152, release=183, over_commit=True),
        ),
        installs=(),
        checkouts=(),
        as_of=113,
        shelf_days=30,
    ),
    ScopePlan(
        moved=(True, True, True),
        teams=((1, None, None), None, (1, 144, 234), None),
        products=(True, True, False),
        chosen=(1,),
    ),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=_HEALTH)
@given(plan=plans(), scope=scope_plans())
@example(plan=_UNITS_AS_HOLDER[0], scope=_UNITS_AS_HOLDER[1])
def test_a_scoped_position_is_the_whole_position_of_its_part(
    fresh_admin: Maker,  # noqa: F811
    plan: Plan,
    scope: ScopePlan,
) -> None:
    clock = Clock()
    admin, folder = fresh_admin(clock)
    try:
        built = build(admin, clock, plan, folder)
        ids = _spread(admin.db, built, plan, scope)
        as_of = _day(plan.as_of)
        service = PositionService(admin.ctx)
        whole = service.position(as_of, shelf_days=plan.shelf_days)
        assert whole.scope.whole
        vendor_of = {
            pid: ("Fabrikam" if scope.moved[_index(key)] else "Contoso")
            for pid, key in built.products.items()
        }

        # A vendor: every one of its rows and findings, and nothing else.
        for vendor in ("Contoso", "Fabrikam"):
            part = service.position(
                as_of, plan.shelf_days, scope=PositionScope(vendor_id=ids[vendor])
            )
            keep = {pid for pid, v in vendor_of.items() if v == vendor}
            assert (part.rows, part.findings) == _part(whole, keep), vendor
            assert part.scope == PositionScope(vendor_id=ids[vendor])

        # A set of products (of one vendor, as an audit names them, or of any).
        chosen = {pid for pid, key in built.products.items() if scope.products[_index(key)]}
        if chosen:
            part = service.position(
                as_of, plan.shelf_days, scope=PositionScope(product_ids=tuple(sorted(chosen)))
            )
            assert (part.rows, part.findings) == _part(whole, chosen)
            for vendor in ("Contoso", "Fabrikam"):
                theirs = {pid for pid in chosen if vendor_of[pid] == vendor}
                narrowed = PositionScope(ids[vendor], tuple(sorted(chosen)))
                part = service.position(as_of, plan.shelf_days, scope=narrowed)
                assert (part.rows, part.findings) == _part(whole, theirs)

        # Teams: the reference position of the organization cut down to the teams' people.
        teams = tuple(ids[f"team{t}"] for t in scope.chosen)
        part = service.position(as_of, plan.shelf_days, scope=PositionScope(team_ids=teams))
        expected = ref.position(
            _cut(built.org, _in_teams(plan, scope, as_of)), as_of, plan.shelf_days
        )
        assert engine_rows(built, part) == expected.rows
        assert engine_findings(built, part) == expected.findings
        # Teams and a vendor: the teams' position of that vendor's products.
        contoso = service.position(
            as_of, plan.shelf_days, scope=PositionScope(ids["Contoso"], team_ids=teams)
        )
        assert (contoso.rows, contoso.findings) == _part(
            part, {p for p, v in vendor_of.items() if v == "Contoso"}
        )
    finally:
        admin.db.dispose()
        shutil.rmtree(folder, ignore_errors=True)
