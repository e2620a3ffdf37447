"""The effective license position and its findings, as of any date, from stored history.

Per product and metric: rights owned (entitlements in term on the date), rights assigned (seats
open on the date), rights needed (what the metric counts over everyone and everything holding a
seat, running an install or checking out a license), available, unlicensed installs, true-up cost
and over-licensed amount.

Installs and usage count toward the product's *primary* metric (the one with the most rights
owned; per device when nothing was bought); its other metric rows count their own seats only.
Holders are (product, device) and (product, person) pairs packed into 64-bit keys, so millions
of installs become a few numpy set operations; the metric rules themselves are the pure
functions of ``domain.metrics``, applied per distinct hardware shape.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, or_, select, true, union
from sqlalchemy.orm import Session

from seatledger.domain import metrics
from seatledger.domain.licensing import (
    Metric,
    UnitTable,
    device_units,
    stored_factor,
    stored_table,
)
from seatledger.lazy import LazyModule
from seatledger.progress import SILENT, Progress
from seatledger.services.core.context import Context
from seatledger.services.position import grants
from seatledger.services.position.evidence import SourceRow, position_sources
from seatledger.services.position.periods import (  # re-exported: readers take them from here
    CONCURRENT_WINDOW_DAYS as CONCURRENT_WINDOW_DAYS,  # noqa: PLC0414
)
from seatledger.services.position.periods import end_of as end_of  # noqa: PLC0414
from seatledger.services.position.periods import in_term as in_term  # noqa: PLC0414
from seatledger.services.position.periods import installed as installed  # noqa: PLC0414
from seatledger.services.position.periods import seat_open as seat_open  # noqa: PLC0414
from seatledger.services.position.sources import (
    account_sources,
    entitlement_sources,
    record_sources,
    seat_sources,
    source_text,
)
from seatledger.services.usage.sessions import checked_in, out_during, sampling_interval
from seatledger.services.usage.snapshots import ConcurrencyBasis, sightings
from seatledger.store.bulk import Bulk
from seatledger.store.models import (
    Device,
    Entitlement,
    ImportBatch,
    Installation,
    Person,
    PersonTeam,
    Product,
    SeatAssignment,
    SoftwareTitle,
    UsageDenial,
    UsageSession,
    Vendor,
)
from seatledger.text import agree, plural

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy as np
    from numpy.typing import NDArray

    Keys = NDArray[np.int64]
else:  # imported when a position is first computed, not at start-up
    np = LazyModule("numpy")

DETAIL_LIMIT = 5000
_SHIFT = 32
_METRICS = list(Metric)
_CODE = {m: i for i, m in enumerate(_METRICS)}
_USER_METRICS = frozenset({Metric.PER_USER, Metric.SUBSCRIPTION})
_UNOWNED = 1 << 31  # person-side key of an install on a device nobody owns (counted as one user)


class Column(StrEnum):
    """A position number a user can drill into."""

    OWNED = "owned"
    ASSIGNED = "assigned"
    NEEDED = "needed"
    UNLICENSED = "unlicensed"


@dataclass(frozen=True, slots=True)
class PositionRow:
    """One product and metric's position on a date."""

    product_id: int
    vendor: str
    product: str
    metric: Metric
    bought: bool  # False: installs or seats found, no entitlement in term
    owned: int | None  # None: unlimited (site)
    assigned: int
    needed: int
    unlicensed: int
    unit_cost: Decimal | None
    currency: str
    ended: bool = False  # not bought now, but bought before: every purchase's term has ended
    # Devices behind a per-core or per-processor row whose cores (or processors) are unknown:
    # not in ``needed`` (nothing is invented for them), so ``needed`` is a lower bound.
    unknown_hardware: int = 0
    # The average unit cost within each currency bought in (set where there are several: the
    # true-up is then priced per currency, never averaged across them).
    unit_costs: tuple[tuple[str, Decimal], ...] = ()

    @property
    def available(self) -> int | None:
        """Rights owned minus rights needed (negative: short); None when unlimited."""
        return None if self.owned is None else self.owned - self.needed

    @property
    def shortfall(self) -> int:
        """Rights to buy."""
        return 0 if self.owned is None else max(self.needed - self.owned, 0)

    @property
    def over_licensed(self) -> int:
        """Rights owned beyond what is needed."""
        return 0 if self.owned is None else max(self.owned - self.needed, 0)

    @property
    def true_up(self) -> Decimal | None:
        """The shortfall at the purchases' average unit cost; None when no cost is known."""
        if not self.shortfall:
            return Decimal("0.00")
        if self.unit_cost is None:
            return None
        return (self.unit_cost * self.shortfall).quantize(Decimal("0.01"))

    @property
    def true_ups(self) -> dict[str, Decimal]:
        """The shortfall priced in each currency the product was bought in (its purchases' average
        there), when they were bought in several; empty otherwise (see :attr:`true_up`)."""
        if len(self.unit_costs) < 2 or not self.shortfall:
            return {}
        return {c: (cost * self.shortfall).quantize(Decimal("0.01")) for c, cost in self.unit_costs}

    def true_ups_text(self, between: str = " or ") -> str:
        """:attr:`true_ups` as shown: "220.00 EUR or 400.00 USD" ("" when there are none)."""
        return between.join(f"{v:,.2f} {c}" for c, v in self.true_ups.items())

    @property
    def title(self) -> str:
        """Vendor and product as shown ("Microsoft 365 E3", not "Microsoft Microsoft 365 E3")."""
        return _title(self.vendor, self.product)

    @property
    def metric_label(self) -> str:
        """The metric as shown (with a mark when nothing is bought)."""
        if self.bought:
            return self.metric.label
        return f"{self.metric.label} ({'ended' if self.ended else 'not bought'})"


@dataclass(frozen=True, slots=True)
class Holder:
    """A row behind a number: a person, a device or a purchase, and why it counts."""

    kind: str  # "person", "device", "entitlement"
    id: int
    name: str
    detail: str
    since: str = ""
    # The import the row rests on, as :func:`source_text` says it ("" for what no file gave),
    # or for a seat or purchase entered by hand, its ledger entry.
    source: str = ""
    # A person's or device's own fields: the import line (or ledger entry) that last set them.
    record: str = ""
    seat: int = 0  # the seat the row stands for (0: none), whose source :func:`_sourced` adds


class FindingKind(StrEnum):
    """Discrepancies an audit must resolve."""

    OVER_DEPLOYED = "over_deployed"
    UNLICENSED = "unlicensed_install"
    SHELFWARE = "shelfware"
    DEPARTED = "departed_holder"
    # HR employs them, the directory has disabled their account, and they still hold seats.
    DISABLED_ACCOUNT = "disabled_account_holder"
    EXPIRED = "expired_in_use"
    DUPLICATE = "duplicate_assignment"
    UNKNOWN_HARDWARE = "unknown_hardware"
    FACTORS_DIFFER = "core_factors_differ"
    USED_WITHOUT_SEAT = "used_without_seat"
    DENIED = "checkouts_denied"
    # A license file ('lmstat -i' grants) against the purchases: see services.position.grants.
    GRANTS_OVER = grants.OVER
    GRANTS_UNDER = grants.UNDER
    GRANTS_EXPIRY = grants.EXPIRY

    @property
    def label(self) -> str:
        """The kind as shown."""
        return _FINDING_LABELS[self]


_FINDING_LABELS = {
    FindingKind.OVER_DEPLOYED: "Over-deployed",
    FindingKind.UNLICENSED: "Unlicensed installs",
    FindingKind.SHELFWARE: "Shelfware",
    FindingKind.DEPARTED: "Seat held by someone who left",
    FindingKind.DISABLED_ACCOUNT: "Account disabled, still holds seats",
    FindingKind.EXPIRED: "Expired entitlement in use",
    FindingKind.DUPLICATE: "Duplicate assignment",
    FindingKind.UNKNOWN_HARDWARE: "Hardware unknown",
    FindingKind.FACTORS_DIFFER: "Core factors differ",
    FindingKind.USED_WITHOUT_SEAT: "Used without a seat",
    FindingKind.DENIED: "Checkouts refused",
    FindingKind.GRANTS_OVER: "License file grants more",
    FindingKind.GRANTS_UNDER: "License file grants fewer",
    FindingKind.GRANTS_EXPIRY: "License file expiry differs",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One discrepancy and how many rows are behind it."""

    kind: FindingKind
    product_id: int
    vendor: str
    product: str
    entitlement_id: int | None
    count: int
    text: str

    @property
    def title(self) -> str:
        """Vendor and product as shown."""
        return _title(self.vendor, self.product)


def short_of_rights(rows: Sequence[PositionRow]) -> str:
    """How many rows are short of rights and by how many units in all, as headers say it:
    "1 row short of rights, by 6 units" (a row's figure is units: seats, cores, processors)."""
    short = [row.shortfall for row in rows if row.shortfall]
    if not short:
        return "no row short of rights"
    return f"{plural(len(short), 'row')} short of rights, by {plural(sum(short), 'unit')}"


def _title(vendor: str, product: str) -> str:
    return product if product.lower().startswith(vendor.lower()) else f"{vendor} {product}"


@dataclass(frozen=True, slots=True)
class PositionScope:
    """The part of the organization a position is computed for (the whole of it by default).

    ``vendor_id`` and ``product_ids`` narrow the products: the rows and findings are exactly the
    whole position's rows and findings of those products, read without the rest.  ``team_ids``
    narrows the holders: only the people in those teams on the as-of date and the devices they
    own count (their seats, installs, checkouts and head count); purchases stay whole.
    """

    vendor_id: int | None = None
    product_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()

    @property
    def whole(self) -> bool:
        """Whether the scope is the whole organization."""
        return self.vendor_id is None and not self.product_ids and not self.team_ids


WHOLE = PositionScope()


@dataclass(frozen=True)
class Position:
    """The whole position on a date, with its findings."""

    as_of: dt.date
    rows: list[PositionRow]
    findings: list[Finding]
    shelf_days: int
    facts: dict[str, int] = field(default_factory=dict)
    scope: PositionScope = WHOLE  # the part of the organization read
    # Per product with a concurrent-use row: what its figure rests on (snapshots or a log).
    basis: dict[int, ConcurrencyBasis] = field(default_factory=dict)


@dataclass(frozen=True)
class _Within:
    """A scope resolved for one date: the products and people it keeps (None: every one)."""

    products: tuple[int, ...] | None
    people: Keys | None  # sorted person ids in the scope's teams on the date
    teams: tuple[int, ...] = ()
    product_set: frozenset[int] = frozenset()
    people_set: frozenset[int] = frozenset()

    def keeps(self, pid: int) -> bool:
        """Whether product ``pid`` is in the scope."""
        return self.products is None or pid in self.product_set

    def holds(self, person: int | None) -> bool:
        """Whether a checkout by ``person`` (None: nobody known) counts in the scope."""
        return self.people is None or person in self.people_set

    def where(self, column: Any) -> ColumnElement[bool]:
        """``column`` (a product id) inside the scope."""
        return true() if self.products is None else column.in_(self.products)

    def raw(self, sql: str) -> str:
        """``sql``, a raw condition on product ids (``{}`` for the list), or TRUE when whole."""
        if self.products is None:
            return "1 = 1"
        return sql.format(", ".join(str(int(p)) for p in self.products) or "NULL")


def _within(session: Session, scope: PositionScope, day: dt.date) -> _Within:
    products: tuple[int, ...] | None = None
    if scope.vendor_id is not None or scope.product_ids:
        query = select(Product.id).order_by(Product.id)
        if scope.vendor_id is not None:
            query = query.where(Product.vendor_id == scope.vendor_id)
        if scope.product_ids:
            query = query.where(Product.id.in_(scope.product_ids))
        products = tuple(int(p) for p in session.scalars(query))
    people: Keys | None = None
    if scope.team_ids:
        people = _distinct(
            np.fromiter(
                session.scalars(
                    select(PersonTeam.person_id).where(
                        PersonTeam.team_id.in_(scope.team_ids), member_on(day)
                    )
                ),
                dtype=np.int64,
            )
        )
    return _Within(
        products,
        people,
        tuple(scope.team_ids),
        frozenset(products or ()),
        frozenset(people.tolist()) if people is not None else frozenset(),
    )


def _staff_count(day: dt.date, within: _Within) -> Any:
    """The head count of ``day`` (site metrics), of the scope's teams when it names some."""
    query = select(func.count()).select_from(Person).where(employed_on(day))
    if within.teams:
        query = query.where(
            Person.id.in_(
                select(PersonTeam.person_id).where(
                    PersonTeam.team_id.in_(within.teams), member_on(day)
                )
            )
        )
    return query


def member_on(day: dt.date) -> ColumnElement[bool]:
    """Memberships held on ``day``."""
    return and_(
        or_(PersonTeam.valid_from.is_(None), PersonTeam.valid_from <= day),
        or_(PersonTeam.valid_to.is_(None), PersonTeam.valid_to > day),
    )


def employed_on(day: dt.date) -> ColumnElement[bool]:
    """People on staff on ``day``: joined by then (where HR gave the day; everyone else counts
    from the start), and still active, or left (or gone from HR) only after it.

    Site and employee metrics count the head count of the as-of date, not today's.
    """
    return and_(
        or_(Person.date_joined.is_(None), Person.date_joined <= day),
        or_(
            Person.status == "active",
            and_(Person.date_left.is_not(None), Person.date_left > day),
        ),
    )


def departed_by(day: dt.date) -> ColumnElement[bool]:
    """People gone on ``day``: left on or before it (or on an unknown date), or no longer in the
    HR export.  Someone who leaves after the as-of date still worked there on it."""
    return or_(
        Person.status == "missing",
        and_(
            Person.status == "left",
            or_(Person.date_left.is_(None), Person.date_left <= day),
        ),
    )


@dataclass
class _Owned:
    quantity: int = 0
    costed_units: int = 0
    cost_total: Decimal = Decimal(0)
    currencies: set[str] = field(default_factory=set)  # of every purchase
    costed_in: set[str] = field(default_factory=set)  # of the purchases with a known cost
    # Per currency: rights with a known cost and what they cost together.
    by_currency: dict[str, tuple[int, Decimal]] = field(default_factory=dict)

    @property
    def unit_costs(self) -> tuple[tuple[str, Decimal], ...]:
        """The average cost of a right within each currency the purchases were made in."""
        return tuple(
            (currency, (total / units).quantize(Decimal("0.0001")))
            for currency, (units, total) in sorted(self.by_currency.items())
            if units
        )

    @property
    def currency(self) -> str:
        """The purchases' currency; several joined ("EUR/USD"), never whichever came last."""
        return "/".join(sorted(self.costed_in or self.currencies)) or "EUR"

    @property
    def unit_cost(self) -> Decimal | None:
        """The average cost of a right; unknown when nothing has a cost or currencies differ
        (averaging euros with dollars gives a number in neither)."""
        if not self.costed_units or len(self.costed_in) > 1:
            return None
        return (self.cost_total / self.costed_units).quantize(Decimal("0.0001"))

    min_cores: int = 0
    # How the purchases count a core: a core factor, or units per core by processor.
    core_rules: set[tuple[Decimal | None, UnitTable | None]] = field(default_factory=set)

    def units(
        self, metric: Metric, processors: int | None, cores: int | None, model: str | None
    ) -> tuple[int | None, str]:
        """What one device needs under the purchases, and what it lacks to be counted.

        Where the purchases count a core differently, the largest count (the reading an auditor
        would take), never whichever purchase was read last; a purchase with no rate for the
        device's processor leaves the device out, never at a guessed rate.
        """
        counted: list[tuple[int | None, str]] = [
            device_units(
                metric,
                processors,
                cores,
                model,
                min_cores_per_processor=self.min_cores,
                core_factor=factor or Decimal(1),
                table=table,
            )
            for factor, table in self.core_rules or {(Decimal(1), None)}
        ]
        lacking = next((why for units, why in counted if units is None), "")
        if lacking:
            return None, lacking
        return max(units or 0 for units, _ in counted), ""

    def rules_text(self) -> list[str]:
        """The purchases' ways of counting a core as people read them, sorted."""
        ordered = sorted(
            self.core_rules, key=lambda r: (r[1] is not None, r[0] or 0, r[1].text if r[1] else "")
        )
        return [
            table.text if table is not None else f"{(factor or Decimal(1)).normalize():f}"
            for factor, table in ordered
        ]


@dataclass(frozen=True)
class Spans:
    """One product's checkouts as arrays: start and end in epoch seconds (end ``inf`` while
    still out) and the licenses each holds."""

    starts: NDArray[np.float64]
    ends: NDArray[np.float64]
    weights: Keys
    sighted: int = 0  # of them, those snapshots saw (the rest: records dating both ends)

    def peak(self, start: dt.datetime, end: dt.datetime) -> int:
        """The most licenses out at once within [start, end): the rule of
        :func:`seatledger.domain.metrics.concurrent_peak` (a checkin and a checkout at the same
        instant do not overlap), over arrays, for a year of debug log in well under a second."""
        lo, hi = start.timestamp(), end.timestamp()
        begin = np.maximum(self.starts, lo)
        finish = np.minimum(self.ends, hi)
        kept = begin < finish
        if not kept.any():
            return 0
        weight = self.weights[kept]
        times = np.concatenate([begin[kept], finish[kept]])
        change = np.concatenate([weight, -weight])
        order = np.lexsort((change, times))  # by time; at one instant, returns first
        return max(int(np.cumsum(change[order]).max()), 0)


_LACKING = {
    "cores": "unknown cores",
    "processors": "unknown processors",
    "processor model": "a processor the purchases do not rate (or none recorded)",
}


@dataclass
class _Facts:
    """Everything read for one date, as arrays of packed keys."""

    day: dt.date
    owned: dict[tuple[int, Metric], _Owned]
    names: dict[int, tuple[str, str]]
    primary: dict[int, Metric]
    install_keys: Keys  # pid<<32 | device, unique
    seat_pid: Keys
    seat_metric: Keys
    seat_device: Keys  # -1 for person seats
    seat_person: Keys  # -1 for device seats
    seat_units: Keys
    seat_entitlement: Keys
    seat_started: Keys  # days since 1970
    processors: Keys  # by device id, -1 when unknown
    cores: Keys  # -1 when unknown
    model: Keys  # by device id: an index into ``models``, -1 when unknown
    models: list[str]  # the processor models devices have, by index
    owner: Keys  # by device id, -1 when nobody
    usage: dict[int, Spans]  # per product: checkouts in the window, as epoch-second arrays
    usage_people: Keys  # pid<<32 | person, people using the product in the window
    staff: int
    ever: set[tuple[int, Metric]]  # (product, metric) of every purchase, in term or not
    # Per row with devices counted apart: what they lack ("cores", "processor model"...).
    lacking: dict[tuple[int, Metric], set[str]] = field(default_factory=lambda: defaultdict(set))


class PositionService:
    """Computes the position, its findings, and the rows behind every number."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def position(
        self,
        as_of: dt.date,
        shelf_days: int = 90,
        progress: Progress | None = None,
        scope: PositionScope = WHOLE,
    ) -> Position:
        """The effective license position and findings on ``as_of``, of ``scope`` only (read
        without the rest of the organization).

        Raises:
            Cancelled: the progress callback cancelled.
        """
        step = progress or SILENT
        with self._ctx.read() as session:
            within = _within(session, scope, as_of)
            facts = _read(session, as_of, step, within)
            step(5, 7)
            rows = _rows(facts)
            step(6, 7)
            findings = _findings(session, facts, rows, shelf_days, within)
            basis = _basis(session, facts, rows, self._ctx.clock())
        step(7, 7)
        counts = {
            "installs": len(facts.install_keys),
            "seats": len(facts.seat_pid),
            "staff": facts.staff,
        }
        return Position(as_of, rows, findings, shelf_days, counts, scope, basis)

    def holders(
        self, product_id: int, metric: Metric, column: Column, as_of: dt.date
    ) -> tuple[list[Holder], int]:
        """The rows behind one number (at most DETAIL_LIMIT of them) and how many there are."""
        with self._ctx.read() as session:
            rows, total = _holders(session, product_id, metric, column, as_of)
            return _sourced(session, rows), total

    def sources(self, position: Position) -> list[SourceRow]:
        """The imports (file, SHA-256, lines) and hand entries each product of ``position``
        rests on, on its date: the export's Sources sheet."""
        products = {r.product_id: (r.vendor, r.product) for r in position.rows}
        with self._ctx.read() as session:
            return position_sources(session, position.as_of, products)

    def finding_rows(self, finding: Finding, as_of: dt.date, shelf_days: int) -> list[Holder]:
        """The rows behind a finding."""
        with self._ctx.read() as session:
            return _sourced(session, _finding_rows(session, finding, as_of, shelf_days))


# -- reading --------------------------------------------------------------------------------------


def _read(
    session: Session, day: dt.date, step: Callable[[int, int], None], within: _Within
) -> _Facts:
    moment = end_of(day)
    mask32 = (1 << _SHIFT) - 1
    names = {
        pid: (vendor, product)
        for pid, product, vendor in session.execute(
            select(Product.id, Product.name, Vendor.name)
            .join(Vendor)
            .where(within.where(Product.id))
        )
    }
    owned: dict[tuple[int, Metric], _Owned] = defaultdict(_Owned)
    for pid, metric, qty, cost, currency, min_cores, factor, table in session.execute(
        select(
            Entitlement.product_id,
            Entitlement.metric,
            Entitlement.quantity,
            Entitlement.unit_cost,
            Entitlement.currency,
            Entitlement.min_cores_per_processor,
            Entitlement.core_factor,
            Entitlement.unit_table,
        ).where(in_term(day), within.where(Entitlement.product_id))
    ):
        slot = owned[(pid, Metric(metric))]
        slot.quantity += qty
        if cost is not None:
            slot.costed_units += qty
            slot.cost_total += Decimal(str(cost)) * qty
            slot.costed_in.add(currency)
            units, total = slot.by_currency.get(currency, (0, Decimal(0)))
            slot.by_currency[currency] = (units + qty, total + Decimal(str(cost)) * qty)
        slot.currencies.add(currency)
        slot.min_cores = max(slot.min_cores, min_cores or 0)
        rates = stored_table(table)
        slot.core_rules.add((None, rates) if rates is not None else (stored_factor(factor), None))
    primary: dict[int, Metric] = {}
    for (pid, metric), _slot in sorted(owned.items(), key=lambda kv: (-kv[1].quantity, kv[0][1])):
        primary.setdefault(pid, metric)
    # A product with nothing in term counts under the metric it was last bought with.
    ever: set[tuple[int, Metric]] = set()
    for pid, metric in session.execute(
        select(Entitlement.product_id, Entitlement.metric)
        .where(within.where(Entitlement.product_id))
        .order_by(Entitlement.id.desc())
    ):
        primary.setdefault(pid, Metric(metric))
        ever.add((pid, Metric(metric)))
    step(1, 7)

    max_device = int(session.scalar(select(func.max(Device.id))) or 0)
    processors = np.zeros(max_device + 1, dtype=np.int64)
    cores = np.zeros(max_device + 1, dtype=np.int64)
    owner = np.full(max_device + 1, -1, dtype=np.int64)
    rows = session.connection().execute(
        select(
            Device.id,
            func.coalesce(Device.processors, -1),  # -1: unknown, counted apart
            func.coalesce(Device.cores, -1),
            func.coalesce(Device.owner_id, -1),
        )
    )
    data = _matrix(rows.fetchall(), 4)
    processors[data[:, 0]], cores[data[:, 0]], owner[data[:, 0]] = (
        data[:, 1],
        data[:, 2],
        data[:, 3],
    )
    # Processor models matter only where a purchase rates cores by processor.
    model = np.full(max_device + 1, -1, dtype=np.int64)
    models: list[str] = []
    if any(table for slot in owned.values() for _, table in slot.core_rules):
        by_model: dict[str, list[int]] = defaultdict(list)
        for device_id, name in session.execute(
            select(Device.id, Device.processor_model).where(Device.processor_model.is_not(None))
        ):
            by_model[str(name)].append(device_id)
        for name, ids in by_model.items():
            model[np.array(ids, dtype=np.int64)] = len(models)
            models.append(name)
    step(2, 7)

    titles = session.execute(
        select(SoftwareTitle.id, SoftwareTitle.product_id).where(
            SoftwareTitle.product_id.is_not(None), within.where(SoftwareTitle.product_id)
        )
    ).all()
    # The devices a team scope keeps: those its people own (an install or device seat elsewhere
    # is not the teams').
    team_devices: Keys | None = None
    if within.people is not None:
        team_devices = np.flatnonzero((owner >= 0) & _member(owner, within.people))
    install_keys = np.zeros(0, dtype=np.int64)
    if titles:
        max_title = int(session.scalar(select(func.max(SoftwareTitle.id))) or 0)
        title_pid = np.full(max_title + 1, -1, dtype=np.int64)
        mapped = _matrix(titles, 2)
        title_pid[mapped[:, 0]] = mapped[:, 1]
        parts = []
        for chunk in _raw_chunks(
            session,
            # One packed integer per row (title << 32 | device): half the Python objects of a
            # pair, and the read is most of a whole position's time.
            f"SELECT title_id * {1 << _SHIFT} + device_id FROM installation WHERE first_seen <= ? "
            "AND (removed_on IS NULL OR removed_on > ?) AND "
            + within.raw("title_id IN (SELECT id FROM software_title WHERE product_id IN ({}))"),
            lambda bulk: (bulk.day(day), bulk.day(day)),
        ):
            packed = _matrix(chunk, 1)[:, 0]
            devices = packed & mask32
            if team_devices is not None:
                kept = _member(devices, team_devices)
                packed, devices = packed[kept], devices[kept]
            pids = title_pid[packed >> _SHIFT]
            keep = pids >= 0
            parts.append(_distinct((pids[keep] << _SHIFT) | devices[keep]))
        if parts:
            install_keys = _distinct(np.concatenate(parts))
    step(3, 7)

    # Seats: a million rows, read through Core (the ORM would buffer them all) with the start
    # day computed by the database; each entitlement's product and metric joined here.
    kinds = {
        eid: (pid, _CODE[Metric(metric)])
        for eid, pid, metric in session.execute(
            select(Entitlement.id, Entitlement.product_id, Entitlement.metric).where(
                within.where(Entitlement.product_id)
            )
        )
    }
    if session.get_bind().dialect.name == "sqlite":
        started = "CAST(julianday(started_at) - 2440587.5 AS INTEGER)"
    else:
        started = "(CAST(started_at AS DATE) - DATE '1970-01-01')"
    # Two packed integers per seat: entitlement << 32 | holder (a person's id above bit 31),
    # units << 32 | start day (offset by 2**31).
    parts = [np.zeros((0, 2), dtype=np.int64)]
    for chunk in _raw_chunks(
        session,
        f"SELECT entitlement_id * {1 << _SHIFT} + COALESCE(device_id, person_id + {_UNOWNED}), "
        f"units * {1 << _SHIFT} + {started} + {_UNOWNED} FROM seat_assignment "
        "WHERE started_at < ? AND (ended_at IS NULL OR ended_at >= ?) AND "
        + within.raw("entitlement_id IN (SELECT id FROM entitlement WHERE product_id IN ({}))"),
        lambda bulk: (bulk.stamp(moment), bulk.stamp(moment)),
    ):
        parts.append(_matrix(chunk, 2))
    packed = np.concatenate(parts)
    # Each column an array of its own: strided columns of a matrix are slower in every step
    # after, and stacking them is a copy of the million seats.
    holder = packed[:, 0] & mask32
    by_person = holder >= _UNOWNED
    seat_entitlement = packed[:, 0] >> _SHIFT
    seat_device = np.where(by_person, -1, holder)
    seat_person = np.where(by_person, holder - _UNOWNED, -1)
    seat_units = packed[:, 1] >> _SHIFT
    seat_started = (packed[:, 1] & mask32) - _UNOWNED
    if within.people is not None and team_devices is not None:
        kept = _member(seat_device, team_devices) | _member(seat_person, within.people)
        seat_entitlement, seat_device, seat_person, seat_units, seat_started = (
            column[kept]
            for column in (seat_entitlement, seat_device, seat_person, seat_units, seat_started)
        )
    lookup_pid = np.zeros(max(kinds, default=0) + 1, dtype=np.int64)
    lookup_metric = np.zeros(max(kinds, default=0) + 1, dtype=np.int64)
    for eid, (pid, code) in kinds.items():
        lookup_pid[eid], lookup_metric[eid] = pid, code
    step(4, 7)

    window_start = end_of(day) - dt.timedelta(days=CONCURRENT_WINDOW_DAYS)
    usage, usage_people = _usage_spans(session, moment, window_start, within)
    staff = int(session.scalar(_staff_count(day, within)) or 0)
    return _Facts(
        day=day,
        owned=dict(owned),
        names=names,
        primary=primary,
        install_keys=install_keys,
        seat_pid=lookup_pid[seat_entitlement],
        seat_metric=lookup_metric[seat_entitlement],
        seat_device=seat_device,
        seat_person=seat_person,
        seat_units=seat_units,
        seat_entitlement=seat_entitlement,
        seat_started=seat_started,
        processors=processors,
        cores=cores,
        model=model,
        models=models,
        owner=owner,
        usage=usage,
        usage_people=usage_people,
        staff=staff,
        ever=ever,
    )


def _raw_chunks(
    session: Session, sql: str, params: Callable[[Bulk], tuple[Any, ...]]
) -> Iterator[Sequence[Any]]:
    """Rows of a hot query straight from the driver's cursor, in chunks of plain tuples.

    Millions of installs: SQLAlchemy's result rows cost more than the query itself here.
    ``sql`` uses ``?`` placeholders; ``params`` builds the values in the backend's form.
    """
    bulk = Bulk(session.connection())
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(bulk.sql(sql), params(bulk))
        while chunk := cursor.fetchmany(200_000):
            yield chunk
    finally:
        cursor.close()


def _distinct(values: Keys) -> Keys:
    """Sorted distinct values.  numpy 2's np.unique hashes, which is slower on millions of
    int64 keys than sorting once and dropping repeats."""
    ordered: Keys = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    result: Keys = ordered[keep]
    return result


_SORT_NEEDLES = 4096  # values above which _member sorts them before its binary search


def _member(values: Keys, choices: Keys | Sequence[int]) -> NDArray[np.bool_]:
    """Which of ``values`` are among ``choices``: np.isin's answer (numpy 2's np.isin hashes
    both sides, several times slower on millions).

    Choices within a range a few times the size of the arrays (ids of products, people,
    licenses) are looked up in a table of that range; others (packed keys) by binary search in
    the sorted choices, of the values in order (each search starts where the last ended: 4x
    faster than in the values' own order on a million).
    """
    values = np.asarray(values, dtype=np.int64)
    ordered = _distinct(np.asarray(choices, dtype=np.int64))
    if not len(ordered) or not len(values):
        return np.zeros(values.shape, dtype=bool)
    low, high = int(ordered[0]), int(ordered[-1])
    if high - low < 8 * (len(values) + len(ordered)):
        table = np.zeros(high - low + 1, dtype=bool)
        table[ordered - low] = True
        inside = (values >= low) & (values <= high)
        found: NDArray[np.bool_] = np.zeros(values.shape, dtype=bool)
        found[inside] = table[values[inside] - low]
        return found
    if len(values) <= _SORT_NEEDLES:
        at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
        plain: NDArray[np.bool_] = ordered[at] == values
        return plain
    order = np.argsort(values)
    needles = values[order]
    at = np.minimum(np.searchsorted(ordered, needles), len(ordered) - 1)
    result: NDArray[np.bool_] = np.empty(values.shape, dtype=bool)
    result[order] = ordered[at] == needles
    return result


def _tally(values: Keys) -> tuple[Keys, Keys]:
    """Sorted distinct values and how often each occurs."""
    ordered = np.sort(values)
    if not len(ordered):
        return ordered, ordered
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts: Keys = np.diff(np.append(starts, len(ordered)))
    distinct: Keys = ordered[starts]
    return distinct, counts


def _tally_rows(matrix: Keys) -> tuple[Keys, Keys]:
    """The distinct rows of ``matrix`` in lexicographic order and how often each occurs (as
    np.unique(axis=0, return_counts=True), by one lexsort instead of its structured-view sort)."""
    ordered = matrix[np.lexsort(matrix.T[::-1])]
    change = np.any(ordered[1:] != ordered[:-1], axis=1)
    starts = np.flatnonzero(np.concatenate(([True], change)))
    counts: Keys = np.diff(np.append(starts, len(ordered)))
    distinct: Keys = ordered[starts]
    return distinct, counts


def _matrix(rows: Sequence[Any], width: int) -> Keys:
    """Rows of integers as an int64 matrix.  Result rows are not tuples, and numpy reads
    non-tuple rows one element at a time through Python; a flat iterator is 20x faster."""
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
    matrix: Keys = flat.reshape(-1, width)
    return matrix


_STILL_OUT = 1e18  # the epoch seconds the database gives a checkout still out (then infinity)
_USAGE_COLUMNS = 6


def _usage_spans(
    session: Session, moment: dt.datetime, window_start: dt.datetime, within: _Within
) -> tuple[dict[int, Spans], Keys]:
    """The checkouts out in the window, as epoch-second arrays per product, and the people
    using each product (pid << 32 | person).  A year of debug log puts millions of checkouts in
    the window: the database gives their times as epoch seconds and numpy groups them (no
    Python object per checkout)."""
    interval = sampling_interval(session)
    query = select(
        UsageSession.product_id,
        func.coalesce(UsageSession.person_id, -1),
        _epoch(session, UsageSession.checkout),
        func.coalesce(_epoch(session, checked_in(moment, interval)), _STILL_OUT),
        case((UsageSession.units < 1, 1), else_=UsageSession.units),
        case((UsageSession.seen_at.is_(None), 0), else_=1),  # 1: seen by a snapshot
    ).where(
        UsageSession.product_id.is_not(None),
        within.where(UsageSession.product_id),
        out_during(window_start, moment),
    )
    parts = [np.zeros((0, _USAGE_COLUMNS), dtype=np.float64)]
    result = session.connection().execute(query)
    try:
        # Numbers only: the driver's plain tuples, without a result row object each.
        while rows := result.cursor.fetchmany(100_000):
            flat = itertools.chain.from_iterable(rows)
            parts.append(
                np.fromiter(flat, dtype=np.float64, count=len(rows) * _USAGE_COLUMNS).reshape(
                    -1, _USAGE_COLUMNS
                )
            )
    finally:
        result.close()
    found = np.concatenate(parts)
    persons = found[:, 1].astype(np.int64)
    if within.people is not None:  # a team's: checkouts by its people only
        kept = _member(persons, within.people)
        found, persons = found[kept], persons[kept]
    pids = found[:, 0].astype(np.int64)
    order = np.argsort(pids, kind="stable")
    found, pids, persons = found[order], pids[order], persons[order]
    ends = found[:, 3]
    ends[ends >= _STILL_OUT] = math.inf
    weights = found[:, 4].astype(np.int64)
    bounds = [*np.flatnonzero(np.diff(pids)).tolist(), len(pids) - 1]
    spans: dict[int, Spans] = {}
    first = 0
    for last in bounds if len(pids) else []:
        spans[int(pids[first])] = Spans(
            found[first : last + 1, 2].copy(),
            ends[first : last + 1].copy(),
            weights[first : last + 1],
            int(found[first : last + 1, 5].sum()),
        )
        first = last + 1
    known = persons >= 0
    return spans, _distinct((pids[known] << _SHIFT) | persons[known])


def _basis(
    session: Session, facts: _Facts, rows: list[PositionRow], now: dt.datetime
) -> dict[int, ConcurrencyBasis]:
    """What each concurrent-use row's figure rests on: its checkouts in the window by origin
    (a snapshot or a record dating both ends) and the snapshots of its features."""
    pids = {r.product_id for r in rows if r.metric is Metric.CONCURRENT}
    if not pids:
        return {}
    moment = end_of(facts.day)
    start = moment - dt.timedelta(days=CONCURRENT_WINDOW_DAYS)
    seen = sightings(session, pids, start, moment)
    interval = sampling_interval(session)
    result = {}
    for pid in sorted(pids):
        spans = facts.usage.get(pid)
        out = len(spans.starts) if spans is not None else 0
        sighted = spans.sighted if spans is not None else 0
        result[pid] = ConcurrencyBasis(
            moment, CONCURRENT_WINDOW_DAYS, interval, out - sighted, sighted, seen.get(pid), now
        )
    return result


def _epoch(session: Session, moment: ColumnElement[Any] | Any) -> ColumnElement[Any]:
    """A timestamp column's epoch seconds, computed by the database (NULL stays NULL).

    SQLite keeps naive UTC text and computes in whole milliseconds, which is what its text
    holds from every import (lmstat and debug logs give seconds); PostgreSQL to the microsecond.
    """
    if session.get_bind().dialect.name == "sqlite":
        return func.round((func.julianday(moment) - 2440587.5) * 86_400_000.0) / 1000.0
    return cast(func.extract("epoch", moment), Float)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


# -- the position ---------------------------------------------------------------------------------


def _primary_code(facts: _Facts, pids: Keys) -> Keys:
    """The primary metric code of each product id (per device when nothing is bought)."""
    lookup = np.full(int(pids.max(initial=0)) + 1, _CODE[Metric.PER_DEVICE], dtype=np.int64)
    for pid, metric in facts.primary.items():
        if pid < len(lookup):
            lookup[pid] = _CODE[metric]
    return lookup[pids] if len(pids) else pids


def _rows(facts: _Facts) -> list[PositionRow]:
    mask32 = (1 << _SHIFT) - 1
    install_pid = facts.install_keys >> _SHIFT
    install_dev = facts.install_keys & mask32
    install_primary = _primary_code(facts, install_pid)

    assigned: dict[tuple[int, Metric], int] = defaultdict(int)
    if len(facts.seat_pid):
        row_key = facts.seat_pid * 16 + facts.seat_metric
        keys = _distinct(row_key)
        sums = np.bincount(np.searchsorted(keys, row_key), weights=facts.seat_units)
        for key, total in zip(keys.tolist(), sums.tolist(), strict=True):
            assigned[(key // 16, _METRICS[key % 16])] = int(total)

    # Devices behind device metrics: seats of that metric, plus installs under the primary one.
    device_seat = facts.seat_device >= 0
    holders = [
        ((facts.seat_pid * 16 + facts.seat_metric)[device_seat] << _SHIFT)
        | facts.seat_device[device_seat]
    ]
    device_primary = _member(install_primary, [_CODE[m] for m in Metric if m.assigns_to_device])
    holders.append(
        ((install_pid * 16 + install_primary)[device_primary] << _SHIFT)
        | install_dev[device_primary]
    )
    device_holders = _distinct(np.concatenate(holders))
    dev = device_holders & mask32
    shape = np.stack(
        [device_holders >> _SHIFT, facts.processors[dev], facts.cores[dev], facts.model[dev]],
        axis=1,
    )
    shapes: dict[tuple[int, Metric], list[tuple[int, int, int, int]]] = defaultdict(list)
    if len(shape):
        distinct, counts = _tally_rows(shape)  # (product, shape): few
        for (key, processors, core_count, model), count in zip(
            distinct.tolist(), counts.tolist(), strict=True
        ):
            shapes[(key // 16, _METRICS[key % 16])].append((processors, core_count, model, count))

    # People behind user metrics: seats, owners of devices running it, users of it; an install
    # on a device nobody owns counts as one more user.
    person_seat = facts.seat_person >= 0
    people = [
        ((facts.seat_pid * 16 + facts.seat_metric)[person_seat] << _SHIFT)
        | facts.seat_person[person_seat]
    ]
    user_primary = _member(install_primary, [_CODE[m] for m in _USER_METRICS])
    owners = facts.owner[install_dev]
    who = np.where(owners >= 0, owners, _UNOWNED | install_dev)
    people.append(
        ((install_pid * 16 + install_primary)[user_primary] << _SHIFT) | who[user_primary]
    )
    usage_pid = facts.usage_people >> _SHIFT
    usage_primary = _primary_code(facts, usage_pid)
    use_user = _member(usage_primary, [_CODE[m] for m in _USER_METRICS])
    people.append(
        ((usage_pid * 16 + usage_primary)[use_user] << _SHIFT)
        | (facts.usage_people & mask32)[use_user]
    )
    person_holders = _distinct(np.concatenate(people))
    person_counts: dict[tuple[int, Metric], int] = {}
    if len(person_holders):
        keys, counts = _tally(person_holders >> _SHIFT)
        person_counts = {
            (k // 16, _METRICS[k % 16]): int(c)
            for k, c in zip(keys.tolist(), counts.tolist(), strict=True)
        }

    unlicensed = _unlicensed(facts, install_pid, install_dev, install_primary)
    window = end_of(facts.day) - dt.timedelta(days=CONCURRENT_WINDOW_DAYS), end_of(facts.day)
    peaks = {pid: spans.peak(*window) for pid, spans in facts.usage.items()}

    keys_all: set[tuple[int, Metric]] = set(facts.owned) | set(assigned)
    installed_pids = set(install_pid.tolist())
    for pid in installed_pids | set(peaks):
        # A product in use counts whether or not anything is in term: one whose purchases have
        # all ended is exactly what an auditor looks for (under the metric it was bought with).
        if pid in facts.primary:
            keys_all.add((pid, facts.primary[pid]))
            continue
        # Never bought: its installs count per device and its checkouts as concurrent use.
        if pid in installed_pids:
            keys_all.add((pid, Metric.PER_DEVICE))
        if pid in peaks:
            keys_all.add((pid, Metric.CONCURRENT))
    result = []
    unknown: dict[tuple[int, Metric], int] = defaultdict(int)
    for pid, metric in keys_all:
        slot = facts.owned.get((pid, metric), _Owned())
        is_primary = facts.primary.get(pid, Metric.PER_DEVICE) is metric
        if metric is Metric.SITE:
            needed = metrics.employees(facts.staff)
        elif metric.assigns_to_device:
            needed = 0
            for processors, core_count, model, count in shapes.get((pid, metric), []):
                units, lacking = slot.units(
                    metric,
                    None if processors < 0 else processors,
                    None if core_count < 0 else core_count,
                    None if model < 0 else facts.models[model],
                )
                if units is None:
                    unknown[(pid, metric)] += count
                    facts.lacking[(pid, metric)].add(lacking)
                else:
                    needed += units * count
        elif metric is Metric.CONCURRENT:
            peak = peaks.get(pid, 0) if is_primary or pid not in facts.primary else 0
            needed = max(peak, assigned.get((pid, metric), 0))
        else:
            needed = person_counts.get((pid, metric), 0)
        vendor, product = facts.names.get(pid, ("", f"product {pid}"))
        result.append(
            PositionRow(
                product_id=pid,
                vendor=vendor,
                product=product,
                metric=metric,
                bought=(pid, metric) in facts.owned,
                ended=(pid, metric) not in facts.owned and (pid, metric) in facts.ever,
                # Unlimited only while a site or enterprise purchase is in term; once it has
                # ended nothing is owned.
                owned=None if metric.unlimited and (pid, metric) in facts.owned else slot.quantity,
                assigned=assigned.get((pid, metric), 0),
                needed=needed,
                unlicensed=unlicensed.get(pid, 0) if is_primary else 0,
                unit_cost=slot.unit_cost,
                currency=slot.currency,
                unknown_hardware=unknown.get((pid, metric), 0),
                unit_costs=slot.unit_costs if len(slot.unit_costs) > 1 else (),
            )
        )
    result.sort(key=lambda r: (r.vendor.lower(), r.product.lower(), r.metric.value))
    return result


def _unlicensed(
    facts: _Facts, install_pid: Keys, install_dev: Keys, install_primary: Keys
) -> dict[int, int]:
    """Per product: devices running it that no seat covers (by device, or by its owner)."""
    if not len(install_pid):
        return {}
    device_seat = facts.seat_device >= 0
    covered_devices = _distinct(
        (facts.seat_pid[device_seat] << _SHIFT) | facts.seat_device[device_seat]
    )
    person_seat = facts.seat_person >= 0
    covered_people = _distinct(
        (facts.seat_pid[person_seat] << _SHIFT) | facts.seat_person[person_seat]
    )
    owners = facts.owner[install_dev]
    by_device = _member(install_primary, [_CODE[m] for m in Metric if m.assigns_to_device])
    by_person = _member(install_primary, [_CODE[m] for m in _USER_METRICS])
    licensed = np.zeros(len(install_pid), dtype=bool)
    licensed[by_device] = _member(facts.install_keys[by_device], covered_devices)
    person_keys = (install_pid << _SHIFT) | np.where(owners >= 0, owners, _UNOWNED)
    licensed[by_person] = _member(person_keys[by_person], covered_people)
    counted = ~licensed & (by_device | by_person)
    pids, counts = _tally(install_pid[counted])
    return dict(zip(pids.tolist(), (int(c) for c in counts.tolist()), strict=True))


# -- findings -------------------------------------------------------------------------------------


def _findings(
    session: Session, facts: _Facts, rows: list[PositionRow], shelf_days: int, within: _Within
) -> list[Finding]:
    found: list[Finding] = []
    for row in rows:
        if row.shortfall:
            found.append(
                Finding(
                    FindingKind.OVER_DEPLOYED,
                    row.product_id,
                    row.vendor,
                    row.product,
                    None,
                    row.shortfall,
                    f"{row.metric.label}: {row.needed:,} needed, {row.owned:,} owned — "
                    f"{row.shortfall:,} short"
                    + (f", true-up {row.true_up:,.2f} {row.currency}" if row.true_up else "")
                    + (
                        ", true-up "
                        + row.true_ups_text()
                        + " (at the average price in each currency bought in)"
                        if row.true_ups
                        else ""
                    ),
                )
            )
        if row.unknown_hardware:
            lacking = " or ".join(
                _LACKING[why]
                for why in sorted(facts.lacking.get((row.product_id, row.metric), {"cores"}))
            )
            found.append(
                Finding(
                    FindingKind.UNKNOWN_HARDWARE,
                    row.product_id,
                    row.vendor,
                    row.product,
                    None,
                    row.unknown_hardware,
                    f"{row.metric.label}: {plural(row.unknown_hardware, 'device')} with "
                    f"{lacking} {agree(row.unknown_hardware, 'runs')} it; the {row.needed:,} "
                    f"needed leave {'it' if row.unknown_hardware == 1 else 'them'} out (record "
                    "the hardware)",
                )
            )
        shown = facts.owned.get((row.product_id, row.metric), _Owned()).rules_text()
        if row.metric is Metric.PER_CORE and len(shown) > 1:
            found.append(
                Finding(
                    FindingKind.FACTORS_DIFFER,
                    row.product_id,
                    row.vendor,
                    row.product,
                    None,
                    len(shown),
                    f"{row.metric.label}: the purchases in term give core factors "
                    f"{', '.join(shown[:-1])} and {shown[-1]}; the largest ({shown[-1]}) is "
                    "counted for every device (check the contracts)"
                    if all("=" not in rule for rule in shown)
                    else f"{row.metric.label}: the purchases in term count a core differently "
                    f"({' | '.join(shown)}); the largest count is taken for each device (check "
                    "the contracts)",
                )
            )
        if row.unlicensed:
            found.append(
                Finding(
                    FindingKind.UNLICENSED,
                    row.product_id,
                    row.vendor,
                    row.product,
                    None,
                    row.unlicensed,
                    f"{plural(row.unlicensed, 'device')} {agree(row.unlicensed, 'runs')} it "
                    "without a seat",
                )
            )
    names = facts.names
    entitlement_names: dict[int, str] = {}
    entitlement_pid: dict[int, int] = {}
    for eid, name, pid in session.execute(
        select(Entitlement.id, Entitlement.name, Entitlement.product_id).where(
            within.where(Entitlement.product_id)
        )
    ):
        entitlement_names[eid], entitlement_pid[eid] = name, pid

    def per_entitlement(kind: FindingKind, chosen: Keys, text: str) -> None:
        if not len(chosen):
            return
        ids, counts = _tally(chosen)
        for eid, count in zip(ids.tolist(), counts.tolist(), strict=True):
            pid = entitlement_pid.get(eid, 0)
            vendor, product = names.get(pid, ("", ""))
            label = entitlement_names.get(eid) or product
            found.append(
                Finding(
                    kind,
                    pid,
                    vendor,
                    product,
                    eid,
                    int(count),
                    text.format(seats=plural(count, "seat"), entitlement=label),
                )
            )

    # Named users and subscriptions: people using the product on the license server or a SaaS
    # service without holding a seat of it ("used, unallocated"): counted in needed, named here.
    by_user = [pid for pid, metric in facts.primary.items() if metric in _USER_METRICS]
    if by_user and len(facts.usage_people):
        using = facts.usage_people[_member(facts.usage_people >> _SHIFT, by_user)]
        holding = facts.seat_person >= 0
        seated = (facts.seat_pid[holding] << _SHIFT) | facts.seat_person[holding]
        loose_users = using[~_member(using, seated)]
        pids, per = _tally(loose_users >> _SHIFT)
        for pid, count in zip(pids.tolist(), per.tolist(), strict=True):
            vendor, product = names.get(pid, ("", ""))
            found.append(
                Finding(
                    FindingKind.USED_WITHOUT_SEAT,
                    pid,
                    vendor,
                    product,
                    None,
                    int(count),
                    f"{facts.primary[pid].label}: {plural(count, 'person')} "
                    f"{agree(count, 'uses')} it (license server or service activity in "
                    f"{plural(CONCURRENT_WINDOW_DAYS, 'day')}) without a seat",
                )
            )

    found += _denied(session, facts.day, names, within)

    departed = set(session.scalars(select(Person.id).where(departed_by(facts.day))))
    if departed:
        held = _member(facts.seat_person, np.array(sorted(departed), dtype=np.int64))
        per_entitlement(
            FindingKind.DEPARTED,
            facts.seat_entitlement[held],
            "{seats} of {entitlement} held by people who left or are not in HR",
        )
    found += _disabled_accounts(session, facts, entitlement_names, entitlement_pid)
    expired = [
        eid
        for (eid,) in session.execute(
            select(Entitlement.id).where(
                Entitlement.term_end.is_not(None), Entitlement.term_end < facts.day
            )
        )
    ]
    if expired:
        held = _member(facts.seat_entitlement, np.array(expired, dtype=np.int64))
        per_entitlement(
            FindingKind.EXPIRED,
            facts.seat_entitlement[held],
            "{seats} still held on {entitlement}, whose term has ended",
        )

    # Duplicates: one holder with two open seats of the same product.
    for holder, what in ((facts.seat_person, "person"), (facts.seat_device, "device")):
        chosen = holder >= 0
        keys = (facts.seat_pid[chosen] << _SHIFT) | holder[chosen]
        distinct, counts = _tally(keys)
        twice = distinct[counts > 1] >> _SHIFT
        pids, per = _tally(twice)
        for pid, count in zip(pids.tolist(), per.tolist(), strict=True):
            vendor, product = names.get(pid, ("", ""))
            found.append(
                Finding(
                    FindingKind.DUPLICATE,
                    pid,
                    vendor,
                    product,
                    None,
                    int(count),
                    f"{plural(count, what)} {agree(count, 'holds')} more than one seat of it",
                )
            )

    # Shelfware: seats older than the window on products with inventory or usage data, whose
    # holder shows no install and no use.
    mask32 = (1 << _SHIFT) - 1
    observed = _distinct(
        np.concatenate(
            [
                facts.install_keys >> _SHIFT,
                facts.usage_people >> _SHIFT,
                np.array(list(facts.usage), dtype=np.int64),
            ]
        )
    )
    cutoff = (facts.day - dt.timedelta(days=shelf_days) - dt.date(1970, 1, 1)).days
    old = (facts.seat_started <= cutoff) & _member(facts.seat_pid, observed)
    install_dev = facts.install_keys & mask32
    owners = facts.owner[install_dev]
    # Use within the shelfware days themselves (glossary: "no install or use for N days"), not
    # the concurrent window the position read.
    shelf_users = (
        facts.usage_people
        if shelf_days == CONCURRENT_WINDOW_DAYS
        else _usage_people(
            session, end_of(facts.day) - dt.timedelta(days=shelf_days), facts.day, within
        )
    )
    used_by = _distinct(
        np.concatenate(
            [
                ((facts.install_keys >> _SHIFT) << _SHIFT)[owners >= 0] | owners[owners >= 0],
                shelf_users,
            ]
        )
    )
    unused = np.zeros(len(facts.seat_pid), dtype=bool)
    dev_seat = old & (facts.seat_device >= 0)
    unused[dev_seat] = ~_member(
        (facts.seat_pid[dev_seat] << _SHIFT) | facts.seat_device[dev_seat], facts.install_keys
    )
    per_seat = old & (facts.seat_person >= 0)
    unused[per_seat] = ~_member(
        (facts.seat_pid[per_seat] << _SHIFT) | facts.seat_person[per_seat], used_by
    )
    per_entitlement(
        FindingKind.SHELFWARE,
        facts.seat_entitlement[unused],
        "{seats} of {entitlement} with no install or use in " + f"{plural(shelf_days, 'day')}",
    )
    found += [
        Finding(FindingKind(d.kind), d.product_id, d.vendor, d.product, None, d.count, d.text)
        for d in grants.disagreements(session, facts.day)
        if within.keeps(d.product_id)
    ]
    found.sort(key=lambda f: (list(FindingKind).index(f.kind), f.vendor.lower(), f.product.lower()))
    return found


def still_employed_disabled() -> ColumnElement[bool]:
    """People HR lists as employed whose directory account is disabled."""
    return and_(Person.account_disabled.is_(True), Person.status == "active")


_NAMED = 3  # people a disabled-account finding names; the drill-down lists every one


def _disabled_accounts(
    session: Session,
    facts: _Facts,
    entitlement_names: dict[int, str],
    entitlement_pid: dict[int, int],
) -> list[Finding]:
    """Per license, "account disabled, still holds seats": the seats held by people HR still
    employs whose directory account is disabled, naming each person, their seats and the
    directory import line that said the account is disabled.  HR decides employment: someone
    HR says left is a leaver finding instead, whatever the directory says."""
    people = {
        int(pid): (str(name), str(employee_id))
        for pid, name, employee_id in session.execute(
            select(Person.id, Person.name, Person.employee_id).where(still_employed_disabled())
        )
    }
    if not people:
        return []
    held = _member(facts.seat_person, np.array(sorted(people), dtype=np.int64))
    if not held.any():
        return []
    pairs = np.stack([facts.seat_entitlement[held], facts.seat_person[held]], axis=1)
    distinct, counts = _tally_rows(pairs)
    per_license: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (eid, person), count in zip(distinct.tolist(), counts.tolist(), strict=True):
        per_license[int(eid)].append((int(person), int(count)))
    holders = sorted({person for rows in per_license.values() for person, _ in rows})
    seats: dict[tuple[int, int], list[int]] = defaultdict(list)
    for seat, eid, person in session.execute(
        select(SeatAssignment.id, SeatAssignment.entitlement_id, SeatAssignment.person_id)
        .where(
            SeatAssignment.person_id.in_(holders),
            SeatAssignment.entitlement_id.in_(sorted(per_license)),
            seat_open(end_of(facts.day)),
        )
        .order_by(SeatAssignment.id)
    ):
        seats[(int(eid), int(person or 0))].append(int(seat))
    said = account_sources(session, holders)
    found: list[Finding] = []
    for eid, rows in sorted(per_license.items()):
        pid = entitlement_pid.get(eid, 0)
        vendor, product = facts.names.get(pid, ("", ""))
        label = entitlement_names.get(eid) or product
        total = sum(count for _, count in rows)
        rows.sort(key=lambda r: people[r[0]][0].lower())
        named = "; ".join(
            f"{people[person][0]} ({people[person][1]}): {_seat_list(seats[(eid, person)])}, "
            f"disabled per {said.get(person) or 'no import recorded'}"
            for person, _count in rows[:_NAMED]
        )
        more = len(rows) - _NAMED
        found.append(
            Finding(
                FindingKind.DISABLED_ACCOUNT,
                pid,
                vendor,
                product,
                eid,
                total,
                f"{plural(total, 'seat')} of {label} held by {plural(len(rows), 'person')} HR "
                f"still employs whose directory account is disabled: {named}"
                + (f"; and {more} more" if more > 0 else ""),
            )
        )
    return found


def _seat_list(ids: list[int]) -> str:
    """Seats by number: "seat 12", "seats 12, 13", or the first five and how many more."""
    if not ids:
        return "seats not found"
    shown = ", ".join(str(i) for i in ids[:5])
    rest = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
    return f"{'seat' if len(ids) == 1 else 'seats'} {shown}{rest}"


# -- drill-down -----------------------------------------------------------------------------------


def _holders(
    session: Session, pid: int, metric: Metric, column: Column, day: dt.date
) -> tuple[list[Holder], int]:
    moment = end_of(day)
    if column is Column.OWNED:
        rows = session.execute(
            select(Entitlement)
            .where(Entitlement.product_id == pid, Entitlement.metric == metric.value, in_term(day))
            .order_by(Entitlement.term_end)
        ).scalars()
        found = [
            Holder(
                "entitlement",
                e.id,
                e.name or f"Entitlement {e.id}",
                f"{e.quantity:,} × {metric.label}; "
                + (
                    f"core factor {Decimal(str(e.core_factor)).normalize():f}; "
                    if metric is Metric.PER_CORE and e.core_factor is not None
                    else ""
                )
                + f"PO {e.po_reference or '—'}; {e.reseller or 'no reseller'}; "
                + (f"{e.unit_cost} {e.currency} each" if e.unit_cost is not None else "no cost"),
                f"{e.term_start or '…'} to {e.term_end or '…'}",
            )
            for e in rows
        ]
        return found, len(found)
    seats = _seat_holders(session, pid, metric, moment)
    if column is Column.ASSIGNED:
        return seats[:DETAIL_LIMIT], len(seats)
    primary = _primary_metric(session, pid, day)
    installs = _install_holders(session, pid, day) if metric is primary else []
    # Any seat of the product covers its holder, whatever the seat's metric (as the position).
    every_seat = _seat_holders(session, pid, None, moment)
    seated_devices = {h.id for h in every_seat if h.kind == "device"}
    seated_people = {h.id for h in every_seat if h.kind == "person"}
    if metric in _USER_METRICS:
        loose = [h for h, owner in installs if owner is None or owner not in seated_people]
    elif metric.assigns_to_device:
        loose = [h for h, _ in installs if h.id not in seated_devices]
    else:
        loose = []
    if column is Column.UNLICENSED:
        return loose[:DETAIL_LIMIT], len(loose)
    if metric is Metric.SITE:
        staff = session.execute(
            select(Person.id, Person.name, Person.email)
            .where(employed_on(day))
            .order_by(Person.name)
            .limit(DETAIL_LIMIT)
        ).all()
        total = int(
            session.scalar(select(func.count()).select_from(Person).where(employed_on(day))) or 0
        )
        return [Holder("person", i, n, f"on staff ({e or 'no email'})") for i, n, e in staff], total
    if metric is Metric.CONCURRENT:
        bought = session.scalar(select(Entitlement.id).where(Entitlement.product_id == pid))
        if metric is not primary and bought is not None:
            return seats[:DETAIL_LIMIT], len(seats)  # its checkouts count toward the primary
        return _sessions(session, pid, day, seats)
    # One row per holder, as the metric counts them: a seat and an install on the same device
    # (or by the same person) count once.
    merged: dict[tuple[str, int], Holder] = {}
    for holder in seats:
        key = (holder.kind, holder.id)
        earlier = merged.get(key)
        merged[key] = (
            holder
            if earlier is None
            else Holder(
                holder.kind,
                holder.id,
                holder.name,
                f"{earlier.detail}; {holder.detail}",
                earlier.since,
                earlier.source or holder.source,
            )
        )
    if metric in _USER_METRICS:
        owners = _names(session, {o for h, o in installs if o is not None})
        for holder, owner in installs:
            if owner is None:
                merged[("device", holder.id)] = Holder(
                    "device",
                    holder.id,
                    holder.name,
                    f"{holder.detail}; nobody owns the device",
                    source=holder.source,
                )
            elif ("person", owner) in merged:
                continue
            else:
                merged[("person", owner)] = Holder(
                    "person",
                    owner,
                    owners.get(owner, f"person {owner}"),
                    f"runs it on {holder.name} ({holder.detail}); no seat",
                    source=holder.source,
                )
        for person_id, name, source in _users(session, pid, day) if metric is primary else []:
            merged.setdefault(
                ("person", person_id),
                Holder(
                    "person",
                    person_id,
                    name,
                    "used it (license server or service activity)",
                    source=source,
                ),
            )
    else:
        for holder, _ in installs:
            seated = merged.get(("device", holder.id))
            merged[("device", holder.id)] = (
                Holder(
                    holder.kind,
                    holder.id,
                    holder.name,
                    f"{holder.detail}; no seat",
                    source=holder.source,
                )
                if seated is None
                else replace(
                    seated, detail=f"{seated.detail}; {holder.detail}", source=holder.source
                )
            )
    everyone = list(merged.values())
    return everyone[:DETAIL_LIMIT], len(everyone)


def _primary_metric(session: Session, pid: int, day: dt.date) -> Metric:
    """The metric installs and usage of a product count toward (as :func:`_read` decides)."""
    owned = session.execute(
        select(Entitlement.metric, func.sum(Entitlement.quantity))
        .where(Entitlement.product_id == pid, in_term(day))
        .group_by(Entitlement.metric)
    ).all()
    if owned:
        return min(
            (Metric(m) for m, _ in owned),
            key=lambda m: (-next(int(q) for mm, q in owned if mm == m.value), m),
        )
    latest = session.scalar(
        select(Entitlement.metric)
        .where(Entitlement.product_id == pid)
        .order_by(Entitlement.id.desc())
        .limit(1)
    )
    return Metric.PER_DEVICE if latest is None else Metric(latest)


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(select(Person.id, Person.name).where(Person.id.in_(sorted(ids)))).all()
    )


def _users(session: Session, pid: int, day: dt.date) -> list[tuple[int, str, str]]:
    """People who checked the product out in the concurrent window before ``day``, each with
    the source of their latest checkout (the line of the usage file, snapshot or log that read
    it; a person with several: "latest of N checkouts: …")."""
    moment = end_of(day)
    start = moment - dt.timedelta(days=CONCURRENT_WINDOW_DAYS)
    latest = (
        select(
            UsageSession.person_id.label("person_id"),
            func.max(UsageSession.checkout).label("checkout"),
            func.count().label("sessions"),
        )
        .where(UsageSession.product_id == pid, out_during(start, moment))
        .group_by(UsageSession.person_id)
        .subquery()
    )
    found: dict[int, tuple[int, str, str]] = {}
    for i, n, sessions, file_name, sha, line in session.execute(
        select(
            Person.id,
            Person.name,
            latest.c.sessions,
            ImportBatch.file_name,
            ImportBatch.sha256,
            UsageSession.source_line,
        )
        .join(latest, latest.c.person_id == Person.id)
        .join(
            UsageSession,
            and_(
                UsageSession.person_id == Person.id,
                UsageSession.product_id == pid,
                UsageSession.checkout == latest.c.checkout,
            ),
        )
        .outerjoin(ImportBatch, ImportBatch.id == UsageSession.import_id)
        .order_by(Person.id, UsageSession.id.desc())
    ):
        if i in found:
            continue  # two checkouts at the same moment: the newest read
        where = source_text(file_name, sha, line)
        if sessions > 1:
            where = f"latest of {sessions:,} checkouts: {where}"
        found[int(i)] = (int(i), str(n), where)
    return list(found.values())


def _sessions(
    session: Session, pid: int, day: dt.date, seats: list[Holder]
) -> tuple[list[Holder], int]:
    """Concurrent use: the checkouts of the window (the peak is taken over these) and seats."""
    moment = end_of(day)
    start = moment - dt.timedelta(days=CONCURRENT_WINDOW_DAYS)
    query = (
        select(
            UsageSession.id,
            UsageSession.user_name,
            UsageSession.host,
            UsageSession.checkout,
            checked_in(moment, sampling_interval(session)),
            UsageSession.units,
        )
        .where(UsageSession.product_id == pid, out_during(start, moment))
        .order_by(UsageSession.checkout.desc())
    )
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.execute(
        query.add_columns(ImportBatch.file_name, ImportBatch.sha256, UsageSession.source_line)
        .outerjoin(ImportBatch, ImportBatch.id == UsageSession.import_id)
        .limit(DETAIL_LIMIT)
    ).all()
    found = [
        Holder(
            "checkout",
            int(i),
            f"{user} on {host}",
            f"{plural(units, 'license')} until "
            + (_aware(checkin).strftime("%Y-%m-%d %H:%M") if checkin else "still out"),
            _aware(checkout).strftime("%Y-%m-%d %H:%M"),
            source_text(file_name, sha, line),
        )
        for i, user, host, checkout, checkin, units, file_name, sha, line in rows
    ]
    return seats + found, len(seats) + total


def _sourced(session: Session, rows: list[Holder]) -> list[Holder]:
    """``rows`` with the source of each seat and purchase, and of each person's and device's
    own fields (read for these rows only: a drill-down shows at most DETAIL_LIMIT)."""
    seats = seat_sources(session, {h.seat for h in rows if h.seat})
    bought = entitlement_sources(session, {h.id for h in rows if h.kind == "entitlement"})
    people = record_sources(session, "person", {h.id for h in rows if h.kind == "person"})
    devices = record_sources(session, "device", {h.id for h in rows if h.kind == "device"})
    sourced = []
    for h in rows:
        source = h.source
        if h.kind == "entitlement":
            source = bought.get(h.id, source)
        elif h.seat:
            seat = seats.get(h.seat, "")
            source = f"{source}; seat {seat}" if source else seat
        records = people if h.kind == "person" else devices if h.kind == "device" else {}
        sourced.append(replace(h, source=source, record=records.get(h.id, "")))
    return sourced


def _seat_holders(
    session: Session, pid: int, metric: Metric | None, moment: dt.datetime
) -> list[Holder]:
    rows = session.execute(
        select(
            SeatAssignment.id,
            SeatAssignment.person_id,
            SeatAssignment.device_id,
            Person.name,
            Device.hostname,
            SeatAssignment.units,
            SeatAssignment.started_at,
            Entitlement.name,
        )
        .join(Entitlement, Entitlement.id == SeatAssignment.entitlement_id)
        .outerjoin(Person, Person.id == SeatAssignment.person_id)
        .outerjoin(Device, Device.id == SeatAssignment.device_id)
        .where(
            Entitlement.product_id == pid,
            true() if metric is None else Entitlement.metric == metric.value,
            seat_open(moment),
        )
        .order_by(SeatAssignment.started_at)
    )
    found = []
    for seat, person_id, device_id, person, host, units, started, entitlement in rows:
        since = _aware(started).date().isoformat()
        if person_id is not None:
            holder = Holder("person", person_id, person, f"seat on {entitlement}", since, seat=seat)
        else:
            what = f"seat on {entitlement}, {plural(units, 'unit')}"
            holder = Holder("device", int(device_id or 0), host, what, since, seat=seat)
        found.append(holder)
    return found


def _install_holders(session: Session, pid: int, day: dt.date) -> list[tuple[Holder, int | None]]:
    """Devices running the product, each with its owner's id."""
    rows = session.execute(
        select(
            Device.id,
            Device.hostname,
            Device.owner_id,
            SoftwareTitle.title,
            SoftwareTitle.version,
            ImportBatch.file_name,
            ImportBatch.sha256,
            Installation.source_line,
        )
        .join(Installation, Installation.device_id == Device.id)
        .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
        .outerjoin(ImportBatch, ImportBatch.id == Installation.import_id)
        .where(SoftwareTitle.product_id == pid, installed(day))
        .order_by(Device.hostname, Installation.id)
    )
    seen: dict[int, tuple[Holder, int | None]] = {}
    for device_id, host, owner_id, title, version, file_name, sha, line in rows:
        if device_id not in seen:
            holder = Holder(
                "device",
                device_id,
                host,
                f"installed: {title} {version}".strip(),
                source=source_text(file_name, sha, line),
            )
            seen[device_id] = (holder, owner_id)
    return list(seen.values())


def _denied(
    session: Session, day: dt.date, names: dict[int, tuple[str, str]], within: _Within
) -> list[Finding]:
    """Checkouts a license server refused because every license was out, in the concurrent
    window: at those times more people needed the product at once than the peak in use shows."""
    moment = end_of(day)
    refused: dict[int, tuple[int, dt.datetime]] = {}
    for pid, person, count, last in session.execute(
        select(
            UsageDenial.product_id,
            UsageDenial.person_id,
            func.count(),
            func.max(UsageDenial.denied_at),
        )
        .where(
            UsageDenial.capacity.is_(True),
            UsageDenial.product_id.is_not(None),
            within.where(UsageDenial.product_id),
            UsageDenial.denied_at >= moment - dt.timedelta(days=CONCURRENT_WINDOW_DAYS),
            UsageDenial.denied_at < moment,
        )
        .group_by(UsageDenial.product_id, UsageDenial.person_id)
    ):
        if pid is None or not within.holds(person):
            continue
        total, latest = refused.get(pid, (0, _aware(last)))
        refused[pid] = (total + int(count), max(latest, _aware(last)))
    found = []
    for pid, (count, last) in sorted(refused.items()):
        vendor, product = names.get(pid, ("", ""))
        found.append(
            Finding(
                FindingKind.DENIED,
                pid,
                vendor,
                product,
                None,
                count,
                f"the license server refused {plural(count, 'checkout')} in "
                f"{plural(CONCURRENT_WINDOW_DAYS, 'day')} because every license was out (last "
                f"{last:%Y-%m-%d %H:%M}): more people needed it at once than it could serve",
            )
        )
    return found


def _denial_rows(session: Session, finding: Finding, day: dt.date) -> list[Holder]:
    """The refusals behind a finding, newest first, each with the log and line it was read from."""
    moment = end_of(day)
    query = (
        select(
            UsageDenial.person_id,
            Person.name,
            UsageDenial.user_name,
            UsageDenial.host,
            UsageDenial.denied_at,
            ImportBatch.file_name,
            ImportBatch.sha256,
            UsageDenial.line,
        )
        .outerjoin(Person, Person.id == UsageDenial.person_id)
        .outerjoin(ImportBatch, ImportBatch.id == UsageDenial.import_id)
        .where(
            UsageDenial.product_id == finding.product_id,
            UsageDenial.capacity.is_(True),
            UsageDenial.denied_at >= moment - dt.timedelta(days=CONCURRENT_WINDOW_DAYS),
            UsageDenial.denied_at < moment,
        )
        .order_by(UsageDenial.denied_at.desc(), UsageDenial.id.desc())
        .limit(DETAIL_LIMIT)
    )
    return [
        Holder(
            "person" if person_id is not None else "user",
            int(person_id or 0),
            name or user,
            f"refused on {host or 'an unnamed host'} ({file_name or 'an import'}, line {line:,})",
            f"{_aware(when):%Y-%m-%d %H:%M}",
            source_text(file_name or "an import", sha, line),
        )
        for person_id, name, user, host, when, file_name, sha, line in session.execute(query)
    ]


def _finding_rows(
    session: Session, finding: Finding, day: dt.date, shelf_days: int
) -> list[Holder]:
    if finding.kind.value in {grants.OVER, grants.UNDER, grants.EXPIRY}:
        found = grants.rows(session, finding.product_id, day)
        return [Holder(r.kind, r.id, r.name, r.detail, r.since) for r in found][:DETAIL_LIMIT]
    moment = end_of(day)
    if finding.kind is FindingKind.OVER_DEPLOYED:
        metric = next(
            (m for m in Metric if m.label in finding.text.split(":", 1)[0]), Metric.PER_DEVICE
        )
        return _holders(session, finding.product_id, metric, Column.NEEDED, day)[0]
    if finding.kind is FindingKind.UNKNOWN_HARDWARE:
        return _unknown_hardware_rows(session, finding, day)
    if finding.kind is FindingKind.DENIED:
        return _denial_rows(session, finding, day)
    if finding.kind is FindingKind.USED_WITHOUT_SEAT:
        seated = {
            h.id
            for h in _seat_holders(session, finding.product_id, None, moment)
            if h.kind == "person"
        }
        return [
            Holder("person", person_id, name, "used it without a seat", source=source)
            for person_id, name, source in sorted(
                _users(session, finding.product_id, day), key=lambda u: u[1].lower()
            )
            if person_id not in seated
        ][:DETAIL_LIMIT]
    if finding.kind is FindingKind.FACTORS_DIFFER:
        return _holders(session, finding.product_id, Metric.PER_CORE, Column.OWNED, day)[0]
    if finding.kind is FindingKind.UNLICENSED:
        # Under the metric the position counted the installs under (the primary one, or the
        # one last bought once nothing is in term), ties decided as the position decides them.
        metric = _primary_metric(session, finding.product_id, day)
        return _holders(session, finding.product_id, metric, Column.UNLICENSED, day)[0]
    query = (
        select(
            SeatAssignment.person_id,
            SeatAssignment.device_id,
            Person.name,
            Person.status,
            Device.hostname,
            SeatAssignment.started_at,
            Entitlement.name,
            Entitlement.term_end,
            SeatAssignment.id,
        )
        .join(Entitlement, Entitlement.id == SeatAssignment.entitlement_id)
        .outerjoin(Person, Person.id == SeatAssignment.person_id)
        .outerjoin(Device, Device.id == SeatAssignment.device_id)
        .where(seat_open(moment))
    )
    if finding.entitlement_id is not None:
        query = query.where(SeatAssignment.entitlement_id == finding.entitlement_id)
    else:
        query = query.where(Entitlement.product_id == finding.product_id)
    if finding.kind is FindingKind.DEPARTED:
        query = query.where(departed_by(day))
    if finding.kind is FindingKind.DISABLED_ACCOUNT:
        query = query.where(still_employed_disabled())
    rows = session.execute(query.order_by(SeatAssignment.started_at).limit(50_000)).all()
    if finding.kind is FindingKind.DUPLICATE:
        counts: dict[tuple[str, int | None], int] = defaultdict(int)
        for person_id, device_id, *_ in rows:
            counts[("person", person_id) if person_id else ("device", device_id)] += 1
        rows = [r for r in rows if counts[("person", r[0]) if r[0] else ("device", r[1])] > 1]
    if finding.kind is FindingKind.SHELFWARE:
        cutoff = end_of(day - dt.timedelta(days=shelf_days))
        rows = [r for r in rows if _aware(r[5]) < cutoff]
        rows = _without_use(session, finding.product_id, rows, day, shelf_days)
    said = (
        account_sources(session, {r[0] for r in rows if r[0] is not None})
        if finding.kind is FindingKind.DISABLED_ACCOUNT
        else {}
    )
    result = []
    for person_id, device_id, person, status, host, started, entitlement, term_end, seat in rows:
        since = _aware(started).date().isoformat()
        if person_id is not None:
            note = f"seat on {entitlement}"
            if status in {"left", "missing"}:
                note += f"; {'left' if status == 'left' else 'not in the HR export'}"
            if finding.kind is FindingKind.DISABLED_ACCOUNT:
                note += f"; employed (HR), directory account disabled per {said.get(person_id)}"
            if term_end is not None and term_end < day:
                note += f"; term ended {term_end}"
            result.append(Holder("person", person_id, person, note, since, seat=seat))
        else:
            result.append(
                Holder(
                    "device", int(device_id or 0), host, f"seat on {entitlement}", since, seat=seat
                )
            )
    return result[:DETAIL_LIMIT]


def _unknown_hardware_rows(session: Session, finding: Finding, day: dt.date) -> list[Holder]:
    """The devices a per-core or per-processor figure leaves out: seats of the metric and, under
    the product's primary metric, installs, on devices whose hardware is unknown (or whose
    processor a purchase rating cores by processor does not rate)."""
    metric = next((m for m in Metric if m.label == finding.text.split(":", 1)[0]), Metric.PER_CORE)
    slot = _Owned()
    for min_cores, factor, table in session.execute(
        select(
            Entitlement.min_cores_per_processor, Entitlement.core_factor, Entitlement.unit_table
        ).where(
            Entitlement.product_id == finding.product_id,
            Entitlement.metric == metric.value,
            in_term(day),
        )
    ):
        slot.min_cores = max(slot.min_cores, min_cores or 0)
        rates = stored_table(table)
        slot.core_rules.add((None, rates) if rates is not None else (stored_factor(factor), None))
    seated = (
        select(SeatAssignment.device_id)
        .join(Entitlement, Entitlement.id == SeatAssignment.entitlement_id)
        .where(
            Entitlement.product_id == finding.product_id,
            Entitlement.metric == metric.value,
            seat_open(end_of(day)),
        )
    )
    sources = [seated]
    if _primary_metric(session, finding.product_id, day) is metric:
        sources.append(
            select(Installation.device_id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
            .where(SoftwareTitle.product_id == finding.product_id, installed(day))
        )
    result: list[Holder] = []
    for device_id, host, processors, cores, model in session.execute(
        select(Device.id, Device.hostname, Device.processors, Device.cores, Device.processor_model)
        .where(Device.id.in_(union(*sources).scalar_subquery()))
        .order_by(Device.hostname)
    ).all():
        units, lacking = slot.units(metric, processors, cores, model)
        if units is not None:
            continue
        result.append(
            Holder(
                "device",
                device_id,
                host,
                f"processors {processors if processors is not None else 'unknown'}, cores "
                f"{cores if cores is not None else 'unknown'}"
                + (
                    f", processor {model or 'not recorded'} (no rate for it)"
                    if lacking == "processor model"
                    else ""
                )
                + "; not counted",
            )
        )
        if len(result) >= DETAIL_LIMIT:
            break
    return result


def _usage_people(session: Session, start: dt.datetime, day: dt.date, within: _Within) -> Keys:
    """product<<32 | person of everyone with a checkout out at some time in [start, day's end)
    (in the scope)."""
    rows = session.execute(
        select(UsageSession.product_id, UsageSession.person_id)
        .where(
            UsageSession.product_id.is_not(None),
            UsageSession.person_id.is_not(None),
            within.where(UsageSession.product_id),
            out_during(start, end_of(day)),
        )
        .distinct()
    ).all()
    return _distinct(
        np.array(
            [(int(p or 0) << _SHIFT) | int(u or 0) for p, u in rows if within.holds(u)],
            dtype=np.int64,
        )
    )


def _without_use(
    session: Session, pid: int, rows: list[Any], day: dt.date, shelf_days: int
) -> list[Any]:
    devices = {
        d
        for (d,) in session.execute(
            select(Installation.device_id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
            .where(SoftwareTitle.product_id == pid, installed(day))
        )
    }
    owners = (
        {
            o
            for (o,) in session.execute(
                select(Device.owner_id).where(Device.id.in_(devices), Device.owner_id.is_not(None))
            )
        }
        if devices
        else set()
    )
    since = end_of(day) - dt.timedelta(days=shelf_days)
    users = {
        p
        for (p,) in session.execute(
            select(UsageSession.person_id).where(
                UsageSession.product_id == pid,
                UsageSession.person_id.is_not(None),
                out_during(since, end_of(day)),  # a checkout after the date is no use before it
            )
        )
    }
    return [
        r
        for r in rows
        if (r[1] is not None and r[1] not in devices)
        or (r[0] is not None and r[0] not in owners and r[0] not in users)
    ]
