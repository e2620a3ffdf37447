"""When a license checkout ended, in SQL: a usage file dates both ends, a snapshot sees an instant.

A checkout that snapshots showed open and that no snapshot has shown for longer than the sampling
interval ended at its last sighting (:func:`seatledger.domain.metrics.session_end`); these are
the same rule as SQL expressions, for the position, its drill-down and the usage history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import Session

from seatledger.domain.metrics import SAMPLING_INTERVAL
from seatledger.store.models import Setting, UsageSession

SAMPLING_KEY = "usage.sampling_hours"
"""The setting that overrides the expected time between two snapshots of a license server."""


def sampling_interval(session: Session) -> dt.timedelta:
    """The organization's snapshot interval (a day unless set)."""
    value = session.scalar(select(Setting.value).where(Setting.key == SAMPLING_KEY))
    try:
        hours = float(value) if value else 0.0
    except ValueError:
        hours = 0.0
    return dt.timedelta(hours=hours) if hours > 0 else SAMPLING_INTERVAL


def checked_in(as_of: dt.datetime, interval: dt.timedelta) -> ColumnElement[dt.datetime]:
    """A checkout's end as ``as_of`` knows it (NULL while it is still out)."""
    stale = and_(
        UsageSession.checkin.is_(None),
        UsageSession.seen_at.is_not(None),
        UsageSession.seen_at < as_of - interval,
    )
    return case((stale, UsageSession.seen_at), else_=UsageSession.checkin)


def out_during(start: dt.datetime, as_of: dt.datetime) -> ColumnElement[bool]:
    """Checkouts that were out at some time in [start, as_of).

    With an interval shorter than ``as_of - start``, a checkout last seen before ``start`` has
    ended before the window whether or not the interval has passed.
    """
    # A checkin at the very instant the window opens was not out in it: [checkout, checkin).
    return and_(
        UsageSession.checkout < as_of,
        or_(
            UsageSession.checkin > start,
            and_(
                UsageSession.checkin.is_(None),
                or_(UsageSession.seen_at.is_(None), UsageSession.seen_at > start),
            ),
        ),
    )
