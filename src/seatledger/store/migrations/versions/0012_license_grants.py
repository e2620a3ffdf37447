"""What license files grant, as 'lmutil lmstat -i' lists it: evidence compared with purchases.

One row per FEATURE or INCREMENT line: the server (or license file) it was read from, the vendor
daemon, feature, version, count (empty: uncounted), expiry (empty: permanent), the line and the
import.  The newest import for a server replaces that server's rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "license_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server", sa.String(length=255), nullable=False),
        sa.Column("vendor_daemon", sa.String(length=200), nullable=False),
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_grant")),
    )
    with op.batch_alter_table("license_grant", schema=None) as batch_op:
        batch_op.create_index("ix_license_grant_server", ["server"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("license_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_license_grant_server")
    op.drop_table("license_grant")
