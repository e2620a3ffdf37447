"""An access review may move a seat to another person: the person a reviewer chose, and the
seat that person was given when the campaign closed.

Two nullable columns on ``review_item``; an upgraded database's decisions are keeps and releases,
so both stay empty there.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("move_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("moved_seat_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_review_item_move_to_id_person"),
            "person",
            ["move_to_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_review_item_moved_seat_id_seat_assignment"),
            "seat_assignment",
            ["moved_seat_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_review_item_moved_seat_id_seat_assignment"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_review_item_move_to_id_person"), type_="foreignkey")
        batch_op.drop_column("moved_seat_id")
        batch_op.drop_column("move_to_id")
