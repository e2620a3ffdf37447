"""What a concurrency figure rests on: snapshots (how many, of which server, how old) or a
debug log that dates both ends of every checkout.

Figures by hand from ``tests/data/lmstat.txt`` (one snapshot of NW-SRV-LIC01, port 27000, taken
Wed 11/25/2026 10:30, showing adodsworth, mchen and praman on MATLAB) imported as three
snapshots a day apart (11/25, 11/26, 11/27 at 10:30, the same checkouts each time), and from
``tests/data/flexlm_log/v11_16_mlm_two_days.log`` (nine ``OUT: "MATLAB"`` lines, 3/2 and 3/3).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest import dsls, lmx, rlm, sentinel
from seatledger.ingest.formats import Kind
from seatledger.ingest.tabular import Problem, sniff
from seatledger.services.audits import signing
from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.audits.service import Step
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.services.settings.service import DataSettings
from seatledger.services.usage.history import Scope
from seatledger.store.db import Database
from seatledger.store.models_usage import UsageSnapshot

DATA = Path(__file__).parents[1] / "data"
LMSTAT = (DATA / "lmstat.txt").read_text(encoding="utf-8")
LOG = DATA / "flexlm_log" / "v11_16_mlm_two_days.log"
SERVER = "nw-srv-lic01/27000"
LATER = dt.datetime(2027, 7, 1, tzinfo=dt.UTC)  # the clock: after every date the tests ask about


def _at(services: Services, now: dt.datetime = LATER) -> Services:
    """``services`` with its clock at ``now``: a date in its past is observed to its end."""
    return Services.for_actor(services.db, services.actor, clock=lambda: now)


def _matlab(services: Services) -> tuple[int, int]:
    vendor = services.catalog.add_vendor("MathWorks")
    product = services.catalog.add_product(vendor, "MATLAB")
    services.rules.add(RuleInput(product, "MATLAB"))
    services.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.CONCURRENT, quantity=5)
    )
    return vendor, product


def _three_snapshots(services: Services, folder: Path) -> None:
    for day, name in ((25, "Wed"), (26, "Thu"), (27, "Fri")):
        path = folder / f"lmstat-11{day}.txt"
        path.write_text(
            LMSTAT.replace("Wed 11/25/2026 10:30", f"{name} 11/{day}/2026 10:30"), encoding="utf-8"
        )
        services.imports.commit(path, ImportOptions(Kind.USAGE))


def test_three_snapshots_of_one_server_are_counted_with_the_oldest_and_newest(
    admin: Services, tmp_path: Path
) -> None:
    _, product = _matlab(admin)
    _three_snapshots(admin, tmp_path)
    position = _at(admin).position.position(dt.date(2026, 11, 27))
    basis = position.basis[product]
    assert basis.sightings is not None
    assert (basis.sightings.count, basis.sightings.servers) == (3, (SERVER,))
    assert basis.sightings.oldest == dt.datetime(2026, 11, 25, 10, 30, tzinfo=dt.UTC)
    assert basis.sightings.newest == dt.datetime(2026, 11, 27, 10, 30, tzinfo=dt.UTC)
    assert (basis.sighted, basis.logged, basis.stale) == (3, 0, False)
    assert basis.text() == (
        f"Concurrency from 3 snapshots of {SERVER}, the oldest on 2026-11-25 10:30, the newest "
        "on 2026-11-27 10:30; between snapshots use is not observed."
    )
    # 66 days on (2026-11-27 10:30 to 2027-02-01 24:00), the newest is long past a day's interval.
    later = _at(admin).position.position(dt.date(2027, 2, 1)).basis[product]
    assert later.stale
    assert later.text() == (
        f"Concurrency from 3 snapshots of {SERVER}, the oldest on 2026-11-25 10:30, the newest "
        "on 2026-11-27 10:30, 66 days old; between snapshots use is not observed."
    )
    # Past the 90-day window no snapshot counts: the figure is no observation at all.
    gone = _at(admin).position.position(dt.date(2027, 6, 1)).basis[product]
    assert gone.stale
    assert gone.text() == (
        f"No snapshot in the 90 days to 2027-06-01: the newest of {SERVER} was taken on "
        "2026-11-27 10:30 (186 days old), so no use since is observed."
    )


def test_a_position_of_today_is_observed_up_to_now(admin: Services, tmp_path: Path) -> None:
    _, product = _matlab(admin)
    _three_snapshots(admin, tmp_path)
    # Snapshots every 4 hours: at noon on the 27th the 10:30 one is an hour and a half old
    # (not the 13 h 30 min to the end of the day).
    admin.settings.save_data(DataSettings(sampling_hours=4))
    noon = _at(admin, dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC))
    assert not noon.position.position(dt.date(2026, 11, 27)).basis[product].stale
    admin.settings.save_data(DataSettings(sampling_hours=24))
    # At 11:00 on the 28th it is 24 h 30 min old, and no snapshot came since.
    next_day = _at(admin, dt.datetime(2026, 11, 28, 11, tzinfo=dt.UTC))
    basis = next_day.position.position(dt.date(2026, 11, 28)).basis[product]
    assert basis.stale
    assert "the newest on 2026-11-27 10:30, 1 day old;" in basis.text()


def test_the_same_snapshot_imported_twice_counts_once(admin: Services, tmp_path: Path) -> None:
    _, product = _matlab(admin)
    _three_snapshots(admin, tmp_path)
    copy = tmp_path / "copy.txt"
    copy.write_text(LMSTAT.replace("\n", "\r\n"), encoding="utf-8")  # other bytes, same instant
    admin.imports.commit(copy, ImportOptions(Kind.USAGE))
    basis = _at(admin).position.position(dt.date(2026, 11, 27)).basis[product]
    assert basis.sightings is not None
    assert basis.sightings.count == 3


def test_a_debug_log_is_a_complete_history(admin: Services) -> None:
    _, product = _matlab(admin)
    admin.imports.commit(LOG, ImportOptions(Kind.USAGE))
    basis = _at(admin).position.position(dt.date(2026, 3, 3)).basis[product]
    assert (basis.logged, basis.sighted, basis.sightings, basis.stale) == (9, 0, None, False)
    assert basis.text() == (
        "Concurrency from 9 checkouts a debug log or usage file dates at both ends (complete "
        "history), in the 90 days to 2026-03-03."
    )


def test_a_log_and_a_snapshot_together_say_both(admin: Services, tmp_path: Path) -> None:
    _, product = _matlab(admin)
    admin.imports.commit(LOG, ImportOptions(Kind.USAGE))
    # One snapshot at noon on 3/3: its three MATLAB checkouts began in November 2025.
    snapshot = tmp_path / "lmstat-0303.txt"
    snapshot.write_text(
        LMSTAT.replace("Wed 11/25/2026 10:30", "Tue 3/3/2026 12:00"), encoding="utf-8"
    )
    admin.imports.commit(snapshot, ImportOptions(Kind.USAGE))
    basis = _at(admin).position.position(dt.date(2026, 3, 3)).basis[product]
    assert (basis.logged, basis.sighted) == (9, 3)
    assert basis.text() == (
        f"Concurrency from 1 snapshot of {SERVER}, on 2026-03-03 12:00 (at other times use is "
        "not observed) and from 9 checkouts a debug log or usage file dates at both ends "
        "(complete history)."
    )


def test_the_freshness_step_warns_when_the_newest_snapshot_is_old(
    admin: Services, tmp_path: Path
) -> None:
    vendor, _ = _matlab(admin)
    _three_snapshots(admin, tmp_path)
    admin = _at(admin)
    fresh = admin.audits.start(vendor, Trigger.VENDOR_REQUEST, as_of=dt.date(2026, 11, 27))
    admin.audits.set_step(fresh, Step.FRESHNESS)
    assert "snapshots" not in {w.topic for w in admin.audits.freshness(fresh)}
    assert admin.audits.concurrency_basis(fresh) == [
        (
            "MathWorks MATLAB",
            f"Concurrency from 3 snapshots of {SERVER}, the oldest on 2026-11-25 10:30, the "
            "newest on 2026-11-27 10:30; between snapshots use is not observed.",
        )
    ]
    old = admin.audits.start(vendor, Trigger.VENDOR_REQUEST, as_of=dt.date(2027, 2, 1))
    admin.audits.set_step(old, Step.FRESHNESS)
    [warning] = [w for w in admin.audits.freshness(old) if w.topic == "snapshots"]
    assert warning.text == (
        "The concurrent use of MathWorks MATLAB rests on license-server snapshots, the newest "
        "taken 2026-11-27 10:30 (66 days old on the audit date; snapshots are expected every "
        "24 hours): use since is not observed. Import a current snapshot or the server's "
        "debug log."
    )


def test_the_usage_chart_says_which_snapshots_its_checkouts_rest_on(
    admin: Services, tmp_path: Path
) -> None:
    _, product = _matlab(admin)
    _three_snapshots(admin, tmp_path)
    note = (
        f"Checkouts seen by 3 snapshots of {SERVER}, the oldest 2026-11-25 10:30, the newest "
        "2026-11-27 10:30: between snapshots use is not observed, and a checkout no snapshot "
        "showed for over 24 hours ends at its last sighting."
    )
    scope = Scope(product_id=product)
    november = admin.usage_history.series(scope, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert note in november.notes
    [by_product] = admin.usage_history.product_series(
        [product], dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    )
    assert note in by_product.notes
    # Only the 26th shown: one snapshot in the days drawn.
    one = admin.usage_history.series(scope, dt.date(2026, 11, 26), dt.date(2026, 11, 26))
    assert one.notes[-1].startswith(
        f"Checkouts seen by 1 snapshot of {SERVER}, taken 2026-11-26 10:30:"
    )
    # December: no snapshot in the days drawn, the newest is before them.
    december = admin.usage_history.series(scope, dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert december.notes[-1].startswith(
        "No license-server snapshot was taken in these days (the newest, 2026-11-27 10:30, is "
        "before them):"
    )


@pytest.fixture
def snapshots_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database file holding MATLAB (5 concurrent licenses) and the three snapshots."""
    monkeypatch.setattr(signing, "DEFAULT_KDF", signing.TEST_KDF)
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "secret words")
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "a long enough passphrase")
    path = tmp_path / "company.sqlite"
    db, _ = Database.open(path)
    try:
        admin = Services.for_actor(
            db, operators.create_first_administrator(db, "admin", "Ada Admin", "secret words")
        )
        _matlab(admin)
        _three_snapshots(admin, tmp_path)
    finally:
        db.dispose()
    return path


def test_reconcile_prints_what_concurrency_rests_on(
    snapshots_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["reconcile", "--db", str(snapshots_file), "--as-of", "2026-11-27"]) == 0
    printed = capsys.readouterr().out
    assert (
        "What each concurrent-use figure rests on:\n"
        f"  MathWorks MATLAB: Concurrency from 3 snapshots of {SERVER}, the oldest on "
        "2026-11-25 10:30, the newest on 2026-11-27 10:30; between snapshots use is not "
        "observed.\n"
    ) in printed
    # On 2026-12-01 (past: observed to its end) the newest is 4 days 13 h 30 min old.
    args = ["reconcile", "--db", str(snapshots_file), "--as-of", "2026-12-01", "--format", "json"]
    assert cli.main(args) == 0
    [(_, said)] = json.loads(capsys.readouterr().out)["concurrency_basis"].items()
    assert said["stale"] is True
    assert "the newest on 2026-11-27 10:30, 4 days old;" in said["text"]


@pytest.mark.slow
def test_the_audit_report_says_what_concurrency_rests_on(
    snapshots_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = ["audit", "run", "--db", str(snapshots_file), "--operator", "admin"]
    args += ["--vendor", "mathworks", "--attest", "Complete.", "--out", str(out)]
    assert cli.main([*args, "--charts", "0", "--as-of", "2026-12-01"]) == 0
    printed = capsys.readouterr().out
    assert "not acknowledged: snapshots" in printed
    assert (
        f"  concurrency of MathWorks MATLAB: Concurrency from 3 snapshots of {SERVER}, the oldest "
        "on 2026-11-25 10:30, the newest on 2026-11-27 10:30, 4 days old; between snapshots use "
        "is not observed.\n"
    ) in printed
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    report = json.loads((folder / "report.json").read_text())
    assert report["concurrency_basis"] == [
        {
            "product": "MathWorks MATLAB",
            "rests_on": f"Concurrency from 3 snapshots of {SERVER}, the oldest on 2026-11-25 "
            "10:30, the newest on 2026-11-27 10:30, 4 days old; between snapshots use is not "
            "observed.",
        }
    ]
    assert "snapshots" in {a["topic"] for a in report["acknowledgements"]}
    schema = json.loads((Path(__file__).parents[2] / "docs" / "report.schema.json").read_text())
    jsonschema.validate(report, schema)


SNAPSHOT_FORMATS = [
    ("rlm", "v12_2_one_isv.txt", rlm.read_rlmstat),
    ("lmx", "v4_9_one_server.txt", lmx.read_licstat),
    ("dsls", "transcript_windows.txt", dsls.read_license_usage),
    ("sentinel", "v9_7_windows.txt", sentinel.read_lsmon),
]


@pytest.mark.parametrize(
    ("folder", "name", "reader"), SNAPSHOT_FORMATS, ids=[f for f, _, _ in SNAPSHOT_FORMATS]
)
def test_every_snapshot_format_records_the_instant_and_features_it_looked_at(
    admin: Services, folder: str, name: str, reader: Any
) -> None:
    """RLM, LM-X, DSLS and Sentinel RMS are snapshots as lmstat is: an import records one row a
    server and feature at the instant the file says it was taken (the reader's own figures),
    features showing nothing in use included; the same file again adds nothing."""
    path = DATA / folder / name
    problems: list[Problem] = []
    snapshot, records = reader(sniff(path), problems)
    list(records)
    assert problems == []
    admin.imports.commit(path, ImportOptions(Kind.USAGE))
    with admin.db.read() as session:
        rows = session.execute(select(UsageSnapshot.feature, UsageSnapshot.taken_at)).all()
    assert rows, "no snapshot recorded"
    assert {taken.replace(tzinfo=dt.UTC) for _, taken in rows} == {snapshot.taken_at}
    assert {feature for feature, _ in rows} == set(snapshot.features)
    admin.imports.commit(path, ImportOptions(Kind.USAGE))  # the same snapshot again
    with admin.db.read() as session:
        assert session.scalar(select(func.count()).select_from(UsageSnapshot)) == len(rows)
