"""The people and devices lists, with the seats each holds, filtered and sorted in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from seatledger.services.core.context import Context
from seatledger.services.core.tables import Row, SearchedQuery, TableColumn, contains, titles
from seatledger.services.position.sources import account_sources, record_sources
from seatledger.store.models import Device, Person, PersonTeam, SeatAssignment, Team

# A person's current period (team, manager, cost centre) and their manager, for the lists.
_NOW = PersonTeam.__table__.alias("now")
_MANAGER = Person.__table__.alias("manager")
_ON_NOW = and_(_NOW.c.person_id == Person.id, _NOW.c.valid_to.is_(None))


def _with_sources(ctx: Context, kind: str, rows: dict[int, Row]) -> dict[int, Row]:
    """``rows`` each with, last, where the person's or device's own fields came from (the
    rows of a visible block: a few statements)."""
    with ctx.read() as session:
        sources = record_sources(session, kind, list(rows))
    return {key: (*row, sources.get(key, "")) for key, row in rows.items()}


def _holds(holder: ColumnElement[bool], entitlement_id: int) -> ColumnElement[bool]:
    """The holder has an open seat of the entitlement (for pickers that hide existing holders)."""
    return (
        select(SeatAssignment.id)
        .where(
            holder,
            SeatAssignment.entitlement_id == entitlement_id,
            SeatAssignment.ended_at.is_(None),
        )
        .exists()
    )


def _seats_held(holder: ColumnElement[bool]) -> Any:
    """How many open seats the holder holds (a scalar subquery)."""
    return select(func.count()).where(holder, SeatAssignment.ended_at.is_(None)).scalar_subquery()


class PeopleColumn(TableColumn):
    """The people list's columns."""

    EMPLOYEE_ID = 0, "Employee ID"
    NAME = 1, "Name"
    EMAIL = 2, "Email"
    TEAM = 3, "Team"
    MANAGER = 4, "Manager"
    COST_CENTRE = 5, "Cost centre"
    STATUS = 6, "Status"
    SEATS = 7, "Seats"


class DeviceColumn(TableColumn):
    """The devices list's columns."""

    HOSTNAME = 0, "Host name"
    SERIAL = 1, "Serial"
    OWNER = 2, "Owner"
    PROCESSORS = 3, "Processors"
    CORES = 4, "Cores"
    PROCESSOR_MODEL = 5, "Processor"
    OS = 6, "OS"
    SEATS = 7, "Seats"


@dataclass(eq=False)
class PeopleQuery(SearchedQuery):
    """People with their team, manager and cost centre now, and the number of seats they hold."""

    columns = titles(PeopleColumn)
    sortable = (True,) * len(PeopleColumn)
    # Each row carries the date the person left after the shown columns (for the status text),
    # the directory's account state (True disabled, False enabled, None not said), where the
    # person's own fields came from (import line or ledger entry, for a tooltip), then the
    # directory import line that said the account state ("" where none did).
    DATE_LEFT = len(PeopleColumn)
    ACCOUNT_DISABLED = DATE_LEFT + 1
    SOURCE = ACCOUNT_DISABLED + 1
    ACCOUNT_SOURCE = SOURCE + 1
    # ``status`` may also be this: people HR employs whose directory account is disabled.
    DISABLED = "account_disabled"

    sort_column: int = PeopleColumn.NAME
    _: KW_ONLY
    team_id: int | None = None
    status: str | None = None
    without_seat_of: int | None = None

    @staticmethod
    def _seats() -> Any:
        return _seats_held(SeatAssignment.person_id == Person.id)

    def keys(self) -> Sequence[int]:
        """Matching person ids in display order."""
        sort_keys: dict[int, Any] = {
            PeopleColumn.EMPLOYEE_ID: Person.employee_id,
            PeopleColumn.NAME: Person.name,
            PeopleColumn.EMAIL: Person.email,
            PeopleColumn.TEAM: Team.name,
            # No manager first when ascending, on both engines (they order NULLs differently).
            PeopleColumn.MANAGER: func.coalesce(_MANAGER.c.name, ""),
            PeopleColumn.COST_CENTRE: func.coalesce(_NOW.c.cost_centre, ""),
            PeopleColumn.STATUS: Person.status,
            PeopleColumn.SEATS: self._seats(),
        }
        primary = sort_keys[self.sort_column]
        query = select(Person.id)
        if self.sort_column == PeopleColumn.TEAM:
            query = query.outerjoin(Team, Person.team_id == Team.id)
        if self.sort_column in {PeopleColumn.MANAGER, PeopleColumn.COST_CENTRE}:
            query = query.outerjoin(_NOW, _ON_NOW)
        if self.sort_column == PeopleColumn.MANAGER:
            query = query.outerjoin(_MANAGER, _MANAGER.c.id == _NOW.c.manager_id)
        conditions: list[ColumnElement[bool]] = []
        if self.text:
            conditions.append(
                or_(
                    contains(Person.name, self.text),
                    contains(Person.employee_id, self.text),
                    contains(Person.email, self.text),
                )
            )
        if self.team_id is not None:
            conditions.append(Person.team_id == self.team_id)
        if self.status == self.DISABLED:
            conditions.append(and_(Person.status == "active", Person.account_disabled.is_(True)))
        elif self.status is not None:
            conditions.append(Person.status == self.status)
        if self.without_seat_of is not None:
            conditions.append(~_holds(SeatAssignment.person_id == Person.id, self.without_seat_of))
        if conditions:
            query = query.where(and_(*conditions))
        return self._ordered_keys(query, primary, Person.id)

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: employee id, name, email, team, manager, cost centre, status, seats held, date
        left, account disabled, the source of the person's fields and of their account state."""
        query = (
            select(
                Person.id,
                Person.employee_id,
                Person.name,
                Person.email,
                Team.name,
                _MANAGER.c.name,
                func.coalesce(_NOW.c.cost_centre, ""),
                Person.status,
                self._seats(),
                Person.date_left,
                Person.account_disabled,
            )
            .outerjoin(Team, Person.team_id == Team.id)
            .outerjoin(_NOW, _ON_NOW)
            .outerjoin(_MANAGER, _MANAGER.c.id == _NOW.c.manager_id)
            .where(Person.id.in_(list(keys)))
        )
        rows = _with_sources(self._ctx, "person", self._rows_by_key(query))
        stated = [key for key, row in rows.items() if row[self.ACCOUNT_DISABLED] is not None]
        with self._ctx.read() as session:
            said = account_sources(session, stated) if stated else {}
        return {key: (*row, said.get(key, "")) for key, row in rows.items()}


@dataclass(eq=False)
class DeviceQuery(SearchedQuery):
    """Devices with their owner and the number of seats they hold."""

    columns = titles(DeviceColumn)
    sortable = (True,) * len(DeviceColumn)

    sort_column: int = DeviceColumn.HOSTNAME
    _: KW_ONLY
    without_seat_of: int | None = None
    # Each row carries, after the shown columns, where the device's own fields came from.
    SOURCE = len(DeviceColumn)

    @staticmethod
    def _seats() -> Any:
        return _seats_held(SeatAssignment.device_id == Device.id)

    def keys(self) -> Sequence[int]:
        """Matching device ids in display order."""
        sort_keys: dict[int, Any] = {
            DeviceColumn.HOSTNAME: Device.hostname,
            DeviceColumn.SERIAL: Device.serial,
            DeviceColumn.OWNER: Person.name,
            # Unknown first when ascending, on both engines (they order NULLs differently).
            DeviceColumn.PROCESSORS: func.coalesce(Device.processors, 0),
            DeviceColumn.CORES: func.coalesce(Device.cores, 0),
            DeviceColumn.PROCESSOR_MODEL: func.coalesce(Device.processor_model, ""),
            DeviceColumn.OS: Device.os,
            DeviceColumn.SEATS: self._seats(),
        }
        primary = sort_keys[self.sort_column]
        query = select(Device.id)
        if self.sort_column == DeviceColumn.OWNER:
            query = query.outerjoin(Person, Device.owner_id == Person.id)
        if self.text:
            query = query.where(
                or_(contains(Device.hostname, self.text), contains(Device.serial, self.text))
            )
        if self.without_seat_of is not None:
            query = query.where(
                ~_holds(SeatAssignment.device_id == Device.id, self.without_seat_of)
            )
        return self._ordered_keys(query, primary, Device.id)

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: host name, serial, owner, processors, cores, processor model, OS, seats
        held."""
        query = (
            select(
                Device.id,
                Device.hostname,
                Device.serial,
                Person.name,
                Device.processors,
                Device.cores,
                Device.processor_model,
                Device.os,
                self._seats(),
            )
            .outerjoin(Person, Device.owner_id == Person.id)
            .where(Device.id.in_(list(keys)))
        )
        return _with_sources(self._ctx, "device", self._rows_by_key(query))
