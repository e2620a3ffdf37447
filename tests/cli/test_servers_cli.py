"""'seatledger import rvtools|hyperv' and 'seatledger servers': a dry run writes nothing, a bad
export exits 1 naming its line, the position prints per product (and as JSON), and what-if
options print the requirement after them (figures as in tests/services/test_server_position.py:
208 Windows Server core licenses, 112 once sql01 moves to the DMZ host)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from tests.cli.test_cli import Invoke, cli_env, run, team_db  # noqa: F401 (fixtures)

from seatledger.cli.parser import build_parser
from seatledger.cli.servers import cmd_servers
from seatledger.errors import KnownError
from seatledger.store import ledger_store
from seatledger.store.db import Database

DATA = Path(__file__).parents[1] / "data"
RVTOOLS = [str(p) for p in sorted((DATA / "rvtools").glob("RVTools_tab*.csv"))]


def _entries(url: str) -> int:
    db, _ = Database.open(url)
    try:
        with db.read() as session:
            return ledger_store.head(session)[0]
    finally:
        db.dispose()


def test_import_and_position(run: Invoke, team_db: str, tmp_path: Path) -> None:  # noqa: F811
    dry = run("import", "rvtools", *RVTOOLS, "--db", team_db, "--dry-run")
    assert dry.code == 0, dry.err
    assert "6 hosts (140 cores), 2 clusters, 8 VMs (6 running)" in dry.out
    assert _entries(team_db) == 1
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in RVTOOLS:
        shutil.copyfile(name, bad / Path(name).name)
    info = bad / "RVTools_tabvInfo.csv"
    info.write_text(info.read_text(encoding="utf-8").replace(",4,8192", ",four,8192", 1))
    refused = run("import", "rvtools", *map(str, sorted(bad.iterdir())), "--db", team_db)
    assert refused.code == 1
    assert "line 2, CPUs" in refused.out
    done = run("import", "rvtools", *RVTOOLS, "--db", team_db, "--taken-at", "2026-11-02 08:00")
    assert done.code == 0, done.err
    assert "hosts 6 new" in done.out
    assert _entries(team_db) == 2
    table = run("servers", "--db", team_db)
    assert table.code == 0, table.err
    assert "Windows Server" in table.out
    assert "208" in table.out
    moved = run(
        "servers", "--db", team_db, "--format", "json", "--move", "sql01=esx-dmz01.corp.example"
    )
    body = json.loads(moved.out)
    assert body["position"]["lines"][0]["required"] == 208
    assert body["whatif"]["lines"][0]["required"] == 112
    assert body["whatif"]["whatif"] == ["sql01 moved to esx-dmz01.corp.example"]
    out = tmp_path / "servers.csv"
    written = run("servers", "--db", team_db, "--out", str(out))
    assert written.code == 0, written.err
    with out.open(encoding="utf-8-sig", newline="") as handle:
        sheet = list(csv.reader(handle))
    assert sheet[0][:4] == ["Rule", "Product", "Counts", "Required"]
    hosts = {row[6]: row[7] for row in sheet[1:] if row[1] == "Windows Server"}
    assert hosts == {
        "esx01.corp.example": "64",
        "esx02.corp.example": "64",
        "esx03.corp.example": "64",
        "esx-dmz01.corp.example": "16",
    }
    reconciled = run("reconcile", "--db", team_db)
    assert reconciled.code == 0, reconciled.err
    assert "Servers (6 hosts, 8 VMs" in reconciled.out
    assert "208 core licenses required, 0 bought, 208 short" in reconciled.out
    as_json = json.loads(run("reconcile", "--db", team_db, "--format", "json").out)
    assert as_json["servers"]["lines"][0]["short"] == 208
    pinned = run(
        "partition", "ora-db01", "--cores", "8", "--reason", "OLVM pinned", "--db", team_db
    )
    assert pinned.code == 0, pinned.err
    assert _entries(team_db) == 3
    too_many = run("partition", "ora-db01", "--cores", "99", "--reason", "x", "--db", team_db)
    assert too_many.code == 2
    assert "esx11.corp.example has 16" in too_many.err
    verified = run("ledger", "verify", "--db", team_db)
    assert verified.code == 0, verified.out + verified.err
    unknown = run("servers", "--db", team_db, "--move", "nope=esx01.corp.example")
    assert unknown.code == 2
    assert "no VM named nope" in unknown.err
    assert _entries(team_db) == 3


@pytest.mark.parametrize("flag", ["--full", "--skip-invalid"])
def test_row_options_are_refused_for_an_export(run: Invoke, team_db: str, flag: str) -> None:  # noqa: F811
    refused = run("import", "rvtools", *RVTOOLS, "--db", team_db, flag)
    assert refused.code == 2
    assert "read whole" in refused.err


def test_import_mls(run: Invoke, team_db: str) -> None:  # noqa: F811
    """'seatledger import mls': a dry run writes nothing, a broken statement exits 1 naming its
    sheet, line and column, the statement's differences print as findings, the same file again
    and an older statement change nothing (layout: tests/data/mls/README.md)."""
    statement = str(DATA / "mls" / "mls_2026-11-30.xlsx")
    before = _entries(team_db)
    dry = run("import", "mls", statement, "--db", team_db, "--dry-run")
    assert dry.code == 0, dry.err
    assert "Microsoft License Statement calculated 2026-11-30: 4 product lines" in dry.out
    assert _entries(team_db) == before
    broken = run("import", "mls", str(DATA / "mls" / "mls_broken.xlsx"), "--db", team_db)
    assert broken.code == 1
    assert "line 11, Effective License Quantity (mls_broken.xlsx, sheet Pivot Data)" in broken.out
    assert _entries(team_db) == before
    done = run("import", "mls", statement, "--db", team_db)
    assert done.code == 0, done.err
    assert "stored, 4 product lines" in done.out
    assert "finding: Office Professional Plus: the Microsoft License Statement" in done.out
    assert _entries(team_db) == before + 1
    again = run("import", "mls", statement, "--db", team_db)
    assert again.code == 0
    assert "Imported before" in again.out
    older = run("import", "mls", str(DATA / "mls" / "mls_de_2026-10-31.xlsx"), "--db", team_db)
    assert older.code == 1
    assert "calculated on 2026-11-30 is stored already" in older.out
    assert _entries(team_db) == before + 1


def test_import_ilmt(run: Invoke, team_db: str) -> None:  # noqa: F811
    """'seatledger import ilmt': the snapshot is stored once, its PVU peaks print as findings
    (nothing here computes an IBM requirement: each product is named as unmatched)."""
    snapshot = str(DATA / "ilmt" / "audit_snapshot_2026-11-30.zip")
    before = _entries(team_db)
    dry = run("import", "ilmt", snapshot, "--db", team_db, "--dry-run")
    assert dry.code == 0, dry.err
    assert "ILMT audit snapshot for the period ending 2026-11-30: 2 product lines" in dry.out
    assert _entries(team_db) == before
    done = run("import", "ilmt", snapshot, "--db", team_db)
    assert done.code == 0, done.err
    assert "finding: IBM WebSphere Application Server: the ILMT audit snapshot" in done.out
    assert _entries(team_db) == before + 1
    two = run("import", "ilmt", snapshot, snapshot, "--db", team_db)
    assert two.code != 0
    assert "one file" in (two.out + two.err)


def test_servers_prints_the_ilmt_per_server_findings(run: Invoke, team_db: str) -> None:  # noqa: F811
    """'seatledger servers' after 'seatledger import ilmt' on the estate of
    tests/services/test_vendor_statements.py: the per-server differences of the snapshot's
    pvu_sub_capacity.csv print as findings naming the server, both numbers and the lines."""
    from tests.cli.test_cli import ADMIN_PASSWORD

    from seatledger.domain.licensing import Metric
    from seatledger.ingest.formats import Kind
    from seatledger.services.catalog.service import EntitlementInput
    from seatledger.services.imports.options import ImportOptions
    from seatledger.services.imports.rules import RuleInput
    from seatledger.services.operators import accounts
    from seatledger.services.operators.session import Services

    done = run("import", "rvtools", *RVTOOLS, "--db", team_db, "--taken-at", "2026-11-02 08:00")
    assert done.code == 0, done.err
    db, _ = Database.open(team_db)
    try:
        admin = Services.for_actor(db, accounts.sign_in(db, "admin", ADMIN_PASSWORD))
        db2 = admin.catalog.add_product(admin.catalog.add_vendor("IBM"), "Db2")
        admin.rules.add(RuleInput(db2, "IBM Db2 11.5"))
        admin.catalog.add_entitlement(EntitlementInput(db2, Metric.PER_CORE, 200))
        admin.imports.commit(
            DATA / "servers" / "inventory_servers.csv", ImportOptions(Kind.INVENTORY)
        )
    finally:
        db.dispose()
    snapshot = str(DATA / "ilmt" / "audit_snapshot_2026-11-30.zip")
    imported = run("import", "ilmt", snapshot, "--db", team_db)
    assert imported.code == 0, imported.err
    shown = run("servers", "--db", team_db)
    assert shown.code == 0, shown.err
    text = " ".join(shown.out.split())  # a terminal's line breaks
    assert (
        "IBM Db2 Standard Edition on esx01.corp.example: the ILMT audit snapshot "
        "audit_snapshot_2026-11-30.zip (period ending 2026-11-30) says 140 PVUs on it at the "
        "peak (pvu_sub_capacity.csv lines 2, 3); SeatLedger computes 240 PVUs on it for Db2"
    ) in text
    assert "IBM Db2 Standard Edition on aix-p9-01" in text


def test_an_edition_what_if_prints_the_requirement_and_its_cost(
    run: Invoke,  # noqa: F811
    team_db: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--edition Prod=datacenter``: Prod's 3 hosts 32 Datacenter core licenses each instead
    of 64 Standard, 96 + esx-dmz01's 16 = 112 (was 208); at the reference prices 3 × 32 ×
    387.50 + 16 × 66.875 = 38,270.00 against 3 × 64 × 66.875 + 1,070 = 13,910.00: +24,360.00.
    The option is parsed as the command line gives it."""
    done = run("import", "rvtools", *RVTOOLS, "--db", team_db, "--taken-at", "2026-11-02 08:00")
    assert done.code == 0, done.err
    args = build_parser().parse_args(
        ["servers", "--db", team_db, "--as-of", "2026-12-07", "--edition", "Prod=datacenter"]
    )
    assert args.edition == ["Prod=datacenter"]
    capsys.readouterr()
    assert cmd_servers(args) == 0
    out = capsys.readouterr().out
    assert "What if Prod licensed with Windows Server Datacenter (nothing is written):" in out
    after = out.split("What if", 1)[1]
    assert "112" in after.splitlines()[3]
    assert "Cost at these prices 38,270.00, was 13,910.00 (+24,360.00)." in after
    args.edition = ["Prod=enterprise"]
    with pytest.raises(KnownError, match="the edition is standard or datacenter"):
        cmd_servers(args)
    args.edition = ["nope=standard"]
    with pytest.raises(KnownError, match="no host, cluster or physical server named nope"):
        cmd_servers(args)


SCCM_SERVERS = (
    '"ResourceID","Netbios_Name0","Resource_Domain_OR_Workgr0","User_Name0",'
    '"User_Principal_Name0","Manufacturer0","Model0","SerialNumber0","Caption0","Version0",'
    '"NumberOfProcessors0","NumberOfCores0","NumberOfLogicalProcessors0","LastHWScan"\n'
    '"1","DB-PHYS01","CORP","","","Dell Inc.","PowerEdge R650","7XK99Q3",'
    '"Microsoft Windows Server 2022 Standard","10.0.20348","2","12","24","11/25/2026 7:48:12 AM"\n'
    '"2","LAB-SRV02","CORP","","","HPE","ProLiant DL360","CZ1234",'
    '"Microsoft Windows Server 2019 Standard","10.0.17763","","","","11/25/2026 7:48:12 AM"\n'
    '"3","ESX01","CORP","","","Dell Inc.","PowerEdge R650","7XK02Q3",'
    '"Microsoft Windows Server 2022 Datacenter","10.0.20348","2","32","64",'
    '"11/25/2026 7:48:12 AM"\n'
)


def test_physical_servers_from_a_configmgr_export_are_counted(
    run: Invoke,  # noqa: F811
    team_db: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A ConfigMgr hardware export (v_GS_COMPUTER_SYSTEM/v_GS_PROCESSOR columns): DB-PHYS01,
    Windows Server on 2 processors of 6 cores, adds 16 core licenses (8 a processor, 16 a
    server; one OSE, Standard once) to the 208 of the RVTools fixture: 224; LAB-SRV02 without
    processors or cores is named, not counted; ESX01 is the hypervisor host esx01.corp.example,
    licensed as a host, not again."""
    done = run("import", "rvtools", *RVTOOLS, "--db", team_db, "--taken-at", "2026-11-02 08:00")
    assert done.code == 0, done.err
    devices = tmp_path / "sccm_servers.csv"
    devices.write_text(SCCM_SERVERS, encoding="utf-8")
    imported = run("import", "devices", str(devices), "--db", team_db)
    assert imported.code == 0, imported.out + imported.err
    shown = run("servers", "--db", team_db, "--as-of", "2026-12-07")
    assert shown.code == 0, shown.err
    assert "2 physical servers (1 with unknown cores, not counted)" in shown.out
    windows = next(line for line in shown.out.splitlines() if line.startswith("Windows Server"))
    assert "224" in windows
    assert "Physical servers (no hypervisor), each counted whole: DB-PHYS01." in shown.out
    assert "1 server with unknown cores" in shown.out
    assert "LAB-SRV02" in shown.out
    body = json.loads(run("servers", "--db", team_db, "--format", "json").out)["position"]
    assert body["physical_servers"] == 2
    assert body["unknown_cores"] == ["LAB-SRV02"]
    [line] = [ln for ln in body["lines"] if ln["family"] == "Windows Server"]
    assert {d["subject"]: d["figure"] for d in line["details"]}["DB-PHYS01"] == 16
    assert line["unknown_cores"] == ["LAB-SRV02"]
