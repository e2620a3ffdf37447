"""A person's manager and cost centre, with the days they held them, beside their team.

Each ``person_team`` row becomes one period of a person's place in the organization: the team,
the manager (another person) and the cost centre held together from ``valid_from`` until the day
before ``valid_to``.  An HR import that changes any of the three closes the open period and opens
the next.  Existing rows keep their periods with no manager and no cost centre recorded.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manager_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "cost_centre", sa.String(length=100), server_default=sa.text("''"), nullable=False
            )
        )
        batch_op.create_index(batch_op.f("ix_person_team_manager_id"), ["manager_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_person_team_manager_id_person"),
            "person",
            ["manager_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("person_team", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_person_team_manager_id_person"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_person_team_manager_id"))
        batch_op.drop_column("cost_centre")
        batch_op.drop_column("manager_id")
