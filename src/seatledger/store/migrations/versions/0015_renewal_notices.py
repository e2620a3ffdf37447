"""A license's renewal notices: its own notice periods and the vendor's cancel-by date.

Empty notice periods mean the organization's (180, 90 and 30 days before the term ends); an
empty cancel-by date means the contract names none.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_days", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cancel_by", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.drop_column("cancel_by")
        batch_op.drop_column("notice_days")
