"""Opening one committed personal field of the ledger to a vendor, provably and alone.

A vendor's bundle shows people as commitments (see :mod:`seatledger.domain.commitments`).  When
the vendor needs to know who one of them is (a named-user dispute, say), the organization opens
that one commitment: its value and its salt, which the vendor checks against the commitment in the
entry it already holds (``verify_bundle.py --opening FILE``).  Every other field stays hidden,
since every salt is drawn on its own.  Opening is an auditor's act, with a reason, and is itself a
ledger entry naming the commitment and the field, not the value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from seatledger.domain.commitments import TAG, check_opening
from seatledger.domain.roles import Permission
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services.core.context import Context
from seatledger.store.models import LedgerCommitment

OPENING_FORMAT = "seatledger-opening/1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Revealed:
    """One opened commitment, as handed to a vendor."""

    commitment: str
    entity_type: str
    entity_id: str
    field: str
    value: Any
    salt: str  # hex

    def as_json(self) -> bytes:
        """The opening as a file a vendor checks (``verify_bundle.py --opening``)."""
        document = {
            "format": OPENING_FORMAT,
            "commitment": self.commitment,
            "field": f"{self.entity_type} {self.entity_id} {self.field}",
            "value": self.value,
            "salt": self.salt,
            "check": f"SHA-256({TAG!r} || salt || canonical JSON of value) == commitment",
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def reveal(ctx: Context, commitment: str, reason: str) -> Revealed:
    """Open ``commitment`` (64 hex digits) and record who opened it, and why.

    Raises:
        ValidationError: the commitment is not 64 hex digits, or no reason is given.
        NotFoundError: the ledger holds no such commitment, or its value was erased.
        PermissionDenied: the operator may not run audits.
    """
    digest = commitment.strip().lower()
    if not _HEX64.match(digest):
        raise ValidationError(f"{commitment!r} is not a commitment (64 hexadecimal digits).")
    if not reason.strip():
        raise ValidationError("Say why the value is revealed (the reason is recorded).")
    with ctx.change(
        Permission.RUN_AUDITS,
        "ledger.reveal",
        "ledger_commitment",
        f"reveal {digest[:16]}…",
        reason,
    ) as change:
        row = change.session.get(LedgerCommitment, digest)
        if row is None:
            raise NotFoundError(
                f"No kept value for commitment {digest[:16]}…: it is not in this ledger, or its "
                "value was erased."
            )
        value = json.loads(row.value)
        salted = bytes(row.salt) if row.salt is not None else b""
        if not check_opening(digest, salted.hex(), value):
            raise NotFoundError(
                f"The kept value of commitment {digest[:16]}… does not open it (its salt or the "
                "value was changed or is gone); nothing is revealed."
            )
        change.entity_id = digest
        change.after = {
            "commitment": digest,
            "entity": f"{row.entity_type}/{row.entity_id}",
            "field": row.field,
        }
        return Revealed(digest, row.entity_type, row.entity_id, row.field, value, salted.hex())
