"""The organization's report-signing identity: made on first signing or imported, kept encrypted.

An identity is an ECDSA P-256 key with a self-signed X.509 certificate naming the organization
(the PAdES signature of ``report.pdf``; an imported PKCS#12 may bring an RSA or EC key and a
certificate issued by the organization's CA instead) and an Ed25519 key (the raw signature of a
bundle's ``manifest.json``; poppler cannot check Ed25519 inside PDFs, hence two keys).

Private keys are sealed with AES-256-GCM under a key derived from the passphrase with Argon2id
(RFC 9106's second recommended parameters: 3 passes over 64 MiB, 4 lanes), stored with the salt
and costs; the passphrase comes from a prompt or ``SEATLEDGER_KEY_PASSPHRASE``.  Fingerprints are
SHA-256 over the DER a vendor gets from stock tools:
``openssl pkey -pubin -in signing-key.pub.pem -outform DER | sha256sum`` and
``openssl x509 -in signing-cert.pem -outform DER | sha256sum``.

Creating, importing and rotating an identity are ledger entries; a rotated identity is retired,
never deleted, so earlier reports still name a key SeatLedger knows.

When the passphrase is lost, nobody can rotate: the "key lost" procedure replaces the identity
instead.  One administrator requests it with a reason (``signing_identity.key_lost_request``),
and a second, different administrator approves it, which retires the lost identity and makes the
new one in the same entry (``signing_identity.replace_lost``).  That entry carries no endorsement,
since nobody can sign with the lost key; it names the lost key, the request and both
administrators, and a vendor's verifier reports the new key as replacing a lost one, never as
endorsed by it.

The key behind the pseudonyms of vendor reports (an HMAC key) is sealed with the identity's
private keys, so a copy of the database alone does not reveal it; a rotation carries it over, and
a lost identity loses it (pseudonyms in later reports then differ from earlier ones').  A database
that kept it as a plain setting (before it was sealed) has it moved into the sealed identity the
next time the identity is unlocked.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from seatledger.domain.canonical import canonical_bytes
from seatledger.domain.roles import Permission
from seatledger.errors import (
    AuthenticationError,
    KnownError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from seatledger.services.core.context import Context, iso
from seatledger.store import ledger_store
from seatledger.store.models import Setting
from seatledger.store.models_signing import SigningIdentityRecord

PASSPHRASE_ENV = "SEATLEDGER_KEY_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)
NEW_PASSPHRASE_ENV = "SEATLEDGER_NEW_KEY_PASSPHRASE"  # noqa: S105 (a rotation's new passphrase)
PSEUDONYM_KEY = "pseudonym_key"  # the setting that held the pseudonym key before it was sealed
KEY_LOST_REQUEST = "signing_key_lost_request"  # a setting: the pending "key lost" request
MIN_PASSPHRASE = 10
CERTIFICATE_YEARS = 5
_AAD_TAG = b"seatledger/signing-identity/v1\x00"

PdfKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class KdfCost:
    """Argon2id costs: passes, memory in KiB, lanes."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


DEFAULT_KDF = KdfCost()
"""RFC 9106 §4, second recommended option (about 0.4 s here)."""

TEST_KDF = KdfCost(time_cost=1, memory_kib=64, parallelism=1)
"""For tests only: passed explicitly as ``SigningService(ctx, kdf=TEST_KDF)``; never a default."""


class WrongPassphrase(AuthenticationError):
    """The passphrase does not open the signing identity."""


class _Resealed(Exception):
    """Another process sealed the pseudonym key into the identity first (unlock again)."""


MIN_KEY_LOST_REASON = 10
KEY_LOST_STATEMENT = "seatledger signing identity replaced after loss"


@dataclass(frozen=True, slots=True)
class KeyLostRequest:
    """A pending "key lost" request: the identity it declares lost, who asked, when and why."""

    identity_id: int
    ed25519_fingerprint: str
    requested_by: str
    requested_at: str  # UTC, as the ledger writes it
    reason: str
    seq: int  # the request's ledger entry

    def as_json(self) -> dict[str, Any]:
        """As stored in the pending setting and named in the approval's ledger entry."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: str) -> KeyLostRequest:
        """Read the pending setting back."""
        data = json.loads(value)
        return cls(
            identity_id=int(data["identity_id"]),
            ed25519_fingerprint=str(data["ed25519_fingerprint"]),
            requested_by=str(data["requested_by"]),
            requested_at=str(data["requested_at"]),
            reason=str(data["reason"]),
            seq=int(data["seq"]),
        )

    @property
    def text(self) -> str:
        """One line for the window and the command line."""
        return (
            f"{self.requested_by} declared signing identity {self.identity_id} lost on "
            f"{self.requested_at[:10]} (ledger entry {self.seq}): {self.reason}"
        )


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """An identity's public facts (shown, pinned by vendors); no secrets."""

    id: int
    organization: str
    origin: str
    created_at: dt.datetime
    created_by: str
    retired_at: dt.datetime | None
    ed25519_fingerprint: str
    certificate_fingerprint: str
    certificate_subject: str
    certificate_not_after: dt.datetime
    kdf: KdfCost

    @property
    def active(self) -> bool:
        """Whether this identity signs new reports."""
        return self.retired_at is None


@dataclass(frozen=True)
class SigningIdentity:
    """An unlocked identity: its private keys live only as long as this object."""

    id: int
    organization: str
    ed25519: ed25519.Ed25519PrivateKey
    pdf_key: PdfKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    pseudonym_key: bytes = b""  # the HMAC key behind pseudonyms in vendor reports, sealed with it

    @property
    def public_key_pem(self) -> bytes:
        """The Ed25519 public key as SubjectPublicKeyInfo PEM (``signing-key.pub.pem``)."""
        return self.ed25519.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def certificate_pem(self) -> bytes:
        """The PDF signing certificate, PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def ed25519_fingerprint(self) -> str:
        """SHA-256 (hex) of the Ed25519 public key's SubjectPublicKeyInfo DER."""
        return public_key_fingerprint(self.ed25519.public_key())

    @property
    def certificate_fingerprint(self) -> str:
        """SHA-256 (hex) of the certificate's DER."""
        return certificate_fingerprint(self.certificate)

    def sign(self, data: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``data``."""
        return self.ed25519.sign(data)


def public_key_fingerprint(key: ed25519.Ed25519PublicKey) -> str:
    """SHA-256 (hex) of a public key's SubjectPublicKeyInfo DER."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 (hex) of a certificate's DER."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def fingerprint_text(hex_digest: str) -> str:
    """A fingerprint in groups of four, easier to read aloud and compare."""
    return " ".join(hex_digest[i : i + 4] for i in range(0, len(hex_digest), 4))


X509_NAME_BYTES = 64  # the longest common or organization name a certificate holds (UTF-8)


def _fit(text: str) -> str:
    """``text`` cut to what an X.509 name holds, never inside a character."""
    return text.encode()[:X509_NAME_BYTES].decode("utf-8", "ignore")


def self_signed_certificate(
    key: ec.EllipticCurvePrivateKey, organization: str, now: dt.datetime
) -> x509.Certificate:
    """A certificate for the organization's report signatures.

    Key usage is digitalSignature and nonRepudiation (contentCommitment): PDF validators, pyHanko's
    among them, expect non-repudiation on a document-signing certificate.
    """
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(f"{organization} audit reports")),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(organization)),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _derive(passphrase: str, salt: bytes, cost: KdfCost) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=cost.time_cost,
        memory_cost=cost.memory_kib,
        parallelism=cost.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def _aad(ed_fingerprint: str, cert_fingerprint: str) -> bytes:
    return _AAD_TAG + ed_fingerprint.encode() + b"\x00" + cert_fingerprint.encode()


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationError(
            f"The signing key's passphrase must be at least {MIN_PASSPHRASE} characters; "
            "a longer phrase of several words is better.",
            "passphrase",
        )


def _info(record: SigningIdentityRecord) -> IdentityInfo:
    cert = x509.load_der_x509_certificate(record.certificate)
    return IdentityInfo(
        id=record.id,
        organization=record.organization,
        origin=record.origin,
        created_at=record.created_at,
        created_by=record.created_by,
        retired_at=record.retired_at,
        ed25519_fingerprint=record.ed25519_fingerprint,
        certificate_fingerprint=record.certificate_fingerprint,
        certificate_subject=cert.subject.rfc4514_string(),
        certificate_not_after=cert.not_valid_after_utc,
        kdf=KdfCost(record.kdf_time_cost, record.kdf_memory_kib, record.kdf_parallelism),
    )


def _active(session: Session) -> SigningIdentityRecord | None:
    return session.scalars(
        select(SigningIdentityRecord)
        .where(SigningIdentityRecord.retired_at.is_(None))
        .order_by(SigningIdentityRecord.id.desc())
    ).first()


class SigningService:
    """Creates, imports, rotates and unlocks the signing identity.

    Args:
        ctx: the signed-in session (creating the first identity needs the audit permission;
            importing and rotating are an administrator's).
        kdf: the Argon2id cost for identities sealed from now on.  Tests pass :data:`TEST_KDF`
            here, explicitly; everything else keeps :data:`DEFAULT_KDF`.  Unlocking always uses
            the cost stored with the identity.
    """

    def __init__(self, ctx: Context, kdf: KdfCost = DEFAULT_KDF) -> None:
        self.ctx = ctx
        self.kdf = kdf

    # ---------------------------------------------------------------------------- reading

    def current(self) -> IdentityInfo | None:
        """The identity that signs new reports, if one exists."""
        with self.ctx.read() as session:
            record = _active(session)
            return None if record is None else _info(record)

    def history(self) -> list[IdentityInfo]:
        """Every identity, newest first (retired ones included)."""
        with self.ctx.read() as session:
            records = session.scalars(
                select(SigningIdentityRecord).order_by(SigningIdentityRecord.id.desc())
            ).all()
            return [_info(r) for r in records]

    def public_key_pem(self, identity_id: int) -> bytes:
        """An identity's Ed25519 public key as PEM (what a vendor pins).

        Raises:
            NotFoundError: no such identity.
        """
        with self.ctx.read() as session:
            record = session.get(SigningIdentityRecord, identity_id)
            if record is None:
                raise NotFoundError(f"There is no signing identity {identity_id}.")
            key = serialization.load_der_public_key(bytes(record.ed25519_public))
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def unlock(self, passphrase: str) -> SigningIdentity:
        """Open the active identity.

        Raises:
            KnownError: there is no identity yet.
            WrongPassphrase: the passphrase does not open it.
        """
        for _attempt in range(2):
            with self.ctx.read() as session:
                record = _active(session)
                if record is None:
                    raise KnownError(
                        "There is no signing identity yet; it is created on first signing."
                    )
                identity, sealing_key = _open(record, passphrase)
                nonce = bytes(record.nonce)
            if identity.pseudonym_key:
                return identity
            try:
                return self._seal_pseudonym_key(identity, sealing_key, nonce)
            except _Resealed:
                continue  # another process sealed it meanwhile: open the new seal
        raise KnownError("The signing identity keeps changing; try again.")

    def _seal_pseudonym_key(
        self, identity: SigningIdentity, sealing_key: bytes, nonce: bytes
    ) -> SigningIdentity:
        """Move the pseudonym key of a database written before it was sealed into the identity.

        The plain setting is deleted in the same transaction (on SQLite with ``secure_delete``,
        so its bytes are overwritten, not left in a free page); one ledger entry says so.
        """
        with self.ctx.change(
            Permission.RUN_AUDITS,
            "signing_identity.seal_pseudonym_key",
            "signing_identity",
            "unlock the signing identity",
        ) as change:
            session = change.session
            record = session.get(SigningIdentityRecord, identity.id)
            if record is None or record.retired_at is not None or bytes(record.nonce) != nonce:
                raise _Resealed
            legacy = session.get(Setting, PSEUDONYM_KEY)
            key = bytes.fromhex(legacy.value) if legacy is not None else secrets.token_bytes(32)
            fresh = os.urandom(12)
            record.sealed = AESGCM(sealing_key).encrypt(
                fresh,
                _secret(identity.ed25519, identity.pdf_key, key),
                _aad(record.ed25519_fingerprint, record.certificate_fingerprint),
            )
            record.nonce = fresh
            if legacy is not None:
                _forget(session, legacy)
            change.entity_id = str(identity.id)
            change.after = {
                "pseudonym_key": "sealed with the identity",
                "carried_over": legacy is not None,
            }
        return dataclasses.replace(identity, pseudonym_key=key)

    def unlock_or_create(self, passphrase: str, organization: str) -> SigningIdentity:
        """Open the active identity, creating it (a ledger entry) when there is none."""
        if self.current() is None:
            return self.create(passphrase, organization)
        return self.unlock(passphrase)

    # ---------------------------------------------------------------------------- writing

    def create(self, passphrase: str, organization: str) -> SigningIdentity:
        """Generate a new identity (P-256 key and self-signed certificate, Ed25519 key).

        Raises:
            ValidationError: an identity already exists (rotate it instead), a short passphrase
                or no organization name.
        """
        return self._store(passphrase, organization, None, "generated", rotate=False, reason="")

    def rotate(
        self, current_passphrase: str, passphrase: str, organization: str, reason: str
    ) -> SigningIdentity:
        """Retire the active identity and generate a new one, in one ledger entry.

        Administrators only, and only with the current identity's passphrase: its key endorses
        the new one (a signed statement in the ledger entry), so a vendor who pinned the old key
        can follow the rotation.

        Raises:
            PermissionDenied: the operator is not an administrator.
            WrongPassphrase: ``current_passphrase`` does not open the active identity.
        """
        self.ctx.require(Permission.MANAGE_SIGNING_KEYS, "replace the signing identity")
        previous = self.unlock(current_passphrase)
        return self._store(
            passphrase,
            organization.strip() or previous.organization,  # the same organization by default
            None,
            "generated",
            rotate=True,
            reason=reason,
            previous=previous,
        )

    def key_lost_request(self) -> KeyLostRequest | None:
        """The pending "key lost" request, if an administrator made one."""
        with self.ctx.read() as session:
            stored = session.get(Setting, KEY_LOST_REQUEST)
            return None if stored is None else KeyLostRequest.from_json(stored.value)

    def request_key_lost(self, reason: str) -> KeyLostRequest:
        """Declare the active identity's passphrase lost: the first half of the replacement.

        A ledger entry with the reason; a second administrator approves it
        (:meth:`approve_key_lost`), or any administrator withdraws it.

        Raises:
            PermissionDenied: the operator is not an administrator.
            ValidationError: no identity, no reason, or a request is pending already.
        """
        self.ctx.require(Permission.MANAGE_SIGNING_KEYS, "declare the signing key lost")
        reason = reason.strip()
        if len(reason) < MIN_KEY_LOST_REASON:
            raise ValidationError(
                "Say why the signing key is lost (at least "
                f"{MIN_KEY_LOST_REASON} characters): it is recorded, and a vendor reads it.",
                "reason",
            )
        with self.ctx.change(
            Permission.MANAGE_SIGNING_KEYS,
            "signing_identity.key_lost_request",
            "signing_identity",
            "declare the signing key lost",
            reason,
        ) as change:
            session = change.session
            old = _active(session)
            if old is None:
                raise ValidationError("There is no signing identity to declare lost.")
            pending = session.get(Setting, KEY_LOST_REQUEST)
            if pending is not None:
                raise ValidationError(
                    f"A request is pending already: {KeyLostRequest.from_json(pending.value).text}."
                    " Another administrator approves it, or withdraw it first."
                )
            request = KeyLostRequest(
                identity_id=old.id,
                ed25519_fingerprint=old.ed25519_fingerprint,
                requested_by=self.ctx.actor.name,
                requested_at=iso(change.now),
                reason=reason,
                seq=ledger_store.last_seq(session) + 1,  # this entry's (the write lock is held)
            )
            session.add(Setting(key=KEY_LOST_REQUEST, value=json.dumps(request.as_json())))
            change.entity_id = str(old.id)
            change.after = {
                "key_lost_request": {
                    "identity_id": old.id,
                    "ed25519_fingerprint": old.ed25519_fingerprint,
                    "certificate_fingerprint": old.certificate_fingerprint,
                }
            }
        return request

    def withdraw_key_lost(self, reason: str = "") -> KeyLostRequest:
        """Withdraw (or, as the second administrator, turn down) the pending request.

        Raises:
            PermissionDenied: the operator is not an administrator.
            ValidationError: nothing is pending.
        """
        with self.ctx.change(
            Permission.MANAGE_SIGNING_KEYS,
            "signing_identity.key_lost_withdraw",
            "signing_identity",
            "withdraw a key-lost request",
            reason,
        ) as change:
            pending = change.session.get(Setting, KEY_LOST_REQUEST)
            if pending is None:
                raise ValidationError("No key-lost request is pending.")
            request = KeyLostRequest.from_json(pending.value)
            change.session.delete(pending)
            change.entity_id = str(request.identity_id)
            change.before = {"key_lost_request": request.as_json()}
        return request

    def approve_key_lost(
        self,
        passphrase: str,
        organization: str = "",
        pkcs12_data: bytes | None = None,
        pkcs12_password: str | None = None,
    ) -> SigningIdentity:
        """Approve the pending "key lost" request and replace the lost identity, in one entry.

        Only an administrator other than the one who requested it approves.  The lost identity
        is retired; a new one is generated (or made from the organization's PKCS#12), sealed
        under ``passphrase``.  Its ledger entry (``signing_identity.replace_lost``) names the
        lost key, the request and both administrators, and carries no endorsement: the vendor's
        verifier reports the new key as replacing a lost one, to be confirmed by another channel.

        Raises:
            PermissionDenied: the operator is not an administrator, or is the one who asked.
            ValidationError: nothing is pending, the request names an identity that is no longer
                the active one, or the passphrase or PKCS#12 is refused.
        """
        self.ctx.require(Permission.MANAGE_SIGNING_KEYS, "approve replacing a lost signing key")
        request = self.key_lost_request()
        if request is None:
            raise ValidationError(
                "No key-lost request is pending: an administrator declares the key lost first, "
                "with a reason."
            )
        if request.requested_by == self.ctx.actor.name:
            raise PermissionDenied(
                f"{self.ctx.actor.name} requested this replacement and may not approve it too: "
                "another administrator approves it."
            )
        current = self.current()
        if current is None or current.ed25519_fingerprint != request.ed25519_fingerprint:
            raise ValidationError(
                "The key-lost request names a signing identity that is no longer the active one;"
                " withdraw it."
            )
        imported = None
        if pkcs12_data is not None:
            key, cert, chain, named = _load_pkcs12(pkcs12_data, pkcs12_password)
            imported = (key, cert, chain)
            organization = named
        return self._store(
            passphrase,
            organization.strip() or current.organization,
            imported,
            "imported" if imported is not None else "generated",
            rotate=True,
            reason=request.reason,
            key_lost=request,
        )

    def import_pkcs12(
        self,
        data: bytes,
        pkcs12_password: str | None,
        passphrase: str,
        reason: str = "",
        current_passphrase: str | None = None,
    ) -> SigningIdentity:
        """Take the organization's PKCS#12 (key and certificate) for PDF signatures.

        A new Ed25519 key is generated for manifests.  An active identity is retired (rotation):
        as with :meth:`rotate`, administrators only, with the current passphrase.

        Raises:
            PermissionDenied: the operator is not an administrator.
            WrongPassphrase: an identity exists and ``current_passphrase`` does not open it.
            ValidationError: the file cannot be opened with that password, or holds no key and
                certificate of a kind PDF signatures use (RSA or ECDSA).
        """
        self.ctx.require(Permission.MANAGE_SIGNING_KEYS, "import a signing identity")
        previous = None
        if self.current() is not None:
            if current_passphrase is None:
                raise ValidationError(
                    "A signing identity exists: give its passphrase to replace it.", "passphrase"
                )
            previous = self.unlock(current_passphrase)
        key, cert, extra, organization = _load_pkcs12(data, pkcs12_password)
        return self._store(
            passphrase,
            organization,
            (key, cert, extra),
            "imported",
            rotate=previous is not None,
            reason=reason,
            previous=previous,
        )

    def _store(
        self,
        passphrase: str,
        organization: str,
        imported: tuple[PdfKey, x509.Certificate, tuple[x509.Certificate, ...]] | None,
        origin: str,
        *,
        rotate: bool,
        reason: str,
        previous: SigningIdentity | None = None,
        key_lost: KeyLostRequest | None = None,
    ) -> SigningIdentity:
        # Creating the first identity comes with the first signing (an auditor's); replacing
        # one, or bringing the organization's own, is an administrator's.
        permission = (
            Permission.MANAGE_SIGNING_KEYS
            if rotate or origin == "imported"
            else Permission.RUN_AUDITS
        )
        self.ctx.require(permission, "manage signing keys")  # first: before any other answer
        _check_passphrase(passphrase)
        organization = organization.strip()
        if not organization:
            raise ValidationError("Name the organization the reports are signed for.")
        if len(organization.encode()) > X509_NAME_BYTES:
            raise ValidationError(
                f"The organization's name is at most {X509_NAME_BYTES} bytes on a certificate "
                f"(X.509); this one has {len(organization.encode()):,}. Shorten it.",
                "Organization",
            )
        action = "signing_identity.rotate" if rotate else "signing_identity.create"
        if origin == "imported":
            action = "signing_identity.import"
        if key_lost is not None:
            action = "signing_identity.replace_lost"
        salt = secrets.token_bytes(16)
        sealing_key = _derive(passphrase, salt, self.kdf)  # slow: outside the write lock
        manifest_key = ed25519.Ed25519PrivateKey.generate()
        with self.ctx.change(
            permission, action, "signing_identity", "manage signing keys", reason
        ) as change:
            session = change.session
            old = _active(session)
            if key_lost is not None:
                pending = session.get(Setting, KEY_LOST_REQUEST)
                if (
                    pending is None
                    or KeyLostRequest.from_json(pending.value) != key_lost
                    or old is None
                    or old.ed25519_fingerprint != key_lost.ed25519_fingerprint
                ):
                    raise ValidationError(
                        "The key-lost request or the signing identity changed meanwhile; "
                        "look at them again."
                    )
                session.delete(pending)
            elif rotate and (
                old is None
                or previous is None
                or previous.ed25519_fingerprint != old.ed25519_fingerprint
            ):
                # The identity unlocked is not the active one: another rotation came between.
                raise ValidationError(
                    "The signing identity changed meanwhile; unlock the active one again."
                )
            if old is not None and not rotate:
                raise ValidationError(
                    "A signing identity already exists; rotate it to replace it "
                    f"(identity {old.id}, created {old.created_at:%Y-%m-%d})."
                )
            if imported is None:
                pdf_key: PdfKey = ec.generate_private_key(ec.SECP256R1())
                assert isinstance(pdf_key, ec.EllipticCurvePrivateKey)
                cert = self_signed_certificate(pdf_key, organization, change.now)
                chain: tuple[x509.Certificate, ...] = ()
            else:
                pdf_key, cert, chain = imported
            # The pseudonym key goes on from identity to identity (vendors follow a pseudonym
            # from report to report); a plain one kept from before it was sealed is taken in.
            legacy = session.get(Setting, PSEUDONYM_KEY)
            if previous is not None and previous.pseudonym_key:
                pseudonym = previous.pseudonym_key
            elif legacy is not None:
                pseudonym = bytes.fromhex(legacy.value)
            else:
                pseudonym = secrets.token_bytes(32)
            if legacy is not None:
                _forget(session, legacy)
            identity = SigningIdentity(0, organization, manifest_key, pdf_key, cert, chain)
            ed_fp = identity.ed25519_fingerprint
            cert_fp = identity.certificate_fingerprint
            nonce = os.urandom(12)
            sealed = AESGCM(sealing_key).encrypt(
                nonce, _secret(manifest_key, pdf_key, pseudonym), _aad(ed_fp, cert_fp)
            )
            if old is not None:
                old.retired_at = change.now
                old.retired_by = self.ctx.actor.name
                change.before = {
                    "id": old.id,
                    "ed25519_fingerprint": old.ed25519_fingerprint,
                    "certificate_fingerprint": old.certificate_fingerprint,
                }
            record = SigningIdentityRecord(
                organization=organization,
                origin=origin,
                created_at=change.now,
                created_by=self.ctx.actor.name,
                retired_at=None,
                retired_by="",
                ed25519_public=manifest_key.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
                ed25519_fingerprint=ed_fp,
                certificate=cert.public_bytes(serialization.Encoding.DER),
                certificate_fingerprint=cert_fp,
                chain_pem="".join(
                    c.public_bytes(serialization.Encoding.PEM).decode() for c in chain
                ),
                kdf_time_cost=self.kdf.time_cost,
                kdf_memory_kib=self.kdf.memory_kib,
                kdf_parallelism=self.kdf.parallelism,
                kdf_salt=salt,
                nonce=nonce,
                sealed=sealed,
            )
            session.add(record)
            session.flush()
            change.entity_id = str(record.id)
            change.after = {
                "id": record.id,
                "organization": organization,
                "origin": origin,
                "ed25519_fingerprint": ed_fp,
                "certificate_fingerprint": cert_fp,
                "certificate_subject": cert.subject.rfc4514_string(),
                "certificate_not_after": iso(cert.not_valid_after_utc),
                "kdf": f"argon2id t={self.kdf.time_cost} m={self.kdf.memory_kib} "
                f"p={self.kdf.parallelism}",
            }
            if previous is not None:
                change.after["endorsement"] = endorse(previous, ed_fp, cert_fp, iso(change.now))
            if key_lost is not None:
                assert old is not None
                change.after["key_lost"] = {
                    "statement": KEY_LOST_STATEMENT,
                    "previous_ed25519_fingerprint": old.ed25519_fingerprint,
                    "previous_certificate_fingerprint": old.certificate_fingerprint,
                    "requested_by": key_lost.requested_by,
                    "requested_at": key_lost.requested_at,
                    "request_seq": key_lost.seq,
                    "approved_by": self.ctx.actor.name,
                    "approved_at": iso(change.now),
                    "pseudonyms": "kept" if legacy is not None else "renewed",
                }
            new_id = record.id
        return SigningIdentity(new_id, organization, manifest_key, pdf_key, cert, chain, pseudonym)


def _load_pkcs12(
    data: bytes, password: str | None
) -> tuple[PdfKey, x509.Certificate, tuple[x509.Certificate, ...], str]:
    """The key, certificate, issuers and organization of a PKCS#12 file.

    Raises:
        ValidationError: it cannot be opened, or holds no key and certificate PDFs are signed
            with (RSA or ECDSA).
    """
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            data, None if password is None else password.encode("utf-8")
        )
    except ValueError:
        raise ValidationError(
            "The PKCS#12 file cannot be opened: the password is wrong or it is not a "
            "PKCS#12 (.p12/.pfx) file.",
            "pkcs12",
        ) from None
    if key is None or cert is None:
        raise ValidationError("The PKCS#12 file must hold a private key and its certificate.")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValidationError(
            "The PKCS#12 key must be RSA or ECDSA to sign PDFs; "
            f"it is {type(key).__name__.removeprefix('_')}."
        )
    if cert.public_key() != key.public_key():
        raise ValidationError("The PKCS#12 certificate does not belong to its private key.")
    org_attrs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) or (
        cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )
    organization = str(org_attrs[0].value) if org_attrs else cert.subject.rfc4514_string()
    return key, cert, tuple(extra), organization


def _secret(manifest_key: ed25519.Ed25519PrivateKey, pdf_key: PdfKey, pseudonym: bytes) -> bytes:
    """What is sealed: both private keys and the pseudonym key."""
    return json.dumps(
        {
            "ed25519": base64.b64encode(manifest_key.private_bytes_raw()).decode(),  # 32 bytes
            "pdf_key": base64.b64encode(
                pdf_key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            ).decode(),
            "pseudonym": base64.b64encode(pseudonym).decode(),
        }
    ).encode()


def _forget(session: Session, row: Setting) -> None:
    """Delete a setting that held a secret, overwriting its bytes on SQLite."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        session.execute(text("PRAGMA secure_delete = ON"))
    session.delete(row)
    session.flush()
    if sqlite:
        session.execute(text("PRAGMA secure_delete = OFF"))


def endorse(
    previous: SigningIdentity, ed25519_fingerprint: str, certificate_fingerprint: str, at: str
) -> dict[str, str]:
    """The retiring identity's signed statement that the new keys succeed it.

    The statement is canonical JSON; its Ed25519 signature verifies with the old manifest key,
    which a vendor pinned, so the vendor can follow the rotation offline.
    """
    statement = canonical_bytes(
        {
            "statement": "seatledger signing identity rotation",
            "previous_ed25519_fingerprint": previous.ed25519_fingerprint,
            "next_ed25519_fingerprint": ed25519_fingerprint,
            "next_certificate_fingerprint": certificate_fingerprint,
            "at": at,
        }
    )
    signature = previous.ed25519.sign(statement)
    return {
        "statement": statement.decode(),
        "signature": base64.b64encode(signature).decode(),
    }


def _open(record: SigningIdentityRecord, passphrase: str) -> tuple[SigningIdentity, bytes]:
    """The unlocked identity and the key that sealed it (a legacy seal has no pseudonym key)."""
    cost = KdfCost(record.kdf_time_cost, record.kdf_memory_kib, record.kdf_parallelism)
    key = _derive(passphrase, bytes(record.kdf_salt), cost)
    aad = _aad(record.ed25519_fingerprint, record.certificate_fingerprint)
    try:
        secret = json.loads(AESGCM(key).decrypt(bytes(record.nonce), bytes(record.sealed), aad))
    except InvalidTag:
        raise WrongPassphrase(
            f"Wrong passphrase for the signing key (identity {record.id}, fingerprint "
            f"{record.ed25519_fingerprint[:16]}…): nothing was signed. Give the passphrase chosen "
            f"when the identity was created (prompt or {PASSPHRASE_ENV})."
        ) from None
    manifest_key = ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(secret["ed25519"]))
    pdf_key = serialization.load_der_private_key(base64.b64decode(secret["pdf_key"]), None)
    if not isinstance(pdf_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KnownError(f"Signing identity {record.id} holds a key PDFs cannot be signed with.")
    cert = x509.load_der_x509_certificate(bytes(record.certificate))
    chain = (
        tuple(x509.load_pem_x509_certificates(record.chain_pem.encode()))
        if record.chain_pem
        else ()
    )
    pseudonym = base64.b64decode(secret["pseudonym"]) if "pseudonym" in secret else b""
    identity = SigningIdentity(
        record.id, record.organization, manifest_key, pdf_key, cert, chain, pseudonym
    )
    if identity.ed25519_fingerprint != record.ed25519_fingerprint:
        raise KnownError(f"Signing identity {record.id} is damaged: its keys do not match.")
    return identity, key
