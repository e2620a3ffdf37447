"""SeatLedger's own lmstat fixtures, modelled on real servers' output: read exactly, or refused.

The files are in ``tests/data/lmstat`` (its README says which trait of real ``lmutil lmstat``
output each reproduces).  They were written for SeatLedger; every figure asserted here was counted
by hand from the file, not taken from SeatLedger's own output, with the arithmetic in the
comments.  A file SeatLedger cannot read must be refused by file, line and field with a non-zero
exit status and nothing imported, never imported wrongly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.conftest import PASSWORD

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest import flexlm
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import Problem, sniff
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services

FIXTURES = Path(__file__).parents[1] / "data" / "lmstat"


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.txt"


def read(name: str) -> tuple[flexlm.Snapshot, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    snapshot, records = flexlm.read_lmstat(sniff(fixture(name)), problems)
    return snapshot, list(records), problems


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Counted:
    """What a person counted in one fixture."""

    name: str
    taken: dt.datetime
    servers: tuple[str, ...]
    features: dict[str, tuple[int | None, int]]  # every heading: (issued or None, in use)
    sessions: dict[str, int]  # checkout lines under each feature
    licenses: int  # licenses the checkout lines hold (", N licenses", else 1 each)
    users: int  # distinct user names
    hosts: int  # distinct hosts
    read_as: dict[int, tuple[str, str]] = field(default_factory=dict)  # line -> (user, host)
    notes: tuple[str, ...] = ()


COMPLETE = [
    # v11.7 triad, lmutil of 2006: 5 headings, 3 with checkouts.
    Counted(
        "v11_7_triad_reservations",
        _utc(2026, 6, 9, 14, 25),
        (
            "27010@fea-lic-a.corp.example",
            "27010@fea-lic-b.corp.example",
            "27010@fea-lic-c.corp.example",
        ),
        features={
            # solver_core: checkouts 16 + 16 + 32 + 8 + 8 + 6 + 1 = 87, tab-indented
            # reservations 20 + 6 + 4 = 30 (lines 22, 23 and 26, between checkouts): 117.
            "solver_core": (400, 117),
            "solver_pre": (25, 3),
            "solver_post": (25, 0),
            "solver_mesh_adv": (1, 1),  # "1 license issued", "1 license in use"
            "solver_hpc_pack": (1, 0),
        },
        sessions={"solver_core": 7, "solver_pre": 3, "solver_mesh_adv": 1},
        licenses=91,  # 87 + 3 + 1
        # kovalenko, mbaptiste, tnakamura, olsen, rfaulkner, ehalvorsen
        users=6,
        # wkst-0412, wkst-0413, HPCNODE017, wkst-0520, wkst-0521, wkst-0388, wkst-0601 (core);
        # wkst-0377 (pre): 7 + 1
        hosts=8,
        read_as={24: ("kovalenko", "wkst-0412"), 28: ("tnakamura", "wkst-0520")},
    ),
    # v11.14 triad, two vendor daemons (geod, GEOLEGACY), a January snapshot: 7 headings, 4 in
    # use.
    Counted(
        "v11_14_two_daemons_new_year",
        _utc(2026, 1, 12, 9, 5),
        ("2088@geo-lic1", "2088@geo-lic2", "2088@geo-lic3"),
        features={
            "geo_viewer": (3, 0),
            "geo_modeler": (1, 1),
            "geo_seismic": (40, 9),
            "geo_batch": (50, 12),  # one checkout of ", 12 licenses"
            "geo_plot": (25, 0),
            "geo_import": (2, 2),
            "geo_export": (2, 0),
        },
        sessions={"geo_modeler": 1, "geo_seismic": 9, "geo_batch": 1, "geo_import": 2},
        licenses=24,  # 1 + 9 + 12 + 2
        # PDIALLO, lmarsh, qwright, svega, ajohansson, nkipkemboi, tbergstrom
        users=7,
        # GDW-PC0031, gws-114, gws-115, gws-201, gws-077, GDW-PC0044, gws-090 (seismic), gws-133
        # (import): 7 + 1
        hosts=8,
        # A display unlike its host (GDW-VDI0107) is the display, not the host.
        read_as={25: ("PDIALLO", "GDW-PC0031"), 56: ("tbergstrom", "gws-133")},
    ),
    # v11.19.7, one vendor daemon: 6 headings; NUMERIX and NUMERIX_SIM each list three license
    # pools (nodelocked v12 with a reservation, nodelocked v53, floating v52).
    Counted(
        "v11_19_7_license_pools",
        _utc(2026, 3, 4, 15, 40),
        ("27005@NMX-SRV02",),
        features={
            "NUMERIX": (60, 9),  # 5 nodelocked + 3 floating checkouts + 1 reservation
            "NUMERIX_SIM": (40, 4),  # 2 + 1 + 1 reservation
            "Signal_Kit": (10, 1),
            "Stats_Kit": (12, 0),
            "Report_Kit": (None, 0),  # (Uncounted, node-locked), no line under it
            "Parallel_Kit": (2, 1),  # its reservation alone, no checkout
        },
        sessions={"NUMERIX": 8, "NUMERIX_SIM": 3, "Signal_Kit": 1},
        licenses=12,  # 8 + 3 + 1
        users=7,  # aokafor, bfontaine, cmoreau, dsato, ewilde, fgarcia, gmensah
        # ENG-LT-2231, -2240, -2198, -2305, -2311, ENG-WS-0077, -0081, -0090 (NUMERIX); the
        # others' checkouts are on those hosts.
        hosts=8,
        # cmoreau's display ENG-VDI-004 is not a host; aokafor on two hosts.
        read_as={37: ("cmoreau", "ENG-LT-2198"), 53: ("aokafor", "ENG-WS-0090")},
    ),
    # v11.19.7, ", PID: N" (with a trailing space on lines 21-24), no display on lines 23, 24 and
    # 34, a word after a display named after the host on lines 21 and 22.
    Counted(
        "v11_19_7_pid_host_displays",
        _utc(2026, 3, 11, 9, 12),
        ("27031@EDA-LIC7",),
        features={"rtl_sim_pro": (8, 4), "rtl_lint": (4, 2), "rtl_cov": (2, 0)},
        sessions={"rtl_sim_pro": 4, "rtl_lint": 2},
        licenses=6,
        users=3,  # hfischer, ipetrova, jcohen
        hosts=3,  # build-02, build-05, build-07
        read_as={
            21: ("hfischer", "build-02"),
            22: ("hfischer", "build-02"),
            23: ("ipetrova", "build-05"),
            33: ("jcohen", "build-07"),
        },
    ),
    # Windows server, v11.19.6: 6 headings; an uncounted node-locked feature with a checkout.
    Counted(
        "windows_uncounted",
        _utc(2026, 5, 14, 16, 22),
        ("1719@LICVM-PHYS01",),
        features={
            "MPX_SERIAL": (None, 0),
            "MPX_CORE": (4, 2),
            "MPX_CORE_BATCH": (4, 0),
            "MPX_THERMAL": (2, 1),
            "MPX_THERMAL_BATCH": (2, 0),
            "MPX_WAVES": (1, 0),
        },
        sessions={"MPX_SERIAL": 1, "MPX_CORE": 2, "MPX_THERMAL": 1},
        licenses=4,
        users=2,  # kdubois, lnguyen
        hosts=2,  # PHYS-WS-12, PHYS-LT-03
        read_as={22: ("kdubois", "PHYS-WS-12"), 41: ("lnguyen", "PHYS-LT-03")},
    ),
    # Windows server, v11.12, listed twice (CADLIC-W2, cadlic-w2) under one status line.
    Counted(
        "windows_v11_12",
        _utc(2026, 4, 13, 8, 10),
        ("7790@CADLIC-W2",),
        features={"CAD_DESIGNER": (6, 3), "CAD_DRAFT": (10, 0), "CAD_RENDER": (2, 1)},
        sessions={"CAD_DESIGNER": 3, "CAD_RENDER": 1},
        licenses=4,
        users=3,  # mroux, nabara, posei
        hosts=3,  # DSN-PC-041, DSN-PC-017, DSN-PC-022
        read_as={22: ("nabara", "DSN-PC-017")},
    ),
    # v11.13 triad with flx-c unreachable (line 9): the other two servers' features add up.
    Counted(
        "server_down_one_of_three",
        _utc(2026, 2, 20, 10, 47),
        ("28100@flx-a", "28100@flx-b", "28100@flx-c"),
        features={"lens_design": (20, 0), "lens_tolerance": (20, 3), "stray_light": (5, 0)},
        sessions={"lens_tolerance": 3},
        licenses=3,
        users=2,  # uokoro (twice on opt-ws-31), vrasmussen
        hosts=2,  # opt-ws-31, opt-ws-08
        notes=(
            'line 9: flx-c: Cannot connect to license server system. (-15,570:111 "Connection '
            "refused\"); that server's features are not in this snapshot",
        ),
    ),
]


@pytest.mark.parametrize("counted", COMPLETE, ids=lambda c: c.name)
def test_a_complete_fixture_is_read_with_the_figures_counted_by_hand(counted: Counted) -> None:
    snapshot, records, problems = read(counted.name)
    assert problems == []
    assert snapshot.notes == counted.notes
    assert snapshot.taken_at == counted.taken
    assert snapshot.servers == counted.servers
    assert snapshot.features == counted.features
    assert Counter(r.feature for r in records) == counted.sessions
    assert sum(r.units for r in records) == counted.licenses
    assert len({r.user for r in records}) == counted.users
    assert len({r.host for r in records}) == counted.hosts
    by_line = {r.line: (r.user, r.host) for r in records}
    for line, who in counted.read_as.items():
        assert by_line[line] == who, line
    # Every checkout's start is on or before the snapshot (no year rolled wrongly).
    assert all(r.checkout <= counted.taken for r in records)


def test_checkouts_of_december_in_a_january_snapshot_are_of_the_year_before() -> None:
    _, records, _ = read("v11_14_two_daemons_new_year")
    starts = {r.line: r.checkout for r in records}
    # Snapshot Mon 1/12/2026 9:05; line 33 "start Mon 12/29 16:02", line 34 "Wed 12/31 10:20"
    # (both weekdays of 2025), line 35 "Fri 1/9 7:55".
    assert starts[33] == _utc(2025, 12, 29, 16, 2)
    assert starts[34] == _utc(2025, 12, 31, 10, 20)
    assert starts[35] == _utc(2026, 1, 9, 7, 55)
    # The second vendor daemon's feature is that daemon's.
    assert {r.publisher for r in records if r.feature == "geo_import"} == {"GEOLEGACY"}
    assert {r.publisher for r in records if r.feature != "geo_import"} == {"geod"}


def test_the_licenses_of_each_checkout_are_read() -> None:
    _, records, _ = read("v11_7_triad_reservations")
    core = [(r.line, r.units) for r in records if r.feature == "solver_core"]
    # Lines 24-31: ", 16 licenses" twice, ", 32 licenses", ", 8 licenses" twice, ", 6 licenses"
    # and a line with no count (one license).
    assert core == [(24, 16), (25, 16), (27, 32), (28, 8), (29, 8), (30, 6), (31, 1)]


# ----------------------------------------------------------------- through the command line


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line acts as the ``admin`` fixture's administrator."""
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("counted", COMPLETE, ids=lambda c: c.name)
def test_a_complete_fixture_is_imported_by_the_command_line(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], counted: Counted
) -> None:
    path = fixture(counted.name)
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 0, err
    rows = sum(counted.sessions.values())
    assert f"{path.name}: {rows} rows, {rows} new, 0 updated, 0 unchanged." in out
    # Nobody is in the directory: every user name is unknown, each counted once.
    assert f"{counted.users} user names match no person" in out
    for note in counted.notes:
        assert f"  {note}" in out
    # The same file again adds nothing.
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 0, err
    assert f"{path.name} was imported before (same SHA-256); nothing changed." in out
    assert len(admin.imports.history()) == 1


@dataclass(frozen=True)
class Peak:
    fixture: str
    as_of: str
    feature: str
    issued: int
    needed: int  # the concurrent peak counted by hand


PEAKS = [
    # All 7 checkouts open at 14:25 (the oldest since Thu 6/4 9:31): 16 + 16 + 32 + 8 + 8 + 6
    # + 1 = 87 licenses at once.  The 30 reserved of the 117 "in use" are held by no checkout.
    Peak("v11_7_triad_reservations", "2026-06-09", "solver_core", 400, 87),
    # 9 checkouts from Mon 12/29/2025 16:02 to Mon 1/12 8:59, all open at 9:05.
    Peak("v11_14_two_daemons_new_year", "2026-01-12", "geo_seismic", 40, 9),
    # One checkout of 12 licenses since Sat 1/10 22:15.
    Peak("v11_14_two_daemons_new_year", "2026-01-12", "geo_batch", 50, 12),
    # 5 nodelocked + 3 floating checkouts, Tue 3/3 16:55 to Wed 3/4 15:12, open at 15:40: 8
    # (the 9th "in use" is the reservation for GROUP CAMPUSLAB).
    Peak("v11_19_7_license_pools", "2026-03-04", "NUMERIX", 60, 8),
    # hfischer twice on build-02 (Tue 3/10 21:40, Wed 3/11 7:58), ipetrova twice on build-05
    # (8:30, 8:31): a license per process, 4 open at 9:12.
    Peak("v11_19_7_pid_host_displays", "2026-03-11", "rtl_sim_pro", 8, 4),
    # kdubois since 15:51 and lnguyen since 9:05, both open at 16:22.
    Peak("windows_uncounted", "2026-05-14", "MPX_CORE", 4, 2),
    # nabara since Fri 4/10 15:20, mroux 7:31, posei 8:02: 3 open at 8:10.
    Peak("windows_v11_12", "2026-04-13", "CAD_DESIGNER", 6, 3),
    # uokoro twice (9:12, 9:40) and vrasmussen since Thu 2/19 14:03: 3 at 10:47.
    Peak("server_down_one_of_three", "2026-02-20", "lens_tolerance", 20, 3),
]


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("peak", PEAKS, ids=lambda p: f"{p.fixture}-{p.feature}")
def test_the_concurrent_peak_reconciled_is_the_one_counted_by_hand(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], peak: Peak
) -> None:
    vendor = admin.catalog.add_vendor("Publisher")
    product = admin.catalog.add_product(vendor, peak.feature)
    admin.rules.add(RuleInput(product, peak.feature))
    # Bought as issued by the server (the term covers the snapshot).
    admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.CONCURRENT, peak.issued, term_start=dt.date(2010, 1, 1))
    )
    code, _, err = _run(capsys, "import", "usage", str(fixture(peak.fixture)), "--db", db_url)
    assert code == 0, err
    args = ("reconcile", "--as-of", peak.as_of, "--format", "json", "--db", db_url)
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    rows = [r for r in json.loads(out)["rows"] if r["product_id"] == product]
    assert [(r["metric"], r["owned"], r["needed"]) for r in rows] == [
        ("concurrent", peak.issued, peak.needed)
    ]


# ----------------------------------------------------------------------------- refused


@dataclass(frozen=True)
class Refused:
    name: str
    code: int
    said: tuple[str, ...]  # in what the command line prints, each after the file's name


REFUSED = [
    # NUMERIX (line 14) says 12 in use and lists 7 checkouts of one license each; NUMERIX_SIM
    # (line 29) says 4 and lists 2.
    Refused(
        "refused_counts_do_not_match",
        1,
        (
            "line 14, in use: says 12 licenses of NUMERIX are in use but its lines hold 7",
            "line 29, in use: says 4 licenses of NUMERIX_SIM are in use but its lines hold 2",
        ),
    ),
    # lens_tolerance (line 18) says 14 in use; the file ends after its "floating license" line.
    Refused(
        "refused_cut_after_heading",
        1,
        ("line 18, in use: says 14 licenses of lens_tolerance are in use but its lines hold 0",),
    ),
    # The file ends inside line 27's start time ("start Wed 3/4 15:1"), with no line end.
    Refused(
        "refused_cut_mid_line",
        1,
        ("line 27, line: is cut off: the file ends in the middle of it",),
    ),
    # The port redacted as the word "port": the status line (5) and the three checkout lines
    # (21, 22, 30) are not lines lmstat writes.
    Refused(
        "refused_redacted_port",
        1,
        (
            "line 5, server: names the port 'port', not its number",
            *(f"line {n}, checkout: is not a whole checkout line" for n in (21, 22, 30)),
        ),
    ),
    # The servers' status, no "Users of" block.
    Refused("refused_status_only_windows", 1, ("file: no 'Users of FEATURE:' block",)),
    # 'lmutil lmstat -v': the version, no status.
    Refused(
        "refused_lmstat_v_flexera",
        2,
        ("is FlexNet 'lmutil' output with no status of the license server",),
    ),
    Refused(
        "refused_lmstat_v_macrovision",
        2,
        ("is FlexNet 'lmutil' output with no status of the license server",),
    ),
]


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("refused", REFUSED, ids=lambda r: r.name)
def test_an_inconsistent_fixture_is_refused_by_file_line_and_field(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], refused: Refused
) -> None:
    path = fixture(refused.name)
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 1, (out, err)  # refused by line (.code 1) or whole (2): exit 1 either way
    printed = out + err
    for said in refused.said:
        assert f"{path.name}{',' if refused.code == 1 else ''} {said}" in printed, printed
    if refused.code == 1:
        assert "nothing was imported" in printed
        assert printed.count(f"  {path.name}, ") == len(refused.said)  # no other problem
    assert admin.imports.history() == []


@pytest.mark.usefixtures("signed_in")
def test_a_one_off_snapshot_does_not_keep_its_checkouts_open_for_ever(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13, defect 3: one snapshot of Mon 4/13/2026 8:10 (nabara, mroux, posei hold
    CAD_DESIGNER) and none after.  On its day the peak is 3; in a 90-day window that opens
    after it (as of 2026-08-01: May 3 to Aug 1) each checkout ended at its last sighting, more
    than the sampling interval (a day) before, so the peak is 0, not 3 for ever."""
    vendor = admin.catalog.add_vendor("Publisher")
    product = admin.catalog.add_product(vendor, "CAD_DESIGNER")
    admin.rules.add(RuleInput(product, "CAD_DESIGNER"))
    admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.CONCURRENT, 6, term_start=dt.date(2010, 1, 1))
    )
    code, _, err = _run(capsys, "import", "usage", str(fixture("windows_v11_12")), "--db", db_url)
    assert code == 0, err
    needed = {}
    for as_of in ("2026-04-13", "2026-08-01"):
        args = ("reconcile", "--as-of", as_of, "--format", "json", "--db", db_url)
        code, out, err = _run(capsys, *args)
        assert code == 0, err
        (row,) = [r for r in json.loads(out)["rows"] if r["product_id"] == product]
        needed[as_of] = row["needed"]
    assert needed == {"2026-04-13": 3, "2026-08-01": 0}
