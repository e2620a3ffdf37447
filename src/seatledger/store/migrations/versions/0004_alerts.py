"""Alerts and their acknowledgements; an index for counting open seats of people who left.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column(
            "ledger_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_dedupe_key", ["dedupe_key", "cleared_at"], unique=False)
        batch_op.create_index("ix_alert_open", ["acknowledged_at", "id"], unique=False)
    # The dashboard counts open seats of people who left from this index alone.
    with op.batch_alter_table("seat_assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seat_person_open", ["person_id", "ended_at", "entitlement_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("seat_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_seat_person_open")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_open")
        batch_op.drop_index("ix_alert_dedupe_key")
    op.drop_table("alert")
