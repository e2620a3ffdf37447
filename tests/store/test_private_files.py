"""What holds operator hashes and sealed keys is readable by its owner alone, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from seatledger import cli
from seatledger.paths import private_folder
from seatledger.services.operators import accounts as operators
from seatledger.store.db import Database


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default (0644 files, 0755 folders) the database must not inherit."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_new_database_its_wal_and_its_backups_are_private(tmp_path: Path) -> None:
    path = tmp_path / "org.sqlite"
    db, _ = Database.open(path)
    try:
        operators.create_first_administrator(db, "admin", "", "correct horse battery")
        assert _mode(path) == 0o600
        assert _mode(path.with_name("org.sqlite-wal")) == 0o600
        assert _mode(path.with_name("org.sqlite-shm")) == 0o600
        backup = db.backup("before-something")
        assert backup is not None
        assert _mode(backup) == 0o600
    finally:
        db.dispose()


@pytest.mark.usefixtures("open_umask")
def test_the_data_folder_the_command_line_creates_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "home" / "SeatLedger" / "seatledger.sqlite"
    monkeypatch.setenv("SEATLEDGER_DB", str(target))
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "correct horse battery")
    assert cli.main(["init"]) == cli.EXIT_OK
    assert _mode(target.parent) == 0o700
    assert _mode(target) == 0o600
    assert _mode(private_folder(tmp_path / "other")) == 0o700
