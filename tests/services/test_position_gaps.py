"""What the position documented but did not do: the head count of the as-of date, conflicting core
factors shown as a problem, and subscription users without a seat named.

Hand counts (today = T):
- Site: Contoso Suite, a site licence in term.  Three people; P3 left on T-10.  As of T-20 all
  three were on staff: 3 needed.  As of T: 2 (before: 2 on both dates, today's head count).
- Core: Contoso DB, two per-core purchases in term with factors 0.5 and 1; one 8-core server runs
  it.  The larger factor counts: 8 × 1 = 8 needed, and a finding names the two purchases.
- Subscription: Contoso Cloud, 5 subscriptions; P1 holds one.  The service's activity log shows
  P1 and P2 using it yesterday: 2 needed, and P2 is named as using it without a seat.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Column, FindingKind, PositionService

TODAY = dt.date.today()
IN_TERM = {"term_start": TODAY - dt.timedelta(days=100)}


def _people(admin: Services) -> list[int]:
    return [
        admin.directory.add_person(PersonInput(f"E{n}", f"Person {n}", f"p{n}@x.example"))
        for n in (1, 2, 3)
    ]


def test_site_licences_count_the_staff_of_the_as_of_date(admin: Services) -> None:
    vendor = admin.catalog.add_vendor("Contoso")
    suite = admin.catalog.add_product(vendor, "Suite")
    admin.catalog.add_entitlement(
        EntitlementInput(product_id=suite, metric=Metric.SITE, quantity=1, **IN_TERM)
    )
    people = _people(admin)
    admin.directory.mark_left(people[2], TODAY - dt.timedelta(days=10))
    service = PositionService(admin.ctx)
    [then] = service.position(TODAY - dt.timedelta(days=20)).rows
    [now] = service.position(TODAY).rows
    assert (then.needed, now.needed) == (3, 2)
    staff, total = service.holders(suite, Metric.SITE, Column.NEEDED, TODAY - dt.timedelta(days=20))
    assert total == 3
    assert sorted(h.name for h in staff) == ["Person 1", "Person 2", "Person 3"]


def test_conflicting_core_factors_are_a_finding(admin: Services, tmp_path: Path) -> None:
    vendor = admin.catalog.add_vendor("Contoso")
    db = admin.catalog.add_product(vendor, "DB")
    for factor, po in ((Decimal("0.5"), "PO-1"), (Decimal(1), "PO-2")):
        admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=db,
                metric=Metric.PER_CORE,
                quantity=4,
                core_factor=factor,
                po_reference=po,
                **IN_TERM,
            )
        )
    admin.directory.add_device(DeviceInput("S1", processors=1, cores=8))
    admin.rules.add(RuleInput(db, "Contoso DB"))
    inventory = tmp_path / "inventory.csv"
    inventory.write_text("Computer Name,Application Title\nS1,Contoso DB\n", encoding="utf-8")
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    service = PositionService(admin.ctx)
    position = service.position(TODAY)
    [row] = position.rows
    assert (row.owned, row.needed) == (8, 8)
    [finding] = [f for f in position.findings if f.kind is FindingKind.FACTORS_DIFFER]
    assert finding.text == (
        "Per core: the purchases in term give core factors 0.5 and 1; the largest (1) is counted "
        "for every device (check the contracts)"
    )
    rows = service.finding_rows(finding, TODAY, 90)
    assert sorted(h.detail.split(";")[1].strip() for h in rows) == [
        "core factor 0.5",
        "core factor 1",
    ]


def test_subscription_users_without_a_seat_are_named(admin: Services, tmp_path: Path) -> None:
    vendor = admin.catalog.add_vendor("Contoso")
    cloud = admin.catalog.add_product(vendor, "Cloud")
    bought = admin.catalog.add_entitlement(
        EntitlementInput(product_id=cloud, metric=Metric.SUBSCRIPTION, quantity=5, **IN_TERM)
    )
    people = _people(admin)
    admin.seats.assign(bought, people=[people[0]])
    admin.rules.add(RuleInput(cloud, "CLOUD"))
    day = (TODAY - dt.timedelta(days=1)).isoformat()
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "User,Feature,Host,Checkout,Checkin\n"
        f"p1,CLOUD,web,{day}T09:00:00Z,{day}T10:00:00Z\n"
        f"p2,CLOUD,web,{day}T09:30:00Z,{day}T11:00:00Z\n",
        encoding="utf-8",
    )
    admin.imports.commit(usage, ImportOptions(Kind.USAGE))
    service = PositionService(admin.ctx)
    position = service.position(TODAY)
    [row] = position.rows
    assert (row.owned, row.assigned, row.needed) == (5, 1, 2)
    [finding] = [f for f in position.findings if f.kind is FindingKind.USED_WITHOUT_SEAT]
    assert finding.count == 1
    assert finding.text.startswith("User subscription: 1 person uses it")
    assert [h.name for h in service.finding_rows(finding, TODAY, 90)] == ["Person 2"]


def test_people_hired_after_the_as_of_date_are_not_its_staff(
    admin: Services, tmp_path: Path
) -> None:
    """HR's hire date is kept: a site licence as of T-20 counts E1 (hired T-400), not E2 (hired
    T-5): 1 needed then, 2 today.  A leaving day before the hire date is a problem by line."""
    vendor = admin.catalog.add_vendor("Contoso")
    suite = admin.catalog.add_product(vendor, "Suite")
    admin.catalog.add_entitlement(
        EntitlementInput(product_id=suite, metric=Metric.SITE, quantity=1, **IN_TERM)
    )
    hired = {n: (TODAY - dt.timedelta(days=d)).isoformat() for n, d in ((1, 400), (2, 5))}
    hr = tmp_path / "hr.csv"
    hr.write_text(
        "Employee ID,Full Name,Hire Date\n" + "".join(f"E{n},P{n},{hired[n]}\n" for n in hired),
        encoding="utf-8",
    )
    admin.imports.commit(hr, ImportOptions(Kind.PEOPLE))
    service = PositionService(admin.ctx)
    [then] = service.position(TODAY - dt.timedelta(days=20)).rows
    [now] = service.position(TODAY).rows
    assert (then.needed, now.needed) == (1, 2)

    backwards = tmp_path / "hr2.csv"
    backwards.write_text(
        "Employee ID,Full Name,Hire Date,Termination Date\nE3,P3,2026-03-01,2026-02-01\n",
        encoding="utf-8",
    )
    preview = admin.imports.preview(backwards, ImportOptions(Kind.PEOPLE))
    assert [str(p) for p in preview.problems] == [
        "line 2, Termination Date: is before the day the person joined (value '2026-02-01')"
    ]
