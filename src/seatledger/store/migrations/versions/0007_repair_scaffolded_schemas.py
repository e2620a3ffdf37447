"""Create what the scaffolded revisions 0004-0006 left out in databases made while they were empty.

On main, revisions 0004, 0005 and 0006 were first committed as empty scaffolding and filled in
later (alerts, signing identities, audits; then the open-seat index in 0004).  A database created
in between is stamped 0006 without some of those tables, so Alembic would never create them.  This
revision creates whatever is missing by running the revision that defines it; on a database made
by the finished revisions it changes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from alembic.script import ScriptDirectory

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Each scaffolded revision and a table that exists once it has run.
_DEFINES = (("0004", "alert"), ("0005", "signing_identity"), ("0006", "audit"))
_OPEN_SEAT_INDEX = "ix_seat_person_open"


def upgrade() -> None:
    script = ScriptDirectory.from_config(context.config)
    tables = set(sa.inspect(op.get_bind()).get_table_names())
    for revision_id, table in _DEFINES:
        if table not in tables:
            module = script.get_revision(revision_id).module
            module.upgrade()
    indexes = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("seat_assignment")}
    if _OPEN_SEAT_INDEX not in indexes:
        op.create_index(
            _OPEN_SEAT_INDEX,
            "seat_assignment",
            ["person_id", "ended_at", "entitlement_id"],
            unique=False,
        )


def downgrade() -> None:
    """Nothing to undo: 0006's downgrade drops what this revision may have created."""
