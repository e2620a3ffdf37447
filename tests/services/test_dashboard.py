"""Dashboard figures against a small organization whose every number is worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from seatledger.domain.licensing import Metric
from seatledger.services.catalog.queries import EntitlementQuery, EntitlementState
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators.session import Services


class Books:
    """Ids of what :func:`books` created, by letter."""

    ids: dict[str, int]
    people: list[int]


@pytest.fixture
def books(admin: Services) -> Books:
    """Six licenses whose figures are easy to count by hand.

    ====  ========  ====  ====  ===========  =========  ==============================
    name  metric    qty   used  term end     unit cost  what it shows
    ====  ========  ====  ====  ===========  =========  ==============================
    A     user         4     5  —            100 EUR    over the limit (an over-commit)
    B     user        10     9  today + 20    50 EUR    at 90 %, expiring in 30 days
    C     user        10     8  today + 45    20 USD    80 %, expiring in 60 days
    D     user         5     0  today + 80    —         expiring in 90, uncosted
    E     site         0     0  —             —         unlimited: in no figure
    F     user         2     1  today − 10    10 EUR    expired, still held
    ====  ========  ====  ====  ===========  =========  ==============================

    Person 0 holds a seat of A, B, C and F and then leaves: four departed findings.
    """
    today = dt.date.today()
    vendor = admin.catalog.add_vendor("Acme")
    made = Books()
    made.ids = {}
    specs: dict[str, tuple[Metric, int, int | None, Decimal | None, str]] = {
        "A": (Metric.PER_USER, 4, None, Decimal(100), "EUR"),
        "B": (Metric.PER_USER, 10, 20, Decimal(50), "EUR"),
        "C": (Metric.PER_USER, 10, 45, Decimal(20), "USD"),
        "D": (Metric.PER_USER, 5, 80, None, "EUR"),
        "E": (Metric.SITE, 0, None, None, "EUR"),
        "F": (Metric.PER_USER, 2, -10, Decimal(10), "EUR"),
    }
    for letter, (metric, quantity, ends, cost, currency) in specs.items():
        product = admin.catalog.add_product(vendor, f"Product {letter}")
        made.ids[letter] = admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=product,
                metric=metric,
                quantity=quantity,
                term_end=None if ends is None else today + dt.timedelta(days=ends),
                unit_cost=cost,
                currency=currency,
            )
        )
    made.people = [
        admin.directory.add_person(PersonInput(f"B{n:03}", f"Person {n}")) for n in range(10)
    ]
    people = made.people
    admin.seats.assign(made.ids["A"], people=people[:4])
    admin.seats.assign(made.ids["A"], people=people[4:5], reason="migration", over_commit=True)
    admin.seats.assign(made.ids["B"], people=people[:9])
    admin.seats.assign(made.ids["C"], people=people[:8])
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    earlier = Services.for_actor(admin.db, admin.actor, clock=lambda: past)
    earlier.seats.assign(made.ids["F"], people=people[:1])
    admin.directory.mark_left(people[0], today, "resigned")
    return made


def test_figures_match_the_hand_count(admin: Services, books: Books) -> None:
    figures = admin.dashboard.figures()
    assert figures.licenses == 6
    assert figures.over_limit == 1  # A
    assert figures.near_limit == 1  # B at exactly 90 %
    assert figures.expiring == {30: 1, 60: 2, 90: 3}  # B; B, C; B, C, D (F already ended)
    # In term, limited, with free seats: B 1 (50 EUR), C 2 (40 USD), D 5 (no cost).
    assert figures.unassigned_seats == 8
    assert figures.unassigned_cost == {"EUR": Decimal("50.00"), "USD": Decimal("40.00")}
    assert figures.unassigned_uncosted == 5
    assert figures.departed_findings == 4  # A, B, C and F hold a seat of person 0
    assert figures.expired_findings == 1  # F
    assert figures.findings == 5
    assert [(u.title, u.used, u.quantity) for u in figures.top] == [
        ("Acme Product A", 5, 4),
        ("Acme Product B", 9, 10),
        ("Acme Product C", 8, 10),
        ("Acme Product F", 1, 2),
        ("Acme Product D", 0, 5),
    ]
    assert figures.warning_percent == 90


def test_top_is_cut_at_n(admin: Services, books: Books) -> None:
    assert [u.entitlement_id for u in admin.dashboard.figures(top_n=2).top] == [
        books.ids["A"],
        books.ids["B"],
    ]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (EntitlementState.OVER_LIMIT, "A"),
        (EntitlementState.NEAR_LIMIT, "B"),
        (EntitlementState.EXPIRING_30, "B"),
        (EntitlementState.EXPIRING_60, "BC"),
        (EntitlementState.EXPIRING_90, "BCD"),
        (EntitlementState.UNASSIGNED, "BCD"),
        (EntitlementState.ALL, "ABCDEF"),
    ],
)
def test_license_states_filter_the_list_like_the_cards_count(
    admin: Services, books: Books, state: EntitlementState, expected: str
) -> None:
    keys = EntitlementQuery(admin.ctx, state=state).keys()
    by_id = {v: k for k, v in books.ids.items()}
    assert "".join(sorted(by_id[k] for k in keys)) == expected


def test_every_card_count_equals_its_lists_length(admin: Services, books: Books) -> None:
    figures = admin.dashboard.figures()
    for state, count in [
        (EntitlementState.OVER_LIMIT, figures.over_limit),
        (EntitlementState.NEAR_LIMIT, figures.near_limit),
        (EntitlementState.EXPIRING_30, figures.expiring[30]),
        (EntitlementState.EXPIRING_60, figures.expiring[60]),
        (EntitlementState.EXPIRING_90, figures.expiring[90]),
    ]:
        assert len(EntitlementQuery(admin.ctx, state=state).keys()) == count, state


def test_audits_due_comes_from_the_registered_hook(admin: Services, books: Any) -> None:
    admin.dashboard.audits_due = lambda _ctx, _today: 3
    assert admin.dashboard.figures().audits_due == 3


def test_an_empty_database_has_zero_figures(admin: Services) -> None:
    figures = admin.dashboard.figures()
    assert (figures.licenses, figures.over_limit, figures.unassigned_seats) == (0, 0, 0)
    assert figures.unassigned_cost == {}
    assert figures.top == []
