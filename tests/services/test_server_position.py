"""The server position on the RVTools fixture, every figure counted by hand.

Hosts (``tests/data/rvtools``): Prod = esx01, esx02, esx03, each 2 × 16 Xeon cores (32);
Oracle = esx11, esx12, each 2 × 8 Xeon cores (16); esx-dmz01 alone, 1 × 12 EPYC cores.
Running: win-app01 (esx01, 4 vCPUs, Windows), win-app02 (esx02, 2, Windows), sql01 (esx03, 8,
Windows, SQL Server), lnx-web01 (esx01, 2, RHEL, Db2), ora-db01 (esx11, 8, Oracle Database),
dmz-web01 (esx-dmz01, 2, Windows). ora-db02 is off, dmz-proxy suspended.

- Windows Server: Prod runs 3 Windows VMs, each of its hosts licensed for all 3: a 32-core host
  is 32 core licenses, Standard twice (2 OSEs each) = 64 at 66.875 = 4,280 against Datacenter 32
  at 387.50 = 12,400: Standard, 64 per host, 192. esx-dmz01: 12 cores counted at the 16 per
  server, Standard once = 16 (1,070 against 6,200). Required 192 + 16 = 208. Bought 160
  Standard and 32 Datacenter: the Datacenter covers esx01 (its 32 save 64 Standard, the best
  ratio; esx01 first by name), esx02, esx03 and esx-dmz01 need 64 + 64 + 16 = 144 Standard, of
  160 bought: none short.
- SQL Server: sql01's 8 virtual cores (at least 4): 8 core licenses; 4 bought: 4 short.
- Oracle Database: soft partitioning counts the Oracle cluster whole: 32 Xeon cores × 0.5 = 16
  processors; 8 bought: 8 short. Pinned to 8 cores (hard partitioning): 8 × 0.5 = 4.
- IBM Db2: lnx-web01's 2 vCPUs on a Xeon host whose model's sockets are not recorded: 120 PVUs
  per core (the highest Xeon rate, as License Metric Tool applies) = 240 PVUs.
- RHEL: lnx-web01 alone on esx01 (2 sockets): 1 subscription per two guests (799) against 1
  virtual datacenter (2,499): 1. Bought none: 1 short.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
from tests.conftest import ledger_size

from seatledger.domain.licensing import Metric
from seatledger.domain.server.topology import Reach
from seatledger.errors import ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.servers.importing import TopologySource
from seatledger.services.servers.position import IBM, ORACLE, RHEL, SQL, WINDOWS, WhatIf

DATA = Path(__file__).parents[1] / "data"
RVTOOLS = sorted((DATA / "rvtools").glob("RVTools_tab*.csv"))
INVENTORY = DATA / "servers" / "inventory_servers.csv"
TAKEN = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
INVENTORIED = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def estate(admin: Services) -> Services:
    admin.servers.import_topology(RVTOOLS, TopologySource.RVTOOLS, taken_at=TAKEN)
    microsoft = admin.catalog.add_vendor("Microsoft")
    oracle = admin.catalog.add_vendor("Oracle")
    ibm = admin.catalog.add_vendor("IBM")
    red_hat = admin.catalog.add_vendor("Red Hat")
    standard = admin.catalog.add_product(microsoft, "Windows Server 2022 Standard")
    datacenter = admin.catalog.add_product(microsoft, "Windows Server 2022 Datacenter")
    sql = admin.catalog.add_product(microsoft, "SQL Server 2022 Enterprise")
    database = admin.catalog.add_product(oracle, "Oracle Database Enterprise Edition")
    db2 = admin.catalog.add_product(ibm, "Db2")
    admin.catalog.add_product(red_hat, "Red Hat Enterprise Linux Server")
    admin.rules.add(RuleInput(sql, "Microsoft SQL Server 2022 (64-bit)"))
    admin.rules.add(RuleInput(database, "Oracle Database 19c Enterprise Edition"))
    admin.rules.add(RuleInput(db2, "IBM Db2 11.5"))
    for product, metric, quantity in (
        (standard, Metric.PER_CORE, 160),
        (datacenter, Metric.PER_CORE, 32),
        (sql, Metric.PER_CORE, 4),
        (database, Metric.PER_PROCESSOR, 8),
    ):
        admin.catalog.add_entitlement(EntitlementInput(product, metric, quantity))
    # The inventory found the installs on the day after the export, whatever day the tests run:
    # the position counts installs first seen on or before its day.
    found = Services.for_actor(admin.db, admin.actor, clock=lambda: INVENTORIED)
    found.imports.commit(INVENTORY, ImportOptions(Kind.INVENTORY))
    return admin


def test_each_product_is_counted_under_its_rule(estate: Services) -> None:
    before = ledger_size(estate.db)
    position = estate.servers.position(dt.date(2026, 12, 7))
    assert ledger_size(estate.db) == before  # reading writes nothing
    assert (position.hosts, position.clusters, position.vms, position.running) == (6, 2, 8, 6)
    figures = {
        (line.family, line.product): (line.required, line.purchased, line.short)
        for line in position.lines
    }
    assert figures == {
        (WINDOWS, WINDOWS): (208, 192, 0),
        (SQL, SQL): (8, 4, 4),
        (ORACLE, "Oracle Database Enterprise Edition"): (16, 8, 8),
        (IBM, "Db2"): (240, 0, 240),
        (RHEL, RHEL): (1, 0, 1),
    }
    windows = position.line(WINDOWS)
    assert windows is not None
    assert "Datacenter covers esx01.corp.example" in windows.reason
    # 208 required, 192 bought, none short: the reason says why first, the status says so.
    assert windows.reason.startswith(
        "Covered: the 208 required is the cheaper edition of each host and server, as if "
        "nothing were bought; the 32 Datacenter core licenses bought license esx01.corp.example "
        "for unlimited guests, 32 used, and the 160 Standard bought cover the 144 the others "
        "need. 4 running Windows Server VMs;"
    )
    assert windows.standing == "Covered by fewer (Datacenter)"
    assert position.line(SQL).standing == "Short"  # type: ignore[union-attr]
    assert "need 144 Standard core licenses, 0 short" in windows.reason
    assert {d.subject: d.figure for d in windows.details} == {
        "esx01.corp.example": 64,
        "esx02.corp.example": 64,
        "esx03.corp.example": 64,
        "esx-dmz01.corp.example": 16,
    }
    oracle = position.line(ORACLE)
    assert oracle is not None
    assert "16 processor licenses" in oracle.reason
    assert "ora-db01" in oracle.reason
    # Each host of the Oracle cluster: its cores, the processors they make, the VMs behind.
    assert [(d.subject, d.figure, d.reason, d.vms) for d in oracle.details] == [
        (
            f"esx1{n}.corp.example",
            16,
            "16 cores × 0.5 = 8 processors (before the sum is rounded up)",
            ("ora-db01",),  # ora-db02 (off) has no install the inventory found
        )
        for n in (1, 2)
    ]
    assert oracle.title == "Oracle Database Enterprise Edition"  # its name says its vendor
    assert position.line(IBM).title == "IBM Db2"  # type: ignore[union-attr]


def test_a_what_if_recomputes_and_writes_nothing(estate: Services) -> None:
    day = dt.date(2026, 12, 7)
    before = ledger_size(estate.db)
    # sql01 to the DMZ host: Prod keeps 2 Windows VMs (32 Standard a host: 96) and the DMZ host
    # runs 2 (16 Standard covers both): 112 instead of 208.
    moved = estate.servers.position(day, WhatIf(moves={"sql01": "esx-dmz01.corp.example"}))
    windows = moved.line(WINDOWS)
    assert windows is not None
    assert windows.required == 112
    assert moved.whatif == ("sql01 moved to esx-dmz01.corp.example",)
    pinned = estate.servers.position(day, WhatIf(hard_partitions={"ora-db01": 8}))
    oracle = pinned.line(ORACLE)
    assert oracle is not None
    assert (oracle.required, oracle.short) == (4, 0)
    wider = estate.servers.position(day, WhatIf(oracle_reach=Reach.EVERYWHERE))
    oracle = wider.line(ORACLE)
    assert oracle is not None
    # every host: 96 + 32 Xeon cores × 0.5 = 64, and the EPYC host's 12 × 0.5 = 6: 70.
    assert oracle.required == 70
    assert ledger_size(estate.db) == before
    with pytest.raises(ValueError, match="no VM named"):
        estate.servers.position(day, WhatIf(moves={"nope": "esx01.corp.example"}))


def test_a_shrinking_cluster_moves_its_vms_to_the_hosts_left(estate: Services) -> None:
    # esx02 out: win-app02 goes to esx01 (the first host left); Prod still 3 Windows VMs on 2
    # hosts: 2 × 64 = 128, plus the DMZ's 16: 144.
    position = estate.servers.position(
        dt.date(2026, 12, 7), WhatIf(removed_hosts=frozenset({"esx02.corp.example"}))
    )
    windows = position.line(WINDOWS)
    assert windows is not None
    assert windows.required == 144
    assert position.hosts == 5


def _export(folder: Path, changes: dict[str, dict[str, str]]) -> list[Path]:
    """The RVTools fixture's vHost, vCluster and vInfo sheets (not vCPU, which would contradict
    changed CPUs) in ``folder``, with vInfo cells changed per VM."""
    folder.mkdir(parents=True)
    paths = []
    for path in RVTOOLS:
        if path.name == "RVTools_tabvCPU.csv":
            continue
        target = folder / path.name
        shutil.copyfile(path, target)
        paths.append(target)
    info = folder / "RVTools_tabvInfo.csv"
    with info.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        for column, value in changes.get(row[0], {}).items():
            row[rows[0].index(column)] = value
    with info.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return paths


def test_history_gives_the_ibm_peak_and_the_90_day_findings(
    estate: Services, tmp_path: Path
) -> None:
    """Three more exports after the fixture's of 2 November (sql01 on esx03, lnx-web01 with 2
    vCPUs): 2 December, sql01 on esx01 and lnx-web01 with 6 vCPUs; 1 January, sql01 on esx02
    (30 days after its last move: a finding) and lnx-web01 back to 2 vCPUs; 15 May, sql01 on
    esx03 (134 days after: none).  Db2's peak over the year before 20 May is the 6 vCPUs of
    December: 6 × 120 = 720 PVUs."""
    exports = [
        (dt.datetime(2026, 12, 2, tzinfo=dt.UTC), "esx01", "6"),
        (dt.datetime(2027, 1, 1, tzinfo=dt.UTC), "esx02", "2"),
        (dt.datetime(2027, 5, 15, tzinfo=dt.UTC), "esx03", "2"),
    ]
    for number, (moment, host, cpus) in enumerate(exports):
        paths = _export(
            tmp_path / str(number),
            {
                "sql01": {"Host": f"{host}.corp.example"},
                "lnx-web01": {"CPUs": cpus, "Host": "esx01.corp.example"},
            },
        )
        estate.servers.import_topology(paths, TopologySource.RVTOOLS, taken_at=moment)
    position = estate.servers.position(dt.date(2027, 5, 20))
    db2 = position.line(IBM, "Db2")
    assert db2 is not None
    assert db2.required == 720
    assert "on 2026-12-02" in db2.reason
    assert len(position.findings) == 1
    assert position.findings[0].startswith(
        "sql01 moved from esx01.corp.example to esx02.corp.example on 2027-01-01, 30 days after"
    )


def test_a_hyperv_vm_takes_its_os_from_the_device_of_its_name(admin: Services) -> None:
    """Get-VM says no guest OS: the device inventory does. HV01 and HV02 (2 × 20 cores, cluster
    HVCL01) run the clustered SQL01 and APP01, and HV01 the unclustered DC01; HV03 (1 × 8) runs
    TEST01. With SQL01, APP01 and DC01 known to run Windows Server 2022: both clustered VMs may
    run on either node, and DC01 on HV01 only. HV02: 2 OSEs, 40 cores licensed with Standard
    once = 40; HV01: 3 OSEs, Standard twice = 80 (at 66.875, 5,350, against Datacenter's 40 at
    387.50, 15,500). 120 in all."""
    admin.servers.import_topology(
        sorted((DATA / "hyperv").glob("*.csv")), TopologySource.HYPERV, taken_at=TAKEN
    )
    for name in ("sql01.corp.example", "APP01", "DC01"):
        admin.directory.add_device(DeviceInput(name, os="Microsoft Windows Server 2022 Standard"))
    position = admin.servers.position(dt.date(2026, 12, 7))
    windows = position.line(WINDOWS)
    assert windows is not None
    assert {d.subject: d.figure for d in windows.details} == {"HV01": 80, "HV02": 40}
    assert windows.required == 120
    hv01 = next(d for d in windows.details if d.subject == "HV01")
    assert hv01.vms == ("APP01", "DC01", "SQL01")


def test_a_recorded_hard_partition_counts_and_outlives_the_next_export(
    estate: Services, tmp_path: Path
) -> None:
    """ora-db01 recorded as pinned to 8 Xeon cores: 8 × 0.5 = 4 processors instead of the
    Oracle cluster's 16; a later export (which never says it) keeps it; cleared, 16 again."""
    before = ledger_size(estate.db)
    estate.servers.set_hard_partition("ora-db01", 8, "Oracle Linux KVM, CPUs pinned (olvm-cli)")
    assert ledger_size(estate.db) == before + 1
    day = dt.date(2027, 1, 5)
    oracle = estate.servers.position(day).line(ORACLE)
    assert oracle is not None
    assert oracle.required == 4
    later = _export(tmp_path / "later", {})
    estate.servers.import_topology(
        later, TopologySource.RVTOOLS, taken_at=dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    )
    oracle = estate.servers.position(day).line(ORACLE)
    assert oracle is not None
    assert oracle.required == 4
    with pytest.raises(ValidationError, match="has 16"):
        estate.servers.set_hard_partition("ora-db01", 17, "more than the host")
    estate.servers.set_hard_partition("ora-db01", None, "the pinning was removed")
    oracle = estate.servers.position(day).line(ORACLE)
    assert oracle is not None
    assert oracle.required == 16
