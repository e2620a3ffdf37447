"""Physical servers (a server OS on its own hardware, no hypervisor, from the device inventory)
in the server position, and the what-if that licenses a host or cluster with a Windows Server
edition instead of the cheaper one.  Every figure counted by hand below.

The estate is tests/services/test_server_position.py's (RVTools fixture, 208 Windows Server core
licenses, 160 Standard and 32 Datacenter bought; prices: Standard 66.875 and Datacenter 387.50
a core license, the reference prices) with these devices added, as a ConfigMgr hardware
inventory gives them (processors = sockets, cores = all physical cores):

- db-phys01: Windows Server 2022 Datacenter, 2 processors, 12 cores (6 each), SQL Server.
  Windows Server licensing guide, "Core-based licensing" (the datasheet's table: 2 processors
  of 6 cores, 8 two-core packs): every core, at least 8 a processor and 16 a server: 2 × 8 =
  16 core licenses; one licensing covers the physical OSE, Standard 16 × 66.875 = 1,070.00
  against Datacenter 16 × 387.50 = 6,200.00: Standard, 16.  SQL Server 2022 licensing guide,
  "Licensing SQL Server in physical environments": all physical cores, at least 4 a processor:
  2 × 6 = 12 core licenses.
- ora-phys01: Oracle Linux Server 8.9, 2 × 8 Xeon cores, Oracle Database: Oracle's processor
  definition, 16 cores × 0.5 (Processor Core Factor Table, Intel Xeon) = 8 processors; summed
  with the Oracle cluster's 32 Xeon cores before rounding: (32 + 16) × 0.5 = 24.
- rhel-phys01: Red Hat Enterprise Linux 9.3, 4 × 8 Xeon cores, IBM Db2: Red Hat "Stacking
  subscriptions" ("four sockets … requires two subscriptions"): 2; IBM full capacity (the PVU
  table, a Xeon whose server's sockets are not recorded: 120 a core): 32 × 120 = 3,840 PVUs,
  added to the VMs' sub-capacity peak of 240: 4,080.
- lab-srv02: Windows Server 2019 Standard, no processors or cores in the inventory: counted
  apart, never guessed.
- esx02 (a hypervisor host of the topology, inventoried with a Windows OS) and
  win-app02.corp.example (a VM of the topology) are not physical servers; pc-0001 (Windows 11)
  is not a server.

Windows Server: 208 + 16 = 224.  With what was bought: Datacenter's 32 covers esx01 (the best
ratio, first by name); esx02, esx03, esx-dmz01 and db-phys01 need 64 + 64 + 16 + 16 = 160
Standard, of 160 bought: none short.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from tests.services.test_server_audit import _signed
from tests.services.test_server_position import INVENTORIED, estate  # noqa: F401 (a fixture)

from seatledger.domain.server.microsoft import Edition
from seatledger.ingest.formats import Kind
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services
from seatledger.services.servers.position import IBM, ORACLE, RHEL, SQL, WINDOWS, WhatIf

DAY = dt.date(2026, 12, 7)
XEON = "Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz"
INSTALLS = """"Netbios_Name0","DisplayName0","Publisher0","Version0","InstallDate0"
"db-phys01","Microsoft SQL Server 2022 (64-bit)","Microsoft Corporation","16.0.1000.6","20240320"
"ora-phys01","Oracle Database 19c Enterprise Edition","Oracle Corporation","19.3.0.0.0","20240321"
"rhel-phys01","IBM Db2 11.5","IBM","11.5.9.0","20240322"
"""


@pytest.fixture
def physical(estate: Services, tmp_path: Path) -> Services:  # noqa: F811 (the fixture above)
    for device in (
        DeviceInput("db-phys01", processors=2, cores=12, os="Windows Server 2022 Datacenter"),
        DeviceInput(
            "ora-phys01", processors=2, cores=16, os="Oracle Linux Server 8.9", processor_model=XEON
        ),
        DeviceInput(
            "rhel-phys01",
            processors=4,
            cores=32,
            os="Red Hat Enterprise Linux 9.3",
            processor_model=XEON,
        ),
        DeviceInput("lab-srv02", os="Microsoft Windows Server 2019 Standard"),
        DeviceInput("esx02", processors=2, cores=32, os="Windows Server 2022 Datacenter"),
        DeviceInput(
            "win-app02.corp.example", processors=1, cores=4, os="Windows Server 2022 Standard"
        ),
        DeviceInput("pc-0001", processors=1, cores=8, os="Microsoft Windows 11 Pro"),
    ):
        estate.directory.add_device(device)
    installs = tmp_path / "installs.csv"
    installs.write_text(INSTALLS, encoding="utf-8")
    found = Services.for_actor(estate.db, estate.actor, clock=lambda: INVENTORIED)
    found.imports.commit(installs, ImportOptions(Kind.INVENTORY))
    return estate


def test_physical_servers_are_counted_under_each_rule(physical: Services) -> None:
    position = physical.servers.position(DAY)
    assert (position.physical, position.unknown_cores) == (4, ("lab-srv02",))
    figures = {
        (line.family, line.product): (line.required, line.purchased, line.short)
        for line in position.lines
    }
    assert figures == {
        (WINDOWS, WINDOWS): (224, 192, 0),
        (SQL, SQL): (20, 4, 16),
        (ORACLE, "Oracle Database Enterprise Edition"): (24, 8, 16),
        (IBM, "Db2"): (4_080, 0, 4_080),
        (RHEL, RHEL): (3, 0, 3),
    }
    windows = position.line(WINDOWS)
    assert windows is not None
    by_subject = {d.subject: d for d in windows.details}
    assert by_subject["db-phys01"].figure == 16
    assert "a physical server running Windows Server 2022 Datacenter" in (
        by_subject["db-phys01"].reason
    )
    assert "It runs the Datacenter edition" in by_subject["db-phys01"].reason
    assert "esx02" not in by_subject  # the hypervisor host, not a physical server of its own
    assert "win-app02.corp.example" not in by_subject  # a VM
    assert "need 160 Standard core licenses, 0 short" in windows.reason
    assert windows.unknown == ("lab-srv02",)
    assert "1 server with unknown cores" in windows.reason
    assert "lab-srv02" in windows.reason
    sql = position.line(SQL)
    assert sql is not None
    assert {d.subject: d.figure for d in sql.details} == {
        "esx03.corp.example": 8,
        "db-phys01": 12,
    }
    oracle = position.line(ORACLE)
    assert oracle is not None
    assert "ora-phys01 (physical): 16 cores × 0.5" in oracle.reason
    ibm = position.line(IBM)
    assert ibm is not None
    assert "1 physical server at full capacity 3,840 PVUs" in ibm.reason
    assert {d.subject: d.figure for d in ibm.details}["rhel-phys01"] == 3_840
    rhel = position.line(RHEL)
    assert rhel is not None
    assert {d.subject: d.figure for d in rhel.details}["rhel-phys01"] == 2
    table = position.table()[1]
    assert ("db-phys01", 16) in {(row[6], row[7]) for row in table if row[0] == WINDOWS}


def test_an_edition_what_if_recomputes_the_requirement_and_its_cost(physical: Services) -> None:
    """Prod licensed with Datacenter: each of its 3 hosts 32 Datacenter core licenses (its 32
    cores, unlimited OSEs) instead of 64 Standard: 96 + 16 (esx-dmz01) + 16 (db-phys01) = 128.
    Cost before: 3 × 64 × 66.875 = 12,840 + 1,070 + 1,070 = 14,980.00; after: 3 × 32 × 387.50
    = 37,200 + 2,140 = 39,340.00 (+24,360.00).  With what was bought: the 32 Datacenter go to
    esx01 (Prod's hosts first, by name), esx02 and esx03 need 64 more Datacenter: 64 short;
    esx-dmz01 and db-phys01 need 32 Standard of 160: none short.  Then db-phys01 with
    Datacenter as well: its 16 Datacenter (6,200.00) for 16 Standard (1,070.00): the same 128,
    costing 5,130.00 more, and 16 more Datacenter short: 80."""
    before = physical.servers.position(DAY)
    windows = before.line(WINDOWS)
    assert windows is not None
    assert windows.cost == Decimal("14980.00")
    prod = physical.servers.position(DAY, WhatIf(editions={"Prod": Edition.DATACENTER}))
    after = prod.line(WINDOWS)
    assert after is not None
    assert (after.required, after.short, after.cost) == (128, 64, Decimal("39340.00"))
    assert prod.whatif == ("Prod licensed with Windows Server Datacenter",)
    assert "licensed with Datacenter as chosen instead" in next(
        d.reason for d in after.details if d.subject == "esx02.corp.example"
    )
    both = physical.servers.position(
        DAY, WhatIf(editions={"Prod": Edition.DATACENTER, "db-phys01": Edition.DATACENTER})
    )
    line = both.line(WINDOWS)
    assert line is not None
    assert (line.required, line.short, line.cost) == (128, 80, Decimal("44470.00"))
    with pytest.raises(ValueError, match="no host, cluster or physical server named nope"):
        physical.servers.position(DAY, WhatIf(editions={"nope": Edition.STANDARD}))


def test_standard_chosen_where_datacenter_is_cheaper_costs_more(physical: Services) -> None:
    """esx01 running 3 Windows VMs takes Standard (64 at 66.875 = 4,280.00, less than
    Datacenter's 12,400.00); licensed with Standard by choice nothing changes.  Licensed with
    Datacenter, 32 instead of 64: 192 in all (224 - 32), the cost 8,120.00 more."""
    same = physical.servers.position(
        DAY, WhatIf(editions={"esx01.corp.example": Edition.STANDARD})
    ).line(WINDOWS)
    assert same is not None
    assert (same.required, same.cost) == (224, Decimal("14980.00"))
    dearer = physical.servers.position(
        DAY, WhatIf(editions={"esx01.corp.example": Edition.DATACENTER})
    ).line(WINDOWS)
    assert dearer is not None
    assert (dearer.required, dearer.cost) == (192, Decimal("23100.00"))


def test_a_microsoft_audit_names_physical_servers_by_pseudonym(
    physical: Services, tmp_path: Path
) -> None:
    bundle = _signed(physical, "Microsoft", tmp_path / "out").folder
    for name in ("servers.csv", "report.json"):
        text = (bundle / name).read_text(encoding="utf-8")
        assert "db-phys01" not in text, name
        assert "lab-srv02" not in text, name
