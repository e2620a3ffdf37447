"""The alert rules' first read, on both engines: the settings, the burst rule's newest seat
changes and whether the burst and working-hours alerts are open come in one statement, asked
for as the settings the previous change found say; settings another session changed since
must still decide what is raised."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import statements
from seatledger.domain.alerts import AlertSettings, Rule
from seatledger.domain.licensing import Metric
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators.session import Services

QUIET_HOURS = frozenset(Rule) - {Rule.AFTER_HOURS}


class Clock:
    """A clock a test moves by hand (UTC), on a Wednesday a week or two ago at 20:00 (after
    07:00–19:00 working hours)."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        self.now = (now - dt.timedelta(days=(now.weekday() - 2) % 7 + 7)).replace(hour=20)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def seats(admin: Services) -> tuple[int, list[int]]:
    """A license of 100 seats and six people without one (built on the real clock, which may
    be a night: with working hours unwatched)."""
    admin.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS))
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Diagram Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=100)
    )
    return license_id, [
        admin.directory.add_person(PersonInput(f"E{n:03}", f"Person {n}")) for n in range(6)
    ]


def two_sessions(admin: Services, clock: Clock) -> tuple[Services, Services]:
    """Two signed-in sessions of the administrator, as two windows would be."""
    return (
        Services.for_actor(admin.db, admin.actor, clock=clock),
        Services.for_actor(admin.db, admin.actor, clock=clock),
    )


def raised(services: Services, rule: Rule) -> int:
    """How many ``rule`` alerts were raised on the test's clock (the database's first
    administrator may have been made at night, on the real one)."""
    now = services.ctx.clock()
    return sum(
        1
        for a in services.alerts.alerts(include_acknowledged=True)
        if a.rule is rule and abs(a.raised_at - now) < dt.timedelta(days=3)
    )


def test_a_burst_count_another_session_lowered_applies_at_the_next_change(
    admin: Services, seats: tuple[int, list[int]], clock: Clock
) -> None:
    license_id, people = seats
    mine, other = two_sessions(admin, clock)
    mine.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS, burst_count=20))
    mine.seats.assign(license_id, people=people[:1])
    other.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS, burst_count=2))
    mine.seats.assign(license_id, people=people[1:2])  # the second within a minute: a burst
    assert raised(mine, Rule.BURST) == 1


def test_working_hours_another_session_turned_on_fire_once_a_day(
    admin: Services, seats: tuple[int, list[int]], clock: Clock
) -> None:
    license_id, people = seats
    mine, other = two_sessions(admin, clock)
    mine.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS, timezone="UTC"))
    mine.seats.assign(license_id, people=people[:1])
    assert raised(mine, Rule.AFTER_HOURS) == 0
    other.alerts.save_settings(AlertSettings(timezone="UTC"))
    for person in people[1:3]:
        mine.seats.assign(license_id, people=[person])
        clock.now += dt.timedelta(minutes=30)
    assert raised(mine, Rule.AFTER_HOURS) == 1


def test_working_hours_another_session_widened_raise_nothing(
    admin: Services, seats: tuple[int, list[int]], clock: Clock
) -> None:
    license_id, people = seats
    mine, other = two_sessions(admin, clock)
    mine.alerts.save_settings(AlertSettings(timezone="UTC"))  # 07:00–19:00
    mine.seats.assign(license_id, people=people[:1])
    assert raised(mine, Rule.AFTER_HOURS) == 1
    other.alerts.save_settings(AlertSettings(timezone="UTC", work_end=dt.time(22)))
    clock.now += dt.timedelta(days=1)  # Thursday 20:00: inside the new hours
    mine.seats.assign(license_id, people=people[1:2])
    assert raised(mine, Rule.AFTER_HOURS) == 1


def test_a_seat_at_night_reads_no_more_than_by_day(
    admin: Services, seats: tuple[int, list[int]], clock: Clock
) -> None:
    """The working-hours alert already open is known from the first read: no lookup of its
    own."""
    license_id, people = seats
    (mine, _) = two_sessions(admin, clock)
    mine.alerts.save_settings(AlertSettings(timezone="UTC"))
    mine.seats.assign(license_id, people=people[:1])  # raises the evening's alert
    with statements(mine) as night:
        mine.seats.assign(license_id, people=people[1:2])
    clock.now = clock.now.replace(hour=10)
    with statements(mine) as day:
        mine.seats.assign(license_id, people=people[2:3])
    assert len(night) == len(day), night
    assert raised(mine, Rule.AFTER_HOURS) == 1
