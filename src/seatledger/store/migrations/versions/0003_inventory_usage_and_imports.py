"""Inventory, usage, imports and normalization rules.

Installs point at distinct software titles, so re-mapping a title touches one row, not a
million.  People remember the last HR import that listed them; devices when they were last seen.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:30:01.358486
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
    )
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.create_index("ix_import_batch_kind_sha", ["kind", "sha256"], unique=False)

    op.create_table(
        "import_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mapping")),
        sa.UniqueConstraint("name", name=op.f("uq_import_mapping_name")),
    )
    op.create_table(
        "normalization_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("version_min", sa.String(length=100), nullable=False),
        sa.Column("version_max", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_normalization_rule_product_id_product"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_normalization_rule")),
    )
    with op.batch_alter_table("normalization_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_normalization_rule_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "software_title",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_software_title_product_id_product"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_software_title")),
    )
    with op.batch_alter_table("software_title", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_software_title_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            "uq_software_title_raw", ["publisher", "title", "version"], unique=True
        )

    op.create_table(
        "usage_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("checkout", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checkin", sa.DateTime(timezone=True), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_usage_session_person_id_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_usage_session_product_id_product"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_session")),
    )
    with op.batch_alter_table("usage_session", schema=None) as batch_op:
        batch_op.create_index("ix_usage_product_checkout", ["product_id", "checkout"], unique=False)
        batch_op.create_index(batch_op.f("ix_usage_session_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "uq_usage_session", ["feature", "user_name", "host", "checkout"], unique=True
        )

    op.create_table(
        "installation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("install_date", sa.Date(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
            name=op.f("fk_installation_device_id_device"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["software_title.id"],
            name=op.f("fk_installation_title_id_software_title"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.create_index("ix_installation_title", ["title_id"], unique=False)
        batch_op.create_index(
            "uq_installation_device_title", ["device_id", "title_id"], unique=True
        )

    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen", sa.Date(), nullable=True))

    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "core_factor",
                sa.Numeric(precision=6, scale=3),
                server_default=sa.text("1"),
                nullable=False,
            )
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_import_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("seen_import_id")

    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.drop_column("core_factor")

    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_column("last_seen")

    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_index("uq_installation_device_title")
        batch_op.drop_index("ix_installation_title")

    op.drop_table("installation")
    with op.batch_alter_table("usage_session", schema=None) as batch_op:
        batch_op.drop_index("uq_usage_session")
        batch_op.drop_index(batch_op.f("ix_usage_session_person_id"))
        batch_op.drop_index("ix_usage_product_checkout")

    op.drop_table("usage_session")
    with op.batch_alter_table("software_title", schema=None) as batch_op:
        batch_op.drop_index("uq_software_title_raw")
        batch_op.drop_index(batch_op.f("ix_software_title_product_id"))

    op.drop_table("software_title")
    with op.batch_alter_table("normalization_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_normalization_rule_product_id"))

    op.drop_table("normalization_rule")
    op.drop_table("import_mapping")
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_import_batch_kind_sha")

    op.drop_table("import_batch")
