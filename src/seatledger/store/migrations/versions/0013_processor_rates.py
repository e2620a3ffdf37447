"""A device's processor model, and a purchase's units per core by processor.

Per-core contracts rate a core by the processor it belongs to (Oracle's core factor table: 0.5 for
Intel Xeon, 1 for IBM POWER; IBM's processor value units: 70 or 100 per core), so a device keeps
its processor model (empty: nobody has said) and a purchase its table of rates, stored as it is
typed and shown (``Xeon=0.5; POWER10=1``; empty: one core factor for every core).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("processor_model", sa.String(length=200), nullable=True))
    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_table", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.drop_column("unit_table")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_column("processor_model")
