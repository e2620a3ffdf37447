"""What a concurrency figure rests on: license-server snapshots (how many, of which server, how
old) or records that date both ends of every checkout (a debug log, a usage file).

A snapshot (lmstat, RLM, LM-X, DSLS, Sentinel RMS) sees the checkouts out at one instant; what
was checked out and returned between two snapshots is never seen, and a checkout no snapshot has
shown for longer than the sampling interval ends at its last sighting.  The position, the usage
chart and the audit's freshness step say so, from the snapshots each import recorded
(``usage_snapshot``) and the product's checkouts in the window.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from seatledger.domain.normalization import RawTitle
from seatledger.services.imports.rules import load_normalizer
from seatledger.services.usage.sessions import out_during, sampling_interval
from seatledger.store.models import UsageSession
from seatledger.store.models_usage import UsageSnapshot
from seatledger.text import plural

EVERYTHING = 0
"""The key :func:`sightings` gives everything under when asked for it merged."""


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _when(moment: dt.datetime) -> str:
    return f"{_aware(moment):%Y-%m-%d %H:%M}"


@dataclass(frozen=True, slots=True)
class Sightings:
    """The snapshots of a product's license-server features taken in [start, end), and the
    newest before ``end`` (in the period or not)."""

    count: int  # distinct instants (a triad's three servers seen at once are one snapshot)
    servers: tuple[str, ...]  # as checkouts name them ("host/port"), those of the period
    oldest: dt.datetime | None
    newest: dt.datetime | None
    last: dt.datetime | None  # the newest before ``end``, within the period or before it
    last_server: str = ""
    recovered: bool = False  # some rebuilt by the 0031 upgrade: the count is a lower bound

    @property
    def of(self) -> str:
        """ "3 snapshots of lic01/27000" ("at least 3" where the count is a lower bound)."""
        least = "at least " if self.recovered else ""
        servers = [s for s in self.servers if s]
        where = f" of {', '.join(servers)}" if servers else ""
        return f"{least}{plural(self.count, 'snapshot')}{where}"


def sightings(
    session: Session,
    products: Collection[int] | None,
    start: dt.datetime,
    end: dt.datetime,
    *,
    merged: bool = False,
) -> dict[int, Sightings]:
    """Per product of ``products`` (None: every product) whose features some snapshot listed,
    its snapshots in [start, end); ``merged``: all of them together under :data:`EVERYTHING`.

    Features are mapped to products by the normalization rules as they are now, as the stored
    checkouts are (``rules.remap``).
    """
    features = [str(f) for f in session.scalars(select(UsageSnapshot.feature).distinct())]
    if not features:
        return {}
    normalizer = load_normalizer(session)
    grouped: dict[int, list[str]] = defaultdict(list)
    for feature in features:
        pid = normalizer.product_of(RawTitle("", feature))
        if pid is None or (products is not None and pid not in products):
            continue
        grouped[EVERYTHING if merged else pid].append(feature)
    return {key: _sightings(session, names, start, end) for key, names in grouped.items()}


def _sightings(
    session: Session, features: list[str], start: dt.datetime, end: dt.datetime
) -> Sightings:
    of_features = UsageSnapshot.feature.in_(features)
    rows = session.execute(
        select(UsageSnapshot.taken_at, UsageSnapshot.server, UsageSnapshot.recovered)
        .where(of_features, UsageSnapshot.taken_at >= start, UsageSnapshot.taken_at < end)
        .distinct()
    ).all()
    instants = {_aware(taken) for taken, _, _ in rows}
    last = session.execute(
        select(UsageSnapshot.taken_at, func.min(UsageSnapshot.server))
        .where(of_features, UsageSnapshot.taken_at < end)
        .group_by(UsageSnapshot.taken_at)
        .order_by(UsageSnapshot.taken_at.desc())
        .limit(1)
    ).first()
    return Sightings(
        count=len(instants),
        servers=tuple(sorted({str(server) for _, server, _ in rows})),
        oldest=min(instants, default=None),
        newest=max(instants, default=None),
        last=None if last is None else _aware(last[0]),
        last_server=str(last[1]) if last is not None else "",
        recovered=any(bool(recovered) for _, _, recovered in rows),
    )


@dataclass(frozen=True, slots=True)
class ConcurrencyBasis:
    """What one product's concurrent-use figure rests on, on a date.

    ``logged`` checkouts in the window come from records dating both ends (a debug log, a usage
    file); ``sighted`` ones from snapshots, of which ``sightings`` tells how many and how old.
    """

    moment: dt.datetime  # the end of the position's day
    window_days: int
    interval: dt.timedelta  # the sampling interval: a snapshot older than this is stale
    logged: int
    sighted: int
    sightings: Sightings | None
    # The clock when the figure was computed: a position of today is observed up to now, not up
    # to the end of the day (None: the end of the day has passed).
    now: dt.datetime | None = None

    @property
    def from_snapshots(self) -> bool:
        """Whether snapshots are (part of) what the figure rests on."""
        return self.sighted > 0 or (self.sightings is not None and self.sightings.last is not None)

    @property
    def age(self) -> dt.timedelta | None:
        """How long before the position's moment the newest snapshot was taken."""
        if self.sightings is None or self.sightings.last is None:
            return None
        until = self.moment if self.now is None else min(self.moment, self.now)
        return until - self.sightings.last

    @property
    def stale(self) -> bool:
        """Whether the newest snapshot is older than the sampling interval (the figure does
        not see use since); False where no snapshot counts."""
        age = self.age
        return self.from_snapshots and age is not None and age > self.interval

    def text(self) -> str:
        """One sentence an administrator can give a vendor."""
        seen = self.sightings
        window = f"the {self.window_days} days to {self.moment.date() - dt.timedelta(days=1)}"
        complete = (
            f"{plural(self.logged, 'checkout')} a debug log or usage file dates at both ends "
            "(complete history)"
        )
        if not self.from_snapshots or seen is None:
            if self.logged:
                return f"Concurrency from {complete}, in {window}."
            return f"No checkout was recorded in {window}."
        age = self.age
        if seen.count == 0 or seen.newest is None or seen.oldest is None:
            assert seen.last is not None  # from_snapshots without one in the window: an old one
            server = f" of {seen.last_server}" if seen.last_server else ""
            days = age.days if age is not None else 0
            text = (
                f"No snapshot in {window}: the newest{server} was taken on "
                f"{_when(seen.last)} ({plural(days, 'day')} old), so no use since is observed"
            )
            return f"{text}; the figure rests on {complete}." if self.logged else f"{text}."
        span = (
            f"on {_when(seen.newest)}"
            if seen.count == 1
            else f"the oldest on {_when(seen.oldest)}, the newest on {_when(seen.newest)}"
        )
        old = f", {plural(age.days, 'day')} old" if age is not None and age > self.interval else ""
        shown = "; none showed it in use" if not self.sighted else ""
        snapshots = f"{seen.of}, {span}{old}{shown}"
        if self.logged:
            unseen = "between which" if seen.count > 1 else "at other times"
            return (
                f"Concurrency from {snapshots} ({unseen} use is not observed) and from {complete}."
            )
        unseen = "between snapshots" if seen.count > 1 else "at any other time"
        return f"Concurrency from {snapshots}; {unseen} use is not observed."


def concurrency_bases(
    session: Session,
    products: Collection[int],
    moment: dt.datetime,
    window_days: int,
    now: dt.datetime | None = None,
) -> dict[int, ConcurrencyBasis]:
    """What each of ``products``' concurrency figure rests on at ``moment`` (the end of a
    day), over the ``window_days`` before it: the same as the position's, counted in SQL."""
    if not products:
        return {}
    start = moment - dt.timedelta(days=window_days)
    counted: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    sighted = case((UsageSession.seen_at.is_(None), 0), else_=1)
    for pid, seen, count in session.execute(
        select(UsageSession.product_id, sighted, func.count())
        .where(UsageSession.product_id.in_(products), out_during(start, moment))
        .group_by(UsageSession.product_id, sighted)
    ):
        counted[int(pid)][int(seen)] = int(count)
    seen_by = sightings(session, products, start, moment)
    interval = sampling_interval(session)
    return {
        pid: ConcurrencyBasis(
            moment, window_days, interval, counted[pid][0], counted[pid][1], seen_by.get(pid), now
        )
        for pid in products
    }
