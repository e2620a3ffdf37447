"""A reference model of the effective license position, written from ``docs/glossary.md``.

Deliberately simple and slow: plain Python over a plain description of an organization, no
sets of packed keys, nothing imported from ``seatledger``.  The differential test
(``test_position_reference.py``) builds the same organization through the services and checks
that the engine's position equals this one on every figure, every finding and every drill-down
row.

Conventions, one place each:

- A date's state is the state at the end of that day: a seat assigned on the day counts, one
  released on the day does not; an install removed on the day is gone; someone who left on the
  day has left (and is no longer staff); someone who joined on the day is staff.
- People are read on the as-of date (glossary: the position and its findings are "on a date";
  a person "left (with the date they left)").  ``people_on`` reads them on another date instead
  (the test uses it to find where the engine reads them today).
- A checkout counts for the window ``[end of as-of - 90 days, end of as-of)`` when it was out
  during it: it started before the window's end and ended after its start (one that ended
  exactly at the window's start was not out in it).  A checkin and a checkout at the same
  instant do not overlap.
- Where the glossary is silent the engine's documented conventions are taken (installs and
  checkouts count toward a product's *primary* metric: the one with most rights in term,
  ties by metric code; with nothing in term the metric last bought; per device for installs
  and concurrent for checkouts when nothing was ever bought).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

# Metric codes, as the glossary writes them.
NAMED_USER = "named_user"
PER_DEVICE = "per_device"
CONCURRENT = "concurrent"
PER_CORE = "per_core"
PER_PROCESSOR = "per_processor"
SUBSCRIPTION = "user_subscription"
SITE = "site"
METRICS = (NAMED_USER, PER_DEVICE, CONCURRENT, PER_CORE, PER_PROCESSOR, SUBSCRIPTION, SITE)
DEVICE_METRICS = frozenset({PER_DEVICE, PER_CORE, PER_PROCESSOR})
USER_METRICS = frozenset({NAMED_USER, SUBSCRIPTION})

CONCURRENT_WINDOW = dt.timedelta(days=90)
UTC = dt.UTC

# -- the organization ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    key: str
    joined: dt.date
    left: dt.date | None = None


# A device's hardware: None where nobody recorded it (glossary: such a device is counted apart).
Count = int | None


@dataclass(frozen=True)
class Device:
    key: str
    processors: Count
    cores: Count
    owner: str | None = None  # a person's key
    model: str | None = None  # the processor, as inventory names it; None: nobody said


@dataclass(frozen=True)
class Purchase:
    """One entitlement; the organization lists them in the order they were recorded."""

    key: str
    product: str
    metric: str
    quantity: int
    start: dt.date | None = None
    end: dt.date | None = None
    unit_cost: Decimal | None = None
    currency: str = "EUR"
    core_factor: Decimal = Decimal(1)
    min_cores: int = 0
    # Per core, rates by processor: (processor class, units per core), first match applies;
    # empty: the core factor for every core.
    rates: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class Seat:
    key: str
    purchase: str
    holder: tuple[str, str]  # ("person", key) or ("device", key)
    start: dt.datetime
    end: dt.datetime | None = None  # released


@dataclass(frozen=True)
class Install:
    """A product's title on a device from ``start`` (the day it was first seen) until
    ``end`` (the day it was found removed), both dates."""

    device: str
    product: str
    start: dt.date
    end: dt.date | None = None


@dataclass(frozen=True)
class Checkout:
    key: str
    product: str | None  # None: a feature no rule maps
    user: str | None  # a person's key; None: a user name that matches nobody
    start: dt.datetime
    end: dt.datetime | None = None  # still out


@dataclass(frozen=True)
class Organization:
    people: tuple[Person, ...] = ()
    devices: tuple[Device, ...] = ()
    products: tuple[str, ...] = ()
    purchases: tuple[Purchase, ...] = ()
    seats: tuple[Seat, ...] = ()
    installs: tuple[Install, ...] = ()
    checkouts: tuple[Checkout, ...] = ()


# -- the position -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    product: str
    metric: str
    bought: bool
    ended: bool
    owned: int | None  # None: unlimited
    assigned: int
    needed: int
    unlicensed: int
    unit_cost: Decimal | None
    currency: str
    available: int | None
    shortfall: int
    over_licensed: int
    true_up: Decimal | None
    unknown: int = 0  # devices counted apart: their processor has no rate


@dataclass(frozen=True, order=True)
class Finding:
    kind: str  # the engine's FindingKind values
    product: str
    purchase: str | None
    count: int
    holders: str = ""  # duplicates: "person" or "device"


@dataclass(frozen=True)
class Drill:
    """The rows behind one position row's numbers."""

    owned: frozenset[str]  # purchase keys
    assigned: tuple[tuple[str, str], ...]  # one holder per seat, sorted
    needed: frozenset[tuple[str, str]]  # holders; ("checkout", key) for concurrent use
    unlicensed: frozenset[str]  # device keys


@dataclass(frozen=True)
class Position:
    as_of: dt.date
    rows: dict[tuple[str, str], Row]
    findings: list[Finding]
    drill: dict[tuple[str, str], Drill] = field(default_factory=dict)
    # The rows behind each finding: holders (seats: one per seat, sorted; else distinct).
    behind: dict[Finding, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def end_of(day: dt.date) -> dt.datetime:
    """The first moment after ``day``."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=UTC)


def in_term(purchase: Purchase, day: dt.date) -> bool:
    return (purchase.start is None or purchase.start <= day) and (
        purchase.end is None or purchase.end >= day
    )


def seat_held(seat: Seat, day: dt.date) -> bool:
    moment = end_of(day)
    return seat.start < moment and (seat.end is None or seat.end >= moment)


def is_installed(install: Install, day: dt.date) -> bool:
    return install.start <= day and (install.end is None or install.end > day)


def out_during(checkout: Checkout, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the checkout was out at some instant of [start, end)."""
    return checkout.start < end and (checkout.end is None or checkout.end > start)


def has_left(person: Person, day: dt.date) -> bool:
    return person.left is not None and person.left <= day


def on_staff(person: Person, day: dt.date) -> bool:
    return person.joined <= day and not has_left(person, day)


def seat_units(
    metric: str, device: Device, min_cores: int, core_factor: Decimal = Decimal(1)
) -> int:
    """Rights one device's seat takes (glossary: Seat, Per core, Per processor): the purchase's
    own unit, so per core counts its core factor too, rounded up per device."""
    if metric == PER_CORE:
        assert device.cores is not None  # the service refuses a seat it cannot count
        counted = max(device.cores, (device.processors or 0) * min_cores, 1)
        return max(math.ceil(Decimal(counted) * core_factor), 1)
    if metric == PER_PROCESSOR:
        assert device.processors is not None
        return max(device.processors, 1)
    return 1


def hardware_known(metric: str, device: Device, min_cores: int) -> bool:
    """Whether what the metric counts on the device is recorded: per core its cores (and its
    processors where a minimum per processor applies), per processor its processors."""
    if metric == PER_CORE:
        return device.cores is not None and (not min_cores or device.processors is not None)
    if metric == PER_PROCESSOR:
        return device.processors is not None
    return True


def model_words(text: str) -> list[str]:
    """A processor model's words, trademark marks dropped, case folded."""
    for mark in ("(R)", "(r)", "(TM)", "(tm)", "®", "™"):
        text = text.replace(mark, " ")
    return text.casefold().split()


def core_rate(purchase: Purchase, device: Device) -> Decimal | None:
    """Units per core of ``device`` under ``purchase`` (glossary: Per core, rates by processor):
    its core factor, or the first rate whose class is whole words of the device's processor
    model; None when the purchase rates by processor and none applies."""
    if not purchase.rates:
        return purchase.core_factor
    if device.model is None:
        return None
    model = model_words(device.model)
    for name, rate in purchase.rates:
        wanted = model_words(name)
        for start in range(len(model) - len(wanted) + 1):
            if model[start : start + len(wanted)] == wanted:
                return rate
    return None


def core_rule(purchase: Purchase) -> tuple[str, object]:
    """How a purchase counts a core: its rates by processor, or else its core factor."""
    return ("rates", purchase.rates) if purchase.rates else ("factor", purchase.core_factor)


def device_needs(metric: str, device: Device, core_factor: Decimal, min_cores: int) -> int:
    """Rights one device needs under a device metric: per core, its cores (at least the minimum
    per processor, at least one) times the core factor, rounded up per device."""
    if metric == PER_CORE:
        assert device.cores is not None
        counted = max(device.cores, (device.processors or 0) * min_cores, 1)
        return max(math.ceil(Decimal(counted) * core_factor), 1)
    return seat_units(metric, device, 0)


def peak(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most intervals [a, b) open at one instant, tried instant by instant."""
    best = 0
    for moment in {a for a, _ in intervals}:
        best = max(best, sum(1 for a, b in intervals if a <= moment < b))
    return best


def primary_metric(org: Organization, product: str, as_of: dt.date) -> str | None:
    """The metric a product's installs and checkouts count toward: the one with the most rights
    in term (ties by code), else the one it was last bought with; None: never bought."""
    owned: dict[str, int] = {}
    for p in org.purchases:
        if p.product == product and in_term(p, as_of):
            owned[p.metric] = owned.get(p.metric, 0) + p.quantity
    if owned:
        return min(owned, key=lambda m: (-owned[m], m))
    bought = [p.metric for p in org.purchases if p.product == product]
    return bought[-1] if bought else None


def position(
    org: Organization, as_of: dt.date, shelf_days: int = 90, people_on: dt.date | None = None
) -> Position:
    """The position of ``org`` on ``as_of``, its findings and every number's rows."""
    people_day = as_of if people_on is None else people_on
    people = {p.key: p for p in org.people}
    devices = {d.key: d for d in org.devices}
    purchases = {p.key: p for p in org.purchases}
    moment = end_of(as_of)
    window = (moment - CONCURRENT_WINDOW, moment)

    held = [s for s in org.seats if seat_held(s, as_of)]
    installs = [i for i in org.installs if is_installed(i, as_of)]
    used = [c for c in org.checkouts if c.product is not None and out_during(c, *window)]

    def terms(product: str, metric: str) -> list[Purchase]:
        return [
            p
            for p in org.purchases
            if p.product == product and p.metric == metric and in_term(p, as_of)
        ]

    def primary(product: str) -> str | None:
        return primary_metric(org, product, as_of)

    def install_metric(product: str) -> str:
        return primary(product) or PER_DEVICE

    def usage_metric(product: str) -> str:
        return primary(product) or CONCURRENT

    staff = sum(1 for p in org.people if on_staff(p, people_day))

    keys: set[tuple[str, str]] = set()
    for p in org.purchases:
        if in_term(p, as_of):
            keys.add((p.product, p.metric))
    for s in held:
        p = purchases[s.purchase]
        keys.add((p.product, p.metric))
    for i in installs:
        keys.add((i.product, install_metric(i.product)))
    for c in used:
        assert c.product is not None
        keys.add((c.product, usage_metric(c.product)))

    rows: dict[tuple[str, str], Row] = {}
    drill: dict[tuple[str, str], Drill] = {}
    unknown_devices: dict[tuple[str, str], set[str]] = {}
    for product, metric in sorted(keys):
        bought = terms(product, metric)
        seats = [s for s in held if purchases[s.purchase].product == product]
        own_seats = [s for s in seats if purchases[s.purchase].metric == metric]
        product_installs = [i for i in installs if i.product == product]
        counts_installs = install_metric(product) == metric
        counts_usage = usage_metric(product) == metric

        assigned = 0
        for s in own_seats:
            p = purchases[s.purchase]
            kind, key = s.holder
            if kind == "device":
                rate = core_rate(p, devices[key]) if metric == PER_CORE else Decimal(1)
                assert rate is not None  # the service refuses a seat it cannot count
                assigned += seat_units(metric, devices[key], p.min_cores, rate)
            else:
                assigned += 1

        needed_rows: set[tuple[str, str]] = set()
        unlicensed: set[str] = set()
        unknown: set[str] = set()
        if metric == SITE:
            needed = staff
            needed_rows = {("person", p.key) for p in org.people if on_staff(p, people_day)}
        elif metric in DEVICE_METRICS:
            holders = {s.holder[1] for s in own_seats}
            if counts_installs:
                holders |= {i.device for i in product_installs}
                seated = {s.holder[1] for s in seats if s.holder[0] == "device"}
                unlicensed = {i.device for i in product_installs if i.device not in seated}
            min_cores = max((p.min_cores for p in bought), default=0)
            needed = 0
            for d in holders:
                if not hardware_known(metric, devices[d], min_cores):
                    unknown.add(d)  # never counted at an invented 1 x 4
                    continue
                if metric != PER_CORE:
                    needed += device_needs(metric, devices[d], Decimal(1), min_cores)
                    continue
                # Each purchase in term counts the device its own way; the largest count is
                # taken, and a purchase with no rate for its processor leaves it out.
                rates = [core_rate(p, devices[d]) for p in bought] or [Decimal(1)]
                known = [r for r in rates if r is not None]
                if len(known) < len(rates):
                    unknown.add(d)
                    continue
                needed += max(device_needs(metric, devices[d], r, min_cores) for r in known)
            needed_rows = {("device", d) for d in holders}
        elif metric == CONCURRENT:
            needed_rows = {s.holder for s in own_seats}
            if counts_usage:
                mine = [c for c in used if c.product == product]
                clipped = [
                    (max(c.start, window[0]), window[1] if c.end is None else min(c.end, window[1]))
                    for c in mine
                ]
                usage_peak = peak([(a, b) for a, b in clipped if a < b])
                needed_rows |= {("checkout", c.key) for c in mine}
            else:
                usage_peak = 0
            needed = max(usage_peak, assigned)
        else:  # named user, user subscription
            users = {s.holder for s in own_seats}
            if counts_installs:
                seated = {s.holder[1] for s in seats if s.holder[0] == "person"}
                for i in product_installs:
                    owner = devices[i.device].owner
                    users.add(("device", i.device) if owner is None else ("person", owner))
                    if owner is None or owner not in seated:
                        unlicensed.add(i.device)
            if counts_usage:
                users |= {("person", c.user) for c in used if c.product == product and c.user}
            needed = len(users)
            needed_rows = users

        unlimited = metric == SITE and bool(bought)
        owned = None if unlimited else sum(p.quantity for p in bought)
        costed = [p for p in bought if p.unit_cost is not None]
        costed_in = sorted({p.currency for p in costed})
        currency = "/".join(costed_in or sorted({p.currency for p in bought})) or "EUR"
        units = sum(p.quantity for p in costed)
        total = sum((p.unit_cost * p.quantity for p in costed if p.unit_cost), Decimal(0))
        unit_cost = (
            (total / units).quantize(Decimal("0.0001")) if units and len(costed_in) == 1 else None
        )
        shortfall = 0 if owned is None else max(needed - owned, 0)
        if not shortfall:
            true_up: Decimal | None = Decimal("0.00")
        elif unit_cost is None:
            true_up = None
        else:
            true_up = (unit_cost * shortfall).quantize(Decimal("0.01"))
        rows[(product, metric)] = Row(
            product=product,
            metric=metric,
            bought=bool(bought),
            ended=not bought
            and any(p.product == product and p.metric == metric for p in org.purchases),
            owned=owned,
            assigned=assigned,
            needed=needed,
            unlicensed=len(unlicensed),
            unit_cost=unit_cost,
            currency=currency,
            available=None if owned is None else owned - needed,
            shortfall=shortfall,
            over_licensed=0 if owned is None else max(owned - needed, 0),
            true_up=true_up,
            unknown=len(unknown),
        )
        unknown_devices[(product, metric)] = unknown
        drill[(product, metric)] = Drill(
            owned=frozenset(p.key for p in bought),
            assigned=tuple(sorted(s.holder for s in own_seats)),
            needed=frozenset(needed_rows),
            unlicensed=frozenset(unlicensed),
        )

    findings: list[Finding] = []
    behind: dict[Finding, tuple[tuple[str, str], ...]] = {}
    for key, row in rows.items():
        if row.shortfall:
            finding = Finding("over_deployed", row.product, None, row.shortfall)
            findings.append(finding)
            behind[finding] = tuple(sorted(drill[key].needed))
        if row.unlicensed:
            finding = Finding("unlicensed_install", row.product, None, row.unlicensed)
            findings.append(finding)
            behind[finding] = tuple(sorted(("device", d) for d in drill[key].unlicensed))

        if row.unknown:
            # Devices counted apart: the figures are bounds, and the devices are named.
            finding = Finding("unknown_hardware", row.product, None, row.unknown)
            findings.append(finding)
            behind[finding] = tuple(sorted(("device", d) for d in unknown_devices[key]))

        factors = {core_rule(p) for p in terms(row.product, row.metric)}
        if row.metric == PER_CORE and len(factors) > 1:
            # Purchases in term that count a core differently: a problem shown to the user.
            finding = Finding("core_factors_differ", row.product, None, len(factors))
            findings.append(finding)
            behind[finding] = tuple(sorted(("entitlement", k) for k in drill[key].owned))

    # Named users and subscriptions: people using the product (checkouts in the window) who hold
    # no seat of it: counted in needed, and named (glossary: used, unallocated).
    # (Under the metric use counts toward: in term, or the one last bought.)
    for product in org.products:
        if primary(product) not in USER_METRICS:
            continue
        seated = {
            s.holder[1]
            for s in held
            if s.holder[0] == "person" and purchases[s.purchase].product == product
        }
        loose = {c.user for c in used if c.product == product and c.user} - seated
        if loose:
            finding = Finding("used_without_seat", product, None, len(loose))
            findings.append(finding)
            behind[finding] = tuple(sorted(("person", k) for k in loose))

    def per_purchase(kind: str, chosen: list[Seat]) -> None:
        counted: dict[str, list[Seat]] = {}
        for s in chosen:
            counted.setdefault(s.purchase, []).append(s)
        for key, seats in counted.items():
            finding = Finding(kind, purchases[key].product, key, len(seats))
            findings.append(finding)
            behind[finding] = tuple(sorted(s.holder for s in seats))

    per_purchase(
        "departed_holder",
        [s for s in held if s.holder[0] == "person" and has_left(people[s.holder[1]], people_day)],
    )
    per_purchase(
        "expired_in_use",
        [s for s in held if (end := purchases[s.purchase].end) is not None and end < as_of],
    )
    for kind in ("person", "device"):
        for product in org.products:
            tally: dict[str, int] = {}
            for s in held:
                if s.holder[0] == kind and purchases[s.purchase].product == product:
                    tally[s.holder[1]] = tally.get(s.holder[1], 0) + 1
            twice = sum(1 for n in tally.values() if n > 1)
            if twice:
                finding = Finding("duplicate_assignment", product, None, twice, kind)
                findings.append(finding)
                behind[finding] = tuple(
                    sorted(
                        s.holder
                        for s in held
                        if s.holder[0] == kind
                        and purchases[s.purchase].product == product
                        and tally[s.holder[1]] > 1
                    )
                )

    # Shelfware: a seat held for the N days whose holder shows no install or use in them, on a
    # product whose installs or use are known at all (no data is no evidence of shelfware).
    since = moment - dt.timedelta(days=shelf_days)
    recent = [c for c in org.checkouts if c.product is not None and out_during(c, since, moment)]
    observed = {i.product for i in installs} | {c.product for c in used}
    shelf: list[Seat] = []
    for s in held:
        product = purchases[s.purchase].product
        if product not in observed or s.start.date() > as_of - dt.timedelta(days=shelf_days):
            continue
        kind, key = s.holder
        if kind == "device":
            active = any(i.device == key for i in installs if i.product == product)
        else:
            active = any(
                devices[i.device].owner == key for i in installs if i.product == product
            ) or any(c.user == key for c in recent if c.product == product)
        if not active:
            shelf.append(s)
    per_purchase("shelfware", shelf)
    findings.sort()
    return Position(as_of, rows, findings, drill, behind)
