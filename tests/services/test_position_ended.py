"""Purchases that have ended: the product stays in the position while it is used, owning nothing.

Hand count, as of today, for a two-person organization:
- Draw, per device, 5 bought for a term that ended 150 days ago; installed on D1 and D2.
  Needed 2 (two devices), owned 0, short 2.  (Before: the product dropped out: 0 rows.)
- Suite, a site licence whose term ended 150 days ago; installed on D1.  Needed 2 (everyone
  employed), owned 0 (not unlimited any more), short 2.
- Suite bought again for a term that includes today: unlimited again, 0 short.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import FindingKind, PositionRow, PositionService
from seatledger.services.position.export import row_json
from seatledger.store.models import Entitlement

TODAY = dt.date.today()
ENDED = {"term_start": TODAY - dt.timedelta(days=515), "term_end": TODAY - dt.timedelta(days=150)}


def _row(admin: Services, product: int) -> PositionRow:
    [row] = [r for r in PositionService(admin.ctx).position(TODAY).rows if r.product_id == product]
    return row


def _organization(admin: Services, tmp_path: Path) -> tuple[int, int]:
    vendor = admin.catalog.add_vendor("Contoso")
    draw = admin.catalog.add_product(vendor, "Draw")
    suite = admin.catalog.add_product(vendor, "Suite")
    admin.catalog.add_entitlement(
        EntitlementInput(product_id=draw, metric=Metric.PER_DEVICE, quantity=5, **ENDED)
    )
    admin.catalog.add_entitlement(
        EntitlementInput(product_id=suite, metric=Metric.SITE, quantity=1, **ENDED)
    )
    for n in (1, 2):
        person = admin.directory.add_person(PersonInput(f"E{n}", f"Person {n}", ""))
        admin.directory.add_device(DeviceInput(f"D{n}", owner_id=person))
    admin.rules.add(RuleInput(draw, "Draw"))
    admin.rules.add(RuleInput(suite, "Suite"))
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "Computer Name,Application Title,Application Version\nD1,Draw,1\nD2,Draw,1\nD1,Suite,9\n",
        encoding="utf-8",
    )
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    return draw, suite


def test_a_product_whose_purchases_ended_stays_while_installed(
    admin: Services, tmp_path: Path
) -> None:
    draw, _ = _organization(admin, tmp_path)
    row = _row(admin, draw)
    assert (row.metric, row.bought, row.owned, row.needed, row.shortfall) == (
        Metric.PER_DEVICE,
        False,
        0,
        2,
        2,
    )
    assert row.metric_label == "Per device (ended)"  # bought once, not "not bought"


def test_an_ended_site_licence_is_not_unlimited(admin: Services, tmp_path: Path) -> None:
    _, suite = _organization(admin, tmp_path)
    row = _row(admin, suite)
    assert (row.metric, row.owned, row.needed, row.shortfall) == (Metric.SITE, 0, 2, 2)
    admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=suite,
            metric=Metric.SITE,
            quantity=1,
            term_start=TODAY - dt.timedelta(days=1),
            term_end=TODAY + dt.timedelta(days=364),
        )
    )
    row = _row(admin, suite)
    assert (row.owned, row.shortfall) == (None, 0)  # bought again: unlimited again


def test_mixed_currencies_are_never_averaged_into_one(admin: Services) -> None:
    """Issue 14, defect 3: EUR and USD costs gave '150.00 USD' or '150.00 EUR' by entry order."""
    vendor = admin.catalog.add_vendor("Contoso")
    year = {"term_start": TODAY - dt.timedelta(days=10), "term_end": TODAY + dt.timedelta(days=300)}
    rows = []
    for order in (("EUR", "USD"), ("USD", "EUR")):
        product = admin.catalog.add_product(vendor, f"Draw {order[0]}")
        for currency, cost in zip(order, (Decimal(100), Decimal(200)), strict=True):
            admin.catalog.add_entitlement(
                EntitlementInput(
                    product_id=product,
                    metric=Metric.PER_DEVICE,
                    quantity=1,
                    unit_cost=cost,
                    currency=currency,
                    **year,
                )
            )
        rows.append(_row(admin, product))
    for row in rows:
        assert (row.owned, row.unit_cost, row.currency) == (2, None, "EUR/USD")


def test_the_core_factor_does_not_depend_on_entry_order(admin: Services, tmp_path: Path) -> None:
    """Issue 14, defect 4: factors 0.5 and 1 on one product gave 8 or 4 needed for an 8-core
    device, by entry order.  Both orders now read the largest: 8 cores x 1 = 8."""
    vendor = admin.catalog.add_vendor("Contoso")
    start, end = TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=300)
    needed = []
    for n, factors in enumerate((("0.5", "1"), ("1", "0.5"))):
        product = admin.catalog.add_product(vendor, f"Server {n}")
        purchases = tmp_path / f"purchases-{n}.csv"
        purchases.write_text(
            "Vendor,Product,Metric,Quantity,Start date,End date,PO number,Core factor\n"
            + "".join(
                f"Contoso,Server {n},per core,16,{start},{end},PO-{n}-{i},{factor}\n"
                for i, factor in enumerate(factors)
            ),
            encoding="utf-8",
        )
        admin.imports.commit(purchases, ImportOptions(Kind.ENTITLEMENTS))
        with admin.db.read() as session:
            first = session.scalars(
                select(Entitlement.id)
                .where(Entitlement.product_id == product)
                .order_by(Entitlement.id)
            ).first()
        assert first is not None
        device = admin.directory.add_device(DeviceInput(f"SRV-{n}", processors=1, cores=8))
        admin.seats.assign(first, devices=[device])
        needed.append(_row(admin, product).needed)
    assert needed == [8, 8]


def test_a_true_up_in_several_currencies_is_priced_in_each(admin: Services, tmp_path: Path) -> None:
    """Issue 14, defect 3: average within a currency, a true-up per currency.

    Draw, per device: 2 bought at 100 EUR and 1 at 130 EUR (EUR average 330 / 3 = 110), 1 at
    200 USD.  Owned 4; installed on 6 devices: 2 short.  True-up 2 × 110 = 220.00 EUR, or
    2 × 200 = 400.00 USD; never one figure averaged across the two.
    """
    vendor = admin.catalog.add_vendor("Contoso")
    draw = admin.catalog.add_product(vendor, "Draw")
    for quantity, cost, currency in ((2, 100, "EUR"), (1, 130, "EUR"), (1, 200, "USD")):
        admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=draw,
                metric=Metric.PER_DEVICE,
                quantity=quantity,
                unit_cost=Decimal(cost),
                currency=currency,
                term_start=TODAY - dt.timedelta(days=10),
            )
        )
    admin.rules.add(RuleInput(draw, "Draw"))
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "Computer Name,Application Title\n" + "".join(f"D{n},Draw\n" for n in range(1, 7)),
        encoding="utf-8",
    )
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    position = PositionService(admin.ctx).position(TODAY)
    [row] = position.rows
    assert (row.owned, row.needed, row.shortfall, row.true_up) == (4, 6, 2, None)
    assert row.true_ups == {"EUR": Decimal("220.00"), "USD": Decimal("400.00")}
    [short] = [f for f in position.findings if f.kind is FindingKind.OVER_DEPLOYED]
    assert short.text == (
        "Per device: 6 needed, 4 owned — 2 short, true-up 220.00 EUR or 400.00 USD (at the "
        "average price in each currency bought in)"
    )
    assert row_json(row)["true_up_by_currency"] == {"EUR": "220.00", "USD": "400.00"}
