"""License-server snapshots: when each server was looked at, and which features it showed.

A snapshot (lmstat, RLM, LM-X, DSLS, Sentinel RMS) observes checkouts at one instant; between two
snapshots use is not observed.  Each import of one records a row per server and feature it
listed, so the position can say how many snapshots its concurrency figure rests on and how old
the newest is, even where a snapshot showed nothing in use (no checkout row records that).
Rows are written by usage imports only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from seatledger.store.base import Base

__all__ = ["Base", "UsageSnapshot"]


class UsageSnapshot(Base):
    """One feature of one server as one snapshot listed it, at the instant it was taken.

    ``server`` is "host/port" in lower case as checkout lines name it ("" where the file names
    none).  ``recovered`` rows were rebuilt by the 0031 upgrade from the checkouts' last
    sightings: a snapshot that was no checkout's last sighting left no trace, so their count is
    a lower bound.
    """

    __tablename__ = "usage_snapshot"
    __table_args__ = (
        Index("uq_usage_snapshot", "feature", "server", "taken_at", unique=True),
        Index("ix_usage_snapshot_taken_at", "taken_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(Integer)
    server: Mapped[str] = mapped_column(String(255))
    feature: Mapped[str] = mapped_column(String(200))
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recovered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
