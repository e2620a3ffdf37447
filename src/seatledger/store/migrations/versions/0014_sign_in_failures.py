"""Failed sign-ins per operator, so repeated guesses wait.

After a few consecutive failures each further attempt waits a growing delay before its password is
even checked; the count and the time of the last failure live with the operator, in the
database, so the delay holds across processes (two command-line runs in a row) and machines
sharing one database.  Existing operators start at no failures.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_failed_sign_in", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.drop_column("last_failed_sign_in")
        batch_op.drop_column("failed_sign_ins")
