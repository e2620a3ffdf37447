"""One unit of measure for a per-core purchase, from the seat dialog to the report.

Hand count: 30 core licenses of Core at factor 0.5 (licenses per core).  Devices:
- A: 1 × 16 cores -> 16 × 0.5 = 8 licenses;
- B: 2 processors, 24 cores -> 24 × 0.5 = 12 licenses;
- C: 1 × 16 cores -> 8 licenses;
- D: 1 × 3 cores  -> 3 × 0.5 = 1.5, rounded up per device = 2 licenses.
A + B + C = 28 ≤ 30: the assignment goes through (before: refused, "allows 30 cores … 56
needed", raw cores).  Free 30 − 28 = 2 in the Licenses list and in the position (before: two
devices went through as 24 units, the list said 6 free while the position said 2).  D then
needs 2 more: 30 exactly, none free.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from seatledger.domain.licensing import Metric
from seatledger.errors import LimitExceeded, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import PositionService

TODAY = dt.date.today()
SHAPES = {"A": (1, 16), "B": (2, 24), "C": (1, 16), "D": (1, 3)}


def _core(admin: Services, quantity: int = 30) -> tuple[int, int, dict[str, int]]:
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Core")
    entitlement = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=product,
            metric=Metric.PER_CORE,
            quantity=quantity,
            core_factor=Decimal("0.5"),
            term_start=TODAY - dt.timedelta(days=1),
        )
    )
    devices = {
        name: admin.directory.add_device(DeviceInput(name, processors=p, cores=c))
        for name, (p, c) in SHAPES.items()
    }
    return product, entitlement, devices


def test_per_core_seats_count_with_the_core_factor(admin: Services, tmp_path: Path) -> None:
    product, entitlement, devices = _core(admin)
    units = admin.seats.units_for_devices(entitlement, list(devices.values()))
    assert units == {devices["A"]: 8, devices["B"]: 12, devices["C"]: 8, devices["D"]: 2}

    admin.seats.assign(entitlement, devices=[devices[n] for n in "ABC"])
    listed = admin.reads.entitlement_row(entitlement)
    assert (listed.used, listed.free) == (28, 2)

    admin.rules.add(RuleInput(product, "Core Server"))
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "Computer Name,Application Title\nA,Core Server\nB,Core Server\nC,Core Server\n",
        encoding="utf-8",
    )
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    [row] = PositionService(admin.ctx).position(TODAY).rows
    assert (row.owned, row.assigned, row.needed, row.available) == (30, 28, 28, 2)

    admin.seats.assign(entitlement, devices=[devices["D"]])  # 28 + 2 = 30: the last two
    assert admin.reads.entitlement_row(entitlement).free == 0


def test_the_limit_message_counts_in_the_purchases_unit(admin: Services) -> None:
    _, entitlement, devices = _core(admin, quantity=20)
    admin.seats.assign(entitlement, devices=[devices["A"]])  # 8 of 20
    with pytest.raises(LimitExceeded) as info:
        admin.seats.assign(entitlement, devices=[devices["B"], devices["D"]])  # 12 + 2 = 14
    assert "allows 20 cores: 8 used, 12 free, 14 needed." in str(info.value)


def test_the_factor_cannot_change_under_assigned_seats(admin: Services) -> None:
    _, entitlement, devices = _core(admin)
    data, _ = admin.reads.entitlement(entitlement)
    assert data.core_factor == Decimal("0.5")
    admin.seats.assign(entitlement, devices=[devices["A"]])
    with pytest.raises(ValidationError, match="release the seats before changing them"):
        admin.catalog.update_entitlement(
            entitlement, replace(data, core_factor=Decimal(1)), "correct the factor"
        )
    with pytest.raises(ValidationError, match="release the seats before changing them"):
        admin.catalog.update_entitlement(
            entitlement, replace(data, min_cores_per_processor=16), "add a minimum"
        )
    admin.catalog.update_entitlement(entitlement, replace(data, quantity=40), "true-up")
    assert admin.reads.entitlement_row(entitlement).quantity == 40


@pytest.mark.parametrize("factor", ["0", "-1", "101", "half", "0.0005"])
def test_a_factor_out_of_range_is_refused(admin: Services, factor: str) -> None:
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Core")
    with pytest.raises(ValidationError, match="Core factor"):
        admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=product,
                metric=Metric.PER_CORE,
                quantity=1,
                core_factor=factor,  # type: ignore[arg-type]  # as typed on a command line
            )
        )
