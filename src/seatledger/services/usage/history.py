"""Usage over time against the purchased limit: the series behind the Usage page, the CLI chart
and the audit report's charts, and the seats and cost each team holds (chargeback).

A series is reconstructed, not sampled: seats from each assignment's start and end, installs from
each installation's first and removal day, concurrent peaks from license-server checkouts, and the
limit from each entitlement's term and its quantity history (true-ups are ``entitlement.update``
ledger entries whose before/after carry the quantity).  The database aggregates by day; numpy turns
the +1/-1 events into daily levels (``np.add.at`` and ``cumsum``), so a five-year chart over a
million assignments costs one grouped scan.

Days are UTC calendar days; a day's figure is the state at its end (an assignment started and
released on the same day does not count).  Team scopes and the chargeback use the team each
person belonged to on the day (``person_team``), so a move leaves the seats held before it with the
old team: seats by their holder's team, installs by their device owner's, checkouts by their
user's team on the day the checkout began.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from seatledger.domain.licensing import Metric
from seatledger.domain.usage import (
    TEAM_HEADERS,
    WARNING_LEVEL,
    Days,
    Forecast,
    Limits,
    TeamCost,
    UsageSeries,
    Values,
    forecast,
    product_title,
    team_cells,
)
from seatledger.errors import NotFoundError, ValidationError
from seatledger.lazy import LazyModule
from seatledger.services import lookups
from seatledger.services.core.context import Context
from seatledger.services.core.selects import entitlement_titles, titled
from seatledger.services.directory.memberships import held_on
from seatledger.services.lookups import NamedItem
from seatledger.services.usage.sessions import checked_in, out_during, sampling_interval
from seatledger.services.usage.snapshots import EVERYTHING, sightings
from seatledger.store.models import (
    Device,
    Entitlement,
    Installation,
    LedgerEntry,
    Person,
    PersonTeam,
    Product,
    SeatAssignment,
    SoftwareTitle,
    Team,
    UsageSession,
    Vendor,
)
from seatledger.text import plural

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:  # imported when a series is first built, not at start-up
    np = LazyModule("numpy")

_EPOCH = dt.date(1970, 1, 1)
MAX_DAYS = 366 * 30
PEAK_DAYS = 7
_UNITS = {
    Metric.PER_USER: "seats",
    Metric.SUBSCRIPTION: "seats",
    Metric.CONCURRENT: "seats",
    Metric.SITE: "seats",
    Metric.PER_DEVICE: "devices",
    Metric.PER_CORE: "cores",
    Metric.PER_PROCESSOR: "processors",
}


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Scope:
    """What a series counts: one license, a product, a vendor, a team, or (all None) everything.

    Filters combine: a team and a product count the product's seats held by the team's people.
    """

    entitlement_id: int | None = None
    product_id: int | None = None
    vendor_id: int | None = None
    team_id: int | None = None

    @property
    def is_everything(self) -> bool:
        """No filter at all."""
        return (
            self.entitlement_id is None
            and self.product_id is None
            and self.vendor_id is None
            and self.team_id is None
        )

    @property
    def has_entitlements(self) -> bool:
        """Whether the scope names licenses (a team alone has no limit of its own)."""
        return self.team_id is None or any(
            v is not None for v in (self.entitlement_id, self.product_id, self.vendor_id)
        )


# ------------------------------------------------------------------------------------ service


class UsageHistoryService:
    """Reads usage history, limits and team costs; changes nothing."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -------------------------------------------------------------- pickers and name lookup
    def entitlements(self) -> list[NamedItem]:
        """Every license as 'Vendor Product — name (#id)', by vendor and product."""
        with self._ctx.read() as session:
            rows = session.execute(
                entitlement_titles().order_by(Vendor.name, Product.name, Entitlement.id)
            ).all()
        return [
            NamedItem(
                r.id,
                f"{product_title(r.vendor, r.product)}{f' — {r.name}' if r.name else ''} (#{r.id})",
            )
            for r in rows
        ]

    def products(self) -> list[NamedItem]:
        """Every product as 'Vendor Product' (without repeating a vendor the name starts with)."""
        return [
            NamedItem(p.id, product_title(p.vendor, p.name)) for p in lookups.products(self._ctx)
        ]

    def vendors(self) -> list[NamedItem]:
        """Every vendor."""
        return lookups.vendors(self._ctx)

    def teams(self) -> list[NamedItem]:
        """Every team."""
        return lookups.teams(self._ctx)

    def find_scope(
        self,
        *,
        license_id: int | None = None,
        vendor: str | None = None,
        product: str | None = None,
        team: str | None = None,
    ) -> Scope:
        """The scope the command line names (names compare case-insensitively).

        A product may be named 'Product' or 'Vendor Product'.

        Raises:
            NotFoundError: a name or id that does not exist, or a product name shared by
                several vendors (the message lists them).
        """
        with self._ctx.read() as session:
            vendor_id = product_id = team_id = None
            if license_id is not None and session.get(Entitlement, license_id) is None:
                raise NotFoundError(f"There is no license #{license_id}.")
            if vendor:
                vendor_id = session.scalar(
                    select(Vendor.id).where(func.lower(Vendor.name) == vendor.strip().lower())
                )
                if vendor_id is None:
                    raise NotFoundError(f"No vendor named '{vendor}'.")
            if product:
                product_id = _find_product(session, product, vendor_id)
            if team:
                team_id = session.scalar(
                    select(Team.id).where(
                        or_(
                            func.lower(Team.name) == team.strip().lower(),
                            func.lower(Team.cost_centre) == team.strip().lower(),
                        )
                    )
                )
                if team_id is None:
                    raise NotFoundError(f"No team or cost centre named '{team}'.")
        return Scope(license_id, product_id, vendor_id, team_id)

    # -------------------------------------------------------------- series
    def today(self) -> dt.date:
        """Today by the session's clock (UTC)."""
        return self._ctx.clock().astimezone(dt.UTC).date()

    def series(
        self, scope: Scope, start: dt.date, end: dt.date, *, warning_level: float = WARNING_LEVEL
    ) -> UsageSeries:
        """Daily usage of ``scope`` from ``start`` to ``end`` (both included), with its forecast.

        Raises:
            ValidationError: an empty or absurdly long range.
            NotFoundError: a scope naming something that does not exist.
        """
        count = _day_count(start, end)
        with self._ctx.read() as session:
            label, metrics = _describe(session, scope)
            group = None
            seats = (
                _team_seat_levels(session, scope, start, count)
                if scope.team_id is not None
                else _seat_levels(session, [scope_filters(scope)], group, start, count)
            )
            installs = _install_levels(session, scope, group, start, count)
            peaks = _peak_levels(session, scope, group, start, count)
            seen = _snapshot_note(session, scope, start, count) if peaks is not None else ""
            limits = (
                _limit_levels(session, scope, group, start, count)
                if scope.has_entitlements
                else None
            )
        return self._assemble(
            scope,
            (label, metrics),
            np.datetime64(start, "D") + np.arange(count),
            used=seats.get(0),
            installs=None if installs is None else installs.get(0, np.zeros(count, np.int64)),
            peaks=None if peaks is None else peaks.get(0, np.zeros(count, np.int64)),
            limit=None if limits is None else limits.get(0),
            warning_level=warning_level,
            seen=seen,
        )

    def product_series(
        self, product_ids: Sequence[int], start: dt.date, end: dt.date
    ) -> list[UsageSeries]:
        """One series per product, computed together (one grouped scan per source, not N)."""
        count = _day_count(start, end)
        wanted = list(dict.fromkeys(product_ids))
        found: dict[str, dict[int, Values] | None] = {}
        failed: list[BaseException] = []

        def count_installs() -> None:
            try:
                with self._ctx.read() as session:
                    found["installs"] = _grouped_installs(session, wanted, start, count)
            except BaseException as error:  # handed to the caller's thread below
                failed.append(error)

        # The installs are read on a connection of their own while this thread reads the seats:
        # SQLite and the PostgreSQL driver let go of the GIL while a query runs (two cores: the
        # 50 heaviest products of the large demo in 0.87 s -> 0.65 s).
        counter = threading.Thread(target=count_installs, name="usage-installs")
        counter.start()
        try:
            with self._ctx.read() as session:
                described = {pid: _describe(session, Scope(product_id=pid)) for pid in wanted}
                group = Entitlement.product_id
                only = Entitlement.product_id.in_(wanted)
                seats = _seat_levels(session, [only], group, start, count)
                peaks = _grouped_peaks(session, wanted, start, count)
                seen = {
                    pid: _snapshot_note(session, Scope(product_id=pid), start, count)
                    for pid in (wanted if peaks is not None else ())
                }
                limits = _limits_of(
                    session,
                    [Entitlement.product_id.in_(wanted)],
                    Entitlement.product_id,
                    start,
                    count,
                )
        finally:
            counter.join()
        if failed:
            raise failed[0]
        installs = found["installs"]
        days = np.datetime64(start, "D") + np.arange(count)
        zeros = np.zeros(count, dtype=np.int64)
        return [
            self._assemble(
                Scope(product_id=pid),
                described[pid],
                days,
                used=seats.get(pid),
                installs=None if installs is None else installs.get(pid, zeros),
                peaks=None if peaks is None else peaks.get(pid, zeros),
                limit=limits.get(pid),
                warning_level=WARNING_LEVEL,
                seen=seen.get(pid, ""),
            )
            for pid in wanted
        ]

    def _assemble(
        self,
        scope: Scope,
        described: tuple[str, set[Metric]],
        days: Days,
        *,
        used: Values | None,
        installs: Values | None,
        peaks: Values | None,
        limit: Limits | None,
        warning_level: float,
        seen: str = "",
    ) -> UsageSeries:
        label, metrics = described
        count = len(days)
        used_line = np.zeros(count, dtype=np.int64) if used is None else used
        if limit is None:
            limit = (
                np.zeros(count, dtype=np.float64)
                if scope.has_entitlements
                else np.full(count, np.nan, dtype=np.float64)
            )
        unit = _unit(metrics)
        # A concurrent license caps simultaneous use: its trend is that of the peaks, taken over
        # a week so quiet weekends do not pull the line down.
        basis, measure = used_line, ""
        if metrics == {Metric.CONCURRENT} and peaks is not None and peaks.any():
            padded = np.concatenate([np.zeros(PEAK_DAYS - 1, dtype=np.int64), peaks])
            basis = np.lib.stride_tricks.sliding_window_view(padded, PEAK_DAYS).max(axis=1)
            measure = f"peaks of concurrent checkouts (the highest in each {PEAK_DAYS} days)"
        notes: list[str] = []
        if scope.team_id is not None:
            notes.append(
                "Seats held by the team's people on each day (the team they were in then)."
            )
            if scope.has_entitlements:
                notes.append("The limit is the whole organization's, not the team's.")
        if scope.entitlement_id is not None and (installs is not None or peaks is not None):
            notes.append("Installs and checkouts are those of the license's product.")
        if seen:
            notes.append(seen)
        return UsageSeries(
            days=days,
            used=used_line,
            installs=installs,
            peaks=peaks,
            limit=limit,
            warning_level=warning_level,
            label=label,
            unit=unit,
            forecast=(
                forecast(days, basis, limit, today=self.today(), unit=unit, measure=measure)
                if scope.team_id is None
                else Forecast(
                    None,
                    "No forecast for a team: a limit is the whole organization's, and a "
                    "team's trend says nothing about when the organization reaches it.",
                )
            ),
            notes=tuple(notes),
        )

    # -------------------------------------------------------------- teams
    def team_costs(self, as_of: dt.date | None = None) -> list[TeamCost]:
        """Seats held by each team's people at the end of ``as_of`` (default today) and their
        cost (unit cost × units), one row per team and currency; people without a team last.

        A seat counts for the team its holder belonged to on that day, and a device seat for
        the team of the device's owner on that day; the people counted are those in the team
        then who had not left by then.  The database groups the open seats by (team, license);
        costs are added up here from each license's unit cost.
        """
        day = as_of or self.today()
        moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        held_then = and_(
            SeatAssignment.started_at < moment,
            or_(SeatAssignment.ended_at.is_(None), SeatAssignment.ended_at >= moment),
        )
        units = func.sum(SeatAssignment.units)
        team_then = PersonTeam.team_id
        with self._ctx.read() as session:
            by_person = session.execute(
                select(team_then, SeatAssignment.entitlement_id, units)
                .select_from(SeatAssignment)
                .outerjoin(PersonTeam, held_on(day, SeatAssignment.person_id))
                .where(held_then, SeatAssignment.person_id.is_not(None))
                .group_by(team_then, SeatAssignment.entitlement_id)
            ).all()
            by_device = session.execute(
                select(team_then, SeatAssignment.entitlement_id, units)
                .select_from(SeatAssignment)
                .join(Device, SeatAssignment.device_id == Device.id)
                .outerjoin(PersonTeam, held_on(day, Device.owner_id))
                .where(held_then)
                .group_by(team_then, SeatAssignment.entitlement_id)
            ).all()
            prices = {
                r[0]: (r[1], r[2])
                for r in session.execute(
                    select(Entitlement.id, Entitlement.unit_cost, Entitlement.currency)
                )
            }
            teams = {
                r[0]: (r[1], r[2])
                for r in session.execute(select(Team.id, Team.name, Team.cost_centre))
            }
            people: dict[int | None, int] = dict(
                session.execute(
                    select(team_then, func.count())
                    .select_from(Person)
                    .outerjoin(PersonTeam, held_on(day, Person.id))
                    .where(
                        or_(
                            Person.status != "left",
                            and_(Person.date_left.is_not(None), Person.date_left > day),
                        ),
                        or_(Person.date_joined.is_(None), Person.date_joined <= day),
                    )
                    .group_by(team_then)
                ).all()
            )
        totals: dict[tuple[int | None, str], list[Any]] = {}
        for team_id, entitlement_id, held in [*by_person, *by_device]:
            unit_cost, currency = prices[entitlement_id]
            total = totals.setdefault((team_id, currency), [0, set(), Decimal(0), 0])
            total[0] += int(held)
            total[1].add(entitlement_id)
            if unit_cost is None:
                total[3] += int(held)
            else:
                total[2] += Decimal(str(unit_cost)) * int(held)
        rows = [
            TeamCost(
                team_id,
                *teams.get(team_id, ("(no team)", ""))
                if team_id is not None
                else ("(no team)", ""),
                int(people.get(team_id, 0)),
                seats,
                len(licenses),
                cost.quantize(Decimal("0.01")),
                currency,
                uncosted,
            )
            for (team_id, currency), (seats, licenses, cost, uncosted) in totals.items()
        ]
        seen = {row.team_id for row in rows}
        rows += [
            TeamCost(team_id, name, centre, int(people.get(team_id, 0)), 0, 0, Decimal(0), "", 0)
            for team_id, (name, centre) in teams.items()
            if team_id not in seen
        ]
        rows.sort(key=lambda r: (r.team_id is None, r.team.lower(), r.currency))
        return rows


# --------------------------------------------------------------------------------- internals


def _day_count(start: dt.date, end: dt.date) -> int:
    if end < start:
        raise ValidationError(f"The range ends ({end}) before it starts ({start}).")
    count = (end - start).days + 1
    if count > MAX_DAYS:
        raise ValidationError("Chart at most 30 years at a time.")
    return count


def _epoch(day: dt.date) -> int:
    return (day - _EPOCH).days


def _unit(metrics: set[Metric]) -> str:
    units = {_UNITS[m] for m in metrics}
    return units.pop() if len(units) == 1 else "rights"


def _find_product(session: Session, name: str, vendor_id: int | None) -> int:
    wanted = name.strip().lower()
    query = select(Product.id, Vendor.id, Vendor.name, Product.name).join(
        Vendor, Product.vendor_id == Vendor.id
    )
    if vendor_id is not None:
        query = query.where(Vendor.id == vendor_id)
    matches = [
        (pid, vname)
        for pid, _vid, vname, pname in session.execute(
            query.where(
                or_(
                    func.lower(Product.name) == wanted,
                    func.lower(Vendor.name + " " + Product.name) == wanted,
                )
            )
        )
    ]
    if not matches:
        raise NotFoundError(f"No product named '{name}'.")
    if len(matches) > 1:
        vendors = ", ".join(sorted(v for _p, v in matches))
        raise NotFoundError(
            f"Several vendors have a product named '{name}' ({vendors}): add --vendor."
        )
    return int(matches[0][0])


def _snapshot_note(session: Session, scope: Scope, start: dt.date, count: int) -> str:
    """What the scope's checkouts in the days shown rest on where license-server snapshots
    saw them: how many, of which server, the oldest and newest ("" where none did)."""
    products: set[int] | None = None
    if scope.product_id is not None:
        products = {scope.product_id}
    elif scope.entitlement_id is not None:
        products = set(
            session.scalars(
                select(Entitlement.product_id).where(Entitlement.id == scope.entitlement_id)
            )
        )
    elif scope.vendor_id is not None:
        products = set(
            session.scalars(select(Product.id).where(Product.vendor_id == scope.vendor_id))
        )
    begin = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    end = begin + dt.timedelta(days=count)
    seen = sightings(session, products, begin, end, merged=True).get(EVERYTHING)
    if seen is None or seen.last is None:
        return ""
    hours = round(sampling_interval(session).total_seconds() / 3600)
    rule = (
        "between snapshots use is not observed, and a checkout no snapshot showed for over "
        f"{plural(hours, 'hour')} ends at its last sighting"
    )
    if seen.newest is None or seen.oldest is None:
        return (
            f"No license-server snapshot was taken in these days (the newest, "
            f"{seen.last:%Y-%m-%d %H:%M}, is before them): {rule}."
        )
    span = (
        f"taken {seen.newest:%Y-%m-%d %H:%M}"
        if seen.count == 1
        else f"the oldest {seen.oldest:%Y-%m-%d %H:%M}, the newest {seen.newest:%Y-%m-%d %H:%M}"
    )
    return f"Checkouts seen by {seen.of}, {span}: {rule}."


def _describe(session: Session, scope: Scope) -> tuple[str, set[Metric]]:
    """The scope's label and the metrics of its licenses; refuses ids that do not exist."""
    parts: list[str] = []
    if scope.entitlement_id is not None:
        row = session.execute(
            titled(
                Vendor.name.label("vendor"),
                Product.name.label("product"),
                Entitlement.name,
                Entitlement.metric,
            ).where(Entitlement.id == scope.entitlement_id)
        ).first()
        if row is None:
            raise NotFoundError(f"There is no license #{scope.entitlement_id}.")
        named = f" — {row.name}" if row.name else ""
        parts.append(
            f"{product_title(row.vendor, row.product)}{named} (license #{scope.entitlement_id}, "
            f"{Metric(row.metric).label.lower()})"
        )
    if scope.product_id is not None:
        pair = session.execute(
            select(Vendor.name, Product.name)
            .join(Vendor, Product.vendor_id == Vendor.id)
            .where(Product.id == scope.product_id)
        ).first()
        if pair is None:
            raise NotFoundError(f"There is no product #{scope.product_id}.")
        if scope.entitlement_id is None:
            parts.append(product_title(pair[0], pair[1]))
    if scope.vendor_id is not None:
        name = session.scalar(select(Vendor.name).where(Vendor.id == scope.vendor_id))
        if name is None:
            raise NotFoundError(f"There is no vendor #{scope.vendor_id}.")
        if scope.entitlement_id is None and scope.product_id is None:
            parts.append(f"{name} (all products)")
    if scope.team_id is not None:
        team = session.execute(
            select(Team.name, Team.cost_centre).where(Team.id == scope.team_id)
        ).first()
        if team is None:
            raise NotFoundError(f"There is no team #{scope.team_id}.")
        parts.append(f"team {team[0]}" + (f" ({team[1]})" if team[1] else ""))
    if not parts:
        parts.append("All licenses")
    metrics = {
        Metric(m)
        for m in session.scalars(
            select(Entitlement.metric)
            .join(Product, Entitlement.product_id == Product.id)
            .where(*_entitlement_filters(scope))
            .distinct()
        )
    }
    label = " · ".join(parts)
    return label[0].upper() + label[1:], metrics


def _entitlement_filters(scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions on Entitlement (and Product, joined) selecting the scope's licenses."""
    found: list[ColumnElement[bool]] = []
    if scope.entitlement_id is not None:
        found.append(Entitlement.id == scope.entitlement_id)
    if scope.product_id is not None:
        found.append(Entitlement.product_id == scope.product_id)
    if scope.vendor_id is not None:
        found.append(Product.vendor_id == scope.vendor_id)
    return found


def scope_filters(scope: Scope) -> ColumnElement[bool]:
    """Conditions selecting the scope's seat assignments (joined to Entitlement and Product);
    a team scope is not one of them: its seats depend on the day (see ``_team_seat_levels``)."""
    found = _entitlement_filters(scope)
    return and_(*found) if found else true()


def _epoch_day(session: Session, column: Any, *, stamp: bool) -> ColumnElement[int]:
    """Days since 1970-01-01 of a DATE column or the UTC day of a timestamp column."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(column) - 2440587.5, Integer)
    value = cast(func.timezone("UTC", column), Date) if stamp else column
    return cast(value - cast(literal("1970-01-01"), Date), Integer)


def _epoch_second(session: Session, column: Any) -> ColumnElement[int]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.extract("epoch", column), Integer)


def _levels(events: npt.NDArray[np.int64], first_day: int, count: int) -> dict[int, Values]:
    """Daily levels per group from rows of (group, first day, end day or -1 if open, amount).

    Something counts on day d when first <= d < end; events before the range fold into its first
    day and events after it drop out (index ``count``).
    """
    found: dict[int, Values] = {}
    if len(events) == 0:
        return found
    groups, starts, ends, amounts = events.T
    keys, where = np.unique(groups, return_inverse=True)
    delta = np.zeros((len(keys), count + 1), dtype=np.int64)
    np.add.at(delta, (where, np.clip(starts - first_day, 0, count)), amounts)
    closed = ends >= 0
    down = np.clip(ends[closed] - first_day, 0, count)
    np.add.at(delta, (where[closed], down), -amounts[closed])
    levels = np.cumsum(delta[:, :count], axis=1)
    for n, key in enumerate(keys.tolist()):
        found[int(key)] = levels[n]
    return found


def _matrix(rows: Sequence[Any]) -> npt.NDArray[np.int64]:
    """Query rows of four integers (NULL as -1) as an (n, 4) array."""
    if not rows:
        return np.zeros((0, 4), dtype=np.int64)
    return np.array([[-1 if v is None else v for v in r] for r in rows], dtype=np.int64)


def _keyed(group: Any) -> tuple[Any, list[Any]]:
    """The group column to select and to group by; None: one group, key 0."""
    if group is None:
        return literal_column("0"), []
    return group, [group]


def _seat_levels(
    session: Session,
    filters: list[ColumnElement[bool]],
    group: Any,
    start: dt.date,
    count: int,
) -> dict[int, Values]:
    key, by = _keyed(group)
    started = _epoch_day(session, SeatAssignment.started_at, stamp=True)
    ended = _epoch_day(session, SeatAssignment.ended_at, stamp=True)
    rows = session.execute(
        select(key, started, ended, func.sum(SeatAssignment.units))
        .select_from(SeatAssignment)
        .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
        .join(Product, Entitlement.product_id == Product.id)
        .where(*filters)
        .group_by(*by, started, ended)
    ).all()
    return _levels(_matrix(rows), _epoch(start), count)


def _team_seat_levels(
    session: Session, scope: Scope, start: dt.date, count: int
) -> dict[int, Values]:
    """Daily seats held by the people of ``scope.team_id`` while they were in it (key 0).

    Each (seat, membership) pair counts on the days both hold: from the later of their first
    days to the earlier of their ends.
    """
    assert scope.team_id is not None
    started = _epoch_day(session, SeatAssignment.started_at, stamp=True)
    ended = _epoch_day(session, SeatAssignment.ended_at, stamp=True)
    since = _epoch_day(session, PersonTeam.valid_from, stamp=False)
    until = _epoch_day(session, PersonTeam.valid_to, stamp=False)
    rows = session.execute(
        select(started, ended, since, until, func.sum(SeatAssignment.units))
        .select_from(SeatAssignment)
        .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
        .join(Product, Entitlement.product_id == Product.id)
        .join(
            PersonTeam,
            and_(
                PersonTeam.person_id == SeatAssignment.person_id,
                PersonTeam.team_id == scope.team_id,
            ),
        )
        .where(*_entitlement_filters(scope))
        .group_by(started, ended, since, until)
    ).all()
    return _levels(_while_members(rows), _epoch(start), count)


def _while_members(rows: Sequence[Any]) -> npt.NDArray[np.int64]:
    """Rows of (first day, end day, membership's first day, its end day, amount), NULL for an
    open bound, as ``_levels`` events (one group, key 0) over the days both hold."""
    if not rows:
        return np.zeros((0, 4), dtype=np.int64)
    # NULL is -1: an open start is then no later than any other, an open end is taken as the
    # latest possible day.
    first, end, first_member, member_end, amounts = np.array(
        [[-1 if v is None else v for v in r] for r in rows], dtype=np.int64
    ).T
    never = np.iinfo(np.int64).max
    ends = np.minimum(np.where(end < 0, never, end), np.where(member_end < 0, never, member_end))
    starts = np.maximum(first, first_member)
    held = ends > starts
    return np.column_stack(
        [
            np.zeros(int(held.sum()), dtype=np.int64),
            starts[held],
            np.where(ends[held] == never, -1, ends[held]),
            amounts[held],
        ]
    )


def _install_query(session: Session, group: Any) -> Any:
    key, by = _keyed(group)
    first = _epoch_day(session, Installation.first_seen, stamp=False)
    removed = _epoch_day(session, Installation.removed_on, stamp=False)
    return (
        select(key, first, removed, func.count())
        .select_from(Installation)
        .join(SoftwareTitle, Installation.title_id == SoftwareTitle.id)
        .join(Product, SoftwareTitle.product_id == Product.id)
        .group_by(*by, first, removed)
    )


def _product_conditions(session: Session, scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions on Product for the scope's inventory and usage (none: every product)."""
    found: list[ColumnElement[bool]] = []
    if scope.entitlement_id is not None:
        product_id = session.scalar(
            select(Entitlement.product_id).where(Entitlement.id == scope.entitlement_id)
        )
        found.append(Product.id == product_id)
    if scope.product_id is not None:
        found.append(Product.id == scope.product_id)
    if scope.vendor_id is not None:
        found.append(Product.vendor_id == scope.vendor_id)
    return found


def _has_inventory(session: Session) -> bool:
    return session.scalar(select(Installation.id).limit(1)) is not None


def _has_usage(session: Session) -> bool:
    return session.scalar(select(UsageSession.id).limit(1)) is not None


def _install_levels(
    session: Session, scope: Scope, group: Any, start: dt.date, count: int
) -> dict[int, Values] | None:
    if not _has_inventory(session):
        return None
    conditions = _product_conditions(session, scope)
    if scope.team_id is not None:
        # Installs on the devices of the team's people, while their owner was in the team.
        first = _epoch_day(session, Installation.first_seen, stamp=False)
        removed = _epoch_day(session, Installation.removed_on, stamp=False)
        since = _epoch_day(session, PersonTeam.valid_from, stamp=False)
        until = _epoch_day(session, PersonTeam.valid_to, stamp=False)
        rows = session.execute(
            select(first, removed, since, until, func.count())
            .select_from(Installation)
            .join(SoftwareTitle, Installation.title_id == SoftwareTitle.id)
            .join(Product, SoftwareTitle.product_id == Product.id)
            .join(Device, Installation.device_id == Device.id)
            .join(
                PersonTeam,
                and_(PersonTeam.person_id == Device.owner_id, PersonTeam.team_id == scope.team_id),
            )
            .where(*conditions)
            .group_by(first, removed, since, until)
        ).all()
        return _levels(_while_members(rows), _epoch(start), count)
    rows = session.execute(_install_query(session, group).where(*conditions)).all()
    return _levels(_matrix(rows), _epoch(start), count)


def _grouped_installs(
    session: Session, product_ids: list[int], start: dt.date, count: int
) -> dict[int, Values] | None:
    if not _has_inventory(session):
        return None
    # Titles and installs only: the install title index holds both days, so this reads no row.
    first = _epoch_day(session, Installation.first_seen, stamp=False)
    removed = _epoch_day(session, Installation.removed_on, stamp=False)
    rows = session.execute(
        select(SoftwareTitle.product_id, first, removed, func.count())
        .select_from(Installation)
        .join(SoftwareTitle, Installation.title_id == SoftwareTitle.id)
        .where(SoftwareTitle.product_id.in_(product_ids))
        .group_by(SoftwareTitle.product_id, first, removed)
    ).all()
    return _levels(_matrix(rows), _epoch(start), count)


def _session_rows(
    session: Session,
    group: Any,
    conditions: list[ColumnElement[bool]],
    span: tuple[dt.date, dt.date],
) -> list[Any]:
    start, end = span
    begin = dt.datetime.combine(start, dt.time(), dt.UTC)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    return list(
        session.execute(
            select(
                _keyed(group)[0],
                _epoch_second(session, UsageSession.checkout),
                _epoch_second(session, checked_in(after, sampling_interval(session))),
                UsageSession.units,
            )
            .select_from(UsageSession)
            .join(Product, UsageSession.product_id == Product.id)
            .where(*conditions, out_during(begin, after))
        ).all()
    )


def _peaks(rows: Sequence[Any], start: dt.date, count: int) -> dict[int, Values]:
    """The most simultaneous checkouts per group and day (a checkout without a checkin is open)."""
    found: dict[int, Values] = {}
    if not rows:
        return found
    groups, outs, ins, units = _matrix(rows).T
    first = _epoch(start) * 86_400
    horizon = first + count * 86_400
    ins = np.where(ins < 0, horizon, ins)
    for key in np.unique(groups).tolist():
        mine = groups == key
        times = np.concatenate([outs[mine], ins[mine]])
        steps = np.concatenate([units[mine], -units[mine]])
        # At the same instant a checkin comes before a checkout, so a hand-over is not a peak.
        order = np.lexsort((steps, times))
        times, level = times[order], np.cumsum(steps[order])
        day = np.clip((times - first) // 86_400, -1, count)
        peak = np.zeros(count + 2, dtype=np.int64)
        np.maximum.at(peak, day + 1, level)
        # A day also reaches the level carried in from before it (sessions over midnight).
        edges = first + np.arange(count, dtype=np.int64) * 86_400
        before = np.searchsorted(times, edges, side="right") - 1
        carried = np.where(before >= 0, level[np.maximum(before, 0)], 0)
        found[int(key)] = np.maximum(peak[1 : count + 1], carried)
    return found


def _peak_levels(
    session: Session, scope: Scope, group: Any, start: dt.date, count: int
) -> dict[int, Values] | None:
    if not _has_usage(session):
        return None
    conditions = _product_conditions(session, scope)
    if scope.team_id is not None:
        # A checkout counts for the team its user was in on the day it began.
        out_day = _epoch_day(session, UsageSession.checkout, stamp=True)
        since = _epoch_day(session, PersonTeam.valid_from, stamp=False)
        until = _epoch_day(session, PersonTeam.valid_to, stamp=False)
        conditions.append(
            select(PersonTeam.id)
            .where(
                PersonTeam.person_id == UsageSession.person_id,
                PersonTeam.team_id == scope.team_id,
                or_(PersonTeam.valid_from.is_(None), since <= out_day),
                or_(PersonTeam.valid_to.is_(None), until > out_day),
            )
            .exists()
        )
    end = start + dt.timedelta(days=count - 1)
    return _peaks(_session_rows(session, group, conditions, (start, end)), start, count)


def _grouped_peaks(
    session: Session, product_ids: list[int], start: dt.date, count: int
) -> dict[int, Values] | None:
    if not _has_usage(session):
        return None
    end = start + dt.timedelta(days=count - 1)
    rows = _session_rows(session, Product.id, [Product.id.in_(product_ids)], (start, end))
    return _peaks(rows, start, count)


def _limit_levels(
    session: Session, scope: Scope, group: Any, start: dt.date, count: int
) -> dict[int, Limits]:
    return _limits_of(session, _entitlement_filters(scope), group, start, count)


def _limits_of(
    session: Session,
    filters: list[ColumnElement[bool]],
    group: Any,
    start: dt.date,
    count: int,
) -> dict[int, Limits]:
    """Rights owned per group and day: each entitlement's quantity over its term, stepped at
    every recorded quantity change (a true-up); NaN while an uncapped (site) license is in force.
    """
    licenses = session.execute(
        select(
            _keyed(group)[0],
            Entitlement.id,
            Entitlement.metric,
            Entitlement.quantity,
            Entitlement.term_start,
            Entitlement.term_end,
        )
        .select_from(Entitlement)
        .join(Product, Entitlement.product_id == Product.id)
        .where(*filters)
    ).all()
    history = _quantity_history(session, {row.id for row in licenses})
    first = _epoch(start)
    events: list[tuple[int, int, int, int]] = []
    uncapped: list[tuple[int, int, int, int]] = []
    for key, entitlement_id, metric, quantity, term_start, term_end in licenses:
        begin = _epoch(term_start) if term_start is not None else first - 1
        stop = _epoch(term_end) + 1 if term_end is not None else first + count + 1
        if stop <= begin:
            continue
        if Metric(metric).unlimited:
            uncapped.append((int(key), begin, stop, 1))
            continue
        # Quantity segments: (from day, quantity) in time order; the last runs on.
        segments = [(begin, quantity)]
        changes = history.get(entitlement_id, [])
        if changes:
            segments = [(begin, changes[0][1])]
            segments += [(max(day, begin), after) for day, _before, after in changes]
        for n, (seg_start, seg_quantity) in enumerate(segments):
            seg_stop = segments[n + 1][0] if n + 1 < len(segments) else stop
            seg_stop = min(seg_stop, stop)
            if seg_stop > seg_start and seg_quantity:
                events.append((int(key), seg_start, seg_stop, int(seg_quantity)))
    found_int = _levels(np.array(events, dtype=np.int64).reshape(-1, 4), first, count)
    keys = {int(key) for key, *_ in licenses}
    found: dict[int, Limits] = {
        key: found_int.get(key, np.zeros(count, dtype=np.int64)).astype(np.float64) for key in keys
    }
    if uncapped:
        open_sites = _levels(np.array(uncapped, dtype=np.int64).reshape(-1, 4), first, count)
        for key, active in open_sites.items():
            found[key][active > 0] = np.nan
    return found


def _quantity_history(
    session: Session, entitlement_ids: set[int]
) -> dict[int, list[tuple[int, int, int]]]:
    """Recorded quantity changes per entitlement as (epoch day, before, after), oldest first."""
    found: dict[int, list[tuple[int, int, int]]] = {}
    if not entitlement_ids:
        return found
    rows = session.execute(
        select(LedgerEntry.entity_id, LedgerEntry.ts, LedgerEntry.body)
        .where(LedgerEntry.action == "entitlement.update")
        .order_by(LedgerEntry.seq)
    ).all()
    for entity_id, ts, body in rows:
        if not entity_id.isdigit() or int(entity_id) not in entitlement_ids:
            continue
        what = json.loads(body).get("what", {})
        before, after = what.get("before") or {}, what.get("after") or {}
        if "quantity" not in after or "quantity" not in before:
            continue
        day = _epoch(dt.date.fromisoformat(ts[:10]))
        found.setdefault(int(entity_id), []).append(
            (day, int(before["quantity"]), int(after["quantity"]))
        )
    return found


__all__ = [
    "TEAM_HEADERS",
    "WARNING_LEVEL",
    "Forecast",
    "Scope",
    "TeamCost",
    "UsageHistoryService",
    "UsageSeries",
    "forecast",
    "team_cells",
]
