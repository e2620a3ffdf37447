"""Alert rules and their settings: what counts as misuse or a limit reached, without storage.

The rules themselves are evaluated by :mod:`seatledger.services.alerts` after every change; this
module holds what can be decided from values alone — which rule, how severe, whether a moment is
outside working hours, which level a license is at — and the settings that tune them, kept as
strings in the ``setting`` table under ``alerts.*``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seatledger.errors import ValidationError

PREFIX = "alerts."


class Severity(StrEnum):
    """How urgent an alert is."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        """As shown."""
        return self.value.capitalize()


class Rule(StrEnum):
    """An alert rule."""

    LIMIT = "limit"
    WARNING = "warning"
    OVER_COMMIT = "over_commit"
    UNLICENSED = "unlicensed"
    BURST = "burst"
    AFTER_HOURS = "after_hours"
    DEPARTED = "departed"
    SHARED_CREDENTIALS = "shared_credentials"
    USED_AFTER_LEAVING = "used_after_leaving"
    REVIEW_WITHOUT_REASONS = "review_without_reasons"
    UNSEATED_INSTALLS = "unseated_installs"

    @property
    def label(self) -> str:
        """The rule as shown."""
        return _LABELS[self][0]

    @property
    def explanation(self) -> str:
        """What the rule watches, for tooltips and the settings dialog."""
        return _LABELS[self][1]

    @property
    def severity(self) -> Severity:
        """The severity of the alerts it raises."""
        return _SEVERITY[self]


_LABELS = {
    Rule.LIMIT: ("Over the limit", "A license starts using more seats than were bought."),
    Rule.WARNING: (
        "At the warning level",
        "A license reaches the warning level (a share of its seats) without exceeding it.",
    ),
    Rule.OVER_COMMIT: (
        "Over-commit",
        "An administrator assigned seats beyond the purchased limit (an exception).",
    ),
    Rule.UNLICENSED: (
        "Unlicensed installs",
        "An inventory import finds new installs of a product on devices without its seat.",
    ),
    Rule.BURST: (
        "Burst of seat changes",
        "One operator assigns or releases seats many times within a few minutes.",
    ),
    Rule.AFTER_HOURS: (
        "Change outside working hours",
        "An operator changes data outside the working hours and days.",
    ),
    Rule.DEPARTED: (
        "Seats held by people who left",
        "Someone marked as left (or missing from HR) still holds seats.",
    ),
    Rule.SHARED_CREDENTIALS: (
        "Named-user seat used from two hosts at once",
        "A usage import shows one person using a product they hold a named-user seat of from "
        "two hosts at the same time (shared credentials).",
    ),
    Rule.USED_AFTER_LEAVING: (
        "Use after leaving",
        "A usage import shows someone using a product after the day they left.",
    ),
    Rule.REVIEW_WITHOUT_REASONS: (
        "Access review kept without reasons",
        "A reviewer kept every seat of a team in an access review without giving any reason.",
    ),
    Rule.UNSEATED_INSTALLS: (
        "Installed for long without a seat",
        "An inventory import shows a product installed for longer than the set number of days "
        "on a person's device, while neither the person nor the device holds a seat of it.",
    ),
}
OPT_IN = frozenset({Rule.UNSEATED_INSTALLS})
"""Rules off until an administrator turns them on (they read every install an import lists)."""
_SEVERITY = {
    Rule.LIMIT: Severity.HIGH,
    Rule.WARNING: Severity.MEDIUM,
    Rule.OVER_COMMIT: Severity.HIGH,
    Rule.UNLICENSED: Severity.HIGH,
    Rule.BURST: Severity.MEDIUM,
    Rule.AFTER_HOURS: Severity.LOW,
    Rule.DEPARTED: Severity.MEDIUM,
    Rule.SHARED_CREDENTIALS: Severity.HIGH,
    Rule.USED_AFTER_LEAVING: Severity.HIGH,
    Rule.REVIEW_WITHOUT_REASONS: Severity.MEDIUM,
    Rule.UNSEATED_INSTALLS: Severity.MEDIUM,
}
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hhmm(text: str, what: str) -> dt.time:
    try:
        hours, minutes = text.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValidationError(f"{what} must be a time like 07:30, not '{text}'.", what) from exc


@dataclass(frozen=True)
class AlertSettings:
    """The rules' switches and thresholds."""

    enabled: frozenset[Rule] = field(default_factory=lambda: frozenset(Rule) - OPT_IN)
    warning_percent: int = 90
    burst_count: int = 20
    burst_minutes: int = 10
    work_start: dt.time = dt.time(7, 0)
    work_end: dt.time = dt.time(19, 0)
    work_days: frozenset[int] = frozenset(range(5))  # Monday = 0
    timezone: str = ""  # empty: the computer's own
    unseated_days: int = 30  # installed longer than this without a seat: an alert

    def __post_init__(self) -> None:
        if not 1 <= self.warning_percent <= 100:
            raise ValidationError("The warning level is a percentage from 1 to 100.", "Warning")
        if self.burst_count < 2:
            raise ValidationError("A burst needs at least 2 changes.", "Burst")
        if self.burst_minutes < 1:
            raise ValidationError("A burst window is at least 1 minute.", "Burst")
        if not 1 <= self.unseated_days <= 3650:
            raise ValidationError(
                "Days installed without a seat are from 1 to 3,650.", "Days without a seat"
            )
        if self.work_end <= self.work_start:
            raise ValidationError("Working hours must end after they start.", "Working hours")
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValidationError(
                    f"'{self.timezone}' is not a time zone (e.g. Europe/Berlin).", "Time zone"
                ) from exc

    def zone(self) -> dt.tzinfo | None:
        """The configured time zone, or None for the computer's own."""
        return ZoneInfo(self.timezone) if self.timezone else None

    def outside_hours(self, moment: dt.datetime) -> bool:
        """Whether a UTC moment falls outside the working hours and days, where they are kept."""
        local = moment.astimezone(self.zone())
        if local.weekday() not in self.work_days:
            return True
        return not self.work_start <= local.time().replace(tzinfo=None) < self.work_end

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The calendar date of a UTC moment where working hours are kept."""
        return moment.astimezone(self.zone()).date()

    @property
    def work_days_text(self) -> str:
        """Working days as 'Mon,Tue,…'."""
        return ",".join(_DAY_NAMES[d] for d in sorted(self.work_days))

    def to_strings(self) -> dict[str, str]:
        """The settings as ``setting`` rows (key without the prefix -> value)."""
        return {
            "enabled": ",".join(r.value for r in Rule if r in self.enabled),
            "warning_percent": str(self.warning_percent),
            "burst_count": str(self.burst_count),
            "burst_minutes": str(self.burst_minutes),
            "work_hours": f"{self.work_start:%H:%M}-{self.work_end:%H:%M}",
            "work_days": self.work_days_text,
            "timezone": self.timezone,
            "unseated_days": str(self.unseated_days),
        }

    @classmethod
    def from_strings(cls, values: dict[str, str]) -> AlertSettings:
        """Settings from ``setting`` rows; missing or unreadable values keep their defaults."""
        settings = cls()
        try:
            return cls._parse(settings, values)
        except (ValueError, ValidationError):
            return settings

    @classmethod
    def _parse(cls, settings: AlertSettings, values: dict[str, str]) -> AlertSettings:
        changes: dict[str, object] = {}
        if "enabled" in values:
            known = {r.value for r in Rule}
            changes["enabled"] = frozenset(
                Rule(v) for v in values["enabled"].split(",") if v.strip() in known
            )
        for name in ("warning_percent", "burst_count", "burst_minutes", "unseated_days"):
            if values.get(name, "").strip().isdigit():
                changes[name] = int(values[name])
        if "work_hours" in values and "-" in values["work_hours"]:
            start, end = values["work_hours"].split("-", 1)
            changes["work_start"] = _hhmm(start, "Working hours")
            changes["work_end"] = _hhmm(end, "Working hours")
        if "work_days" in values:
            changes["work_days"] = parse_days(values["work_days"])
        if "timezone" in values:
            changes["timezone"] = values["timezone"].strip()
        return replace(settings, **changes)  # type: ignore[arg-type]


def parse_days(text: str) -> frozenset[int]:
    """'Mon,Tue,Fri' (any case) as weekday numbers; Monday = 0."""
    days: set[int] = set()
    for part in text.split(","):
        name = part.strip()[:3].capitalize()
        if not name:
            continue
        if name not in _DAY_NAMES:
            raise ValidationError(f"'{part.strip()}' is not a day (Mon … Sun).", "Working days")
        days.add(_DAY_NAMES.index(name))
    return frozenset(days)


class Level(StrEnum):
    """Where a license stands against its limit."""

    UNDER = "under"
    WARNING = "warning"
    OVER = "over"


def level(used: int, quantity: int, unlimited: bool, warning_percent: int) -> Level:
    """The level of a license using ``used`` of ``quantity`` seats."""
    if unlimited:
        return Level.UNDER
    if used > quantity:
        return Level.OVER
    if quantity > 0 and used * 100 >= quantity * warning_percent:
        return Level.WARNING
    return Level.UNDER
