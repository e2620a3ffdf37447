"""The installs' title index also holds the days each install was first seen and removed.

The usage chart counts installs per product and day; with the days in the index it reads the
index alone instead of fetching every install row (50 products of the large demo: 1.45 s ->
0.35 s).  Same name, wider columns: lookups by title use it as before.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_index("ix_installation_title")
        batch_op.create_index(
            "ix_installation_title", ["title_id", "first_seen", "removed_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_index("ix_installation_title")
        batch_op.create_index("ix_installation_title", ["title_id"], unique=False)
