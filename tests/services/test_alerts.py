"""Alert rules: each fires on a case built for it and stays quiet on the near miss; dedupe,
clearing, acknowledgement (a ledger entry) and settings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import PASSWORD
from seatledger import cli
from seatledger.domain.alerts import AlertSettings, Rule, parse_days
from seatledger.domain.licensing import Metric
from seatledger.domain.normalization import MatchKind
from seatledger.domain.roles import Role
from seatledger.errors import PermissionDenied, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.store.models import Entitlement, LedgerEntry
from seatledger.store.models_alerts import Alert


class Clock:
    """A clock a test moves by hand (UTC)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def last_weekday_at(hour: int, weekday: int = 2) -> dt.datetime:
    """The latest past ``weekday`` (Wednesday by default) at ``hour``:00 UTC."""
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    day = now - dt.timedelta(days=(now.weekday() - weekday) % 7 or 7)
    return day.replace(hour=hour)


@pytest.fixture
def clock() -> Clock:
    return Clock(last_weekday_at(10))


QUIET_HOURS = frozenset(Rule) - {Rule.AFTER_HOURS}
"""Fixtures build data on the real clock, which may be a night or a weekend."""


@pytest.fixture
def ops(admin: Services, clock: Clock) -> Services:
    """The administrator on the test's clock, every rule on but the working-hours one."""
    services = Services.for_actor(admin.db, admin.actor, clock=clock)
    services.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS, timezone="UTC"))
    return services


def watch_hours(services: Services, **settings: Any) -> None:
    """Turn the working-hours rule on (07:00–19:00 UTC, Mon–Fri unless told otherwise)."""
    services.alerts.save_settings(AlertSettings(**({"timezone": "UTC"} | settings)))


def rules_raised(services: Services) -> list[str]:
    return [a.rule.value for a in reversed(services.alerts.alerts(include_acknowledged=True))]


# ------------------------------------------------------------------------ limit and warning


def test_warning_fires_at_the_level_and_not_just_below(ops: Services, org: Any) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:2])  # 2 of 3: 66 %
    assert rules_raised(ops) == []
    ops.seats.assign(org.acrobat, people=org.people[2:3])  # 3 of 3: 100 %, not over
    alerts = ops.alerts.alerts()
    assert [a.rule for a in alerts] == [Rule.WARNING]
    assert alerts[0].subject == "Contoso Software PDF Studio is at 100 % of its limit: 3 of 3 used"
    assert alerts[0].operator == "admin"
    assert (alerts[0].entity_type, alerts[0].entity_id) == ("entitlement", str(org.acrobat))


def test_limit_and_over_commit_fire_on_the_crossing(ops: Services, org: Any) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:3])
    assert rules_raised(ops) == [Rule.WARNING.value]  # at the limit is not over it
    ops.seats.assign(org.acrobat, people=org.people[3:4], reason="audit prep", over_commit=True)
    raised = ops.alerts.alerts()
    assert {a.rule for a in raised} == {Rule.WARNING, Rule.LIMIT, Rule.OVER_COMMIT}
    over = next(a for a in raised if a.rule is Rule.OVER_COMMIT)
    with ops.db.read() as session:
        entry = session.scalar(select(LedgerEntry).where(LedgerEntry.seq == over.ledger_seq))
    assert entry is not None
    assert entry.action == "seat.assign"  # the alert names the change that caused it
    assert "audit prep" in over.detail


def test_the_same_condition_raises_once_until_it_clears(ops: Services, org: Any) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:3])
    first = ops.seats.assign(
        org.acrobat, people=org.people[3:4], reason="one", over_commit=True
    ).assignment_ids
    ops.seats.assign(org.acrobat, people=org.people[4:5], reason="two", over_commit=True)
    assert rules_raised(ops).count(Rule.LIMIT.value) == 1  # still the same crossing
    assert rules_raised(ops).count(Rule.OVER_COMMIT.value) == 2  # each exception is its own
    # Back under the limit clears the condition; crossing again is news again.
    ops.seats.release(first)
    ops.seats.release(ops.seats.assign(org.acrobat, people=[org.people[3]], reason="r",
                                       over_commit=True).assignment_ids)  # fmt: skip
    assert rules_raised(ops).count(Rule.LIMIT.value) == 1  # 5 of 3 -> 4 of 3: still over
    held = [a for a in ops.alerts.alerts() if a.rule is Rule.LIMIT]
    assert len(held) == 1


def test_release_below_the_limit_lets_a_later_crossing_alert_again(ops: Services, org: Any) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:3])
    over = ops.seats.assign(org.acrobat, people=org.people[3:4], reason="r", over_commit=True)
    ops.seats.release(over.assignment_ids)  # 3 of 3: the over-limit condition ends
    ops.seats.assign(org.acrobat, people=org.people[3:4], reason="again", over_commit=True)
    assert rules_raised(ops).count(Rule.LIMIT.value) == 2


def test_a_new_warning_level_applies_from_the_next_change(ops: Services, org: Any) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:2])
    assert rules_raised(ops) == []
    ops.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS, timezone="UTC", warning_percent=60))
    ops.seats.assign(org.acrobat, people=org.people[2:3])  # settings apply to the next change
    assert rules_raised(ops) == [Rule.WARNING.value]


# ------------------------------------------------------------------------------------ burst


def test_burst_fires_on_n_changes_within_m_minutes(ops: Services, org: Any, clock: Clock) -> None:
    ops.alerts.save_settings(
        AlertSettings(enabled=QUIET_HOURS, timezone="UTC", burst_count=3, burst_minutes=10)
    )
    ids: list[int] = []
    for person in org.people[:3]:
        ids += ops.seats.assign(org.acrobat, people=[person]).assignment_ids
        clock.advance(minutes=4)
    burst = [a for a in ops.alerts.alerts() if a.rule is Rule.BURST]
    assert len(burst) == 1
    assert burst[0].subject == "admin made 3 or more seat changes within 10 minutes"
    ops.seats.release(ids[:1])  # still inside the window: the same burst, no second alert
    assert len([a for a in ops.alerts.alerts() if a.rule is Rule.BURST]) == 1


def test_burst_stays_quiet_when_the_changes_are_spread_out(
    ops: Services, org: Any, clock: Clock
) -> None:
    ops.alerts.save_settings(
        AlertSettings(enabled=QUIET_HOURS, timezone="UTC", burst_count=3, burst_minutes=10)
    )
    for person in org.people[:3]:
        ops.seats.assign(org.acrobat, people=[person])
        clock.advance(minutes=5, seconds=1)  # the first and third are 10 min 2 s apart
    assert Rule.BURST.value not in rules_raised(ops)


def test_a_burst_ends_with_a_calm_change_and_a_later_burst_is_news(
    ops: Services, org: Any, clock: Clock
) -> None:
    ops.alerts.save_settings(
        AlertSettings(enabled=QUIET_HOURS, timezone="UTC", burst_count=2, burst_minutes=10)
    )
    seats = ops.seats.assign(org.acrobat, people=org.people[:1]).assignment_ids
    seats += ops.seats.assign(org.acrobat, people=org.people[1:2]).assignment_ids
    ops.seats.release(seats[:1])  # a third change in the same burst raises nothing more
    assert rules_raised(ops) == [Rule.BURST.value]
    (burst,) = ops.alerts.alerts()
    ops.alerts.acknowledge(burst.id, "Checked with admin: onboarding a team.")
    clock.advance(minutes=30)
    ops.seats.release(seats[1:])  # alone in its window: the burst is over
    clock.advance(minutes=1)
    ops.seats.assign(org.acrobat, people=org.people[2:3])  # two within a minute: a new burst
    assert rules_raised(ops) == [Rule.BURST.value, Rule.BURST.value]


# ------------------------------------------------------------------------------ after hours


def test_changes_outside_working_hours_fire_once_per_operator_and_day(
    ops: Services, org: Any, clock: Clock
) -> None:
    watch_hours(ops)
    clock.now = clock.now.replace(hour=19, minute=0)  # the end is outside: 07:00–19:00
    ops.seats.assign(org.acrobat, people=org.people[:1])
    clock.advance(minutes=30)
    ops.seats.assign(org.acrobat, people=org.people[1:2])
    after = [a for a in ops.alerts.alerts() if a.rule is Rule.AFTER_HOURS]
    assert len(after) == 1
    assert after[0].subject == "admin changed data outside working hours"


def test_working_hours_are_kept_in_the_configured_time_zone(
    ops: Services, org: Any, clock: Clock
) -> None:
    clock.now = clock.now.replace(hour=18, minute=59)  # 13:59 or 14:59 in New York
    watch_hours(ops, timezone="America/New_York", work_start=dt.time(9), work_end=dt.time(17))
    ops.seats.assign(org.acrobat, people=org.people[:1])
    assert Rule.AFTER_HOURS.value not in rules_raised(ops)
    clock.now = clock.now.replace(hour=23)  # 18:00 or 19:00 in New York
    ops.seats.assign(org.acrobat, people=org.people[1:2])
    assert rules_raised(ops) == [Rule.AFTER_HOURS.value]


def test_weekends_are_outside_working_days(ops: Services, org: Any, clock: Clock) -> None:
    watch_hours(ops)
    clock.advance(days=3)  # Wednesday -> Saturday, 10:00
    ops.directory.mark_left(org.people[4], clock.now.date())
    assert rules_raised(ops) == [Rule.AFTER_HOURS.value]


# ---------------------------------------------------------------------------------- departed


def test_a_person_who_leaves_holding_seats_fires_and_release_clears(
    ops: Services, org: Any
) -> None:
    seats = ops.seats.assign(org.acrobat, people=org.people[:1]).assignment_ids
    ops.directory.mark_left(org.people[1], dt.date.today())  # holds nothing: quiet
    assert rules_raised(ops) == []
    ops.directory.mark_left(org.people[0], dt.date.today(), "resigned")
    departed = ops.alerts.alerts()
    assert [a.subject for a in departed] == ["Person 1 (E001) left but holds 1 seat"]
    ops.seats.release(seats)
    with ops.db.read() as session:
        assert session.scalar(select(Alert.cleared_at)) is not None


# ---------------------------------------------------------------------------------- imports

HEADER = '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\r\n'
ACROBAT = '"Adobe Acrobat DC (64-bit)","24.1","Adobe",,"{host}"\r\n'
ZIP = '"7-Zip 23.01 (x64)","23.01","Igor Pavlov",,"{host}"\r\n'


@pytest.fixture
def acrobat(ops: Services) -> dict[str, int]:
    """Acrobat per device, mapped by a rule, with a seat on ws-1 and ws-2."""
    vendor = ops.catalog.add_vendor("Adobe")
    product = ops.catalog.add_product(vendor, "Acrobat Pro")
    ops.rules.add(RuleInput(product, "Adobe Acrobat*", "Adobe", kind=MatchKind.WILDCARD))
    entitlement = ops.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_DEVICE, quantity=10)
    )
    devices = [ops.directory.add_device(DeviceInput(f"ws-{n}", f"S{n}")) for n in (1, 2)]
    ops.seats.assign(entitlement, devices=devices)
    return {"product": product, "entitlement": entitlement}


def _import(services: Services, tmp_path: Path, name: str, acrobat_on: list[str]) -> None:
    """An inventory: Acrobat on the hosts given, 7-Zip (no product) on ws-1."""
    rows = [ACROBAT.format(host=host) for host in acrobat_on] + [ZIP.format(host="ws-1")]
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    services.imports.commit(path, ImportOptions(Kind.INVENTORY))


def test_unlicensed_installs_fire_after_an_inventory_import(
    ops: Services, acrobat: dict[str, int], tmp_path: Path
) -> None:
    _import(ops, tmp_path, "first.csv", ["ws-1", "ws-9"])  # ws-9 is new and holds no seat
    raised = [a for a in ops.alerts.alerts() if a.rule is Rule.UNLICENSED]
    assert [a.subject for a in raised] == ["1 new install of Adobe Acrobat Pro without a seat"]
    assert raised[0].entity_id == str(acrobat["product"])


def test_installs_on_seated_devices_raise_nothing(
    ops: Services, acrobat: dict[str, int], tmp_path: Path
) -> None:
    _import(ops, tmp_path, "first.csv", ["ws-1", "ws-2"])
    assert Rule.UNLICENSED.value not in rules_raised(ops)
    _import(ops, tmp_path, "again.csv", ["ws-1", "ws-2", "ws-9"])
    raised = [a for a in ops.alerts.alerts() if a.rule is Rule.UNLICENSED]
    assert [a.subject for a in raised] == ["1 new install of Adobe Acrobat Pro without a seat"]


# ------------------------------------------------------------------------- settings and ack


def test_acknowledging_records_a_ledger_entry(ops: Services, org: Any) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:3])
    alert = ops.alerts.alerts()[0]
    ops.alerts.acknowledge(alert.id, "  Bought 2 more seats (PO 4711)  ")
    done = ops.alerts.alert(alert.id)
    assert (done.open, done.acknowledged_by, done.note) == (
        False,
        "admin",
        "Bought 2 more seats (PO 4711)",
    )
    assert ops.alerts.alerts() == []
    assert ops.alerts.open_count() == 0
    with ops.db.read() as session:
        entry = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc())).first()
    assert entry is not None
    assert (entry.action, entry.entity_type, entry.entity_id) == (
        "alert.acknowledge",
        "alert",
        str(alert.id),
    )
    body = json.loads(bytes(entry.body))
    assert body["what"]["reason"] == "Bought 2 more seats (PO 4711)"
    with pytest.raises(ValidationError, match="already acknowledged by admin"):
        ops.alerts.acknowledge(alert.id, "again")


def test_acknowledging_needs_a_note_and_a_role(ops: Services, org: Any, as_role: Any) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:3])
    alert = ops.alerts.alerts()[0]
    with pytest.raises(ValidationError, match="Say what was done"):
        ops.alerts.acknowledge(alert.id, "   ")
    with pytest.raises(PermissionDenied):
        as_role(Role.VIEWER).alerts.acknowledge(alert.id, "looked")
    as_role(Role.AUDITOR).alerts.acknowledge(alert.id, "looked at it")


def test_only_administrators_change_the_settings(ops: Services, as_role: Any) -> None:
    with pytest.raises(PermissionDenied):
        as_role(Role.LICENSE_MANAGER).alerts.save_settings(AlertSettings(burst_count=5))
    ops.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS, timezone="UTC", burst_count=5))
    assert ops.alerts.settings().burst_count == 5
    with ops.db.read() as session:
        entry = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc())).first()
    assert entry is not None
    body = json.loads(bytes(entry.body))
    assert body["action"] == "settings.alerts"
    assert body["what"]["before"] == {"burst_count": "20"}
    assert body["what"]["after"] == {"burst_count": "5"}


def test_a_disabled_rule_never_fires(ops: Services, org: Any) -> None:
    ops.alerts.save_settings(AlertSettings(enabled=QUIET_HOURS - {Rule.WARNING}, timezone="UTC"))
    ops.seats.assign(org.acrobat, people=org.people[:3])
    assert rules_raised(ops) == []


def test_settings_round_trip_and_refuse_nonsense() -> None:
    custom = AlertSettings(
        enabled=frozenset({Rule.LIMIT}),
        warning_percent=80,
        work_start=dt.time(8, 30),
        work_end=dt.time(17),
        work_days=parse_days("mon, tue,Wed"),
        timezone="Europe/Berlin",
    )
    assert AlertSettings.from_strings(custom.to_strings()) == custom
    assert AlertSettings.from_strings({"warning_percent": "abc"}) == AlertSettings()
    with pytest.raises(ValidationError, match="not a time zone"):
        AlertSettings(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="end after"):
        AlertSettings(work_start=dt.time(18), work_end=dt.time(8))
    with pytest.raises(ValidationError, match="not a day"):
        parse_days("Mon,Funday")


# ------------------------------------------------------------------------------ command line


def test_cli_lists_open_alerts_and_acknowledges_one(
    ops: Services, org: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:3])
    alert = ops.alerts.alerts()[0]
    url = ops.db.url
    assert cli.main(["alerts", "--db", url]) == 0
    listed = capsys.readouterr().out
    assert "At the warning level" in listed
    assert "PDF Studio is at 100 % of its limit" in listed
    assert "by admin, ledger entry" in listed
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    code = cli.main(
        ["alerts", "ack", str(alert.id), "--db", url, "--operator", "admin", "--note", "renewed"]
    )
    assert code == 0
    assert capsys.readouterr().out == f"Alert {alert.id} acknowledged.\n"
    assert cli.main(["alerts", "--db", url]) == 0
    assert capsys.readouterr().out == "No open alerts.\n"
    assert cli.main(["alerts", "--all", "--db", url]) == 0
    assert "acknowledged by admin: renewed" in capsys.readouterr().out


def test_a_large_import_counts_only_products_bought_nowhere(
    ops: Services, acrobat: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seatledger.services.alerts import service as alerts

    monkeypatch.setattr(alerts, "EXACT_CAP", 0)  # every import counts as a large one
    vendor = ops.catalog.add_vendor("Igor Pavlov")
    zip_product = ops.catalog.add_product(vendor, "7-Zip")
    ops.rules.add(RuleInput(zip_product, "7-Zip*", "Igor Pavlov", kind=MatchKind.WILDCARD))
    _import(ops, tmp_path, "first.csv", ["ws-1", "ws-9"])
    raised = [a for a in ops.alerts.alerts() if a.rule is Rule.UNLICENSED]
    # Acrobat was bought (ws-9's install is left to the Reconciliation page); 7-Zip was not.
    assert [a.subject for a in raised] == ["1 new install of Igor Pavlov 7-Zip without a seat"]
    assert "the Reconciliation page counts" in raised[0].detail


def test_a_large_import_counts_new_installs_on_known_and_new_devices(
    ops: Services, acrobat: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seatledger.services.alerts import service as alerts

    monkeypatch.setattr(alerts, "EXACT_CAP", 0)
    vendor = ops.catalog.add_vendor("Igor Pavlov")
    zip_product = ops.catalog.add_product(vendor, "7-Zip")
    ops.rules.add(RuleInput(zip_product, "7-Zip*", "Igor Pavlov", kind=MatchKind.WILDCARD))
    _import(ops, tmp_path, "first.csv", ["ws-2"])  # 7-Zip on ws-1 only
    path = tmp_path / "second.csv"
    rows = [ACROBAT.format(host="ws-2"), *(ZIP.format(host=h) for h in ("ws-1", "ws-2", "ws-7"))]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    ops.imports.commit(path, ImportOptions(Kind.INVENTORY))
    raised = sorted(a.subject for a in ops.alerts.alerts() if a.rule is Rule.UNLICENSED)
    # ws-1's 7-Zip was there already; ws-2 (known, with Acrobat) and ws-7 (new) gained one.
    assert raised == [
        "1 new install of Igor Pavlov 7-Zip without a seat",
        "2 new installs of Igor Pavlov 7-Zip without a seat",
    ]


def test_the_rules_run_once_per_change_however_many_services_share_a_context(
    ops: Services, org: Any
) -> None:
    from seatledger.services.alerts.service import AlertService

    AlertService(ops.ctx)
    AlertService(ops.ctx)
    assert len(ops.ctx.observers) == 1


def _requantify(services: Services, entitlement_id: int, quantity: int) -> None:
    with services.db.read() as session:
        row = session.get(Entitlement, entitlement_id)
        assert row is not None
        data = EntitlementInput(
            product_id=row.product_id,
            metric=Metric(row.metric),
            quantity=quantity,
            term_start=row.term_start,
            term_end=row.term_end,
        )
    services.catalog.update_entitlement(entitlement_id, data, "true-up")


def test_an_edit_that_lowers_the_quantity_warns_and_a_true_up_clears_it(
    ops: Services, org: Any
) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:2])  # 2 of 3
    _requantify(ops, org.acrobat, 2)  # 2 of 2: at the warning level through an edit
    warned = [a for a in ops.alerts.alerts() if a.rule is Rule.WARNING]
    assert [a.subject for a in warned] == [
        "Contoso Software PDF Studio is at 100 % of its limit: 2 of 2 used"
    ]
    _requantify(ops, org.acrobat, 10)  # trued up: the condition ends
    with ops.db.read() as session:
        cleared = session.scalar(select(Alert.cleared_at).where(Alert.id == warned[0].id))
    assert cleared is not None
    _requantify(ops, org.acrobat, 2)  # down again: a new alert, not the old one
    assert rules_raised(ops).count(Rule.WARNING.value) == 2


def test_an_hr_import_of_leavers_alerts_on_those_still_holding_seats(
    ops: Services, org: Any, tmp_path: Path
) -> None:
    ops.seats.assign(org.acrobat, people=org.people[:1])  # E001 holds a seat, E002 none
    path = tmp_path / "hr.csv"
    path.write_text(
        "Employee ID,Full Name,Employment Status,Termination Date\n"
        "E001,Person 1,Terminated,2026-01-31\n"
        "E002,Person 2,Terminated,2026-01-31\n",
        encoding="utf-8",
    )
    ops.imports.commit(path, ImportOptions(Kind.PEOPLE))
    departed = [a for a in ops.alerts.alerts() if a.rule is Rule.DEPARTED]
    assert [a.subject for a in departed] == ["Person 1 (E001) left but holds 1 seat"]
    assert departed[0].detail.startswith("Found after import.people")
