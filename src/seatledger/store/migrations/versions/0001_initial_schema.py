"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 01:03:37.105202
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ledger_entry",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entry")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_action_seq", ["action", "seq"], unique=False)
        batch_op.create_index("ix_ledger_entity_seq", ["entity_type", "seq"], unique=False)
        batch_op.create_index("ix_ledger_operator_seq", ["operator", "seq"], unique=False)
        batch_op.create_index("ix_ledger_ts", ["ts"], unique=False)

    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_ledger_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("name", name=op.f("uq_operator_name")),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cost_centre", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("name", name=op.f("uq_team_name")),
    )
    op.create_table(
        "vendor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor")),
        sa.UniqueConstraint("name", name=op.f("uq_vendor_name")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("date_left", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_person_team_id_team"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("employee_id", name=op.f("uq_person_employee_id")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_team_id"), ["team_id"], unique=False)

    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["vendor.id"],
            name=op.f("fk_product_vendor_id_vendor"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_name"), ["name"], unique=False)
        batch_op.create_index("uq_product_vendor_name", ["vendor_id", "name"], unique=True)

    op.create_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("processors", sa.Integer(), nullable=False),
        sa.Column("cores", sa.Integer(), nullable=False),
        sa.Column("os", sa.String(length=100), nullable=False),
        sa.CheckConstraint("cores >= 0", name=op.f("ck_device_cores_nonnegative")),
        sa.CheckConstraint("processors >= 0", name=op.f("ck_device_processors_nonnegative")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["person.id"], name=op.f("fk_device_owner_id_person"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
        sa.UniqueConstraint("hostname", name=op.f("uq_device_hostname")),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_device_serial"), ["serial"], unique=False)

    op.create_table(
        "entitlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("min_cores_per_processor", sa.Integer(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("po_reference", sa.String(length=200), nullable=False),
        sa.Column("reseller", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("seats_used", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_entitlement_quantity_nonnegative")),
        sa.CheckConstraint("seats_used >= 0", name=op.f("ck_entitlement_used_nonnegative")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_entitlement_product_id_product"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entitlement")),
    )
    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entitlement_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_entitlement_seats_used"), ["seats_used"], unique=False)
        batch_op.create_index(batch_op.f("ix_entitlement_term_end"), ["term_end"], unique=False)
        batch_op.create_index(batch_op.f("ix_entitlement_term_start"), ["term_start"], unique=False)

    op.create_table(
        "seat_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entitlement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("over_commit", sa.Boolean(), nullable=False),
        sa.Column("over_commit_reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(person_id IS NULL) <> (device_id IS NULL)",
            name=op.f("ck_seat_assignment_exactly_one_holder"),
        ),
        sa.CheckConstraint("units >= 1", name=op.f("ck_seat_assignment_units_positive")),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["operator.id"],
            name=op.f("fk_seat_assignment_assigned_by_operator"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
            name=op.f("fk_seat_assignment_device_id_device"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlement.id"],
            name=op.f("fk_seat_assignment_entitlement_id_entitlement"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_seat_assignment_person_id_person"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["released_by"],
            ["operator.id"],
            name=op.f("fk_seat_assignment_released_by_operator"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_assignment")),
    )
    with op.batch_alter_table("seat_assignment", schema=None) as batch_op:
        batch_op.create_index("ix_seat_device", ["device_id"], unique=False)
        batch_op.create_index(
            "ix_seat_open_device", ["entitlement_id", "device_id", "ended_at"], unique=False
        )
        batch_op.create_index(
            "ix_seat_open_person", ["entitlement_id", "person_id", "ended_at"], unique=False
        )
        batch_op.create_index("ix_seat_person", ["person_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("seat_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_seat_person")
        batch_op.drop_index("ix_seat_open_person")
        batch_op.drop_index("ix_seat_open_device")
        batch_op.drop_index("ix_seat_device")

    op.drop_table("seat_assignment")
    with op.batch_alter_table("entitlement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entitlement_term_start"))
        batch_op.drop_index(batch_op.f("ix_entitlement_term_end"))
        batch_op.drop_index(batch_op.f("ix_entitlement_seats_used"))
        batch_op.drop_index(batch_op.f("ix_entitlement_product_id"))

    op.drop_table("entitlement")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_serial"))
        batch_op.drop_index(batch_op.f("ix_device_owner_id"))

    op.drop_table("device")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index("uq_product_vendor_name")
        batch_op.drop_index(batch_op.f("ix_product_name"))

    op.drop_table("product")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_team_id"))
        batch_op.drop_index(batch_op.f("ix_person_status"))
        batch_op.drop_index(batch_op.f("ix_person_name"))
        batch_op.drop_index(batch_op.f("ix_person_email"))

    op.drop_table("person")
    op.drop_table("vendor")
    op.drop_table("team")
    op.drop_table("setting")
    op.drop_table("operator")
    op.drop_table("ledger_head")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_ts")
        batch_op.drop_index("ix_ledger_operator_seq")
        batch_op.drop_index("ix_ledger_entity_seq")
        batch_op.drop_index("ix_ledger_action_seq")

    op.drop_table("ledger_entry")
