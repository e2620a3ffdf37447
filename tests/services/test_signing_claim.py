"""Two processes signing one audit: exactly one signs, the other is told who is signing it.

The claim is a row the signer inserts before it writes anything (see
:mod:`seatledger.services.audits.claim`); these tests hold it as another process would, race two
real ``audit run --resume`` processes on both engines, and take over the claim of a killed one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import Org, ledger_size
from seatledger import cli
from seatledger.services.audits import claim
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.audits.claim import AuditBeingSigned
from seatledger.services.audits.service import Status, Step
from seatledger.services.audits.signing import TEST_KDF, SigningService
from seatledger.services.operators.session import Services
from seatledger.store.models import Setting

PASSPHRASE = "a long enough passphrase"


def _ready(admin: Services, org: Org) -> int:
    """An attested audit of Contoso, and the signing identity (cheap to unlock) to sign it."""
    SigningService(admin.ctx, TEST_KDF).create(PASSPHRASE, "SeatLedger")
    audit_id = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    admin.audits.attest(audit_id, "Complete.")
    return audit_id


def _sign(admin: Services, audit_id: int, out: Path) -> None:
    audit = admin.audits.get(audit_id)
    position = admin.position.position(
        audit.as_of, audit.shelf_days, None, admin.audits.position_scope(audit)
    )
    admin.audits.sign(
        audit_id, position, passphrase=PASSPHRASE, out_dir=out, organization="SeatLedger"
    )


def _hold(admin: Services, audit_id: int, *, host: str, pid: int, since: dt.datetime) -> None:
    """Write the claim another process would hold."""
    held = claim.Claim(host, pid, "op-elsewhere", since)
    with admin.db.write() as session:
        session.add(Setting(key=claim.key(audit_id), value=held.stored()))


def _claims(admin: Services) -> list[str]:
    with admin.db.read() as session:
        return list(session.scalars(select(Setting.key).where(Setting.key.like("audit_signing.%"))))


def test_an_audit_another_process_is_signing_is_refused_until_it_ends(
    admin: Services, org: Org, tmp_path: Path
) -> None:
    audit_id = _ready(admin, org)
    out = tmp_path / "out"
    out.mkdir()
    signer = subprocess.Popen(["sleep", "60"])  # a live process of this host holds the claim
    try:
        _hold(admin, audit_id, host=claim.socket.gethostname(), pid=signer.pid, since=_now())
        before = ledger_size(admin.db)
        with pytest.raises(AuditBeingSigned, match=rf"Audit {audit_id} is being signed by another"):
            _sign(admin, audit_id, out)
        # Nor may the audit change under it (a resumed run's first step).
        with pytest.raises(AuditBeingSigned, match=f"process {signer.pid} on "):
            admin.audits.set_step(audit_id, Step.SIGN)
        assert ledger_size(admin.db) == before
        assert list(out.iterdir()) == []  # nothing written, not even staging
    finally:
        signer.kill()
        signer.wait()
    # Its process is gone (killed): the claim is taken over, the audit signed, the claim ended.
    _sign(admin, audit_id, out)
    assert admin.audits.get(audit_id).status is Status.SIGNED
    assert _claims(admin) == []


def test_a_claim_from_another_host_holds_until_it_lapses(
    admin: Services, org: Org, tmp_path: Path
) -> None:
    audit_id = _ready(admin, org)
    out = tmp_path / "out"
    out.mkdir()
    _hold(admin, audit_id, host="build-07.example", pid=os.getpid(), since=_now())
    with pytest.raises(AuditBeingSigned, match=r"on build-07\.example, operator op-elsewhere"):
        _sign(admin, audit_id, out)
    with admin.db.write() as session:
        old = _now() - claim.LAPSES_AFTER - dt.timedelta(minutes=1)
        row = session.get(Setting, claim.key(audit_id))
        assert row is not None
        row.value = claim.Claim("build-07.example", os.getpid(), "op-elsewhere", old).stored()
    _sign(admin, audit_id, out)
    assert admin.audits.get(audit_id).status is Status.SIGNED
    assert _claims(admin) == []


def test_a_failed_signing_ends_its_claim(admin: Services, org: Org, tmp_path: Path) -> None:
    audit_id = _ready(admin, org)
    audit = admin.audits.get(audit_id)
    position = admin.position.position(audit.as_of, audit.shelf_days)
    with pytest.raises(Exception, match="passphrase"):
        admin.audits.sign(
            audit_id, position, passphrase="wrong one", out_dir=tmp_path, organization="C"
        )
    assert _claims(admin) == []
    admin.audits.set_step(audit_id, Step.SIGN)  # not left claimed


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_two_processes_resuming_one_audit_sign_it_once(
    admin: Services, org: Org, db_url: str, tmp_path: Path
) -> None:
    """Two real ``audit run --resume`` at once, into one folder: one bundle, one signature."""
    audit_id = _ready(admin, org)
    admin.audits.set_step(audit_id, Step.SIGN)
    out = tmp_path / "out"
    env = {
        **os.environ,
        "SEATLEDGER_PASSWORD": "correct horse",
        "SEATLEDGER_KEY_PASSPHRASE": PASSPHRASE,
        "QT_QPA_PLATFORM": "offscreen",
    }
    command = [sys.executable, "-m", "seatledger", "audit", "run", "--db", db_url]
    command += ["--operator", "admin", "--resume", str(audit_id), "--out", str(out)]
    command += ["--charts", "0"]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [(run.wait(timeout=120), *(s.decode() for s in run.communicate())) for run in runs]
    signed = [r for r in results if r[0] == cli.EXIT_OK]
    refused = [r for r in results if r[0] != cli.EXIT_OK]
    assert len(signed) == 1, results
    assert len(refused) == 1, results
    message = refused[0][2]
    assert f"Audit {audit_id} " in message, message
    assert "being signed by another SeatLedger process" in message or "signed" in message, message
    assert "Traceback" not in message, message
    # One bundle and its zip: nothing the refused run began, no staging.
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2, names
    assert names[1] == f"{names[0]}.zip"
    audit = admin.audits.get(audit_id)
    assert audit.status is Status.SIGNED
    assert Path(audit.bundle_path).name == names[0]
    assert _claims(admin) == []
    manifest = json.loads((out / names[0] / "manifest.json").read_text())
    assert manifest["audit_id"] == audit_id
    verified = vb.verify(out / names[1])
    assert verified.ok, verified.failures()
    assert cli.main(["ledger", "verify", "--db", db_url]) == cli.EXIT_OK
