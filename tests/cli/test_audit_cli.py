"""``seatledger audit``: a whole audit without the window; ``seatledger verify`` accepts it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.services.audits import signing
from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database

TODAY = dt.date.today()


@pytest.fixture
def company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database file with one vendor, a license, a seat held by someone who left."""
    monkeypatch.setattr(signing, "DEFAULT_KDF", signing.TEST_KDF)
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "secret words")
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "a long enough passphrase")
    path = tmp_path / "company.sqlite"
    db, _ = Database.open(path)
    try:
        admin = Services.for_actor(
            db, operators.create_first_administrator(db, "admin", "Ada Admin", "secret words")
        )
        vendor = admin.catalog.add_vendor("Contoso Software")
        product = admin.catalog.add_product(vendor, "PDF Studio")
        license_id = admin.catalog.add_entitlement(
            EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=3)
        )
        person = admin.directory.add_person(PersonInput("E001", "Person One", "", None))
        admin.seats.assign(license_id, people=[person])
        admin.directory.mark_left(person, TODAY - dt.timedelta(days=2))
    finally:
        db.dispose()
    return path


def _run(db: Path, out: Path, *extra: str) -> int:
    return cli.main(
        [
            "audit",
            "run",
            "--db",
            str(db),
            "--operator",
            "admin",
            "--vendor",
            "contoso software",
            "--attest",
            "Complete to my knowledge.",
            "--out",
            str(out),
            "--charts",
            "0",
            *extra,
        ]
    )


def test_headless_audit_creates_its_output_folder_but_not_over_a_file(
    company: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "report"
    blocked.write_text("not a folder")
    assert _run(company, blocked) != 0
    assert "a file is in the way" in capsys.readouterr().err
    out = tmp_path / "audits" / "2026-Q4"  # a scheduled job names a new folder each quarter
    assert _run(company, out) == 0
    assert len([p for p in out.iterdir() if p.suffix == ".zip"]) == 1
    assert capsys.readouterr().err == ""  # no progress lines in a job's log


@pytest.mark.slow
def test_headless_audit_writes_a_bundle_that_verifies(
    company: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert _run(company, out) == 0
    printed = capsys.readouterr().out
    assert "not acknowledged: inventory" in printed
    assert "1 finding, all left open" in printed
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    assert (out / f"{folder.name}.zip").is_file()
    report = json.loads((folder / "report.json").read_text())
    assert [f["resolution"]["decision"] for f in report["findings"]] == ["open"]
    [warning] = report["acknowledgements"]
    assert (warning["topic"], warning["acknowledged_by"]) == ("inventory", None)
    assert report["attestation"]["operator"] == "admin"
    # Without a pinned key the verdict says so, and the status is not success.
    assert cli.main(["verify", str(folder)]) == 3
    assert "INTACT, KEY NOT PINNED" in capsys.readouterr().out
    pinned = tmp_path / "pinned.pem"  # the key the organization gives the vendor
    assert cli.main(["signing", "show", "--db", str(company), "--pubkey-out", str(pinned)]) == 0
    assert cli.main(["verify", str(folder), "--pubkey", str(pinned)]) == 0
    assert "VERIFIED: the bundle is intact and signed with the key you pinned." in (
        capsys.readouterr().out
    )

    # the second audit of the vendor names the first one's checkpoint, and verifies against it
    assert _run(company, out, "--trigger", "suspicion", "--reason", "Seats look wrong") == 0
    capsys.readouterr()
    second = next(p for p in out.iterdir() if p.is_dir() and p != folder)
    manifest = json.loads((second / "manifest.json").read_text())
    first = json.loads((folder / "manifest.json").read_text())
    previous = manifest["previous_checkpoint"]
    assert {k: previous[k] for k in ("size", "head", "root")} == first["checkpoint"]
    assert previous["consistency"]  # the proof that this ledger extends that one
    previous = str(folder / "manifest.json")
    checked = ["verify", str(second), "--pubkey", str(pinned), "--previous", previous]
    assert cli.main(checked) == 0
    # A previous manifest without its signature beside it proves no continuity: it fails.
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "manifest.json").write_bytes((folder / "manifest.json").read_bytes())
    checked[-1] = str(kept / "manifest.json")
    capsys.readouterr()
    assert cli.main(checked) == 1
    assert "FAIL  previous manifest signature: manifest.sig is not beside" in (
        capsys.readouterr().out
    )

    assert cli.main(["audit", "list", "--db", str(company)]) == 0
    listed = capsys.readouterr().out
    assert "On suspicion" in listed
    assert "Vendor request" in listed
    assert listed.count("Signed") == 2


def test_suspicion_without_reason_is_refused(
    company: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(company, tmp_path, "--trigger", "suspicion") == 2
    assert "needs a reason" in capsys.readouterr().err


def test_schedule_and_due(company: Path, capsys: pytest.CaptureFixture[str]) -> None:
    past = (TODAY - dt.timedelta(days=1)).isoformat()
    args = ["audit", "schedule", "--db", str(company), "--operator", "admin"]
    assert cli.main([*args, "--vendor", "Contoso Software", "--every", "1q", "--next", past]) == 0
    assert "every 3 months" in capsys.readouterr().out
    assert cli.main(["audit", "list", "--db", str(company)]) == 0
    assert f"Contoso Software: overdue since {past}" in capsys.readouterr().out
    assert cli.main([*args, "--vendor", "Contoso Software", "--every", "often"]) == 2
    assert "--every often" in capsys.readouterr().err


SECOND = "violet harbor kettle 42"


def test_a_lost_key_is_replaced_by_two_administrators_from_the_command_line(
    company: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(company, tmp_path / "first") == 0
    db, _ = Database.open(company)
    try:
        admin = Services.for_actor(db, operators.sign_in(db, "admin", "secret words"))
        admin.operators.create("bea", "Bea Second", Role.ADMINISTRATOR, SECOND)
        old = admin.signing.current()
    finally:
        db.dispose()
    assert old is not None
    base = ["signing", "key-lost", "--db", str(company)]
    capsys.readouterr()
    assert (
        cli.main(
            [
                *base[:2],
                "request",
                *base[2:],
                "--operator",
                "admin",
                "--reason",
                "The passphrase left with our last custodian",
            ]
        )
        == 0
    )
    assert "Another administrator approves it" in capsys.readouterr().out
    assert cli.main([*base[:2], "show", *base[2:]]) == 0
    assert "admin declared signing identity" in capsys.readouterr().out
    # The administrator who asked cannot approve; the second one can, with a new passphrase.
    monkeypatch.setenv(signing.NEW_PASSPHRASE_ENV, "a brand new passphrase")
    assert cli.main([*base[:2], "approve", *base[2:], "--operator", "admin"]) == 2
    assert "another administrator approves it" in capsys.readouterr().err
    monkeypatch.setenv("SEATLEDGER_PASSWORD", SECOND)
    assert cli.main([*base[:2], "approve", *base[2:], "--operator", "bea"]) == 0
    assert "replaces the lost one" in capsys.readouterr().out
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "secret words")
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "a brand new passphrase")
    assert _run(company, tmp_path / "second") == 0
    [bundle] = [p for p in (tmp_path / "second").iterdir() if p.is_dir()]
    pinned = tmp_path / "old.pem"
    db, _ = Database.open(company)
    try:
        pinned.write_bytes(Services.reader(db).signing.public_key_pem(old.id))
    finally:
        db.dispose()
    capsys.readouterr()
    assert cli.main(["verify", str(bundle), "--pubkey", str(pinned)]) == 3
    out = capsys.readouterr().out
    assert "key replaced after loss" in out
    assert "INTACT, KEY REPLACED AFTER LOSS" in out


def test_an_unsigned_audit_is_finished_with_resume(
    company: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = Database.open(company)
    try:
        admin = Services.for_actor(db, operators.sign_in(db, "admin", "secret words"))
        [(vendor, _name)] = admin.audits.vendors()
        left = admin.audits.start(vendor, Trigger.VENDOR_REQUEST)  # as a killed run leaves it
    finally:
        db.dispose()
    resume = ["audit", "run", "--db", str(company), "--operator", "admin", "--charts", "0"]
    resume += ["--out", str(tmp_path / "out"), "--resume", str(left)]
    assert cli.main([*resume, "--vendor", "Contoso Software", "--attest", "Done."]) == 2
    assert "leave out --vendor" in capsys.readouterr().err
    assert cli.main(resume) == 2  # never attested: the statement is needed
    assert "--attest" in capsys.readouterr().err
    assert _run(company, tmp_path / "other") == 0  # a new audit names the one left unsigned
    assert f"unsigned audit of this vendor ({left})" in capsys.readouterr().out
    assert cli.main([*resume, "--attest", "Complete to my knowledge."]) == 0
    out = capsys.readouterr().out
    assert f"Audit {left} resumed" in out
    assert f"Signed audit {left}:" in out
    assert cli.main(resume) == 2
    assert "signed already" in capsys.readouterr().err
