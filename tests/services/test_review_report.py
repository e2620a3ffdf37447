"""A closed access review campaign's signed report: what it holds, that `seatledger verify` verifies
it and names it, and that tampering is caught (an edited CSV, a dropped ledger entry re-signed by
an insider with the organization's key, another key)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import PASSWORD
from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.reviews import Decision
from seatledger.domain.roles import Role
from seatledger.errors import Cancelled, PermissionDenied, ValidationError
from seatledger.progress import Reporter
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.bundle.model import BundleResult
from seatledger.services.audits.bundle.verify import verify
from seatledger.services.audits.signing import TEST_KDF, SigningIdentity, SigningService
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services

PASSPHRASE = "a long enough passphrase"


@dataclass
class Signed:
    result: BundleResult
    identity: SigningIdentity
    campaign: int
    admin: Services


def _bundle(admin: Services, tmp_path: Path) -> Signed:
    vendor = admin.catalog.add_vendor("Contoso Software")
    product = admin.catalog.add_product(vendor, "PDF Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    finance = admin.directory.add_team("Finance")
    people = {}
    for n, name in enumerate(("Fay", "Finn", "Fern", "Fred"), start=1):
        people[name] = admin.directory.add_person(
            PersonInput(f"E{n}", name, f"{name.lower()}@example.com", finance)
        )
        if name != "Fred":
            admin.seats.assign(license_id, people=[people[name]])
    admin.operators.create("alice", "Alice Reviewer", Role.REVIEWER, PASSWORD)
    alice = Services.for_actor(admin.db, operators.sign_in(admin.db, "alice", PASSWORD))
    campaign = admin.reviews.start(
        "PDF Studio, Q1",
        admin.reviews.today() + dt.timedelta(days=14),
        reviewers={finance: alice.actor.id},
    )
    items = {r.holder: r.id for r in alice.reviews.items(campaign)}
    alice.reviews.decide(campaign, [items["Fay"]], Decision.RELEASE, "no use since March")
    alice.reviews.decide(campaign, [items["Finn"]], Decision.KEEP, "month-end close")
    alice.reviews.move(campaign, items["Fern"], people["Fred"], "handover of the accounts")
    admin.reviews.close(campaign)
    identity = SigningService(admin.ctx, TEST_KDF).create(PASSPHRASE, "Example Corp")
    out = tmp_path / "out"
    out.mkdir()
    result = admin.review_reports.sign(campaign, passphrase=PASSPHRASE, out_dir=out, kdf=TEST_KDF)
    return Signed(result, identity, campaign, admin)


@pytest.fixture
def signed(admin: Services, tmp_path: Path) -> Signed:
    return _bundle(admin, tmp_path)


def _failed(result: vb.Result) -> dict[str, str]:
    return {c.name: c.detail for c in result.failures()}


def _copy(signed: Signed, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(signed.result.folder, target)
    return target


def _resign(folder: Path, identity: SigningIdentity) -> None:
    """What an insider with the organization's key does: re-hash the files, sign again."""
    manifest = json.loads((folder / vb.MANIFEST).read_bytes())
    files = {
        item["path"]: (folder / item["path"]).read_bytes()
        for item in manifest["files"]
        if item["path"] != vb.SUMS
    }
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode()
    files[vb.SUMS] = sums
    (folder / vb.SUMS).write_bytes(sums)
    manifest["files"] = [
        {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in sorted(files.items())
    ]
    data = (json.dumps(manifest, indent=2) + "\n").encode()
    (folder / vb.MANIFEST).write_bytes(data)
    (folder / vb.SIGNATURE).write_bytes(identity.sign(data))


def test_the_signed_report_holds_the_campaign_and_verifies(
    signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = signed.result.folder
    assert folder.name == f"access-review-{signed.campaign}-{signed.admin.reviews.today()}"
    with (folder / "report.csv").open(encoding="utf-8") as handle:
        rows = {r["holder"]: r for r in csv.DictReader(handle)}
    assert {h: (r["decision"], r["outcome"]) for h, r in rows.items()} == {
        "Fay": ("release", "released"),
        "Finn": ("keep", "kept"),
        "Fern": ("move", "moved"),
    }
    assert rows["Fern"]["move_to"] == "Fred"
    document = json.loads((folder / "report.json").read_bytes())
    assert document["outcomes"] == {"released": 1, "kept": 1, "moved": 1}
    lines = [json.loads(line) for line in (folder / vb.LEDGER).read_bytes().splitlines()]
    actions = [json.loads(json.dumps(line["body"]))["action"] for line in lines if "body" in line]
    # The start, the three decisions, the release the close made, the close (with the move),
    # and the signing identity; none names a person, so none is withheld.
    assert actions == [
        "review.start",
        "review.decide",
        "review.decide",
        "review.decide",
        "seat.release",
        "review.close",
        "signing_identity.create",
    ]
    close = next(line["body"] for line in lines if line["body"]["action"] == "review.close")
    assert close["what"]["after"]["moved"][0]["reason"] == "handover of the accounts"
    pem = tmp_path / "key.pem"
    pem.write_bytes(signed.identity.public_key_pem)
    assert cli.main(["verify", str(signed.result.zip_path), "--pubkey", str(pem)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(
        f"Access review campaign report: Access review #{signed.campaign}: PDF Studio, Q1 (closed"
    )
    assert "ok    PDF signature: PAdES, intact, whole file" in said
    assert "VERIFIED: the bundle is intact and signed with the key you pinned." in said


def test_an_edited_csv_is_caught(signed: Signed, tmp_path: Path) -> None:
    folder = _copy(signed, tmp_path)
    report = folder / "report.csv"
    report.write_text(report.read_text(encoding="utf-8").replace("released", "kept"))
    failed = _failed(verify(folder, pubkey=signed.identity.public_key_pem))
    assert "report.csv" in failed["file hashes"]


def test_a_dropped_entry_is_caught_even_re_signed_with_the_organizations_key(
    signed: Signed, tmp_path: Path
) -> None:
    folder = _copy(signed, tmp_path)
    ledger = folder / vb.LEDGER
    lines = ledger.read_bytes().splitlines(keepends=True)
    dropped = [line for line in lines if b'"action":"seat.release"' not in line]
    assert len(dropped) == len(lines) - 1
    ledger.write_bytes(b"".join(dropped))
    _resign(folder, signed.identity)
    failed = _failed(verify(folder, pubkey=signed.identity.public_key_pem))
    assert list(failed) == ["disclosed entries"]
    assert "an entry was changed, added, dropped or moved" in failed["disclosed entries"]


def test_a_report_re_signed_with_another_key_fails_against_the_pinned_one(
    signed: Signed, tmp_path: Path
) -> None:
    folder = _copy(signed, tmp_path)
    other = Ed25519PrivateKey.generate()
    (folder / vb.PUBLIC_KEY).write_bytes(
        other.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    (folder / vb.SIGNATURE).write_bytes(other.sign((folder / vb.MANIFEST).read_bytes()))
    failed = _failed(verify(folder, pubkey=signed.identity.public_key_pem))
    assert "by the pinned key" in failed["manifest signature"]
    assert verify(signed.result.folder, pubkey=signed.identity.public_key_pem).ok


def test_only_a_closed_campaign_is_signed_by_an_administrator(
    signed: Signed, tmp_path: Path
) -> None:
    admin = signed.admin
    out = tmp_path / "again"
    out.mkdir()
    due = admin.reviews.today() + dt.timedelta(days=7)
    teams = [t.id for t in admin.reviews.choices().teams]
    reviewer = admin.reviews.choices().reviewers[0].id
    open_one = admin.reviews.start("Open", due, reviewers={teams[0]: reviewer})
    with pytest.raises(ValidationError, match="is open; close it before its report is signed"):
        admin.review_reports.sign(open_one, passphrase=PASSPHRASE, out_dir=out, kdf=TEST_KDF)
    alice = Services.for_actor(admin.db, operators.sign_in(admin.db, "alice", PASSWORD))
    with pytest.raises(PermissionDenied, match="may not sign access review reports"):
        alice.review_reports.sign(signed.campaign, passphrase=PASSPHRASE, out_dir=out, kdf=TEST_KDF)
    reporter = Reporter()
    reporter.cancel()
    with pytest.raises(Cancelled):
        admin.review_reports.sign(
            signed.campaign, passphrase=PASSPHRASE, out_dir=out, kdf=TEST_KDF, progress=reporter
        )
    assert list(out.iterdir()) == []  # refused, refused, cancelled: nothing left behind
