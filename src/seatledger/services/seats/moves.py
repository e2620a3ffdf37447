"""Moving seats from one person to another inside a caller's change (an access review's close).

A move ends the holder's open seat and begins a seat of the same license for another person, at
the change's moment and in its transaction and ledger entry.  It frees one right and takes one,
so it never exceeds the limit, and it is held to the assignment rule's other checks (the person
exists, has not left and holds no seat of the license; the license's term is running), with
the seat service's own statements.  Refused whole, with a message naming the seat or person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from seatledger.domain.roles import Permission
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services.core.context import Change, Context
from seatledger.services.core.selects import Counted
from seatledger.services.seats.service import (
    _END_SEATS,
    _HOLDERS,
    _IDS,
    _SET_USED,
    ASSIGN,
    _chunks,
    _Target,
    insert_seats,
)
from seatledger.store.models import Person, SeatAssignment
from seatledger.store.prepared import Sql

# The open seats a move ends, each with its license, holder and rights.
_MOVING = select(
    SeatAssignment.id, SeatAssignment.entitlement_id, SeatAssignment.person_id, SeatAssignment.units
).where(SeatAssignment.id.in_(_IDS), SeatAssignment.ended_at.is_(None))


@dataclass(frozen=True, slots=True)
class Move:
    """One seat to move: the open seat that ends, and the person whose seat of the same license
    begins in its place."""

    seat: int
    to_person: int


@dataclass(frozen=True, slots=True)
class _Group:
    """The moves of one license (read and locked), with the rights their seats free."""

    target: _Target
    moves: list[Move]
    freed: int


def check_moves(conn: Connection, moves: Sequence[Move], today: dt.date) -> None:
    """Refuse ``moves`` that could not be carried out on ``today``; writes nothing."""
    _checked(Sql.of(conn), list(moves), today)


def move_seats(
    ctx: Context, change: Change, moves: Sequence[Move], note: str = ""
) -> dict[int, int]:
    """Carry out ``moves`` inside ``change`` (its moment, transaction and ledger entry); returns
    each old seat's new seat.

    Raises:
        PermissionDenied: the operator may not assign seats.
        ValidationError, NotFoundError: a move that cannot be carried out (see the module).
    """
    ctx.require(Permission.ASSIGN_SEATS, ASSIGN)
    sql = change.sql
    replaced: dict[int, int] = {}
    counted: list[Counted] = []
    for group in _checked(sql, list(moves), change.now.astimezone().date()):
        for chunk in _chunks([m.seat for m in group.moves]):
            sql.run(_END_SEATS, {"ids": chunk, "now": change.now, "by": ctx.actor.id})
        rows = [
            {
                "entitlement_id": group.target.id,
                "person_id": m.to_person,
                "device_id": None,
                "units": 1,
                "started_at": change.now,
                "ended_at": None,
                "assigned_by": ctx.actor.id,
                "released_by": None,
                "over_commit": False,
                "over_commit_reason": "",
                "note": note.strip(),
            }
            for m in group.moves
        ]
        made = insert_seats(sql, rows)
        replaced.update((m.seat, made[(m.to_person, None)]) for m in group.moves)
        # A person's seat uses one right: what the moves free, they take again.
        used = group.target.seats_used - group.freed + len(group.moves)
        sql.run(_SET_USED, {"entitlement": group.target.id, "used": used})
        counted.append(group.target.counted(used))
    change.counted = (change.counted or []) + counted
    return replaced


def _checked(sql: Sql, moves: list[Move], today: dt.date) -> list[_Group]:
    held: dict[int, tuple[int, int | None, int]] = {}  # seat: license, holder, rights
    for chunk in _chunks([m.seat for m in moves]):
        for seat, entitlement_id, person_id, units in sql.rows(_MOVING, {"ids": chunk}):
            held[seat] = (entitlement_id, person_id, units)
    by_license: dict[int, list[Move]] = {}
    for move in moves:
        if move.seat not in held:
            raise ValidationError(f"Seat {move.seat} is already released or does not exist.")
        if held[move.seat][1] is None:
            raise ValidationError(
                f"Seat {move.seat} is held by a device; a seat moves from one person to another."
            )
        by_license.setdefault(held[move.seat][0], []).append(move)
    groups = []
    for entitlement_id, group in sorted(by_license.items()):
        target = _Target.load(sql, entitlement_id)
        _check_people(sql, target, [m.to_person for m in group])
        if target.term_start is not None and today < target.term_start:
            raise ValidationError(
                f"{target.label} starts on {target.term_start.isoformat()}; none of its seats "
                "can move before then."
            )
        if target.term_end is not None and today > target.term_end:
            raise ValidationError(
                f"{target.label} expired on {target.term_end.isoformat()}; renew it before "
                "moving its seats."
            )
        freed = sum(held[m.seat][2] for m in group)
        if freed < len(group):  # never for a person's seat; a move must not take more
            raise ValidationError(f"A move of {target.label} would take more than it frees.")
        groups.append(_Group(target, group, freed))
    return groups


def _check_people(sql: Sql, target: _Target, people: list[int]) -> None:
    found: dict[int, tuple[str, str, bool]] = {}
    for chunk in _chunks(list(dict.fromkeys(people))):
        # Only the people asked about (every person was read here before).
        for pid, name, status, has_seat in sql.rows(
            _HOLDERS[(Person, False)], {"ids": chunk, "entitlement": target.id}
        ):
            found[pid] = (name, status, bool(has_seat))
    for pid in people:
        if pid not in found:
            raise NotFoundError(f"Person {pid} does not exist.")
        name, status, has_seat = found[pid]
        if status == "left":
            raise ValidationError(
                f"{name} left the organization; a seat moves to an active person only."
            )
        if has_seat:
            raise ValidationError(f"{name} already holds a seat of {target.label}.")
        if people.count(pid) > 1:
            raise ValidationError(f"{name} would be given two seats of {target.label}.")
