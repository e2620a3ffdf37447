"""Misuse caught early, on both engines: alert rules that run inside the usage import, the
inventory import or the access review decision that shows the misuse, naming its ledger entry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from conftest import ledger_size
from seatledger.domain.alerts import AlertSettings, Rule
from seatledger.domain.licensing import Metric
from seatledger.domain.reviews import Decision
from seatledger.domain.roles import Role
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import MatchKind, RuleInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.models_alerts import Alert

PASSWORD = "correct horse"
USAGE = (
    "user,product,host,checkout,checkin\n"
    # Ann's one named-user seat, used from two hosts at once: shared credentials.
    "ann,AutoCAD,WS-1,2026-03-02T08:00:00Z,2026-03-02T12:00:00Z\n"
    "ann,AutoCAD,WS-9,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z\n"
    # Cy moves from one host to another: no overlap, nothing to say.
    "cy,AutoCAD,WS-3,2026-03-02T08:00:00Z,2026-03-02T09:00:00Z\n"
    "cy,AutoCAD,WS-4,2026-03-02T09:30:00Z,2026-03-02T10:00:00Z\n"
    # Bob left on 1 March and still uses it on the 5th.
    "bob,AutoCAD,WS-2,2026-03-05T09:00:00Z,2026-03-05T10:00:00Z\n"
)


def _rules(services: Services, rule: Rule) -> list[tuple[str, int | None]]:
    return [(a.subject, a.ledger_seq) for a in services.alerts.alerts() if a.rule is rule]


def test_usage_imports_raise_shared_credentials_and_use_after_leaving(
    admin: Services, tmp_path: Path
) -> None:
    vendor = admin.catalog.add_vendor("Autodesk")
    autocad = admin.catalog.add_product(vendor, "AutoCAD")
    admin.rules.add(RuleInput(autocad, "AutoCAD"))
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=autocad, metric=Metric.PER_USER, quantity=5)
    )
    people = {
        name: admin.directory.add_person(PersonInput(f"E{n}", name, f"{name.lower()}@example.com"))
        for n, name in enumerate(("Ann", "Bob", "Cy"))
    }
    admin.seats.assign(license_id, people=[people["Ann"], people["Cy"]])
    admin.directory.mark_left(people["Bob"], dt.date(2026, 3, 1))
    path = tmp_path / "usage.csv"
    path.write_text(USAGE, encoding="utf-8")
    admin.imports.commit(path, ImportOptions(Kind.USAGE))
    seq = ledger_size(admin.db)  # the import's own entry: the alerts came with it
    shared = _rules(admin, Rule.SHARED_CREDENTIALS)
    assert shared == [("Ann used AutoCAD from two hosts at once (WS-1 and WS-9)", seq)]
    left = _rules(admin, Rule.USED_AFTER_LEAVING)
    assert left == [("Bob used licensed software after leaving on 2026-03-01", seq)]


def test_a_reviewer_keeping_a_whole_team_without_reasons_is_noticed(admin: Services) -> None:
    vendor = admin.catalog.add_vendor("Contoso Software")
    product = admin.catalog.add_product(vendor, "PDF Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    finance = admin.directory.add_team("Finance")
    sales = admin.directory.add_team("Sales")
    for n in range(6):
        person = admin.directory.add_person(
            PersonInput(f"E{n}", f"Person {n}", "", finance if n < 3 else sales)
        )
        admin.seats.assign(license_id, people=[person])
    admin.operators.create("rita", "Rita", Role.REVIEWER, PASSWORD)
    rita = Services.for_actor(admin.db, operators.sign_in(admin.db, "rita", PASSWORD))
    campaign = admin.reviews.start(
        "Q1",
        admin.reviews.today() + dt.timedelta(days=7),
        reviewers={finance: rita.actor.id, sales: rita.actor.id},
    )
    sales_items = [r.id for r in rita.reviews.items(campaign, team_id=sales)]
    rita.reviews.decide(campaign, sales_items[:1], Decision.KEEP, "Needed for invoicing")
    rita.reviews.decide_team(campaign, sales, Decision.KEEP)  # the rest: a reason was given once
    assert _rules(admin, Rule.REVIEW_WITHOUT_REASONS) == []
    rita.reviews.decide_team(campaign, finance, Decision.KEEP)
    assert _rules(admin, Rule.REVIEW_WITHOUT_REASONS) == [
        ("rita kept all 3 seats of Finance without a reason", ledger_size(admin.db))
    ]


INVENTORY = '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\r\n'
ACROBAT_ON = '"Adobe Acrobat DC (64-bit)","24.1","Adobe",,"{host}"\r\n'


def test_installs_without_a_seat_for_longer_than_n_days_are_noticed(
    admin: Services, tmp_path: Path
) -> None:
    """Hand-computed, N = 30: Acrobat on Ann's ws-1 since day -40 (an alert at day 0), on
    Bob's ws-2 (he holds a seat: none), on ws-9 (nobody's: none), on Cy's ws-3 since day -30
    (exactly 30 days at day 0, not longer: none; 31 at day 1: an alert); Ann's seat clears hers
    at the next import."""
    assert Rule.UNSEATED_INSTALLS not in AlertSettings().enabled  # off until turned on
    admin.alerts.save_settings(
        AlertSettings(enabled=frozenset({Rule.UNSEATED_INSTALLS}), unseated_days=30)
    )
    vendor = admin.catalog.add_vendor("Adobe")
    product = admin.catalog.add_product(vendor, "Acrobat Pro")
    admin.rules.add(RuleInput(product, "Adobe Acrobat*", "Adobe", kind=MatchKind.WILDCARD))
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    people = {
        name: admin.directory.add_person(PersonInput(f"E{n}", name, f"{name.lower()}@example.com"))
        for n, name in enumerate(("Ann", "Bob", "Cy"))
    }
    for host, owner in (("ws-1", "Ann"), ("ws-2", "Bob"), ("ws-3", "Cy")):
        admin.directory.add_device(DeviceInput(host, host.upper(), people[owner]))
    admin.seats.assign(license_id, people=[people["Bob"]])
    now = admin.ctx.clock()

    def inventory(day: int, hosts: list[str]) -> Services:
        moment = now + dt.timedelta(days=day)
        services = Services.for_actor(admin.db, admin.actor, lambda: moment)
        path = tmp_path / f"inventory{day}.csv"
        rows = "".join(ACROBAT_ON.format(host=host) for host in hosts)
        # Each file differs (an unmapped title's version): the same file twice changes nothing.
        other = f'"7-Zip","23.{day + 50}","Igor Pavlov",,"ws-9"\r\n'
        path.write_text(INVENTORY + rows + other, encoding="utf-8")
        services.imports.commit(path, ImportOptions(Kind.INVENTORY))
        return services

    inventory(-40, ["ws-1", "ws-2", "ws-9"])
    inventory(-30, ["ws-1", "ws-2", "ws-9", "ws-3"])
    assert _rules(admin, Rule.UNSEATED_INSTALLS) == []  # ws-1: 10 days so far
    inventory(0, ["ws-1", "ws-2", "ws-9", "ws-3"])
    seq = ledger_size(admin.db)  # the import's own entry: the alert came with it
    assert _rules(admin, Rule.UNSEATED_INSTALLS) == [
        ("Ann has had Adobe Acrobat Pro installed for over 30 days without a seat", seq)
    ]
    [alert] = [a for a in admin.alerts.alerts() if a.rule is Rule.UNSEATED_INSTALLS]
    assert (alert.entity_type, alert.entity_id) == ("person", str(people["Ann"]))
    assert alert.detail.startswith(
        f"Installed since {(now - dt.timedelta(days=40)).astimezone().date()} on 1 of their "
        "devices, and neither they nor the device holds a seat of it"
    )
    # A day later Cy's install is 31 days old; Ann's condition holds still: no second alert.
    inventory(1, ["ws-1", "ws-2", "ws-9", "ws-3"])
    assert [s for s, _seq in _rules(admin, Rule.UNSEATED_INSTALLS)] == [
        "Cy has had Adobe Acrobat Pro installed for over 30 days without a seat",
        "Ann has had Adobe Acrobat Pro installed for over 30 days without a seat",
    ]
    admin.seats.assign(license_id, people=[people["Ann"]])
    inventory(2, ["ws-1", "ws-2", "ws-9", "ws-3"])
    with admin.db.read() as session:
        cleared = session.scalar(select(Alert.cleared_at).where(Alert.id == alert.id))
    assert cleared is not None
