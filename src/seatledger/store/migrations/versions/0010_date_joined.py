"""A person's first day, as HR gives it.

Site and employee metrics count the staff of the as-of date: without the day a person joined,
someone hired later counted on every earlier date.  Empty when no HR export has said (such a
person counts from the start, as before).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_joined", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("date_joined")
