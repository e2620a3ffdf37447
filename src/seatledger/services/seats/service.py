"""Assigning and releasing seats: the one place the purchased-limit rule is applied.

Single assignments, bulk assignments and releases all go through :meth:`SeatService.assign` and
:meth:`SeatService.release`, so no screen, command or import can bypass the rule.  Each call is one
transaction and one ledger entry, however many seats it touches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BindParameter, Table, bindparam, distinct, func, select, update

from seatledger.domain.licensing import (
    LimitState,
    Metric,
    UnitTable,
    check_assignment,
    device_units,
    stored_factor,
    stored_table,
)
from seatledger.domain.roles import Permission, allows
from seatledger.errors import LimitExceeded, NotFoundError, PermissionDenied, ValidationError
from seatledger.services.core.context import Change, Context
from seatledger.services.core.selects import COUNTED, Counted, entitlement_titles
from seatledger.store.models import Device, Entitlement, Person, Product, SeatAssignment, Vendor
from seatledger.store.prepared import Row, Sql
from seatledger.text import article

ASSIGN = "assign or release seats"
_CHUNK = 900  # stays under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class AssignResult:
    """What an assignment call did."""

    assignment_ids: list[int]
    units: int
    over_commit: bool
    message: str


# The statements of a seat change, built once and run prepared on the change's driver connection
# (seatledger.store.prepared): one seat must be assigned within a millisecond or two, and
# building a statement, or SQLAlchemy's work around running one, costs more than running it.
_TARGET = (
    entitlement_titles(
        Entitlement.metric,
        Entitlement.quantity,
        Entitlement.seats_used,
        Entitlement.term_start,
        Entitlement.term_end,
        Entitlement.min_cores_per_processor,
        Entitlement.core_factor,
        Entitlement.unit_table,
        Entitlement.retired,
    )
    .where(Entitlement.id == bindparam("entitlement"))
    .with_for_update(of=Entitlement)
)
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_HOLDS = (
    SeatAssignment.entitlement_id == bindparam("entitlement"),
    SeatAssignment.ended_at.is_(None),
)
_PEOPLE = select(
    Person.id,
    Person.name,
    Person.status,
    select(SeatAssignment.id).where(SeatAssignment.person_id == Person.id, *_HOLDS).exists(),
)
_DEVICES = select(
    Device.id,
    Device.hostname,
    Device.processors,
    Device.cores,
    Device.processor_model,
    select(SeatAssignment.id).where(SeatAssignment.device_id == Device.id, *_HOLDS).exists(),
)
# One holder (the usual single seat) by a plain parameter: an expanding list is rendered again
# at every execution.
_HOLDERS = {
    (Person, False): _PEOPLE.where(Person.id.in_(_IDS)),
    (Person, True): _PEOPLE.where(Person.id == bindparam("id")),
    (Device, False): _DEVICES.where(Device.id.in_(_IDS)),
    (Device, True): _DEVICES.where(Device.id == bindparam("id")),
}


def _holders(
    sql: Sql, kind: type[Person] | type[Device], ids: Sequence[int], entitlement: int
) -> list[Row]:
    """The rows of ``_PEOPLE`` or ``_DEVICES`` for ``ids`` (a chunk)."""
    if len(ids) == 1:
        return sql.rows(_HOLDERS[(kind, True)], {"id": ids[0], "entitlement": entitlement})
    return sql.rows(_HOLDERS[(kind, False)], {"ids": ids, "entitlement": entitlement})


# RETURNING names each new seat's holder: SQLite cannot return rows in the order they were
# given without inserting them one statement at a time, and a holder has one open seat.
_RETURNED = ("id", "person_id", "device_id")


def insert_seats(sql: Sql, rows: list[dict[str, Any]]) -> dict[tuple[int | None, int | None], int]:
    """Insert seat rows (a statement a chunk); each new seat's id by its (person, device)."""
    table = SeatAssignment.__table__
    assert isinstance(table, Table)
    made: dict[tuple[int | None, int | None], int] = {}
    for start in range(0, len(rows), _CHUNK):
        for seat, person, device in sql.insert(table, rows[start : start + _CHUNK], _RETURNED):
            made[(person, device)] = seat
    return made


_SET_USED = (
    update(Entitlement)
    .where(Entitlement.id == bindparam("entitlement"))
    .values(seats_used=bindparam("used"))
)
# Each open seat asked for with its license as the alert rules read it (one read, not two).
_OPEN_SEATS = (
    select(SeatAssignment.id, SeatAssignment.units, *COUNTED)
    .select_from(SeatAssignment)
    .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
    .join(Product, Entitlement.product_id == Product.id)
    .join(Vendor, Product.vendor_id == Vendor.id)
    .where(SeatAssignment.id.in_(_IDS), SeatAssignment.ended_at.is_(None))
)
_END_SEATS = (
    update(SeatAssignment)
    .where(SeatAssignment.id.in_(_IDS))
    .values(ended_at=bindparam("now"), released_by=bindparam("by"))
)
_DEPARTED_SEATS = (
    select(SeatAssignment.id)
    .join(Person, SeatAssignment.person_id == Person.id)
    .where(Person.status == "left", SeatAssignment.ended_at.is_(None))
    .order_by(SeatAssignment.id)
)


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


@dataclass(frozen=True, slots=True)
class _Target:
    """The entitlement being drawn from, read and locked in one statement."""

    id: int
    label: str
    metric: str
    quantity: int
    seats_used: int
    term_start: dt.date | None
    term_end: dt.date | None
    min_cores_per_processor: int
    core_factor: Decimal
    unit_table: UnitTable | None
    vendor: str
    product: str
    name: str

    @classmethod
    def load(cls, sql: Sql, entitlement_id: int) -> _Target:
        row = sql.first(_TARGET, {"entitlement": entitlement_id})
        if row is None or row[-1]:  # retired
            raise NotFoundError(f"License {entitlement_id} does not exist or is retired.")
        (eid, vendor, product, name, metric, quantity, seats_used, term_start, term_end) = row[:9]
        min_cores, factor, table = row[9:12]
        title = f"{vendor} {product}"
        return cls(
            id=eid,
            label=f"{title} ({name})" if name else title,
            metric=metric,
            quantity=quantity,
            seats_used=seats_used,
            term_start=term_start,
            term_end=term_end,
            min_cores_per_processor=min_cores,
            core_factor=stored_factor(factor),
            unit_table=stored_table(table),
            vendor=vendor,
            product=product,
            name=name,
        )

    def counted(self, seats_used: int) -> Counted:
        """This entitlement as the alert rules read it, with ``seats_used`` (it is not retired:
        :meth:`load` refuses that)."""
        return Counted(
            self.id,
            self.metric,
            self.quantity,
            seats_used,
            False,
            self.vendor,
            self.product,
            self.name,
        )


def assigned(
    *,
    seats_used: int,
    quantity: int,
    assignment_ids: list[int],
    units: int,
    people: list[int] | None = None,
    devices: list[int] | None = None,
    over_commit: str | None = None,
    units_each: Sequence[int] = (),
    note: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before and after of a ``seat.assign`` (or ``seat.bulk_assign``) ledger entry.

    Args:
        seats_used: the entitlement's seat count before the assignment.
        quantity: what was bought.
        assignment_ids: the new assignments.
        units: the rights they use together.
        people: the people given a seat (or ``devices``, the devices).
        devices: the devices given a seat.
        over_commit: the limit rule's message when an administrator assigned past the limit.
        units_each: the rights each new assignment uses, in their order; recorded when they
            are not all one and there are several, so each seat can be replayed from the entry.
        note: the note stored with each assignment (recorded when there is one).
    """
    after: dict[str, Any] = {
        "seats_used": seats_used + units,
        "quantity": quantity,
        "assignments": assignment_ids,
        "units": units,
    }
    if people:
        after["people"] = people
    else:
        after["devices"] = devices or []
    if over_commit is not None:
        after["over_commit"] = over_commit
    if len(assignment_ids) > 1 and any(unit != 1 for unit in units_each):
        after["units_each"] = list(units_each)
    if note:
        after["note"] = note
    return {"seats_used": seats_used}, after


class SeatService:
    """Assigns and releases seats under the purchased-limit rule."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def today(self) -> dt.date:
        """The calendar date terms are checked against: the session clock's, where the
        organization is (not in UTC), as :meth:`assign` decides it."""
        return self._ctx.clock().astimezone().date()

    def units_for_devices(
        self, entitlement_id: int, device_ids: Sequence[int]
    ) -> dict[int, int | None]:
        """The rights a seat of an entitlement costs on each device, as :meth:`assign` counts them.

        Devices that do not exist are left out; None for a device whose cores (or processors) the
        metric needs are unknown (:meth:`assign` refuses it).

        Raises:
            NotFoundError: the entitlement does not exist.
        """
        with self._ctx.read() as session:
            found = session.execute(
                select(
                    Entitlement.metric,
                    Entitlement.min_cores_per_processor,
                    Entitlement.core_factor,
                    Entitlement.unit_table,
                ).where(Entitlement.id == entitlement_id)
            ).first()
            if found is None:
                raise NotFoundError(f"License {entitlement_id} does not exist.")
            metric, min_cores = Metric(found.metric), found.min_cores_per_processor
            factor, table = stored_factor(found.core_factor), stored_table(found.unit_table)
            units: dict[int, int | None] = {}
            for chunk in _chunks(list(dict.fromkeys(device_ids))):
                for did, processors, cores, model in session.execute(
                    select(
                        Device.id, Device.processors, Device.cores, Device.processor_model
                    ).where(Device.id.in_(chunk))
                ):
                    units[did] = device_units(
                        metric,
                        processors,
                        cores,
                        model,
                        min_cores_per_processor=min_cores,
                        core_factor=factor,
                        table=table,
                    )[0]
        return units

    def departed_holdings(self) -> tuple[int, int]:
        """How many people who left still hold seats, and how many seats they hold.

        The seats :meth:`release_departed` would release, counted in one statement.
        """
        with self._ctx.read() as session:
            row = session.execute(
                select(
                    func.count(distinct(SeatAssignment.person_id)).label("people"),
                    func.count().label("seats"),
                )
                .select_from(SeatAssignment)
                .join(Person, SeatAssignment.person_id == Person.id)
                .where(Person.status == "left", SeatAssignment.ended_at.is_(None))
            ).one()
        return int(row.people), int(row.seats)

    def assign(
        self,
        entitlement_id: int,
        *,
        people: Sequence[int] = (),
        devices: Sequence[int] = (),
        reason: str = "",
        over_commit: bool = False,
        note: str = "",
    ) -> AssignResult:
        """Assign one seat of an entitlement to each person or device given.

        All or nothing: if any holder already has a seat, has left, or the rights do not suffice,
        nothing is assigned.

        Args:
            entitlement_id: the purchase to draw seats from.
            people: people to receive a seat (named-user, concurrent, subscription, site metrics).
            devices: devices to receive a seat (per-device, per-core, per-processor metrics).
            reason: why; required for an over-commit.
            over_commit: an administrator asks to exceed the limit; recorded as an exception.
            note: a note stored with each assignment.

        Raises:
            LimitExceeded: the rights do not suffice (the message says how many are free).
            ValidationError: wrong holder kind, duplicate assignment, person who left.
            PermissionDenied: the role may not assign, or may not over-commit.
        """
        if over_commit:
            if not allows(self._ctx.actor.role, Permission.OVER_COMMIT):
                raise PermissionDenied(
                    "Only an administrator may assign beyond the purchased limit."
                )
            if not reason.strip():
                raise ValidationError("An over-commit needs a reason.", "Reason")
        person_ids = list(dict.fromkeys(people))
        device_ids = list(dict.fromkeys(devices))
        if bool(person_ids) == bool(device_ids):
            raise ValidationError("Choose people or devices to assign seats to.")
        action = "seat.assign" if len(person_ids) + len(device_ids) == 1 else "seat.bulk_assign"
        with self._ctx.change(
            Permission.ASSIGN_SEATS, action, "entitlement", ASSIGN, reason, direct=True
        ) as change:
            sql = change.sql
            entitlement = _Target.load(sql, entitlement_id)
            label = entitlement.label
            metric = Metric(entitlement.metric)
            if device_ids and not metric.assigns_to_device:
                raise ValidationError(
                    f"{label} is licensed per person ({metric.label}); choose people."
                )
            if person_ids and metric.assigns_to_device:
                raise ValidationError(
                    f"{label} is licensed per device ({metric.label}); choose devices."
                )
            if person_ids:
                units = self._check_people(sql, entitlement, person_ids, label)
            else:
                units = self._check_devices(sql, entitlement, metric, device_ids, label)
            needed = sum(units)
            state = LimitState(
                label=label,
                metric=metric,
                quantity=entitlement.quantity,
                used=entitlement.seats_used,
                term_start=entitlement.term_start,
                term_end=entitlement.term_end,
            )
            # Terms are calendar dates where the organization is, not in UTC.
            today = change.now.astimezone().date()
            decision = check_assignment(state, needed, today, override=over_commit)
            if not decision.allowed:
                free = max(state.free, 0)
                raise LimitExceeded(decision.message, free=free, needed=needed)
            holders: list[tuple[int | None, int | None]] = (
                [(pid, None) for pid in person_ids]
                if person_ids
                else [(None, did) for did in device_ids]
            )
            rows = [
                {
                    "entitlement_id": entitlement.id,
                    "person_id": person_id,
                    "device_id": device_id,
                    "units": unit,
                    "started_at": change.now,
                    "ended_at": None,
                    "assigned_by": self._ctx.actor.id,
                    "released_by": None,
                    "over_commit": decision.over_commit,
                    "over_commit_reason": reason.strip() if decision.over_commit else "",
                    "note": note.strip(),
                }
                for (person_id, device_id), unit in zip(holders, units, strict=True)
            ]
            made = insert_seats(sql, rows)
            ids = [made[holder] for holder in holders]
            # The row is locked (PostgreSQL) or the database is (SQLite): the count cannot move.
            before_used = entitlement.seats_used
            sql.run(_SET_USED, {"entitlement": entitlement.id, "used": before_used + needed})
            change.counted = [entitlement.counted(before_used + needed)]
            change.entity_id = str(entitlement.id)
            change.before, change.after = assigned(
                seats_used=before_used,
                quantity=entitlement.quantity,
                assignment_ids=ids,
                units=needed,
                people=person_ids,
                devices=device_ids,
                over_commit=decision.message if decision.over_commit else None,
                units_each=units,
                note=note.strip(),
            )
            return AssignResult(ids, needed, decision.over_commit, decision.message)

    def _check_people(
        self, sql: Sql, entitlement: _Target, person_ids: list[int], label: str
    ) -> list[int]:
        found: dict[int, tuple[str, str]] = {}
        held: list[int] = []
        for chunk in _chunks(person_ids):
            for pid, name, status, has_seat in _holders(sql, Person, chunk, entitlement.id):
                found[pid] = (name, status)
                if has_seat:
                    held.append(pid)
        _refuse_missing_or_held("Person", person_ids, found, held, label)
        left = [pid for pid in person_ids if found[pid][1] == "left"]
        if left:
            names = ", ".join(found[pid][0] for pid in left[:3])
            raise ValidationError(f"{names} left the organization; seats go to active people only.")
        return [1] * len(person_ids)

    def _check_devices(
        self,
        sql: Sql,
        entitlement: _Target,
        metric: Metric,
        device_ids: list[int],
        label: str,
    ) -> list[int]:
        found: dict[int, tuple[str, int | None, int | None, str | None]] = {}
        held: list[int] = []
        for chunk in _chunks(device_ids):
            for did, host, processors, cores, model, has_seat in _holders(
                sql, Device, chunk, entitlement.id
            ):
                found[did] = (host, processors, cores, model)
                if has_seat:
                    held.append(did)
        _refuse_missing_or_held("Device", device_ids, found, held, label)
        units = []
        for did in device_ids:
            host, processors, cores, model = found[did]
            counted, lacking = device_units(
                metric,
                processors,
                cores,
                model,
                min_cores_per_processor=entitlement.min_cores_per_processor,
                core_factor=entitlement.core_factor,
                table=entitlement.unit_table,
            )
            if counted is None and lacking == "processor model":
                raise ValidationError(
                    f"{label} rates cores by processor ({_table_text(entitlement.unit_table)}) "
                    f"and has no rate for {host}'s processor "
                    f"({model or 'not recorded'}); record the device's processor model or add "
                    "a rate for it to the license first.",
                    "Devices",
                )
            if counted is None:
                raise ValidationError(
                    f"The {lacking} of {host} are unknown, so {article(metric.label.lower())} seat "
                    "cannot be counted; record them on the device first.",
                    "Devices",
                )
            units.append(counted)
        return units

    def release(self, assignment_ids: Sequence[int], reason: str = "") -> int:
        """End the given open assignments; returns how many were released."""
        ids = list(dict.fromkeys(assignment_ids))
        if not ids:
            raise ValidationError("Choose seats to release.")
        action = "seat.release" if len(ids) == 1 else "seat.bulk_release"
        with self._ctx.change(
            Permission.ASSIGN_SEATS, action, "seat", ASSIGN, reason, direct=True
        ) as change:
            return self._release(change, ids, strict=True)

    def release_departed(self, reason: str = "People who left the organization") -> int:
        """Release every open seat held by a person marked as left; one ledger entry."""
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "seat.release_departed", "seat", ASSIGN, reason, direct=True
        ) as change:
            ids = [seat for (seat,) in change.sql.rows(_DEPARTED_SEATS)]
            if not ids:
                raise ValidationError("No one who left holds a seat.")
            return self._release(change, ids, strict=False)

    def _release(self, change: Change, ids: list[int], *, strict: bool) -> int:
        sql = change.sql
        rows: list[tuple[int, int, int]] = []  # seat, license, units
        before: dict[int, Counted] = {}
        for chunk in _chunks(ids):
            for seat, units, *counted in sql.rows(_OPEN_SEATS, {"ids": chunk}):
                license_row = Counted._make(counted)
                rows.append((seat, license_row.id, units))
                before[license_row.id] = license_row
        if strict and len(rows) != len(ids):
            open_ids = {r[0] for r in rows}
            gone = [i for i in ids if i not in open_ids]
            raise ValidationError(f"Seat {gone[0]} is already released or does not exist.")
        per_entitlement: dict[int, int] = {}
        for _, entitlement_id, units in rows:
            per_entitlement[entitlement_id] = per_entitlement.get(entitlement_id, 0) + units
        for chunk in _chunks([r[0] for r in rows]):
            sql.run(_END_SEATS, {"ids": chunk, "now": change.now, "by": self._ctx.actor.id})
        touched = sorted(per_entitlement)
        used_before = {k: before[k].seats_used for k in touched}
        used_after = {k: used_before[k] - per_entitlement[k] for k in touched}
        sql.run_many(_SET_USED, [{"entitlement": k, "used": used_after[k]} for k in touched])
        change.counted = [before[k]._replace(seats_used=used_after[k]) for k in touched]
        change.entity_id = str(rows[0][0]) if len(rows) == 1 else ""
        change.before = {"seats_used": {str(k): used_before[k] for k in touched}}
        change.after = {
            "released": [r[0] for r in rows],
            "entitlements": {str(k): per_entitlement[k] for k in touched},
            "seats_used": {str(k): used_after[k] for k in touched},
        }
        return len(rows)


def _refuse_missing_or_held(
    kind: str, ids: list[int], found: Mapping[int, tuple[Any, ...]], held: list[int], label: str
) -> None:
    """Refuse seats for ids not ``found`` (name first) or that ``held`` one already."""
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFoundError(f"{kind} {missing[0]} does not exist.")
    if held:
        names = ", ".join(found[i][0] for i in held[:3])
        more = f" and {len(held) - 3} more" if len(held) > 3 else ""
        raise ValidationError(f"{names}{more} already hold a seat of {label}.")


def _table_text(table: UnitTable | None) -> str:
    return "" if table is None else table.text
