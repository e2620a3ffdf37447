"""SeatLedger's own rlmstat fixtures, modelled on real servers' output: read exactly, or refused.

The files are in ``tests/data/rlm`` (its README says which trait of real ``rlmutil rlmstat -a``
output each reproduces and where it was seen).  Every figure asserted here was counted by hand
from the file, with the arithmetic in the comments.  A file SeatLedger cannot read must be refused
by file, line and field with a non-zero exit status and nothing imported, never imported wrongly.
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
from seatledger.ingest import rlm
from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services

FIXTURES = Path(__file__).parents[1] / "data" / "rlm"


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.txt"


def read(name: str) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    snapshot, records = rlm.read_rlmstat(sniff(fixture(name)), problems)
    return snapshot, list(records), problems


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Counted:
    """What a person counted in one fixture."""

    name: str
    taken: dt.datetime  # the latest "Statistics" init time plus the time counted
    servers: tuple[str, ...]
    features: dict[str, tuple[int | None, int]]  # per product: (count or None, inuse), all pools
    sessions: dict[str, int]  # sessions read per product
    licenses: int  # licenses the sessions hold
    users: int
    hosts: int
    read_as: dict[int, tuple[str, str]] = field(default_factory=dict)  # line -> (user, host)
    notes: tuple[str, ...] = ()


COMPLETE = [
    # RLM v12.2, tab-indented, one ISV (cfdcorp), no pool numbers; LF.
    Counted(
        "v12_2_one_isv",
        # cfdcorp's "Recent Statistics (00:12:25), init time: Tue Dec  1 10:02:13 2026" (rlm's own
        # says 10:02:12 + 00:12:25 = 10:14:37, a second earlier).
        _utc(2026, 12, 1, 10, 14, 38),
        ("5053@cfd-lic01",),
        features={"flowsim": (40, 7), "flowsim_gui": (10, 2), "meshgen": (5, 0)},
        # flowsim: rkhan 4/0, Ann Lee 1/0, mtorres twice in the same minute (handles 20e and 20f,
        # counted as two: 4 + 1 + 1 + 1 = 7 in use); flowsim_gui: Ann Lee and mtorres.
        sessions={"flowsim": 4, "flowsim_gui": 2},
        licenses=9,  # 7 + 2
        users=3,  # rkhan, Ann Lee, mtorres
        hosts=3,  # cfd-hpc-03, cfd-ws-07, cfd-ws-11
        read_as={62: ("Ann Lee", "cfd-ws-07"), 64: ("mtorres", "cfd-ws-11")},
    ),
    # rlmutil v15.2 against RLM v15.1 on Windows (CRLF): two ISVs, pool numbers, one product
    # and version in two pools, shared checkouts.
    Counted(
        "v15_2_two_isvs_windows",
        _utc(2026, 3, 12, 10, 42, 57),  # rendr: 10:00:05 + 00:42:52
        ("4101@VFX-LIC01",),
        features={
            # pools 1, 3 and 4: count 4 + 2 + 6, inuse 2 + 1 + 3.
            "compositor_i": (12, 6),
            "compositor_r": (30, 0),
            "viewer_i": (10, 0),
            "farmnode": (50, 12),
            "gui": (5, 1),
        },
        # compositor_i v2026.0301: 7 lines, inuse 2 + 3 = 5: jwu's two (lines 69, 70) and
        # mokafor's two (73, 74) each share a license; 5 sessions, and oreyes's of v2025.0901.
        sessions={"compositor_i": 6, "farmnode": 2, "gui": 1},
        licenses=19,  # 6 + 8 + 4 + 1
        users=7,  # jwu, kbrandt, lsilva, mokafor, npatel, oreyes, render
        # VFX-WS-021, -034, -040, -017, -009, VFX-LT-112, VFX-FARM-01, -02 (gui is on -034).
        hosts=8,
        read_as={73: ("mokafor", "VFX-WS-017"), 115: ("render", "VFX-FARM-01")},
        notes=(
            "lines 69, 70: 2 checkouts of compositor_i v2026.0301 by jwu@VFX-WS-021 share 1 "
            "license, as its pool counts them: read as one session (handle 3c1)",
            "lines 73, 74: 2 checkouts of compositor_i v2026.0301 by mokafor@VFX-WS-017 share 1 "
            "license, as its pool counts them: read as one session (handle 3e4)",
        ),
    ),
    # RLM v14.2, space-indented; a January snapshot with December checkouts; reserved licenses
    # ("1/1") and a token-based pool.
    Counted(
        "v14_2_reservations_new_year",
        _utc(2027, 1, 5, 9, 20, 42),  # 09:15:31 + 00:05:11
        ("5053@gis-lic.geo.example",),
        features={
            "planner": (12, 5),  # 2 reservations; in use 1 + 1 + 2 + 1, two of them reserved
            "planner_3d": (3, 1),
            "export": (20, 0),
            "planner_suite": (None, 0),  # "Token-based license": no count
        },
        sessions={"planner": 4, "planner_3d": 1},
        licenses=6,  # 5 + 1
        users=4,  # ecole, fhansen, gdiaz, Iris Quinn
        hosts=4,  # gis-ws-14, -02, -05, -09
        read_as={65: ("Iris Quinn", "gis-ws-09")},
    ),
    # 'rlmutil rlmstat -c 5053@HOST -a -i ISV' of RLM v15.1 (CRLF, space-indented): no status
    # of rlm, nothing in use, and no usage status after the pools, as rlmstat prints it then.
    Counted(
        "v15_1_isv_only_nothing_in_use",
        _utc(2026, 6, 7, 10, 13, 42),  # 10:10:32 + 00:03:10
        ("5053@sim-lic.campus.example",),  # the server "Setting license file path to" names
        features={},  # a file cut after a pool would look the same: they close nothing
        sessions={},
        licenses=0,
        users=0,
        hosts=0,
        notes=(
            "line 28: the pool status of simwerk ends the file with nothing in use, as rlmstat "
            "prints it then, and as a file cut there would look: its products close no checkout "
            "an earlier snapshot saw",
        ),
    ),
    # RLM v13.1: rlm's ISV table says acoustx is not running; structa answers.
    Counted(
        "isv_down_one_of_two",
        _utc(2026, 6, 16, 8, 53, 47),  # 06:12:40 + 02:41:07
        ("5053@fea-rlm01",),
        features={"structa_solver": (8, 3), "structa_pre": (4, 1)},
        sessions={"structa_solver": 2, "structa_pre": 1},
        licenses=4,  # 2 + 1 + 1
        users=2,  # pvarga, qlindqvist
        hosts=2,  # fea-hpc-02, fea-ws-18
        notes=(
            "line 19: rlm lists the ISV server acoustx as not running; its licenses are not in "
            "this snapshot",
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
    assert all(r.checkout <= counted.taken for r in records)
    # Every checkout is the rlm server's, named as its status line names it, with a handle.
    (server,) = counted.servers
    port, _, host = server.partition("@")
    assert {r.server for r in records} <= {f"{host}/{port}"}
    assert all(r.handle for r in records)


def test_checkouts_of_december_in_a_january_snapshot_are_of_the_year_before() -> None:
    _, records, _ = read("v14_2_reservations_new_year")
    starts = {r.line: r.checkout for r in records}
    # Snapshot Tue 1/5/2027 09:20: "12/30 16:40" and "12/31 09:12" are of 2026, "01/04 13:18"
    # of 2027.
    assert starts[62] == _utc(2026, 12, 30, 16, 40)
    assert starts[63] == _utc(2026, 12, 31, 9, 12)
    assert starts[64] == _utc(2027, 1, 4, 13, 18)
    assert {r.publisher for r in records} == {"geoplan"}


def test_the_second_isv_is_the_publisher_of_its_products() -> None:
    _, records, _ = read("v15_2_two_isvs_windows")
    assert {r.publisher for r in records if r.feature in ("farmnode", "gui")} == {"rendr"}
    assert {r.publisher for r in records if r.feature == "compositor_i"} == {"vfxworks"}
    # mokafor's shared pair (09:15 handle 3e4, 09:16 handle 3e9) is one session from 09:15.
    (mokafor,) = [r for r in records if r.user == "mokafor"]
    assert (mokafor.checkout, mokafor.handle) == (_utc(2026, 3, 12, 9, 15), "3e4")


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
    assert f"{path.name}: Reprise RLM rlmstat -a;" in out
    rows = sum(counted.sessions.values())
    assert f"{path.name}: {rows} rows, {rows} new, 0 updated, 0 unchanged." in out
    if counted.users:
        assert f"{counted.users} user names match no person" in out
    for note in counted.notes:
        assert f"  {note}" in out
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
    # rkhan's 4 since Mon 11/30 18:22, Ann Lee since 8:47, mtorres twice since 9:05: 7 at 10:14.
    Peak("v12_2_one_isv", "2026-12-01", "flowsim", 40, 7),
    # jwu, kbrandt, lsilva, mokafor, npatel (v2026.0301, the shared pairs once each) and oreyes
    # (v2025.0901), all open at 10:42: 6, as the pools say (2 + 3 + 1).
    Peak("v15_2_two_isvs_windows", "2026-03-12", "compositor_i", 12, 6),
    # 8 + 4 on the render farm since 02:10.
    Peak("v15_2_two_isvs_windows", "2026-03-12", "farmnode", 50, 12),
    # ecole since Wed 12/30, fhansen since Thu 12/31, gdiaz 2 since Mon 1/4, Iris Quinn since
    # 8:58: 1 + 1 + 2 + 1 at 9:20.
    Peak("v14_2_reservations_new_year", "2027-01-05", "planner", 12, 5),
    # pvarga's 2 since 7:03 and qlindqvist since 8:47.
    Peak("isv_down_one_of_two", "2026-06-16", "structa_solver", 8, 3),
]


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("peak", PEAKS, ids=lambda p: f"{p.fixture}-{p.feature}")
def test_the_concurrent_peak_reconciled_is_the_one_counted_by_hand(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], peak: Peak
) -> None:
    vendor = admin.catalog.add_vendor("Publisher")
    product = admin.catalog.add_product(vendor, peak.feature)
    admin.rules.add(RuleInput(product, peak.feature))
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
    # flowsim (count line 17) says 7 in use, its lines hold 4 + 1; flowsim_gui (20) 2 and 1.
    Refused(
        "refused_counts_do_not_match",
        1,
        (
            "line 17, inuse: says 7 licenses of flowsim v5.0 are in use but its lines hold 5",
            "line 20, inuse: says 2 licenses of flowsim_gui v5.0 are in use but its lines hold 1",
        ),
    ),
    # The Windows two-ISV file ending inside line 74's handle ("(handle: 3e"), no line end.
    Refused(
        "refused_cut_mid_line", 1, ("line 74, line: is cut off: the file ends in the middle of it",)
    ),
    # The reservations file ending after planner_3d's count line (49): the pool status ends
    # the file with 5 and 1 licenses in use, and none of their checkouts.
    Refused(
        "refused_pools_end_the_file",
        1,
        (
            "line 46, inuse: says 5 licenses of planner v2026.2 are in use but its lines hold 0",
            "line 49, inuse: says 1 license of planner_3d v2026.2 is in use but its lines hold 0",
        ),
    ),
    # Handle 15a on lines 26 and 28 (29 and 37 licenses): edited.
    Refused("refused_duplicate_handle", 1, ("line 28, handle: is the handle of line 26 too",)),
    # rlmutil could not reach rlm: no snapshot at all.
    Refused("refused_rlm_down", 2, ("line 6: rlmstat could not reach the license server",)),
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


def test_rlmstat_output_offered_as_purchases_is_named_as_usage(
    admin: Services,
) -> None:
    with pytest.raises(ImportFileError, match=r"^v12_2_one_isv\.txt is Reprise RLM 'rlmutil"):
        admin.imports.preview(fixture("v12_2_one_isv"), ImportOptions(Kind.ENTITLEMENTS))
