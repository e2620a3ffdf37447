"""The ledger's entries of one entity found by its id (an audit reads its scope's entries).

An index on ``(entity_type, entity_id, seq)``: an audit's disclosure and its scope check pick
the entries of the vendor's licenses, seats, people and devices by id, which until now meant
reading every entry of the type (8 million license entries on a 10-million-entry ledger for a
vendor with a handful of licenses).  An index only: no row changes.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:15:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


# Plain CREATE INDEX, not a batch operation: SQLite's batch mode could rebuild the table, and
# with it drop the triggers that keep the ledger append-only.


def upgrade() -> None:
    op.create_index(
        "ix_ledger_entity_id_seq", "ledger_entry", ["entity_type", "entity_id", "seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entity_id_seq", table_name="ledger_entry")
