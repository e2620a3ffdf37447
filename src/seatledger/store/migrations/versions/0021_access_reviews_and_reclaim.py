"""Access review campaigns (scope, a reviewer per team, a decision per seat) and reclaim rules,
exclusions and runs (the idle seats each run found, kept or released).

New tables only; nothing existing changes, so an upgraded database has no campaigns.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("recurrence", sa.String(length=16), nullable=False),
        sa.Column("vendor_ids", sa.Text(), nullable=False),
        sa.Column("product_ids", sa.Text(), nullable=False),
        sa.Column("team_ids", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_campaign")),
    )
    with op.batch_alter_table("review_campaign", schema=None) as batch_op:
        batch_op.create_index("ix_review_campaign_status", ["status", "due_on"], unique=False)

    op.create_table(
        "review_reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["review_campaign.id"],
            name=op.f("fk_review_reviewer_campaign_id_review_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_review_reviewer_operator_id_operator"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_review_reviewer_team_id_team"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_reviewer")),
    )
    with op.batch_alter_table("review_reviewer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_reviewer_operator", ["operator_id", "campaign_id"], unique=False
        )
        batch_op.create_index("uq_review_reviewer_team", ["campaign_id", "team_id"], unique=True)

    op.create_table(
        "review_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["seat_assignment.id"],
            name=op.f("fk_review_item_assignment_id_seat_assignment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["review_campaign.id"],
            name=op.f("fk_review_item_campaign_id_review_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_review_item_team_id_team"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_item")),
    )
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.create_index("ix_review_item_team", ["campaign_id", "team_id", "id"], unique=False)
        batch_op.create_index(
            "ix_review_item_decision", ["campaign_id", "team_id", "decision"], unique=False
        )
        batch_op.create_index("uq_review_item_seat", ["campaign_id", "assignment_id"], unique=True)
    op.create_table(
        "reclaim_exclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reclaim_exclusion")),
    )
    with op.batch_alter_table("reclaim_exclusion", schema=None) as batch_op:
        batch_op.create_index("uq_reclaim_exclusion_target", ["kind", "target_id"], unique=True)

    op.create_table(
        "reclaim_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_by", sa.String(length=200), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reclaim_run")),
    )
    op.create_table(
        "reclaim_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("idle_days", sa.Integer(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_reclaim_rule_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reclaim_rule")),
        sa.UniqueConstraint("product_id", name=op.f("uq_reclaim_rule_product_id")),
    )
    op.create_table(
        "reclaim_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("last_use", sa.Date(), nullable=True),
        sa.Column("release_on", sa.Date(), nullable=False),
        sa.Column("kept_by", sa.String(length=200), nullable=False),
        sa.Column("keep_reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["seat_assignment.id"],
            name=op.f("fk_reclaim_candidate_assignment_id_seat_assignment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reclaim_run.id"],
            name=op.f("fk_reclaim_candidate_run_id_reclaim_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reclaim_candidate")),
    )
    with op.batch_alter_table("reclaim_candidate", schema=None) as batch_op:
        batch_op.create_index("uq_reclaim_candidate_seat", ["run_id", "assignment_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("reclaim_candidate", schema=None) as batch_op:
        batch_op.drop_index("uq_reclaim_candidate_seat")

    op.drop_table("reclaim_candidate")
    op.drop_table("reclaim_rule")
    op.drop_table("reclaim_run")
    with op.batch_alter_table("reclaim_exclusion", schema=None) as batch_op:
        batch_op.drop_index("uq_reclaim_exclusion_target")

    op.drop_table("reclaim_exclusion")
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_index("uq_review_item_seat")
        batch_op.drop_index("ix_review_item_decision")
        batch_op.drop_index("ix_review_item_team")

    op.drop_table("review_item")
    with op.batch_alter_table("review_reviewer", schema=None) as batch_op:
        batch_op.drop_index("uq_review_reviewer_team")
        batch_op.drop_index("ix_review_reviewer_operator")

    op.drop_table("review_reviewer")
    with op.batch_alter_table("review_campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_review_campaign_status")

    op.drop_table("review_campaign")
