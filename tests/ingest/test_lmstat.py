"""lmstat snapshots are read exactly or refused by line: cut files, user names with spaces,
distinct checkouts in the same minute, reservations and queued requests, unreachable servers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from seatledger.ingest import flexlm
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import PositionService

SAMPLE = Path(__file__).parents[1] / "data" / "lmstat.txt"

HEAD = """lmutil - Copyright (c) 1989-2023 Flexera. All Rights Reserved.
Flexible License Manager status on Thu 3/5/2026 10:30

License server status: 27000@lic01
    License file(s) on lic01: /opt/lic/license.dat:

lic01: license server UP (MASTER) v11.19.4

Feature usage info:

"""


def read(
    tmp_path: Path, text: str, name: str = "lm.txt"
) -> tuple[flexlm.Snapshot, list[UsageRecord], list[Problem]]:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    problems: list[Problem] = []
    snapshot, records = flexlm.read_lmstat(sniff(path), problems)
    return snapshot, list(records), problems


@pytest.mark.slow
def test_a_snapshot_cut_at_any_byte_is_refused_or_holds_only_whole_blocks(
    tmp_path: Path,
) -> None:
    """Cut anywhere, a snapshot either is refused or is exactly the whole blocks before the cut.

    A feature it lists is one whose block it holds whole (so closing the sessions an earlier
    snapshot saw of that feature is right); a feature it does not list closes nothing.
    """
    data = SAMPLE.read_bytes()
    full, full_records, problems = read(tmp_path, data.decode())
    assert problems == []
    by_feature: dict[str, list[UsageRecord]] = {}
    for record in full_records:
        by_feature.setdefault(record.feature, []).append(record)
    accepted = 0
    for cut in range(len(data)):
        try:
            snapshot, records, problems = read(tmp_path, data[:cut].decode())
        except ImportFileError:
            continue
        if problems:
            continue
        accepted += 1
        for feature, counts in snapshot.features.items():
            assert counts == full.features[feature], (cut, feature)
            assert [r for r in records if r.feature == feature] == by_feature.get(feature, []), (
                cut,
                feature,
            )
        assert {r.feature for r in records} <= set(snapshot.features), cut
    # The cuts at block boundaries are accepted (the test saw both outcomes).
    assert 0 < accepted < len(data)


def test_the_sample_snapshot_reads_every_checkout(tmp_path: Path) -> None:
    snapshot, records, problems = read(tmp_path, SAMPLE.read_text())
    assert problems == []
    assert snapshot.servers == ("27000@NW-SRV-LIC01",)
    assert snapshot.features == {
        "87545ACD_2025_0F": (10, 4),
        "87546ACDLT_2025_0F": (5, 0),
        "MATLAB": (5, 3),
        "MATLAB_Distrib_Comp_Engine": (16, 8),
        "Signal_Toolbox": (None, 0),
    }
    # Held licenses add up to each block's "in use": 4 + 3 + 8.
    assert sum(r.units for r in records) == 15
    assert {(r.user, r.host, r.handle) for r in records if r.feature == "MATLAB"} == {
        ("adodsworth", "NW-LT-0108", "4401"),
        ("mchen", "NW-LT-0110", "4602"),
        ("praman", "NW-MB-0301", "4803"),
    }


def test_two_checkouts_in_the_same_minute_stay_two(tmp_path: Path) -> None:
    text = HEAD + (
        "Users of MATLAB:  (Total of 10 licenses issued;  Total of 2 licenses in use)\n\n"
        '  "MATLAB" v46, vendor: MLM, expiry: 31-dec-2026\n'
        "  floating license\n\n"
        "    ann ws-1 ws-1 (v46) (lic01/27000 101), start Thu 3/5 9:14\n"
        "    ann ws-1 ws-1 (v46) (lic01/27000 102), start Thu 3/5 9:14\n\n"
    )
    _, records, problems = read(tmp_path, text)
    assert problems == []
    assert [(r.user, r.host, r.checkout.time(), r.server, r.handle) for r in records] == [
        ("ann", "ws-1", dt.time(9, 14), "lic01/27000", "101"),
        ("ann", "ws-1", dt.time(9, 14), "lic01/27000", "102"),
    ]


def test_user_names_with_spaces_are_read_from_the_right(tmp_path: Path) -> None:
    text = HEAD + (
        "Users of MATLAB:  (Total of 10 licenses issued;  Total of 3 licenses in use)\n\n"
        '  "MATLAB" v46, vendor: MLM, expiry: 31-dec-2026\n\n'
        "    Ann Lee ws-1 ws-1 (v46) (lic01/27000 101), start Thu 3/5 9:14\n"
        "    Dr. Bo Chen NW-LT-7 /dev/pts/3 (v46) (lic01/27000 102), start Thu 3/5 9:15\n"
        "    Cy Diaz ws-3 office screen (v46) (lic01/27000 103), start Thu 3/5 9:16\n\n"
    )
    snapshot, records, problems = read(tmp_path, text)
    assert problems == []
    assert [(r.user, r.host) for r in records] == [
        ("Ann Lee", "ws-1"),
        ("Dr. Bo Chen", "NW-LT-7"),
        ("Cy Diaz ws-3", "office"),
    ]
    # The last line could also be user 'Cy Diaz' on ws-3 with the display 'office screen': said.
    assert snapshot.notes == (
        "line 17: read as user 'Cy Diaz ws-3' on host 'office' (display 'screen'); lmstat "
        "does not mark where a user name with spaces ends",
    )


def test_reservations_count_as_in_use_and_queued_requests_do_not(tmp_path: Path) -> None:
    text = HEAD + (
        "Users of MATLAB:  (Total of 4 licenses issued;  Total of 4 licenses in use)\n\n"
        '  "MATLAB" v46, vendor: MLM, expiry: 31-dec-2026\n\n'
        "    ann ws-1 ws-1 (v46) (lic01/27000 101), start Thu 3/5 9:14, 2 licenses\n"
        "      2 RESERVATIONs for GROUP engineering (lic01/27000)\n"
        "    bob ws-2 ws-2 (v46) (lic01/27000 102) queued for 1 license\n\n"
    )
    _, records, problems = read(tmp_path, text)
    assert problems == []
    assert [(r.user, r.units) for r in records] == [("ann", 2)]


def test_a_block_that_does_not_add_up_is_refused_by_its_line(tmp_path: Path) -> None:
    text = HEAD + (
        "Users of MATLAB:  (Total of 10 licenses issued;  Total of 4 licenses in use)\n\n"
        '  "MATLAB" v46, vendor: MLM, expiry: 31-dec-2026\n\n'
        "    ann ws-1 ws-1 (v46) (lic01/27000 101), start Thu 3/5 9:14\n"
        "    bob ws-2 ws-2 (v46) (lic01/27000 102), start Thu 3/5 9:15\n"
        "    cy ws-3 ws-3 (v46) (lic01/27000 10"
    )
    _, _, problems = read(tmp_path, text)
    assert [(p.line, p.column) for p in problems] == [(17, "line")]  # cut before "start"
    text = text.rsplit("\n", 1)[0] + "\n"  # the cut line gone: two lines for four in use
    _, _, problems = read(tmp_path, text)
    assert [(p.line, p.column, p.value) for p in problems] == [(11, "in use", "4")]
    assert "its lines hold 2" in problems[0].reason


def test_a_server_lmstat_could_not_reach_is_no_snapshot(tmp_path: Path) -> None:
    text = (
        "lmutil - Copyright (c) 1989-2012 Flexera Software LLC. All Rights Reserved.\n"
        "Flexible License Manager status on Thu 3/5/2026 10:30\n\n"
        'Error getting status: Cannot connect to license server system. (-15,570:111 "Connection '
        'refused")\n'
    )
    with pytest.raises(ImportFileError, match=r"line 4: lmstat could not reach the license"):
        read(tmp_path, text)


def test_a_snapshot_without_its_server_status_is_refused(tmp_path: Path) -> None:
    text = HEAD.replace("License server status: 27000@lic01\n", "") + (
        "Users of MATLAB:  (Total of 10 licenses issued;  Total of 0 licenses in use)\n\n"
    )
    _, _, problems = read(tmp_path, text)
    assert [p.line for p in problems] == [0]
    assert "License server status" in problems[0].reason


# ----------------------------------------------------------------------- imported snapshots

SNAPSHOT = HEAD + (
    "Users of MATLAB:  (Total of 10 licenses issued;  Total of 4 licenses in use)\n\n"
    '  "MATLAB" v46, vendor: MLM, expiry: 31-dec-2026\n\n'
    "    ann ws-1 ws-1 (v46) (lic01/27000 101), start Thu 3/5 9:14\n"
    "    ann ws-1 ws-1 (v46) (lic01/27000 102), start Thu 3/5 9:14\n"
    "    Bo Chen ws-2 ws-2 (v46) (lic01/27000 103), start Wed 3/4 17:02, 2 licenses\n\n"
)


def _matlab(admin: Services) -> int:
    vendor = admin.catalog.add_vendor("MathWorks")
    matlab = admin.catalog.add_product(vendor, "MATLAB")
    admin.rules.add(RuleInput(matlab, "MATLAB"))
    return matlab


def _needed(admin: Services, product: int, day: dt.date) -> int:
    rows = PositionService(admin.ctx).position(day).rows
    return sum(r.needed for r in rows if r.product_id == product)


def test_two_sessions_in_the_same_minute_are_two_and_both_count(
    admin: Services, tmp_path: Path
) -> None:
    matlab = _matlab(admin)
    path = tmp_path / "lm.txt"
    path.write_text(SNAPSHOT, encoding="utf-8")
    result = admin.imports.commit(path, ImportOptions(Kind.USAGE))
    assert (result.rows, result.inserted) == (3, 3)
    # The server said 4 in use: ann's two sessions and Bo's two licenses.
    assert _needed(admin, matlab, dt.date(2026, 3, 5)) == 4


def test_a_single_old_snapshot_does_not_keep_its_sessions_open_forever(
    admin: Services, tmp_path: Path
) -> None:
    matlab = _matlab(admin)
    path = tmp_path / "lm.txt"
    path.write_text(SNAPSHOT, encoding="utf-8")
    admin.imports.commit(path, ImportOptions(Kind.USAGE))
    # Within the 90-day window the snapshot's use counts; months later it has ended at its
    # last sighting (no snapshot has shown it since), so nothing is needed any more.
    assert _needed(admin, matlab, dt.date(2026, 3, 20)) == 4
    assert _needed(admin, matlab, dt.date(2026, 6, 30)) == 0


def test_a_snapshot_closes_only_its_own_servers_sessions(admin: Services, tmp_path: Path) -> None:
    matlab = _matlab(admin)
    first = tmp_path / "lic01.txt"
    first.write_text(SNAPSHOT, encoding="utf-8")
    admin.imports.commit(first, ImportOptions(Kind.USAGE))
    other = (
        SNAPSHOT.replace("27000@lic01", "27000@lic02")
        .replace("10:30", "11:30")
        .replace("lic01/27000", "lic02/27000")
        .replace("Total of 4 licenses in use", "Total of 1 license in use")
    )
    other = other.split("    ann ws-1 ws-1 (v46) (lic02/27000 101)")[0] + (
        "    cy ws-3 ws-3 (v46) (lic02/27000 7), start Thu 3/5 11:00\n\n"
    )
    second = tmp_path / "lic02.txt"
    second.write_text(other, encoding="utf-8")
    result = admin.imports.commit(second, ImportOptions(Kind.USAGE))
    assert result.updated == 0  # lic01's sessions are not lic02's to close
    assert _needed(admin, matlab, dt.date(2026, 3, 5)) == 5


def test_a_checkout_with_the_process_id_of_flexnet_11_19_is_read(tmp_path: Path) -> None:
    # FlexNet 11.19 vendor daemons (MLM, snpslmd, saltd) end a checkout with ", PID: N", some
    # with a trailing space (as in tests/data/lmstat/v11_19_7_pid_host_displays.txt).
    text = HEAD + (
        "Users of MATLAB:  (Total of 10 licenses issued;  Total of 5 licenses in use)\n\n"
        '  "MATLAB" v52, vendor: MLM, expiry: 30-dec-2026\n\n'
        "    ann ws-1 ws-1 (v50) (lic01/27000 401), start Thu 3/5 0:10, PID: 3317045\n"
        "    bob ws-2 ws-2 (v36) (lic01/27000 701), start Thu 3/5 0:10, PID: 20517 \n"
        "    cy ws-3 ws-3 (v36) (lic01/27000 702), start Thu 3/5 0:11, 2 licenses\n"
        "    di ws-4 ws-4 (v36) (lic01/27000 703), start Thu 3/5 0:12, PID: 7\n\n"
    )
    _, records, problems = read(tmp_path, text)
    assert problems == []
    assert [(r.user, r.handle, r.units) for r in records] == [
        ("ann", "401", 1),
        ("bob", "701", 1),
        ("cy", "702", 2),
        ("di", "703", 1),
    ]
    # Cut inside the process id's label, the line is no checkout lmstat writes: refused.
    _, _, problems = read(tmp_path, text.replace(", PID: 7\n", ", PI\n"))
    assert [(p.line, p.column) for p in problems] == [(18, "checkout")]


def test_a_display_named_after_its_host_places_the_host_whatever_follows_it(
    tmp_path: Path,
) -> None:
    # Some vendor daemons of FlexNet 11.19.7 (Synopsys', Siemens') write a word after the display
    # (as in tests/data/lmstat/v11_19_7_pid_host_displays.txt lines 21 and 22): read from the
    # right, 'user1 host-01' would be the user on host 'host-01:0.0', with exit status 0.
    text = HEAD + (
        "Users of syn_opt:  (Total of 5 licenses issued;  Total of 4 licenses in use)\n\n"
        '  "syn_opt" v2026.03, vendor: syntd, expiry: 30-apr-2028\n\n'
        "    user1 host-01 host-01:0.0 ab12c34005517720_1 (v2025.09) (lic01/27000 31207), start "
        "Thu 3/5 9:16, PID: 5517720 \n"
        "    user1 host-01 host-01:0770412_2 2027.03 (v2027.03) (lic01/27000 41852), start "
        "Thu 3/5 9:44, PID: 770412 \n"
        "    Ann Lee WS-2 ws-2:0 (v1) (lic01/27000 3), start Thu 3/5 9:50\n"
        "    user2 host-03 (v2026.03) (lic01/27000 22618), start Thu 3/5 9:51\n\n"
    )
    snapshot, records, problems = read(tmp_path, text)
    assert problems == []
    assert [(r.user, r.host) for r in records] == [
        ("user1", "host-01"),
        ("user1", "host-01"),
        ("Ann Lee", "WS-2"),
        ("user2", "host-03"),
    ]
    assert snapshot.notes == ()  # the display is the anchor: nothing is read one way of two


def test_a_checkout_cut_after_its_start_is_said_once_as_cut(tmp_path: Path) -> None:
    # The file ends inside the last checkout, after "start" (as
    # tests/data/lmstat/refused_cut_mid_line.txt does): one problem naming the line as cut, not
    # also "not a whole checkout line".
    text = HEAD + (
        "Users of MATLAB:  (Total of 10 licenses issued;  Total of 2 licenses in use)\n\n"
        '  "MATLAB" v46, vendor: MLM, expiry: 31-dec-2026\n\n'
        "    ann ws-1 ws-1 (v46) (lic01/27000 101), start Thu 3/5 9:14\n"
        "    bob ws-2 ws-2 (v46) (lic01/27000 102), start Thu 3/5 9:1"
    )
    _, _, problems = read(tmp_path, text)
    assert [(p.line, p.column) for p in problems] == [(16, "line")]
    assert "is cut off" in problems[0].reason
    # Whole but for its line end, the same line is read (lmstat's last line may lack one).
    _, records, problems = read(tmp_path, text + "5")
    assert problems == []
    assert [r.handle for r in records] == ["101", "102"]


def test_a_server_whose_port_was_redacted_is_refused_by_its_line(tmp_path: Path) -> None:
    # A port redacted as a word ("port@lic01", as in tests/data/lmstat/refused_redacted_port.txt)
    # names no server the checkout lines name ("lic01/27000"): imported, a snapshot of nothing
    # in use would close none of that server's sessions, with exit status 0.
    text = HEAD.replace("27000@lic01", "27000@lic00,port@lic01") + (
        "Users of MATLAB:  (Total of 10 licenses issued;  Total of 0 licenses in use)\n\n"
    )
    _, _, problems = read(tmp_path, text)
    assert [(p.line, p.column, p.value) for p in problems] == [(4, "server", "port@lic01")]
    assert "names the port 'port', not its number" in problems[0].reason
