"""The seats list of one entitlement: its open assignments, or its whole history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, literal, select

from seatledger.services.core.context import Context
from seatledger.services.core.tables import Row
from seatledger.store.models import Device, Operator, Person, SeatAssignment


class SeatQuery:
    """The assignments of one entitlement (open ones, or the whole history)."""

    columns: tuple[str, ...] = (
        "Holder",
        "Kind",
        "Units",
        "Assigned",
        "Assigned by",
        "Released",
        "Note",
    )
    sortable: tuple[bool, ...] = (False, False, True, True, False, True, False)

    def __init__(
        self,
        ctx: Context,
        entitlement_id: int,
        *,
        include_released: bool = False,
        sort_column: int = 3,
        descending: bool = True,
    ) -> None:
        self._ctx = ctx
        self.entitlement_id = entitlement_id
        self.include_released = include_released
        self.sort_column = sort_column if self.sortable[sort_column] else 3
        self.descending = descending

    def keys(self) -> Sequence[int]:
        """Assignment ids in display order."""
        sort_keys: dict[int, Any] = {
            2: SeatAssignment.units,
            3: SeatAssignment.started_at,
            5: SeatAssignment.ended_at,
        }
        primary = sort_keys[self.sort_column]
        query = select(SeatAssignment.id).where(
            SeatAssignment.entitlement_id == self.entitlement_id
        )
        if not self.include_released:
            query = query.where(SeatAssignment.ended_at.is_(None))
        order = primary.desc() if self.descending else primary.asc()
        tie = SeatAssignment.id.desc() if self.descending else SeatAssignment.id.asc()
        with self._ctx.read() as session:
            return list(session.scalars(query.order_by(order, tie)))

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
            return {r[0]: tuple(r[1:]) for r in session.execute(query)}
