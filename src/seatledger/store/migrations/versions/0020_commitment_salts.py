"""Each commitment's salt is kept beside its value, and the commitment key leaves the database.

Until this revision every salt of the ledger's commitments was an HMAC of the field's name under
one key, a plain setting: a copy of the database file gave that key, and with it anyone could test
guesses (employee numbers, names) against commitments whose values had been erased.  From now on
a new field's salt is 32 random bytes kept in its ``ledger_commitment`` row; this upgrade stores
the salt each existing row was made with (derived from the key one last time) and deletes the key
(on SQLite with ``secure_delete``, so its bytes are overwritten, not left in a free page).  The
commitments already in the ledger are unchanged and still open with the salts kept.

Going back down drops the salts: an older SeatLedger then draws a new key, and the values kept
until then can no longer be opened to a vendor.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:15:00.000000
"""

from __future__ import annotations

import hmac

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_KEY = "commitment_key"
_CHUNK = 5000


def upgrade() -> None:
    with op.batch_alter_table("ledger_commitment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("salt", sa.LargeBinary(length=32), nullable=True))
    bind = op.get_bind()
    stored = bind.execute(
        sa.text("SELECT value FROM setting WHERE key = :key"), {"key": _KEY}
    ).scalar()
    if stored:
        key = bytes.fromhex(stored)
        rows = bind.execute(
            sa.text("SELECT commitment, entity_type, entity_id, field FROM ledger_commitment")
        ).all()
        update = sa.text("UPDATE ledger_commitment SET salt = :salt WHERE commitment = :commitment")
        for start in range(0, len(rows), _CHUNK):
            bind.execute(
                update,
                [
                    {
                        "commitment": commitment,
                        "salt": hmac.digest(
                            key, f"{entity_type}/{entity_id}/{field}".encode(), "sha256"
                        ),
                    }
                    for commitment, entity_type, entity_id, field in rows[start : start + _CHUNK]
                ],
            )
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        bind.execute(sa.text("PRAGMA secure_delete = ON"))
    bind.execute(sa.text("DELETE FROM setting WHERE key = :key"), {"key": _KEY})
    if sqlite:
        bind.execute(sa.text("PRAGMA secure_delete = OFF"))


def downgrade() -> None:
    with op.batch_alter_table("ledger_commitment", schema=None) as batch_op:
        batch_op.drop_column("salt")
