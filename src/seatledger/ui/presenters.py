"""Presenters: how each table shows the rows its query returns.

One presenter per query (see :mod:`seatledger.services.core.tables`), implementing the
:class:`~seatledger.ui.table_model.Presenter` protocol.  Numbers are right-aligned with thousands
separators, dates are ISO 8601, and the colours carry meaning: red is over the purchased limit,
amber ends soon, grey is no longer current (expired licenses, released seats, people who left).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QBrush, QColor

from seatledger.services.catalog.queries import EntitlementColumn, EntitlementRow
from seatledger.services.core.tables import Row
from seatledger.services.directory.queries import (
    DeviceColumn,
    DeviceQuery,
    PeopleColumn,
    PeopleQuery,
)
from seatledger.services.ledger.activity import ActivityColumn
from seatledger.services.seats.queries import SeatColumn, SeatQuery
from seatledger.text import plural
from seatledger.ui.table_model import LEFT, RIGHT, PlainPresenter, plain
from seatledger.ui.theme import colors

Today = Callable[[], dt.date]

NEARLY_FULL = 0.9  # utilization from which a bar turns amber


def over_limit_color() -> QColor:
    """Red: over the purchased limit (or expired), readable on the palette in use."""
    return colors().qcolor("bad")


def expiring_color() -> QColor:
    """Amber: ending soon, close to the limit."""
    return colors().qcolor("warn")


def inactive_color() -> QColor:
    """Grey: no longer current (expired, released, left)."""
    return colors().qcolor("neutral")


def _brush(name: str) -> QBrush:
    return QBrush(colors().qcolor(name))


def _count(value: int) -> str:
    """An integer with thousands separators and a true minus sign."""
    return f"{value:,}".replace("-", "−")


# -------------------------------------------------------------------------------- licenses


class EntitlementPresenter:
    """Rows of :class:`~seatledger.services.catalog.queries.EntitlementQuery` (1-tuples of rows).

    Columns: :class:`~seatledger.services.catalog.queries.EntitlementColumn`.
    """

    _NUMERIC = frozenset(
        {
            EntitlementColumn.QUANTITY,
            EntitlementColumn.USED,
            EntitlementColumn.FREE,
            EntitlementColumn.UTILIZATION,
        }
    )

    def __init__(self, today: Today = dt.date.today) -> None:
        self._today = today

    @staticmethod
    def entitlement(row: Row) -> EntitlementRow:
        """The license a row shows."""
        value = row[0]
        assert isinstance(value, EntitlementRow)
        return value

    def display(self, row: Row, column: int) -> str:
        """Cell text."""
        lic = self.entitlement(row)
        if column == EntitlementColumn.VENDOR:
            return lic.vendor
        if column == EntitlementColumn.PRODUCT:
            return f"{lic.product} — {lic.name}" if lic.name else lic.product
        if column == EntitlementColumn.METRIC:
            return lic.metric.label
        if column == EntitlementColumn.QUANTITY:
            return "Unlimited" if lic.metric.unlimited else _count(lic.quantity)
        if column == EntitlementColumn.USED:
            return _count(lic.used)
        if column == EntitlementColumn.FREE:
            return "—" if lic.metric.unlimited else _count(lic.free)
        if column == EntitlementColumn.UTILIZATION:
            share = lic.utilization
            return "—" if share is None else f"{share * 100:.0f} %"
        if column == EntitlementColumn.TERM_END:
            return lic.term_end.isoformat() if lic.term_end else ""
        return ""

    def sort_value(self, row: Row, column: int) -> Any:
        """The native value of a cell."""
        lic = self.entitlement(row)
        values: dict[int, Any] = {
            EntitlementColumn.VENDOR: lic.vendor,
            EntitlementColumn.PRODUCT: lic.product,
            EntitlementColumn.METRIC: lic.metric.value,
            EntitlementColumn.QUANTITY: lic.quantity,
            EntitlementColumn.USED: lic.used,
            EntitlementColumn.FREE: lic.free,
            EntitlementColumn.UTILIZATION: lic.utilization,
            EntitlementColumn.TERM_END: lic.term_end,
        }
        return values.get(column)

    def alignment(self, column: int) -> int:
        """Numbers right, text left."""
        return RIGHT if column in self._NUMERIC else LEFT

    def foreground(self, row: Row, column: int) -> QBrush | None:
        """Red over the limit, grey once expired, amber when the term ends soon."""
        lic = self.entitlement(row)
        if lic.over_limit:
            return _brush("bad")
        today = self._today()
        if lic.expired(today):
            return _brush("neutral")
        if lic.expiring(today):
            return _brush("warn")
        return None

    def background(self, row: Row, column: int) -> QBrush | None:
        """No background (the utilization bar is drawn by the view's delegate)."""
        return None

    def tooltip(self, row: Row, column: int) -> str | None:
        """Why a row is coloured, or the full text of a cell that may be cut."""
        lic = self.entitlement(row)
        notes: list[str] = []
        if lic.over_limit:
            notes.append(f"{_count(lic.used - lic.quantity)} over the purchased limit")
        today = self._today()
        if lic.term_end is not None:
            if lic.expired(today):
                expired = f"Expired on {lic.term_end.isoformat()}"
                if lic.used:
                    expired += f" with {_count(lic.used)} still in use: renew or release"
                notes.append(expired)
            elif lic.expiring(today):
                left = (lic.term_end - today).days
                notes.append(f"Ends in {plural(left, 'day')}, on {lic.term_end.isoformat()}")
        if notes:
            return "\n".join(notes)
        if column == EntitlementColumn.PRODUCT:
            return lic.title
        return None


# ---------------------------------------------------------------------------------- people


def _from(row: Row, at: int) -> str | None:
    """The import line (or ledger entry) that last set a person's or device's fields, as a
    tooltip: "Source: hr.csv (SHA-256 …), line 12"."""
    source = row[at] if len(row) > at else ""
    return f"Source: {source}" if source else None


class PeoplePresenter(PlainPresenter):
    """Rows of PeopleQuery: the :class:`PeopleColumn` columns, then the date left."""

    def __init__(self) -> None:
        super().__init__(numeric_columns=(PeopleColumn.SEATS,))

    def _left_on(self, row: Row) -> str:
        date_left = row[PeopleQuery.DATE_LEFT]
        return date_left.isoformat() if isinstance(date_left, dt.date) else "an unknown date"

    def display(self, row: Row, column: int) -> str:
        """Cell text; the status of someone who left says when."""
        if column == PeopleColumn.STATUS:
            if row[PeopleColumn.STATUS] == "left":
                return f"Left {self._left_on(row)}"
            return "Active"
        return plain(row[column])

    def foreground(self, row: Row, column: int) -> QBrush | None:
        """Grey for people who left; red for the seats they still hold (an audit finding)."""
        if row[PeopleColumn.STATUS] != "left":
            return None
        if column == PeopleColumn.SEATS and (row[PeopleColumn.SEATS] or 0) > 0:
            return _brush("bad")
        return _brush("neutral")

    def tooltip(self, row: Row, column: int) -> str | None:
        """Where the person's fields came from (on the name); when someone left, and whether
        they still hold seats."""
        if column == PeopleColumn.NAME:
            return _from(row, PeopleQuery.SOURCE)
        if row[PeopleColumn.STATUS] != "left":
            return None
        text = f"Left on {self._left_on(row)}"
        seats = int(row[PeopleColumn.SEATS] or 0)
        if seats:
            text += f"; still holds {plural(seats, 'seat')}: release them"
        return text


# --------------------------------------------------------------------------------- devices


class DevicePresenter(PlainPresenter):
    """Rows of DeviceQuery: the :class:`DeviceColumn` columns."""

    def __init__(self) -> None:
        super().__init__(
            numeric_columns=(DeviceColumn.PROCESSORS, DeviceColumn.CORES, DeviceColumn.SEATS)
        )

    def display(self, row: Row, column: int) -> str:
        """Cell text; a processor or core count no file or person gave reads "unknown"."""
        if column in (DeviceColumn.PROCESSORS, DeviceColumn.CORES) and row[column] is None:
            return "unknown"
        return plain(row[column])

    def foreground(self, row: Row, column: int) -> QBrush | None:
        """Grey for an unknown count."""
        if column in (DeviceColumn.PROCESSORS, DeviceColumn.CORES) and row[column] is None:
            return _brush("neutral")
        return None

    def tooltip(self, row: Row, column: int) -> str | None:
        """Where the device's fields came from (on the host name); why an unknown count
        matters."""
        if column == DeviceColumn.HOSTNAME:
            return _from(row, DeviceQuery.SOURCE)
        if column in (DeviceColumn.PROCESSORS, DeviceColumn.CORES) and row[column] is None:
            return (
                "No import or person has given this count. Per-core and per-processor licenses "
                "cannot be counted on the device until it is recorded (Edit device)."
            )
        return None


# ----------------------------------------------------------------------------------- seats


class SeatPresenter(PlainPresenter):
    """Rows of SeatQuery: the :class:`SeatColumn` columns, then the over-commit reason.

    Times show in UTC as ``YYYY-MM-DD HH:MM``.
    """

    def __init__(self) -> None:
        super().__init__(numeric_columns=(SeatColumn.UNITS,))

    def foreground(self, row: Row, column: int) -> QBrush | None:
        """Grey once released; red for an open over-commit exception."""
        if row[SeatColumn.RELEASED] is not None:
            return _brush("neutral")
        if row[SeatQuery.OVER_COMMIT_REASON]:
            return _brush("bad")
        return None

    def tooltip(self, row: Row, column: int) -> str | None:
        """The over-commit reason, the release time, or a long note."""
        parts: list[str] = []
        if row[SeatQuery.OVER_COMMIT_REASON]:
            parts.append(f"Over-commit exception: {row[SeatQuery.OVER_COMMIT_REASON]}")
        if row[SeatColumn.RELEASED] is not None:
            parts.append(f"Released {plain(row[SeatColumn.RELEASED])} UTC")
        if column == SeatColumn.NOTE and row[SeatColumn.NOTE]:
            parts.append(str(row[SeatColumn.NOTE]))
        return "\n".join(parts) or None


# -------------------------------------------------------------------------------- activity


class ActivityPresenter(PlainPresenter):
    """Rows of ActivityQuery: the :class:`ActivityColumn` columns."""

    def __init__(self) -> None:
        super().__init__(numeric_columns=(ActivityColumn.SEQ,))

    def tooltip(self, row: Row, column: int) -> str | None:
        """The full text of the long columns."""
        if column in (ActivityColumn.REASON, ActivityColumn.DETAILS) and row[column]:
            return str(row[column])
        return None
