"""Audits: scope, trigger, status, schedules, and every decision taken in the audit wizard.

Entities share :class:`~seatledger.store.base.Base`; ``models`` imports this module so one
metadata holds the whole schema.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from seatledger.store.base import Base

__all__ = ["Audit", "AuditDecision", "AuditSchedule", "Base"]


class AuditSchedule(Base):
    """A periodic audit of one vendor: every ``every_months`` months, next one due on a date."""

    __tablename__ = "audit_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(
        ForeignKey("vendor.id", ondelete="RESTRICT"), unique=True
    )
    every_months: Mapped[int] = mapped_column(Integer)
    next_due: Mapped[dt.date] = mapped_column(Date, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Audit(Base):
    """One audit of a vendor's licenses as of a date, from its start to its signed report.

    Scope products and teams are canonical JSON lists of ids (empty: all of the vendor's
    products, everyone).  ``step`` is the wizard page to resume at.  Once signed, the audit keeps
    the ledger checkpoint its bundle took and the SHA-256 of the bundle's manifest, so the next
    audit of the same vendor names that checkpoint as the one the vendor saw before.
    """

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_vendor_status", "vendor_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="RESTRICT"))
    product_ids: Mapped[str] = mapped_column(Text, default="[]")
    team_ids: Mapped[str] = mapped_column(Text, default="[]")
    as_of: Mapped[dt.date] = mapped_column(Date)
    shelf_days: Mapped[int] = mapped_column(Integer, default=90)
    trigger: Mapped[str] = mapped_column(String(16))
    trigger_reason: Mapped[str] = mapped_column(Text, default="")
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_schedule.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    step: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attested_by: Mapped[str] = mapped_column(String(200), default="")
    attestation: Mapped[str] = mapped_column(Text, default="")
    attested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approver: Mapped[str] = mapped_column(String(200), default="")
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    checkpoint_size: Mapped[int | None] = mapped_column(BigInteger)
    checkpoint_head: Mapped[str] = mapped_column(String(64), default="")
    manifest_sha256: Mapped[str] = mapped_column(String(64), default="")
    key_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    bundle_path: Mapped[str] = mapped_column(Text, default="")


class AuditDecision(Base):
    """The current decision on one freshness warning or finding of an audit.

    ``kind`` is ``freshness`` (``key`` names the topic, ``decision`` is ``acknowledged``) or
    ``finding`` (``key`` identifies the finding; ``decision`` is accept, remediate or dispute).
    A changed decision replaces the row; the ledger keeps every one with its before and after.
    """

    __tablename__ = "audit_decision"
    __table_args__ = (Index("uq_audit_decision_key", "audit_id", "kind", "key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(String(16))
    explanation: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    due: Mapped[dt.date | None] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
