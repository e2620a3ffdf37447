"""Who belonged to which team, and from when: the ``person_team`` rows beside ``person.team_id``.

Every writer that changes a person's team (the directory's edits, the HR import) records the move
here in its own transaction, so the by-team figures of a past day use the team held that day.
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
    """``person_id`` belongs to ``team_id`` (None: no team) from ``day`` (None: always)."""

    person_id: int
    team_id: int | None
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


def record(bulk: Bulk, moves: Sequence[Move]) -> None:
    """Close each person's open membership on the move's day and open the new team's.

    A move dated on or before the day the open membership began replaces it (the earlier team
    never held a whole day): the row takes the new team, or goes if the person has none now.
    """
    if not moves:
        return
    opened = _open(bulk, [m.person_id for m in moves])
    closes: list[tuple[Any, ...]] = []
    retakes: list[tuple[Any, ...]] = []
    drops: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    for person_id, team_id, day in moves:
        current = opened.get(person_id)
        if current is not None:
            row_id, held, since = current
            if held == team_id:
                continue
            if day is None or (since is not None and day <= since):
                if team_id is None:
                    drops.append((row_id,))
                else:
                    retakes.append((team_id, row_id))
                continue
            closes.append((bulk.day(day), row_id))
        if team_id is not None:
            inserts.append((person_id, team_id, bulk.day(day), None))
    bulk.many("UPDATE person_team SET valid_to = ? WHERE id = ?", closes)
    bulk.many("UPDATE person_team SET team_id = ? WHERE id = ?", retakes)
    bulk.many("DELETE FROM person_team WHERE id = ?", drops)
    bulk.insert("person_team", "person_id, team_id, valid_from, valid_to", inserts)


def _open(bulk: Bulk, people: list[int]) -> dict[int, tuple[int, int, dt.date | None]]:
    """Each person's open membership: (row id, team id, first day or None)."""
    query = "SELECT id, person_id, team_id, valid_from FROM person_team WHERE valid_to IS NULL"
    if len(people) <= _LISTED:
        query += f" AND person_id IN ({', '.join(str(int(p)) for p in people)})"
    return {
        int(person): (int(row_id), int(team), _date(since))
        for row_id, person, team, since in bulk.execute(query)
    }


def _date(value: object) -> dt.date | None:
    """A DATE as the driver returns it (a date, or SQLite's ISO text)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
