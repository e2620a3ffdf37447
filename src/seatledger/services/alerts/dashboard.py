"""The dashboard's figures: where the organization stands, in one read of a few aggregates.

Every figure is one SQL aggregate over indexed or small tables, so the whole set costs
milliseconds at any size (a large database has 5,000 entitlements but a million seats; nothing
here touches the seats table except through its person index):

- limits, utilization, expiries and unassigned seats come from ``entitlement`` alone, because
  ``entitlement.seats_used`` is kept by the seat service in the same transaction as every
  assignment;
- open alerts are counted on ``ix_alert_open``;
- **findings** are the two kinds SQL can count without reconciling the inventory: seats held by
  people who left (or are missing from HR), found through ``person.status`` and
  ``ix_seat_person``, and seats still held on entitlements whose term has ended.  They are counted
  per entitlement exactly as the position's findings are.  The inventory findings (over-deployed,
  unlicensed installs, shelfware, duplicates) need the full position (seconds on a large
  database), so the dashboard does not pretend to know them: its card says so and opens the
  Reconciliation page, which computes them.
- audits due are filled in by the audit workflow (``audits_due`` stays None until then), and the
  open access reviews by the access review workflow (``reviews_open``), each through a hook so
  that this module imports neither.

The warning level (90 % unless an administrator sets another) is the alert rules' setting, so the
card, the licenses filter and the alert agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session

from seatledger.domain.licensing import Metric
from seatledger.services.catalog.queries import (
    WARNING_PERCENT,
    EntitlementState,
    entitlement_state_condition,
)
from seatledger.services.core.context import Context
from seatledger.services.core.selects import entitlement_titles
from seatledger.store.models import Entitlement, Person, SeatAssignment, Setting
from seatledger.store.models_alerts import Alert

TOP_N = 10
WARNING_KEY = "alerts.warning_percent"
DEPARTED_STATUSES = ("left", "missing")


@dataclass(frozen=True, slots=True)
class Utilization:
    """One license in the top-N utilization chart."""

    entitlement_id: int
    title: str
    used: int
    quantity: int

    @property
    def share(self) -> float:
        """Used as a fraction of quantity."""
        return self.used / self.quantity if self.quantity else 0.0


@dataclass(frozen=True)
class DashboardFigures:
    """Every number the dashboard shows, as of ``today``."""

    today: dt.date
    warning_percent: int
    licenses: int
    over_limit: int
    near_limit: int
    expiring: dict[int, int]  # days ahead -> licenses ending within them (30, 60, 90)
    unassigned_seats: int
    unassigned_cost: dict[str, Decimal]  # by currency
    unassigned_uncosted: int  # unassigned seats of licenses without a unit cost
    departed_findings: int
    expired_findings: int
    open_alerts: int
    open_alerts_high: int
    top: list[Utilization] = field(default_factory=list)
    audits_due: int | None = None  # filled in by the audit workflow's hook
    reviews: ReviewCounts | None = None  # filled in by the access reviews' hook
    reclaimed: ReclaimedCounts | None = None  # filled in by the reclaim runs' hook

    @property
    def findings(self) -> int:
        """The findings counted here (see the module docstring for which)."""
        return self.departed_findings + self.expired_findings


AuditsDue = Callable[[Context, dt.date], int]
"""Counts the audits due on a date; the audit workflow registers one with the service."""


@dataclass(frozen=True)
class ReviewCounts:
    """The open access review campaigns the operator sees, as the dashboard counts them."""

    open: int  # campaigns not closed yet
    undecided: int  # seats in them nobody has decided
    overdue: int  # open campaigns past their due date with seats undecided


ReviewsOpen = Callable[[Context, dt.date], ReviewCounts]
"""Counts the open access reviews; the access review workflow registers one with the service."""


@dataclass(frozen=True)
class ReclaimedCounts:
    """Seats reclaim runs released, as the dashboard counts them."""

    month: int  # seats released in the month of ``today``
    month_cost: dict[str, Decimal]  # what they cost a term, unit cost x seats, by currency
    year: int  # seats released in the twelve months up to and including this one
    year_cost: dict[str, Decimal]


Reclaimed = Callable[[Context, dt.date], ReclaimedCounts]
"""Counts the seats reclaimed; the reclaim workflow registers one with the service."""


class DashboardService:
    """Computes :class:`DashboardFigures` (read-only; any role)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.audits_due: AuditsDue | None = None
        self.reviews_open: ReviewsOpen | None = None
        self.reclaimed: Reclaimed | None = None

    def warning_percent(self, session: Session) -> int:
        """The warning level in percent (a setting; 90 by default)."""
        value = session.scalar(select(Setting.value).where(Setting.key == WARNING_KEY))
        return int(value) if value is not None and value.strip().isdigit() else WARNING_PERCENT

    def figures(self, top_n: int = TOP_N) -> DashboardFigures:
        """Every figure, read in one transaction."""
        today = self._ctx.clock().astimezone().date()
        with self._ctx.read() as session:
            warning = self.warning_percent(session)
            # One pass over the entitlements: every license figure is a sum of CASEs, grouped
            # by currency and whether a unit cost is known (for what the free seats cost).
            live = Entitlement.retired.is_(False)

            def tally(condition: ColumnElement[bool]) -> Any:
                return func.sum(case((and_(live, condition), 1), else_=0))

            def state(name: EntitlementState) -> ColumnElement[bool]:
                return entitlement_state_condition(name, today, warning)

            unassigned = and_(live, state(EntitlementState.UNASSIGNED))
            free = case((unassigned, Entitlement.quantity - Entitlement.seats_used), else_=0)
            has_cost = Entitlement.unit_cost.is_not(None)
            columns = (
                tally(true()),
                tally(state(EntitlementState.OVER_LIMIT)),
                tally(state(EntitlementState.NEAR_LIMIT)),
                tally(state(EntitlementState.EXPIRING_30)),
                tally(state(EntitlementState.EXPIRING_60)),
                tally(state(EntitlementState.EXPIRING_90)),
                # Seats still held on an ended term, retired or not (as the position counts).
                func.sum(
                    case(
                        (and_(Entitlement.term_end < today, Entitlement.seats_used > 0), 1),
                        else_=0,
                    )
                ),
                func.sum(free),
                func.sum(free * func.coalesce(Entitlement.unit_cost, 0)),
            )
            totals = [0] * 7
            seats = 0
            uncosted = 0
            cost: dict[str, Decimal] = {}
            for currency, costed, *sums in session.execute(
                select(Entitlement.currency, has_cost, *columns).group_by(
                    Entitlement.currency, has_cost
                )
            ):
                for number in range(7):
                    totals[number] += int(sums[number] or 0)
                units, money = int(sums[7] or 0), sums[8]
                seats += units
                if costed and units:
                    total = Decimal(money or 0).quantize(Decimal("0.01"))
                    cost[currency] = cost.get(currency, Decimal(0)) + total
                elif units:
                    uncosted += units
            licenses, over, near, in30, in60, in90, expired = totals
            expiring = {30: in30, 60: in60, 90: in90}
            departed = int(
                session.scalar(
                    select(func.count(func.distinct(SeatAssignment.entitlement_id)))
                    .join(Person, SeatAssignment.person_id == Person.id)
                    .where(Person.status.in_(DEPARTED_STATUSES), SeatAssignment.ended_at.is_(None))
                )
                or 0
            )
            high = case((Alert.severity == "high", 1), else_=0)
            alerts_row = session.execute(
                select(
                    func.count().label("open"),
                    func.coalesce(func.sum(high), 0).label("high"),
                ).where(Alert.acknowledged_at.is_(None))
            ).one()
            top = _top(session, top_n)
        audits = self.audits_due(self._ctx, today) if self.audits_due is not None else None
        reviews = self.reviews_open(self._ctx, today) if self.reviews_open is not None else None
        reclaimed = self.reclaimed(self._ctx, today) if self.reclaimed is not None else None
        return DashboardFigures(
            today=today,
            warning_percent=warning,
            licenses=licenses,
            over_limit=over,
            near_limit=near,
            expiring=expiring,
            unassigned_seats=seats,
            unassigned_cost=dict(sorted(cost.items())),
            unassigned_uncosted=uncosted,
            departed_findings=departed,
            expired_findings=expired,
            open_alerts=int(alerts_row.open),
            open_alerts_high=int(alerts_row.high),
            top=top,
            audits_due=audits,
            reviews=reviews,
            reclaimed=reclaimed,
        )


def _top(session: Session, limit: int) -> list[Utilization]:
    """The most used licenses: chosen from ``entitlement`` alone, then named (N joins, not 8k)."""
    share = Entitlement.seats_used * 1.0 / Entitlement.quantity
    order = (share.desc(), Entitlement.seats_used.desc(), Entitlement.id)
    chosen = (
        select(Entitlement.id)
        .where(
            Entitlement.retired.is_(False),
            Entitlement.metric != Metric.SITE.value,
            Entitlement.quantity > 0,
        )
        .order_by(*order)
        .limit(limit)
        .scalar_subquery()
    )
    rows = session.execute(
        entitlement_titles(Entitlement.seats_used, Entitlement.quantity)
        .where(Entitlement.id.in_(chosen))
        .order_by(*order)
    )
    out: list[Utilization] = []
    for eid, vendor, product, name, used, quantity in rows:
        title = product if product.lower().startswith(vendor.lower()) else f"{vendor} {product}"
        out.append(Utilization(eid, f"{title} — {name}" if name else title, used, quantity))
    return out
