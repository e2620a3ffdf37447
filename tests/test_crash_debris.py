"""A build that fails, is cancelled or is killed leaves nothing in the way of the next one."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from tests.conftest import _reset_postgres

from seatledger import cli
from seatledger.demo.builder import build_demo
from seatledger.errors import Cancelled
from seatledger.progress import Reporter
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.service import Status
from seatledger.services.operators.session import Services
from seatledger.store.db import Database


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


CORPUS = Path(__file__).parent / "upgrade_corpus"


def _unsigned_audits(db_path: Path) -> list[int]:
    db, _ = Database.open(db_path, create=False, upgrade=False)
    try:
        return [a.id for a in Services.reader(db).audits.audits() if a.status is not Status.SIGNED]
    finally:
        db.dispose()


def _group_ends(group: int) -> bool:
    """Whether every process of the process group has ended (within a few seconds)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)
    return False


def _audit_killed_and_resumed(tmp_path: Path, kills: int) -> None:
    """kill -9 ``audit run`` ``kills`` times (at a random moment, or while its export stages),
    resuming the audit it left each time; then a last run finishes it.

    After every kill no process of the run is left; at the end nothing but the one signed
    bundle is in the folder, the audit is signed, and the database, its ledger and the bundle
    verify.
    """
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    newest = sorted(CORPUS.glob("S*.sqlite"), key=lambda p: int(p.name[1:].split("-")[0]))[-1]
    db = tmp_path / "demo.sqlite"
    db.write_bytes(newest.read_bytes())
    out = tmp_path / "out"
    env = {
        **os.environ,
        "SEATLEDGER_PASSWORD": "demo",
        "SEATLEDGER_KEY_PASSPHRASE": "a long enough passphrase",
        "QT_QPA_PLATFORM": "offscreen",
    }
    base = [sys.executable, "-m", "seatledger", "audit", "run", "--db", str(db)]
    base += ["--operator", "auditor", "--attest", "Complete.", "--out", str(out), "--charts", "0"]
    where = f"(seed {seed})"
    for attempt in range(kills + 1):
        left = _unsigned_audits(db)
        assert len(left) <= 1, where
        scope = ["--resume", str(left[0])] if left else ["--vendor", "Tableau"]
        child = subprocess.Popen(
            [*base, *scope],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if attempt == kills:
            output, _ = child.communicate(timeout=120)
            assert child.returncode == 0, f"{where}: {output.decode()}"
            break
        if attempt % 2:  # while the export stages its files
            deadline = time.monotonic() + 120
            while child.poll() is None and not any(
                p.name.startswith(".audit-") for p in out.glob(".*")
            ):
                assert time.monotonic() < deadline, where
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.4))
        else:  # anywhere from start-up to the end
            time.sleep(rng.uniform(0.2, 4.0))
        if child.poll() is not None:  # it finished first: nothing left to resume
            output, _ = child.communicate()  # reads and closes its pipe
            assert child.returncode == 0, f"{where}: {output.decode()}"
            break
        child.send_signal(signal.SIGKILL)  # the run alone, as kill -9 PID does: not its helpers
        child.communicate()
        assert _group_ends(child.pid), f"{where}: a process of the killed run is left"
        if not _unsigned_audits(db) and any(out.glob("audit-*.zip")):
            break  # killed after its last commit: the audit is signed, nothing to resume
    # Nothing else in the folder: no staging, no unrecorded bundle beside the recorded one.
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2, f"{where}: {names}"
    folder, zipped = names
    assert zipped == f"{folder}.zip", where
    assert not _unsigned_audits(db), where
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",), where
    finally:
        conn.close()
    assert cli.main(["ledger", "verify", "--db", str(db)]) == 0, where
    result = vb.verify(out / zipped)
    assert result.ok, f"{where}: {result.failures()}"


def test_an_audit_killed_outright_resumes_and_leaves_no_debris(tmp_path: Path) -> None:
    _audit_killed_and_resumed(tmp_path, kills=2)


@pytest.mark.slow
def test_an_audit_killed_many_times_resumes_and_leaves_no_debris(tmp_path: Path) -> None:
    _audit_killed_and_resumed(tmp_path, kills=8)


def test_a_bundle_put_in_place_but_never_recorded_is_replaced_not_kept(tmp_path: Path) -> None:
    """Killed between renaming the bundle into place and recording the audit as signed: signing
    the audit again removes that bundle (its manifest names this audit and this database's key);
    another database's audit of the same number in the same folder is left alone."""
    from seatledger.services.audits.bundle.writer import discard_unrecorded

    ours, theirs = "a" * 64, "b" * 64

    def bundle(name: str, audit_id: int, key: str) -> None:
        folder = tmp_path / name
        folder.mkdir()
        manifest = {"audit_id": audit_id, "signing": {"ed25519_public_key_sha256": key}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        with zipfile.ZipFile(tmp_path / f"{name}.zip", "w") as archive:
            archive.writestr(f"{name}/manifest.json", json.dumps(manifest))

    bundle("audit-3-contoso-2026-12-07", 3, ours)
    bundle("audit-3-contoso-2026-12-07-2", 3, theirs)  # another database's audit 3
    bundle("audit-4-contoso-2026-12-07", 4, ours)  # another audit
    (tmp_path / "audit-3-notes.txt").write_text("the user's")
    removed = discard_unrecorded(tmp_path, 3, {ours})
    assert removed == ["audit-3-contoso-2026-12-07", "audit-3-contoso-2026-12-07.zip"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "audit-3-contoso-2026-12-07-2",
        "audit-3-contoso-2026-12-07-2.zip",
        "audit-3-notes.txt",
        "audit-4-contoso-2026-12-07",
        "audit-4-contoso-2026-12-07.zip",
    ]
