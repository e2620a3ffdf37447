"""The suite's own PostgreSQL cluster, for machines where the server is installed but not named.

A developer who installed PostgreSQL runs both engines without setting SEATLEDGER_TEST_PG, even
with the machine's own cluster stopped: the suite initializes one in a temporary folder.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import throwaway_postgres
from seatledger.store.db import Database
from throwaway_postgres import server_binaries, throwaway_cluster

pytestmark = pytest.mark.slow


def _binaries() -> Path:
    found = server_binaries()
    if found is None:
        reason = "no PostgreSQL server installed here (no initdb)"
        if os.environ.get("SEATLEDGER_REQUIRE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_throwaway_cluster_runs_seatledger_and_leaves_nothing_behind() -> None:
    with throwaway_cluster(_binaries()) as url:
        port = make_url(url).port
        assert port is not None
        assert _listening(port)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            data = Path(conn.execute(text("SHOW data_directory")).scalar_one())
            listens = conn.execute(text("SHOW listen_addresses")).scalar_one()
            conn.execute(text("CREATE DATABASE throwaway_check"))
        engine.dispose()
        # Its own data, in a temporary folder, reachable from this machine only.
        assert data.parent.name.startswith("seatledger-pg-")
        assert listens == "127.0.0.1"
        # SeatLedger creates its schema there as on any server.
        check = make_url(url).set(database="throwaway_check")
        db, opened = Database.open(check.render_as_string(hide_password=False))
        db.dispose()
        assert opened.created
    assert not data.parent.exists()
    assert not _listening(port)


def test_the_newest_installed_server_is_found_and_none_where_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian keeps each major version in /usr/lib/postgresql/N/bin, off PATH; 15 is newer than 9.
    Where neither PATH nor that folder has initdb, the PostgreSQL tests skip."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(throwaway_postgres, "DEBIAN_BINARIES", tmp_path / "postgresql")
    assert throwaway_postgres.server_binaries() is None
    for version in ("9.6", "15", "13"):
        folder = tmp_path / "postgresql" / version / "bin"
        folder.mkdir(parents=True)
        (folder / "initdb").touch()
    assert throwaway_postgres.server_binaries() == tmp_path / "postgresql" / "15" / "bin"
