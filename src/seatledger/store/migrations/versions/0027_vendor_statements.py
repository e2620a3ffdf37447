"""Vendor statements (a Microsoft License Statement, an ILMT audit snapshot), kept line by line.

New tables only: an upgraded database holds no statement until one is imported.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 18:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vendor_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=False),
        sa.Column("calculated_on", sa.Date(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_statement")),
    )
    with op.batch_alter_table("vendor_statement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_statement_kind"), ["kind"], unique=False)
    op.create_table(
        "vendor_statement_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("pool", sa.String(length=100), nullable=False),
        sa.Column("family", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["vendor_statement.id"],
            name=op.f("fk_vendor_statement_line_statement_id_vendor_statement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_statement_line")),
    )
    with op.batch_alter_table("vendor_statement_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vendor_statement_line_statement_id"), ["statement_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vendor_statement_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_statement_line_statement_id"))
    op.drop_table("vendor_statement_line")
    with op.batch_alter_table("vendor_statement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_statement_kind"))
    op.drop_table("vendor_statement")
