"""A person's directory account state: disabled or enabled, and the import line that said it.

``person`` gains ``account_disabled`` (TRUE disabled, FALSE enabled, NULL no directory import has
said), ``account_import_id`` and ``account_line``: the directory import (Active Directory's
``Enabled``, Entra ID's ``AccountEnabled``) and the line of its file that first said the state
as it is now.  HR stays the authority on employment: an employed person whose account is
disabled and who still holds seats is a finding of its own.  Rows from before this revision keep
NULLs (no directory import recorded the state); adding nullable columns rewrites no row on
either engine.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08 02:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("person", sa.Column("account_disabled", sa.Boolean(), nullable=True))
    op.add_column("person", sa.Column("account_import_id", sa.Integer(), nullable=True))
    op.add_column("person", sa.Column("account_line", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("account_line")
        batch_op.drop_column("account_import_id")
        batch_op.drop_column("account_disabled")
