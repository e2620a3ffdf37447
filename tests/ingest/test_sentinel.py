"""Sentinel RMS 'lsmon' snapshots: read exactly, or refused by file, line and field.

The fixtures are in ``tests/data/sentinel`` (its README says where their layout was seen).  Every
figure asserted here was counted by hand from the file, with the arithmetic in the comments.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest import sentinel
from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.store.models import UsageSession

FIXTURES = Path(__file__).parents[1] / "data" / "sentinel"
WINDOWS = FIXTURES / "v9_7_windows.txt"
UNIX = FIXTURES / "v9_1_unix_shared.txt"


def read_path(path: Path) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    snapshot, records = sentinel.read_lsmon(sniff(path), problems)
    return snapshot, list(records), problems


def read(tmp_path: Path, data: bytes) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    path = tmp_path / "lsmon.txt"
    path.write_bytes(data)
    return read_path(path)


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_a_windows_snapshot_is_read_with_the_figures_counted_by_hand() -> None:
    snapshot, records, problems = read_path(WINDOWS)
    assert problems == []
    # akim's second client, "Running since Tue Mar 03 10:31:17 2026" (line 52), is the latest.
    assert snapshot.taken_at == _utc(2026, 3, 3, 10, 31, 17)
    assert snapshot.servers == ("eng-lic03",)
    # PIPE_STRESS: 1 unreserved + 1 reserved token in use.
    assert snapshot.features == {
        "PLANT_DESIGN": (10, 3),
        "PLANT_REVIEW": (5, 0),
        "PIPE_STRESS": (4, 2),
    }
    assert Counter(r.feature for r in records) == {"PLANT_DESIGN": 3, "PIPE_STRESS": 2}
    assert {r.user for r in records} == {"akim", "bnovak", "cdube", "dfarah"}
    assert {r.host for r in records} == {"ENG-WS-40", "ENG-WS-41", "ENG-WS-52", "ENG-LT-17"}
    assert {(r.server, r.units, r.handle) for r in records} == {("eng-lic03", 1, "")}
    # dfarah's commuter token, checked out the Friday before, is use too.
    assert [r.checkout for r in records if r.user == "dfarah"] == [_utc(2026, 2, 27, 16, 20, 2)]
    # The file ends with lsmon's prompt: every feature it lists is whole, the last one too.
    assert snapshot.by_server == {
        "eng-lic03": frozenset({"PLANT_DESIGN", "PLANT_REVIEW", "PIPE_STRESS"})
    }
    assert snapshot.notes == (
        "line 52: lsmon prints no time of its own; the snapshot is dated by its latest start, "
        "2026-03-03 10:31:17 (it was taken then or later)",
    )


def test_clients_sharing_a_token_are_one_session_and_the_last_feature_closes_nothing() -> None:
    snapshot, records, problems = read_path(UNIX)
    assert problems == []
    assert snapshot.taken_at == _utc(2026, 6, 17, 9, 12, 33)  # fhall, line 46
    assert snapshot.features == {"VIEWER_3D": (130, 2), "ARMS_ID": (99999, 0)}
    # 3 clients, 2 tokens: egreen's two on plm-ws-03 share one (from 08:01:10).
    assert [(r.line, r.user, r.checkout) for r in records] == [
        (33, "egreen", _utc(2026, 6, 17, 8, 1, 10)),
        (41, "fhall", _utc(2026, 6, 17, 9, 12, 33)),
    ]
    assert snapshot.by_server == {"lic-plm.corp.example": frozenset({"VIEWER_3D"})}
    assert snapshot.notes == (
        "line 46: lsmon prints no time of its own; the snapshot is dated by its latest start, "
        "2026-06-17 09:12:33 (it was taken then or later)",
        "lines 33, 49: 2 clients of VIEWER_3D v1.0 by egreen on plm-ws-03 share a token, as its "
        "sharing allows and its count says: read as one session",
        "line 57: ARMS_ID is the last feature of the file, which does not end with lsmon's "
        "'Press Enter to continue': a file cut before another block of ARMS_ID would look the "
        "same, so its clients close no checkout an earlier snapshot saw (those end at their last "
        "sighting)",
    )


REFUSED = [
    # PLANT_DESIGN says 3 tokens in use (line 15); bnovak's client block was removed.
    ("refused_counts_do_not_match", 15, "tokens in use", "says 3 tokens of PLANT_DESIGN v12.0"),
    # The file ends inside cdube's status line (115), with no line end.
    ("refused_cut_mid_line", 115, "line", "is cut off"),
    # bnovak's client (line 39) has no Status line, so no start.
    ("refused_client_without_start", 39, "status", "the client has no 'Status' line"),
]


@pytest.mark.parametrize(("name", "line", "field", "said"), REFUSED)
def test_an_inconsistent_file_is_refused_by_line_and_field(
    name: str, line: int, field: str, said: str
) -> None:
    _, _, problems = read_path(FIXTURES / f"{name}.txt")
    assert [(p.line, p.column) for p in problems] == [(line, field)]
    assert problems[0].reason.startswith(said)


def test_nothing_in_use_cannot_be_dated(tmp_path: Path) -> None:
    text = UNIX.read_text()
    head = text[: text.index(" |- Feature Information")]
    arms = text[text.rindex(" |- Feature Information", 0, text.index('"ARMS_ID"')) :]
    with pytest.raises(ImportFileError, match=r"lsmon prints no time of its own, and no client"):
        read(tmp_path, (head + arms).encode())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["v9_7_windows", "v9_1_unix_shared", "two_versions"])
def test_a_snapshot_cut_at_any_byte_is_refused_or_holds_only_whole_blocks(
    tmp_path: Path, name: str
) -> None:
    """Cut anywhere, a snapshot is refused or holds exactly the whole feature blocks before the
    cut: every feature it may close has all of the full file's clients of it."""
    if name == "two_versions":  # two blocks of VIEWER_3D (v1.0 with clients, then another)
        data = UNIX.read_bytes().replace(b'"ARMS_ID"', b'"VIEWER_3D"')
    else:
        data = (FIXTURES / f"{name}.txt").read_bytes()
    _, full, problems = read(tmp_path, data)
    assert problems == []
    accepted: set[frozenset[str]] = set()
    for cut in range(len(data)):
        try:
            snapshot, records, problems = read(tmp_path, data[:cut])
        except ImportFileError:
            continue
        if problems:
            continue
        assert set(records) <= set(full), cut
        closing = {f for features in snapshot.by_server.values() for f in features}
        for feature in closing:
            got = [r for r in records if r.feature == feature]
            assert got == [r for r in full if r.feature == feature], cut
        accepted.add(frozenset(closing))
    if name == "two_versions":  # the file's last block, VIEWER_3D, closes nothing, cut or not
        assert accepted == {frozenset()}
    else:
        assert len(accepted) >= 2


# ----------------------------------------------------------------- through the command line


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
def test_the_command_line_imports_it_as_usage_and_the_peak_is_counted_by_hand(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    vendor = admin.catalog.add_vendor("Plant Software")
    product = admin.catalog.add_product(vendor, "Plant Design")
    admin.rules.add(RuleInput(product, "PLANT_DESIGN"))
    admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.CONCURRENT, 10, term_start=dt.date(2010, 1, 1))
    )
    code, out, err = _run(capsys, "import", "usage", str(WINDOWS), "--db", db_url)
    assert code == 0, err
    assert f"{WINDOWS.name}: Sentinel RMS lsmon;" in out
    assert f"{WINDOWS.name}: 5 rows, 5 new, 0 updated, 0 unchanged." in out
    # akim since 08:14 and again since 10:31, bnovak since 09:02: 3 at 10:31.
    code, out, err = _run(
        capsys, "reconcile", "--as-of", "2026-03-03", "--format", "json", "--db", db_url
    )
    assert code == 0, err
    rows = [r for r in json.loads(out)["rows"] if r["product_id"] == product]
    assert [(r["metric"], r["owned"], r["needed"]) for r in rows] == [("concurrent", 10, 3)]


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(("name", "line", "field", "said"), REFUSED)
def test_the_command_line_refuses_an_inconsistent_file_and_imports_nothing(
    admin: Services,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    *,
    name: str,
    line: int,
    field: str,
    said: str,
) -> None:
    path = FIXTURES / f"{name}.txt"
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 1, (out, err)
    assert f"  {path.name}, line {line}, {field}: {said}" in out, out
    assert "nothing was imported" in out
    assert admin.imports.history() == []


def test_offered_as_purchases_it_is_named_as_usage(admin: Services) -> None:
    with pytest.raises(ImportFileError, match=r"^v9_7_windows\.txt is Sentinel RMS 'lsmon'"):
        admin.imports.preview(WINDOWS, ImportOptions(Kind.ENTITLEMENTS))


def test_a_later_snapshot_closes_the_clients_it_no_longer_lists(
    admin: Services, tmp_path: Path
) -> None:
    admin.imports.commit(WINDOWS, ImportOptions(Kind.USAGE))
    # Later: akim's second client (10:31:17) is gone, ewu started at 11:00:02 on the same token
    # count, so the snapshot was taken at 11:00:02 or later.
    text = WINDOWS.read_text(encoding="utf-8")
    at = text.index("Running since Tue Mar 03 10:31:17 2026")
    client = text.rindex("|- Client Information", 0, at)
    text = (
        text[:client]
        + (
            text[client : at + 40]
            .replace(": akim", ": ewu")
            .replace("ENG-WS-40", "ENG-WS-44")
            .replace("10:31:17", "11:00:02")
        )
        + text[at + 40 :]
    )
    assert "ewu" in text
    later = tmp_path / "lsmon-1100.txt"
    later.write_text(text, encoding="utf-8")
    result = admin.imports.commit(later, ImportOptions(Kind.USAGE))
    assert (result.rows, result.inserted, result.unchanged, result.updated) == (5, 1, 4, 1)
    with admin.db.read() as session:
        closed = session.execute(
            select(UsageSession.user_name, UsageSession.checkout, UsageSession.checkin).where(
                UsageSession.checkin.is_not(None)
            )
        ).all()
    assert [(u, o.replace(tzinfo=dt.UTC), i.replace(tzinfo=dt.UTC)) for u, o, i in closed] == [
        ("akim", _utc(2026, 3, 3, 10, 31, 17), _utc(2026, 3, 3, 11, 0, 2))
    ]


def test_the_time_a_snapshot_was_taken_can_be_given_but_not_before_a_start_it_shows() -> None:
    problems: list[Problem] = []
    later = _utc(2026, 3, 3, 10, 35)
    snapshot, records = sentinel.read_lsmon(sniff(WINDOWS), problems, later)
    assert (problems, snapshot.taken_at, len(list(records))) == ([], later, 5)
    assert snapshot.notes[0] == (
        "lsmon prints no time of its own; the snapshot was taken at 2026-03-03 10:35:00, as the "
        "import says"
    )
    # akim's second client started at 10:31:17 (status line 52).
    sentinel.read_lsmon(sniff(WINDOWS), problems, _utc(2026, 3, 3, 10, 31))
    assert [(p.line, p.column) for p in problems] == [(52, "taken at")]
