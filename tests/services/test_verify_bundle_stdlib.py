"""The vendor's verifier: the standard library alone, RFC 8032, and an organization that must match.

A vendor may run ``verify_bundle.py`` on a machine without the ``cryptography`` package; the
verdict must be the same.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from seatledger import cli
from seatledger.services.audits import signing
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.signing import SigningService
from seatledger.services.operators.session import Services
from seatledger.store.db import Database

CORPUS = Path(__file__).parents[1] / "upgrade_corpus"
PASSPHRASE = "a long enough passphrase"

# RFC 8032 section 7.1, tests 1 to 3: public key, message, signature.
RFC8032 = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
        "701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f36"
        "13d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f7"
        "60984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("public", "message", "signature"), RFC8032)
def test_the_standard_library_ed25519_against_rfc_8032(
    public: str, message: str, signature: str
) -> None:
    key, data, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert vb.ed25519_verify(key, data, sig)
    assert not vb.ed25519_verify(key, data + b"!", sig)
    assert not vb.ed25519_verify(key, data, sig[:32] + bytes(32))
    assert not vb.ed25519_verify(key, data, sig[:-1] + bytes([sig[-1] ^ 1]))


@pytest.fixture
def audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """(the demo database, a signed bundle of one vendor, the pinned public key)."""
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "demo")
    monkeypatch.setenv(signing.PASSPHRASE_ENV, PASSPHRASE)
    newest = sorted(CORPUS.glob("S*.sqlite"), key=lambda p: int(p.name[1:].split("-")[0]))[-1]
    db = tmp_path / "demo.sqlite"
    shutil.copyfile(newest, db)
    out = tmp_path / "out"
    args = ["audit", "run", "--db", str(db), "--operator", "auditor", "--vendor", "Tableau"]
    assert cli.main([*args, "--attest", "Complete.", "--out", str(out), "--charts", "0"]) == 0
    [folder] = [p for p in out.iterdir() if p.is_dir()]
    pinned = tmp_path / "pinned.pem"
    assert cli.main(["signing", "show", "--db", str(db), "--pubkey-out", str(pinned)]) == 0
    return db, folder, pinned


def _without_cryptography(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the bundle's verifier where importing ``cryptography`` fails."""
    code = (
        "import runpy, sys; sys.modules['cryptography'] = None; "
        f"sys.argv = [{str(script)!r}, *{list(args)!r}]; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False
    )


def test_the_verifier_needs_nothing_but_the_standard_library(
    audited: tuple[Path, Path, Path],
) -> None:
    _, folder, pinned = audited
    script = folder / "verify_bundle.py"
    run = _without_cryptography(script, str(folder), "--pubkey", str(pinned))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "VERIFIED: the bundle is intact and signed with the key you pinned." in run.stdout
    assert "organization: not compared with the certificate (needs 'cryptography')" in run.stdout
    # The same verdicts as with cryptography: a changed file, a forged signature.
    (folder / "manifest.sig").write_bytes(bytes(64))
    run = _without_cryptography(script, str(folder), "--pubkey", str(pinned))
    assert run.returncode == 1
    assert "NOT VERIFIED: manifest signature." in run.stdout


def test_a_manifest_naming_another_organization_than_its_certificate_fails(
    audited: tuple[Path, Path, Path],
) -> None:
    db, folder, pinned = audited
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["organization"] = "Somebody Else Ltd"
    data = json.dumps(manifest).encode()
    database, _ = Database.open(db, create=False)
    try:
        identity = SigningService(Services.reader(database).ctx).unlock(PASSPHRASE)
    finally:
        database.dispose()
    (folder / "manifest.json").write_bytes(data)
    (folder / "manifest.sig").write_bytes(identity.ed25519.sign(data))  # signed, but untrue
    result = vb.verify(folder, pubkey=pinned.read_bytes())
    failed = {c.name: c.detail for c in result.failures()}
    assert "organization" in failed
    assert "Somebody Else Ltd" in failed["organization"]


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.casefold())) + " "


def test_a_vendors_bundle_names_no_person_and_no_other_vendor(
    audited: tuple[Path, Path, Path],
) -> None:
    """The issue's content test, on the demo: every file (the PDF's text too) is searched for
    every person's name, e-mail address and employee number and every other vendor's name."""
    db, folder, _ = audited
    with sqlite3.connect(db) as conn:
        people = [
            v for row in conn.execute("SELECT name, email, employee_id FROM person") for v in row
        ]
        others = [v for (v,) in conn.execute("SELECT name FROM vendor WHERE name != 'Tableau'")]
        entries = conn.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]
    assert len(people) == 600
    assert len(others) == 17
    texts = {
        p.name: p.read_text(encoding="utf-8", errors="replace")
        for p in folder.iterdir()
        if p.suffix not in {".pdf", ".sig", ".proof"}
    }
    if shutil.which("pdftotext"):
        pdf = subprocess.run(
            ["pdftotext", str(folder / "report.pdf"), "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        texts["report.pdf"] = pdf.stdout
        assert "Tableau" in pdf.stdout
    elif os.environ.get("SEATLEDGER_REQUIRE_TOOLS"):
        pytest.fail("pdftotext (poppler-utils) is required here")
    found = {
        name: phrase
        for name, body in texts.items()
        for phrase in people + others
        if phrase and _words(phrase) in _words(body)
    }
    assert found == {}
    # What it does disclose is about Tableau, a small part of the ledger, proved entry by entry.
    lines = [json.loads(line) for line in texts["ledger.jsonl"].splitlines()]
    actions = {line["body"]["action"] if "body" in line else "withheld" for line in lines}
    assert not {a for a in actions if a.startswith("team.")}
    assert {"vendor.create", "product.create", "entitlement.create", "seat.assign"} <= actions
    # The seats' holders are disclosed, by pseudonym: every name is a commitment.
    people = [line["body"] for line in lines if line.get("body", {}).get("entity") == "person"]
    assert people
    for body in people:
        for field in ("name", "email", "employee_id"):
            value = body["what"]["after"].get(field) if body["what"]["after"] else None
            assert value is None or "commit" in value, (body["seq"], field)
    size = json.loads(texts["manifest.json"])["checkpoint"]["size"]
    assert size <= entries
    assert 0 < len(lines) < size / 5
    result = vb.verify(folder)
    [check] = [c for c in result.checks if c.name == "disclosed entries"]
    assert check.ok
    assert f"{len(lines)} of {size} entries" in check.detail


def test_verify_txt_says_what_each_stock_tool_proves(audited: tuple[Path, Path, Path]) -> None:
    _, folder, _ = audited
    guide = (folder / "VERIFY.txt").read_text(encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for command in (
        "python3 verify_bundle.py",
        "openssl pkeyutl -verify",
        "sha256sum -c",
        "pdfsig",
    ):
        assert command in guide
    assert manifest["checkpoint"]["root"] in guide


def test_an_opened_commitment_verifies_against_the_bundle_and_nothing_else(
    audited: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, folder, pinned = audited
    lines = [json.loads(line) for line in (folder / "ledger.jsonl").read_text().splitlines()]
    person = next(line["body"] for line in lines if line.get("body", {}).get("entity") == "person")
    digest = person["what"]["after"]["name"]["commit"]
    opening = tmp_path / "opening.json"
    args = ["ledger", "reveal", "--db", str(db), "--operator", "auditor", digest]
    assert cli.main([*args, "--reason", "vendor dispute", "--out", str(opening)]) == 0
    with sqlite3.connect(db) as conn:
        (name,) = conn.execute(
            "SELECT name FROM person WHERE id = ?", (int(person["entity_id"]),)
        ).fetchone()
    assert json.loads(opening.read_text(encoding="utf-8"))["value"] == name
    capsys.readouterr()
    verify = ["verify", str(folder), "--pubkey", str(pinned), "--opening", str(opening)]
    assert cli.main(verify) == 0
    assert f"is {name!r} in entries {person['seq']}" in capsys.readouterr().out
    # The stdlib verifier agrees; a changed value does not open it.
    run = _without_cryptography(folder / "verify_bundle.py", str(folder), "--opening", str(opening))
    assert run.returncode == 3, run.stdout  # intact, key not pinned
    document = json.loads(opening.read_text(encoding="utf-8"))
    opening.write_text(json.dumps(document | {"value": name + "x"}), encoding="utf-8")
    assert cli.main(verify) == 1
    assert "do not open commitment" in capsys.readouterr().out
