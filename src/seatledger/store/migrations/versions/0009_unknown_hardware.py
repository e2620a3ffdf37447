"""A device's processors and cores may be unknown.

An inventory that gives no hardware (a blank cores column, Jamf's ``-1``, a device created from a
host name by an installed-software export) stored 1 processor with 4 cores: figures that are in no
file, which per-core and per-processor positions then counted.  Unknown now stays empty (NULL);
the position counts such devices apart.  Rows already stored keep their values: nothing recorded
which of them were invented.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.alter_column("processors", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("cores", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # An older SeatLedger cannot read an unknown count: it gets the old invented default back.
    op.execute("UPDATE device SET processors = 1 WHERE processors IS NULL")
    op.execute("UPDATE device SET cores = 4 WHERE cores IS NULL")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.alter_column("processors", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("cores", existing_type=sa.Integer(), nullable=False)
