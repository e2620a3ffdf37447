"""rlmstat snapshots are read exactly or refused by line: dated by rlm's statistics, cut files,
shared and distinct checkouts, user names with spaces, and the sessions two snapshots close."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from seatledger.ingest import rlm
from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import PositionService
from seatledger.store.models import UsageSession

FIXTURES = Path(__file__).parents[1] / "data" / "rlm"

# rlm's own status, dated by its statistics: 10:02:12 + 00:12:25 = 10:14:37 on Tue 3 Mar 2026.
HEAD = """rlmutil v12.4
Copyright (C) 2006-2018, Reprise Software, Inc. All rights reserved.

\trlm status on lic01 (port 5053), up 2d 01:00:00
\tStartup time: Sun Mar  1 09:14:37 2026
\tRecent Statistics (00:12:25), init time: Tue Mar  3 10:02:12 2026

\t------------------------

\tacme license pool status on lic01 (port 40001)

"""


def read(
    tmp_path: Path, text: str, name: str = "rlm.txt"
) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    problems: list[Problem] = []
    snapshot, records = rlm.read_rlmstat(sniff(path), problems)
    return snapshot, list(records), problems


def pools(*pools: tuple[str, int, int]) -> str:
    """Pool status lines: (product, count, in use) each, version v1.0."""
    return "".join(
        f"\t{product} v1.0\n"
        f"\t\tcount: {count}, # reservations: 0, inuse: {in_use}, exp: 31-dec-2026\n"
        "\t\tobsolete: 0, min_remove: 120, total checkouts: 9\n"
        for product, count, in_use in pools
    )


USAGE = "\n\n\t------------------------\n\n\tacme license usage status on lic01 (port 40001)\n\n"


@pytest.mark.slow
def test_a_snapshot_cut_at_any_byte_is_refused_or_holds_only_whole_blocks(
    tmp_path: Path,
) -> None:
    """Cut anywhere, a snapshot either is refused or is exactly the whole ISV blocks before the cut.

    A product it lists is one whose pools and checkouts it holds whole (so closing the sessions
    an earlier snapshot saw of it is right); a product it does not list closes nothing.
    """
    data = (FIXTURES / "v15_2_two_isvs_windows.txt").read_bytes()
    full, full_records, problems = read(tmp_path, data.decode())
    assert problems == []
    by_feature: dict[str, list[UsageRecord]] = {}
    for record in full_records:
        by_feature.setdefault(record.feature, []).append(record)
    accepted: set[frozenset[str]] = set()
    for cut in range(len(data)):
        try:
            snapshot, records, problems = read(tmp_path, data[:cut].decode())
        except ImportFileError:
            continue
        if problems:
            continue
        accepted.add(frozenset(snapshot.features))
        for feature, counts in snapshot.features.items():
            assert counts == full.features[feature], (cut, feature)
            assert [r for r in records if r.feature == feature] == by_feature.get(feature, []), (
                cut,
                feature,
            )
        assert {r.feature for r in records} <= set(snapshot.features), cut
    # Accepted: the first ISV server alone (cut after its checkouts) and both.
    assert accepted == {
        frozenset({"compositor_i", "compositor_r", "viewer_i"}),
        frozenset(full.features),
    }


def test_the_snapshot_is_dated_by_the_statistics_rlm_prints(tmp_path: Path) -> None:
    text = HEAD + pools(("solver", 5, 1)) + USAGE
    text += "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 41)\n"
    snapshot, records, problems = read(tmp_path, text)
    assert problems == []
    # 10:02:12 + 12 min 25 s; the checkout's year is the snapshot's.
    assert snapshot.taken_at == dt.datetime(2026, 3, 3, 10, 14, 37, tzinfo=dt.UTC)
    assert snapshot.servers == ("5053@lic01",)
    assert snapshot.features == {"solver": (5, 1)}
    assert [(r.user, r.host, r.checkout, r.server, r.handle, r.publisher) for r in records] == [
        ("ann", "ws-1", dt.datetime(2026, 3, 3, 9, 14, tzinfo=dt.UTC), "lic01/5053", "41", "acme")
    ]


def test_output_without_statistics_is_refused_as_undated(tmp_path: Path) -> None:
    # 'rlmstat -i ISV' prints the checkouts alone: nothing says when they were seen.
    text = (
        "rlmstat v14.2\nCopyright (C) 2006-2021, Reprise Software, Inc. All rights reserved.\n"
        "------------------------\n"
        "demo license usage status on jsmith (port 27001)\n"
        "floatserver v21.0: jsmith@jsmith 1/0 at 05/20 13:41 (handle: 41)\n"
    )
    with pytest.raises(ImportFileError, match=r"rlm\.txt has no line 'Recent Statistics"):
        read(tmp_path, text)


def test_a_server_rlmstat_could_not_reach_is_no_snapshot(tmp_path: Path) -> None:
    text = (
        "rlmutil v12.2\nCopyright (C) 2006-2017, Reprise Software, Inc. All rights reserved.\n\n"
        'Error connecting to "rlm" server\n\nConnection attempted to host: "lic01" on port 5053\n'
    )
    with pytest.raises(ImportFileError, match=r"line 4: rlmstat could not reach the license"):
        read(tmp_path, text)


def test_two_checkouts_in_the_same_minute_stay_two(tmp_path: Path) -> None:
    text = HEAD + pools(("solver", 5, 2)) + USAGE
    text += "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 41)\n"
    text += "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 42)\n"
    snapshot, records, problems = read(tmp_path, text)
    assert problems == []
    assert snapshot.notes == ()
    assert [(r.user, r.handle, r.units) for r in records] == [("ann", "41", 1), ("ann", "42", 1)]


def test_checkouts_rlm_shares_are_one_session_when_the_pool_counts_them_once(
    tmp_path: Path,
) -> None:
    # ann's two checkouts on ws-1 and bo's on ws-2: "inuse: 2" counts ann's once (a shared
    # license, as RLM lists it: every checkout, the license once).
    text = HEAD + pools(("solver", 5, 2)) + USAGE
    text += "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:20  (handle: 51)\n"
    text += "\tsolver v1.0: bo@ws-2 1/0 at 03/03 09:30  (handle: 52)\n"
    text += "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 4f)\n"
    snapshot, records, problems = read(tmp_path, text)
    assert problems == []
    # One session for ann, from her earliest checkout, under the handle of the first line.
    assert [(r.line, r.user, r.checkout.time(), r.handle, r.units) for r in records] == [
        (21, "ann", dt.time(9, 14), "51", 1),
        (22, "bo", dt.time(9, 30), "52", 1),
    ]
    assert snapshot.notes == (
        "lines 21, 23: 2 checkouts of solver v1.0 by ann@ws-1 share 1 license, as its pool "
        "counts them: read as one session (handle 51)",
    )


def test_reserved_licenses_count_as_in_use_or_not(tmp_path: Path) -> None:
    # "2/1": two licenses, one of them from a reservation.  Whether "inuse" counts the reserved
    # one (3) or not (2), the lines add up; the session holds its two licenses either way.
    lines = (
        "\tsolver v1.0: ann@ws-1 2/1 at 03/03 09:20  (handle: 51)\n"
        "\tsolver v1.0: bo@ws-2 1/0 at 03/03 09:30  (handle: 52)\n"
    )
    for in_use in (3, 2):
        _, records, problems = read(tmp_path, HEAD + pools(("solver", 5, in_use)) + USAGE + lines)
        assert problems == [], in_use
        assert [r.units for r in records] == [2, 1]
    _, _, problems = read(tmp_path, HEAD + pools(("solver", 5, 1)) + USAGE + lines)
    assert [(p.line, p.column, p.value) for p in problems] == [(13, "inuse", "1")]
    assert "its lines hold 3 (1 of them reserved)" in problems[0].reason


def test_user_names_with_spaces_are_whole_and_an_at_sign_is_said(tmp_path: Path) -> None:
    text = HEAD + pools(("solver", 5, 3)) + USAGE
    text += "\tsolver v1.0: Ann Lee@ws-1 1/0 at 03/03 09:14  (handle: 41)\n"
    text += "\tsolver v1.0: Dr. Bo Chen@NW-LT-7 1/0 at 03/03 09:15  (handle: 42) [I: proj7]\n"
    text += "\tsolver v1.0: cy@corp.example@ws-3 1/0 at 03/03 09:16  (handle: 43)\n"
    snapshot, records, problems = read(tmp_path, text)
    assert problems == []
    assert [(r.user, r.host) for r in records] == [
        ("Ann Lee", "ws-1"),
        ("Dr. Bo Chen", "NW-LT-7"),
        ("cy@corp.example", "ws-3"),
    ]
    assert snapshot.notes == (
        "line 23: read as user 'cy@corp.example' on host 'ws-3'; rlmstat does not mark where a "
        "user name holding '@' ends",
    )


def test_a_pool_that_does_not_add_up_is_refused_by_its_line(tmp_path: Path) -> None:
    text = HEAD + pools(("solver", 5, 3), ("viewer", 9, 0)) + USAGE
    text += "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 41)\n"
    text += "\tsolver v1.0: bo@ws-2 1/0 at 03/03 09:15  (handle: 42)\n"
    text += "\tsolver v1.0: cy@ws-3 1/0 at 03/03 09:16  (han"
    _, _, problems = read(tmp_path, text)
    assert [(p.line, p.column) for p in problems] == [(26, "line")]  # said once, as cut
    text = text.rsplit("\n", 1)[0] + "\n"  # the cut line gone: two lines for three in use
    _, _, problems = read(tmp_path, text)
    assert [(p.line, p.column, p.value) for p in problems] == [(13, "inuse", "3")]
    assert problems[0].reason.startswith(
        "says 3 licenses of solver v1.0 are in use but its lines hold 2: the snapshot is cut "
        "short or edited"
    )


def test_a_checkout_of_no_pool_or_a_handle_given_twice_is_refused(tmp_path: Path) -> None:
    text = HEAD + pools(("solver", 5, 1)) + USAGE
    text += "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 41)\n"
    text += "\tsolver v2.0: bo@ws-2 1/0 at 03/03 09:15  (handle: 42)\n"
    text += "\tsolver v1.0: cy@ws-3 1/0 at 03/03 09:16  (handle: 41)\n"
    _, _, problems = read(tmp_path, text)
    assert [(p.line, p.column, p.value) for p in problems] == [
        (22, "product", "solver v2.0"),
        (23, "handle", "41"),
    ]
    assert "is the handle of line 21 too" in problems[1].reason


def test_a_pool_status_that_ends_the_file_closes_nothing_or_is_refused(tmp_path: Path) -> None:
    # With nothing in use rlmstat prints no usage status, and a file cut after a pool looks the
    # same: read, its products are not the snapshot's (they close no earlier checkout).
    snapshot, records, problems = read(tmp_path, HEAD + pools(("solver", 5, 0)))
    assert (problems, records, snapshot.features) == ([], [], {})
    assert snapshot.notes == (
        "line 10: the pool status of acme ends the file with nothing in use, as rlmstat prints "
        "it then, and as a file cut there would look: its products close no checkout an earlier "
        "snapshot saw",
    )
    # With a license in use, its checkout is missing.
    _, _, problems = read(tmp_path, HEAD + pools(("solver", 5, 0), ("viewer", 9, 1)))
    assert [(p.line, p.column, p.value) for p in problems] == [(16, "inuse", "1")]
    # Followed by its (empty) usage status, the pools are a whole snapshot of no use.
    snapshot, records, problems = read(tmp_path, HEAD + pools(("solver", 5, 0)) + USAGE)
    assert (problems, records, snapshot.features) == ([], [], {"solver": (5, 0)})


def test_checkouts_of_december_in_a_january_snapshot_are_of_the_year_before(
    tmp_path: Path,
) -> None:
    text = HEAD.replace("Mar  3", "Jan  2").replace("Mar  1", "Dec 31") + pools(("solver", 5, 2))
    text += USAGE + "\tsolver v1.0: ann@ws-1 1/0 at 12/31 23:50  (handle: 41)\n"
    text += "\tsolver v1.0: bo@ws-2 1/0 at 01/02 08:00  (handle: 42)\n"
    snapshot, records, problems = read(tmp_path, text)
    assert problems == []
    assert snapshot.taken_at == dt.datetime(2026, 1, 2, 10, 14, 37, tzinfo=dt.UTC)
    assert [r.checkout for r in records] == [
        dt.datetime(2025, 12, 31, 23, 50, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 2, 8, 0, tzinfo=dt.UTC),
    ]


# ----------------------------------------------------------------------- imported snapshots


def _solver(admin: Services) -> int:
    vendor = admin.catalog.add_vendor("Acme")
    solver = admin.catalog.add_product(vendor, "Solver")
    admin.rules.add(RuleInput(solver, "solver"))
    return solver


def _needed(admin: Services, product: int, day: dt.date) -> int:
    rows = PositionService(admin.ctx).position(day).rows
    return sum(r.needed for r in rows if r.product_id == product)


def test_a_later_snapshot_closes_the_checkouts_it_no_longer_lists(
    admin: Services, tmp_path: Path
) -> None:
    solver = _solver(admin)
    first = tmp_path / "rlm-1014.txt"
    first.write_text(
        HEAD
        + pools(("solver", 5, 3))
        + USAGE
        + "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 41)\n"
        + "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 42)\n"
        + "\tsolver v1.0: bo@ws-2 1/0 at 03/03 09:40  (handle: 43)\n",
        encoding="utf-8",
    )
    result = admin.imports.commit(first, ImportOptions(Kind.USAGE))
    assert (result.rows, result.inserted, result.updated) == (3, 3, 0)
    # The server said 3 in use: ann's two checkouts of the same minute and bo's.
    assert _needed(admin, solver, dt.date(2026, 3, 3)) == 3
    # An hour later (11:14:37) ann's handle 42 is gone; 41 and bo's remain, cy has started.
    second = tmp_path / "rlm-1114.txt"
    second.write_text(
        HEAD.replace("init time: Tue Mar  3 10:02:12", "init time: Tue Mar  3 11:02:12")
        + pools(("solver", 5, 3))
        + USAGE
        + "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  (handle: 41)\n"
        + "\tsolver v1.0: bo@ws-2 1/0 at 03/03 09:40  (handle: 43)\n"
        + "\tsolver v1.0: cy@ws-3 1/0 at 03/03 11:01  (handle: 47)\n",
        encoding="utf-8",
    )
    result = admin.imports.commit(second, ImportOptions(Kind.USAGE))
    assert (result.rows, result.inserted, result.unchanged, result.updated) == (3, 1, 2, 1)
    with admin.db.read() as session:
        closed = session.execute(
            select(UsageSession.handle, UsageSession.checkin).where(
                UsageSession.checkin.is_not(None)
            )
        ).all()
    assert [(handle, checkin.replace(tzinfo=dt.UTC)) for handle, checkin in closed] == [
        ("42", dt.datetime(2026, 3, 3, 11, 14, 37, tzinfo=dt.UTC))
    ]
    # Handle 42 ended somewhere between the snapshots and is counted until the one that no
    # longer lists it (an upper bound); cy began at 11:01, inside that gap: ann twice, bo and cy
    # are 4 at once from 11:01 to 11:14:37.
    assert _needed(admin, solver, dt.date(2026, 3, 3)) == 4


def test_a_snapshot_closes_only_its_own_servers_checkouts(admin: Services, tmp_path: Path) -> None:
    solver = _solver(admin)
    first = tmp_path / "lic01.txt"
    first.write_text(
        HEAD + pools(("solver", 5, 1)) + USAGE + "\tsolver v1.0: ann@ws-1 1/0 at 03/03 09:14  "
        "(handle: 41)\n",
        encoding="utf-8",
    )
    admin.imports.commit(first, ImportOptions(Kind.USAGE))
    other = tmp_path / "lic02.txt"
    other.write_text(
        (HEAD + pools(("solver", 5, 1)) + USAGE).replace("lic01", "lic02").replace("10:02", "11:02")
        + "\tsolver v1.0: bo@ws-2 1/0 at 03/03 10:50  (handle: 41)\n",
        encoding="utf-8",
    )
    result = admin.imports.commit(other, ImportOptions(Kind.USAGE))
    assert (result.inserted, result.updated) == (1, 0)  # lic01's checkout is not lic02's to close
    assert _needed(admin, solver, dt.date(2026, 3, 3)) == 2
