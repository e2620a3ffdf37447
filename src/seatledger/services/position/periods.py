"""The moments and periods the position counts on: a day's end, seats held, installs present,
purchases in term, and the window concurrent use is read over (shared with the exports that
list what a position rests on)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, or_

from seatledger.store.models import Entitlement, Installation, SeatAssignment

CONCURRENT_WINDOW_DAYS = 90


def end_of(day: dt.date) -> dt.datetime:
    """The first moment after ``day`` (UTC): a seat open then was held on that day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def seat_open(moment: dt.datetime) -> ColumnElement[bool]:
    """Seats held at ``moment``."""
    return and_(
        SeatAssignment.started_at < moment,
        or_(SeatAssignment.ended_at.is_(None), SeatAssignment.ended_at >= moment),
    )


def installed(day: dt.date) -> ColumnElement[bool]:
    """Installs present on ``day``."""
    return and_(
        Installation.first_seen <= day,
        or_(Installation.removed_on.is_(None), Installation.removed_on > day),
    )


def in_term(day: dt.date) -> ColumnElement[bool]:
    """Entitlements whose term covers ``day``."""
    return and_(
        or_(Entitlement.term_start.is_(None), Entitlement.term_start <= day),
        or_(Entitlement.term_end.is_(None), Entitlement.term_end >= day),
        Entitlement.retired.is_(False),
    )
