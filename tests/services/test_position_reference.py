"""The position is exactly right: the engine against the reference model, on generated orgs.

Hypothesis draws a small organization (people joining and leaving, devices, one to three
products with purchases starting, ending and renewing in EUR and USD, seats assigned and
released with over-commits, installs appearing and disappearing, license-server checkouts with
handovers and over midnight), builds it in a fresh database through the public services with
their clock set to each event's date, and checks that :class:`PositionService` on a random date
equals :mod:`reference_position` on every figure, every finding and every drill-down row.

``SEATLEDGER_REFERENCE_EXAMPLES`` sets how many organizations the ``slow`` variant draws
(default 3000); the default run draws ``DEFAULT_EXAMPLES``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
import reference_position as ref
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import PASSWORD
from seatledger.domain.licensing import Metric
from seatledger.errors import LimitExceeded, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Column, Position, PositionService
from seatledger.store.db import Database
from seatledger.store.models import Entitlement, Person, SeatAssignment, UsageSession

DEFAULT_EXAMPLES = 200
SLOW_EXAMPLES = int(os.environ.get("SEATLEDGER_REFERENCE_EXAMPLES", "3000"))
BASE = dt.date(2024, 1, 15)  # checkouts must be plausible dates (1990 to next year)
DAYS = 200  # events fall on BASE + 0..DAYS
PRODUCTS = ("A", "B", "C")
# Processors as inventory names them, and contracts' rates by processor: Oracle-style core
# factors, IBM-style PVUs, and a table whose classes are several words or miss a processor.
MODELS = (
    "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
    "AMD EPYC 7543 32-Core Processor",
    "IBM POWER10",
)
TABLES = ("Xeon=0.5; EPYC=0.5", "Xeon=70; POWER10=120", "Xeon Gold=2; AMD EPYC=1; POWER10=1.5")


def _rates(table: int | None) -> tuple[tuple[str, Decimal], ...]:
    if table is None:
        return ()
    pairs = (rate.split("=") for rate in TABLES[table].split(";"))
    return tuple((name.strip(), Decimal(units)) for name, units in pairs)


# -- what hypothesis draws --------------------------------------------------------------------


@dataclass(frozen=True)
class PurchasePlan:
    product: int
    metric: str
    quantity: int
    start: int | None
    end: int | None
    cost: Decimal | None
    currency: str
    factor: Decimal
    min_cores: int
    rates: int | None = None  # per core: an index into TABLES (rates by processor)


@dataclass(frozen=True)
class SeatPlan:
    purchase: int
    holder: int  # index into people or devices, by the purchase's metric
    day: int
    release: int | None
    over_commit: bool


@dataclass(frozen=True)
class InstallPlan:
    device: int
    product: int
    variant: int  # two titles per product
    day: int
    removed: int | None


@dataclass(frozen=True)
class CheckoutPlan:
    product: int | None  # None: a feature no rule maps
    user: int | None  # None: a user name that matches nobody
    start: dt.datetime
    end: dt.datetime | None


@dataclass(frozen=True)
class Plan:
    people: tuple[tuple[int, int | None], ...]  # joined, left (days)
    # processors, cores (None: nobody recorded them), owner
    devices: tuple[tuple[int | None, int | None, int | None], ...]
    products: int
    purchases: tuple[PurchasePlan, ...]
    seats: tuple[SeatPlan, ...]
    installs: tuple[InstallPlan, ...]
    checkouts: tuple[CheckoutPlan, ...]
    as_of: int
    shelf_days: int = 90
    models: tuple[int | None, ...] = ()  # per device: an index into MODELS; None: not recorded


def _model(plan: Plan, device: int) -> str | None:
    chosen = plan.models[device] if device < len(plan.models) else None
    return None if chosen is None else MODELS[chosen]


def _day(n: int) -> dt.date:
    return BASE + dt.timedelta(days=n)


def _at(day: int, minutes: int = 0) -> dt.datetime:
    return dt.datetime.combine(_day(day), dt.time(), tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)


days = st.integers(0, DAYS)
COSTS = [Decimal(10), Decimal("12.5"), Decimal("99.99"), Decimal(100), Decimal("0.3333")]
# Times of day that meet at midnight, noon and in between, so checkouts hand over and cross days.
MINUTES = [0, 30, 9 * 60, 12 * 60, 23 * 60 + 30, 24 * 60 - 1]
DURATIONS = [1, 30, 90, 8 * 60, 24 * 60, 24 * 60 + 30, 3 * 24 * 60, 91 * 24 * 60]


@st.composite
def purchases(draw: st.DrawFn, products: int) -> tuple[PurchasePlan, ...]:
    made: list[PurchasePlan] = []
    for _ in range(draw(st.integers(0, 4))):
        renews = made and draw(st.booleans())
        if renews and made[-1].end is not None:
            # The same product and metric again, from the day after the last one ended.
            last = made[-1]
            start: int | None = last.end + 1
            product, metric = last.product, last.metric
        else:
            product = draw(st.integers(0, products - 1))
            metric = draw(st.sampled_from(ref.METRICS))
            start = draw(st.none() | days)
        end = draw(st.none() | st.integers(start or 0, max(start or 0, DAYS + 60)))
        quantity = draw(st.integers(0, 6))
        if metric == ref.PER_CORE:
            quantity *= 8
        made.append(
            PurchasePlan(
                product=product,
                metric=metric,
                quantity=quantity,
                start=start,
                end=end,
                cost=draw(st.none() | st.sampled_from(COSTS)),
                currency=draw(st.sampled_from(["EUR", "USD"])),
                factor=draw(st.sampled_from([Decimal("0.5"), Decimal(1)])),
                min_cores=draw(st.sampled_from([0, 16])),
                rates=draw(st.none() | st.integers(0, len(TABLES) - 1))
                if metric == ref.PER_CORE
                else None,
            )
        )
    return tuple(made)


@st.composite
def checkouts(draw: st.DrawFn, products: int, people: int) -> tuple[CheckoutPlan, ...]:
    made: list[CheckoutPlan] = []
    for _ in range(draw(st.integers(0, 5))):
        previous = made[-1].end if made else None
        if previous is not None and draw(st.booleans()):
            start = previous  # a handover: checked in and out again at the same instant
        else:
            start = _at(draw(days), draw(st.sampled_from(MINUTES)))
        duration = draw(st.none() | st.sampled_from(DURATIONS))
        made.append(
            CheckoutPlan(
                product=draw(st.integers(0, products - 1) | st.just(None)),
                user=draw(st.none() | st.integers(0, people - 1)) if people else None,
                start=start,
                end=None if duration is None else start + dt.timedelta(minutes=duration),
            )
        )
    return tuple(made)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    people = []
    for _ in range(draw(st.integers(0, 4))):
        joined = draw(days)
        people.append((joined, draw(st.none() | st.integers(joined, DAYS))))
    devices = []
    for _ in range(draw(st.integers(0, 4))):
        processors = draw(st.sampled_from([1, 2, 4, None]))
        cores = draw(st.sampled_from([1, 2, 4, 8, 12, 24, None]))
        if cores is not None and processors is not None:
            cores = max(processors, cores)
        owner = draw(st.none() | st.integers(0, len(people) - 1)) if people else None
        devices.append((processors, cores, owner))
    models = tuple(draw(st.none() | st.integers(0, len(MODELS) - 1)) for _ in devices)
    products = draw(st.integers(1, len(PRODUCTS)))
    bought = draw(purchases(products))
    seats = []
    for _ in range(draw(st.integers(0, 6)) if bought else 0):
        purchase = draw(st.integers(0, len(bought) - 1))
        by_device = bought[purchase].metric in ref.DEVICE_METRICS
        holders = len(devices) if by_device else len(people)
        if not holders:
            continue
        day = draw(days)
        seats.append(
            SeatPlan(
                purchase=purchase,
                holder=draw(st.integers(0, holders - 1)),
                day=day,
                release=draw(st.none() | st.integers(day, DAYS)),
                over_commit=draw(st.booleans()),
            )
        )
    installs = []
    for _ in range(draw(st.integers(0, 5)) if devices else 0):
        day = draw(days)
        installs.append(
            InstallPlan(
                device=draw(st.integers(0, len(devices) - 1)),
                product=draw(st.integers(0, products - 1)),
                variant=draw(st.integers(0, 1)),
                day=day,
                removed=draw(st.none() | st.integers(day + 1, DAYS + 1)),
            )
        )
    used = draw(checkouts(products, len(people)))
    # The as-of date: anywhere, or next to an event, a shelf or a window length after one (the
    # window's first day is as-of - 89: a checkout ending at its midnight is on the edge).
    moments = [
        *(d for person in people for d in person if d is not None),
        *(d for p in bought for d in (p.start, p.end) if d is not None),
        *(d for s in seats for d in (s.day, s.release) if d is not None),
        *(d for i in installs for d in (i.day, i.removed) if d is not None),
        *((c.end.date() - BASE).days for c in used if c.end is not None),
    ]
    near = [m + shift for m in moments for shift in (-1, 0, 1, 29, 30, 89, 90, 91)]
    return Plan(
        people=tuple(people),
        devices=tuple(devices),
        products=products,
        purchases=bought,
        seats=tuple(seats),
        installs=tuple(installs),
        checkouts=used,
        as_of=draw(st.integers(-2, DAYS + 100) | (st.sampled_from(near) if near else st.nothing())),
        shelf_days=draw(st.sampled_from([90, 30, 120])),
        models=models,
    )


# -- building the organization through the services -------------------------------------------


class Clock:
    """The services' clock: noon of an event's day, a second later for every change."""

    def __init__(self) -> None:
        self.now = _at(0, 12 * 60)

    def day(self, n: int) -> None:
        self.now = max(self.now, _at(n, 12 * 60))

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@dataclass
class Built:
    """The organization as it was made, and the ids the engine knows its parts by."""

    org: ref.Organization
    products: dict[int, str] = field(default_factory=dict)  # product id -> key
    purchases: dict[int, str] = field(default_factory=dict)
    people: dict[int, str] = field(default_factory=dict)
    devices: dict[int, str] = field(default_factory=dict)
    checkouts: dict[int, str] = field(default_factory=dict)
    product_ids: dict[str, int] = field(default_factory=dict)
    runs: dict[tuple[str, str], list[ref.Install]] = field(default_factory=dict)  # by title
    shelf_days: int = 90

    @property
    def purchase_ids(self) -> dict[str, int]:
        return {v: k for k, v in self.purchases.items()}

    @property
    def names(self) -> dict[str, dict[int, str]]:
        """Reference keys by engine id, per kind of holder."""
        return {
            "person": self.people,
            "device": self.devices,
            "entitlement": self.purchases,
            "checkout": self.checkouts,
        }


def _person(n: int) -> str:
    return f"P{n + 1}"


def _device(n: int) -> str:
    return f"D{n + 1}"


def build(admin: Services, clock: Clock, plan: Plan, folder: Path) -> Built:
    """Make ``plan``'s organization through the services; the realized organization is what
    they accepted (a seat the limit rule or a leaver refuses is left out)."""
    vendor = admin.catalog.add_vendor("Contoso")
    product_ids = {
        PRODUCTS[k]: admin.catalog.add_product(vendor, PRODUCTS[k]) for k in range(plan.products)
    }
    for k in range(plan.products):
        pid = product_ids[PRODUCTS[k]]
        admin.rules.add(RuleInput(pid, f"App{k} Std"))
        admin.rules.add(RuleInput(pid, f"App{k} Pro"))
        admin.rules.add(RuleInput(pid, f"FEAT{k}"))
    purchases = tuple(
        ref.Purchase(
            key=f"PO{n + 1}",
            product=PRODUCTS[p.product],
            metric=p.metric,
            quantity=p.quantity,
            start=None if p.start is None else _day(p.start),
            end=None if p.end is None else _day(p.end),
            unit_cost=p.cost,
            currency=p.currency,
            core_factor=p.factor,
            min_cores=p.min_cores,
            rates=_rates(p.rates),
        )
        for n, p in enumerate(plan.purchases)
    )
    imports = 0

    def commit(kind: Kind, text: str) -> None:
        nonlocal imports
        imports += 1
        path = folder / f"import-{imports}.csv"
        path.write_text(text, encoding="utf-8")
        result = admin.imports.commit(path, ImportOptions(kind))
        assert not result.already_imported

    if purchases:
        commit(
            Kind.ENTITLEMENTS,
            "Vendor,Product,Metric,Quantity,Start date,End date,Unit cost,Currency,PO number,"
            "Minimum cores per processor,Core factor,Units per core by processor\n"
            + "".join(
                f"Contoso,{p.product},{p.metric},{p.quantity},{p.start or ''},{p.end or ''},"
                f"{'' if p.unit_cost is None else p.unit_cost},{p.currency},{p.key},"
                f"{p.min_cores},{p.core_factor},"
                f"{'; '.join(f'{name}={units}' for name, units in p.rates)}\n"
                for p in purchases
            ),
        )
    built = Built(ref.Organization(), shelf_days=plan.shelf_days)
    built.product_ids = product_ids
    built.products = {v: k for k, v in product_ids.items()}
    with admin.db.read() as session:
        entitlement_ids = {
            po: eid for eid, po in session.execute(select(Entitlement.id, Entitlement.po_reference))
        }
    built.purchases = {v: k for k, v in entitlement_ids.items()}

    # Every change of a day, in order: joins, devices, seats, releases, leavers, inventory.
    device_day = [0 if owner is None else plan.people[owner][0] for _, _, owner in plan.devices]
    installs = [
        (i, max(i.day, device_day[i.device]), i.removed)
        for i in plan.installs
        if i.removed is None or i.removed > max(i.day, device_day[i.device])
    ]
    events = sorted(
        {j for j, _ in plan.people}
        | {left for _, left in plan.people if left is not None}
        | set(device_day)
        | {s.day for s in plan.seats}
        | {s.release for s in plan.seats if s.release is not None}
        | {d for _, d, _ in installs}
        | {r for _, _, r in installs if r is not None}
    )
    person_ids: dict[int, int] = {}
    device_ids: dict[int, int] = {}
    seat_ids: dict[int, int] = {}
    seats: dict[int, ref.Seat] = {}
    listed: frozenset[tuple[int, str]] | None = None
    for today in events:
        clock.day(today)
        for n, (joined, _) in enumerate(plan.people):
            if joined == today:
                # As an HR export gives a new hire: with the first day.
                commit(
                    Kind.PEOPLE,
                    f"Employee ID,Full Name,Hire Date\nE{n + 1},Person {n + 1},{_day(today)}\n",
                )
                with admin.db.read() as session:
                    found = session.scalar(
                        select(Person.id).where(Person.employee_id == f"E{n + 1}")
                    )
                assert found is not None
                person_ids[n] = found
        for n, (processors, cores, owner) in enumerate(plan.devices):
            if device_day[n] == today:
                device_ids[n] = admin.directory.add_device(
                    DeviceInput(
                        _device(n),
                        processors=processors,
                        cores=cores,
                        owner_id=None if owner is None else person_ids[owner],
                        processor_model=_model(plan, n) or "",
                    )
                )
        for n, s in enumerate(plan.seats):
            purchase = purchases[s.purchase]
            by_device = purchase.metric in ref.DEVICE_METRICS
            if s.day != today or (s.holder not in (device_ids if by_device else person_ids)):
                continue
            holder = ("device", _device(s.holder)) if by_device else ("person", _person(s.holder))
            try:
                result = admin.seats.assign(
                    entitlement_ids[purchase.key],
                    people=[] if by_device else [person_ids[s.holder]],
                    devices=[device_ids[s.holder]] if by_device else [],
                    over_commit=s.over_commit,
                    reason="audit true-up pending" if s.over_commit else "",
                )
            except (LimitExceeded, ValidationError):
                continue  # refused (full, out of term, a leaver, held already): not made
            [seat_ids[n]] = result.assignment_ids
            seats[n] = ref.Seat(f"S{n + 1}", purchase.key, holder, clock.now)
        for n, s in enumerate(plan.seats):
            if s.release == today and n in seats and seats[n].end is None:
                admin.seats.release([seat_ids[n]])
                seats[n] = ref.Seat(
                    seats[n].key, seats[n].purchase, seats[n].holder, seats[n].start, clock.now
                )
        for n, (_, left) in enumerate(plan.people):
            if left == today:
                admin.directory.mark_left(person_ids[n], _day(today))
        present = frozenset(
            (i.device, f"App{i.product} {('Std', 'Pro')[i.variant]}")
            for i, start, removed in installs
            if start <= today and (removed is None or removed > today)
        )
        if present != listed and (listed is not None or present):
            # An export lists every device it covers, each with what is installed on it (a
            # tool's own entry too, so a device with nothing of ours left is still listed).
            rows = [f"{_device(d)},Agent,{imports}\n" for d in sorted(device_ids)]
            rows += [f"{_device(d)},{title},1\n" for d, title in sorted(present)]
            commit(
                Kind.INVENTORY,
                "Computer Name,Application Title,Application Version\n" + "".join(rows),
            )
            listed = present
    # What each (device, product) pair's installs were, day by day, as runs of days.
    install_runs: list[ref.Install] = []
    for device in range(len(plan.devices)):
        for product in range(plan.products):
            for variant in (0, 1):
                mine = [
                    (start, removed)
                    for i, start, removed in installs
                    if (i.device, i.product, i.variant) == (device, product, variant)
                ]
                runs = [
                    ref.Install(
                        _device(device),
                        PRODUCTS[product],
                        _day(a),
                        None if b is None else _day(b),
                    )
                    for a, b in _runs(mine)
                ]
                built.runs[(_device(device), f"App{product} {('Std', 'Pro')[variant]}")] = runs
                install_runs.extend(runs)

    checkouts = [c for c in plan.checkouts if c.user is None or c.user in person_ids]
    if checkouts:
        clock.day(DAYS + 2)
        commit(
            Kind.USAGE,
            "User,Feature,Host,Checkout,Checkin\n"
            + "".join(
                f"{'nobody' if c.user is None else f'E{c.user + 1}'},"
                f"{'OTHER' if c.product is None else f'FEAT{c.product}'},h{n},"
                f"{c.start.strftime('%Y-%m-%dT%H:%M:%SZ')},"
                f"{'' if c.end is None else c.end.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
                for n, c in enumerate(checkouts)
            ),
        )
        with admin.db.read() as session:
            built.checkouts = {
                sid: f"C{int(host[1:]) + 1}"
                for sid, host in session.execute(select(UsageSession.id, UsageSession.host))
            }
    with admin.db.read() as session:
        # The seats' moments as stored (the clock is read once per change, but read it back).
        stored = {
            sid: (_aware(start), None if end is None else _aware(end))
            for sid, start, end in session.execute(
                select(SeatAssignment.id, SeatAssignment.started_at, SeatAssignment.ended_at)
            )
        }
    for n, seat in seats.items():
        seats[n] = ref.Seat(seat.key, seat.purchase, seat.holder, *stored[seat_ids[n]])
    built.people = {v: _person(k) for k, v in person_ids.items()}
    built.devices = {v: _device(k) for k, v in device_ids.items()}
    built.org = ref.Organization(
        people=tuple(
            ref.Person(_person(n), _day(j), None if left is None else _day(left))
            for n, (j, left) in enumerate(plan.people)
        ),
        devices=tuple(
            ref.Device(_device(n), p, c, None if o is None else _person(o), _model(plan, n))
            for n, (p, c, o) in enumerate(plan.devices)
        ),
        products=tuple(PRODUCTS[: plan.products]),
        purchases=purchases,
        seats=tuple(seats.values()),
        installs=tuple(install_runs),
        checkouts=tuple(
            ref.Checkout(
                f"C{n + 1}",
                None if c.product is None else PRODUCTS[c.product],
                None if c.user is None else _person(c.user),
                c.start,
                c.end,
            )
            for n, c in enumerate(checkouts)
        ),
    )
    return built


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _runs(intervals: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """Overlapping or touching [start, removed) day intervals merged into maximal runs."""
    merged: list[tuple[int, int | None]] = []
    for start, end in sorted(intervals, key=lambda i: i[0]):
        if merged and (merged[-1][1] is None or merged[-1][1] >= start):
            last_end = merged[-1][1]
            merged[-1] = (
                merged[-1][0],
                None if last_end is None or end is None else max(last_end, end),
            )
        else:
            merged.append((start, end))
    return merged


# -- comparing --------------------------------------------------------------------------------


def engine_rows(built: Built, position: Position) -> dict[tuple[str, str], ref.Row]:
    return {
        (built.products[r.product_id], r.metric.value): ref.Row(
            product=built.products[r.product_id],
            metric=r.metric.value,
            bought=r.bought,
            ended=r.ended,
            owned=r.owned,
            assigned=r.assigned,
            needed=r.needed,
            unlicensed=r.unlicensed,
            unit_cost=r.unit_cost,
            currency=r.currency,
            available=r.available,
            shortfall=r.shortfall,
            over_licensed=r.over_licensed,
            true_up=r.true_up,
            unknown=r.unknown_hardware,
        )
        for r in position.rows
    }


def engine_findings(built: Built, position: Position) -> list[ref.Finding]:
    found = []
    for f in position.findings:
        holders = ""
        if f.kind.value == "duplicate_assignment":
            holders = "device" if "device" in f.text.split(" holds", 1)[0] else "person"
        found.append(
            ref.Finding(
                f.kind.value,
                built.products[f.product_id],
                None if f.entitlement_id is None else built.purchases[f.entitlement_id],
                f.count,
                holders,
            )
        )
    return sorted(found)


def engine_drill(
    built: Built, service: PositionService, key: tuple[str, str], as_of: dt.date
) -> ref.Drill:
    pid, metric = built.product_ids[key[0]], Metric(key[1])

    def rows(column: Column) -> list[tuple[str, str]]:
        found, total = service.holders(pid, metric, column, as_of)
        assert total == len(found)
        return [(h.kind, built.names[h.kind][h.id]) for h in found]

    return ref.Drill(
        owned=frozenset(k for _, k in rows(Column.OWNED)),
        assigned=tuple(sorted(rows(Column.ASSIGNED))),
        needed=frozenset(rows(Column.NEEDED)),
        unlicensed=frozenset(k for _, k in rows(Column.UNLICENSED)),
    )


# -- databases --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_admin(migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Maker:
    """Makes a fresh migrated SQLite database and its first administrator, per example."""
    folder = tmp_path_factory.mktemp("reference")
    made = 0

    def make(clock: Clock) -> tuple[Services, Path]:
        nonlocal made
        made += 1
        where = folder / f"org-{made}"
        where.mkdir()
        path = where / "seatledger.sqlite"
        shutil.copyfile(migrated_sqlite_template, path)
        db, _ = Database.open(path)
        actor = operators.create_first_administrator(db, "admin", "Ada Admin", PASSWORD)
        return Services.for_actor(db, actor, clock), where

    return make


Maker = Callable[[Clock], tuple[Services, Path]]


def check(make: Maker, plan: Plan) -> ref.Position:
    """Build ``plan`` and compare the engine with the reference on every figure, finding and
    row behind them; the reference's position is returned."""
    clock = Clock()
    admin, folder = make(clock)
    try:
        built = build(admin, clock, plan, folder)
        as_of = _day(plan.as_of)
        expected = ref.position(built.org, as_of, plan.shelf_days)
        service = PositionService(admin.ctx)
        actual = service.position(as_of, shelf_days=plan.shelf_days)
        assert engine_rows(built, actual) == expected.rows
        assert engine_findings(built, actual) == expected.findings
        for key, drill in expected.drill.items():
            assert engine_drill(built, service, key, as_of) == drill, key
        by_kind = {
            (f.kind.value, f.product_id, f.entitlement_id, f.count): f for f in actual.findings
        }
        for finding, holders in expected.behind.items():
            pid = built.product_ids[finding.product]
            eid = None if finding.purchase is None else built.purchase_ids[finding.purchase]
            engine_finding = by_kind[(finding.kind, pid, eid, finding.count)]
            rows = service.finding_rows(engine_finding, as_of, plan.shelf_days)
            listed = [(h.kind, built.names[h.kind][h.id]) for h in rows]
            if finding.purchase is None and finding.kind != "duplicate_assignment":
                assert tuple(sorted(set(listed))) == holders, finding
            else:
                assert tuple(sorted(listed)) == holders, finding
        return expected
    finally:
        admin.db.dispose()
        shutil.rmtree(folder, ignore_errors=True)


_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def _covered(expected: ref.Position) -> None:
    """What the drawn organization exercised (``--hypothesis-show-statistics`` tallies it)."""
    for finding in {f.kind for f in expected.findings}:
        event(f"finding: {finding}")
    if any(row.unknown for row in expected.rows.values()):
        event("devices counted apart (unknown hardware or no rate)")


@settings(max_examples=DEFAULT_EXAMPLES, deadline=None, suppress_health_check=_HEALTH)
@given(plan=plans())
def test_the_position_equals_the_reference(fresh_admin: Maker, plan: Plan) -> None:
    _covered(check(fresh_admin, plan))


@pytest.mark.slow
@pytest.mark.skipif(
    "SEATLEDGER_REFERENCE_EXAMPLES" not in os.environ,
    reason="thousands of organizations take 10 minutes or more: `make reference` (or "
    "SEATLEDGER_REFERENCE_EXAMPLES=N) runs them",
)
@settings(max_examples=SLOW_EXAMPLES, deadline=None, suppress_health_check=_HEALTH)
@given(plan=plans())
def test_the_position_equals_the_reference_on_many_more(fresh_admin: Maker, plan: Plan) -> None:
    _covered(check(fresh_admin, plan))


# -- what the search found, written out -------------------------------------------------------


def _plan(**fields: object) -> Plan:
    defaults: dict[str, object] = {
        "people": (),
        "devices": (),
        "products": 1,
        "purchases": (),
        "seats": (),
        "installs": (),
        "checkouts": (),
        "as_of": 0,
    }
    return Plan(**(defaults | fields))  # type: ignore[arg-type]


def _bought(metric: str, quantity: int, **fields: object) -> PurchasePlan:
    values: dict[str, object] = {
        "product": 0,
        "metric": metric,
        "quantity": quantity,
        "start": None,
        "end": None,
        "cost": None,
        "currency": "EUR",
        "factor": Decimal(1),
        "min_cores": 0,
    }
    return PurchasePlan(**(values | fields))  # type: ignore[arg-type]


def test_handovers_and_midnight_are_counted_as_the_glossary_says(fresh_admin: Maker) -> None:
    """Concurrent, 1 owned.  Checkouts of day 0: 22:00-23:30, then 23:30 to 00:30 the next day
    (a handover at 23:30: one seat, not two), and 00:00-01:00 of day 1 (overlaps the second
    across midnight).  Peak on day 1 = 2 (00:00 to 00:30), needed 2, short 1 at 100 EUR."""
    checkouts = (
        CheckoutPlan(0, None, _at(0, 22 * 60), _at(0, 23 * 60 + 30)),
        CheckoutPlan(0, None, _at(0, 23 * 60 + 30), _at(1, 30)),
        CheckoutPlan(0, None, _at(1), _at(1, 60)),
    )
    purchase = _bought(ref.CONCURRENT, 1, cost=Decimal(100))
    day0 = check(fresh_admin, _plan(purchases=(purchase,), checkouts=checkouts[:2]))
    assert day0.rows[("A", ref.CONCURRENT)].needed == 1
    day1 = check(fresh_admin, _plan(purchases=(purchase,), checkouts=checkouts, as_of=1))
    row = day1.rows[("A", ref.CONCURRENT)]
    assert (row.needed, row.shortfall, row.true_up) == (2, 1, Decimal("100.00"))


def test_a_product_never_bought_counts_installs_per_device_and_use_as_concurrent(
    fresh_admin: Maker,
) -> None:
    """A: nothing bought; installed on D1; checked out 09:00-10:00 on day 0.  As of day 0:
    per device (not bought): needed 1 (D1), unlicensed 1; concurrent (not bought): needed 1
    (the peak), unlicensed 0.  The engine gave a concurrent row needed 1, unlicensed 1, and no
    per-device row (D1 is lost from every needed column)."""
    position = check(
        fresh_admin,
        _plan(
            devices=((1, 4, None),),
            installs=(InstallPlan(0, 0, 0, 0, None),),
            checkouts=(CheckoutPlan(0, None, _at(0, 9 * 60), _at(0, 10 * 60)),),
        ),
    )
    assert position.rows[("A", ref.PER_DEVICE)].unlicensed == 1


def test_a_reinstall_keeps_the_first_install_in_history(fresh_admin: Maker) -> None:
    """A, per device, 1 owned.  D1 runs it from day 0, the day-5 inventory finds it gone, the
    day-10 one finds it again.  As of day 2: needed 1 (D1), unlicensed 1.  The engine gave needed
    0, unlicensed 0 while the install's one row said first seen on day 10 (fixed)."""
    position = check(
        fresh_admin,
        _plan(
            devices=((1, 4, None),),
            purchases=(_bought(ref.PER_DEVICE, 1),),
            installs=(InstallPlan(0, 0, 0, 0, 5), InstallPlan(0, 0, 0, 10, None)),
            as_of=2,
        ),
    )
    assert position.rows[("A", ref.PER_DEVICE)].needed == 1


def test_a_site_licence_counts_the_staff_of_the_as_of_date(fresh_admin: Maker) -> None:
    """A, site licence.  P1 joins on day 0, P2 on day 10, P3 on day 0 and leaves on day 3.
    As of day 5 the staff is P1 alone: needed 1.  The engine counted 2 (P1, and P2, then on
    file with no day of joining) until HR's hire date was stored (fixed)."""
    position = check(
        fresh_admin,
        _plan(people=((0, None), (10, None), (0, 3)), purchases=(_bought(ref.SITE, 1),), as_of=5),
    )
    assert position.rows[("A", ref.SITE)].needed == 1


def test_a_leaver_is_not_departed_before_leaving(fresh_admin: Maker) -> None:
    """A, named user, 2 owned: P1 holds a seat from day 0 and leaves on day 20.  As of day 10
    P1 is on staff: no 'seat held by someone who left' finding (the engine reported one, reading
    people's status today)."""
    position = check(
        fresh_admin,
        _plan(
            people=((0, 20),),
            purchases=(_bought(ref.NAMED_USER, 2),),
            seats=(SeatPlan(0, 0, 0, None, over_commit=False),),
            as_of=10,
        ),
    )
    assert not [f for f in position.findings if f.kind == "departed_holder"]


def test_the_needed_rows_are_the_rows_the_number_counts(fresh_admin: Maker) -> None:
    """A: per device 1 owned (the primary), named user 0 owned.  P1 checks A out on day 0.
    Named user needed = 0 (checkouts count toward the primary, per device, which ignores
    them).  The engine's needed drill-down for named user listed P1: 1 row behind 0 (fixed)."""
    check(
        fresh_admin,
        _plan(
            people=((0, None),),
            purchases=(_bought(ref.PER_DEVICE, 1), _bought(ref.NAMED_USER, 0)),
            checkouts=(CheckoutPlan(0, 0, _at(0, 9 * 60), _at(0, 10 * 60)),),
        ),
    )


def test_a_checkout_ending_as_the_window_opens_is_not_use_in_it(fresh_admin: Maker) -> None:
    """A, named user, 5 owned.  P1 checked A out from day 0 00:00 to day 1 00:00.  As of day
    90 the window is [day 1 00:00, day 91 00:00): P1 has not used A in it, needed 0.  The
    engine counted P1: needed 1 (fixed)."""
    position = check(
        fresh_admin,
        _plan(
            people=((0, None),),
            purchases=(_bought(ref.NAMED_USER, 5),),
            checkouts=(CheckoutPlan(0, 0, _at(0), _at(1)),),
            as_of=90,
        ),
    )
    assert position.rows[("A", ref.NAMED_USER)].needed == 0


def test_an_unlicensed_finding_lists_its_installs_after_the_term(fresh_admin: Maker) -> None:
    """A, named user, bought for a term that ended on day 0; D1 (nobody's) runs A.  As of day
    1 the position counts A's installs under named user (the metric last bought): unlicensed 1
    (D1, no owner to hold a seat), one finding.  Its rows: D1.  The engine listed none (fixed)."""
    position = check(
        fresh_admin,
        _plan(
            devices=((1, 4, None),),
            purchases=(_bought(ref.NAMED_USER, 0, end=0),),
            installs=(InstallPlan(0, 0, 0, 0, None),),
            as_of=1,
        ),
    )
    assert position.rows[("A", ref.NAMED_USER)].unlicensed == 1


def test_shelfware_looks_for_use_in_its_own_days(fresh_admin: Maker) -> None:
    """A, named user, 5 owned: P1 holds a seat from day 0 and checked A out on day 50 only.
    As of day 100 over 30 days: the seat is 100 days old and P1 shows no use in the 30 days
    (day 71 to 100): one shelfware seat.  The engine found the day-50 use (inside its 90-day
    window) and reports none."""
    position = check(
        fresh_admin,
        _plan(
            people=((0, None),),
            purchases=(_bought(ref.NAMED_USER, 5),),
            seats=(SeatPlan(0, 0, 0, None, over_commit=False),),
            checkouts=(CheckoutPlan(0, 0, _at(50, 600), _at(50, 660)),),
            as_of=100,
            shelf_days=30,
        ),
    )
    assert [f.kind for f in position.findings] == ["shelfware"]


def test_the_rows_behind_shelfware_ignore_later_use(fresh_admin: Maker) -> None:
    """A, named user, 5 owned: P1 holds a seat from day 0.  Someone unknown checks A out on
    day 95 (A's use is observed), P1 only on day 150.  As of day 100 over 90 days: P1's seat
    is shelfware (count 1, row P1).  The engine counted it, but its rows left P1 out: the day-
    150 checkout ends after the shelf window's start, which is all its drill-down asks."""
    position = check(
        fresh_admin,
        _plan(
            people=((0, None),),
            purchases=(_bought(ref.NAMED_USER, 5),),
            seats=(SeatPlan(0, 0, 0, None, over_commit=False),),
            checkouts=(
                CheckoutPlan(0, None, _at(95, 600), _at(95, 660)),
                CheckoutPlan(0, 0, _at(150, 600), _at(150, 660)),
            ),
            as_of=100,
        ),
    )
    assert [f.kind for f in position.findings] == ["shelfware"]
