"""The seats list of one entitlement: its open assignments, or its whole history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, literal, select

from seatledger.services.core.context import Context
from seatledger.services.core.tables import Row, TableColumn, titles
from seatledger.store.models import Device, Operator, Person, SeatAssignment


class SeatColumn(TableColumn):
    """The seats list's columns."""

    HOLDER = 0, "Holder"
    KIND = 1, "Kind"
    UNITS = 2, "Units"
    ASSIGNED = 3, "Assigned"
    ASSIGNED_BY = 4, "Assigned by"
    RELEASED = 5, "Released"
    NOTE = 6, "Note"


_SORT_KEYS: dict[int, Any] = {
    SeatColumn.UNITS: SeatAssignment.units,
    SeatColumn.ASSIGNED: SeatAssignment.started_at,
    SeatColumn.RELEASED: SeatAssignment.ended_at,
}


class SeatQuery:
    """The assignments of one entitlement (open ones, or the whole history)."""

    columns: tuple[str, ...] = titles(SeatColumn)
    sortable: tuple[bool, ...] = tuple(column in _SORT_KEYS for column in SeatColumn)
    # Each row carries the over-commit reason after the shown columns (for colour and tooltip).
    OVER_COMMIT_REASON = len(SeatColumn)

    def __init__(
        self,
        ctx: Context,
        entitlement_id: int,
        *,
        include_released: bool = False,
        sort_column: int = SeatColumn.ASSIGNED,
        descending: bool = True,
    ) -> None:
        self._ctx = ctx
        self.entitlement_id = entitlement_id
        self.include_released = include_released
        self.sort_column = sort_column if self.sortable[sort_column] else SeatColumn.ASSIGNED
        self.descending = descending

    def keys(self) -> Sequence[int]:
        """Assignment ids in display order."""
        primary = _SORT_KEYS[self.sort_column]
        query = select(SeatAssignment.id).where(
            SeatAssignment.entitlement_id == self.entitlement_id
        )
        if not self.include_released:
            query = query.where(SeatAssignment.ended_at.is_(None))
        order = primary.desc() if self.descending else primary.asc()
        tie = SeatAssignment.id.desc() if self.descending else SeatAssignment.id.asc()
        with self._ctx.read() as session:
            return list(session.connection().execute(query.order_by(order, tie)).scalars())

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: holder, kind, units, started, assigned by, ended, note, over-commit reason."""
        assigner = Operator.__table__.alias("assigner")
        query = (
            select(
                SeatAssignment.id,
                func.coalesce(Person.name, Device.hostname),
                case(
                    (SeatAssignment.person_id.is_not(None), literal("Person")),
                    else_=literal("Device"),
                ),
                SeatAssignment.units,
                SeatAssignment.started_at,
                assigner.c.name,
                SeatAssignment.ended_at,
                SeatAssignment.note,
                SeatAssignment.over_commit_reason,
            )
            .outerjoin(Person, SeatAssignment.person_id == Person.id)
            .outerjoin(Device, SeatAssignment.device_id == Device.id)
            .join(assigner, SeatAssignment.assigned_by == assigner.c.id)
            .where(SeatAssignment.id.in_(list(keys)))
        )
        with self._ctx.read() as session:
            return {r[0]: tuple(r[1:]) for r in session.connection().execute(query)}
