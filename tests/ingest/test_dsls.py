"""Dassault DSLS license usage ('DSLicSrv -admin', 'getLicenseUsage -csv'): read exactly, or
refused by file, line and field.

The fixtures are in ``tests/data/dsls`` (its README says where their layout was seen).  Every
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
from seatledger.ingest import dsls
from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.store.models import UsageSession

FIXTURES = Path(__file__).parents[1] / "data" / "dsls"
WINDOWS = FIXTURES / "transcript_windows.txt"
PIPED = FIXTURES / "piped_linux_no_quit.txt"


def read_path(path: Path) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    snapshot, records = dsls.read_license_usage(sniff(path), problems)
    return snapshot, list(records), problems


def read(tmp_path: Path, data: bytes) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    path = tmp_path / "dsls.txt"
    path.write_bytes(data)
    return read_path(path)


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_an_admin_transcript_is_read_with_the_figures_counted_by_hand() -> None:
    snapshot, records, problems = read_path(WINDOWS)
    assert problems == []
    # ops1's "Last Used At" 2026-03-03 10:42:07 (line 13) is the latest time of a session.
    assert snapshot.taken_at == _utc(2026, 3, 3, 10, 42, 7)
    assert snapshot.servers == ("4085@dsls01",)
    assert snapshot.features == {"PAC": (1, 0), "MD2": (5, 2), "SRU": (300, 160), "HD2": (3, 1)}
    assert Counter(r.feature for r in records) == {"MD2": 2, "SRU": 3, "HD2": 1}
    assert sum(r.units for r in records) == 163  # 1 + 1, 80 + 50 + 30, 1
    assert {r.user for r in records} == {"mlarsen", "npetit", "ops1", "ops2", "qchen"}
    assert {r.host for r in records} == {"eng-ws-07", "eng-ws-12", "hpc-n01", "hpc-n02"}
    assert {r.server for r in records} == {"dsls01/4085"}
    assert {r.publisher for r in records} == {"Dassault Systemes"}
    # The session's ID is the handle; the start is "Granted Since".
    assert [(r.feature, r.handle, r.checkout) for r in records if r.user == "mlarsen"] == [
        ("MD2", "3F1A22", _utc(2026, 3, 2, 8, 2, 11)),
        ("HD2", "3F1A22", _utc(2026, 3, 3, 8, 5, 40)),
    ]
    # The transcript ends with 'quit': every license it lists is whole.
    assert snapshot.by_server == {"dsls01/4085": frozenset({"PAC", "MD2", "SRU", "HD2"})}
    assert snapshot.notes == (
        "line 13: DSLS prints no time of its own; the snapshot is dated by the latest time a "
        "session gives (Last Used At), 2026-03-03 10:42:07 (it was taken then or later)",
    )


def test_piped_output_names_its_server_and_keeps_two_sessions_of_one_second() -> None:
    snapshot, records, problems = read_path(PIPED)
    assert problems == []
    assert snapshot.taken_at == _utc(2026, 6, 17, 11, 2, 44)  # rbauer's second, line 10
    assert snapshot.servers == ("lic-dsls2",)  # 'Server name:'; no 'connect' was echoed
    assert snapshot.features == {"XMN": (4, 0), "ELN": (10, 3)}
    # rbauer's two ELN sessions were granted in the same second: two session IDs.
    assert [(r.user, r.host, r.handle) for r in records] == [
        ("rbauer", "lab-07", "0A11F3"),
        ("rbauer", "lab-07", "0A11F9"),
        ("svogel", "lab-11", "0A1207"),
    ]
    # No 'quit' after it: ELN, the last license, closes nothing.
    assert snapshot.by_server == {"lic-dsls2": frozenset({"XMN"})}
    assert snapshot.notes[1] == (
        "line 9: ELN is the last license of the file, which does not end with the admin tool's "
        "'quit': a file cut before another license of ELN would look the same, so its sessions "
        "close none an earlier snapshot saw (those end at their last sighting)"
    )


REFUSED = [
    # SRU says 160 in use (its first row, line 13); qchen's 30 tokens were removed: 80 + 50.
    ("refused_counts_do_not_match", 13, "Inuse", "says 160 licenses of SRU are in use"),
    # The file ends inside ops2's row (line 14), with no line end.
    ("refused_cut_mid_line", 14, "line", "is cut off"),
]


@pytest.mark.parametrize(("name", "line", "field", "said"), REFUSED)
def test_an_inconsistent_file_is_refused_by_line_and_field(
    name: str, line: int, field: str, said: str
) -> None:
    _, _, problems = read_path(FIXTURES / f"{name}.txt")
    assert [(p.line, p.column) for p in problems] == [(line, field)]
    assert problems[0].reason.startswith(said)


def test_the_table_alone_names_no_server_and_is_refused() -> None:
    with pytest.raises(ImportFileError, match=r"line 1: the license usage table names no license"):
        read_path(FIXTURES / "refused_table_alone.csv")


def test_nothing_in_use_cannot_be_dated(tmp_path: Path) -> None:
    lines = PIPED.read_text().splitlines()[:8]  # the status, the header and XMN's row
    with pytest.raises(ImportFileError, match=r"DSLS prints no time of its own, and no session"):
        read(tmp_path, ("\n".join(lines) + "\n").encode())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["transcript_windows", "piped_linux_no_quit", "two_licenses"])
def test_a_snapshot_cut_at_any_byte_is_refused_or_holds_only_whole_licenses(
    tmp_path: Path, name: str
) -> None:
    """Cut anywhere, a snapshot is refused or holds exactly the whole licenses before the cut:
    every feature it may close has all of the full file's sessions of it."""
    if name == "two_licenses":  # SRU as two licenses (Token, then HD2's row as ConcurrentUser)
        data = (
            WINDOWS.read_bytes()
            .replace(b"HD2,ConcurrentUser", b"SRU,ConcurrentUser")
            .replace(b"admin >quit\r\n", b"")
        )
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
    if name == "piped_linux_no_quit":  # every cut is undated (no session) or does not add up
        assert accepted == set()
    else:  # cut after a whole license: read
        assert len(accepted) >= 2
    if name == "two_licenses":  # SRU ends the file (no 'quit'): it closes nothing, cut or not
        assert not any("SRU" in closing for closing in accepted)


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
    vendor = admin.catalog.add_vendor("Dassault Systemes")
    product = admin.catalog.add_product(vendor, "Simulation tokens")
    admin.rules.add(RuleInput(product, "SRU"))
    admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.CONCURRENT, 300, term_start=dt.date(2010, 1, 1))
    )
    code, out, err = _run(capsys, "import", "usage", str(WINDOWS), "--db", db_url)
    assert code == 0, err
    assert f"{WINDOWS.name}: Dassault DSLS getLicenseUsage;" in out
    assert f"{WINDOWS.name}: 6 rows, 6 new, 0 updated, 0 unchanged." in out
    # ops1's 80 since 06:00, ops2's 50 since 07:30, qchen's 30 since 10:12: 160 at 10:42.
    code, out, err = _run(
        capsys, "reconcile", "--as-of", "2026-03-03", "--format", "json", "--db", db_url
    )
    assert code == 0, err
    rows = [r for r in json.loads(out)["rows"] if r["product_id"] == product]
    assert [(r["metric"], r["owned"], r["needed"]) for r in rows] == [("concurrent", 300, 160)]


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("name", "code", "said"),
    [
        (*REFUSED[0][:1], 1, "refused_counts_do_not_match.txt, line 13, Inuse: says 160"),
        (*REFUSED[1][:1], 1, "refused_cut_mid_line.txt, line 14, line: is cut off"),
        ("refused_table_alone", 2, "refused_table_alone.csv line 1: the license usage table"),
    ],
)
def test_the_command_line_refuses_an_inconsistent_file_and_imports_nothing(
    admin: Services,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    *,
    name: str,
    code: int,
    said: str,
) -> None:
    path = next(FIXTURES.glob(f"{name}.*"))
    got, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert got == 1, (out, err)  # refused by line (code 1) or whole (2): exit 1 either way
    assert said in out + err
    assert admin.imports.history() == []


def test_a_later_snapshot_closes_the_sessions_it_no_longer_lists(
    admin: Services, tmp_path: Path
) -> None:
    admin.imports.commit(WINDOWS, ImportOptions(Kind.USAGE))
    # Later: npetit's MD2 session is gone (MD2 1 in use), ops1 was last used at 11:30:00.
    lines = [line for line in WINDOWS.read_text().splitlines() if ",npetit," not in line]
    text = (
        "\n".join(lines)
        .replace(",20417,5,2,", ",20417,5,1,")
        .replace("2026-03-03 10:42:07", "2026-03-03 11:30:00")
    )
    later = tmp_path / "dsls-1130.txt"
    later.write_text(text + "\n", encoding="utf-8")
    result = admin.imports.commit(later, ImportOptions(Kind.USAGE))
    assert (result.rows, result.inserted, result.unchanged, result.updated) == (5, 0, 5, 1)
    with admin.db.read() as session:
        closed = session.execute(
            select(UsageSession.user_name, UsageSession.checkin).where(
                UsageSession.checkin.is_not(None)
            )
        ).all()
    assert [(u, i.replace(tzinfo=dt.UTC)) for u, i in closed] == [
        ("npetit", _utc(2026, 3, 3, 11, 30))
    ]


def test_the_time_a_snapshot_was_taken_can_be_given_but_not_before_a_time_it_shows(
    tmp_path: Path,
) -> None:
    problems: list[Problem] = []
    later = _utc(2026, 6, 17, 11, 5)
    snapshot, _ = dsls.read_license_usage(sniff(PIPED), problems, later)
    assert (problems, snapshot.taken_at) == ([], later)
    # rbauer's second session was last used at 11:02:44 (line 10).
    dsls.read_license_usage(sniff(PIPED), problems, _utc(2026, 6, 17, 11, 0))
    assert [(p.line, p.column) for p in problems] == [(10, "taken at")]
    # Nothing in use: dated as given.
    lines = PIPED.read_text().splitlines()[:8]
    snapshot, records = read_given(tmp_path, "\n".join(lines) + "\n", later)
    assert (snapshot.taken_at, records, snapshot.features) == (later, [], {"XMN": (4, 0)})


def read_given(
    tmp_path: Path, text: str, taken_at: dt.datetime
) -> tuple[Snapshot, list[UsageRecord]]:
    path = tmp_path / "given.txt"
    path.write_text(text, encoding="utf-8")
    problems: list[Problem] = []
    snapshot, records = dsls.read_license_usage(sniff(path), problems, taken_at)
    assert problems == []
    return snapshot, list(records)
