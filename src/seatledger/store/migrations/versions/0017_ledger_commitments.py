"""The values behind the ledger's committed personal fields.

From this revision on, a ledger entry writes a person's name, e-mail address and employee number,
a device's host name and an operator's full name as salted commitments (see
``seatledger.domain.commitments``); this table keeps what each commitment hides, for the
organization's own screens and for opening one commitment to a vendor.  It is not append-only:
deleting a row erases that value from the readable history while the chain still verifies.
Entries written before stay as they were (their bodies name people in the clear).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_commitment",
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("commitment", name=op.f("pk_ledger_commitment")),
    )
    op.create_index(
        "ix_ledger_commitment_entity",
        "ledger_commitment",
        ["entity_type", "entity_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_commitment_entity", table_name="ledger_commitment")
    op.drop_table("ledger_commitment")
