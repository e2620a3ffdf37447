"""A license-server checkout is told apart by its server and handle, and dated by its last sighting.

Two checkouts of one feature by one user on one host in the same minute (two sessions of one
program, a linger, a second display) were one row, so peaks were under-counted; the server's
handle now belongs to the key.  ``seen_at`` is the time of the last snapshot that showed an open
checkout: one that no later snapshot shows ends there once the sampling interval has passed,
instead of staying open forever.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("server", sa.String(length=255), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column("handle", sa.String(length=32), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index("uq_usage_session")
        batch_op.create_index(
            "uq_usage_session",
            ["feature", "user_name", "host", "checkout", "server", "handle"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_session", schema=None) as batch_op:
        batch_op.drop_index("uq_usage_session")
        batch_op.create_index(
            "uq_usage_session", ["feature", "user_name", "host", "checkout"], unique=True
        )
        batch_op.drop_column("seen_at")
        batch_op.drop_column("handle")
        batch_op.drop_column("server")
