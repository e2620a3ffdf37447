"""Runs of a license server's status tool appended to one file ('rlmutil rlmstat -a >> file' every
15 minutes from cron, a scheduled task's 'DSLicSrv -admin … >> file'): refused by name, naming the
line where each later run begins, never read as one snapshot nor refused with a generic message.

Read as one snapshot, every checkout of every run would be open at the latest run's time and the
concurrency over the period counted as if all were at once (lmstat and lsmon files of this kind are
refused the same way, tests/ingest/test_public_samples.py).  The line named is where the file must
be cut: each part, saved alone, is a whole snapshot that proves itself complete, with the figures
counted by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import PASSWORD

from seatledger import cli
from seatledger.ingest import dsls, lmx, rlm
from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem, sniff
from seatledger.services.operators.session import Services
from seatledger.store.models import UsageSession

DATA = Path(__file__).parents[1] / "data"
RLM_CRON = DATA / "rlm" / "refused_three_runs_appended_by_cron.txt"
LMX_CRON = DATA / "lmx" / "refused_two_runs_appended_by_cron.txt"
DSLS_TASK = DATA / "dsls" / "refused_two_runs_appended_by_task.txt"

_Reader = Callable[[FileFacts, list[Problem]], tuple[Snapshot, Iterator[UsageRecord]]]
READERS: dict[str, _Reader] = {
    "rlm": rlm.read_rlmstat,
    "lmx": lmx.read_licstat,
    "dsls": dsls.read_license_usage,
}


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def _read(kind: str, path: Path) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    facts: FileFacts = sniff(path)
    snapshot, records = READERS[kind](facts, problems)
    return snapshot, list(records), problems


def _parts(path: Path, starts: list[int], tmp_path: Path) -> list[Path]:
    """The file cut before each line of ``starts`` (numbered from 1), each part saved alone."""
    data = path.read_bytes().split(b"\n")
    cuts = [0, *(n - 1 for n in starts), len(data)]
    parts = []
    for index, (begin, end) in enumerate(itertools.pairwise(cuts)):
        part = tmp_path / f"run{index + 1}{path.suffix}"
        chunk = data[begin:end]
        part.write_bytes(b"\n".join(chunk) + (b"\n" if end < len(data) else b""))
        parts.append(part)
    return parts


def test_three_rlmstat_runs_appended_by_cron(tmp_path: Path) -> None:
    """'*/15 * * * * rlmutil rlmstat -c 5053@cfd-lic01 -a >> rlmstat.txt': each run begins with
    'Setting license file path to' (lines 1, 67, 133).  Before: lines 68 and 69 (the second
    banner) refused as 'not a whole checkout line' and every handle of run 2 as 'the handle of
    line 61 too ... the file was edited'."""
    with pytest.raises(ImportFileError) as refused:
        _read("rlm", RLM_CRON)
    said = str(refused.value)
    assert "holds 3 runs of 'rlmutil rlmstat -a' appended to one another" in said
    assert "the runs after the first begin at lines 67, 133)" in said
    first, second, third = (_read("rlm", part) for part in _parts(RLM_CRON, [67, 133], tmp_path))
    for _, _, problems in (first, second, third):
        assert problems == []
    # cfdcorp's 'Recent Statistics (00:12:25), init time: … 10:02:13' + 12:25, then 15 minutes
    # later each run.
    assert [run[0].taken_at for run in (first, second, third)] == [
        _utc(2026, 12, 1, 10, 14, 38),
        _utc(2026, 12, 1, 10, 29, 38),
        _utc(2026, 12, 1, 10, 44, 38),
    ]
    # Run 1: flowsim rkhan 4, Ann Lee 1, mtorres 1 + 1 (handles 20e, 20f) = 7; flowsim_gui 2.
    # Run 2: mtorres's 20f gone (inuse 6), rkhan's meshgen on cfd-ws-02 at 10:20 (handle 214).
    # Run 3: Ann Lee's flowsim (20b) gone too (inuse 5).
    assert [Counter(r.feature for r in run[1]) for run in (first, second, third)] == [
        {"flowsim": 4, "flowsim_gui": 2},
        {"flowsim": 3, "flowsim_gui": 2, "meshgen": 1},
        {"flowsim": 2, "flowsim_gui": 2, "meshgen": 1},
    ]
    assert [sum(r.units for r in run[1]) for run in (first, second, third)] == [9, 9, 8]
    assert [run[0].features["flowsim"] for run in (first, second, third)] == [
        (40, 7),
        (40, 6),
        (40, 5),
    ]
    assert [r.handle for r in third[1] if r.feature == "flowsim"] == ["1f4", "20e"]


def test_two_lmxendutil_runs_appended_by_cron(tmp_path: Path) -> None:
    """Two runs of 'lmxendutil -licstat -host cae-lic01' (the second banner at line 57), 15
    minutes apart.  Before: lines 57 and 58 refused as 'not a line of a checkout'."""
    with pytest.raises(ImportFileError) as refused:
        _read("lmx", LMX_CRON)
    said = str(refused.value)
    assert "holds 2 runs of 'lmxendutil -licstat' appended to one another" in said
    assert "(the next run begins at line 57)" in said
    first, second = (_read("lmx", part) for part in _parts(LMX_CRON, [57], tmp_path))
    assert first[2] == []
    assert second[2] == []
    # Dated by the latest login or checkout time: rkhan's 10:42 (run 1), jlee's 10:50 (run 2).
    assert (first[0].taken_at, second[0].taken_at) == (
        _utc(2026, 3, 3, 10, 42),
        _utc(2026, 3, 3, 10, 50),
    )
    # Run 2: jdoe's SolverPro gone, jlee's of 10:50 come; still 3 of 10 in use.
    assert Counter(r.user for r in first[1] if r.feature == "SolverPro") == {
        "jdoe": 1,
        "mtorres": 2,
    }
    assert Counter(r.user for r in second[1] if r.feature == "SolverPro") == {
        "jlee": 1,
        "mtorres": 2,
    }
    assert len(first[1]) == len(second[1]) == 7  # 3 SolverPro, 2 SolverPro_GUI, 2 SolverTokens


def test_two_dsls_runs_appended_by_a_scheduled_task(tmp_path: Path) -> None:
    """'DSLicSrv -admin -run "connect dsls01 4085;getLicenseUsage -csv;quit;" >> usage.txt'
    twice (CRLF; the second banner at line 18).  Before: refused as 'says 2 licenses of MD2 are
    in use but its rows hold 4', 160 and 320 for SRU, 1 and 2 for HD2: the rows of both runs
    counted as one license's."""
    with pytest.raises(ImportFileError) as refused:
        _read("dsls", DSLS_TASK)
    said = str(refused.value)
    assert "holds 2 runs of 'DSLicSrv -admin … getLicenseUsage' appended to one another" in said
    assert "(the next run begins at line 18)" in said
    first, second = (_read("dsls", part) for part in _parts(DSLS_TASK, [18], tmp_path))
    assert first[2] == []
    assert second[2] == []
    # The latest 'Last Used At': ops1's SRU, 10:42:07, then 10:57:07.
    assert (first[0].taken_at, second[0].taken_at) == (
        _utc(2026, 3, 3, 10, 42, 7),
        _utc(2026, 3, 3, 10, 57, 7),
    )
    # MD2 2 users, SRU 3 sessions (80 + 50 + 30 = 160 tokens), HD2 1; then qchen's 30 gone.
    assert Counter(r.feature for r in first[1]) == {"MD2": 2, "SRU": 3, "HD2": 1}
    assert Counter(r.feature for r in second[1]) == {"MD2": 2, "SRU": 2, "HD2": 1}
    assert first[0].features["SRU"] == (300, 160)
    assert second[0].features["SRU"] == (300, 130)


COMPLETE = [
    ("rlm", DATA / "rlm" / "v12_2_one_isv.txt"),
    ("rlm", DATA / "rlm" / "v14_2_reservations_new_year.txt"),
    ("rlm", DATA / "rlm" / "v15_1_isv_only_nothing_in_use.txt"),
    ("rlm", DATA / "rlm" / "v15_2_two_isvs_windows.txt"),
    ("rlm", DATA / "rlm" / "isv_down_one_of_two.txt"),
    ("lmx", DATA / "lmx" / "v3_32_windows_two_servers.txt"),
    ("lmx", DATA / "lmx" / "v4_9_one_server.txt"),
    ("lmx", DATA / "lmx" / "v5_2_licstatxml.txt"),
    ("dsls", DATA / "dsls" / "transcript_windows.txt"),
    ("dsls", DATA / "dsls" / "piped_linux_no_quit.txt"),
]


@pytest.mark.parametrize(("kind", "path"), COMPLETE, ids=lambda v: getattr(v, "name", v))
def test_every_complete_fixture_twice_is_refused_at_its_second_run(
    tmp_path: Path, kind: str, path: Path
) -> None:
    """The class: any complete snapshot of these formats run twice into one file.  The second
    run begins on the line after the first run's last."""
    data = path.read_bytes()
    lines = data.count(b"\n")  # every fixture ends with its line end
    twice = tmp_path / path.name
    twice.write_bytes(data + data)
    with pytest.raises(ImportFileError) as refused:
        _read(kind, twice)
    assert "holds 2 runs of '" in str(refused.value)
    assert f"(the next run begins at line {lines + 1})" in str(refused.value)
    # Once, it is read (no refusal of this kind).
    _, _, problems = _read(kind, path)
    assert problems == []


def test_runs_without_their_banners_are_told_by_what_each_run_says_once(tmp_path: Path) -> None:
    """Banners stripped (a script that keeps only what follows them): the second 'LM-X License
    Server on 6200@cae-lic01:' (text) or '<?xml'/'<LICSTAT>' (XML), the second 'rlm status on'
    of one server begin the next run; two servers in one run are not two runs."""
    text = (DATA / "lmx" / "v4_9_one_server.txt").read_text().split("\n")[3:]  # from the '+++'
    path = tmp_path / "licstat.txt"
    path.write_text("\n".join(text) + "\n".join(text))
    with pytest.raises(ImportFileError, match=r"\(the next run begins at line 55\)"):
        _read("lmx", path)
    xml = (DATA / "lmx" / "v5_2_licstatxml.txt").read_text().split("\n")[3:]  # from <LICSTAT>
    path.write_text("\n".join(xml) + "\n".join(xml))
    with pytest.raises(ImportFileError, match=r"\(the next run begins at line 15\)"):
        _read("lmx", path)
    rlmstat = (DATA / "rlm" / "v12_2_one_isv.txt").read_text().split("\n")[3:]  # banner gone
    path.write_text("\n".join(rlmstat) + "\n".join(rlmstat))
    with pytest.raises(ImportFileError, match=r"\(the next run begins at line 66\)"):
        _read("rlm", path)
    # Two servers in one run of lmxendutil (sim-lic-a, sim-lic-b): one run, read.
    _, records, problems = _read("lmx", DATA / "lmx" / "v3_32_windows_two_servers.txt")
    assert problems == []
    assert records


@pytest.mark.parametrize("path", [RLM_CRON, LMX_CRON, DSLS_TASK], ids=lambda p: p.parent.name)
def test_the_command_line_refuses_appended_runs_and_imports_nothing(
    admin: Services,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    path: Path,
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    capsys.readouterr()
    code = cli.main(["import", "usage", str(path), "--db", db_url])
    err = capsys.readouterr().err
    assert code == 1  # refused: 0 only when committed
    assert f"{path.name} holds " in err
    assert "appended to one another" in err
    with admin.db.read() as session:
        assert session.scalar(select(func.count()).select_from(UsageSession)) == 0
