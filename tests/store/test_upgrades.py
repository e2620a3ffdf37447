"""Every schema a user may hold opens in this SeatLedger: the corpus of real older databases.

``tests/upgrade_corpus`` holds a small demo database made by the SeatLedger of every schema
state ever on main, and the figures that version showed (its manifest).  Each is upgraded to
head on SQLite and on PostgreSQL (its rows copied into a PostgreSQL schema of the same state),
and must then verify its ledger, keep its rows, list the same licenses and compute the same
position, with the upgrade itself recorded as a ledger entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, create_engine, inspect, select, text
from tests.conftest import _reset_postgres

from seatledger import cli
from seatledger.domain.merkle import BLOCK
from seatledger.errors import UpgradeError
from seatledger.services.catalog.queries import EntitlementQuery
from seatledger.services.core.context import Actor, Context
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.workspace import Workspace, upgrade_database
from seatledger.services.position.engine import PositionService
from seatledger.store.db import HEAD_REVISION, MIGRATIONS, Database
from seatledger.store.models import LedgerEntry

CORPUS = Path(__file__).parents[1] / "upgrade_corpus"
MANIFEST: dict[str, Any] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
BUILT = [entry for entry in MANIFEST["files"] if entry["status"] == "ok"]
DEMO_PASSWORD = "demo"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _content(path: Path) -> str:
    """The SHA-256 of a SQLite file's schema and rows (its bytes change with the journal mode)."""
    conn = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()


def _copy(entry: dict[str, Any], folder: Path) -> Path:
    target = folder / entry["file"]
    shutil.copyfile(CORPUS / entry["file"], target)
    return target


def _licenses(db: Database) -> list[dict[str, Any]]:
    query = EntitlementQuery(Context.reader(db))
    rows = query.entitlements(list(query.keys()))
    return [
        {"id": r.id, "product": r.product, "name": r.name, "quantity": r.quantity, "used": r.used}
        for r in sorted(rows.values(), key=lambda r: r.id)
    ]


def _position(db: Database, as_of: str, shelf_days: int) -> dict[str, Any]:
    position = PositionService(Context.reader(db)).position(
        dt.date.fromisoformat(as_of), shelf_days
    )

    def text_of(value: object) -> str | None:
        return None if value is None else str(value)

    rows = sorted(
        (
            {
                "product_id": r.product_id,
                "vendor": r.vendor,
                "product": r.product,
                "metric": r.metric.value,
                "bought": r.bought,
                "owned": r.owned,
                "assigned": r.assigned,
                "needed": r.needed,
                "available": r.available,
                "shortfall": r.shortfall,
                "over_licensed": r.over_licensed,
                "unlicensed": r.unlicensed,
                "unit_cost": text_of(r.unit_cost),
                "true_up": text_of(r.true_up),
                "currency": r.currency,
            }
            for r in position.rows
        ),
        key=lambda r: (r["product_id"], r["metric"]),
    )
    findings = sorted(
        (f.kind.value, f.product_id, f.entitlement_id or 0, f.count) for f in position.findings
    )
    return {"facts": dict(position.facts), "rows": rows, "findings": findings}


def _structure(url: str) -> dict[str, Any]:
    """Tables, columns, indexes and foreign keys as the engine reports them (order-free)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            shape: dict[str, Any] = {}
            for table in sorted(found.get_table_names()):
                shape[table] = {
                    "columns": sorted(
                        (c["name"], str(c["type"]), bool(c["nullable"]))
                        for c in found.get_columns(table)
                    ),
                    "indexes": sorted(
                        (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                        for ix in found.get_indexes(table)
                    ),
                    "foreign_keys": sorted(
                        (
                            tuple(fk["constrained_columns"]),
                            fk["referred_table"],
                            tuple(fk["referred_columns"]),
                        )
                        for fk in found.get_foreign_keys(table)
                    ),
                    "primary_key": tuple(found.get_pk_constraint(table)["constrained_columns"]),
                }
            return shape
    finally:
        engine.dispose()


def _load_into_postgres(source: Path, url: str, revision: str) -> None:
    """Rebuild a corpus database in PostgreSQL: its schema state, then every row as stored.

    The schema is Alembic's at the file's revision less what that state lacked (the scaffolded
    revisions were once empty), so the PostgreSQL copy has exactly the tables the file has.
    """
    _reset_postgres(url)
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    lite = create_engine(f"sqlite:///{source}")
    with lite.connect() as old, engine.begin() as new:
        have = set(inspect(old).get_table_names())
        made = set(inspect(new).get_table_names())
        for table in sorted(made - have):
            new.exec_driver_sql(f'DROP TABLE "{table}" CASCADE')
        for table in sorted(have & made):
            indexes = {ix["name"] for ix in inspect(old).get_indexes(table)}
            for ix in inspect(new).get_indexes(table):
                if ix["name"] not in indexes and not ix["name"].startswith("uq_"):
                    new.exec_driver_sql(f'DROP INDEX "{ix["name"]}"')
        metadata = MetaData()
        for name in sorted(have & made - {"alembic_version"}):
            Table(name, metadata, autoload_with=new)
        for table in metadata.sorted_tables:  # referenced tables first
            # Read through PostgreSQL's column types, so booleans, dates and bytes convert.
            rows = [dict(r._mapping) for r in old.execute(select(table))]
            if rows:
                new.execute(table.insert(), rows)
            if "id" in table.c:
                new.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                )
    lite.dispose()
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def older(
    request: pytest.FixtureRequest, engine_name: str, tmp_path: Path
) -> Iterator[tuple[dict[str, Any], str]]:
    """A corpus database (the test's parameter) on each engine, as its SeatLedger left it."""
    entry: dict[str, Any] = request.param
    path = _copy(entry, tmp_path)
    if engine_name == "sqlite":
        yield entry, str(path)
        return
    url: str = request.getfixturevalue("postgres_session_url")
    _load_into_postgres(path, url, entry["alembic_revision"])
    yield entry, url


@pytest.mark.slow
@pytest.mark.parametrize("older", BUILT, ids=[e["file"] for e in BUILT], indirect=True)
def test_every_older_database_upgrades_with_its_figures_intact(
    older: tuple[dict[str, Any], str], tmp_path: Path
) -> None:
    entry, target = older
    stored = entry["alembic_revision"]
    size = entry["ledger"]["size"]
    db, opened = Database.open(target, create=False)
    try:
        assert db.current_revision() == stored  # opening alone changes nothing
        if stored == HEAD_REVISION:  # head's own database: nothing to upgrade, same checks
            assert opened.pending_upgrade is None
            assert ledger.verify(db).entries == size
        else:
            assert opened.pending_upgrade == stored
            _check_upgrade(db, entry, operators.sign_in(db, "admin", DEMO_PASSWORD))
        assert _licenses(db) == entry["licenses"]["rows"]
        position = entry["position"]
        if position.get("rows") is not None:
            now = _position(db, position["as_of"], position["shelf_days"])
            assert now["facts"] == position["facts"]
            assert now["rows"] == position["rows"]
            assert now["findings"] == sorted(
                (f["kind"], f["product_id"], f["entitlement_id"] or 0, f["count"])
                for f in position["findings"]
            )
    finally:
        db.dispose()

    # The schema is the one a new database gets, whatever state it started from.
    upgraded = _structure(db.url)
    if db.dialect == "sqlite":
        fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        fresh = target
        _reset_postgres(fresh)
    Database.open(fresh)[0].dispose()
    assert upgraded == _structure(fresh)


def _check_upgrade(db: Database, entry: dict[str, Any], actor: Actor) -> None:
    """Upgrade as ``actor``: rows kept, the old chain intact, the upgrade recorded."""
    stored, size = entry["alembic_revision"], entry["ledger"]["size"]
    with db.read() as session:
        in_a_team = session.scalar(text("SELECT COUNT(*) FROM person WHERE team_id IS NOT NULL"))
        keys = session.scalar(text("SELECT COUNT(*) FROM setting WHERE key = 'commitment_key'"))
    report = upgrade_database(db, actor)
    assert db.current_revision() == HEAD_REVISION
    with db.read() as session:  # 0031 rebuilds a snapshot per server, feature and last sighting
        sightings = session.scalar(
            text(
                "SELECT COUNT(*) FROM (SELECT DISTINCT lower(server), feature, seen_at "
                "FROM usage_session WHERE seen_at IS NOT NULL) AS sighted"
            )
        )
    # Every row kept: the upgrade adds tables and its own ledger entry, nothing else.  A ledger
    # older than its Merkle tree gets one: a root for each complete block of 32 entries; people
    # older than their team history get their current team as one open membership each; the
    # commitment key leaves (0020: each salt is kept beside its value instead); the checkouts'
    # distinct last sightings become recovered snapshots (0031).
    counts = entry["row_counts"]
    derived = {
        "ledger_block": (size + 1) // BLOCK,
        "person_team": in_a_team,
        "setting": (counts.get("setting") or 0) - keys,
        "usage_snapshot": sightings,
    }
    for table, (before, after) in report.rows.items():
        assert before == counts.get(table), table
        assert after == derived.get(table, counts.get(table) or 0), table
    assert set(counts) - {"alembic_version"} <= set(report.rows)

    verdict = ledger.verify(db)
    assert verdict.failure is None
    assert verdict.entries == size + 1
    with db.read() as session:
        kept = session.scalar(select(LedgerEntry.hash).where(LedgerEntry.seq == size))
        last = session.scalars(
            select(LedgerEntry).where(LedgerEntry.seq == report.ledger_seq)
        ).one()
    assert bytes(kept or b"").hex() == entry["ledger"]["head"]  # the old chain, unchanged
    assert (last.action, last.operator, last.entity_type) == (
        "database.upgrade",
        actor.name,
        "database",
    )
    what = ledger.decode_body(last.body)["what"]
    assert what["before"] == {"schema": stored}
    assert what["after"]["schema"] == HEAD_REVISION
    if db.dialect == "sqlite":
        assert report.backup is not None
        assert what["after"]["backup"] == report.backup.name
        assert what["after"]["backup_sha256"] == _sha256(report.backup)
        copy = sqlite3.connect(report.backup)
        try:
            version = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            copy.close()
        assert version == (stored,)
    elif shutil.which("pg_dump") is not None:  # PostgreSQL: pg_dump's copy, named likewise
        assert report.backup is not None
        assert report.backup.read_bytes()[:5] == b"PGDMP"
        assert what["after"]["backup"] == report.backup.name
        assert what["after"]["backup_sha256"] == _sha256(report.backup)


def test_head_has_a_corpus_database() -> None:
    """A new migration must add the database its SeatLedger builds (build_corpus.py)."""
    assert HEAD_REVISION in {entry["alembic_revision"] for entry in BUILT}


def test_the_corpus_is_what_the_manifest_says() -> None:
    for entry in BUILT:
        path = CORPUS / entry["file"]
        assert _sha256(path) == entry["sha256"], entry["file"]


OLDEST = BUILT[0]


@pytest.fixture
def oldest(tmp_path: Path) -> Path:
    """The oldest corpus database (schema 0002) in a folder of its own."""
    folder = tmp_path / "db"
    folder.mkdir()
    return _copy(OLDEST, folder)


def test_dry_run_reports_and_leaves_the_file_as_it_was(
    oldest: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEATLEDGER_PASSWORD", DEMO_PASSWORD)
    before = _content(oldest)
    code = cli.main(["upgrade", "--db", str(oldest), "--operator", "admin", "--dry-run"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    assert f"upgrades from schema {OLDEST['alembic_revision']} to {HEAD_REVISION}" in out
    assert "nothing was changed" in out
    people = OLDEST["row_counts"]["person"]
    assert f"  {'person':<22} {people:>12,} -> {people:,}" in out
    assert _content(oldest) == before
    assert not list(oldest.parent.glob("*.before-upgrade-*"))  # no backup either


def test_upgrade_command_then_write_commands_work(
    oldest: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEATLEDGER_PASSWORD", DEMO_PASSWORD)
    # Reading an older database asks for the upgrade and changes nothing.
    assert cli.main(["licenses", "--db", str(oldest)]) == cli.EXIT_ERROR
    assert "seatledger upgrade" in capsys.readouterr().err
    assert cli.main(["upgrade", "--db", str(oldest), "--operator", "admin"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    backups = sorted(oldest.parent.glob("*.before-upgrade-from-*"))
    assert len(backups) == 1
    assert str(backups[0]) in out
    assert f"Backup SHA-256: {_sha256(backups[0])}" in out
    assert cli.main(["upgrade", "--db", str(oldest), "--operator", "admin"]) == cli.EXIT_OK
    assert "already" in capsys.readouterr().out
    add = ["vendor", "add", "--db", str(oldest), "--operator", "admin", "Upgraded Inc"]
    assert cli.main(add) == cli.EXIT_OK
    assert cli.main(["ledger", "verify", "--db", str(oldest)]) == cli.EXIT_OK


def test_a_write_command_upgrades_as_the_operator_who_signs_in(
    oldest: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEATLEDGER_PASSWORD", DEMO_PASSWORD)
    code = cli.main(["vendor", "add", "--db", str(oldest), "--operator", "manager", "Acme Ltd"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_OK, captured.err
    assert f"to {HEAD_REVISION}" in captured.err  # said on standard error
    assert _newest_entries(oldest, 2) == [
        ("database.upgrade", "manager"),
        ("vendor.create", "manager"),
    ]


def _newest_entries(path: Path, count: int) -> list[tuple[str, str]]:
    """(action, operator) of the newest ledger entries, oldest first."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT action, operator FROM ledger_entry ORDER BY seq DESC LIMIT ?", (count,)
        ).fetchall()
    finally:
        conn.close()
    return [(str(a), str(o)) for a, o in reversed(rows)]


def _break_a_reference(path: Path) -> None:
    """A seat pointing at a person who does not exist (written with enforcement off)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE seat_assignment SET person_id = 999999 WHERE id = 1")
        conn.commit()
    finally:
        conn.close()


def test_a_failed_upgrade_changes_nothing_and_says_where_the_backup_is(
    oldest: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _break_a_reference(oldest)
    before = _content(oldest)
    monkeypatch.setenv("SEATLEDGER_PASSWORD", DEMO_PASSWORD)
    assert cli.main(["upgrade", "--db", str(oldest), "--operator", "admin"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    backup = next(oldest.parent.glob("*.before-upgrade-from-*"))
    assert "seat_assignment row 1 refers to a missing person" in err
    assert f"still at schema {OLDEST['alembic_revision']}" in err
    assert "Nothing was changed" in err
    assert str(backup) in err
    assert _content(oldest) == before
    # A dry run finds the same fault without a backup.
    assert (
        cli.main(["upgrade", "--db", str(oldest), "--operator", "admin", "--dry-run"])
        == cli.EXIT_ERROR
    )
    assert "refers to a missing person" in capsys.readouterr().err
    assert len(list(oldest.parent.glob("*.before-upgrade-from-*"))) == 1


def test_signing_in_upgrades_and_a_failure_is_told_in_the_dialog(oldest: Path) -> None:
    workspace = Workspace.open(oldest, create=False)
    try:
        assert workspace.pending_upgrade == (OLDEST["alembic_revision"], HEAD_REVISION)
        services = workspace.sign_in("auditor", DEMO_PASSWORD)
        assert workspace.upgraded is not None
        assert workspace.upgraded.to_revision == HEAD_REVISION
        assert workspace.pending_upgrade is None
        assert services.ctx.actor.name == "auditor"
    finally:
        workspace.close()


def test_a_failed_upgrade_at_sign_in_leaves_the_database_to_its_old_version(oldest: Path) -> None:
    _break_a_reference(oldest)
    workspace = Workspace.open(oldest, create=False)
    try:
        with pytest.raises(UpgradeError, match="Nothing was changed") as info:
            workspace.sign_in("admin", DEMO_PASSWORD)
        assert info.value.backup is not None
        assert workspace.pending_upgrade is not None
    finally:
        workspace.close()
    conn = sqlite3.connect(oldest)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            OLDEST["alembic_revision"],
        )
    finally:
        conn.close()


def test_reading_the_upgraded_file_needs_no_sign_in(oldest: Path) -> None:
    db, _ = Database.open(oldest, create=False)
    actor = operators.sign_in(db, "viewer", DEMO_PASSWORD)
    upgrade_database(db, actor)
    db.dispose()
    with sqlite3.connect(oldest) as conn:
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)  # a fresh connection
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    again, opened = Database.open(oldest, create=False, upgrade=False)
    try:
        assert opened.pending_upgrade is None
        with again.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        again.dispose()


@pytest.mark.slow
def test_killing_the_upgrade_at_any_moment_leaves_the_old_or_the_new_database(
    tmp_path: Path,
) -> None:
    """kill -9 during an upgrade: the file holds either schema, never a mix, and verifies.

    Each run is killed a little later after its backup copy appears (the upgrade's transaction
    starts right after it); the last runs to its end.
    """
    env = {**os.environ, "SEATLEDGER_PASSWORD": DEMO_PASSWORD}
    seen: list[str] = []
    for attempt, delay in enumerate((0.0, 0.01, 0.03, 0.06, 0.1, 0.2, None)):
        folder = tmp_path / f"run{attempt}"
        folder.mkdir()
        path = _copy(OLDEST, folder)
        args = ["upgrade", "--db", str(path), "--operator", "admin"]
        child = subprocess.Popen(
            [sys.executable, "-m", "seatledger", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if delay is None:
            assert child.wait(60) == 0
        else:
            deadline = time.monotonic() + 60
            while not list(folder.glob("*.before-upgrade-*")) and child.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.002)
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            child.wait()
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            entries = conn.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
        seen.append(revision)
        size = OLDEST["ledger"]["size"]
        if revision == OLDEST["alembic_revision"]:
            assert entries == size
            assert tables == set(OLDEST["row_counts"])  # not one table added
        else:
            assert revision == HEAD_REVISION
            assert entries == size + 1
            db, _ = Database.open(path, create=False)
            try:
                assert ledger.verify(db).failure is None
            finally:
                db.dispose()
    # The first kill lands inside the upgrade's transaction; the last run completes.
    assert seen[0] == OLDEST["alembic_revision"], seen
    assert seen[-1] == HEAD_REVISION, seen
