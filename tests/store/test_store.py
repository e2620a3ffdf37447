"""Opening, creating, upgrading and refusing databases; the schema and its ledger guards."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import alembic_upgrade

import seatledger.store.db as store_db
from seatledger.domain.commitments import salt
from seatledger.errors import DatabaseError
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database, head_revision, to_url
from seatledger.store.models import Base


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def seatledger_file(tmp_path: Path) -> Path:
    """A closed SeatLedger database file at head with one operator."""
    path = tmp_path / "team.sqlite"
    db, _ = Database.open(path)
    operators.create_first_administrator(db, "admin", "", "secret lantern harbor")
    db.dispose()
    return path


@pytest.fixture
def fast_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give up on a lock after 150 ms instead of 5 s."""
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_MS", 150)


# ------------------------------------------------------------------------------ fresh database


def test_fresh_database_migrates_to_head(db_url: str) -> None:
    db, result = Database.open(db_url)
    try:
        assert result.created
        assert result.pending_upgrade is None
        assert db.current_revision() == head_revision()
    finally:
        db.dispose()
    again, second = Database.open(db_url)
    try:
        assert not second.created
        assert second.pending_upgrade is None
        assert again.current_revision() == head_revision()
    finally:
        again.dispose()


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_pragmas_on_every_new_connection(sqlite_db: Database) -> None:
    sqlite_db.engine.dispose()
    with sqlite_db.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 2,  # FULL
        "busy_timeout": store_db.BUSY_TIMEOUT_MS,
    }


def test_sqlite_file_stays_in_wal_mode_for_other_programs(sqlite_db: Database) -> None:
    path = sqlite_db.sqlite_path
    assert path is not None
    sqlite_db.dispose()
    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()


def test_sqlite_foreign_keys_are_enforced(sqlite_db: Database) -> None:
    with pytest.raises(DBAPIError, match="FOREIGN KEY"), sqlite_db.engine.begin() as conn:
        conn.execute(text("INSERT INTO product (vendor_id, name, notes) VALUES (999, 'x', '')"))


def test_to_url_and_display_name(tmp_path: Path) -> None:
    assert to_url(tmp_path / "a.sqlite") == f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert to_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert to_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert to_url("postgresql+psycopg://u:p@h/db") == "postgresql+psycopg://u:p@h/db"


def test_display_name_never_shows_a_password(database: Database) -> None:
    if database.dialect == "sqlite":
        assert database.display_name == str(database.sqlite_path)
        return
    password = database.engine.url.password
    assert password
    assert f":{password}@" not in database.display_name
    assert ":***@" in database.display_name
    assert database.sqlite_path is None


def test_unsupported_backend_is_refused() -> None:
    with pytest.raises(DatabaseError, match="Unsupported database 'mysql'"):
        Database.open("mysql://user:pw@localhost/db")


# ------------------------------------------------------------------------------------ upgrades


def test_upgrade_from_0001_takes_a_backup_first(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    alembic_upgrade(f"sqlite:///{path}", "0001")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO vendor (name, website, notes) VALUES ('Contoso', '', '')")
    conn.close()

    db, result = Database.open(path)
    try:
        assert result.pending_upgrade == "0001"
        assert not result.created
        assert db.current_revision() == "0001"  # opening alone changes nothing
        report = db.upgrade(operator="admin", role="administrator", ts="T", reason="test")
        assert db.current_revision() == head_revision()
        with db.engine.connect() as live:
            triggers = live.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
            ).scalars()
            assert list(triggers) == [
                "ledger_block_no_delete",
                "ledger_block_no_update",
                "ledger_no_delete",
                "ledger_no_update",
            ]
            assert live.exec_driver_sql("SELECT name FROM vendor").scalars().all() == ["Contoso"]
    finally:
        db.dispose()

    backup = report.backup
    assert backup is not None
    assert report.backup_sha256 == _sha256(backup)
    assert backup.parent == path.parent
    assert backup.name.startswith("old.before-upgrade-from-0001.")
    assert backup.suffix == ".sqlite"
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
        assert copy.execute("SELECT name FROM vendor").fetchall() == [("Contoso",)]
        assert copy.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='trigger'"
        ).fetchone() == (0,)
    finally:
        copy.close()


def test_upgrade_can_be_declined(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    alembic_upgrade(f"sqlite:///{path}", "0001")
    with pytest.raises(DatabaseError, match=r"\(schema 0001\) and needs an upgrade"):
        Database.open(path, upgrade=False)
    assert [p.name for p in tmp_path.iterdir()] == ["old.sqlite"]


def test_newer_sqlite_database_is_refused_unchanged(seatledger_file: Path) -> None:
    with sqlite3.connect(seatledger_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    before = _sha256(seatledger_file)
    with pytest.raises(DatabaseError) as info:
        Database.open(seatledger_file)
    message = str(info.value)
    assert str(seatledger_file) in message
    assert "newer SeatLedger" in message
    assert "schema 9999" in message
    assert "nothing was changed" in message
    assert _sha256(seatledger_file) == before
    assert sorted(p.name for p in seatledger_file.parent.iterdir()) == ["team.sqlite"]


def test_newer_database_is_refused_on_both_engines(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    url = database.url
    database.dispose()
    with pytest.raises(DatabaseError, match="newer SeatLedger"):
        Database.open(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    finally:
        engine.dispose()


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other-app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.close()
    with pytest.raises(
        DatabaseError, match="already holds tables but is not a SeatLedger database"
    ):
        Database.open(path)


# ------------------------------------------------------------------------------ bad targets


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(200)),
        ("notes.txt", b"These are my notes, not a database.\n" * 20),
        ("short.sqlite", b"SQL"),
    ],
)
def test_non_sqlite_file_is_refused_by_name(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DatabaseError) as info:
        Database.open(path)
    message = str(info.value)
    assert str(path) in message
    assert "is not a SQLite database" in message
    assert path.read_bytes() == content


def test_corrupt_sqlite_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite"
    content = b"SQLite format 3\x00" + b"\xff" * 1000
    path.write_bytes(content)
    with pytest.raises(DatabaseError) as info:
        Database.open(path)
    assert str(path) in str(info.value)
    assert "not a SQLite database" in str(info.value)
    assert path.read_bytes() == content


def test_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="is a folder, not a SeatLedger database file"):
        Database.open(tmp_path)


def test_missing_folder_is_refused_and_nothing_created(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "team.sqlite"
    with pytest.raises(DatabaseError) as info:
        Database.open(target)
    assert str(info.value) == f"The folder {tmp_path / 'no-such-folder'} does not exist."
    assert not target.parent.exists()


def test_missing_file_without_create(tmp_path: Path) -> None:
    target = tmp_path / "team.sqlite"
    with pytest.raises(DatabaseError, match="does not exist"):
        Database.open(target, create=False)
    assert not target.exists()


def test_empty_file_becomes_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    db, result = Database.open(path)
    db.dispose()
    assert result.created


# ------------------------------------------------------------------------------------ locking


@pytest.mark.usefixtures("fast_busy_timeout")
def test_write_to_a_database_locked_by_another_program(seatledger_file: Path) -> None:
    db, _ = Database.open(seatledger_file)
    services = Services.for_actor(db, operators.sign_in(db, "admin", "secret lantern harbor"))
    other = sqlite3.connect(seatledger_file, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(DatabaseError) as info:
            services.catalog.add_vendor("Contoso")
        assert time.monotonic() - started < 3
        assert "locked by another program" in str(info.value)
        assert str(seatledger_file) in str(info.value)
        other.execute("ROLLBACK")
        # Once the other program lets go, the same session works.
        services.catalog.add_vendor("Contoso")
    finally:
        other.close()
        db.dispose()


@pytest.mark.usefixtures("fast_busy_timeout")
def test_opening_a_file_locked_by_another_program(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        other.execute("CREATE TABLE scratch (x)")
        with pytest.raises(DatabaseError) as info:
            Database.open(path)
        assert "locked by another program" in str(info.value)
        assert str(path) in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()


# ----------------------------------------------------------------------------- ledger guards


def test_triggers_refuse_changes_to_the_ledger(admin: Services) -> None:
    db = admin.db
    # SQLite has no TRUNCATE; its DELETE without WHERE is the same fast path.
    clear = "TRUNCATE ledger_entry" if db.dialect == "postgresql" else "DELETE FROM ledger_entry"
    statements = [
        "UPDATE ledger_entry SET operator = 'mallory' WHERE seq = 1",
        "UPDATE ledger_entry SET body = body WHERE seq = 1",
        "DELETE FROM ledger_entry WHERE seq = 1",
        clear,
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, operator FROM ledger_entry")).all()
    assert [tuple(r) for r in rows] == [(1, "admin")]


@pytest.mark.usefixtures("fast_busy_timeout")
def test_a_lock_held_by_another_seatledger_names_it(seatledger_file: Path, tmp_path: Path) -> None:
    """The user is told which process to wait for, not 'another program'."""
    holder = tmp_path / "seatledger_import.py"  # stands for a long SeatLedger import
    holder.write_text(
        "import sqlite3, sys, time\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(30)\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [sys.executable, str(holder), str(seatledger_file)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        db, _ = Database.open(seatledger_file, create=False)
        services = Services.for_actor(db, operators.sign_in(db, "admin", "secret lantern harbor"))
        with pytest.raises(DatabaseError) as info:
            services.catalog.add_vendor("Contoso")
        db.dispose()
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    message = str(info.value)
    assert f"locked by another SeatLedger (process {process.pid}: " in message
    assert "seatledger_import.py" in message


def test_upgrade_to_0018_opens_one_membership_per_person_from_their_team(db_url: str) -> None:
    alembic_upgrade(db_url, "0017")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO team (id, name, cost_centre) VALUES (1, 'Finance', '')"))
        conn.execute(text("INSERT INTO team (id, name, cost_centre) VALUES (2, 'Sales', '')"))
        people = [
            (1, "E1", 1, "2024-03-01"),  # HR gave the first day: the team holds from it
            (2, "E2", 2, None),  # no first day: the team holds from always
            (3, "E3", None, "2025-01-01"),  # no team: no membership
        ]
        for person_id, employee_id, team_id, joined in people:
            conn.execute(
                text(
                    "INSERT INTO person (id, employee_id, name, email, team_id, status, "
                    "date_joined) VALUES (:id, :e, :e, '', :team, 'active', :joined)"
                ),
                {"id": person_id, "e": employee_id, "team": team_id, "joined": joined},
            )
    engine.dispose()
    alembic_upgrade(db_url, "0018")
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT person_id, team_id, valid_from, valid_to FROM person_team "
                    "ORDER BY person_id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [(p, t, None if f is None else str(f), u) for p, t, f, u in rows] == [
        (1, 1, "2024-03-01", None),
        (2, 2, None, None),
    ]


def test_upgrade_to_0020_keeps_each_salt_and_deletes_the_commitment_key(db_url: str) -> None:
    """The commitments already in the ledger still open (each row keeps the salt its key
    derived), and the key that let a copy of the file test guesses is gone."""
    alembic_upgrade(db_url, "0019")
    key = bytes(range(32))
    rows = [("a" * 64, "person", "7", "name"), ("b" * 64, "device", "3", "hostname")]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO setting (key, value) VALUES ('commitment_key', :v)"), {"v": key.hex()}
        )
        for commitment, entity_type, entity_id, field in rows:
            conn.execute(
                text(
                    "INSERT INTO ledger_commitment (commitment, entity_type, entity_id, field, "
                    "value) VALUES (:c, :t, :i, :f, '\"x\"')"
                ),
                {"c": commitment, "t": entity_type, "i": entity_id, "f": field},
            )
    engine.dispose()
    alembic_upgrade(db_url, "0020")
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            salts = dict(conn.execute(text("SELECT commitment, salt FROM ledger_commitment")).all())
            keys = conn.execute(text("SELECT key FROM setting")).scalars().all()
    finally:
        engine.dispose()
    assert "commitment_key" not in keys
    for commitment, entity_type, entity_id, field in rows:
        assert bytes(salts[commitment]) == salt(key, entity_type, entity_id, field)
