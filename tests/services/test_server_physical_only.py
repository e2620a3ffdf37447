"""An estate of physical servers only: no hypervisor export was ever imported, the device
inventory alone says which machines are servers.  Their lines are on the Reconciliation page
and in the audit (the wizard, servers.csv, report.json, the PDF) as a hypervisor's are.

The estate, every figure counted by hand:

- db-phys01: Windows Server 2022 Standard, 2 processors, 24 cores (12 each), SQL Server 2022
  installed.  Windows Server licensing guide, "Core-based licensing": every physical core, at
  least 8 a processor and 16 a server: 2 × 12 = 24 core licenses; one licensing covers the
  physical OSE, Standard 24 × 66.875 = 1,605.00 against Datacenter 24 × 387.50 = 9,300.00:
  Standard, 24.  None bought: 24 short.  SQL Server 2022 licensing guide, "Licensing SQL Server
  in physical environments": all physical cores, at least 4 a processor: 24 core licenses;
  16 bought: 8 short.
- pc-0001 (Windows 11) is not a server; its SQL Server install counts nowhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from tests.conftest import pdf_text
from tests.services.test_server_audit import PASSPHRASE, _signed, _vendor
from tests.services.test_server_position import INVENTORIED

from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind
from seatledger.services.audits.bundle import Trigger
from seatledger.services.audits.bundle.writer import Pseudonyms
from seatledger.services.audits.signing import TEST_KDF, SigningService
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.servers.position import SQL, WINDOWS

DAY = dt.date(2026, 12, 7)
INSTALLS = """"Netbios_Name0","DisplayName0","Publisher0","Version0","InstallDate0"
"db-phys01","Microsoft SQL Server 2022 (64-bit)","Microsoft Corporation","16.0.1000.6","20240320"
"pc-0001","Microsoft SQL Server 2022 (64-bit)","Microsoft Corporation","16.0.1000.6","20240320"
"""
FIGURES = [(WINDOWS, 24, 0, 24), (SQL, 24, 16, 8)]


@pytest.fixture
def physical_only(admin: Services, tmp_path: Path) -> Services:
    microsoft = admin.catalog.add_vendor("Microsoft")
    admin.catalog.add_product(microsoft, "Windows Server 2022 Standard")
    sql = admin.catalog.add_product(microsoft, "SQL Server 2022 Enterprise")
    admin.rules.add(RuleInput(sql, "Microsoft SQL Server 2022 (64-bit)"))
    admin.catalog.add_entitlement(EntitlementInput(sql, Metric.PER_CORE, 16))
    admin.directory.add_device(
        DeviceInput("db-phys01", processors=2, cores=24, os="Windows Server 2022 Standard")
    )
    admin.directory.add_device(
        DeviceInput("pc-0001", processors=1, cores=8, os="Microsoft Windows 11 Pro")
    )
    installs = tmp_path / "installs.csv"
    installs.write_text(INSTALLS, encoding="utf-8")
    found = Services.for_actor(admin.db, admin.actor, clock=lambda: INVENTORIED)
    found.imports.commit(installs, ImportOptions(Kind.INVENTORY))
    return admin


def _figures(lines: object) -> list[tuple[str, int, int, int]]:
    return [(ln.family, ln.required, ln.purchased, ln.short) for ln in lines]  # type: ignore[attr-defined]


def test_physical_servers_alone_have_server_lines(physical_only: Services) -> None:
    position = physical_only.servers.position(DAY)
    assert (position.hosts, position.vms, position.physical) == (0, 0, 1)
    assert _figures(position.lines) == FIGURES
    sql = position.line(SQL)
    assert sql is not None
    assert [(d.subject, d.figure) for d in sql.details] == [("db-phys01", 24)]
    # The Reconciliation page's Servers tab: every vendor, and Microsoft alone.
    found = physical_only.servers.lines_of(DAY)
    assert found is not None
    assert _figures(found[0]) == FIGURES
    microsoft = _vendor(physical_only, "Microsoft")
    of_microsoft = physical_only.servers.lines_of(DAY, microsoft)
    assert of_microsoft is not None
    assert _figures(of_microsoft[0]) == FIGURES


def test_without_any_server_there_are_no_server_lines(admin: Services) -> None:
    microsoft = admin.catalog.add_vendor("Microsoft")
    admin.catalog.add_product(microsoft, "SQL Server 2022 Enterprise")
    admin.directory.add_device(
        DeviceInput("pc-0001", processors=1, cores=8, os="Microsoft Windows 11 Pro")
    )
    assert admin.servers.lines_of(DAY) is None
    assert admin.servers.lines_of(DAY, microsoft) is None
    audit_id = admin.audits.start(microsoft, Trigger.VENDOR_REQUEST)
    assert admin.audits.servers(admin.audits.get(audit_id)) is None


def test_a_microsoft_audit_carries_the_physical_servers_lines(
    physical_only: Services, tmp_path: Path
) -> None:
    audit_id = physical_only.audits.start(
        _vendor(physical_only, "Microsoft"), Trigger.VENDOR_REQUEST
    )
    section = physical_only.audits.servers(physical_only.audits.get(audit_id))
    assert section is not None
    assert _figures(section.lines) == FIGURES
    bundle = _signed(physical_only, "Microsoft", tmp_path / "out").folder
    identity = SigningService(physical_only.ctx, kdf=TEST_KDF).unlock_or_create(PASSPHRASE, "x")
    server = Pseudonyms(identity.pseudonym_key).name("device", "db-phys01")
    text = (bundle / "servers.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(text.splitlines()))
    assert [
        (r["Product"], r["Required"], r["Bought"], r["Short"], r["Host or partition"]) for r in rows
    ] == [(WINDOWS, "24", "0", "24", server), (SQL, "24", "16", "8", server)]
    document = json.loads((bundle / "report.json").read_bytes())
    assert [
        (ln["family"], ln["required"], ln["purchased"], ln["short"])
        for ln in document["servers"]["lines"]
    ] == FIGURES
    # The SQL Server install on the desktop is in deployments.csv under the same pseudonyms.
    deployed = (bundle / "deployments.csv").read_text(encoding="utf-8-sig")
    assert server in deployed
    pdf = pdf_text(bundle / "report.pdf")
    servers = pdf[pdf.index("Servers\n") :]
    assert "physical servers" in servers[:600]
    assert any(line.split()[-4:] == ["24", "16", "8", "Short"] for line in servers.splitlines())
    assert server in servers
    for name in ("servers.csv", "report.json", "report.pdf"):
        shown = pdf if name == "report.pdf" else (bundle / name).read_text(encoding="utf-8")
        assert "db-phys01" not in shown, name


def test_a_datacenter_server_covered_by_the_datacenter_bought_is_said_so(
    physical_only: Services,
) -> None:
    """dc-phys02 runs the Datacenter edition on 16 cores: 16 core licenses, Standard the
    cheaper (1,070.00 against 6,200.00).  The 16 Datacenter bought go where each saves the
    most Standard: db-phys01 (24 for 24) and dc-phys02 (16 for 16) tie, by name db-phys01
    first, which needs more than 16; dc-phys02 takes them.  db-phys01 needs 24 Standard, none
    bought: 24 short.  Its reason says the Datacenter bought covers it, not that Standard does
    not."""
    microsoft = _vendor(physical_only, "Microsoft")
    datacenter = physical_only.catalog.add_product(microsoft, "Windows Server 2022 Datacenter")
    physical_only.catalog.add_entitlement(EntitlementInput(datacenter, Metric.PER_CORE, 16))
    physical_only.directory.add_device(
        DeviceInput("dc-phys02", processors=1, cores=16, os="Windows Server 2022 Datacenter")
    )
    windows = physical_only.servers.position(DAY).line(WINDOWS)
    assert windows is not None
    assert (windows.required, windows.purchased, windows.short) == (40, 16, 24)
    assert windows.standing == "Short"
    reason = {d.subject: d.reason for d in windows.details}["dc-phys02"]
    assert reason.endswith("It runs the Datacenter edition: the Datacenter bought covers it.")
