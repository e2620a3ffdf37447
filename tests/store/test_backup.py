"""Backup and restore: a copy only an administrator takes, recorded; a restore that verifies."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import PASSWORD
from seatledger import cli
from seatledger.domain.roles import Role
from seatledger.errors import DatabaseError, PermissionDenied
from seatledger.services.ledger.verify import verify
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import restore_database
from seatledger.store.db import Database
from seatledger.store.models import LedgerEntry, Vendor


@pytest.fixture
def sqlite_admin(sqlite_db: Database) -> Services:
    """An administrator of a SQLite database (a restore makes a SQLite file)."""
    actor = operators.create_first_administrator(sqlite_db, "admin", "Ada", PASSWORD)
    return Services.for_actor(sqlite_db, actor)


def test_a_backup_is_recorded_and_restores_into_a_verified_database(
    sqlite_admin: Services, tmp_path: Path
) -> None:
    sqlite_admin.catalog.add_vendor("Contoso")
    target = tmp_path / "copy.sqlite"
    digest = sqlite_admin.backup(target)
    with sqlite_admin.db.read() as session:
        last = session.query(LedgerEntry).order_by(LedgerEntry.seq.desc()).first()
    assert last is not None
    assert (last.action, last.operator) == ("database.backup", "admin")
    assert digest in last.body.decode()
    restored = restore_database(target, str(tmp_path / "restored.sqlite"))
    try:
        assert verify(restored).failure is None
        with restored.read() as session:
            assert [v.name for v in session.query(Vendor)] == ["Contoso"]
    finally:
        restored.dispose()


def test_only_an_administrator_takes_a_copy(
    as_role: Callable[[Role], Services], tmp_path: Path
) -> None:
    manager = as_role(Role.LICENSE_MANAGER)
    with pytest.raises(PermissionDenied):
        manager.backup(tmp_path / "copy.sqlite")
    assert not (tmp_path / "copy.sqlite").exists()


def test_a_damaged_backup_is_refused_and_nothing_is_left(
    sqlite_admin: Services, tmp_path: Path
) -> None:
    target = tmp_path / "copy.sqlite"
    sqlite_admin.catalog.add_vendor("Contoso")
    sqlite_admin.backup(target)
    conn = sqlite3.connect(target)
    conn.execute("DROP TRIGGER ledger_no_update")
    conn.execute("UPDATE ledger_entry SET body = CAST('{}' AS BLOB) WHERE seq = 1")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="does not verify"):
        restore_database(target, str(tmp_path / "restored.sqlite"))
    assert sorted(p.name for p in tmp_path.iterdir() if "restored" in p.name) == []


def test_backup_and_restore_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = Path(__file__).parents[1] / "upgrade_corpus"
    newest = sorted(corpus.glob("S*.sqlite"), key=lambda p: int(p.name[1:].split("-")[0]))[-1]
    demo = tmp_path / "demo.sqlite"
    shutil.copyfile(newest, demo)
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "demo")
    copy = tmp_path / "backup.sqlite"
    args = ["backup", "--db", str(demo), "--operator", "admin", "--out", str(copy)]
    assert cli.main(args) == cli.EXIT_OK
    assert "SHA-256" in capsys.readouterr().out
    restored = tmp_path / "restored.sqlite"
    assert cli.main(["restore", str(copy), "--db", str(restored)]) == cli.EXIT_OK
    assert "the ledger verifies" in capsys.readouterr().out
    assert cli.main(["restore", str(copy), "--db", str(restored)]) == cli.EXIT_ERROR
    assert "exists" in capsys.readouterr().err
    assert cli.main(["ledger", "verify", "--db", str(restored)]) == cli.EXIT_OK


@pytest.mark.postgres
def test_a_postgresql_database_is_backed_up_with_pg_dump(admin: Services, tmp_path: Path) -> None:
    if admin.db.dialect != "postgresql":
        pytest.skip("pg_dump backs up PostgreSQL databases")
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    target = tmp_path / "team.dump"
    admin.backup(target)
    assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
