"""Audit report bundles: what they hold, and that every kind of tampering is caught and named."""

from __future__ import annotations

import ast
import csv
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
)
from sqlalchemy import text

from conftest import PASSWORD, sqlite_only
from seatledger import cli
from seatledger.domain.ledger import entry_hash
from seatledger.domain.roles import Role
from seatledger.errors import Cancelled, LedgerIntegrityError
from seatledger.progress import Reporter
from seatledger.services.audits.bundle import (
    Acknowledgement,
    Attestation,
    BundleResult,
    Checkpoint,
    Decision,
    ReportFinding,
    ReportInput,
    Resolution,
    Scope,
    Trigger,
    write_bundle,
)
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.bundle.verify import verify
from seatledger.services.audits.bundle.writer import report_document
from seatledger.services.audits.signing import TEST_KDF, SigningIdentity, SigningService
from seatledger.services.directory.service import PersonInput
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import PositionService
from seatledger.store import ledger_store

PASSPHRASE = "a long and private passphrase"
FILES = {
    "SHA256SUMS",
    "VERIFY.txt",
    "deployments.csv",
    "entitlements.csv",
    "findings.csv",
    "ledger.jsonl",
    "ledger.proof",
    "manifest.json",
    "manifest.sig",
    "report.json",
    "report.pdf",
    "seat-assignments.csv",
    "signing-cert.pem",
    "signing-key.pub.pem",
    "sources.csv",
    "verify_bundle.py",
}


def _report(
    services: Services, *, pseudonymize: bool = True, previous: Checkpoint | None = None
) -> ReportInput:
    today = dt.date.today()
    position = PositionService(services.ctx).position(today)
    now = dt.datetime.now(dt.UTC)
    findings = [
        ReportFinding(
            f,
            Resolution(
                Decision.REMEDIATE, "Remove the extra installs", "IT Ops", today, "admin", now
            ),
        )
        for f in position.findings
    ]
    return ReportInput(
        organization="Example Corp",
        audit_id=3,
        title="Contoso true-up",
        scope=Scope("Contoso Software"),
        as_of=today,
        trigger=Trigger.VENDOR_REQUEST,
        trigger_reason="Letter from the vendor",
        method="Computed by SeatLedger.",
        positions=[r for r in position.rows if r.vendor == "Contoso Software"],
        findings=findings,
        acknowledgements=[Acknowledgement("inventory", "40 days old", "admin", now)],
        attestation=Attestation("admin", "Ada Admin", "Our records, as of the date.", now),
        pseudonymize=pseudonymize,
        previous=previous,
    )


def _with_seats(admin: Services, org: Any) -> None:
    """Three seats, one held by someone who has left (a finding)."""
    admin.seats.assign(org.acrobat, people=org.people[:2])
    admin.seats.assign(org.sql_server, devices=org.devices[:1])
    admin.directory.mark_left(org.people[1], dt.date.today() - dt.timedelta(days=3))


def test_a_team_scope_lists_the_seats_of_those_in_the_team_on_the_reports_day(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    """Person 1 holds an Acrobat seat from 10 days ago and moves to Sales 5 days ago."""
    today = dt.date.today()

    def days_ago(days: int) -> dt.datetime:
        return dt.datetime.combine(today - dt.timedelta(days=days), dt.time(9), dt.UTC)

    admin.directory.add_team("Sales")
    admin.ctx.clock = lambda: days_ago(10)
    admin.seats.assign(org.acrobat, people=org.people[:2])
    admin.ctx.clock = lambda: days_ago(5)
    sales = next(t.id for t in admin.directory.teams() if t.name == "Sales")
    admin.directory.update_person(
        org.people[0], PersonInput("E001", "Person 1", "p1@example.com", sales)
    )

    def seats(as_of: dt.date, team: str) -> list[tuple[str, str]]:
        report = dataclasses.replace(
            _report(admin, pseudonymize=False),
            scope=Scope("Contoso Software", teams=(team,)),
            as_of=as_of,
        )
        out = tmp_path / f"{team}-{as_of}"
        out.mkdir()
        result = write_bundle(admin.ctx, report, identity, out)
        text_ = (result.folder / "seat-assignments.csv").read_text(encoding="utf-8-sig")
        return sorted((r["Holder name"], r["Team"]) for r in csv.DictReader(text_.splitlines()))

    week_ago = today - dt.timedelta(days=7)
    assert seats(week_ago, "Finance") == [("Person 1", "Finance"), ("Person 2", "Finance")]
    assert seats(week_ago, "Sales") == []
    assert seats(today, "Finance") == [("Person 2", "Finance")]
    assert seats(today, "Sales") == [("Person 1", "Sales")]


@pytest.fixture
def identity(admin: Services) -> SigningIdentity:
    """The organization's identity, sealed at the tests' low cost."""
    return SigningService(admin.ctx, kdf=TEST_KDF).unlock_or_create(PASSPHRASE, "Example Corp")


@pytest.fixture
def bundle(admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path) -> BundleResult:
    """A bundle of the tiny organization (SQLite and PostgreSQL)."""
    _with_seats(admin, org)
    out = tmp_path / "out"
    out.mkdir()
    return write_bundle(admin.ctx, _report(admin), identity, out)


@pytest.fixture(scope="module")
def _pristine(
    module_admin: Services, module_org: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[BundleResult, SigningIdentity]:
    """The bundle of :func:`bundle`, signed once for the module on SQLite, and its signer."""
    signer = SigningService(module_admin.ctx, kdf=TEST_KDF).unlock_or_create(
        PASSPHRASE, "Example Corp"
    )
    _with_seats(module_admin, module_org)
    out = tmp_path_factory.mktemp("pristine")
    return write_bundle(module_admin.ctx, _report(module_admin), signer, out), signer


@pytest.fixture
def bundle_copy(_pristine: tuple[BundleResult, SigningIdentity], tmp_path: Path) -> BundleResult:
    """A test's own copy of the pristine bundle's folder and zip, to tamper with freely."""
    pristine, _ = _pristine
    out = tmp_path / "bundle"
    out.mkdir()
    folder = out / pristine.folder.name
    shutil.copytree(pristine.folder, folder)
    zip_path = out / pristine.zip_path.name
    shutil.copyfile(pristine.zip_path, zip_path)
    return dataclasses.replace(pristine, folder=folder, zip_path=zip_path)


@pytest.fixture
def bundle_identity(_pristine: tuple[BundleResult, SigningIdentity]) -> SigningIdentity:
    """The identity that signed :func:`bundle_copy` (an insider re-signs with it)."""
    return _pristine[1]


def _copy(result: BundleResult, tmp_path: Path, name: str = "copy") -> Path:
    target = tmp_path / name
    shutil.copytree(result.folder, target)
    return target


def _failed(result: vb.Result) -> dict[str, str]:
    return {c.name: c.detail for c in result.failures()}


def _resign(folder: Path, identity: SigningIdentity, **changes: Any) -> None:
    """What an insider with the right key does: re-hash every file and sign the manifest again."""
    manifest = json.loads((folder / vb.MANIFEST).read_bytes())
    manifest.update(changes)
    files = []
    for item in manifest["files"]:
        data = (folder / item["path"]).read_bytes() if item["path"] != vb.SUMS else b""
        files.append(
            {"path": item["path"], "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        )
    sums = "".join(f"{f['sha256']}  {f['path']}\n" for f in files if f["path"] != vb.SUMS)
    (folder / vb.SUMS).write_text(sums)
    for f in files:
        if f["path"] == vb.SUMS:
            f["sha256"] = hashlib.sha256(sums.encode()).hexdigest()
            f["size"] = len(sums.encode())
    manifest["files"] = files
    data = (json.dumps(manifest, indent=2) + "\n").encode()
    (folder / vb.MANIFEST).write_bytes(data)
    (folder / vb.SIGNATURE).write_bytes(identity.sign(data))


def _flip(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------------------ contents


def test_bundle_holds_every_file_and_verifies(bundle: BundleResult) -> None:
    assert {p.name for p in bundle.folder.iterdir()} == FILES
    with zipfile.ZipFile(bundle.zip_path) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
        assert names == FILES
        assert all(n.startswith(bundle.folder.name + "/") for n in archive.namelist())
    for path in (bundle.folder, bundle.zip_path):
        result = verify(path)
        assert result.ok, _failed(result)
        assert {c.name for c in result.checks} >= {
            "manifest signature",
            "signing key",
            "certificate",
            "file hashes",
            "SHA256SUMS",
            "disclosed entries",
            "PDF signature",
        }
    manifest = json.loads((bundle.folder / "manifest.json").read_bytes())
    assert manifest["checkpoint"] == bundle.checkpoint.as_json()
    assert manifest["previous_checkpoint"] is None
    assert hashlib.sha256((bundle.folder / "manifest.json").read_bytes()).hexdigest() == (
        bundle.manifest_sha256
    )
    assert {f["path"] for f in manifest["files"]} == FILES - {"manifest.json", "manifest.sig"}


def test_ledger_jsonl_discloses_the_vendors_entries_as_stored(
    admin: Services, bundle: BundleResult
) -> None:
    """The vendor's entries, each with its exact stored body and previous hash; nothing else."""
    with admin.db.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT seq, entity_type, action, body, prev_hash, hash FROM ledger_entry")
        ).all()
    lines = (bundle.folder / "ledger.jsonl").read_bytes().splitlines(keepends=True)
    disclosed = {int(json.loads(line)["seq"]): line for line in lines}
    about_the_vendor = {"vendor", "product", "entitlement", "seat", "signing_identity"}
    holders = {"person": {"1", "2"}, "device": {"1"}}  # those of _with_seats
    for seq, entity_type, action, body, prev, digest in stored:
        entity_id = json.loads(bytes(body))["entity_id"]
        if (
            entity_type in about_the_vendor
            or action in {"operator.create", "operator.update"}
            or entity_id in holders.get(entity_type, ())
        ):
            assert disclosed[seq] == b'{"seq":%d,"hash":"%s","prev":"%s","body":%s}\n' % (
                seq,
                bytes(digest).hex().encode(),
                bytes(prev).hex().encode(),
                bytes(body),
            )
        else:  # other people and devices, teams: not the vendor's business
            assert seq not in disclosed, (seq, action)
    assert 0 < len(disclosed) < bundle.checkpoint.size
    manifest = json.loads((bundle.folder / "manifest.json").read_bytes())
    assert manifest["ledger"]["disclosed"] == len(disclosed)
    assert manifest["checkpoint"]["root"] == bundle.checkpoint.root
    assert vb.entry_hash(5, b"\x01" * 32, b"{}") == entry_hash(5, b"\x01" * 32, b"{}")


def test_an_entry_naming_a_person_is_disclosed_by_its_hash_alone(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    first = admin.seats.assign(org.acrobat, people=org.people[:1]).assignment_ids
    admin.seats.release(first, reason="Person 1 moved to the Zurich office")
    out = tmp_path / "out"
    out.mkdir()
    result = write_bundle(admin.ctx, _report(admin), identity, out)
    ledger = (result.folder / "ledger.jsonl").read_text(encoding="utf-8")
    assert "Person 1" not in ledger
    [withheld] = [json.loads(line) for line in ledger.splitlines() if '"withheld"' in line]
    assert withheld["summary"]["action"] == "seat.release"
    assert "names a person" in withheld["withheld"]
    checked = verify(result.folder)
    assert checked.ok, _failed(checked)
    [check] = [c for c in checked.checks if c.name == "disclosed entries"]
    assert "(1 by their hash only)" in check.detail


def test_report_json_follows_its_schema(bundle_copy: BundleResult) -> None:
    document = json.loads((bundle_copy.folder / "report.json").read_bytes())
    schema = json.loads(
        (Path(__file__).parents[2] / "docs" / "report.schema.json").read_text(encoding="utf-8")
    )
    assert document["schema"] == "seatledger-report/1"
    jsonschema.validate(document, schema)  # every key and value, nested ones included
    assert document["checkpoint"] == bundle_copy.checkpoint.as_json()
    assert document["findings"][0]["resolution"]["decision"] == "remediate"
    assert document["counts"]["seat_assignments"] == 3


@pytest.mark.slow
def test_personal_data_is_pseudonymized_with_a_local_key(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    _with_seats(admin, org)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    hidden = write_bundle(admin.ctx, _report(admin), identity, tmp_path / "a")
    named = write_bundle(admin.ctx, _report(admin, pseudonymize=False), identity, tmp_path / "b")
    seats_hidden = (hidden.folder / "seat-assignments.csv").read_text(encoding="utf-8-sig")
    seats_named = (named.folder / "seat-assignments.csv").read_text(encoding="utf-8-sig")
    for text_ in ("E001", "Person 1", "db-01"):
        assert text_ in seats_named
        assert text_ not in seats_hidden
    assert "P-" in seats_hidden
    assert "D-" in seats_hidden
    # The same person gets the same pseudonym in every report.
    again = write_bundle(admin.ctx, _report(admin), identity, tmp_path / "a")
    assert (again.folder / "seat-assignments.csv").read_text(encoding="utf-8-sig") == seats_hidden


@sqlite_only
def test_csv_cells_never_run_as_formulas(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    product = admin.catalog.add_product(org.vendor, "=HYPERLINK(1)")
    from seatledger.domain.licensing import Metric
    from seatledger.services.catalog.service import EntitlementInput

    admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=1)
    )
    result = write_bundle(admin.ctx, _report(admin), identity, tmp_path)
    text_ = (result.folder / "entitlements.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(1)" in text_


def test_pdf_signature_validates_with_pyhanko(bundle_copy: BundleResult) -> None:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    cert = load_cert_from_pemder(str(bundle_copy.folder / "signing-cert.pem"))
    with (bundle_copy.folder / "report.pdf").open("rb") as handle:
        (signature,) = PdfFileReader(handle).embedded_signatures
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=[cert], allow_fetching=False)
        )
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.sha256.hex() == bundle_copy.certificate_fingerprint


@sqlite_only
def test_cancel_leaves_nothing(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    calls: list[int] = []

    def cancel_at_the_third(done: int, _total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            progress.cancel()  # the user cancels: this report raises

    progress = Reporter(cancel_at_the_third)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(Cancelled):
        write_bundle(admin.ctx, _report(admin), identity, out, progress)
    assert len(calls) == 3
    assert list(out.iterdir()) == []


def test_a_broken_ledger_is_never_signed(
    sqlite_admin: Services, identity_sqlite: SigningIdentity, tmp_path: Path
) -> None:
    db = sqlite_admin.db
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_no_delete"))
        conn.execute(text("DELETE FROM ledger_entry WHERE seq = 2"))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LedgerIntegrityError, match="entry 2 is missing"):
        write_bundle(sqlite_admin.ctx, _bare_report(), identity_sqlite, out)
    assert list(out.iterdir()) == []


def test_an_entry_edited_in_storage_is_never_signed(
    sqlite_admin: Services, identity_sqlite: SigningIdentity, tmp_path: Path
) -> None:
    """The export recomputes every entry's hash: the key never vouches for an edited chain."""
    db = sqlite_admin.db
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_no_update"))
        conn.execute(text("UPDATE ledger_entry SET body = CAST('{}' AS BLOB) WHERE seq = 2"))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LedgerIntegrityError, match=r"entry 2 .*edited"):
        write_bundle(sqlite_admin.ctx, _bare_report(), identity_sqlite, out)
    assert list(out.iterdir()) == []


def test_an_entry_relabelled_out_of_the_scope_is_never_signed(
    sqlite_admin: Services, identity_sqlite: SigningIdentity, tmp_path: Path
) -> None:
    """The columns choose what a bundle discloses: an entry moved to another entity (to hide
    it from the vendor) makes the export refuse, as 'ledger verify' does."""
    db = sqlite_admin.db
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_no_update"))
        conn.execute(text("UPDATE ledger_entry SET entity_type = 'team' WHERE seq = 2"))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LedgerIntegrityError, match=r"entry 2 .*indexed columns"):
        write_bundle(sqlite_admin.ctx, _bare_report(), identity_sqlite, out)
    assert list(out.iterdir()) == []


def test_a_forged_tree_block_is_never_signed(
    sqlite_admin: Services, identity_sqlite: SigningIdentity, tmp_path: Path
) -> None:
    """The chain verifies and the head's tree edge is right, but a stored block root is not the
    root of its 32 entries: proofs made from it would not give the signed root."""
    for number in range(40):
        sqlite_admin.catalog.add_vendor(f"Vendor {number}")
    db = sqlite_admin.db
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_block_no_update"))
        conn.execute(text("UPDATE ledger_block SET hash = :h WHERE idx = 0"), {"h": bytes(32)})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(LedgerIntegrityError, match="stored Merkle tree does not give the root"):
        write_bundle(sqlite_admin.ctx, _bare_report(), identity_sqlite, out)
    assert list(out.iterdir()) == []


def _bare_report() -> ReportInput:
    return ReportInput(
        "Example Corp",
        1,
        "t",
        Scope("Contoso Software"),
        dt.date.today(),
        Trigger.SCHEDULED,
        "",
        "",
        [],
        [],
        [],
        Attestation("admin", "Ada", "s", dt.datetime.now(dt.UTC)),
    )


@pytest.fixture
def sqlite_admin(sqlite_db: Any) -> Services:
    """An administrator and a vendor on SQLite (where a test may drop the guard triggers)."""
    from seatledger.services.operators import accounts as operators

    actor = operators.create_first_administrator(sqlite_db, "admin", "Ada", "correct horse")
    services = Services.for_actor(sqlite_db, actor)
    services.catalog.add_vendor("Contoso Software")
    return services


@pytest.fixture
def identity_sqlite(sqlite_admin: Services) -> SigningIdentity:
    """The identity of :func:`sqlite_admin`'s organization."""
    return SigningService(sqlite_admin.ctx, kdf=TEST_KDF).create(PASSPHRASE, "Example Corp")


# ------------------------------------------------------------------------------ tampering


@pytest.mark.parametrize("name", sorted(FILES - {"manifest.json", "manifest.sig"}))
def test_a_changed_byte_in_any_file_is_named(
    bundle_copy: BundleResult, tmp_path: Path, name: str
) -> None:
    folder = _copy(bundle_copy, tmp_path)
    _flip(folder / name)
    try:
        result = verify(folder)
    except vb.BundleError:  # the public key no longer parses: unreadable, also a failure
        assert name == "signing-key.pub.pem"
        return
    assert not result.ok
    failed = _failed(result)
    if name == "signing-key.pub.pem":
        assert "manifest signature" in failed or "signing key" in failed
    else:
        assert name in failed["file hashes"]
        assert "changed" in failed["file hashes"]


def test_a_changed_manifest_or_signature_fails_the_signature(
    bundle_copy: BundleResult, tmp_path: Path
) -> None:
    for name in ("manifest.json", "manifest.sig"):
        folder = _copy(bundle_copy, tmp_path, name)
        _flip(folder / name)
        failed = _failed(verify(folder))
        assert "manifest.sig is not a signature of manifest.json" in failed["manifest signature"]


def test_a_changed_pdf_fails_its_own_signature_even_when_resigned(
    bundle_copy: BundleResult, bundle_identity: SigningIdentity, tmp_path: Path
) -> None:
    folder = _copy(bundle_copy, tmp_path)
    pdf = folder / "report.pdf"
    data = pdf.read_bytes()
    at = data.index(b"/Creator") + 1  # inside the signed byte range
    _flip(pdf, at)
    assert "report.pdf" in _failed(verify(folder))["file hashes"]
    _resign(
        folder, bundle_identity
    )  # an insider re-signs the manifest: the PDF's signature still fails
    failed = _failed(verify(folder))
    assert set(failed) == {"PDF signature"}
    assert "changed" in failed["PDF signature"] or "does not match" in failed["PDF signature"]


def test_extra_and_missing_files_are_named(bundle_copy: BundleResult, tmp_path: Path) -> None:
    folder = _copy(bundle_copy, tmp_path)
    (folder / "notes.txt").write_text("added later")
    (folder / "findings.csv").unlink()
    failed = _failed(verify(folder))
    assert "notes.txt" in failed["no extra files"]
    assert "findings.csv" in failed["files present"]


def test_another_key_fails_against_the_pinned_one(
    bundle_copy: BundleResult, bundle_identity: SigningIdentity, tmp_path: Path
) -> None:
    pinned = bundle_identity.public_key_pem
    folder = _copy(bundle_copy, tmp_path)
    other = Ed25519PrivateKey.generate()
    (folder / "signing-key.pub.pem").write_bytes(
        other.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    manifest = (folder / "manifest.json").read_bytes()
    (folder / "manifest.sig").write_bytes(other.sign(manifest))
    failed = _failed(verify(folder, pubkey=pinned))
    assert "by the pinned key" in failed["manifest signature"]
    assert "different key than the one you pinned" in failed["manifest signature"]
    assert "no statement signed by your key endorses it" in failed["manifest signature"]
    # Unpinned, the swapped key signs, but it is not the key the signed manifest names.
    assert "signing key" in _failed(verify(folder))
    # And the genuine bundle passes against the pinned key.
    assert verify(bundle_copy.folder, pubkey=pinned).ok


def test_a_vendor_who_pinned_the_old_key_follows_a_rotation_offline(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    pinned = identity.public_key_pem
    rotated = SigningService(admin.ctx, kdf=TEST_KDF).rotate(
        PASSPHRASE, "another long passphrase", "Example Corp", "yearly rotation"
    )
    _with_seats(admin, org)
    out = tmp_path / "out"
    out.mkdir()
    bundle = write_bundle(admin.ctx, _report(admin), rotated, out)
    result = verify(bundle.folder, pubkey=pinned)
    assert result.ok, _failed(result)
    [rotation] = [c for c in result.checks if c.name == "key rotation"]
    assert rotated.ed25519_fingerprint[:16] in rotation.detail
    assert identity.ed25519_fingerprint[:16] in rotation.detail
    # A key nobody endorsed is still refused against the pin, even with the statement present.
    stranger = Ed25519PrivateKey.generate()
    folder = _copy(bundle, tmp_path, "stranger")
    (folder / "signing-key.pub.pem").write_bytes(
        stranger.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    (folder / "manifest.sig").write_bytes(stranger.sign((folder / "manifest.json").read_bytes()))
    failed = _failed(verify(folder, pubkey=pinned))
    assert "no statement signed by your key endorses it" in failed["manifest signature"]


def test_a_key_that_replaced_a_lost_one_is_reported_as_such(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    """The pinned key never endorsed its replacement: the verdict says the organization declared
    it lost and who approved, exits 3 (intact, not verified against the pin), never VERIFIED and
    never an unexplained failure; --previous still proves the ledger extends the pinned one's."""
    _with_seats(admin, org)
    (tmp_path / "first").mkdir()
    first = write_bundle(admin.ctx, _report(admin), identity, tmp_path / "first")
    pinned = identity.public_key_pem
    SigningService(admin.ctx, kdf=TEST_KDF).request_key_lost("Our key custodian left with it")
    admin.operators.create("bea", "Bea Second", Role.ADMINISTRATOR, PASSWORD)
    second = Services.for_actor(admin.db, operators.sign_in(admin.db, "bea", PASSWORD))
    replacement = SigningService(second.ctx, kdf=TEST_KDF).approve_key_lost(
        "another long passphrase"
    )
    (tmp_path / "second").mkdir()
    bundle = write_bundle(
        admin.ctx, _report(admin, previous=first.checkpoint), replacement, tmp_path / "second"
    )
    result = verify(
        bundle.folder,
        pubkey=pinned,
        previous_manifest=(first.folder / "manifest.json").read_bytes(),
        previous_signature=(first.folder / "manifest.sig").read_bytes(),
    )
    assert result.ok, _failed(result)
    assert vb.exit_status(result) == vb.EXIT_NOT_PINNED
    [lost] = [c for c in result.checks if c.name == "key replaced after loss"]
    assert "did NOT endorse" in lost.detail
    assert "admin requested" in lost.detail
    assert "bea approved" in lost.detail
    assert "Our key custodian left with it" in lost.detail
    assert identity.ed25519_fingerprint[:16] in lost.detail
    assert replacement.ed25519_fingerprint[:16] in lost.detail
    assert "extends the previous report's checkpoint" in {c.name for c in result.checks}
    verdict = vb.verdict_lines(result)[-1]
    assert verdict.startswith("INTACT, KEY REPLACED AFTER LOSS")
    assert replacement.ed25519_fingerprint in verdict
    # The bundle's own verifier, run as a vendor would, says the same.
    run = subprocess.run(
        [
            sys.executable,
            str(bundle.folder / "verify_bundle.py"),
            str(bundle.folder),
            "--pubkey",
            str(_pem_file(tmp_path, pinned)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == vb.EXIT_NOT_PINNED, run.stdout + run.stderr
    assert "INTACT, KEY REPLACED AFTER LOSS" in run.stdout
    # A stranger's key is still refused against the pin, the key-lost entries notwithstanding.
    stranger = Ed25519PrivateKey.generate()
    folder = _copy(bundle, tmp_path, "stranger")
    (folder / "signing-key.pub.pem").write_bytes(
        stranger.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    (folder / "manifest.sig").write_bytes(stranger.sign((folder / "manifest.json").read_bytes()))
    failed = _failed(verify(folder, pubkey=pinned))
    assert "no statement signed by your key endorses it" in failed["manifest signature"]
    # Unpinned, the verdict still says the key replaced a lost one.
    unpinned = verify(bundle.folder)
    assert unpinned.ok
    assert "key replaced after loss" in {c.name for c in unpinned.checks}
    assert vb.verdict_lines(unpinned)[-1].startswith("INTACT, KEY REPLACED AFTER LOSS")
    # Pinned to the new key (confirmed by another channel), the bundle verifies.
    confirmed = verify(bundle.folder, pubkey=replacement.public_key_pem)
    assert confirmed.ok
    assert vb.verdict_lines(confirmed)[-1].startswith("VERIFIED")


def _pem_file(folder: Path, pem: bytes) -> Path:
    path = folder / "pinned.pem"
    path.write_bytes(pem)
    return path


def _ledger_lines(folder: Path) -> list[bytes]:
    return (folder / "ledger.jsonl").read_bytes().splitlines(keepends=True)


def _write_lines(folder: Path, lines: list[bytes]) -> None:
    (folder / "ledger.jsonl").write_bytes(b"".join(lines))


def _edit_body(lines: list[bytes], index: int, *, rehash: bool = False) -> None:
    """Change who did entry ``index``; with ``rehash`` also its hash, as a forger would."""
    entry = json.loads(lines[index])
    body = json.dumps(entry["body"], sort_keys=True, separators=(",", ":")).encode()
    forged = body.replace(b'"operator":"admin"', b'"operator":"mallory"')
    assert forged != body
    prev = bytes.fromhex(entry["prev"])
    digest = entry_hash(entry["seq"], prev, forged) if rehash else bytes.fromhex(entry["hash"])
    lines[index] = b'{"seq":%d,"hash":"%s","prev":"%s","body":%s}\n' % (
        entry["seq"],
        digest.hex().encode(),
        prev.hex().encode(),
        forged,
    )


NOT_THE_ROOT = "do not give the signed Merkle root"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("edited", "was edited: its hash does not match"),
        ("edited and re-hashed", NOT_THE_ROOT),
        ("deleted", NOT_THE_ROOT),
        ("reordered", "out of order"),
        ("truncated", NOT_THE_ROOT),
        ("moved", "was edited: its hash does not match"),
        ("forged head", "last entry but not its head"),
        ("forged root", NOT_THE_ROOT),
        ("forged proof", NOT_THE_ROOT),
        ("garbage", "line 2 is not a disclosed ledger entry"),
    ],
)
def test_ledger_tampering_is_detected_and_named_even_when_resigned(
    bundle_copy: BundleResult,
    bundle_identity: SigningIdentity,
    tmp_path: Path,
    case: str,
    expected: str,
) -> None:
    folder = _copy(bundle_copy, tmp_path)
    lines = _ledger_lines(folder)
    checkpoint = bundle_copy.checkpoint
    changes: dict[str, Any] = {}
    if case == "edited":
        _edit_body(lines, 2)
    elif case == "edited and re-hashed":
        _edit_body(lines, 2, rehash=True)
    elif case == "deleted":
        del lines[2]
    elif case == "reordered":
        lines[2], lines[3] = lines[3], lines[2]
    elif case == "truncated":
        del lines[-2:]
    elif case == "moved":  # an entry shown at a place no line holds (its hash is bound to it)
        shown = [json.loads(line)["seq"] for line in lines]
        index, free = next((i, s + 1) for i, s in enumerate(shown) if s + 1 not in shown)
        lines[index] = lines[index].replace(b'"seq":%d,' % shown[index], b'"seq":%d,' % free, 1)
    elif case == "forged head":
        changes["checkpoint"] = checkpoint.as_json() | {"head": json.loads(lines[0])["hash"]}
    elif case == "forged root":
        changes["checkpoint"] = checkpoint.as_json() | {"root": "ab" * 32}
    elif case == "forged proof":
        _flip(folder / vb.PROOF, 5)
    else:
        lines[1] = b"not json\n"
    _write_lines(folder, lines)
    _resign(folder, bundle_identity, **changes)
    failed = _failed(verify(folder))
    assert set(failed) == {"disclosed entries"}
    assert expected in failed["disclosed entries"]


@pytest.mark.slow
def test_a_later_report_must_extend_the_previous_checkpoint(
    admin: Services, org: Any, identity: SigningIdentity, tmp_path: Path
) -> None:
    _with_seats(admin, org)
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = write_bundle(admin.ctx, _report(admin), identity, tmp_path / "first")
    admin.seats.assign(org.acrobat, people=org.people[2:3])
    second = write_bundle(
        admin.ctx, _report(admin, previous=first.checkpoint), identity, tmp_path / "second"
    )
    assert second.checkpoint.size > first.checkpoint.size
    old_manifest = (first.folder / "manifest.json").read_bytes()
    old_sig = (first.folder / "manifest.sig").read_bytes()
    result = verify(second.zip_path, previous_manifest=old_manifest, previous_signature=old_sig)
    assert result.ok, _failed(result)
    names = {c.name for c in result.checks}
    assert {"extends the previous checkpoint", "extends the previous report's checkpoint"} <= names

    # A forger with the organization's key re-signs a bundle whose consistency proof claims a
    # history other than the one the vendor saw: the proof fails, and so does the kept root.
    forged = _copy(second, tmp_path, "forged")
    manifest = json.loads((forged / vb.MANIFEST).read_bytes())
    previous = manifest["previous_checkpoint"]
    previous["consistency"][0] = "00" * 32
    _resign(forged, identity, previous_checkpoint=previous)
    failed = _failed(verify(forged, previous_manifest=old_manifest, previous_signature=old_sig))
    assert "was rewritten" in failed["extends the previous checkpoint"]
    previous["root"] = "11" * 32
    _resign(forged, identity, previous_checkpoint=previous)
    failed = _failed(verify(forged, previous_manifest=old_manifest, previous_signature=old_sig))
    assert "cannot be proved" in failed["extends the previous report's checkpoint"]

    # Dropping the claim of continuity does not help: the vendor's kept checkpoint is unproved.
    _resign(forged, identity, previous_checkpoint=None)
    failed = _failed(verify(forged, previous_manifest=old_manifest, previous_signature=old_sig))
    assert "names no previous checkpoint" in failed["extends the previous report's checkpoint"]

    # And the organization's own SeatLedger refuses to sign over a rewritten history: entry 2
    # edited, the whole chain and tree rebuilt so that 'ledger verify' passes again.
    _rewrite_history(admin, 2)
    assert ledger.verify(admin.db).ok
    (tmp_path / "third").mkdir()
    with pytest.raises(LedgerIntegrityError, match="not the head the previous report signed"):
        write_bundle(
            admin.ctx, _report(admin, previous=second.checkpoint), identity, tmp_path / "third"
        )
    assert list((tmp_path / "third").iterdir()) == []


def _rewrite_history(admin: Services, seq: int) -> None:
    """Edit entry ``seq`` and rebuild every hash, the head and the tree after it."""
    db = admin.db
    with db.engine.begin() as conn:
        for trigger, table in (
            ("ledger_no_update", "ledger_entry"),
            ("ledger_block_no_update", "ledger_block"),
            ("ledger_block_no_delete", "ledger_block"),
        ):
            on = f" ON {table}" if db.dialect == "postgresql" else ""
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}{on}"))
        rows = conn.execute(
            text("SELECT seq, body, prev_hash FROM ledger_entry WHERE seq >= :s ORDER BY seq"),
            {"s": seq},
        ).all()
        prev = bytes(rows[0][2])
        for number, stored, _ in rows:
            body = bytes(stored)
            if number == seq:
                body = body.replace(b'"reason":"', b'"reason":"rewritten ', 1)
            digest = entry_hash(number, prev, body)
            conn.execute(
                text("UPDATE ledger_entry SET body = :b, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"b": body, "p": prev, "h": digest, "s": number},
            )
            prev = digest
        size = rows[-1][0]
        conn.execute(text("DELETE FROM ledger_block"))
        edge = ledger_store.rebuild_frontier(conn, size)
        conn.execute(
            text("UPDATE ledger_head SET head = :h, frontier = :f"),
            {"h": prev, "f": edge.to_bytes()},
        )


# ------------------------------------------------------------------------------ stock tools


def test_standalone_verifier_uses_only_the_standard_library_and_cryptography(
    bundle_copy: BundleResult,
) -> None:
    tree = ast.parse((bundle_copy.folder / "verify_bundle.py").read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    assert modules - sys.stdlib_module_names == {"cryptography"}


def test_standalone_verifier_runs_on_its_own(
    bundle_copy: BundleResult, bundle_identity: SigningIdentity, tmp_path: Path
) -> None:
    folder = _copy(bundle_copy, tmp_path)
    script = folder / "verify_bundle.py"
    pinned = tmp_path / "pinned.pem"
    pinned.write_bytes(bundle_identity.public_key_pem)
    run = subprocess.run(
        [sys.executable, "-I", str(script), str(folder), "--pubkey", str(pinned)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "VERIFIED" in run.stdout
    run = subprocess.run(
        [sys.executable, "-I", str(script), str(bundle_copy.zip_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 3, run.stdout + run.stderr  # intact, but no key was pinned
    assert "INTACT, KEY NOT PINNED" in run.stdout
    assert "VERIFIED" not in run.stdout.replace("NOT VERIFIED", "")
    _flip(folder / "seat-assignments.csv")
    run = subprocess.run(
        [sys.executable, "-I", str(script), str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "FAIL  file hashes: changed: seat-assignments.csv" in run.stdout
    assert "NOT VERIFIED: file hashes." in run.stdout


def test_seatledger_verify_command(
    bundle_copy: BundleResult,
    bundle_identity: SigningIdentity,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pinned = tmp_path / "pinned.pem"
    pinned.write_bytes(bundle_identity.public_key_pem)
    assert cli.main(["verify", str(bundle_copy.zip_path), "--pubkey", str(pinned)]) == 0
    assert "VERIFIED" in capsys.readouterr().out
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert cli.main(["verify", str(bundle_copy.folder), "--pubkey", str(other)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  manifest signature" in out
    assert "NOT VERIFIED: manifest signature." in out
    assert cli.main(["verify", str(tmp_path / "nothing")]) == 2


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_manifest_signature(bundle_copy: BundleResult, tmp_path: Path) -> None:
    folder = _copy(bundle_copy, tmp_path)
    command = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "signing-key.pub.pem",
        "-rawin",
        "-in",
        "manifest.json",
        "-sigfile",
        "manifest.sig",
    ]
    run = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Signature Verified Successfully" in run.stdout
    _flip(folder / "manifest.json")
    run = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    assert run.returncode != 0


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="sha256sum is not installed")
def test_sha256sum_checks_the_files(bundle_copy: BundleResult, tmp_path: Path) -> None:
    folder = _copy(bundle_copy, tmp_path)
    run = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    _flip(folder / "report.json")
    run = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    assert "report.json: FAILED" in run.stdout


@sqlite_only
def test_report_document_needs_no_database(admin: Services, identity: SigningIdentity) -> None:
    """report.json is built from the input alone (the PDF from the same document)."""
    report = _report(admin)
    document = report_document(
        report, identity, Checkpoint(1, "00" * 32), {"findings": 0}, dt.datetime.now(dt.UTC)
    )
    assert document["attestation"]["full_name"] == "Ada Admin"
    assert document["signing"]["ed25519_public_key_sha256"] == identity.ed25519_fingerprint
    json.dumps(document)  # plain JSON values only


@sqlite_only
@pytest.mark.parametrize("helper", ["fresh interpreter", "thread"])
@pytest.mark.usefixtures("org")
def test_the_ledger_helper_works_where_forking_is_unsafe(
    admin: Services,
    identity: SigningIdentity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    helper: str,
) -> None:
    """The GUI has threads (no fork: a fresh interpreter); a frozen build has no interpreter."""
    from seatledger.services.audits.bundle import ledger_file

    monkeypatch.setattr(ledger_file, "can_fork", lambda: False)
    if helper == "thread":
        monkeypatch.setattr(sys, "frozen", True, raising=False)
    result = write_bundle(admin.ctx, _bare_report(), identity, tmp_path)
    assert verify(result.folder).ok
