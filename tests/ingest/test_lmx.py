"""LM-X 'lmxendutil -licstat' snapshots: read exactly, or refused by file, line and field.

The fixtures are in ``tests/data/lmx`` (its README says where their layout was seen).  Every
figure asserted here was counted by hand from the file, with the arithmetic in the comments.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD, last_entry

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest import lmx
from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.store.models import UsageSession

FIXTURES = Path(__file__).parents[1] / "data" / "lmx"


def read_path(path: Path) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    snapshot, records = lmx.read_licstat(sniff(path), problems)
    return snapshot, list(records), problems


def read(tmp_path: Path, data: bytes) -> tuple[Snapshot, list[UsageRecord], list[Problem]]:
    path = tmp_path / "licstat.txt"
    path.write_bytes(data)
    return read_path(path)


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_one_server_is_read_with_the_figures_counted_by_hand() -> None:
    snapshot, records, problems = read_path(FIXTURES / "v4_9_one_server.txt")
    assert problems == []
    # The latest login or checkout time: rkhan's on cae-hpc-02, line 55.
    assert snapshot.taken_at == _utc(2026, 3, 3, 10, 42)
    assert snapshot.servers == ("6200@cae-lic01",)
    assert snapshot.features == {
        "MeshTool": (4, 0),
        "SolverPro": (10, 3),
        "SolverPro_GUI": (5, 2),
        "SolverTokens": (1000, 250),
    }
    # SolverPro: jdoe, mtorres twice; SolverPro_GUI: jdoe, rkhan; SolverTokens: rkhan twice.
    assert Counter(r.feature for r in records) == {
        "SolverPro": 3,
        "SolverPro_GUI": 2,
        "SolverTokens": 2,
    }
    assert sum(r.units for r in records) == 255  # 3 + 2 + 100 + 150
    assert {r.user for r in records} == {"jdoe", "mtorres", "rkhan"}
    assert len({r.host for r in records}) == 5  # cae-ws-12, -15, -20, cae-hpc-01, -02
    assert {r.server for r in records} == {"cae-lic01/6200"}
    assert {r.publisher for r in records} == {"CAEWORKS"}
    # mtorres's two checkouts of 09:05 stay two sessions.
    assert [(r.line, r.checkout, r.handle) for r in records if r.user == "mtorres"] == [
        (24, _utc(2026, 3, 3, 9, 5), ""),
        (27, _utc(2026, 3, 3, 9, 5), "#2"),
    ]
    # SolverTokens is the last block: a file cut before another block of it looks the same.
    assert snapshot.by_server == {
        "cae-lic01/6200": frozenset({"MeshTool", "SolverPro", "SolverPro_GUI"})
    }
    assert snapshot.notes == (
        "line 55: lmxendutil prints no time of its own; the snapshot is dated by its latest "
        "login or checkout time, 2026-03-03 10:42 (it was taken then or later)",
        "line 44: SolverTokens is the last feature of the file, and lmxendutil writes no line "
        "after it: a file cut before another block of SolverTokens would look the same, so its "
        "checkouts close none an earlier snapshot saw (those end at their last sighting)",
    )


def test_two_servers_keep_their_own_features_and_checkouts() -> None:
    snapshot, records, problems = read_path(FIXTURES / "v3_32_windows_two_servers.txt")
    assert problems == []
    assert snapshot.taken_at == _utc(2026, 6, 18, 10, 17)  # pvarga on SIM-WS-11
    assert snapshot.servers == ("6200@sim-lic-a", "6200@sim-lic-b")
    # SimUnits: 40000 of 1000003 on a, 21000 of 500000 on b; SimViewer: 0 of 20 and 1 of 5.
    assert snapshot.features == {"SimViewer": (25, 1), "SimUnits": (1500003, 61000)}
    assert [(r.server, r.user, r.host, r.units) for r in records] == [
        ("sim-lic-a/6200", "Ann Lee", "SIM-WS-07", 15000),
        ("sim-lic-a/6200", "Ann Lee", "SIM-WS-07", 25000),
        ("sim-lic-b/6200", "pvarga", "sim-hpc-03_ver2025", 21000),
        ("sim-lic-b/6200", "pvarga", "SIM-WS-11", 1),
    ]
    # Server b's SimViewer is the file's last block; server a's is followed by b's heading.
    assert snapshot.by_server == {
        "sim-lic-a/6200": frozenset({"SimViewer", "SimUnits"}),
        "sim-lic-b/6200": frozenset({"SimUnits"}),
    }


def test_the_xml_layout_is_read_with_the_figures_counted_by_hand() -> None:
    snapshot, records, problems = read_path(FIXTURES / "v5_2_licstatxml.txt")
    assert problems == []
    assert snapshot.taken_at == _utc(2026, 3, 4, 10, 21)  # rkhan, line 14
    assert snapshot.servers == ("6200@cae-lic02",)
    assert snapshot.features == {
        "MeshTool": (4, 0),
        "SolverPro": (10, 3),
        "SolverTokens": (1000, 400),
    }
    # jdoe, mtorres twice in the same minute (#2); rkhan's 400 tokens.
    assert [(r.line, r.user, r.units, r.handle) for r in records] == [
        (9, "jdoe", 1, ""),
        (10, "mtorres", 1, ""),
        (11, "mtorres", 1, "#2"),
        (14, "rkhan", 400, ""),
    ]
    assert {(r.server, r.publisher) for r in records} == {("cae-lic02/6200", "CAEWORKS")}
    # A document cut anywhere is not well-formed: its last feature closes too.
    assert snapshot.by_server == {
        "cae-lic02/6200": frozenset({"MeshTool", "SolverPro", "SolverTokens"})
    }


@pytest.mark.parametrize(
    ("name", "said"),
    [
        # SolverPro says 3 in use; the second mtorres checkout was removed: 1 + 1.
        ("refused_counts_do_not_match", [(19, "used", "3")]),
        # The file ends inside line 55 (rkhan's times), with no line end.
        ("refused_cut_mid_line", [(55, "line", None)]),
        # jdoe's SolverPro_GUI checkout (line 36) lost its times line.
        ("refused_checkout_without_times", [(36, "checkout", "jdoe@cae-ws-12")]),
        # The XML layout: SolverPro's USED_LICENSES="3" (line 8) and two USER elements.
        ("refused_xml_counts_do_not_match", [(8, "used", "3")]),
        # The XML layout cut before rkhan's USER element: not well-formed (line 14).
        ("refused_xml_cut", [(14, "line", None)]),
    ],
)
def test_an_inconsistent_file_is_refused_by_line_and_field(
    name: str, said: list[tuple[int, str, str | None]]
) -> None:
    _, _, problems = read_path(FIXTURES / f"{name}.txt")
    assert [(p.line, p.column) for p in problems] == [(line, col) for line, col, _ in said]
    for problem, (_, _, value) in zip(problems, said, strict=True):
        if value is not None:
            assert problem.value == value


def test_no_server_reached_is_no_snapshot() -> None:
    with pytest.raises(ImportFileError, match=r"line 7: lmxendutil reached no license server"):
        read_path(FIXTURES / "refused_no_server.txt")


def test_nothing_in_use_cannot_be_dated(tmp_path: Path) -> None:
    text = (FIXTURES / "v4_9_one_server.txt").read_text().split("\n")[:13]
    with pytest.raises(ImportFileError, match=r"prints no time of its own, and no checkout"):
        read(tmp_path, ("\n".join(text) + "\n").encode())


# Two blocks of one feature (two versions) on one server: cut between them, the file looks whole.
TWO_VERSIONS = (
    b"LM-X End-user Utility v4.9.3\n\nLM-X License Server on 6200@lic01:\n\n"
    b"----------------------------------------\n"
    b"Feature: SolverPro Version: 1.0 Vendor: ACME\n\n1 of 5 license(s) used:\n\n"
    b"1 license(s) used by ann@ws-1 [10.0.0.1]\n"
    b"    Login time: 2026-03-03 09:14   Checkout time: 2026-03-03 09:15\n"
    b"----------------------------------------\n"
    b"Feature: SolverPro Version: 2.0 Vendor: ACME\n\n1 of 5 license(s) used:\n\n"
    b"1 license(s) used by bo@ws-2 [10.0.0.2]\n"
    b"    Login time: 2026-03-03 09:20   Checkout time: 2026-03-03 09:21\n"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["v4_9_one_server", "v3_32_windows_two_servers", "two_versions", "v5_2_licstatxml"]
)
def test_a_snapshot_cut_at_any_byte_is_refused_or_holds_only_whole_blocks(
    tmp_path: Path, name: str
) -> None:
    """Cut anywhere, a snapshot is refused or holds exactly the whole feature blocks before the
    cut: every feature it may close has all of the full file's checkouts of it on that server."""
    path = FIXTURES / f"{name}.txt"
    data = path.read_bytes() if path.exists() else TWO_VERSIONS
    _, full, problems = read(tmp_path, data)
    assert problems == []
    of: dict[tuple[str, str], list[UsageRecord]] = {}
    for record in full:
        of.setdefault((record.server, record.feature), []).append(record)
    accepted: set[frozenset[tuple[str, str]]] = set()
    for cut in range(len(data)):
        try:
            snapshot, records, problems = read(tmp_path, data[:cut])
        except ImportFileError:
            continue
        if problems:
            continue
        assert set(records) <= set(full), cut
        closing = {(s, f) for s, features in snapshot.by_server.items() for f in features}
        for key in closing:
            assert [r for r in records if (r.server, r.feature) == key] == of.get(key, []), cut
        accepted.add(frozenset(closing))
    if name == "two_versions":  # the file's last block, SolverPro, closes nothing, cut or not
        assert accepted == {frozenset()}
    elif name == "v5_2_licstatxml":  # cut anywhere, the document is not well-formed, except
        # before its last line end, where it is whole: every feature closes
        assert accepted == {
            frozenset(("cae-lic02/6200", f) for f in ("MeshTool", "SolverPro", "SolverTokens"))
        }
    else:  # some cuts are read (after a whole block), never one that closes a checkout it lost
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
    vendor = admin.catalog.add_vendor("CAE Works")
    product = admin.catalog.add_product(vendor, "SolverPro")
    admin.rules.add(RuleInput(product, "SolverPro"))
    admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.CONCURRENT, 10, term_start=dt.date(2010, 1, 1))
    )
    path = FIXTURES / "v4_9_one_server.txt"
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 0, err
    assert f"{path.name}: X-Formation LM-X lmxendutil -licstat;" in out
    assert f"{path.name}: 7 rows, 7 new, 0 updated, 0 unchanged." in out
    assert "lmxendutil prints no time of its own" in out
    code, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert code == 0, err
    assert "was imported before (same SHA-256); nothing changed." in out
    # jdoe since 08:11 and mtorres twice since 09:05: 3 at 10:42.
    code, out, err = _run(
        capsys, "reconcile", "--as-of", "2026-03-03", "--format", "json", "--db", db_url
    )
    assert code == 0, err
    rows = [r for r in json.loads(out)["rows"] if r["product_id"] == product]
    assert [(r["metric"], r["owned"], r["needed"]) for r in rows] == [("concurrent", 10, 3)]


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("name", "code", "said"),
    [
        (
            "refused_counts_do_not_match",
            1,
            "line 19, used: says 3 licenses of SolverPro v2026.1 are in use but its lines hold 2",
        ),
        ("refused_cut_mid_line", 1, "line 55, line: is cut off"),
        ("refused_checkout_without_times", 1, "line 36, checkout: has no 'Login time:"),
        ("refused_no_server", 2, "line 7: lmxendutil reached no license server"),
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
    path = FIXTURES / f"{name}.txt"
    got, out, err = _run(capsys, "import", "usage", str(path), "--db", db_url)
    assert got == 1, (out, err)  # refused by line (code 1) or whole (2): exit 1 either way
    printed = out + err
    assert f"{path.name}{',' if code == 1 else ''} {said}" in printed, printed
    if code == 1:
        assert "nothing was imported" in printed
        assert printed.count(f"  {path.name}, ") == 1
    assert admin.imports.history() == []


def test_offered_as_purchases_it_is_named_as_usage(admin: Services) -> None:
    with pytest.raises(ImportFileError, match=r"^v4_9_one_server\.txt is X-Formation LM-X"):
        admin.imports.preview(FIXTURES / "v4_9_one_server.txt", ImportOptions(Kind.ENTITLEMENTS))


# ----------------------------------------------------------------------- two snapshots


def _snapshot(checkouts: str, feature_tail: str = "") -> str:
    """A one-server licstat of SolverPro (5 issued) with ``checkouts``, then MeshTool last."""
    count = sum(int(line.split()[0]) for line in checkouts.splitlines() if "used by" in line)
    return (
        "LM-X End-user Utility v4.9.3\n\n"
        "LM-X License Server on 6200@lic01:\n\n"
        "----------------------------------------\n"
        "Feature: SolverPro Version: 1.0 Vendor: ACME\n\n"
        f"{count} of 5 license(s) used:\n\n{checkouts}"
        "----------------------------------------\n"
        "Feature: MeshTool Version: 1.0 Vendor: ACME\n\n"
        f"0 of 2 license(s) used\n{feature_tail}"
    )


def _used(user: str, host: str, login: str, checkout: str) -> str:
    return (
        f"1 license(s) used by {user}@{host} [10.0.0.1]\n"
        f"    Login time: 2026-03-03 {login}   Checkout time: 2026-03-03 {checkout}\n\n"
    )


def test_a_later_snapshot_closes_the_checkouts_it_no_longer_lists(
    admin: Services, tmp_path: Path
) -> None:
    first = tmp_path / "licstat-1000.txt"
    first.write_text(
        _snapshot(
            _used("ann", "ws-1", "09:14", "09:14")
            + _used("ann", "ws-1", "09:14", "09:14")
            + _used("bo", "ws-2", "09:40", "10:00")
        ),
        encoding="utf-8",
    )
    result = admin.imports.commit(first, ImportOptions(Kind.USAGE))
    assert (result.rows, result.inserted, result.updated) == (3, 3, 0)
    # At 11:05 (cy's checkout) one of ann's two is gone and cy has started.
    second = tmp_path / "licstat-1105.txt"
    second.write_text(
        _snapshot(
            _used("ann", "ws-1", "09:14", "09:14")
            + _used("bo", "ws-2", "09:40", "10:00")
            + _used("cy", "ws-3", "11:01", "11:05")
        ),
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
    # ann's second session ("#2") ended between the snapshots: closed when the second was taken.
    assert [(h, c.replace(tzinfo=dt.UTC)) for h, c in closed] == [("#2", _utc(2026, 3, 3, 11, 5))]


def test_a_snapshot_closes_only_its_own_servers_checkouts(admin: Services, tmp_path: Path) -> None:
    first = tmp_path / "lic01.txt"
    first.write_text(_snapshot(_used("ann", "ws-1", "09:14", "09:14")), encoding="utf-8")
    admin.imports.commit(first, ImportOptions(Kind.USAGE))
    other = tmp_path / "lic02.txt"
    other.write_text(
        _snapshot(_used("bo", "ws-2", "10:50", "10:51")).replace("lic01", "lic02"),
        encoding="utf-8",
    )
    result = admin.imports.commit(other, ImportOptions(Kind.USAGE))
    assert (result.inserted, result.updated) == (1, 0)


def test_a_snapshot_whose_only_feature_ends_the_file_closes_nothing(
    admin: Services, tmp_path: Path
) -> None:
    first = tmp_path / "licstat-1000.txt"
    first.write_text(_snapshot(_used("ann", "ws-1", "09:14", "09:14")), encoding="utf-8")
    admin.imports.commit(first, ImportOptions(Kind.USAGE))
    # SolverPro alone, later: ann is not listed, but a cut file would look the same.
    alone = _snapshot(_used("bo", "ws-2", "10:50", "10:51"))
    alone = alone[: alone.rindex("----------------------------------------\n")]
    second = tmp_path / "licstat-1051.txt"
    second.write_text(alone, encoding="utf-8")
    result = admin.imports.commit(second, ImportOptions(Kind.USAGE))
    assert (result.inserted, result.updated) == (1, 0)
    assert any("SolverPro is the last feature of the file" in note for note in result.notes)


def _nothing_in_use() -> str:
    return (
        "LM-X End-user Utility v4.9.3\n\nLM-X License Server on 6200@lic01:\n\n"
        "----------------------------------------\n"
        "Feature: SolverPro Version: 1.0 Vendor: ACME\n\n0 of 5 license(s) used\n"
        "----------------------------------------\n"
        "Feature: MeshTool Version: 1.0 Vendor: ACME\n\n0 of 2 license(s) used\n"
    )


def test_the_time_a_snapshot_was_taken_can_be_given_and_dates_one_of_nothing_in_use(
    admin: Services, tmp_path: Path
) -> None:
    first = tmp_path / "licstat-1000.txt"
    first.write_text(_snapshot(_used("ann", "ws-1", "09:14", "09:14")), encoding="utf-8")
    admin.imports.commit(first, ImportOptions(Kind.USAGE))
    # Nothing in use at noon: undated without the time, so it could close nothing.
    empty = tmp_path / "licstat-1200.txt"
    empty.write_text(_nothing_in_use(), encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"cannot be dated. Give the time it was taken"):
        admin.imports.preview(empty, ImportOptions(Kind.USAGE))
    noon = _utc(2026, 3, 3, 12, 0)
    result = admin.imports.commit(empty, ImportOptions(Kind.USAGE, taken_at=noon))
    assert (result.rows, result.updated) == (0, 1)
    assert (
        "lmxendutil prints no time of its own; the snapshot was taken at 2026-03-03 12:00:00, "
        "as the import says" in result.notes
    )
    with admin.db.read() as session:
        (checkin,) = session.scalars(select(UsageSession.checkin)).all()
    assert checkin is not None
    assert checkin.replace(tzinfo=dt.UTC) == noon
    # The ledger keeps who dated it: the operator's import, with the time given.
    assert last_entry(admin.db)["after"]["taken_at_given"] == "2026-03-03 12:00:00"


def test_a_given_time_before_a_checkout_the_file_shows_is_refused(tmp_path: Path) -> None:
    path = FIXTURES / "v4_9_one_server.txt"
    problems: list[Problem] = []
    snapshot, _ = lmx.read_licstat(sniff(path), problems, _utc(2026, 3, 3, 10, 41))
    # rkhan's checkout on cae-hpc-02 (line 55) is at 10:42.
    assert [(p.line, p.column, p.value) for p in problems] == [
        (55, "taken at", "2026-03-03 10:41:00")
    ]
    problems = []
    snapshot, _ = lmx.read_licstat(sniff(path), problems, _utc(2026, 3, 3, 10, 45))
    assert (problems, snapshot.taken_at) == ([], _utc(2026, 3, 3, 10, 45))


def test_a_time_is_given_only_for_snapshots_that_print_none(admin: Services) -> None:
    usage = Path(__file__).parents[1] / "data" / "usage.csv"
    with pytest.raises(ImportFileError, match=r"usage\.csv is not the output of lmxendutil"):
        admin.imports.preview(usage, ImportOptions(Kind.USAGE, taken_at=_utc(2026, 3, 3)))
    with pytest.raises(ImportFileError, match=r"is given for usage imports only, not for"):
        admin.imports.preview(
            FIXTURES / "v4_9_one_server.txt",
            ImportOptions(Kind.GRANTS, server="6200@lic01", taken_at=_utc(2026, 3, 3)),
        )


@pytest.mark.usefixtures("signed_in")
def test_the_command_line_takes_the_time_and_refuses_one_that_is_not(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "v4_9_one_server.txt"
    args = ("import", "usage", str(path), "--db", db_url, "--taken-at")
    code, out, err = _run(capsys, *args, "3/3/2026 10:45")
    assert code != 0
    assert "--taken-at '3/3/2026 10:45' is not a time" in out + err
    code, out, err = _run(capsys, *args, "2026-03-03 10:45")
    assert code == 0, err
    assert "the snapshot was taken at 2026-03-03 10:45:00, as the import says" in out
    assert len(admin.imports.history()) == 1
