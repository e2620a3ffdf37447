"""Usage over time against a limit, as plain arrays: the series a chart draws and a report
prints, the forecast of when the limit is reached, and the seats and cost each team holds.

Pure: numpy and dates only.  :mod:`seatledger.services.usage.history` builds these from the
database; :mod:`seatledger.charts` draws them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from seatledger.lazy import LazyModule
from seatledger.text import plural

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Days: TypeAlias = npt.NDArray[np.datetime64]
    Values: TypeAlias = npt.NDArray[np.int64]
    Limits: TypeAlias = npt.NDArray[np.float64]
else:  # numpy is imported when a series is first built, not at start-up
    np = LazyModule("numpy")
    Days = Values = Limits = Any

_EPOCH = dt.date(1970, 1, 1)

WARNING_LEVEL = 0.9
"""The share of the limit from which a chart shades the warning band."""
FORECAST_WINDOW = 90
"""Days of recent history the forecast's least-squares line is fitted to."""
FORECAST_MIN_DAYS = 14
FORECAST_HORIZON_YEARS = 10

# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Forecast:
    """When the limit is reached at the recent trend, and how that was worked out.

    ``method`` says it in words (the chart and reports print it as is).  ``reached_on`` is None
    when the trend does not reach the limit (flat or falling, too little history, no limit, or
    beyond the horizon); a scope already at or over its limit reports the day it got there.
    """

    reached_on: dt.date | None
    method: str
    slope_per_day: float | None = None
    fit_start: dt.date | None = None
    fit_end: dt.date | None = None
    level_at_fit_end: float | None = None

    def line(self, until: dt.date) -> tuple[Days, npt.NDArray[np.float64]]:
        """The fitted line from the start of its window to ``until`` (two points), for drawing."""
        if self.slope_per_day is None or self.fit_start is None or self.fit_end is None:
            return np.array([], dtype="datetime64[D]"), np.array([], dtype=np.float64)
        assert self.level_at_fit_end is not None
        start_value = (
            self.level_at_fit_end - self.slope_per_day * (self.fit_end - self.fit_start).days
        )
        end_value = self.level_at_fit_end + self.slope_per_day * (until - self.fit_end).days
        days = np.array([self.fit_start, until], dtype="datetime64[D]")
        return days, np.array([start_value, end_value], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class UsageSeries:
    """Daily usage of one scope against its limit.

    Attributes:
        days: the days, consecutive, as ``datetime64[D]``.
        used: rights assigned at the end of each day (seats; cores for per-core licenses).
        installs: devices with a matching install each day, or None when no inventory is imported.
        peaks: the most simultaneous license-server checkouts each day, or None without usage data.
        limit: rights owned each day (0 outside every term; NaN where the scope has no cap: a
            site license in force, or a team on its own).
        warning_level: the share of the limit from which the warning band is shaded.
        label: what the series counts, for titles and legends.
        unit: what the numbers count ("seats", "cores", "rights" when metrics are mixed).
        forecast: when the limit is reached at the recent trend.
        notes: what a reader should know about how the figures were reconstructed.
    """

    days: Days
    used: Values
    installs: Values | None
    peaks: Values | None
    limit: Limits
    warning_level: float
    label: str
    unit: str
    forecast: Forecast
    notes: tuple[str, ...] = ()

    @property
    def start(self) -> dt.date:
        """The first day."""
        return to_date(self.days[0])

    @property
    def end(self) -> dt.date:
        """The last day."""
        return to_date(self.days[-1])

    @property
    def has_limit(self) -> bool:
        """Whether any day has a finite limit."""
        return bool(np.isfinite(self.limit).any())

    def at(self, day: dt.date) -> tuple[int, float]:
        """(used, limit) on ``day`` (which must be in the range)."""
        index = (day - self.start).days
        if not 0 <= index < len(self.days):
            raise ValueError(f"{day} is outside {self.start}..{self.end}")
        return int(self.used[index]), float(self.limit[index])


@dataclass(frozen=True, slots=True)
class TeamCost:
    """Seats a team's people hold on a day and what those seats cost (chargeback)."""

    team_id: int | None
    team: str
    cost_centre: str
    people: int
    seats: int
    licenses: int
    cost: Decimal | None
    currency: str
    uncosted_seats: int


TEAM_HEADERS = (
    "Team",
    "Cost centre",
    "People",
    "Seats",
    "Licenses",
    "Cost",
    "Currency",
    "Seats without a unit cost",
)


def team_cells(row: TeamCost) -> list[Any]:
    """One team row as table cells (for exports)."""
    return [
        row.team,
        row.cost_centre,
        row.people,
        row.seats,
        row.licenses,
        row.cost,
        row.currency,
        row.uncosted_seats,
    ]


# ----------------------------------------------------------------------------------- forecast


def forecast(
    days: Days,
    used: Values,
    limit: Limits,
    *,
    today: dt.date | None = None,
    window: int = FORECAST_WINDOW,
    unit: str = "seats",
    measure: str = "",
) -> Forecast:
    """The day ``used`` reaches ``limit`` on a least-squares line over the last ``window`` days.

    Only days up to ``today`` are fitted (a range reaching into the future repeats today's state).
    The limit compared against is the one in force on the last fitted day.  ``measure`` names
    what ``used`` counts in the method's words (default: "<unit> used").
    """
    measure = measure or f"{unit} used"
    if len(days) == 0:
        return Forecast(None, "No days to forecast from.")
    first = to_date(days[0])
    last_index = len(days) - 1
    if today is not None:
        last_index = min(last_index, (today - first).days)
    if last_index < 0:
        return Forecast(None, "The range lies in the future: nothing to forecast from yet.")
    fit_end = first + dt.timedelta(days=last_index)
    cap = float(limit[last_index])
    if not math.isfinite(cap):  # NaN: a site license is in force (a team's is said by the caller)
        return Forecast(
            None,
            "No forecast: the scope holds a license without a seat limit on its last day (a "
            "site license), so there is no limit to reach.",
        )
    if cap <= 0 and not used[: last_index + 1].any():
        return Forecast(
            None,
            "No forecast: nothing bought in this scope is in term on its last day, and nothing "
            "is used.",
        )
    start_index = max(0, last_index - window + 1)
    count = last_index - start_index + 1
    if count < FORECAST_MIN_DAYS:
        return Forecast(
            None,
            f"No forecast: {plural(count, 'day')} of history in the range "
            f"(at least {FORECAST_MIN_DAYS} are needed).",
        )
    ys = used[start_index : last_index + 1].astype(np.float64)
    xs = np.arange(count, dtype=np.float64)
    slope, intercept = np.polyfit(xs, ys, 1)
    slope, level = float(slope), float(intercept + slope * (count - 1))
    fit_start = first + dt.timedelta(days=start_index)

    def made(reached: dt.date | None, method: str) -> Forecast:
        return Forecast(reached, method, slope, fit_start, fit_end, level)

    trend = (
        f"A least-squares line through the {measure} on the last {count} days "
        f"({fit_start} to {fit_end}) {_change(slope, unit)}"
    )
    limit_text = f"the limit of {cap:,.0f}"
    current = int(used[last_index])
    if current >= cap:
        # A day with nothing used is below any limit, also one before the license existed
        # (its limit then is 0): "since" is the first day of the run that reaches today.
        span = used[: last_index + 1]
        at_or_over = (span >= limit[: last_index + 1]) & (span > 0)
        below = np.flatnonzero(~at_or_over)
        since = first + dt.timedelta(days=int(below[-1]) + 1 if len(below) else 0)
        state = "Over" if current > cap else "At"
        when = f"since {since}" if len(below) else f"on every day of the range, from {since}"
        return made(
            since,
            f"{state} {limit_text} ({current:,} {measure}); at or above it {when}. {trend}.",
        )
    if slope <= 1e-9:
        return made(None, f"{trend}: flat or falling, so {limit_text} is not reached.")
    days_ahead = math.ceil(round((cap - level) / slope, 6))  # 21.0000001 days is 21
    reached = fit_end + dt.timedelta(days=max(days_ahead, 1))
    if reached.year - fit_end.year > FORECAST_HORIZON_YEARS:
        return made(
            None,
            f"{trend}: {limit_text} is not reached within {FORECAST_HORIZON_YEARS} years.",
        )
    return made(reached, f"{trend}: it reaches {limit_text} on {reached}.")


def _change(slope: float, unit: str) -> str:
    """How a fitted line changes, in words a reader takes at face value: per day when it moves
    a unit or more a day, per month when less, "stays flat" when not even 0.05 a month (never
    "+0.00 a day (+0.1 a month)", never "-0.00")."""
    monthly = slope * 365.25 / 12
    if abs(monthly) < 0.05:
        return "stays flat"
    if abs(slope) >= 1:
        return f"changes by {slope:+.2f} {unit} a day"
    return f"changes by {monthly:+.1f} {unit} a month"


def product_title(vendor: str, product: str) -> str:
    """'Vendor Product', without repeating a vendor the product's name already starts with."""
    if product.lower().startswith(vendor.lower()):
        return product
    return f"{vendor} {product}"


def to_date(value: np.datetime64) -> dt.date:
    """A ``datetime64`` day as a date."""
    return _EPOCH + dt.timedelta(days=int(value.astype("datetime64[D]").astype(np.int64)))
