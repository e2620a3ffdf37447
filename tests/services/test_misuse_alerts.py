"""Misuse caught early, on both engines: alert rules that run inside the usage import or the
access review decision that shows the misuse, naming its ledger entry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import ledger_size
from seatledger.domain.alerts import Rule
from seatledger.domain.licensing import Metric
from seatledger.domain.reviews import Decision
from seatledger.domain.roles import Role
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services

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
