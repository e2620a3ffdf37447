"""The import (and line of its file) each seat, purchase, person and device rests on.

``seat_assignment`` and ``entitlement`` gain ``import_id`` and ``source_line``: the import whose
row made them (a purchase a later import changes takes that import and its line); NULL for one
entered by hand, whose ledger entry says who made it.  ``person`` and ``device`` gain
``source_import_id`` and ``source_line``: the import whose line last set their own fields (an
edit by hand clears them).  Rows from before this revision keep NULLs: the drill-down then says
"line not recorded" or names the ledger entry rather than invent a line.  Adding nullable columns
rewrites no row on either engine.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 21:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_COLUMNS = {
    "seat_assignment": ("import_id", "source_line"),
    "entitlement": ("import_id", "source_line"),
    "person": ("source_import_id", "source_line"),
    "device": ("source_import_id", "source_line"),
}


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for column in columns:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))


def downgrade() -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column)
