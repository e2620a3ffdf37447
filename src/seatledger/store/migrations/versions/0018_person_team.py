"""The teams people belonged to, with the dates they held them.

Until this revision a person had only today's team, so every by-team figure (the usage chart of a
team, the chargeback) attributed last year's seats to this year's organization.  ``person_team``
keeps one row per membership; the open one (no ``valid_to``) is ``person.team_id``.

Each person with a team gets one open membership, from the day they joined where HR gave it,
else from always (NULL): nothing older was recorded, so today's team is the best there is.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_from < valid_to",
            name=op.f("ck_person_team_valid_range"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_team_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_person_team_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_team")),
    )
    with op.batch_alter_table("person_team", schema=None) as batch_op:
        batch_op.create_index("ix_person_team_person", ["person_id", "valid_from"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_team_team_id"), ["team_id"], unique=False)
    op.execute(
        "INSERT INTO person_team (person_id, team_id, valid_from, valid_to) "
        "SELECT id, team_id, date_joined, NULL FROM person WHERE team_id IS NOT NULL ORDER BY id"
    )


def downgrade() -> None:
    with op.batch_alter_table("person_team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_team_team_id"))
        batch_op.drop_index("ix_person_team_person")
    op.drop_table("person_team")
