"""Signing identities: the organization's report-signing keys and certificates, stored encrypted.

Entities share :class:`~seatledger.store.base.Base`; ``models`` imports this module so one
metadata holds the whole schema.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seatledger.store.base import Base

__all__ = ["Base", "SigningIdentityRecord"]


class SigningIdentityRecord(Base):
    """One signing identity: public parts in the clear, private keys sealed under a passphrase.

    ``sealed`` is AES-256-GCM over both private keys, under a key derived from the passphrase
    with Argon2id (the cost parameters and salt stored beside it, so they can rise later); its
    associated data binds it to the fingerprints in this row.  The identity without
    ``retired_at`` signs; retired ones stay for history (earlier reports name them).
    """

    __tablename__ = "signing_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16))  # "generated" or "imported"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    retired_by: Mapped[str] = mapped_column(String(200), default="")
    ed25519_public: Mapped[bytes] = mapped_column(LargeBinary)  # SubjectPublicKeyInfo DER
    ed25519_fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    certificate: Mapped[bytes] = mapped_column(LargeBinary)  # DER
    certificate_fingerprint: Mapped[str] = mapped_column(String(64))
    chain_pem: Mapped[str] = mapped_column(Text, default="")  # issuers of an imported certificate
    kdf_time_cost: Mapped[int] = mapped_column(Integer)
    kdf_memory_kib: Mapped[int] = mapped_column(Integer)
    kdf_parallelism: Mapped[int] = mapped_column(Integer)
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
