"""License files against purchases: a finding when 'lmstat -i' grants more, fewer, or until
another date than was bought; none when they agree; the newest import of a server counts.

The grants are those of ``tests/data/lmstat_i/v11_16_two_daemons.txt`` (server 27000@lic01),
each figure counted by hand from its lines:

    line 10  MATLAB          40  expires 2027-12-31
    line 11  MATLAB          10  expires 2027-06-30
    line 12  Simulink        15  expires 2027-12-31
    line 13  Signal_Toolbox   5  permanent
    line 15  geo_seismic     40  permanent (1-jan-0)
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import PASSWORD

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.imports.service import ImportResult
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Finding, FindingKind
from seatledger.store.models import LicenseGrant

FIXTURES = Path(__file__).parents[1] / "data" / "lmstat_i"
TWO_DAEMONS = FIXTURES / "v11_16_two_daemons.txt"
JAN = dt.date(2027, 1, 15)  # every grant of the file in force
JUL = dt.date(2027, 7, 15)  # MATLAB's 10 of line 11 expired on 2027-06-30
LICENSE_FILE_KINDS = {FindingKind.GRANTS_OVER, FindingKind.GRANTS_UNDER, FindingKind.GRANTS_EXPIRY}


def import_grants(admin: Services, path: Path, server: str = "27000@lic01") -> ImportResult:
    return admin.imports.commit(path, ImportOptions(Kind.GRANTS, server=server))


def bought(
    admin: Services, name: str, feature: str, quantity: int, end: dt.date | None
) -> tuple[int, int]:
    """A product mapped from its feature, and a concurrent purchase of it from 2026."""
    vendor = admin.catalog.add_vendor(f"Vendor of {name}")
    product = admin.catalog.add_product(vendor, name)
    admin.rules.add(RuleInput(product, feature))
    entitlement = admin.catalog.add_entitlement(
        EntitlementInput(
            product,
            Metric.CONCURRENT,
            quantity,
            name=f"{name} contract",
            term_start=dt.date(2026, 1, 1),
            term_end=end,
        )
    )
    return product, entitlement


def license_findings(admin: Services, day: dt.date) -> list[tuple[FindingKind, str, int, str]]:
    return [
        (f.kind, f.product, f.count, f.text)
        for f in admin.position.position(day).findings
        if f.kind in LICENSE_FILE_KINDS
    ]


@pytest.fixture
def products(admin: Services) -> dict[str, tuple[int, int]]:
    """MATLAB bought 45 (the file grants 50), Simulink 20 (15), Signal Toolbox 5 until June
    2027 (5, permanent), Seismic 40 with no end (40, permanent): over, under, expiry, agreed."""
    made = {
        "MATLAB": bought(admin, "MATLAB", "MATLAB", 45, dt.date(2027, 12, 31)),
        "Simulink": bought(admin, "Simulink", "Simulink", 20, dt.date(2027, 12, 31)),
        "Signal Toolbox": bought(
            admin, "Signal Toolbox", "Signal_Toolbox", 5, dt.date(2027, 6, 30)
        ),
        "Seismic": bought(admin, "Seismic", "geo_seismic", 40, None),
    }
    result = import_grants(admin, TWO_DAEMONS)
    assert (result.rows, result.inserted) == (8, 8)
    return made


def test_each_disagreement_is_a_finding_and_agreement_is_none(
    admin: Services, products: dict[str, tuple[int, int]]
) -> None:
    assert license_findings(admin, JAN) == [
        # MATLAB: lines 10 and 11 grant 40 + 10 = 50, 45 bought: 5 more.
        (
            FindingKind.GRANTS_OVER,
            "MATLAB",
            5,
            "the license files grant 50 on the date, the purchases in term 45: 5 more can be "
            "issued than were bought",
        ),
        # Simulink: line 12 grants 15, 20 bought: 5 paid for but not issued.
        (
            FindingKind.GRANTS_UNDER,
            "Simulink",
            5,
            "the license files grant 15 on the date, the purchases in term 20: 5 paid for but "
            "not issued",
        ),
        # Signal Toolbox: 5 and 5, but line 13 never expires and the purchase ends in June.
        (
            FindingKind.GRANTS_EXPIRY,
            "Signal Toolbox",
            1,
            "the license files run until no end (permanent), the purchases in term until "
            "2027-06-30",
        ),
        # Seismic: 40 permanent (line 15) and 40 with no end: nothing.
    ]


def test_grants_expired_on_the_date_are_not_in_force(
    admin: Services, products: dict[str, tuple[int, int]]
) -> None:
    assert license_findings(admin, JUL) == [
        # Signal Toolbox: the purchase ended 2027-06-30, line 13 still grants 5: 5 more.
        (
            FindingKind.GRANTS_OVER,
            "Signal Toolbox",
            5,
            "the license files grant 5 on the date, the purchases in term 0: 5 more can be "
            "issued than were bought",
        ),
        # MATLAB: line 11's 10 expired on 2027-06-30; line 10's 40 against 45 bought.
        (
            FindingKind.GRANTS_UNDER,
            "MATLAB",
            5,
            "the license files grant 40 on the date, the purchases in term 45: 5 paid for but "
            "not issued",
        ),
        (
            FindingKind.GRANTS_UNDER,
            "Simulink",
            5,
            "the license files grant 15 on the date, the purchases in term 20: 5 paid for but "
            "not issued",
        ),
    ]


def test_the_rows_behind_a_finding_are_the_grant_lines_and_the_purchases(
    admin: Services, products: dict[str, tuple[int, int]]
) -> None:
    finding = next(
        f for f in admin.position.position(JAN).findings if f.kind is FindingKind.GRANTS_OVER
    )
    rows = admin.position.finding_rows(finding, JAN, 90)
    assert [(h.kind, h.name, h.detail, h.since) for h in rows] == [
        (
            "grant",
            "MATLAB 52",
            "40 licenses, expires 2027-12-31; MLM on 27000@lic01, line 10",
            "2026-11-30",  # the time lmutil ran, line 2 of the file
        ),
        (
            "grant",
            "MATLAB 52",
            "10 licenses, expires 2027-06-30; MLM on 27000@lic01, line 11",
            "2026-11-30",
        ),
        ("entitlement", "MATLAB contract", "45 Concurrent, term until 2027-12-31", "2026-01-01"),
    ]
    assert rows[2].id == products["MATLAB"][1]
    july = Finding(FindingKind.GRANTS_UNDER, finding.product_id, "", "", None, 5, "")
    assert "(expired on the date)" in admin.position.finding_rows(july, JUL, 90)[1].detail


def test_a_newer_import_for_the_server_replaces_its_grants(
    admin: Services, products: dict[str, tuple[int, int]], tmp_path: Path
) -> None:
    other = import_grants(admin, FIXTURES / "expires_before_vendor.txt", "27001@lic02")
    assert other.inserted == 6
    lines = TWO_DAEMONS.read_text().splitlines(keepends=True)
    newer = tmp_path / "lic01-december.txt"
    # Lines 1 to 9 as they were; MATLAB now 45 on one line, Simulink's line 12 unchanged.
    newer.write_text(
        "".join(lines[:9])
        + "MATLAB                           52           45          MLM           31-dec-2027\n"
        + lines[11]
    )
    result = import_grants(admin, newer, "27000@LIC01")  # the same server, as typed
    # 2 rows: MATLAB 45 is new, Simulink 15 as before; the other 7 of the 8 are gone.
    assert (result.rows, result.inserted, result.unchanged, result.removed) == (2, 1, 1, 7)
    assert "7 no longer present" in result.summary()
    with admin.ctx.read() as session:
        per_server = dict(
            session.execute(
                select(LicenseGrant.server, func.count()).group_by(LicenseGrant.server)
            ).all()
        )
    assert per_server == {"27000@LIC01": 2, "27001@lic02": 6}
    assert license_findings(admin, JAN) == [
        # MATLAB 45 and 45: agreed.  Signal Toolbox and Seismic: no license file names them.
        (
            FindingKind.GRANTS_UNDER,
            "Simulink",
            5,
            "the license files grant 15 on the date, the purchases in term 20: 5 paid for but "
            "not issued",
        ),
    ]


def test_grants_of_two_servers_add_up(admin: Services, tmp_path: Path) -> None:
    bought(admin, "MATLAB", "MATLAB", 60, dt.date(2027, 12, 31))
    import_grants(admin, TWO_DAEMONS, "27000@lic01")  # 40 + 10
    copy = tmp_path / "lic02.txt"
    lines = TWO_DAEMONS.read_text().splitlines(keepends=True)
    copy.write_text("".join(lines[:10]))  # line 10 alone: 40 until 2027-12-31
    import_grants(admin, copy, "27000@lic02")
    # 40 + 10 on lic01, 40 on lic02: 90 against 60 bought, 30 more.
    assert license_findings(admin, JAN) == [
        (
            FindingKind.GRANTS_OVER,
            "MATLAB",
            30,
            "the license files grant 90 on the date, the purchases in term 60: 30 more can be "
            "issued than were bought",
        )
    ]


def test_reconcile_prints_the_finding(
    admin: Services,
    products: dict[str, tuple[int, int]],
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    capsys.readouterr()
    assert cli.main(["reconcile", "--as-of", JAN.isoformat(), "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert (
        "  License file grants more       Vendor of MATLAB MATLAB: the license files grant 50"
        in out
    )
    assert "  License file grants fewer      Vendor of Simulink Simulink: the license" in out
    assert "  License file expiry differs    Vendor of Signal Toolbox Signal Toolbox" in out
    assert cli.main(["reconcile", "--as-of", "2027-01-15", "--format", "json", "--db", db_url]) == 0
    kinds = [f["kind"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert [k for k in kinds if k.startswith("license_file")] == [
        "license_file_over",
        "license_file_under",
        "license_file_expiry",
    ]
