"""Read-side query objects for the tables: keys in SQL order, then rows for the visible block.

A table model holds only the keys a query returned (``keys()``) and asks for the rows of the block
on screen (``rows(keys)``), so a million-row table costs one key list and a few small queries.
Sorting and filtering happen in SQL on indexed columns; nothing sorts in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, true

from seatledger.domain.licensing import Metric
from seatledger.errors import NotFoundError
from seatledger.services.core.context import Context
from seatledger.services.ledger.verify import decode_body, summarize
from seatledger.store.models import (
    Device,
    Entitlement,
    LedgerEntry,
    LedgerHead,
    Operator,
    Person,
    Product,
    SeatAssignment,
    Team,
    Vendor,
)

EXPIRING_DAYS = 60
Row = tuple[Any, ...]


class TableQuery(Protocol):
    """What a keyed table model needs from a query."""

    columns: tuple[str, ...]
    sortable: tuple[bool, ...]

    def keys(self) -> Sequence[int]:
        """Every matching key, in display order."""
        ...

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """The display rows for ``keys`` (any order), by key."""
        ...


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    return func.lower(column).like(_like(text), escape="\\")


# ----------------------------------------------------------------------------------- licenses


@dataclass(frozen=True, slots=True)
class LicenseRow:
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


class LicenseState(StrEnum):
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
    LicenseState.ALL: "All licenses",
    LicenseState.OVER_LIMIT: "Over the limit",
    LicenseState.NEAR_LIMIT: "At the warning level",
    LicenseState.EXPIRING_30: "Expiring within 30 days",
    LicenseState.EXPIRING_60: "Expiring within 60 days",
    LicenseState.EXPIRING_90: "Expiring within 90 days",
    LicenseState.UNASSIGNED: "With unassigned seats",
}
WARNING_PERCENT = 90


def license_state_condition(
    state: LicenseState, today: dt.date, warning_percent: int = WARNING_PERCENT
) -> ColumnElement[bool]:
    """The SQL condition for a state, over ``entitlement`` (the dashboard counts the same)."""
    limited = Entitlement.metric != Metric.SITE.value
    if state is LicenseState.OVER_LIMIT:
        return and_(limited, Entitlement.seats_used > Entitlement.quantity)
    if state is LicenseState.NEAR_LIMIT:
        return and_(
            limited,
            Entitlement.quantity > 0,
            Entitlement.seats_used <= Entitlement.quantity,
            Entitlement.seats_used * 100 >= Entitlement.quantity * warning_percent,
        )
    if state is LicenseState.UNASSIGNED:
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


class LicenseQuery:
    """Entitlements with vendor and product, filtered by text, sorted by any column."""

    columns: tuple[str, ...] = (
        "Vendor",
        "Product",
        "Metric",
        "Quantity",
        "Used",
        "Free",
        "Utilization",
        "Term end",
    )
    sortable: tuple[bool, ...] = (True,) * 8

    def __init__(
        self,
        ctx: Context,
        text: str = "",
        sort_column: int = 0,
        descending: bool = False,
        *,
        over_limit_only: bool = False,
        state: LicenseState = LicenseState.ALL,
        warning_percent: int = WARNING_PERCENT,
    ) -> None:
        self._ctx = ctx
        self.text = text.strip()
        self.sort_column = sort_column
        self.descending = descending
        self.over_limit_only = over_limit_only
        self.state = state
        self.warning_percent = warning_percent

    def _order(self) -> list[Any]:
        utilization = case(
            (Entitlement.quantity == 0, literal(0.0)),
            else_=Entitlement.seats_used * 1.0 / Entitlement.quantity,
        )
        keys: list[Any] = [
            func.lower(Vendor.name),
            func.lower(Product.name),
            Entitlement.metric,
            Entitlement.quantity,
            Entitlement.seats_used,
            Entitlement.quantity - Entitlement.seats_used,
            utilization,
            Entitlement.term_end,
        ]
        primary = keys[self.sort_column]
        ordered = [primary.desc() if self.descending else primary.asc()]
        if self.sort_column > 1:
            ordered += [func.lower(Vendor.name), func.lower(Product.name)]
        ordered.append(Entitlement.id.desc() if self.descending else Entitlement.id)
        return ordered

    def keys(self) -> Sequence[int]:
        """Matching entitlement ids in display order."""
        query = (
            select(Entitlement.id)
            .join(Product, Entitlement.product_id == Product.id)
            .join(Vendor, Product.vendor_id == Vendor.id)
            .where(Entitlement.retired.is_(False))
        )
        if self.text:
            query = query.where(
                or_(
                    _contains(Vendor.name, self.text),
                    _contains(Product.name, self.text),
                    _contains(Entitlement.name, self.text),
                    _contains(Entitlement.po_reference, self.text),
                )
            )
        if self.over_limit_only:
            query = query.where(
                Entitlement.seats_used > Entitlement.quantity,
                Entitlement.metric != Metric.SITE.value,
            )
        if self.state is not LicenseState.ALL:
            today = self._ctx.clock().astimezone().date()
            query = query.where(license_state_condition(self.state, today, self.warning_percent))
        with self._ctx.read() as session:
            return list(session.scalars(query.order_by(*self._order())))

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows for the given ids: each value is a :class:`LicenseRow` in a 1-tuple."""
        return {key: (row,) for key, row in self.licenses(keys).items()}

    def licenses(self, keys: Sequence[int]) -> dict[int, LicenseRow]:
        """The license rows for ``keys``."""
        query = (
            select(
                Entitlement.id,
                Vendor.name,
                Product.name,
                Entitlement.name,
                Entitlement.metric,
                Entitlement.quantity,
                Entitlement.seats_used,
                Entitlement.term_start,
                Entitlement.term_end,
                Entitlement.unit_cost,
                Entitlement.currency,
                Entitlement.po_reference,
            )
            .join(Product, Entitlement.product_id == Product.id)
            .join(Vendor, Product.vendor_id == Vendor.id)
            .where(Entitlement.id.in_(list(keys)))
        )
        with self._ctx.read() as session:
            return {
                r[0]: LicenseRow(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    Metric(r[4]),
                    r[5],
                    r[6],
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                    r[11],
                )
                for r in session.execute(query)
            }


def _holds(holder: ColumnElement[bool], entitlement_id: int) -> ColumnElement[bool]:
    """The holder has an open seat of the entitlement (for pickers that hide existing holders)."""
    return (
        select(SeatAssignment.id)
        .where(
            holder,
            SeatAssignment.entitlement_id == entitlement_id,
            SeatAssignment.ended_at.is_(None),
        )
        .exists()
    )


# ------------------------------------------------------------------------------------- people


class PeopleQuery:
    """People with their team and the number of seats they hold."""

    columns: tuple[str, ...] = ("Employee ID", "Name", "Email", "Team", "Status", "Seats")
    sortable: tuple[bool, ...] = (True, True, True, True, True, True)

    def __init__(
        self,
        ctx: Context,
        text: str = "",
        sort_column: int = 1,
        descending: bool = False,
        *,
        team_id: int | None = None,
        status: str | None = None,
        without_seat_of: int | None = None,
    ) -> None:
        self._ctx = ctx
        self.text = text.strip()
        self.sort_column = sort_column
        self.descending = descending
        self.team_id = team_id
        self.status = status
        self.without_seat_of = without_seat_of

    @staticmethod
    def _seats() -> Any:
        return (
            select(func.count())
            .where(SeatAssignment.person_id == Person.id, SeatAssignment.ended_at.is_(None))
            .scalar_subquery()
        )

    def keys(self) -> Sequence[int]:
        """Matching person ids in display order."""
        sort_keys: list[Any] = [
            Person.employee_id,
            Person.name,
            Person.email,
            Team.name,
            Person.status,
            self._seats(),
        ]
        primary = sort_keys[self.sort_column]
        query = select(Person.id)
        if self.sort_column == 3:
            query = query.outerjoin(Team, Person.team_id == Team.id)
        conditions: list[ColumnElement[bool]] = []
        if self.text:
            conditions.append(
                or_(
                    _contains(Person.name, self.text),
                    _contains(Person.employee_id, self.text),
                    _contains(Person.email, self.text),
                )
            )
        if self.team_id is not None:
            conditions.append(Person.team_id == self.team_id)
        if self.status is not None:
            conditions.append(Person.status == self.status)
        if self.without_seat_of is not None:
            conditions.append(~_holds(SeatAssignment.person_id == Person.id, self.without_seat_of))
        if conditions:
            query = query.where(and_(*conditions))
        order = primary.desc() if self.descending else primary.asc()
        tie = Person.id.desc() if self.descending else Person.id.asc()
        with self._ctx.read() as session:
            return list(session.scalars(query.order_by(order, tie)))

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: employee id, name, email, team, status, seats held, date left."""
        query = (
            select(
                Person.id,
                Person.employee_id,
                Person.name,
                Person.email,
                Team.name,
                Person.status,
                self._seats(),
                Person.date_left,
            )
            .outerjoin(Team, Person.team_id == Team.id)
            .where(Person.id.in_(list(keys)))
        )
        with self._ctx.read() as session:
            return {r[0]: tuple(r[1:]) for r in session.execute(query)}


# ------------------------------------------------------------------------------------ devices


class DeviceQuery:
    """Devices with their owner and the number of seats they hold."""

    columns: tuple[str, ...] = (
        "Host name",
        "Serial",
        "Owner",
        "Processors",
        "Cores",
        "OS",
        "Seats",
    )
    sortable: tuple[bool, ...] = (True,) * 7

    def __init__(
        self,
        ctx: Context,
        text: str = "",
        sort_column: int = 0,
        descending: bool = False,
        *,
        without_seat_of: int | None = None,
    ) -> None:
        self._ctx = ctx
        self.text = text.strip()
        self.sort_column = sort_column
        self.descending = descending
        self.without_seat_of = without_seat_of

    @staticmethod
    def _seats() -> Any:
        return (
            select(func.count())
            .where(SeatAssignment.device_id == Device.id, SeatAssignment.ended_at.is_(None))
            .scalar_subquery()
        )

    def keys(self) -> Sequence[int]:
        """Matching device ids in display order."""
        sort_keys: list[Any] = [
            Device.hostname,
            Device.serial,
            Person.name,
            Device.processors,
            Device.cores,
            Device.os,
            self._seats(),
        ]
        primary = sort_keys[self.sort_column]
        query = select(Device.id)
        if self.sort_column == 2:
            query = query.outerjoin(Person, Device.owner_id == Person.id)
        if self.text:
            query = query.where(
                or_(_contains(Device.hostname, self.text), _contains(Device.serial, self.text))
            )
        if self.without_seat_of is not None:
            query = query.where(
                ~_holds(SeatAssignment.device_id == Device.id, self.without_seat_of)
            )
        order = primary.desc() if self.descending else primary.asc()
        tie = Device.id.desc() if self.descending else Device.id.asc()
        with self._ctx.read() as session:
            return list(session.scalars(query.order_by(order, tie)))

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: host name, serial, owner, processors, cores, OS, seats held."""
        query = (
            select(
                Device.id,
                Device.hostname,
                Device.serial,
                Person.name,
                Device.processors,
                Device.cores,
                Device.os,
                self._seats(),
            )
            .outerjoin(Person, Device.owner_id == Person.id)
            .where(Device.id.in_(list(keys)))
        )
        with self._ctx.read() as session:
            return {r[0]: tuple(r[1:]) for r in session.execute(query)}


# -------------------------------------------------------------------------------------- seats


class SeatQuery:
    """The assignments of one entitlement (open ones, or the whole history)."""

    columns: tuple[str, ...] = (
        "Holder",
        "Kind",
        "Units",
        "Assigned",
        "Assigned by",
        "Released",
        "Note",
    )
    sortable: tuple[bool, ...] = (False, False, True, True, False, True, False)

    def __init__(
        self,
        ctx: Context,
        entitlement_id: int,
        *,
        include_released: bool = False,
        sort_column: int = 3,
        descending: bool = True,
    ) -> None:
        self._ctx = ctx
        self.entitlement_id = entitlement_id
        self.include_released = include_released
        self.sort_column = sort_column if self.sortable[sort_column] else 3
        self.descending = descending

    def keys(self) -> Sequence[int]:
        """Assignment ids in display order."""
        sort_keys: dict[int, Any] = {
            2: SeatAssignment.units,
            3: SeatAssignment.started_at,
            5: SeatAssignment.ended_at,
        }
        primary = sort_keys[self.sort_column]
        query = select(SeatAssignment.id).where(
            SeatAssignment.entitlement_id == self.entitlement_id
        )
        if not self.include_released:
            query = query.where(SeatAssignment.ended_at.is_(None))
        order = primary.desc() if self.descending else primary.asc()
        tie = SeatAssignment.id.desc() if self.descending else SeatAssignment.id.asc()
        with self._ctx.read() as session:
            return list(session.scalars(query.order_by(order, tie)))

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: holder, kind, units, started, assigned by, ended, note, over-commit reason."""
        assigner = Operator.__table__.alias("assigner")
        query = (
            select(
                SeatAssignment.id,
                func.coalesce(Person.name, Device.hostname),
                case(
                    (SeatAssignment.person_id.is_not(None), literal("Person")),
                    else_=literal("Device"),
                ),
                SeatAssignment.units,
                SeatAssignment.started_at,
                assigner.c.name,
                SeatAssignment.ended_at,
                SeatAssignment.note,
                SeatAssignment.over_commit_reason,
            )
            .outerjoin(Person, SeatAssignment.person_id == Person.id)
            .outerjoin(Device, SeatAssignment.device_id == Device.id)
            .join(assigner, SeatAssignment.assigned_by == assigner.c.id)
            .where(SeatAssignment.id.in_(list(keys)))
        )
        with self._ctx.read() as session:
            return {r[0]: tuple(r[1:]) for r in session.execute(query)}


# ----------------------------------------------------------------------------------- activity


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """What the activity view is narrowed to; empty fields do not filter."""

    operator: str = ""
    action: str = ""
    entity_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def empty(self) -> bool:
        """No filter at all."""
        return not (
            self.operator or self.action or self.entity_type or self.date_from or self.date_to
        )


class ActivityQuery:
    """Ledger entries, newest first, filtered by operator, action, entity and date."""

    columns: tuple[str, ...] = (
        "#",
        "Time (UTC)",
        "Operator",
        "Action",
        "Entity",
        "Reason",
        "Details",
    )
    sortable: tuple[bool, ...] = (False,) * 7

    def __init__(self, ctx: Context, flt: ActivityFilter | None = None) -> None:
        self._ctx = ctx
        self.filter = flt or ActivityFilter()

    def keys(self) -> Sequence[int]:
        """Matching sequence numbers, newest first.

        Unfiltered, the sequence is dense 1..N, so the keys are a ``range``: no query, no memory.
        """
        with self._ctx.read() as session:
            size = session.scalar(select(LedgerHead.size)) or 0
            if self.filter.empty:
                return range(size, 0, -1)
            flt = self.filter
            query = select(LedgerEntry.seq).where(LedgerEntry.seq <= size)
            if flt.operator:
                query = query.where(LedgerEntry.operator == flt.operator)
            if flt.action:
                query = query.where(LedgerEntry.action == flt.action)
            if flt.entity_type:
                query = query.where(LedgerEntry.entity_type == flt.entity_type)
            if flt.date_from:
                query = query.where(LedgerEntry.ts >= flt.date_from.isoformat())
            if flt.date_to:
                end = flt.date_to + dt.timedelta(days=1)
                query = query.where(LedgerEntry.ts < end.isoformat())
            return list(session.scalars(query.order_by(LedgerEntry.seq.desc())))

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: seq, time, operator, action, entity, reason, summary of the change."""
        query = select(
            LedgerEntry.seq,
            LedgerEntry.ts,
            LedgerEntry.operator,
            LedgerEntry.action,
            LedgerEntry.entity_type,
            LedgerEntry.entity_id,
            LedgerEntry.body,
        ).where(LedgerEntry.seq.in_(list(keys)))
        out: dict[int, Row] = {}
        with self._ctx.read() as session:
            for seq, ts, operator, action, entity, entity_id, body in session.execute(query):
                decoded = decode_body(bytes(body))
                label = f"{entity} {entity_id}".strip()
                out[seq] = (
                    seq,
                    ts.replace("T", " ")[:19],
                    operator,
                    action,
                    label,
                    decoded.get("what", {}).get("reason", ""),
                    summarize(decoded),
                )
        return out


@dataclass(frozen=True, slots=True)
class Counts:
    """How many of each thing the navigation shows."""

    licenses: int
    people: int
    devices: int
    ledger: int


def counts(ctx: Context) -> Counts:
    """Row counts for the navigation, by ``COUNT(*)`` (the ledger's from its head record)."""
    with ctx.read() as session:
        licenses = session.scalar(
            select(func.count()).select_from(Entitlement).where(Entitlement.retired.is_(False))
        )
        people = session.scalar(select(func.count()).select_from(Person))
        devices = session.scalar(select(func.count()).select_from(Device))
        ledger = session.scalar(select(LedgerHead.size))
    return Counts(licenses or 0, people or 0, devices or 0, ledger or 0)


def ledger_entry(ctx: Context, seq: int) -> dict[str, Any]:
    """One ledger entry's canonical body, decoded, with its hashes (hex) for display.

    Raises:
        NotFoundError: no entry has that sequence number.
    """
    with ctx.read() as session:
        row = session.execute(
            select(LedgerEntry.body, LedgerEntry.prev_hash, LedgerEntry.hash).where(
                LedgerEntry.seq == seq
            )
        ).first()
    if row is None:
        raise NotFoundError(f"Ledger entry {seq} does not exist.")
    body = decode_body(bytes(row[0]))
    return {"entry": body, "prev_hash": bytes(row[1]).hex(), "hash": bytes(row[2]).hex()}
