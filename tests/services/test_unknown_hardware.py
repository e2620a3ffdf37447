"""Unknown hardware stays unknown: no device is ever stored as an invented 1 processor × 4 cores.

Hand count, as of today: Contoso Engine, per core, 40 bought at 100 EUR, minimum none.
- S1: 1 processor, 16 cores, recorded by hand -> 16 licenses.
- S2: 2 processors, 24 cores, from a device export that gives both -> 24 licenses.
- D9: created from its host name by an installed-software export: nothing known -> not counted.
Needed 16 + 24 = 40 (a lower bound: one device left out), owned 40, none short.  Before, D9 was
stored as 1 × 4 and counted 4: 44 needed, 4 short, a true-up of 400 EUR resting on nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.errors import ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.audits.service import Step
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import FindingKind, PositionService
from seatledger.services.position.export import export_position
from seatledger.store.models import Device

TODAY = dt.date.today()


def _organization(admin: Services, tmp_path: Path) -> tuple[int, int, int]:
    vendor = admin.catalog.add_vendor("Contoso")
    engine = admin.catalog.add_product(vendor, "Engine")
    bought = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=engine,
            metric=Metric.PER_CORE,
            quantity=40,
            unit_cost=Decimal(100),
            term_start=TODAY - dt.timedelta(days=30),
        )
    )
    admin.directory.add_device(DeviceInput("S1", processors=1, cores=16))
    devices = tmp_path / "devices.csv"
    devices.write_text("Host name,Processors,Cores\nS2,2,24\n", encoding="utf-8")
    admin.imports.commit(devices, ImportOptions(Kind.DEVICES))
    admin.rules.add(RuleInput(engine, "Contoso Engine"))
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "Computer Name,Application Title\nS1,Contoso Engine\nS2,Contoso Engine\n"
        "D9,Contoso Engine\n",
        encoding="utf-8",
    )
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    return vendor, engine, bought


def _hardware(admin: Services) -> dict[str, tuple[int | None, int | None]]:
    with admin.db.read() as session:
        rows = session.execute(select(Device.hostname, Device.processors, Device.cores))
        return {host: (processors, cores) for host, processors, cores in rows}


def test_no_import_invents_processors_or_cores(admin: Services, tmp_path: Path) -> None:
    _organization(admin, tmp_path)
    assert _hardware(admin) == {"S1": (1, 16), "S2": (2, 24), "D9": (None, None)}
    blank = tmp_path / "blank.csv"  # a device export whose hardware columns are empty
    blank.write_text("Host name,Processors,Cores\nL1,,\nS2,,\n", encoding="utf-8")
    admin.imports.commit(blank, ImportOptions(Kind.DEVICES))
    hardware = _hardware(admin)
    assert hardware["L1"] == (None, None)
    assert hardware["S2"] == (2, 24)  # a blank cell says nothing: what was known stands


def test_the_position_counts_unknown_hardware_apart(admin: Services, tmp_path: Path) -> None:
    _, engine, _ = _organization(admin, tmp_path)
    service = PositionService(admin.ctx)
    position = service.position(TODAY)
    [row] = position.rows
    assert (row.needed, row.owned, row.shortfall, row.unknown_hardware) == (40, 40, 0, 1)
    assert row.true_up == Decimal("0.00")
    [finding] = [f for f in position.findings if f.kind is FindingKind.UNKNOWN_HARDWARE]
    assert (finding.product_id, finding.count) == (engine, 1)
    assert finding.text.startswith("Per core: 1 device with unknown cores runs it")
    [holder] = service.finding_rows(finding, TODAY, 90)
    assert (holder.kind, holder.name) == ("device", "D9")
    assert "cores unknown; not counted" in holder.detail

    exported = export_position(position, tmp_path / "position.json")
    [saved] = json.loads(exported.read_text(encoding="utf-8"))["rows"]
    assert (saved["needed"], saved["unknown_hardware"]) == (40, 1)

    admin.directory.update_device(
        _device_id(admin, "D9"), DeviceInput("D9", processors=1, cores=8), "from the BIOS"
    )
    [row] = service.position(TODAY).rows
    assert (row.needed, row.shortfall, row.unknown_hardware) == (48, 8, 0)  # 16 + 24 + 8


def test_a_per_core_seat_needs_known_cores(admin: Services, tmp_path: Path) -> None:
    _, _, bought = _organization(admin, tmp_path)
    d9 = _device_id(admin, "D9")
    assert admin.seats.units_for_devices(bought, [d9]) == {d9: None}
    with pytest.raises(ValidationError, match="The cores of D9 are unknown"):
        admin.seats.assign(bought, devices=[d9])
    vendor = admin.catalog.add_vendor("Fabrikam")
    viewer = admin.catalog.add_product(vendor, "Viewer")
    per_device = admin.catalog.add_entitlement(
        EntitlementInput(product_id=viewer, metric=Metric.PER_DEVICE, quantity=5)
    )
    admin.seats.assign(per_device, devices=[d9])  # a per-device seat does not count cores
    assert admin.reads.entitlement_row(per_device).used == 1


def test_the_audit_freshness_step_warns(admin: Services, tmp_path: Path) -> None:
    vendor, _, _ = _organization(admin, tmp_path)
    audit_id = admin.audits.start(vendor, Trigger.VENDOR_REQUEST, as_of=TODAY)
    admin.audits.set_step(audit_id, Step.FRESHNESS)
    [warning] = [w for w in admin.audits.freshness(audit_id) if w.topic == "hardware"]
    assert warning.text.startswith("The cores or processors of 1 device running per-core")


def test_the_command_line_marks_the_lower_bound(
    admin: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _organization(admin, tmp_path)
    capsys.readouterr()
    assert cli.main(["reconcile", "--db", admin.db.url]) == 0
    out = capsys.readouterr().out
    line = next(text for text in out.splitlines() if text.startswith("Contoso Engine"))
    assert ">=40" in line.split()
    assert "<=0" in line.split()  # what is free is at most that
    assert "Hardware unknown" in out


def _device_id(admin: Services, host: str) -> int:
    with admin.db.read() as session:
        found = session.scalar(select(Device.id).where(Device.hostname == host))
    assert found is not None
    return found
