"""Server lines in a vendor's audit: the wizard's lines, report.json, servers.csv and the PDF.

The estate is the RVTools fixture of ``test_server_position`` (figures counted by hand there):
Microsoft's audit carries Windows Server (208 required, 192 bought) and SQL Server (8 against 4),
Oracle's the Oracle Database line (16 against 8) on the Oracle cluster's two hosts alone.  In
the bundle, hosts and VMs are pseudonyms: a VM's is its device's pseudonym in deployments.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from tests.conftest import pdf_text
from tests.services.test_server_position import estate  # noqa: F401 (the fixture)

from seatledger.services.audits.bundle import BundleResult, Trigger
from seatledger.services.audits.bundle.verify import verify
from seatledger.services.audits.bundle.writer import Pseudonyms
from seatledger.services.audits.signing import TEST_KDF, SigningService
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import PositionService
from seatledger.services.servers.position import (
    IBM,
    ORACLE,
    RHEL,
    SQL,
    WINDOWS,
    ServerLine,
    families_of,
    in_scope,
)

DOCS = Path(__file__).parents[2] / "docs"
PASSPHRASE = "a long and private passphrase"
HOSTS = (
    "esx01.corp.example",
    "esx02.corp.example",
    "esx03.corp.example",
    "esx11.corp.example",
    "esx12.corp.example",
    "esx-dmz01.corp.example",
)
VMS = ("win-app01", "win-app02", "sql01", "lnx-web01", "ora-db01", "ora-db02", "dmz-web01")


def _vendor(services: Services, name: str) -> int:
    return next(item[0] for item in services.audits.vendors() if item[1] == name)


def _signed(services: Services, vendor: str, out: Path) -> BundleResult:
    audit_id = services.audits.start(
        _vendor(services, vendor), Trigger.VENDOR_REQUEST, as_of=dt.date.today()
    )
    audit = services.audits.get(audit_id)
    services.audits.attest(audit_id, "Our records, as of the date.")
    position = PositionService(services.ctx).position(
        audit.as_of, audit.shelf_days, None, services.audits.position_scope(audit)
    )
    out.mkdir()
    return services.audits.sign(
        audit_id,
        position,
        passphrase=PASSPHRASE,
        out_dir=out,
        organization="Example Corp",
        kdf=TEST_KDF,
    )


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    text = (folder / name).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def test_each_vendor_gets_its_own_server_rules() -> None:
    assert families_of("Microsoft Corporation") == (WINDOWS, SQL)
    assert families_of("Oracle") == (ORACLE,)
    assert families_of("IBM") == (IBM,)
    assert families_of("Red Hat, Inc.") == (RHEL,)
    assert families_of("Contoso Software") == ()
    lines = [
        ServerLine(WINDOWS, WINDOWS, "core licenses", 1, 0, 1, ""),
        ServerLine(SQL, SQL, "core licenses", 1, 0, 1, ""),
        ServerLine(ORACLE, "Oracle Database", "processors", 1, 0, 1, ""),
        ServerLine(ORACLE, "WebLogic", "processors", 1, 0, 1, ""),
    ]
    microsoft = families_of("Microsoft")
    assert [ln.family for ln in in_scope(lines, microsoft, [], [])] == [WINDOWS, SQL]
    chosen = ["SQL Server 2022 Enterprise"]
    assert [ln.family for ln in in_scope(lines, microsoft, [], chosen)] == [SQL]
    own = ["Oracle Database", "WebLogic"]
    assert [ln.product for ln in in_scope(lines, (ORACLE,), own, ["WebLogic"])] == ["WebLogic"]
    assert in_scope(lines, (ORACLE,), ["Java SE"], []) == ()  # another vendor's "Oracle"


def test_a_microsoft_audit_carries_windows_and_sql_server_by_pseudonym(
    estate: Services,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    audit_id = estate.audits.start(_vendor(estate, "Microsoft"), Trigger.VENDOR_REQUEST)
    section = estate.audits.servers(estate.audits.get(audit_id))
    assert section is not None
    assert [(ln.family, ln.required, ln.purchased, ln.short) for ln in section.lines] == [
        (WINDOWS, 208, 192, 0),
        (SQL, 8, 4, 4),
    ]
    bundle = _signed(estate, "Microsoft", tmp_path / "out").folder
    result = verify(bundle)
    assert result.ok, [(c.name, c.detail) for c in result.checks if not c.ok]
    identity = SigningService(estate.ctx, kdf=TEST_KDF).unlock_or_create(PASSPHRASE, "x")
    names = Pseudonyms(identity.pseudonym_key)
    rows = _rows(bundle, "servers.csv")
    windows = {r["Host or partition"]: r for r in rows if r["Product"] == WINDOWS}
    assert {h: int(r["Its figure"]) for h, r in windows.items()} == {
        names.name("host", "esx01.corp.example"): 64,
        names.name("host", "esx02.corp.example"): 64,
        names.name("host", "esx03.corp.example"): 64,
        names.name("host", "esx-dmz01.corp.example"): 16,
    }
    [sql] = [r for r in rows if r["Product"] == SQL]
    assert (sql["Required"], sql["Bought"], sql["Short"]) == ("8", "4", "4")
    # The VM is named as its device is in deployments.csv: an install ties to its host.
    [deployed] = [r for r in _rows(bundle, "deployments.csv") if "SQL" in r["Product"]]
    assert sql["VMs"] == deployed["Device"] == names.name("device", "sql01.corp.example")
    assert sql["Host or partition"] == names.name("host", "esx03.corp.example")
    document = json.loads((bundle / "report.json").read_bytes())
    schema = json.loads((DOCS / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    assert [line["family"] for line in document["servers"]["lines"]] == [WINDOWS, SQL]
    assert document["counts"]["server_lines"] == len(rows)
    pdf = pdf_text(bundle / "report.pdf")
    assert "Servers" in pdf
    assert names.name("host", "esx-dmz01.corp.example") in pdf
    for name in ("servers.csv", "report.json"):
        text = (bundle / name).read_text(encoding="utf-8")
        assert not [n for n in (*HOSTS, *VMS) if n in text], name
    assert not [n for n in (*HOSTS, *VMS) if n in pdf]
    # The export the lines rest on is disclosed by its hash: its entry lists every host and VM.
    ledger = (bundle / "ledger.jsonl").read_text(encoding="utf-8")
    [entry] = [json.loads(line) for line in ledger.splitlines() if "import.topology" in line]
    assert "server" in entry["withheld"]
    assert not [n for n in (*HOSTS, *VMS) if n in ledger]
    # The server lines are signed like every other file of the bundle.
    tampered = tmp_path / "tampered"
    shutil.copytree(bundle, tampered)
    csv_path = tampered / "servers.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b",8,4,4,", b",8,8,0,"))
    failed = {c.name: c.detail for c in verify(tampered).checks if not c.ok}
    assert "servers.csv" in failed["file hashes"]


def test_an_oracle_audit_names_only_the_hosts_behind_its_figure(
    estate: Services,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    bundle = _signed(estate, "Oracle", tmp_path / "out").folder
    identity = SigningService(estate.ctx, kdf=TEST_KDF).unlock_or_create(PASSPHRASE, "x")
    names = Pseudonyms(identity.pseudonym_key)
    rows = _rows(bundle, "servers.csv")
    assert {r["Product"] for r in rows} == {"Oracle Database Enterprise Edition"}
    assert {r["Host or partition"] for r in rows} == {
        names.name("host", "esx11.corp.example"),
        names.name("host", "esx12.corp.example"),
    }
    assert {r["Required"] for r in rows} == {"16"}
    everything = b"".join(
        path.read_bytes() for path in bundle.iterdir() if path.suffix in {".csv", ".json", ".jsonl"}
    )
    for other in ("esx01.corp.example", "esx-dmz01.corp.example", "sql01", "win-app01"):
        assert names.name("host", other).encode() not in everything
        assert other.encode() not in everything
    assert names.name("device", "win-app01.corp.example").encode() not in everything


@pytest.mark.usefixtures("org")
def test_a_vendor_without_server_rules_has_no_server_lines(admin: Services, tmp_path: Path) -> None:
    audit_id = admin.audits.start(_vendor(admin, "Contoso Software"), Trigger.VENDOR_REQUEST)
    assert admin.audits.servers(admin.audits.get(audit_id)) is None
