"""Who belonged to which team, under which manager and cost centre, and from when: the
``person_team`` rows beside ``person.team_id``.

Every writer that changes a person's team (the directory's edits, the HR import) records the move
here in its own transaction, so the by-team figures of a past day use the team held that day; the
HR import records a new manager or cost centre the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, or_

from seatledger.store.bulk import Bulk
from seatledger.store.models import PersonTeam

# Above this many moves, one scan of the open memberships is cheaper than a list of ids.
_LISTED = 500


class Move(NamedTuple):
    """``person_id`` belongs to ``team_id`` (None: no team) from ``day`` (None: always).

    ``manager_id`` (None: no manager) counts only when ``manager_given``; ``cost_centre`` None
    keeps the one held: a file without those columns leaves them as they were.
    """

    person_id: int
    team_id: int | None
    day: dt.date | None
    manager_id: int | None = None
    cost_centre: str | None = None
    manager_given: bool = False


class Period(NamedTuple):
    """A period :func:`record` opened or changed: the team, manager and cost centre held from
    ``day`` (None: always), as an import's ledger entry records it."""

    person_id: int
    team_id: int
    manager_id: int | None
    cost_centre: str
    day: dt.date | None


def held_on(day: dt.date, person: Any, membership: Any = PersonTeam) -> ColumnElement[bool]:
    """Join condition: ``membership`` (``PersonTeam`` or an alias) is ``person``'s on ``day``.

    Memberships do not overlap, so at most one row matches.
    """
    return and_(
        membership.person_id == person,
        or_(membership.valid_from.is_(None), membership.valid_from <= day),
        or_(membership.valid_to.is_(None), membership.valid_to > day),
    )


def record(bulk: Bulk, moves: Sequence[Move]) -> list[Period]:
    """Close each person's open period on the move's day and open the next; returns the periods
    opened or changed.

    A move dated on or before the day the open period began replaces it (the earlier one never
    held a whole day): the row takes the new values, or goes if the person has no team now.  A
    move that changes none of team, manager and cost centre changes nothing.
    """
    if not moves:
        return []
    opened = _open(bulk, [m.person_id for m in moves])
    closes: list[tuple[Any, ...]] = []
    retakes: list[tuple[Any, ...]] = []
    drops: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    periods: list[Period] = []
    for move in moves:
        person_id, team_id, day = move.person_id, move.team_id, move.day
        current = opened.get(person_id)
        manager = move.manager_id if move.manager_given else current[3] if current else None
        cost = move.cost_centre if move.cost_centre is not None else current[4] if current else ""
        if current is not None:
            row_id, held, since, held_manager, held_cost = current
            if (held, held_manager, held_cost) == (team_id, manager, cost):
                continue
            if day is None or (since is not None and day <= since):
                if team_id is None:
                    drops.append((row_id,))
                else:
                    retakes.append((team_id, manager, cost, row_id))
                    periods.append(Period(person_id, team_id, manager, cost, since))
                continue
            closes.append((bulk.day(day), row_id))
        if team_id is not None:
            inserts.append((person_id, team_id, bulk.day(day), None, manager, cost))
            periods.append(Period(person_id, team_id, manager, cost, day))
    bulk.many("UPDATE person_team SET valid_to = ? WHERE id = ?", closes)
    bulk.many(
        "UPDATE person_team SET team_id = ?, manager_id = ?, cost_centre = ? WHERE id = ?", retakes
    )
    bulk.many("DELETE FROM person_team WHERE id = ?", drops)
    bulk.insert(
        "person_team", "person_id, team_id, valid_from, valid_to, manager_id, cost_centre", inserts
    )
    return periods


def current(bulk: Bulk, person_id: int) -> tuple[int, int | None, str, dt.date | None] | None:
    """A person's open period as (team id, manager id, cost centre, first day); None: none."""
    found = _open(bulk, [person_id]).get(person_id)
    if found is None:
        return None
    _, team, since, manager, cost = found
    return team, manager, cost, since


def _open(
    bulk: Bulk, people: list[int]
) -> dict[int, tuple[int, int, dt.date | None, int | None, str]]:
    """Each person's open period: (row id, team id, first day or None, manager id, cost centre)."""
    query = (
        "SELECT id, person_id, team_id, valid_from, manager_id, cost_centre FROM person_team "
        "WHERE valid_to IS NULL"
    )
    if len(people) <= _LISTED:
        query += f" AND person_id IN ({', '.join(str(int(p)) for p in people)})"
    return {
        int(person): (
            int(row_id),
            int(team),
            _date(since),
            None if manager is None else int(manager),
            str(cost or ""),
        )
        for row_id, person, team, since, manager, cost in bulk.execute(query)
    }


def _date(value: object) -> dt.date | None:
    """A DATE as the driver returns it (a date, or SQLite's ISO text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
