"""How many rights a product's deployment consumes under each license metric (pure rules).

The reconciliation (effective license position) feeds these functions the facts it gathered for
one product — installs, named users, license-server sessions, the devices' processors and cores,
the head count — and compares the result with the rights owned.  See ``docs/glossary.md``:

| metric | consumption |
|---|---|
| per device / per install | unique devices with at least one matching install |
| named user | unique people (one person, three installs = one right) |
| concurrent | peak simultaneous checkouts in the period |
| per core | cores × core factor per device, at least a minimum per processor, rounded up |
| per processor | processors (sockets) |
| per core, rated by processor (PVU, core factor table) | cores × the rate for the processor |
| user subscription | one right per person allocated or using; the two mismatches reported apart |
| site / enterprise / employee | all staff, whether they use it or not |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from seatledger.domain.licensing import Metric, units_for_device


@dataclass(frozen=True, slots=True)
class Machine:
    """A device as core-based metrics see it."""

    device_id: int
    processors: int
    cores: int


@dataclass(frozen=True, slots=True)
class Session:
    """One license-server checkout; ``end`` None while still checked out."""

    user: str
    start: dt.datetime
    end: dt.datetime | None


SAMPLING_INTERVAL = dt.timedelta(days=1)
"""How often license-server snapshots are expected, unless the organization set otherwise."""


def session_end(
    checkin: dt.datetime | None,
    seen_at: dt.datetime | None,
    as_of: dt.datetime,
    interval: dt.timedelta = SAMPLING_INTERVAL,
) -> dt.datetime | None:
    """When a checkout ended, as far as ``as_of`` can tell; None while it is still out.

    A usage file dates both ends.  A snapshot sees a checkout only at an instant: once no
    snapshot has shown it for longer than the sampling interval, it ended at its last sighting
    (a single snapshot taken in March does not keep a session open until today).
    """
    if checkin is not None:
        return checkin
    if seen_at is not None and as_of - seen_at > interval:
        return seen_at
    return None


@dataclass(frozen=True, slots=True)
class Peak:
    """The highest number of simultaneous checkouts, and when it was first reached."""

    count: int
    at: dt.datetime | None


def unique_devices(installs: Iterable[int]) -> int:
    """Per device / per install: devices with at least one install (by device id)."""
    return len(set(installs))


def unique_people(users: Iterable[int]) -> int:
    """Named user: distinct people, however many installs each has."""
    return len(set(users))


def concurrent_peak(sessions: Iterable[Session], start: dt.datetime, end: dt.datetime) -> Peak:
    """Concurrent / floating: the peak number of checkouts open at once within [start, end).

    A checkin and a checkout at the same instant do not overlap (the seat is handed over).
    Sessions still open count until ``end``.
    """
    events: list[tuple[dt.datetime, int]] = []
    for session in sessions:
        begin = max(session.start, start)
        finish = min(session.end, end) if session.end is not None else end
        if begin < finish:
            events.append((begin, 1))
            events.append((finish, -1))
    # Ends sort before starts at the same instant (-1 < 1): a handover is not an overlap.
    events.sort()
    current = best = 0
    when: dt.datetime | None = None
    for moment, change in events:
        current += change
        if current > best:
            best, when = current, moment
    return Peak(best, when)


def core_licenses(
    machine: Machine, core_factor: Decimal = Decimal(1), min_cores_per_processor: int = 0
) -> int:
    """Per core: licenses one device needs.

    Cores count at least ``min_cores_per_processor`` per processor (contracts often say 16 per
    CPU), are multiplied by the core factor (e.g. 0.5 for some processor families) and rounded up
    to whole licenses.
    """
    # The same count a per-core seat assignment draws.
    return units_for_device(
        Metric.PER_CORE, machine.processors, machine.cores, min_cores_per_processor, core_factor
    )


def per_core(
    machines: Iterable[Machine],
    core_factor: Decimal = Decimal(1),
    min_cores_per_processor: int = 0,
) -> int:
    """Per core: the sum over devices (each rounded up on its own, as contracts count)."""
    return sum(core_licenses(m, core_factor, min_cores_per_processor) for m in _unique(machines))


def per_processor(machines: Iterable[Machine]) -> int:
    """Per processor: sockets of the devices running the product."""
    return sum(
        units_for_device(Metric.PER_PROCESSOR, m.processors, m.cores) for m in _unique(machines)
    )


@dataclass(frozen=True, slots=True)
class SubscriptionUse:
    """User subscriptions: rights needed, and the two mismatches reported apart."""

    needed: int
    allocated_unused: frozenset[int] = field(default_factory=frozenset)
    used_unallocated: frozenset[int] = field(default_factory=frozenset)


def subscriptions(allocated: Iterable[int], using: Iterable[int]) -> SubscriptionUse:
    """One right per person allocated a subscription or found using the product."""
    have, use = frozenset(allocated), frozenset(using)
    return SubscriptionUse(len(have | use), have - use, use - have)


def employees(staff: int) -> int:
    """Site / enterprise / employee metrics: everyone counts, whether they use it or not."""
    return staff


def _unique(machines: Iterable[Machine]) -> list[Machine]:
    seen: dict[int, Machine] = {}
    for machine in machines:
        seen.setdefault(machine.device_id, machine)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class Deployment:
    """Everything known about one product's use, as the position needs it."""

    installs: tuple[int, ...] = ()  # device ids with the product installed
    users: tuple[int, ...] = ()  # person ids using or assigned the product
    machines: tuple[Machine, ...] = ()  # devices running it, for core-based metrics
    sessions: tuple[Session, ...] = ()  # license-server checkouts
    staff: int = 0  # head count, for site and employee metrics
    core_factor: Decimal = Decimal(1)
    min_cores_per_processor: int = 0
    period: tuple[dt.datetime, dt.datetime] | None = None  # for concurrent peaks


def required(metric: Metric, deployment: Deployment) -> int:
    """Rights the deployment needs under ``metric`` (rights used, in position terms)."""
    if metric is Metric.PER_DEVICE:
        return unique_devices(deployment.installs)
    if metric is Metric.PER_USER:
        return unique_people(deployment.users)
    if metric is Metric.CONCURRENT:
        if deployment.period is None:
            raise ValueError("A concurrent metric needs the period the peak is taken over.")
        return concurrent_peak(deployment.sessions, *deployment.period).count
    if metric is Metric.PER_CORE:
        return per_core(
            deployment.machines, deployment.core_factor, deployment.min_cores_per_processor
        )
    if metric is Metric.PER_PROCESSOR:
        return per_processor(deployment.machines)
    if metric is Metric.SUBSCRIPTION:
        return unique_people(deployment.users)
    return employees(deployment.staff)
