"""The licenses list: entitlements with vendor and product, filtered and sorted in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, true

from seatledger.domain.licensing import Metric
from seatledger.services.core.selects import entitlement_titles, titled
from seatledger.services.core.tables import Row, SearchedQuery, TableColumn, contains, titles
from seatledger.store.models import Entitlement, Product, Vendor

EXPIRING_DAYS = 60


@dataclass(frozen=True, slots=True)
class EntitlementRow:
    """One entitlement as listed."""

    id: int
    vendor: str
    product: str
    name: str
    metric: Metric
    quantity: int
    used: int
    term_start: dt.date | None
    term_end: dt.date | None
    unit_cost: Decimal | None
    currency: str
    po_reference: str

    @property
    def free(self) -> int:
        """Rights left (negative when over-committed)."""
        return self.quantity - self.used

    @property
    def utilization(self) -> float | None:
        """Used as a fraction of quantity; None for site licenses or zero quantity."""
        if self.metric.unlimited or self.quantity == 0:
            return None
        return self.used / self.quantity

    @property
    def over_limit(self) -> bool:
        """Using more than was bought."""
        return not self.metric.unlimited and self.used > self.quantity

    def expired(self, today: dt.date) -> bool:
        """The term has ended."""
        return self.term_end is not None and self.term_end < today

    def expiring(self, today: dt.date, days: int = EXPIRING_DAYS) -> bool:
        """The term ends within ``days``."""
        return self.term_end is not None and today <= self.term_end <= today + dt.timedelta(
            days=days
        )

    @property
    def title(self) -> str:
        """Vendor, product and entitlement name in one line."""
        base = f"{self.vendor} {self.product}"
        return f"{base} — {self.name}" if self.name else base


class EntitlementState(StrEnum):
    """What the licenses list can be narrowed to (the dashboard's cards open these)."""

    ALL = "all"
    OVER_LIMIT = "over_limit"
    NEAR_LIMIT = "near_limit"
    EXPIRING_30 = "expiring_30"
    EXPIRING_60 = "expiring_60"
    EXPIRING_90 = "expiring_90"
    UNASSIGNED = "unassigned"

    @property
    def label(self) -> str:
        """The state as the filter shows it."""
        return _STATE_LABELS[self]

    @property
    def expiring_days(self) -> int | None:
        """For the expiring states, the number of days ahead."""
        return int(self.value.rsplit("_", 1)[1]) if self.value.startswith("expiring") else None


_STATE_LABELS = {
    EntitlementState.ALL: "All licenses",
    EntitlementState.OVER_LIMIT: "Over the limit",
    EntitlementState.NEAR_LIMIT: "At the warning level",
    EntitlementState.EXPIRING_30: "Expiring within 30 days",
    EntitlementState.EXPIRING_60: "Expiring within 60 days",
    EntitlementState.EXPIRING_90: "Expiring within 90 days",
    EntitlementState.UNASSIGNED: "With unassigned seats",
}
WARNING_PERCENT = 90


def entitlement_state_condition(
    state: EntitlementState, today: dt.date, warning_percent: int = WARNING_PERCENT
) -> ColumnElement[bool]:
    """The SQL condition for a state, over ``entitlement`` (the dashboard counts the same)."""
    limited = Entitlement.metric != Metric.SITE.value
    if state is EntitlementState.OVER_LIMIT:
        return and_(limited, Entitlement.seats_used > Entitlement.quantity)
    if state is EntitlementState.NEAR_LIMIT:
        return and_(
            limited,
            Entitlement.quantity > 0,
            Entitlement.seats_used <= Entitlement.quantity,
            Entitlement.seats_used * 100 >= Entitlement.quantity * warning_percent,
        )
    if state is EntitlementState.UNASSIGNED:
        return and_(
            limited,
            Entitlement.seats_used < Entitlement.quantity,
            or_(Entitlement.term_start.is_(None), Entitlement.term_start <= today),
            or_(Entitlement.term_end.is_(None), Entitlement.term_end >= today),
        )
    days = state.expiring_days
    if days is not None:
        return and_(
            Entitlement.term_end >= today,
            Entitlement.term_end <= today + dt.timedelta(days=days),
        )
    return true()


class EntitlementColumn(TableColumn):
    """The licenses list's columns."""

    VENDOR = 0, "Vendor"
    PRODUCT = 1, "Product"
    METRIC = 2, "Metric"
    QUANTITY = 3, "Quantity"
    USED = 4, "Used"
    FREE = 5, "Free"
    UTILIZATION = 6, "Utilization"
    TERM_END = 7, "Term end"


@dataclass(eq=False)
class EntitlementQuery(SearchedQuery):
    """Entitlements with vendor and product, filtered by text, sorted by any column."""

    columns = titles(EntitlementColumn)
    sortable = (True,) * len(EntitlementColumn)

    sort_column: int = EntitlementColumn.VENDOR
    _: KW_ONLY
    over_limit_only: bool = False
    state: EntitlementState = EntitlementState.ALL
    warning_percent: int = WARNING_PERCENT

    def _order(self) -> list[Any]:
        utilization = case(
            (Entitlement.quantity == 0, literal(0.0)),
            else_=Entitlement.seats_used * 1.0 / Entitlement.quantity,
        )
        keys: dict[int, Any] = {
            EntitlementColumn.VENDOR: func.lower(Vendor.name),
            EntitlementColumn.PRODUCT: func.lower(Product.name),
            EntitlementColumn.METRIC: Entitlement.metric,
            EntitlementColumn.QUANTITY: Entitlement.quantity,
            EntitlementColumn.USED: Entitlement.seats_used,
            EntitlementColumn.FREE: Entitlement.quantity - Entitlement.seats_used,
            EntitlementColumn.UTILIZATION: utilization,
            EntitlementColumn.TERM_END: Entitlement.term_end,
        }
        primary = keys[self.sort_column]
        ordered = [primary.desc() if self.descending else primary.asc()]
        if self.sort_column not in (EntitlementColumn.VENDOR, EntitlementColumn.PRODUCT):
            ordered += [func.lower(Vendor.name), func.lower(Product.name)]
        ordered.append(Entitlement.id.desc() if self.descending else Entitlement.id)
        return ordered

    def keys(self) -> Sequence[int]:
        """Matching entitlement ids in display order."""
        query = titled(Entitlement.id).where(Entitlement.retired.is_(False))
        if self.text:
            query = query.where(
                or_(
                    contains(Vendor.name, self.text),
                    contains(Product.name, self.text),
                    contains(Entitlement.name, self.text),
                    contains(Entitlement.po_reference, self.text),
                )
            )
        if self.over_limit_only:
            query = query.where(
                Entitlement.seats_used > Entitlement.quantity,
                Entitlement.metric != Metric.SITE.value,
            )
        if self.state is not EntitlementState.ALL:
            today = self._ctx.clock().astimezone().date()
            query = query.where(
                entitlement_state_condition(self.state, today, self.warning_percent)
            )
        with self._ctx.read() as session:
            return list(session.connection().execute(query.order_by(*self._order())).scalars())

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows for the given ids: each value is a :class:`EntitlementRow` in a 1-tuple."""
        return {key: (row,) for key, row in self.entitlements(keys).items()}

    def entitlements(self, keys: Sequence[int]) -> dict[int, EntitlementRow]:
        """The entitlement rows for ``keys``."""
        query = entitlement_titles(  # labelled as EntitlementRow's fields
            Entitlement.metric,
            Entitlement.quantity,
            Entitlement.seats_used.label("used"),
            Entitlement.term_start,
            Entitlement.term_end,
            Entitlement.unit_cost,
            Entitlement.currency,
            Entitlement.po_reference,
        ).where(Entitlement.id.in_(list(keys)))
        with self._ctx.read() as session:
            return {
                r.id: EntitlementRow(**{**r._asdict(), "metric": Metric(r.metric)})
                for r in session.execute(query)
            }
