"""Server topology: hosts, VMs and the placement history server licensing counts.

``server_host`` and ``server_vm`` hold the newest RVTools or Hyper-V export's word on each host
and VM; ``server_placement`` keeps one row per stretch of time a running VM was seen on one host
(for Microsoft's 90-day reassignment rule and IBM's peak over a period).  New tables only:
nothing older is changed, and an upgraded database has no topology until one is imported.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_host",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sockets", sa.Integer(), nullable=False),
        sa.Column("cores_per_socket", sa.Integer(), nullable=False),
        sa.Column("processor_model", sa.String(length=200), nullable=True),
        sa.Column("cluster", sa.String(length=255), nullable=True),
        sa.Column("max_sockets", sa.Integer(), nullable=True),
        sa.Column("vcenter", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_host")),
        sa.UniqueConstraint("name", name=op.f("uq_server_host_name")),
    )
    with op.batch_alter_table("server_host", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_server_host_cluster"), ["cluster"], unique=False)
    op.create_table(
        "server_vm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("cluster", sa.String(length=255), nullable=True),
        sa.Column("power", sa.String(length=16), nullable=False),
        sa.Column("os", sa.String(length=300), nullable=False),
        sa.Column("hard_partition_cores", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_vm")),
        sa.UniqueConstraint("identity", name=op.f("uq_server_vm_identity")),
    )
    with op.batch_alter_table("server_vm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_server_vm_host"), ["host"], unique=False)
        batch_op.create_index(batch_op.f("ix_server_vm_name"), ["name"], unique=False)
    op.create_table(
        "server_placement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vm_identity", sa.String(length=300), nullable=False),
        sa.Column("vm_name", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended", sa.DateTime(timezone=True), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_placement")),
    )
    with op.batch_alter_table("server_placement", schema=None) as batch_op:
        batch_op.create_index("ix_server_placement_span", ["started", "ended"], unique=False)
        batch_op.create_index("ix_server_placement_vm", ["vm_identity", "started"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("server_placement", schema=None) as batch_op:
        batch_op.drop_index("ix_server_placement_vm")
        batch_op.drop_index("ix_server_placement_span")
    op.drop_table("server_placement")
    with op.batch_alter_table("server_vm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_vm_name"))
        batch_op.drop_index(batch_op.f("ix_server_vm_host"))
    op.drop_table("server_vm")
    with op.batch_alter_table("server_host", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_host_cluster"))
    op.drop_table("server_host")
