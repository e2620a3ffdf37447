"""Cores rated by processor: a device's processor model feeds a purchase's rates by processor
(Oracle's core factor table, IBM's processor value units), from the seat dialog to the report.

Hand count, as of today: Contoso Engine, per core, 3,000 units bought at 2 EUR, rates
``Xeon=70; POWER10=120`` (PVUs per core), no minimum.
- X1: 2 processors, 32 cores, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz" -> 32 x 70 = 2,240.
- P1: 1 processor, 8 cores, "IBM POWER10" -> 8 x 120 = 960.
- E1: 1 processor, 16 cores, "AMD EPYC 7543 32-Core Processor": the table has no rate for it
  -> not counted (never at a guessed rate), counted apart.
- N1: 1 processor, 4 cores, no processor model recorded -> counted apart too.
All four run the product.  Needed 2,240 + 960 = 3,200 (a lower bound: two devices left out),
owned 3,000, short 200, a true-up of 400 EUR.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.errors import LimitExceeded, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import FindingKind, PositionService
from seatledger.store.models import Device, Entitlement

TODAY = dt.date.today()
XEON = "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"


def _organization(admin: Services, tmp_path: Path, rates: str = "Xeon=70; POWER10=120") -> int:
    vendor = admin.catalog.add_vendor("Contoso")
    engine = admin.catalog.add_product(vendor, "Engine")
    bought = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=engine,
            metric=Metric.PER_CORE,
            quantity=3_000,
            unit_cost=Decimal(2),
            term_start=TODAY - dt.timedelta(days=30),
            unit_table=rates,
        )
    )
    for host, processors, cores, model in (
        ("X1", 2, 32, XEON),
        ("P1", 1, 8, "IBM POWER10"),
        ("E1", 1, 16, "AMD EPYC 7543 32-Core Processor"),
        ("N1", 1, 4, ""),
    ):
        admin.directory.add_device(
            DeviceInput(host, processors=processors, cores=cores, processor_model=model)
        )
    admin.rules.add(RuleInput(engine, "Contoso Engine"))
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "Computer Name,Application Title\n"
        + "".join(f"{host},Contoso Engine\n" for host in ("X1", "P1", "E1", "N1")),
        encoding="utf-8",
    )
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    return bought


def _ids(admin: Services) -> dict[str, int]:
    with admin.db.read() as session:
        return dict(session.execute(select(Device.hostname, Device.id)).all())  # type: ignore[arg-type]


def test_the_position_counts_cores_at_the_rate_of_their_processor(
    admin: Services, tmp_path: Path
) -> None:
    _organization(admin, tmp_path)
    position = PositionService(admin.ctx).position(TODAY)
    [row] = position.rows
    assert (row.needed, row.owned, row.shortfall, row.unknown_hardware) == (3_200, 3_000, 200, 2)
    assert row.true_up == Decimal("400.00")
    [unknown] = [f for f in position.findings if f.kind is FindingKind.UNKNOWN_HARDWARE]
    assert unknown.count == 2
    assert "a processor the purchases do not rate (or none recorded)" in unknown.text
    rows = PositionService(admin.ctx).finding_rows(unknown, TODAY, 90)
    assert [(h.name, h.detail) for h in rows] == [
        (
            "E1",
            "processors 1, cores 16, processor AMD EPYC 7543 32-Core Processor (no rate for "
            "it); not counted",
        ),
        ("N1", "processors 1, cores 4, processor not recorded (no rate for it); not counted"),
    ]
    # A rate for the EPYC and the model of N1 recorded: every device counted.
    # 2,240 + 960 + 16 x 70 + 4 x 70 = 4,600.
    with admin.db.read() as session:
        eid = session.scalar(select(Entitlement.id))
    assert eid is not None
    data, _ = admin.reads.entitlement(eid)
    admin.catalog.update_entitlement(
        eid, EntitlementInput(**{**_fields(data), "unit_table": "Xeon=70; POWER10=120; EPYC=70"})
    )
    n1 = _ids(admin)["N1"]
    admin.directory.update_device(
        n1, DeviceInput("N1", processors=1, cores=4, processor_model="Intel Xeon E-2314")
    )
    [row] = PositionService(admin.ctx).position(TODAY).rows
    assert (row.needed, row.unknown_hardware, row.shortfall) == (4_600, 0, 1_600)


def _fields(data: EntitlementInput) -> dict[str, object]:
    return {name: getattr(data, name) for name in EntitlementInput.__dataclass_fields__}


def test_a_seat_takes_the_units_its_processor_is_rated_at(admin: Services, tmp_path: Path) -> None:
    bought = _organization(admin, tmp_path)
    ids = _ids(admin)
    assert admin.seats.units_for_devices(bought, [ids["X1"], ids["P1"], ids["E1"]]) == {
        ids["X1"]: 2_240,
        ids["P1"]: 960,
        ids["E1"]: None,
    }
    admin.seats.assign(bought, devices=[ids["X1"]])
    assert admin.reads.entitlement_row(bought).used == 2_240
    with pytest.raises(LimitExceeded, match="2240 used, 760 free, 960 needed"):
        admin.seats.assign(bought, devices=[ids["P1"]])
    with pytest.raises(ValidationError, match=r"has no rate for E1's processor \(AMD EPYC"):
        admin.seats.assign(bought, devices=[ids["E1"]])
    with pytest.raises(ValidationError, match=r"N1's processor \(not recorded\)"):
        admin.seats.assign(bought, devices=[ids["N1"]])


def test_rates_cannot_change_under_seats_counted_with_them(admin: Services, tmp_path: Path) -> None:
    bought = _organization(admin, tmp_path)
    admin.seats.assign(bought, devices=[_ids(admin)["X1"]])
    data, _ = admin.reads.entitlement(bought)
    assert data.unit_table == "Xeon=70; POWER10=120"
    with pytest.raises(ValidationError):
        admin.catalog.update_entitlement(
            bought, EntitlementInput(**{**_fields(data), "unit_table": "Xeon=100"})
        )


def test_conflicting_ways_of_counting_a_core_are_a_finding(admin: Services, tmp_path: Path) -> None:
    """A second purchase in term with one core factor of 1 for every core: X1 counts 2,240
    under the table and 32 under the factor (the largest, 2,240, is taken); P1 960 against 8.
    E1 and N1 still have no rate in the table: counted apart."""
    _organization(admin, tmp_path)
    with admin.db.read() as session:
        engine = session.scalar(select(Entitlement.product_id))
    assert engine is not None
    admin.catalog.add_entitlement(
        EntitlementInput(product_id=engine, metric=Metric.PER_CORE, quantity=40)
    )
    position = PositionService(admin.ctx).position(TODAY)
    [row] = position.rows
    assert (row.needed, row.owned) == (3_200, 3_040)
    [differ] = [f for f in position.findings if f.kind is FindingKind.FACTORS_DIFFER]
    assert differ.text == (
        "Per core: the purchases in term count a core differently (1 | Xeon=70; POWER10=120); "
        "the largest count is taken for each device (check the contracts)"
    )


def test_rates_are_read_from_an_import_and_refused_by_line(admin: Services, tmp_path: Path) -> None:
    good = tmp_path / "purchases.csv"
    good.write_text(
        "Vendor,Product,Metric,Quantity,PO number,Units per core by processor\n"
        "IBM,WebSphere,per_core,1000,PO-1,Xeon=70; POWER10=120\n"
        "IBM,Db2,per_core,500,PO-2,\n",
        encoding="utf-8",
    )
    admin.imports.commit(good, ImportOptions(Kind.ENTITLEMENTS))
    with admin.db.read() as session:
        stored = dict(
            session.execute(select(Entitlement.po_reference, Entitlement.unit_table)).all()
        )
    assert stored == {"PO-1": "Xeon=70; POWER10=120", "PO-2": None}
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Vendor,Product,Metric,Quantity,PO number,Units per core by processor\n"
        "IBM,MQ,per_core,10,PO-3,Xeon 70\n"
        "IBM,Notes,named_user,10,PO-4,Xeon=70\n",
        encoding="utf-8",
    )
    problems = admin.imports.preview(bad, ImportOptions(Kind.ENTITLEMENTS)).problems
    assert [(p.line, p.column) for p in problems] == [
        (2, "Units per core by processor"),
        (3, "Units per core by processor"),
    ]
    assert "is not 'processor class=units per core'" in problems[0].reason
    assert "applies to per-core purchases, not named user" in problems[1].reason


def test_device_exports_give_the_processor_model(admin: Services) -> None:
    data = Path(__file__).parents[1] / "data"
    for name in ("devices_jamf.csv", "devices_lansweeper.csv"):
        admin.imports.commit(data / name, ImportOptions(Kind.DEVICES))
    with admin.db.read() as session:
        models = dict(session.execute(select(Device.hostname, Device.processor_model)).all())
    assert models["NW-MB-0301"] == "Apple M3 Pro"  # Jamf Pro's "Processor Type"
    assert models["NW-LT-0104"] == "13th Gen Intel(R) Core(TM) i7-1365U"  # Lansweeper's


def test_the_command_line_records_rates_and_refuses_them_where_they_mean_nothing(
    admin: Services, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    common = ["--db", admin.db.url, "--vendor", "IBM", "--product", "WebSphere"]

    def add(metric: str, quantity: str, rates: str) -> int:
        return cli.main(
            [
                *("entitlement", "add", *common),
                *("--metric", metric, "--quantity", quantity, "--unit-table", rates),
            ]
        )

    admin.catalog.add_product(admin.catalog.add_vendor("IBM"), "WebSphere")
    assert add("per_core", "700", "Xeon=70; POWER10=120") == 0
    assert add("per_device", "7", "Xeon=70") == 2  # refused
    assert "applies to per_core licenses, not per_device" in capsys.readouterr().err
    assert add("per_core", "7", "Xeon=0") == 2
    assert "units per core must be a number above 0" in capsys.readouterr().err
    with admin.db.read() as session:
        assert list(session.scalars(select(Entitlement.unit_table))) == ["Xeon=70; POWER10=120"]
