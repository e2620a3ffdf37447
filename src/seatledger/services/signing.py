"""The organization's report-signing identity: made on first signing or imported, kept encrypted.

An identity is an ECDSA P-256 key with an X.509 certificate (the PAdES signature of report.pdf)
and an Ed25519 key (the raw signature of a bundle's manifest.json).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PASSPHRASE_ENV = "SEATLEDGER_KEY_PASSPHRASE"  # noqa: S105 (the variable's name, not a secret)


@dataclass(frozen=True)
class SigningIdentity:
    """An unlocked identity: its private keys live only as long as this object."""

    id: int
    organization: str
    ed25519: ed25519.Ed25519PrivateKey
    pdf_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
