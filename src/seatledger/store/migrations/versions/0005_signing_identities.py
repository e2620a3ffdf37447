"""Signing identities for audit reports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(length=200), nullable=False),
        sa.Column("ed25519_public", sa.LargeBinary(), nullable=False),
        sa.Column("ed25519_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("certificate_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("chain_pem", sa.Text(), nullable=False),
        sa.Column("kdf_time_cost", sa.Integer(), nullable=False),
        sa.Column("kdf_memory_kib", sa.Integer(), nullable=False),
        sa.Column("kdf_parallelism", sa.Integer(), nullable=False),
        sa.Column("kdf_salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=12), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_identity")),
        sa.UniqueConstraint(
            "ed25519_fingerprint", name=op.f("uq_signing_identity_ed25519_fingerprint")
        ),
    )
    with op.batch_alter_table("signing_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_identity_retired_at"), ["retired_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signing_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_identity_retired_at"))
    op.drop_table("signing_identity")
