"""Alerts: misuse and limit alerts raised after changes and imports, and their acknowledgements.

An alert names the rule that raised it, how severe it is, what it is about (``subject``, with the
entity it refers to), and who and what caused it (the operator and the ledger entry).  It stays
open until someone acknowledges it with a note (a change recorded in the ledger).  ``dedupe_key``
names the condition: no second alert is raised for a key while an alert with that key has not
been *cleared* (the condition ended, e.g. the license went back under its limit).

Entities share :class:`~seatledger.store.base.Base`; ``models`` imports this module so one
metadata holds the whole schema.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seatledger.store.base import Base

__all__ = ["Alert", "Base"]


class Alert(Base):
    """One raised alert and, once acknowledged, who acknowledged it and why."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_dedupe_key", "dedupe_key", "cleared_at"),
        Index("ix_alert_open", "acknowledged_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    entity_type: Mapped[str] = mapped_column(String(64), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    dedupe_key: Mapped[str] = mapped_column(String(200))
    operator: Mapped[str] = mapped_column(String(200), default="")
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
