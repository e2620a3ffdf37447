"""FlexNet debug logs: sessions with real checkins, restarts, midnight, denials; refused by line.

The fixtures are SeatLedger's own (``tests/data/flexlm_log``; its README says what each
reproduces).  Every figure asserted here was counted by hand from the file, with the arithmetic
in the comments.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import PASSWORD

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest import flexlm_log
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services

FIXTURES = Path(__file__).parents[1] / "data" / "flexlm_log"


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def read(path: Path) -> tuple[flexlm_log.DebugLog, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    log, records = flexlm_log.read_debug_log(sniff(path), problems)
    return log, list(records), problems


def read_text(
    tmp_path: Path, text: str
) -> tuple[flexlm_log.DebugLog, list[UsageRecord], list[Problem]]:
    path = tmp_path / "debug.log"
    path.write_bytes(text.encode())
    return read(path)


@dataclass(frozen=True)
class Counted:
    name: str
    sessions: dict[str, int]  # OUT lines per feature
    licenses: int
    users: int
    hosts: int
    open_at_end: int
    ended_by_stop: int
    spans: dict[int, tuple[dt.datetime, dt.datetime | None]]  # line of the OUT -> (out, in)
    notes: tuple[str, ...]


COMPLETE = [
    Counted(
        "v11_16_mlm_two_days",
        # MATLAB: ahart 15, 35, 41, 42; bkim 16; cdiaz 18, 40; egray 19; dfox 26.
        sessions={
            "MATLAB": 9,
            "SIMULINK": 1,
            "MATLAB_Distrib_Comp_Engine": 1,
            "Signal_Toolbox": 1,
        },
        licenses=15,  # 9 + 1 + 4 + 1
        users=5,  # ahart, bkim, cdiaz, egray, dfox
        hosts=5,  # ws-101, ws-102, lab-07, ws-115, ws-110
        open_at_end=3,  # bkim (16), cdiaz (40), ahart's second checkout of 8:10 (42)
        ended_by_stop=0,
        spans={
            15: (_utc(2026, 3, 2, 8, 14, 2), _utc(2026, 3, 2, 17, 45, 19)),
            # 22:30:05 out, 0:01:15 in: across midnight, before the TIMESTAMP of 3/3.
            35: (_utc(2026, 3, 2, 22, 30, 5), _utc(2026, 3, 3, 0, 1, 15)),
            36: (_utc(2026, 3, 2, 23, 58, 41), _utc(2026, 3, 3, 9, 0)),
            # Two checkouts in the same second (41, 42): the IN of 9:12:40 ends the first.
            41: (_utc(2026, 3, 3, 8, 10), _utc(2026, 3, 3, 9, 12, 40)),
            42: (_utc(2026, 3, 3, 8, 10), None),
            16: (_utc(2026, 3, 2, 8, 20, 40), None),
        },
        notes=(
            "The log runs from 2026-03-02 08:02 to 2026-03-03 09:12: 12 sessions.",
            # Lines 21, 23 (3/2) and 43 (3/3).
            "MATLAB: 3 denials (first 2026-03-02 09:03, last 2026-03-03 08:11) — the pool was "
            "too small at those times.",
            "1 other denial (SIMULINK) for reasons other than the pool's size, e.g. SIMULINK: "
            "(User/host on EXCLUDE list for feature. (-38,348)).",
            "1 request for features this server does not serve (UNSUPPORTED: Control_Toolbox).",
            "3 checkouts are still out at the end of the log; they stay open until a later log "
            "or snapshot ends it.",
        ),
    ),
    Counted(
        "v11_19_restarts_two_daemons",
        sessions={"Virtuoso_Schematic": 6, "VCS-Runtime": 2},
        licenses=9,  # 6 + 1 + 2
        users=5,  # mlee, nroy, oshea, pvan, qadams
        hosts=5,  # eda-12, eda-14, eda-20, eda-21, eda-30
        open_at_end=1,  # qadams (34)
        # mlee (4) when cdslmd exited at 10:20:11; mlee (14) and oshea (16) at the shutdown
        # 17:30:01; nroy (29) when lmgrd started again at 23:10 after its last line (21:00).
        ended_by_stop=4,
        spans={
            4: (_utc(2026, 5, 11, 9, 1), _utc(2026, 5, 11, 10, 20, 11)),
            5: (_utc(2026, 5, 11, 9, 2, 30), _utc(2026, 5, 11, 10, 15)),
            14: (_utc(2026, 5, 11, 10, 25), _utc(2026, 5, 11, 17, 30, 1)),
            16: (_utc(2026, 5, 11, 11, 30), _utc(2026, 5, 11, 17, 30, 1)),
            17: (_utc(2026, 5, 11, 12), _utc(2026, 5, 11, 17, 30, 1)),  # its IN (SHUTDOWN)
            29: (_utc(2026, 5, 11, 19, 5), _utc(2026, 5, 11, 21)),
            34: (_utc(2026, 5, 11, 23, 15), None),
        },
        notes=(
            "The log runs from 2026-05-11 06:00 to 2026-05-11 23:15: 8 sessions.",
            "4 sessions were still out when a daemon stopped or started again (first: cdslmd "
            "stopped, 2026-05-11 10:20); they end then.",
            "1 checkout is still out at the end of the log; it stays open until a later log or "
            "snapshot ends it.",
        ),
    ),
    Counted(
        "windows_v11_13_rotated",
        sessions={"DWGPRO_2025_0F": 4, "INVPRO_2025_0F": 1},
        licenses=5,
        users=4,  # rlopez, Sam Okafor, tmori, ucheng
        hosts=4,  # cad-pc04, cad-pc11, cad-pc09, cad-ws02
        open_at_end=1,  # tmori (7)
        ended_by_stop=0,
        spans={
            # Before the first TIMESTAMP (10/15, line 5): 21:40 and 23:59 are of 10/14.
            1: (_utc(2025, 10, 14, 21, 40, 12), _utc(2025, 10, 15, 0, 0, 7)),
            3: (_utc(2025, 10, 14, 23, 59, 58), _utc(2025, 10, 15, 8, 30)),
            9: (_utc(2025, 10, 15, 8, 3, 9), _utc(2025, 10, 15, 11, 20, 5)),
        },
        notes=(
            "The log runs from 2025-10-14 21:40 to 2025-10-15 11:20: 5 sessions.",
            "DWGPRO_2025_0F: 1 denial (first 2025-10-15 09:12, last 2025-10-15 09:12) — the "
            "pool was too small at those times.",
            "INVPRO_2025_0F: 1 denial (first 2025-10-15 09:12, last 2025-10-15 09:12) — the "
            "pool was too small at those times.",
            "1 checkout is still out at the end of the log; it stays open until a later log or "
            "snapshot ends it.",
            # tmori's IN of 22:15 (line 2): checked out before the log began.
            "1 checkin of checkouts made before the log began was left out: the log does not "
            "say when they started.",
        ),
    ),
    Counted(
        "dated_verbose_handles",
        sessions={"solver": 3},
        licenses=3,
        users=2,  # kwan (twice), lmora
        hosts=2,  # hpc-n01, hpc-n02
        open_at_end=1,  # lmora (3)
        ended_by_stop=0,
        spans={
            # Same user, host and second: told apart by their handles, the second ends first.
            1: (_utc(2026, 8, 10, 8, 41, 54), _utc(2026, 8, 11, 0, 10)),
            2: (_utc(2026, 8, 10, 8, 41, 54), _utc(2026, 8, 10, 9, 30)),
        },
        notes=(
            "The log runs from 2026-08-10 08:41 to 2026-08-11 00:10: 3 sessions.",
            "solver: 1 denial (first 2026-08-10 09:10, last 2026-08-10 09:10) — the pool was "
            "too small at those times.",
            "1 checkout is still out at the end of the log; it stays open until a later log or "
            "snapshot ends it.",
        ),
    ),
]


@pytest.mark.parametrize("counted", COMPLETE, ids=lambda c: c.name)
def test_a_fixture_is_read_with_the_figures_counted_by_hand(counted: Counted) -> None:
    path = FIXTURES / f"{counted.name}.log"
    assert flexlm_log.looks_like_debug_log(path.read_text()[:8192])
    log, records, problems = read(path)
    assert problems == []
    assert Counter(r.feature for r in records) == counted.sessions
    assert sum(r.units for r in records) == counted.licenses
    assert len({r.user for r in records}) == counted.users
    assert len({r.host for r in records}) == counted.hosts
    assert sum(r.checkin is None for r in records) == counted.open_at_end
    assert log.open_at_end == counted.open_at_end
    assert log.ended_by_stop == counted.ended_by_stop
    spans = {r.line: (r.checkout, r.checkin) for r in records}
    for line, span in counted.spans.items():
        assert spans[line] == span, line
    assert tuple(log.notes) == counted.notes
    # One row per session in the table's key: none merges with another.
    keys = {(r.feature, r.user, r.host, r.checkout, r.server, r.handle) for r in records}
    assert len(keys) == len(records)
    assert all(r.checkin is None or r.checkin >= r.checkout for r in records)


def test_a_user_name_with_a_space_and_a_multi_license_checkout_are_read() -> None:
    _, records, _ = read(FIXTURES / "windows_v11_13_rotated.log")
    assert ("Sam Okafor", "cad-pc11") in {(r.user, r.host) for r in records}
    _, records, _ = read(FIXTURES / "v11_16_mlm_two_days.log")
    assert [(r.line, r.units) for r in records if r.feature == "MATLAB_Distrib_Comp_Engine"] == [
        (20, 4)
    ]
    assert {r.publisher for r in records} == {"MLM"}


def test_the_handles_of_verbose_lines_are_kept() -> None:
    _, records, _ = read(FIXTURES / "dated_verbose_handles.log")
    assert {r.line: r.handle for r in records} == {1: "0x12CE", 2: "0x12CF", 3: "0x1301"}


# ------------------------------------------------------------------------------ dates, by hand


HEAD = " 6:00:00 (lmgrd) TIMESTAMP 3/2/2026\n"


def test_a_line_logged_a_little_late_is_not_taken_for_midnight(tmp_path: Path) -> None:
    # 9:14:05 after 9:14:07 (two daemons writing one file): the same day, not the next.
    _, records, problems = read_text(
        tmp_path,
        HEAD + ' 9:14:07 (MLM) OUT: "A" u@h\n 9:14:05 (MLM) OUT: "B" u@h\n'
        ' 9:30:00 (MLM) IN: "A" u@h\n 9:31:00 (MLM) IN: "B" u@h\n',
    )
    assert problems == []
    assert {r.feature: r.checkout for r in records} == {
        "A": _utc(2026, 3, 2, 9, 14, 7),
        "B": _utc(2026, 3, 2, 9, 14, 5),
    }


def test_several_midnights_and_lines_before_the_first_date(tmp_path: Path) -> None:
    # 23:00 (day 0), 1:00 (day 1), 23:30 (day 1), 0:30 (day 2) then "TIMESTAMP 3/4" at 6:00:
    # day 2 is 3/4, so the first line is of 3/2.
    text = (
        '23:00:00 (MLM) OUT: "A" u@h\n 1:00:00 (MLM) IN: "A" u@h\n'
        '23:30:00 (MLM) OUT: "A" u@h\n 0:30:00 (MLM) IN: "A" u@h\n'
        " 6:00:00 (lmgrd) TIMESTAMP 3/4/2026\n"
    )
    _, records, problems = read_text(tmp_path, text)
    assert problems == []
    assert [(r.checkout, r.checkin) for r in records] == [
        (_utc(2026, 3, 2, 23), _utc(2026, 3, 3, 1)),
        (_utc(2026, 3, 3, 23, 30), _utc(2026, 3, 4, 0, 30)),
    ]


def test_a_date_that_goes_back_is_refused_by_line(tmp_path: Path) -> None:
    text = HEAD + ' 9:00:00 (MLM) OUT: "A" u@h\n12:00:00 (lmgrd) TIMESTAMP 3/1/2026\n'
    _, _, problems = read_text(tmp_path, text)
    assert [(p.line, p.column) for p in problems] == [(3, "date")]
    assert "goes back to 2026-03-01" in problems[0].reason


def test_a_daemon_started_again_ends_its_sessions_at_its_last_line(tmp_path: Path) -> None:
    # MLM's checkout of 9:00 is still out when lmgrd restarts MLM at 11:00; the last line before
    # is 10:00.  Another daemon's checkout stays out.
    text = HEAD + (
        ' 9:00:00 (MLM) OUT: "A" u@h\n 9:00:00 (other) OUT: "B" u@h\n'
        "10:00:00 (lmgrd) TIMESTAMP 3/2/2026\n"
        "11:00:00 (lmgrd) REStarted MLM (internet tcp_port 27010 pid 99)\n"
    )
    log, records, problems = read_text(tmp_path, text)
    assert problems == []
    assert {r.feature: r.checkin for r in records} == {"A": _utc(2026, 3, 2, 10), "B": None}
    assert log.ended_by_stop == 1


def test_events_it_cannot_read_are_problems_by_line_and_field(tmp_path: Path) -> None:
    text = HEAD + (
        ' 9:00:00 (MLM) OUT: "A" u@h  (0 licenses)\n'
        '25:00:00 (MLM) OUT: "A" u@h\n'
        f' 9:01:00 (MLM) OUT: "{"F" * 201}" u@h\n'
        ' 9:02:00 (MLM) OUT: "A" @h\n'
    )
    _, _, problems = read_text(tmp_path, text)
    assert [(p.line, p.column) for p in problems] == [
        (2, "licenses"),
        (3, "time"),
        (4, "feature"),
        (5, "user"),
    ]


# ------------------------------------------------------------------ through the command line


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("counted", COMPLETE, ids=lambda c: c.name)
def test_a_fixture_is_imported_by_the_command_line_with_its_notes(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], counted: Counted
) -> None:
    path = FIXTURES / f"{counted.name}.log"
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 0, err
    rows = sum(counted.sessions.values())
    assert f"{path.name}: FlexNet debug log;" in out
    assert f"{path.name}: {rows} rows, {rows} new, 0 updated, 0 unchanged." in out
    for note in counted.notes:
        assert f"  {note}" in out
    code, out, _ = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert f"{path.name} was imported before (same SHA-256); nothing changed." in out


@pytest.mark.usefixtures("signed_in")
def test_a_longer_copy_of_the_log_ends_the_sessions_it_left_open(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = FIXTURES / "v11_16_mlm_two_days.log"
    code, _, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 0, err
    longer = tmp_path / "v11_16_mlm_two_days.log"
    longer.write_text(path.read_text() + '11:00:00 (MLM) IN: "MATLAB" bkim@ws-102  \n')
    code, out, err = _run(capsys, "import", "usage", str(longer), "--db", db_url)
    assert code == 0, err
    # The same 12 sessions; bkim's (line 16) now has its checkin: 0 new, 12 matched again.
    assert f"{longer.name}: 12 rows, 0 new, 0 updated, 12 unchanged." in out
    assert "2 checkouts are still out at the end of the log" in out


@dataclass(frozen=True)
class Peak:
    fixture: str
    as_of: str
    feature: str
    issued: int
    needed: int  # the concurrent peak counted by hand


PEAKS = [
    # 3/3 8:10-9:12:40: bkim (since 3/2 8:20:40), cdiaz (7:55:30), ahart twice (8:10) = 4; on
    # 3/2 at most 4 too (8:40-9:50: ahart, bkim, cdiaz, egray).
    Peak("v11_16_mlm_two_days", "2026-03-03", "MATLAB", 4, 4),
    # One checkout of 4 licenses, 8:52:13-12:00:09.
    Peak("v11_16_mlm_two_days", "2026-03-03", "MATLAB_Distrib_Comp_Engine", 8, 4),
    # mlee + nroy (9:02:30-10:15), mlee + pvan (12:00-17:30:01): 2; never 3 (nroy's second is
    # after the shutdown, qadams's after nroy's ended at the crash).
    Peak("v11_19_restarts_two_daemons", "2026-05-11", "Virtuoso_Schematic", 5, 2),
    # oshea's 2 licenses, 11:30 to the shutdown (mlee's ended at 11:00).
    Peak("v11_19_restarts_two_daemons", "2026-05-11", "VCS-Runtime", 4, 2),
    # 8:03:09-8:30: Sam Okafor (since 10/14 23:59:58), tmori (7:58:31), ucheng = 3.
    Peak("windows_v11_13_rotated", "2025-10-15", "DWGPRO_2025_0F", 3, 3),
    # kwan twice (8:41:54) and lmora (9:02:10) until 9:30.
    Peak("dated_verbose_handles", "2026-08-10", "solver", 3, 3),
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
    path = FIXTURES / f"{peak.fixture}.log"
    code, _, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 0, err
    args = ("reconcile", "--as-of", peak.as_of, "--format", "json", "--db", db_url)
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    rows = [r for r in json.loads(out)["rows"] if r["product_id"] == product]
    assert [(r["metric"], r["owned"], r["needed"]) for r in rows] == [
        ("concurrent", peak.issued, peak.needed)
    ]


REFUSED = {
    # Line 4 ends inside the host ("jdoe@ws-1"), with no line end.
    "refused_cut_last_line.log": ("line 4, line: is cut off: the file ends in the middle of it",),
    # No TIMESTAMP, no lmgrd start line: line 1 is the first that cannot be dated.
    "refused_no_date.log": ("line 1, date: no line of the log says its date",),
    # A pasted line (3), an OUT with no user@host (4), 30 February (7).
    "refused_edited.log": (
        "line 3, line: is not a debug log line",
        "line 4, OUT: is not a whole OUT line",
        "line 7, date: is not a real date",
    ),
}


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_damaged_log_is_refused_by_file_line_and_field(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = FIXTURES / name
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 1, (out, err)
    printed = out + err
    for said in REFUSED[name]:
        assert f"{name}, {said}" in printed, printed
    assert "nothing was imported" in printed
    assert printed.count(f"  {name}, ") == len(REFUSED[name])
    assert admin.imports.history() == []


def test_a_file_that_is_not_a_log_is_not_claimed(admin: Services) -> None:
    # A help-desk ticket quoting one DENIED line: read as a table, not as a log.
    path = FIXTURES / "not_a_log_helpdesk_ticket.txt"
    assert not flexlm_log.looks_like_debug_log(path.read_text())
    preview = admin.imports.preview(path, ImportOptions(Kind.USAGE))
    assert preview.format_name != flexlm_log.FORMAT_NAME
    # And the generic usage CSV is still a CSV.
    usage = Path(__file__).parents[1] / "data" / "usage.csv"
    assert not flexlm_log.looks_like_debug_log(usage.read_text())


@pytest.mark.parametrize("kind", [Kind.ENTITLEMENTS, Kind.INVENTORY, Kind.PEOPLE])
def test_a_log_offered_as_another_kind_is_named_with_what_to_do(
    admin: Services, kind: Kind
) -> None:
    path = FIXTURES / "v11_16_mlm_two_days.log"
    with pytest.raises(ImportFileError, match="debug log, which holds license usage: import it"):
        admin.imports.preview(path, ImportOptions(kind))


def test_the_preview_shows_the_denials(admin: Services) -> None:
    preview = admin.imports.preview(FIXTURES / "v11_16_mlm_two_days.log", ImportOptions(Kind.USAGE))
    assert preview.ok
    assert preview.records == 12
    assert any(note.startswith("MATLAB: 3 denials") for note in preview.notes)
