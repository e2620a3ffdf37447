"""A build that fails, is cancelled or is killed leaves nothing in the way of the next one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from tests.conftest import _reset_postgres

from seatledger.demo.builder import build_demo
from seatledger.errors import Cancelled
from seatledger.progress import Reporter


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_killed_builds_leftovers_are_swept_and_the_name_stays_free(tmp_path: Path) -> None:
    target = tmp_path / "demo.sqlite"
    stale = tmp_path / f".demo.sqlite.building-{_dead_pid()}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{stale}{suffix}").write_bytes(b"half a database")
    build_demo(str(target), "small")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.sqlite"]


def test_a_cancelled_build_leaves_nothing_and_the_next_one_runs(tmp_path: Path) -> None:
    target = tmp_path / "demo.sqlite"

    def cancel_at_seats(name: str) -> None:
        if "Seats" in name:
            reporter.cancel()

    reporter = Reporter(stage=cancel_at_seats)
    with pytest.raises(Cancelled):
        build_demo(str(target), "small", progress=reporter)
    assert list(tmp_path.iterdir()) == []
    assert "people" in build_demo(str(target), "small")


@pytest.mark.postgres
def test_a_failed_build_in_a_server_database_empties_it_again(postgres_session_url: str) -> None:
    _reset_postgres(postgres_session_url)
    reporter = Reporter(stage=lambda name: reporter.cancel() if "Seats" in name else None)
    with pytest.raises(Cancelled):
        build_demo(postgres_session_url, "small", progress=reporter)
    engine = create_engine(postgres_session_url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()
    assert "people" in build_demo(postgres_session_url, "small")


def test_a_helper_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    """kill -9 of a parent: its helper (here a grandchild) ends too instead of waiting forever."""
    marker = tmp_path / "helper.pid"
    script = (
        "import os, sys, time\n"
        "from seatledger.services.core.forking import die_with_parent\n"
        "if os.fork() == 0:\n"
        "    die_with_parent(os.getppid())\n"
        f"    open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(100):
        if marker.exists() and marker.read_text():
            break
        subprocess.run(["sleep", "0.05"], check=True)
    helper = int(marker.read_text())
    parent.kill()
    parent.wait()
    for _ in range(100):
        try:
            os.kill(helper, 0)
        except ProcessLookupError:
            break
        subprocess.run(["sleep", "0.05"], check=True)
    else:
        os.kill(helper, 9)
        pytest.fail("the helper outlived its parent")


def test_an_export_killed_outright_leaves_no_staging_for_long(tmp_path: Path) -> None:
    """The next export in the folder removes a killed one's hidden, unsigned staging folder."""
    from seatledger.services.audits.bundle.writer import _sweep_stale_staging

    dead = tmp_path / f".audit-1-microsoft-2026-12-07.{_dead_pid()}.k3j2"
    (dead / "audit-1-microsoft-2026-12-07").mkdir(parents=True)
    (dead / "audit-1-microsoft-2026-12-07" / "ledger.jsonl").write_text("half")
    alive = tmp_path / f".audit-2-adobe-2026-12-07.{os.getpid()}.x9z8"
    alive.mkdir()
    keep = tmp_path / "audit-0-older-2026-01-01"
    keep.mkdir()
    _sweep_stale_staging(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, keep.name])
