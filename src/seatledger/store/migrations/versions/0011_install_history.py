"""An install removed and found again later is a new row: the first one stays in the past.

One (device, title) row was reopened with the new first-seen date, so a position dated before the
reinstall no longer saw the first install.  The pair is now unique among open installs only.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_OPEN = sa.text("removed_on IS NULL")


def upgrade() -> None:
    op.drop_index("uq_installation_device_title", table_name="installation")
    op.create_index(
        "uq_installation_device_title",
        "installation",
        ["device_id", "title_id"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    # An older SeatLedger keeps one row per pair: the newest stands, the history before it goes.
    op.execute(
        "DELETE FROM installation WHERE EXISTS (SELECT 1 FROM installation AS newer "
        "WHERE newer.device_id = installation.device_id "
        "AND newer.title_id = installation.title_id AND newer.id > installation.id)"
    )
    op.drop_index("uq_installation_device_title", table_name="installation")
    op.create_index(
        "uq_installation_device_title", "installation", ["device_id", "title_id"], unique=True
    )
