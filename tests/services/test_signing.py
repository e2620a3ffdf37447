"""The report-signing identity: creation, encryption at rest, import, rotation, roles."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable

import pytest
from argon2.low_level import Type, hash_secret_raw
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import select, text
from tests.conftest import PASSWORD

from seatledger.domain.roles import Role
from seatledger.errors import KnownError, PermissionDenied, ValidationError
from seatledger.services.audits.signing import (
    DEFAULT_KDF,
    PSEUDONYM_KEY,
    TEST_KDF,
    SigningService,
    WrongPassphrase,
    self_signed_certificate,
)
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database
from seatledger.store.models import LedgerEntry, Setting
from seatledger.store.models_signing import SigningIdentityRecord

PASSPHRASE = "a long and private passphrase"


def _service(services: Services) -> SigningService:
    return SigningService(services.ctx, kdf=TEST_KDF)


def _ledger(services: Services, action: str) -> list[dict[str, object]]:
    with services.db.read() as session:
        bodies = session.scalars(select(LedgerEntry.body).where(LedgerEntry.action == action))
        return [json.loads(b) for b in bodies]


def test_created_identity_unlocks_and_is_recorded(admin: Services) -> None:
    service = _service(admin)
    created = service.unlock_or_create(PASSPHRASE, "Example Corp")
    opened = service.unlock(PASSPHRASE)
    assert opened.ed25519_fingerprint == created.ed25519_fingerprint
    assert opened.certificate_fingerprint == created.certificate_fingerprint
    assert isinstance(opened.pdf_key, ec.EllipticCurvePrivateKey)
    assert opened.pdf_key.curve.name == "secp256r1"
    # The fingerprints are what stock tools compute from the PEM files in a bundle.
    der = serialization.load_pem_public_key(opened.public_key_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert hashlib.sha256(der).hexdigest() == opened.ed25519_fingerprint
    info = service.current()
    assert info is not None
    assert info.active
    assert info.organization == "Example Corp"
    (entry,) = _ledger(admin, "signing_identity.create")
    after = entry["what"]["after"]  # type: ignore[index]
    assert after["ed25519_fingerprint"] == created.ed25519_fingerprint
    assert after["certificate_fingerprint"] == created.certificate_fingerprint
    # A pseudonym key was made with it, sealed with it, and never appears in the ledger.
    assert len(opened.pseudonym_key) == 32
    assert opened.pseudonym_key == created.pseudonym_key
    assert opened.pseudonym_key.hex() not in json.dumps(entry)


def test_private_keys_are_sealed_not_stored(admin: Services) -> None:
    identity = _service(admin).create(PASSPHRASE, "Example Corp")
    raw = identity.ed25519.private_bytes_raw()
    assert isinstance(identity.pdf_key, ec.EllipticCurvePrivateKey)
    scalar = identity.pdf_key.private_numbers().private_value.to_bytes(32, "big")
    with admin.db.read() as session:
        record = session.scalars(select(SigningIdentityRecord)).one()
        stored = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for v in (record.sealed, record.certificate, record.ed25519_public, record.chain_pem)
        )
    assert raw not in stored
    assert scalar not in stored
    assert PASSPHRASE.encode() not in stored
    ledger = b"".join(json.dumps(e).encode() for e in _ledger(admin, "signing_identity.create"))
    assert PASSPHRASE.encode() not in ledger


def test_wrong_passphrase_is_refused_with_a_clear_message(admin: Services) -> None:
    service = _service(admin)
    service.create(PASSPHRASE, "Example Corp")
    with pytest.raises(WrongPassphrase, match="Wrong passphrase for the signing key") as caught:
        service.unlock("not the passphrase at all")
    assert "SEATLEDGER_KEY_PASSPHRASE" in str(caught.value)


def test_sealed_keys_are_bound_to_the_public_parts(admin: Services) -> None:
    """Swapping in another certificate beside the sealed keys does not unlock."""
    service = _service(admin)
    service.create(PASSPHRASE, "Example Corp")
    with admin.db.write() as session:
        record = session.scalars(select(SigningIdentityRecord)).one()
        record.certificate_fingerprint = "0" * 64
    with pytest.raises(WrongPassphrase):
        service.unlock(PASSPHRASE)


def test_short_passphrase_and_second_identity_are_refused(admin: Services) -> None:
    service = _service(admin)
    with pytest.raises(ValidationError, match="at least 10 characters"):
        service.create("short", "Example Corp")
    service.create(PASSPHRASE, "Example Corp")
    with pytest.raises(ValidationError, match="rotate it"):
        service.create(PASSPHRASE, "Example Corp")


def test_no_identity_yet_is_explained(admin: Services) -> None:
    with pytest.raises(KnownError, match="created on first signing"):
        _service(admin).unlock(PASSPHRASE)


def test_default_kdf_is_strong_and_stored(sqlite_db_admin: Services) -> None:
    """The default cost is RFC 9106's second recommendation; tests lower it only explicitly."""
    assert (DEFAULT_KDF.time_cost, DEFAULT_KDF.memory_kib, DEFAULT_KDF.parallelism) == (3, 65536, 4)
    service = SigningService(sqlite_db_admin.ctx)
    assert service.kdf == DEFAULT_KDF
    service.create(PASSPHRASE, "Example Corp")
    info = service.current()
    assert info is not None
    assert info.kdf == DEFAULT_KDF
    assert service.unlock(PASSPHRASE).id == info.id
    # An identity sealed cheaply (tests) still unlocks by its own stored cost.
    assert TEST_KDF.memory_kib < DEFAULT_KDF.memory_kib


@pytest.fixture
def sqlite_db_admin(sqlite_db: Database) -> Services:
    """An administrator on SQLite only (the default KDF costs real time)."""
    actor = operators.create_first_administrator(sqlite_db, "admin", "Ada", "correct horse")
    return Services.for_actor(sqlite_db, actor)


def test_rotation_retires_the_old_identity_and_is_recorded(admin: Services) -> None:
    service = _service(admin)
    old = service.create(PASSPHRASE, "Example Corp")
    new = service.rotate(PASSPHRASE, "another long passphrase", "Example Corp", "yearly rotation")
    assert new.ed25519_fingerprint != old.ed25519_fingerprint
    history = service.history()
    assert [h.id for h in history] == [new.id, old.id]
    assert history[0].active
    assert not history[1].active
    (entry,) = _ledger(admin, "signing_identity.rotate")
    what = entry["what"]
    assert what["before"]["ed25519_fingerprint"] == old.ed25519_fingerprint  # type: ignore[index]
    assert what["after"]["ed25519_fingerprint"] == new.ed25519_fingerprint  # type: ignore[index]
    assert what["reason"] == "yearly rotation"  # type: ignore[index]
    # The active identity opens with its own passphrase; the old one is kept for history.
    assert service.unlock("another long passphrase").id == new.id
    assert service.public_key_pem(old.id) == old.public_key_pem


def _organization_pkcs12(
    password: bytes, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
) -> bytes:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Corp Root CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "Example Corp documents"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Corp"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(1000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .build(password)
    )
    return pkcs12.serialize_key_and_certificates(b"org", key, leaf, [ca], encryption)


def test_pkcs12_import(admin: Services) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = _organization_pkcs12(b"p12 secret", key)
    service = _service(admin)
    with pytest.raises(ValidationError, match="cannot be opened"):
        service.import_pkcs12(data, "wrong", PASSPHRASE)
    identity = service.import_pkcs12(
        data, "p12 secret", PASSPHRASE, "the organization's certificate"
    )
    assert identity.organization == "Example Corp"
    opened = service.unlock(PASSPHRASE)
    assert isinstance(opened.pdf_key, rsa.RSAPrivateKey)
    assert opened.certificate.subject == identity.certificate.subject
    assert [c.subject for c in opened.chain] == [c.subject for c in identity.chain]
    assert len(opened.chain) == 1
    assert isinstance(opened.ed25519, ed25519.Ed25519PrivateKey)
    assert _ledger(admin, "signing_identity.import")


def test_pkcs12_import_rotates_an_existing_identity(admin: Services) -> None:
    service = _service(admin)
    old = service.create(PASSPHRASE, "Example Corp")
    key = ec.generate_private_key(ec.SECP256R1())
    service.import_pkcs12(
        _organization_pkcs12(b"pw", key), "pw", PASSPHRASE, current_passphrase=PASSPHRASE
    )
    history = service.history()
    assert history[1].id == old.id
    assert not history[1].active


def test_self_signed_certificate_allows_non_repudiation() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed_certificate(key, "Example Corp", dt.datetime.now(dt.UTC))
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Example Corp"
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.LICENSE_MANAGER])
def test_only_auditors_and_administrators_manage_keys(
    as_role: Callable[[Role], Services], role: Role
) -> None:
    with pytest.raises(PermissionDenied):
        _service(as_role(role)).create(PASSPHRASE, "Example Corp")
    assert _service(as_role(Role.AUDITOR)).create(PASSPHRASE, "Example Corp").id


def test_raw_sql_cannot_read_a_key(admin: Services) -> None:
    _service(admin).create(PASSPHRASE, "Example Corp")
    with admin.db.engine.connect() as conn:
        sealed = conn.execute(text("SELECT sealed FROM signing_identity")).scalar_one()
    assert b"ed25519" not in bytes(sealed)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.LICENSE_MANAGER])
def test_only_an_administrator_replaces_the_signing_identity(
    admin: Services, as_role: Callable[[Role], Services], role: Role
) -> None:
    _service(admin).create(PASSPHRASE, "Example Corp")
    other = _service(as_role(role))
    with pytest.raises(PermissionDenied):
        other.rotate(PASSPHRASE, "another long passphrase", "Evil Corp", "mine now")
    evil = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(PermissionDenied):
        other.import_pkcs12(
            _organization_pkcs12(b"pw", evil), "pw", PASSPHRASE, current_passphrase=PASSPHRASE
        )
    assert [h.organization for h in _service(admin).history()] == ["Example Corp"]


def test_rotation_needs_the_current_passphrase(admin: Services) -> None:
    service = _service(admin)
    service.create(PASSPHRASE, "Example Corp")
    with pytest.raises(WrongPassphrase):
        service.rotate("not the passphrase at all", "another long passphrase", "Ex", "lost")
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ValidationError, match="give its passphrase"):
        service.import_pkcs12(_organization_pkcs12(b"pw", key), "pw", PASSPHRASE)
    assert len(service.history()) == 1
    assert not _ledger(admin, "signing_identity.rotate")


def test_the_old_key_endorses_its_successor(admin: Services) -> None:
    service = _service(admin)
    old = service.create(PASSPHRASE, "Example Corp")
    new = service.rotate(PASSPHRASE, "another long passphrase", "Example Corp", "yearly")
    (entry,) = _ledger(admin, "signing_identity.rotate")
    endorsement = entry["what"]["after"]["endorsement"]  # type: ignore[index]
    statement = endorsement["statement"].encode()
    public = serialization.load_pem_public_key(old.public_key_pem)
    assert isinstance(public, ed25519.Ed25519PublicKey)
    public.verify(base64.b64decode(endorsement["signature"]), statement)  # raises if forged
    said = json.loads(statement)
    assert said["previous_ed25519_fingerprint"] == old.ed25519_fingerprint
    assert said["next_ed25519_fingerprint"] == new.ed25519_fingerprint
    assert said["next_certificate_fingerprint"] == new.certificate_fingerprint


# ------------------------------------------------------------------------- the key-lost procedure

NEW_PASSPHRASE = "another long passphrase"


def _second_admin(admin: Services) -> Services:
    admin.operators.create("bea", "Bea Second", Role.ADMINISTRATOR, PASSWORD)
    return Services.for_actor(admin.db, operators.sign_in(admin.db, "bea", PASSWORD))


def test_a_lost_key_is_replaced_when_a_second_administrator_approves(admin: Services) -> None:
    old = _service(admin).create(PASSPHRASE, "Example Corp")
    request = _service(admin).request_key_lost("The only holder of the passphrase left us")
    assert _service(admin).key_lost_request() == request
    # The one who asked may not approve: a second administrator must.
    with pytest.raises(PermissionDenied, match="another administrator approves"):
        _service(admin).approve_key_lost(NEW_PASSPHRASE)
    second = _second_admin(admin)
    new = _service(second).approve_key_lost(NEW_PASSPHRASE)
    assert new.ed25519_fingerprint != old.ed25519_fingerprint
    assert _service(second).key_lost_request() is None
    history = _service(admin).history()
    assert [(h.id, h.active) for h in history] == [(new.id, True), (old.id, False)]
    assert _service(admin).unlock(NEW_PASSPHRASE).ed25519_fingerprint == new.ed25519_fingerprint
    # Both halves are ledger entries: the request with its reason, the replacement naming both
    # administrators and the lost key, and no endorsement (nobody could sign with the lost key).
    (asked,) = _ledger(admin, "signing_identity.key_lost_request")
    assert asked["operator"] == "admin"
    assert asked["what"]["reason"] == "The only holder of the passphrase left us"  # type: ignore[index]
    assert asked["seq"] == request.seq
    (replaced,) = _ledger(admin, "signing_identity.replace_lost")
    assert replaced["operator"] == "bea"
    after = replaced["what"]["after"]  # type: ignore[index]
    assert "endorsement" not in after
    assert after["ed25519_fingerprint"] == new.ed25519_fingerprint
    said = after["key_lost"]
    assert said["previous_ed25519_fingerprint"] == old.ed25519_fingerprint
    assert (said["requested_by"], said["approved_by"]) == ("admin", "bea")
    assert said["request_seq"] == request.seq
    assert said["pseudonyms"] == "renewed"
    assert new.pseudonym_key != old.pseudonym_key


def test_the_key_lost_procedure_refuses_what_it_must(
    admin: Services, as_role: Callable[[Role], Services]
) -> None:
    service = _service(admin)
    with pytest.raises(ValidationError, match="no signing identity to declare lost"):
        service.request_key_lost("lost it in the move")
    service.create(PASSPHRASE, "Example Corp")
    with pytest.raises(ValidationError, match="Say why"):
        service.request_key_lost("lost")
    with pytest.raises(PermissionDenied):
        _service(as_role(Role.AUDITOR)).request_key_lost("the auditor wants a key of their own")
    second = _service(_second_admin(admin))
    with pytest.raises(ValidationError, match="No key-lost request is pending"):
        second.approve_key_lost(NEW_PASSPHRASE)
    service.request_key_lost("the passphrase was in a drawer that burned")
    with pytest.raises(ValidationError, match="pending already"):
        second.request_key_lost("asking twice over the other one")
    with pytest.raises(PermissionDenied):
        _service(as_role(Role.AUDITOR)).approve_key_lost(NEW_PASSPHRASE)
    with pytest.raises(ValidationError, match="at least"):
        second.approve_key_lost("short")
    # A withdrawn request cannot be approved; nothing was replaced.
    second.withdraw_key_lost("found the passphrase after all")
    with pytest.raises(ValidationError, match="No key-lost request is pending"):
        second.approve_key_lost(NEW_PASSPHRASE)
    assert len(service.history()) == 1
    assert service.unlock(PASSPHRASE).id == service.history()[0].id
    assert len(_ledger(admin, "signing_identity.key_lost_withdraw")) == 1


# ------------------------------------------------------------------------ the sealed pseudonym key


def test_the_pseudonym_key_is_sealed_and_rotation_keeps_it(admin: Services) -> None:
    created = _service(admin).create(PASSPHRASE, "Example Corp")
    assert len(created.pseudonym_key) == 32
    with admin.db.read() as session:
        assert session.get(Setting, PSEUDONYM_KEY) is None
        settings = " ".join(session.scalars(select(Setting.value)))
    assert created.pseudonym_key.hex() not in settings
    assert _service(admin).unlock(PASSPHRASE).pseudonym_key == created.pseudonym_key
    rotated = _service(admin).rotate(PASSPHRASE, NEW_PASSPHRASE, "Example Corp", "yearly")
    assert rotated.pseudonym_key == created.pseudonym_key
    assert _service(admin).unlock(NEW_PASSPHRASE).pseudonym_key == created.pseudonym_key


def test_a_plain_pseudonym_key_of_an_older_database_is_sealed_on_unlock(admin: Services) -> None:
    """A database written before the key was sealed kept it as a setting: the next unlock moves
    it into the identity (the same key: pseudonyms stay what vendors saw) and deletes it."""
    created = _service(admin).create(PASSPHRASE, "Example Corp")
    legacy = bytes(range(32))
    aad = (
        b"seatledger/signing-identity/v1\x00"
        + created.ed25519_fingerprint.encode()
        + b"\x00"
        + created.certificate_fingerprint.encode()
    )
    with admin.db.write() as session:
        record = session.get(SigningIdentityRecord, created.id)
        assert record is not None
        cost = TEST_KDF
        key = hash_secret_raw(
            PASSPHRASE.encode(),
            bytes(record.kdf_salt),
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            hash_len=32,
            type=Type.ID,
        )
        secret = json.loads(AESGCM(key).decrypt(bytes(record.nonce), bytes(record.sealed), aad))
        del secret["pseudonym"]  # as an identity sealed before looked
        record.sealed = AESGCM(key).encrypt(bytes(record.nonce), json.dumps(secret).encode(), aad)
        session.add(Setting(key=PSEUDONYM_KEY, value=legacy.hex()))
    opened = _service(admin).unlock(PASSPHRASE)
    assert opened.pseudonym_key == legacy
    with admin.db.read() as session:
        assert session.get(Setting, PSEUDONYM_KEY) is None
    assert _service(admin).unlock(PASSPHRASE).pseudonym_key == legacy
    (entry,) = _ledger(admin, "signing_identity.seal_pseudonym_key")
    assert entry["what"]["after"] == {  # type: ignore[index]
        "pseudonym_key": "sealed with the identity",
        "carried_over": True,
    }
    assert legacy.hex() not in json.dumps(entry)
