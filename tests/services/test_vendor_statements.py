"""A Microsoft License Statement as evidence, reconciled by hand.

The layout (``tests/data/mls``, written by its ``build.py``) is the Pivot Data sheet as
Flexera's MLS upload guide describes it (docs.flexera.com, FlexNet Manager Suite 2020 R2,
"Uploading Purchases from Microsoft License Statement": the calculation date in K3, the header
in row 10 — Product Pool, License Product Family, License Version, Effective License Quantity,
…, Country of Usage —, only the "All Countries" rows counted; "Pivot-Daten" in German).

The ILMT audit snapshot layout (``tests/data/ilmt``) is License Metric Tool's: IBM's
documentation "Content of the audit snapshot" (ibm.com/docs/en/license-metric-tool) for the files,
and the column names its data_condition.txt lists (as in the public sample snapshot of
github.com/tstopa/LMT-Explorer, test/audit_snapshot, whose CSV headers are Polish).

The estate is the server position's (``test_server_position``): bought 160 Windows Server
Standard and 32 Datacenter core licenses, 4 SQL Server Enterprise; required 208 Windows Server
and 8 SQL Server core licenses.  The statement of 2026-11-30 says, All Countries:

- line 11, Windows Server Standard 80 × 2-core packs = 160: as bought, no finding;
- line 12, Windows Server Datacenter 24 packs = 48 against 32 bought: Microsoft counts 16 more;
- line 13, Datacenter 10 packs in Germany: a breakdown, left out;
- line 14, SQL Server Enterprise 1 pack = 2 against 4 bought: 2 it does not count; and against
  the 8 the position requires, 6 short by Microsoft's record;
- line 15, Office Professional Plus 50, no purchase recorded: Microsoft counts 50 more;
- Windows Server against the requirement: 160 + 48 = 208 = required, no finding.

Its IBM Db2 (lnx-web01's 2 vCPUs at 120 PVUs a core) computes to 240 PVUs; 200 were bought.
The ILMT snapshot for the period ending 2026-11-30 says, in audit_snapshot_summary.csv:

- line 2, IBM Db2 Standard Edition, PVU - Subcapacity, peak 280: ILMT counts 40 more than the
  240 computed, and 280 - 200 = 80 short by IBM's measure;
- line 3, IBM WebSphere Application Server, 100 PVUs: no product of that name is computed;
- line 4, IBM MQ, Authorized User: not PVUs, left out.

and per server, in pvu_sub_capacity.csv (its columns as the public sample's data_condition.txt
lists them: Product Name, Server Name, PVU Per Core, Physical Server PVU Subcapacity, …; one row
per computer and install, each repeating its server's figure):

- lines 2-3, Db2 on esx01.corp.example, 2 cores × 70 PVUs = 140; SeatLedger counts lnx-web01's
  2 vCPUs on esx01 at 120 PVUs a core (its table's Xeon Gold 6226R rating) = 240: ILMT counts
  100 fewer;
- line 4, Db2 on esx02.corp.example, 0 (an excluded DR instance); SeatLedger counts no Db2 there:
  no finding;
- line 5, Db2 on aix-p9-01, 140: not a host of the imported topology;
- line 6, WebSphere on "IBM Corp. 7946 99B716687": its product is not computed (the summary's
  finding already says so), no per-server finding.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import ledger_size, pdf_text
from tests.services.test_server_audit import _signed, _vendor

from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.errors import PermissionDenied, ValidationError
from seatledger.ingest import ilmt, mls
from seatledger.ingest.formats import Kind
from seatledger.ingest.tabular import ImportFileError
from seatledger.services.audits.bundle import Trigger
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.imports.service import ImportRejected
from seatledger.services.operators.session import Services
from seatledger.services.servers.importing import TopologySource
from seatledger.services.servers.statements import StatementKind

DATA = Path(__file__).parents[1] / "data"
RVTOOLS = sorted((DATA / "rvtools").glob("RVTools_tab*.csv"))
INVENTORY = DATA / "servers" / "inventory_servers.csv"
ENGLISH = DATA / "mls" / "mls_2026-11-30.xlsx"
GERMAN = DATA / "mls" / "mls_de_2026-10-31.xlsx"
BROKEN = DATA / "mls" / "mls_broken.xlsx"
SNAPSHOT = DATA / "ilmt" / "audit_snapshot_2026-11-30.zip"
SNAPSHOT_PL = DATA / "ilmt" / "audit_snapshot_pl_2026-09-30.zip"
SNAPSHOT_BROKEN = DATA / "ilmt" / "audit_snapshot_broken.zip"
TAKEN = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def estate(admin: Services) -> Services:
    admin.servers.import_topology(RVTOOLS, TopologySource.RVTOOLS, taken_at=TAKEN)
    microsoft = admin.catalog.add_vendor("Microsoft")
    standard = admin.catalog.add_product(microsoft, "Windows Server 2022 Standard")
    datacenter = admin.catalog.add_product(microsoft, "Windows Server 2022 Datacenter")
    sql = admin.catalog.add_product(microsoft, "SQL Server 2022 Enterprise")
    db2 = admin.catalog.add_product(admin.catalog.add_vendor("IBM"), "Db2")
    admin.rules.add(RuleInput(sql, "Microsoft SQL Server 2022 (64-bit)"))
    admin.rules.add(RuleInput(db2, "IBM Db2 11.5"))
    for product, quantity in ((standard, 160), (datacenter, 32), (sql, 4), (db2, 200)):
        admin.catalog.add_entitlement(EntitlementInput(product, Metric.PER_CORE, quantity))
    admin.imports.commit(INVENTORY, ImportOptions(Kind.INVENTORY))
    return admin


def _statement_findings(services: Services) -> list[str]:
    return [f for f in services.servers.position().findings if "License Statement" in f]


def test_every_difference_is_a_finding_naming_both_numbers(estate: Services) -> None:
    preview = estate.servers.preview_statement(ENGLISH)
    assert preview.ok
    assert preview.lines == 4
    assert preview.calculated_on == dt.date(2026, 11, 30)
    assert preview.notes == (
        "1 row of a single country left out (the All Countries rows are the total).",
        "4 products of the License Summary sheet agree with the Pivot Data sheet's All "
        "Countries rows.",
    )
    result = estate.servers.import_statement(ENGLISH)
    assert result.lines == 4
    found = _statement_findings(estate)
    source = "the Microsoft License Statement mls_2026-11-30.xlsx of 2026-11-30"
    assert len(found) == 4, found
    datacenter = next(f for f in found if f.startswith("Windows Server Datacenter"))
    assert f"{source} says 24 × 2-core packs = 48 core licenses (Pivot Data line 12)" in datacenter
    assert "the purchases recorded say 32 (entitlements #2)" in datacenter
    assert "Microsoft counts 16 more" in datacenter
    sql = next(f for f in found if f.startswith("SQL Server Enterprise"))
    assert "says 1 × 2-core pack = 2 core licenses (Pivot Data line 14)" in sql
    assert "say 4 (entitlements #3)" in sql
    assert "2 recorded that Microsoft does not count" in sql
    office = next(f for f in found if f.startswith("Office Professional Plus"))
    assert "says 50 (Pivot Data line 15); no purchase in term is recorded" in office
    required = next(f for f in found if f.startswith("SQL Server:"))
    assert "requires 8 core licenses" in required
    assert "says 2 (Pivot Data 14)" in required
    assert "6 short by Microsoft's own record" in required
    assert not any(f.startswith("Windows Server Standard") for f in found)
    assert not any(f.startswith("Windows Server:") for f in found)  # 208 said, 208 required


def test_findings_reach_the_microsoft_audit_lines_and_not_oracles(estate: Services) -> None:
    estate.servers.import_statement(ENGLISH)
    microsoft = estate.catalog.add_vendor("Microsoft Ireland")  # another Microsoft vendor row
    shown = estate.servers.lines_of(dt.date.today(), microsoft)
    assert shown is not None
    assert sum("License Statement" in f for f in shown[1]) == 4
    oracle = estate.catalog.add_vendor("Oracle")
    database = estate.catalog.add_product(oracle, "Oracle Database Enterprise Edition")
    estate.rules.add(RuleInput(database, "Oracle Database 19c Enterprise Edition"))
    estate.imports.commit(INVENTORY, ImportOptions(Kind.INVENTORY))
    oracle_lines = estate.servers.lines_of(dt.date.today(), oracle)
    assert oracle_lines is not None
    assert oracle_lines[0]
    assert not any("License Statement" in f for f in oracle_lines[1])


def test_the_same_file_again_changes_nothing(estate: Services) -> None:
    estate.servers.import_statement(ENGLISH)
    size = ledger_size(estate.db)
    again = estate.servers.import_statement(ENGLISH)
    assert again.already_imported
    assert ledger_size(estate.db) == size
    assert estate.servers.preview_statement(ENGLISH).already_imported is not None


def test_an_older_statement_is_refused_and_a_localized_one_is_read(estate: Services) -> None:
    preview = estate.servers.preview_statement(GERMAN)
    assert preview.ok
    assert preview.sheet == "Pivot-Daten"
    assert preview.lines == 2
    assert preview.calculated_on == dt.date(2026, 10, 31)
    estate.servers.import_statement(ENGLISH)
    size = ledger_size(estate.db)
    assert estate.servers.preview_statement(GERMAN).newer_stored == dt.date(2026, 11, 30)
    with pytest.raises(ValidationError, match="calculated on 2026-10-31, before"):
        estate.servers.import_statement(GERMAN)
    assert ledger_size(estate.db) == size


def test_a_broken_statement_is_refused_by_line_sheet_and_column(estate: Services) -> None:
    size = ledger_size(estate.db)
    with pytest.raises(ImportRejected) as caught:
        estate.servers.import_statement(BROKEN)
    shown = [str(p) for p in caught.value.problems]
    assert shown == [
        "line 11, Effective License Quantity (mls_broken.xlsx, sheet Pivot Data): not a whole "
        "number (value 'zwölf')",
        "line 13, License Product Family (mls_broken.xlsx, sheet Pivot Data): is listed twice "
        "for Server, version 2022 (line 12) (value 'Windows Server Datacenter - 2 Core License "
        "Pack')",
    ]
    assert ledger_size(estate.db) == size
    assert _statement_findings(estate) == []


def test_a_file_without_pivot_data_is_named(estate: Services, tmp_path: Path) -> None:
    other = tmp_path / "statement.xlsx"
    shutil.copyfile(DATA / "rvtools" / "RVTools_tabvHost.csv", tmp_path / "vhost.csv")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        estate.servers.preview_statement(tmp_path / "vhost.csv")
    from openpyxl import Workbook

    book = Workbook()
    book.save(other)
    with pytest.raises(ImportFileError, match="has no Pivot Data sheet and no License Summary"):
        estate.servers.import_statement(other)


def test_the_kinds_are_called_as_their_readers_call_them() -> None:
    assert StatementKind.MLS.label == mls.FORMAT_NAME
    assert StatementKind.ILMT.label == ilmt.FORMAT_NAME


def test_a_viewer_may_preview_but_not_import(
    estate: Services, as_role: Callable[[Role], Services]
) -> None:
    viewer = as_role(Role.VIEWER)
    assert viewer.servers.preview_statement(ENGLISH).ok
    with pytest.raises(PermissionDenied):
        viewer.servers.import_statement(ENGLISH)


def _ilmt_findings(services: Services) -> list[str]:
    return [f for f in services.servers.position().findings if "ILMT audit snapshot" in f]


def test_ilmt_peaks_against_the_computed_ibm_requirement(estate: Services) -> None:
    preview = estate.servers.preview_statement(SNAPSHOT, StatementKind.ILMT)
    assert preview.ok
    assert preview.lines == 2
    assert preview.calculated_on == dt.date(2026, 11, 30)
    assert preview.notes == (
        "1 product measured by another metric than PVUs left out (SeatLedger computes IBM's "
        "PVU requirement only).",
        "pvu_sub_capacity.csv: 4 server figures of 2 products read (checked per server against "
        "the topology).",
    )
    estate.servers.import_statement(SNAPSHOT, StatementKind.ILMT)
    source = (
        "the ILMT audit snapshot audit_snapshot_2026-11-30.zip (period ending 2026-11-30) says "
    )
    assert _ilmt_findings(estate) == [
        f"IBM Db2 Standard Edition: {source}a peak of 280 PVUs (audit_snapshot_summary.csv line "
        "2); SeatLedger computes a peak of 240 PVUs for Db2: ILMT counts 40 more (a host's "
        "processor or a VM's placement seen differently).",
        f"IBM Db2 Standard Edition: {source}a peak of 280 PVUs (audit_snapshot_summary.csv line "
        "2); 200 bought for Db2: 80 short by IBM's own measure.",
        f"IBM Db2 Standard Edition on esx01.corp.example: {source}140 PVUs on it at the peak "
        "(pvu_sub_capacity.csv lines 2, 3); SeatLedger computes 240 PVUs on it for Db2: ILMT "
        "counts 100 fewer (the host's processor or the VMs seen running there differ).",
        f"IBM Db2 Standard Edition on aix-p9-01: {source}140 PVUs on it at the peak "
        "(pvu_sub_capacity.csv line 5); it is no host of the imported topology, so SeatLedger "
        "counts nothing there for Db2: import the server (or its virtualization host) to check "
        "it.",
        f"IBM WebSphere Application Server: {source}a peak of 100 PVUs "
        "(audit_snapshot_summary.csv line 3); SeatLedger computes no IBM requirement for it (no "
        "product of that name is installed on a VM): map it to a product.",
    ]
    assert _statement_findings(estate) == []  # an ILMT snapshot says nothing of Microsoft
    ibm = estate.catalog.add_vendor("IBM Corporation")
    shown = estate.servers.lines_of(dt.date.today(), ibm)
    assert shown is not None
    assert len(shown[1]) == 5  # an IBM audit carries them
    assert all("ILMT" in finding for finding in shown[1])
    microsoft = estate.catalog.add_vendor("Microsoft Ireland")
    theirs = estate.servers.lines_of(dt.date.today(), microsoft)
    assert theirs is not None
    assert not any("ILMT" in finding for finding in theirs[1])


def test_ilmt_localized_headers_older_and_again(estate: Services) -> None:
    polish = estate.servers.preview_statement(SNAPSHOT_PL, StatementKind.ILMT)
    assert polish.ok
    assert polish.lines == 1
    assert "read by the names data_condition.txt lists" in polish.notes[0]
    assert polish.notes[1].startswith("pvu_sub_capacity.csv's header is not in English")
    estate.servers.import_statement(SNAPSHOT, StatementKind.ILMT)
    size = ledger_size(estate.db)
    assert estate.servers.import_statement(SNAPSHOT, StatementKind.ILMT).already_imported
    with pytest.raises(ValidationError, match="before the ILMT audit snapshot stored already"):
        estate.servers.import_statement(SNAPSHOT_PL, StatementKind.ILMT)
    with pytest.raises(ImportRejected) as caught:
        estate.servers.import_statement(SNAPSHOT_BROKEN, StatementKind.ILMT)
    assert [str(p) for p in caught.value.problems] == [
        "line 2, Metric Quantity (audit_snapshot_broken.zip, audit_snapshot_summary.csv): not a "
        "whole number (value 'dużo')",
        "line 4, Product Name (audit_snapshot_broken.zip, audit_snapshot_summary.csv): is listed "
        "twice with metric PVU - Subcapacity (line 3) (value 'IBM WebSphere Application Server')",
        "line 2, Physical Server PVU Subcapacity (audit_snapshot_broken.zip, "
        "pvu_sub_capacity.csv): not a whole number (value 'sto czterdzieści')",
    ]
    assert ledger_size(estate.db) == size
    with pytest.raises(ImportFileError, match=r"holds no audit_snapshot_summary\.csv"):
        estate.servers.preview_statement(ENGLISH, StatementKind.ILMT)  # a workbook is a zip
    with pytest.raises(ImportFileError, match="is not a zip"):
        estate.servers.preview_statement(RVTOOLS[0], StatementKind.ILMT)


def test_the_vendor_audits_carry_their_statements_findings(
    estate: Services, tmp_path: Path
) -> None:
    """A Microsoft audit's server section, report.json and PDF carry the License Statement's
    findings (and no ILMT one); an IBM audit's section the ILMT snapshot's."""
    estate.servers.import_statement(ENGLISH)
    estate.servers.import_statement(SNAPSHOT, StatementKind.ILMT)
    microsoft = estate.audits.start(_vendor(estate, "Microsoft"), Trigger.VENDOR_REQUEST)
    section = estate.audits.servers(estate.audits.get(microsoft))
    assert section is not None
    assert sum("Microsoft License Statement" in f for f in section.findings) == 4
    assert not any("ILMT" in f for f in section.findings)
    ibm = estate.audits.start(_vendor(estate, "IBM"), Trigger.VENDOR_REQUEST)
    ibm_section = estate.audits.servers(estate.audits.get(ibm))
    assert ibm_section is not None
    assert len(ibm_section.findings) == 5
    assert all("ILMT audit snapshot" in f for f in ibm_section.findings)
    bundle = _signed(estate, "Microsoft", tmp_path / "out").folder
    document = json.loads((bundle / "report.json").read_bytes())
    assert any("Office Professional Plus" in finding for finding in document["servers"]["findings"])
    pdf = pdf_text(bundle / "report.pdf")
    assert "Office Professional Plus" in pdf


def test_a_license_summary_alone_is_evidence_and_a_disagreeing_one_is_refused(
    estate: Services,
) -> None:
    """mls_summary_2026-12-15.xlsx (License Summary only): Standard 80 packs = 160 as bought;
    Datacenter 24 packs = 48 against 32 bought: Microsoft counts 16 more, named by the summary's
    line 8.  mls_disagree_2026-12-01.xlsx: its sheets disagree, so nothing is stored."""
    size = ledger_size(estate.db)
    with pytest.raises(ImportRejected) as caught:
        estate.servers.import_statement(DATA / "mls" / "mls_disagree_2026-12-01.xlsx")
    assert len(caught.value.problems) == 3
    assert all("the two sheets disagree" in str(p) for p in caught.value.problems)
    assert ledger_size(estate.db) == size
    result = estate.servers.import_statement(DATA / "mls" / "mls_summary_2026-12-15.xlsx")
    assert result.lines == 2
    found = _statement_findings(estate)
    assert len(found) == 1, found
    assert found[0].startswith(
        "Windows Server Datacenter - 2 Core License Pack: the Microsoft License Statement "
        "mls_summary_2026-12-15.xlsx of 2026-12-15 says 24 × 2-core packs = 48 core licenses "
        "(License Summary line 8)"
    )
    assert "Microsoft counts 16 more" in found[0]


def test_ilmt_per_server_figures_name_a_host_ilmt_does_not_list(
    estate: Services, tmp_path: Path
) -> None:
    """A snapshot whose pvu_sub_capacity.csv lists Db2 only on esx02 (0 PVUs, excluded): the
    240 PVUs SeatLedger counts on esx01 are a finding; the summary-only snapshot says its
    per-server figures are not checked and raises no per-server finding."""
    import zipfile

    from tests.data.ilmt import build

    only_esx02 = tmp_path / "audit_snapshot_2026-11-30.zip"
    build.write(
        only_esx02,
        build.ENGLISH,
        build.ROWS[:1],
        "Dec 1, 2025",
        "Nov 30, 2026",
        (build.SERVER_ENGLISH, build.SERVER_ROWS[2:3]),
    )
    assert zipfile.is_zipfile(only_esx02)
    estate.servers.import_statement(only_esx02, StatementKind.ILMT)
    per_server = [f for f in _ilmt_findings(estate) if " on esx" in f]
    assert per_server == [
        "IBM Db2 Standard Edition on esx01.corp.example: SeatLedger computes 240 PVUs on it for "
        "Db2; the ILMT audit snapshot audit_snapshot_2026-11-30.zip (period ending 2026-11-30) "
        "lists no PVUs of it on this server (pvu_sub_capacity.csv): ILMT counts 240 fewer (an "
        "agent missing there?)."
    ]
    summary_only = DATA / "ilmt" / "audit_snapshot_summary_only_2026-12-31.zip"
    preview = estate.servers.preview_statement(summary_only, StatementKind.ILMT)
    assert preview.notes[-1] == (
        "No pvu_sub_capacity.csv in the snapshot: its per-server figures are not checked."
    )
    estate.servers.import_statement(summary_only, StatementKind.ILMT)
    assert not any(" on esx" in f or " on aix" in f for f in _ilmt_findings(estate))
