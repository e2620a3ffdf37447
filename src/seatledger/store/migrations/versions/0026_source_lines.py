"""The line of its import's file each install and each checkout was read from.

Two nullable columns: rows imported before this revision keep no line (the drill-down and the
audit bundle say "line not recorded" for them rather than invent one); adding a nullable column
rewrites no row on either engine.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 18:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("installation", sa.Column("source_line", sa.Integer(), nullable=True))
    op.add_column("usage_session", sa.Column("source_line", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_session", schema=None) as batch_op:
        batch_op.drop_column("source_line")
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_column("source_line")
