"""Access review campaigns and reclaim runs: who decides about which seats, and what became of
them.

A campaign takes the open seats in its scope when it starts (``review_item``, one row per seat,
with the team its holder was in then); a reviewer (``review_reviewer``: an operator per team)
keeps or releases each; closing it records each seat's outcome.  Reclaim rules name, per
product, how long a seat may go unused; a reclaim run lists the seats past it, which are
released after the grace period unless kept.

Entities share :class:`~seatledger.store.base.Base`; ``models`` imports this module so one
metadata holds the whole schema.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seatledger.store.base import Base

__all__ = [
    "Base",
    "ReclaimCandidate",
    "ReclaimExclusion",
    "ReclaimRule",
    "ReclaimRun",
    "ReviewCampaign",
    "ReviewItem",
    "ReviewReviewer",
]


class ReviewCampaign(Base):
    """One access review: what it covers, who reviews, when it is due, and how it ended.

    Scope vendors, products and teams are canonical JSON lists of ids (empty: all).
    """

    __tablename__ = "review_campaign"
    __table_args__ = (Index("ix_review_campaign_status", "status", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_on: Mapped[dt.date] = mapped_column(Date)
    recurrence: Mapped[str] = mapped_column(String(16), default="")
    vendor_ids: Mapped[str] = mapped_column(Text, default="[]")
    product_ids: Mapped[str] = mapped_column(Text, default="[]")
    team_ids: Mapped[str] = mapped_column(Text, default="[]")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(200), default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_id: Mapped[int | None] = mapped_column(Integer)  # the campaign its recurrence started


class ReviewReviewer(Base):
    """The operator who reviews one team's seats in a campaign."""

    __tablename__ = "review_reviewer"
    __table_args__ = (
        Index("uq_review_reviewer_team", "campaign_id", "team_id", unique=True),
        Index("ix_review_reviewer_operator", "operator_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("review_campaign.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="RESTRICT"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id", ondelete="RESTRICT"))


class ReviewItem(Base):
    """One seat under review: the decision on it, who took it and why, and what closing did."""

    __tablename__ = "review_item"
    __table_args__ = (
        Index("uq_review_item_seat", "campaign_id", "assignment_id", unique=True),
        Index("ix_review_item_team", "campaign_id", "team_id", "id"),
        # A campaign's progress per team is counted from the index alone.
        Index("ix_review_item_decision", "campaign_id", "team_id", "decision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("review_campaign.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("seat_assignment.id", ondelete="RESTRICT")
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(16), default="")  # "": not decided yet
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16), default="")  # "": the campaign is open
    # A move: the person the reviewer chose, and the seat closing gave them.
    move_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="RESTRICT"), default=None
    )
    moved_seat_id: Mapped[int | None] = mapped_column(
        ForeignKey("seat_assignment.id", ondelete="RESTRICT"), default=None
    )


class ReclaimRule(Base):
    """Per product: a seat whose holder has not used it in ``idle_days`` is a reclaim candidate,
    released ``grace_days`` after a reclaim run names it unless someone keeps it."""

    __tablename__ = "reclaim_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), unique=True
    )
    idle_days: Mapped[int] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReclaimExclusion(Base):
    """A person, team or product whose seats reclaim runs leave alone."""

    __tablename__ = "reclaim_exclusion"
    __table_args__ = (Index("uq_reclaim_exclusion_target", "kind", "target_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # person, team or product
    target_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReclaimRun(Base):
    """One reclaim run: the candidates it found, until the seats not kept are released."""

    __tablename__ = "reclaim_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_by: Mapped[str] = mapped_column(String(200), default="")
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReclaimCandidate(Base):
    """A seat a run found unused: when its last use was, until when it may be kept, and what
    became of it."""

    __tablename__ = "reclaim_candidate"
    __table_args__ = (Index("uq_reclaim_candidate_seat", "run_id", "assignment_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reclaim_run.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("seat_assignment.id", ondelete="RESTRICT")
    )
    last_use: Mapped[dt.date | None] = mapped_column(Date)  # None: never seen in use
    release_on: Mapped[dt.date] = mapped_column(Date)  # the grace period's end
    kept_by: Mapped[str] = mapped_column(String(200), default="")
    keep_reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="")  # "", released, kept, ended
