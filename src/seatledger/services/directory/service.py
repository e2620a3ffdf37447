"""Teams, people and devices: who and what seats are assigned to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seatledger.domain import validation
from seatledger.domain.roles import Permission
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services import lookups
from seatledger.services.core import snapshots
from seatledger.services.core.context import Context
from seatledger.services.directory import memberships
from seatledger.services.lookups import NamedItem
from seatledger.store.bulk import Bulk
from seatledger.store.models import Device, Operator, Person, PersonTeam, Team

EDIT = "edit people and devices"
_Entity = TypeVar("_Entity", Person, Device)


@dataclass(frozen=True, slots=True)
class PersonInput:
    """A person's fields as entered."""

    employee_id: str
    name: str
    email: str = ""
    team_id: int | None = None


@dataclass(frozen=True, slots=True)
class Organization:
    """A person's place now: team, manager (id and name) and cost centre, held since a day."""

    team_id: int | None
    manager_id: int | None
    manager: str
    cost_centre: str
    since: dt.date | None  # None: since before anything was recorded


@dataclass(frozen=True, slots=True)
class TeamManager:
    """The person most of a team's members report to, and their operator account if any."""

    person_id: int
    name: str
    reports: int  # how many of the team's members report to them
    operator_id: int | None
    operator: str  # the account's name; "" when they have none


@dataclass(frozen=True, slots=True)
class DeviceInput:
    """A device's fields as entered."""

    hostname: str
    serial: str = ""
    owner_id: int | None = None
    processors: int | None = None  # None: unknown (counted apart, never guessed)
    cores: int | None = None
    os: str = ""
    processor_model: str = ""  # as inventory names it; empty: unknown


def left(status: str, date_left: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before and after of a ``person.leave`` ledger entry (``status`` as it was)."""
    return {"status": status, "date_left": None}, {
        "status": "left",
        "date_left": date_left.isoformat(),
    }


class DirectoryService:
    """Creates and edits teams, people and devices."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def teams(self) -> list[NamedItem]:
        """All teams by name."""
        return lookups.teams(self._ctx)

    def add_team(self, name: str, cost_centre: str = "") -> int:
        """Add a team (cost centre)."""
        clean = validation.name(name, "Team name")
        with self._ctx.change(Permission.EDIT_DIRECTORY, "team.create", "team", EDIT) as change:
            if change.session.scalar(select(Team.id).where(func.lower(Team.name) == clean.lower())):
                raise ValidationError(f"A team named '{clean}' already exists.", "Team name")
            team = Team(
                name=clean,
                cost_centre=validation.optional_text(cost_centre, "Cost centre", max_len=64),
            )
            return change.stored(team, snapshots.team)

    def add_person(self, data: PersonInput) -> int:
        """Add a person; employee ids are unique."""
        with self._ctx.change(Permission.EDIT_DIRECTORY, "person.create", "person", EDIT) as change:
            person = Person(status="active")
            self._apply_person(change.session, person, data)
            person_id = change.stored(person, snapshots.person)
            # New to the directory: nothing says which team they were in before.
            memberships.record(
                Bulk(change.session.connection()),
                [memberships.Move(person_id, person.team_id, None)],
            )
            return person_id

    def update_person(self, person_id: int, data: PersonInput, reason: str = "") -> None:
        """Edit a person's details; a new team holds from today (by the session's clock)."""
        today = self._ctx.clock().astimezone(dt.UTC).date()

        def apply(session: Session, person: Person) -> None:
            team_before = person.team_id
            self._apply_person(session, person, data, own_id=person.id)
            if person.team_id != team_before:
                session.flush()
                memberships.record(
                    Bulk(session.connection()),
                    [memberships.Move(person.id, person.team_id, today)],
                )

        self._update(Person, person_id, snapshots.person, apply, reason)

    def organization(self, person_id: int) -> Organization:
        """A person's team, manager and cost centre now, and the day they began."""
        with self._ctx.read() as session:
            person = session.get(Person, person_id)
            if person is None:
                raise NotFoundError(f"Person {person_id} does not exist.")
            now = memberships.current(Bulk(session.connection()), person_id)
            if now is None:
                return Organization(person.team_id, None, "", "", None)
            team, manager_id, cost, since = now
            manager = session.get(Person, manager_id) if manager_id is not None else None
            return Organization(team, manager_id, manager.name if manager else "", cost, since)

    def team_managers(self) -> dict[int, TeamManager]:
        """Each team's manager now: the person most of its members report to (ties: the lower
        id), with the operator account that is theirs, where one is named by their e-mail, its
        local part or their employee number (case-insensitive).  Teams whose members have no
        manager recorded are left out."""
        now = PersonTeam.__table__.alias("now")
        with self._ctx.read() as session:
            counts = session.execute(
                select(now.c.team_id, now.c.manager_id, func.count())
                .join(Person, Person.id == now.c.person_id)
                .where(
                    now.c.valid_to.is_(None),
                    now.c.manager_id.is_not(None),
                    Person.status != "left",
                )
                .group_by(now.c.team_id, now.c.manager_id)
            ).all()
            best: dict[int, tuple[int, int]] = {}
            for team_id, manager_id, count in counts:
                held = best.get(team_id)
                if held is None or (count, -manager_id) > (held[1], -held[0]):
                    best[team_id] = (int(manager_id), int(count))
            if not best:
                return {}
            managers = {
                int(i): (str(n), str(e), str(m))
                for i, n, e, m in session.execute(
                    select(Person.id, Person.name, Person.employee_id, Person.email).where(
                        Person.id.in_([m for m, _ in best.values()])
                    )
                )
            }
            accounts: dict[str, tuple[int, str]] = {}
            for op_id, op_name in session.execute(
                select(Operator.id, Operator.name).where(Operator.active.is_(True))
            ):
                accounts.setdefault(str(op_name).lower(), (int(op_id), str(op_name)))
        found: dict[int, TeamManager] = {}
        for team_id, (manager_id, count) in best.items():
            name, employee_id, email = managers[manager_id]
            keys = [email.lower(), email.split("@")[0].lower(), employee_id.lower()]
            account = next((accounts[k] for k in keys if k and k in accounts), None)
            found[team_id] = TeamManager(
                manager_id,
                name,
                count,
                None if account is None else account[0],
                "" if account is None else account[1],
            )
        return found

    def set_organization(
        self,
        person_id: int,
        manager_id: int | None,
        cost_centre: str,
        effective: dt.date | None = None,
        reason: str = "",
    ) -> None:
        """Give a person a manager (None: none) and a cost centre from ``effective`` (default
        today by the session's clock), kept with the team they hold: one ledger entry
        (``person.organization``) with the values before and after and the day they hold from."""
        day = effective or self._ctx.clock().astimezone(dt.UTC).date()
        cost = validation.optional_text(cost_centre, "Cost centre", max_len=100)
        with self._ctx.change(
            Permission.EDIT_DIRECTORY, "person.organization", "person", EDIT, reason
        ) as change:
            person = change.get(Person, person_id, "Person")
            if manager_id is not None:
                if manager_id == person.id:
                    raise ValidationError(f"{person.name} cannot be their own manager.", "Manager")
                if change.session.get(Person, manager_id) is None:
                    raise NotFoundError(f"Person {manager_id} does not exist.")
            bulk = Bulk(change.session.connection())
            now = memberships.current(bulk, person.id)
            if person.team_id is None or now is None:
                raise ValidationError(
                    f"Give {person.name} a team first: a manager and a cost centre are kept with "
                    "the team they go with.",
                    "Team",
                )
            _, held_manager, held_cost, _ = now
            if (held_manager, held_cost) == (manager_id, cost):
                raise ValidationError("Nothing changed.")
            memberships.record(
                bulk,
                [memberships.Move(person.id, person.team_id, day, manager_id, cost, True)],
            )
            change.entity_id = str(person.id)
            change.before = {"manager_id": held_manager, "cost_centre": held_cost}
            change.after = {"manager_id": manager_id, "cost_centre": cost, "from": day.isoformat()}

    def mark_left(self, person_id: int, date_left: dt.date, reason: str = "") -> None:
        """Record that a person left; their seats stay until released (and show as findings)."""
        with self._ctx.change(
            Permission.EDIT_DIRECTORY, "person.leave", "person", EDIT, reason
        ) as change:
            person = change.get(Person, person_id, "Person")
            if person.status == "left":
                raise ValidationError(f"{person.name} is already marked as left.")
            change.entity_id = str(person.id)
            change.before, change.after = left(person.status, date_left)
            person.status = "left"
            person.date_left = date_left

    def add_device(self, data: DeviceInput) -> int:
        """Add a device; host names are unique."""
        with self._ctx.change(Permission.EDIT_DIRECTORY, "device.create", "device", EDIT) as change:
            device = Device()
            self._apply_device(change.session, device, data)
            return change.stored(device, snapshots.device)

    def update_device(self, device_id: int, data: DeviceInput, reason: str = "") -> None:
        """Edit a device's details."""

        def apply(session: Session, device: Device) -> None:
            self._apply_device(session, device, data, own_id=device.id)

        self._update(Device, device_id, snapshots.device, apply, reason)

    def _update(
        self,
        model: type[_Entity],
        entity_id: int,
        snapshot: Callable[[_Entity], dict[str, Any]],
        apply: Callable[[Session, _Entity], None],
        reason: str,
    ) -> None:
        """Edit one person or device: ``apply`` the entered fields, record what changed."""
        kind = model.__tablename__
        with self._ctx.change(
            Permission.EDIT_DIRECTORY, f"{kind}.update", kind, EDIT, reason
        ) as change:
            entity = change.get(model, entity_id, kind.capitalize())
            before = snapshot(entity)
            apply(change.session, entity)
            change.edited(entity.id, before, snapshot(entity))
            # Its fields are now the operator's (this entry), no longer an import line's.
            entity.source_import_id = entity.source_line = None

    @staticmethod
    def _apply_person(session: Session, person: Person, data: PersonInput, own_id: int = 0) -> None:
        employee_id = validation.name(data.employee_id, "Employee ID", max_len=64)
        clash = session.scalar(
            select(Person.id).where(Person.employee_id == employee_id, Person.id != own_id)
        )
        if clash:
            raise ValidationError(
                f"Employee ID '{employee_id}' already belongs to someone else.", "Employee ID"
            )
        if data.team_id is not None and session.get(Team, data.team_id) is None:
            raise NotFoundError(f"Team {data.team_id} does not exist.")
        person.employee_id = employee_id
        person.name = validation.name(data.name, "Name")
        person.email = validation.email(data.email)
        person.team_id = data.team_id

    @staticmethod
    def _apply_device(session: Session, device: Device, data: DeviceInput, own_id: int = 0) -> None:
        hostname = validation.name(data.hostname, "Host name", max_len=255)
        clash = session.scalar(
            select(Device.id).where(
                func.lower(Device.hostname) == hostname.lower(), Device.id != own_id
            )
        )
        if clash:
            raise ValidationError(f"A device named '{hostname}' already exists.", "Host name")
        if data.owner_id is not None and session.get(Person, data.owner_id) is None:
            raise NotFoundError(f"Person {data.owner_id} does not exist.")
        device.hostname = hostname
        device.serial = validation.optional_text(data.serial, "Serial", max_len=128)
        device.owner_id = data.owner_id
        device.processors = (
            None
            if data.processors is None
            else validation.count(data.processors, "Processors", minimum=1, maximum=1024)
        )
        device.cores = (
            None
            if data.cores is None
            else validation.count(data.cores, "Cores", minimum=1, maximum=65536)
        )
        if (
            device.cores is not None
            and device.processors is not None
            and (device.cores < device.processors)
        ):
            raise ValidationError(
                f"Cores ({device.cores}) cannot be fewer than processors ({device.processors}).",
                "Cores",
            )
        device.os = validation.optional_text(data.os, "Operating system", max_len=100)
        device.processor_model = (
            validation.optional_text(data.processor_model, "Processor model", max_len=200) or None
        )
