"""Access reviews: the words of a campaign and the rules a reviewer's decision follows.

An access review campaign asks reviewers to confirm, seat by seat, that each holder still needs
what they hold (ISO/IEC 27001's review of access rights, SOX IT general controls).  A seat is
kept, released or moved to another person (who then holds it instead); a release or a move
needs a reason, a keep may have one.  What a campaign does with the
decisions when it closes is the services' business; the rules here need no database.
"""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum


class Decision(StrEnum):
    """What a reviewer decided about one seat."""

    KEEP = "keep"
    RELEASE = "release"
    MOVE = "move"  # to another person, named with the decision

    @property
    def label(self) -> str:
        """The decision as shown to people."""
        return self.value.capitalize()


class CampaignStatus(StrEnum):
    """Whether a campaign still takes decisions."""

    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        """The status as shown to people."""
        return self.value.capitalize()


class Outcome(StrEnum):
    """What closing a campaign did with one seat."""

    KEPT = "kept"
    RELEASED = "released"
    MOVED = "moved"  # the holder's seat ended and the chosen person's began, on the close date
    UNDECIDED = "undecided"  # nobody decided: the seat stays, and the report says so
    ENDED = "ended"  # the seat was released by other means before the campaign closed


class Recurrence(StrEnum):
    """How often a campaign comes back: closing one starts the next, due one period later."""

    NONE = ""
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half-yearly"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        """The period in months (0: the campaign does not recur)."""
        return _MONTHS[self]

    @property
    def label(self) -> str:
        """The recurrence as shown to people."""
        return "Once" if self is Recurrence.NONE else self.value.capitalize()

    def next_due(self, due: dt.date) -> dt.date | None:
        """The due date of the campaign after one due on ``due`` (None: it does not recur).

        The same day of the month, or the month's last day when it has fewer days (a campaign
        due on 31 January is next due on 30 April, quarterly).
        """
        if self is Recurrence.NONE:
            return None
        month = due.month - 1 + self.months
        year, month = due.year + month // 12, month % 12 + 1
        return dt.date(year, month, min(due.day, calendar.monthrange(year, month)[1]))


_MONTHS = {
    Recurrence.NONE: 0,
    Recurrence.MONTHLY: 1,
    Recurrence.QUARTERLY: 3,
    Recurrence.HALF_YEARLY: 6,
    Recurrence.YEARLY: 12,
}


def decision_problem(decision: Decision, reason: str) -> str:
    """Why a decision cannot be recorded as given ("" when it can).

    A release or a move takes a seat from someone, so the holder and an auditor must be able to
    read why.
    """
    if decision is Decision.RELEASE and not reason.strip():
        return "A release needs a reason (the holder and the auditors read it)."
    if decision is Decision.MOVE and not reason.strip():
        return "A move needs a reason (both people and the auditors read it)."
    return ""


def is_overdue(status: CampaignStatus, due: dt.date, today: dt.date) -> bool:
    """Whether an open campaign has passed its due date."""
    return status is CampaignStatus.OPEN and due < today
