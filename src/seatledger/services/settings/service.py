"""Data settings: the license-server snapshot interval and the age at which an import is stale.

Both are the organization's (stored in ``setting``, shared by everyone using the database) and
changing them is an administrator's action recorded in the ledger with what changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from seatledger.domain import validation
from seatledger.domain.roles import Permission
from seatledger.services.core.context import Context
from seatledger.services.usage.sessions import SAMPLING_KEY
from seatledger.store.models import ImportBatch, Setting

FRESHNESS_KEY = "freshness.max_age_days"
DEFAULT_SAMPLING_HOURS = 24
DEFAULT_FRESHNESS_DAYS = 30
SOURCES = ("people", "devices", "inventory", "usage", "entitlements")
"""Import kinds the position rests on, in the order they are shown."""


@dataclass(frozen=True)
class DataSettings:
    """What the organization set (defaults where it set nothing)."""

    sampling_hours: int = DEFAULT_SAMPLING_HOURS  # expected time between two lmstat snapshots
    freshness_days: int = DEFAULT_FRESHNESS_DAYS  # an import older than this is a warning


@dataclass(frozen=True)
class SourceAge:
    """The newest import of one kind, as of a date."""

    kind: str
    newest: dt.datetime | None  # None: never imported by that date
    age_days: int | None
    stale: bool


_KEYS = {"sampling_hours": SAMPLING_KEY, "freshness_days": FRESHNESS_KEY}


def load(session: Session) -> DataSettings:
    """The stored settings; a value that cannot be read falls back to its default."""
    stored = dict(
        session.execute(
            select(Setting.key, Setting.value).where(Setting.key.in_(list(_KEYS.values())))
        ).all()
    )
    values = {}
    for name, key in _KEYS.items():
        try:
            number = int(float(stored[key]))
        except (KeyError, ValueError):
            continue
        if number > 0:
            values[name] = number
    return DataSettings(**values)


def source_ages(session: Session, day: dt.date, max_age_days: int) -> list[SourceAge]:
    """Per import kind, the newest import made by the end of ``day`` and whether it is stale."""
    end = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
    ages = []
    for kind in SOURCES:
        newest = session.scalar(
            select(ImportBatch.imported_at)
            .where(ImportBatch.kind == kind, ImportBatch.imported_at <= end)
            .order_by(ImportBatch.imported_at.desc())
            .limit(1)
        )
        if newest is None:
            ages.append(SourceAge(kind, None, None, False))
            continue
        moment = newest if newest.tzinfo is not None else newest.replace(tzinfo=dt.UTC)
        age = (day - moment.date()).days
        ages.append(SourceAge(kind, moment, age, age > max_age_days))
    return ages


class SettingsService:
    """Reads and changes the data settings."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def data(self) -> DataSettings:
        """The settings in force."""
        with self._ctx.read() as session:
            return load(session)

    def sources(self, day: dt.date) -> list[SourceAge]:
        """Per source kind, the newest import by ``day`` and whether it is older than allowed."""
        with self._ctx.read() as session:
            return source_ages(session, day, load(session).freshness_days)

    def save_data(self, new: DataSettings, reason: str = "") -> None:
        """Store the settings (administrators); one ledger entry with what changed.

        Raises:
            ValidationError: a value out of range (snapshot interval 1 to 720 hours, freshness
                1 to 3,650 days).
            PermissionDenied: the operator is not an administrator.
        """
        checked = DataSettings(
            sampling_hours=validation.count(
                new.sampling_hours, "Snapshot interval (hours)", minimum=1, maximum=720
            ),
            freshness_days=validation.count(
                new.freshness_days, "Import age warning (days)", minimum=1, maximum=3650
            ),
        )
        with self._ctx.change(
            Permission.MANAGE_SETTINGS, "settings.data", "setting", "change data settings", reason
        ) as change:
            session = change.session
            old = asdict(load(session))
            now = asdict(checked)
            stored = set(
                session.scalars(select(Setting.key).where(Setting.key.in_(list(_KEYS.values()))))
            )
            for name, key in _KEYS.items():
                value = str(now[name])
                if key in stored:
                    session.execute(update(Setting).where(Setting.key == key).values(value=value))
                else:
                    session.add(Setting(key=key, value=value))
            change.entity_id = "data"
            change.before = {k: v for k, v in old.items() if now[k] != v}
            change.after = {k: v for k, v in now.items() if old[k] != v}
