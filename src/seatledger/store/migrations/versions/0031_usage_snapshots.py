"""License-server snapshots: one row per server and feature each snapshot listed, and when.

``usage_snapshot`` lets the position say what its concurrency figure rests on: how many
snapshots of which server, the newest and the oldest (between two snapshots use is not
observed).  Databases from before this revision recorded a snapshot only as the last sighting
(``seen_at``) of the checkouts it showed; the upgrade rebuilds one row per server, feature and
distinct last sighting, marked ``recovered``: a lower bound (a snapshot that was no checkout's
last sighting, or that showed nothing in use, left no trace).  No existing row changes.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("server", sa.String(length=255), nullable=False),
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recovered", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_snapshot")),
    )
    with op.batch_alter_table("usage_snapshot", schema=None) as batch_op:
        batch_op.create_index("uq_usage_snapshot", ["feature", "server", "taken_at"], unique=True)
        batch_op.create_index("ix_usage_snapshot_taken_at", ["taken_at"], unique=False)
    op.execute(
        "INSERT INTO usage_snapshot (import_id, server, feature, taken_at, recovered) "
        "SELECT MAX(import_id), lower(server), feature, seen_at, TRUE FROM usage_session "
        "WHERE seen_at IS NOT NULL GROUP BY lower(server), feature, seen_at"
    )


def downgrade() -> None:
    with op.batch_alter_table("usage_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_snapshot_taken_at")
        batch_op.drop_index("uq_usage_snapshot")
    op.drop_table("usage_snapshot")
