"""Checkouts a license server refused (``DENIED:`` lines of its debug log), kept line by line.

A new table only: an upgraded database has no denials; logs imported before it keep their
denial counts in their import notes.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_denial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("denied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("server", sa.String(length=255), server_default=sa.text("''"), nullable=False),
        sa.Column("nth", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default=sa.text("''"), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_usage_denial_product_id_product"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_usage_denial_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_denial")),
    )
    with op.batch_alter_table("usage_denial", schema=None) as batch_op:
        batch_op.create_index(
            "uq_usage_denial",
            ["feature", "user_name", "host", "denied_at", "server", "nth"],
            unique=True,
        )
        batch_op.create_index("ix_usage_denial_product", ["product_id", "denied_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_denial_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usage_denial", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_denial_person_id"))
        batch_op.drop_index("ix_usage_denial_product")
        batch_op.drop_index("uq_usage_denial")
    op.drop_table("usage_denial")
