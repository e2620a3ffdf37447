"""Whether a stored row is what the ledger says it is: the comparison, free of storage.

The ledger's entries say what each row was made and changed into (see
:mod:`seatledger.services.ledger.state`, which replays them).  This module owns how one stored
value is compared with the value an entry recorded — :func:`compare_value`, the one place, so a
body value that is no longer given in the clear (a salted commitment ``{"commit": "<64 hex>"}``)
is handled here alone — and how a difference is named: the table, the row, the field, both values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

_COMMITMENT = re.compile(r"[0-9a-f]{64}")


class Match(Enum):
    """How a stored value compares with the value the ledger recorded."""

    SAME = "same"
    DIFFERENT = "different"
    SEALED = "sealed"  # the ledger holds a commitment, not the value: not comparable here


class Kind(Enum):
    """What is wrong with a row; the values are how a message says it."""

    FIELD = "differs"
    UNRECORDED_ROW = "is in the database, but no ledger entry made it"
    MISSING_ROW = "is not in the database, but the ledger made it"


def is_commitment(recorded: Any) -> bool:
    """Whether a body value is a salted commitment (``{"commit": "<64 hex>"}``) of a value."""
    return (
        isinstance(recorded, dict)
        and len(recorded) == 1
        and isinstance(recorded.get("commit"), str)
        and _COMMITMENT.fullmatch(recorded["commit"]) is not None
    )


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)  # SQLite gives naive times, in UTC
_MICRO = dt.timedelta(microseconds=1)


def utc_micros(value: dt.datetime) -> int:
    """A time as microseconds since 1970 in UTC (a naive time is taken as UTC, as SQLite's)."""
    return (value - (_EPOCH if value.tzinfo is not None else _NAIVE_EPOCH)) // _MICRO


def _as_moment(recorded: Any) -> int | None:
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        return recorded  # microseconds since the epoch, as the replay keeps seat times
    if isinstance(recorded, str):
        try:
            return utc_micros(dt.datetime.fromisoformat(recorded))
        except ValueError:
            return None
    return None


def compare_value(stored: Any, recorded: Any) -> Match:
    """Compare a value read from the database with the value a ledger entry recorded.

    Entries hold JSON: dates and times as ISO text, money and factors as decimal text, flags as
    true/false.  Databases give dates, datetimes (naive from SQLite: UTC), ``Decimal`` and, for
    flags, booleans or 0/1.  Every comparison of a stored value with a body value goes through
    here.
    """
    if is_commitment(recorded):
        return Match.SEALED
    if stored is None or recorded is None:
        same = stored is None and recorded is None
    elif isinstance(stored, dt.datetime):
        same = _as_moment(recorded) == utc_micros(stored)
    elif isinstance(stored, dt.date):
        same = isinstance(recorded, str) and recorded == stored.isoformat()
    elif isinstance(stored, bool) or isinstance(recorded, bool):
        same = bool(stored) == recorded if isinstance(recorded, bool) else stored == recorded
    elif isinstance(stored, Decimal | float):
        same = _decimal(recorded) is not None and Decimal(str(stored)) == _decimal(recorded)
    else:
        same = stored == recorded
    return Match.SAME if same else Match.DIFFERENT


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def shown(value: Any) -> str:
    """A value as a difference names it (dates and times in ISO, nothing as 'empty')."""
    if value is None:
        return "empty"
    if is_commitment(value):
        return "a commitment"
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return repr(value) if value == "" or value != value.strip() else value
    return str(value)


@dataclass(frozen=True, slots=True)
class Difference:
    """One row (and, for a field, one field) where the database and the ledger disagree."""

    table: str
    row: int
    kind: Kind
    field: str = ""
    stored: Any = None
    recorded: Any = None
    parent: int | None = None  # the row it belongs to (a seat's entitlement...), for scoping
    label: str = ""  # the row by name where its table is keyed by name (a host, a VM)

    def message(self) -> str:
        """E.g. ``entitlement 22: quantity is 605 in the database, the ledger says 105``, or
        ``server_host 3 (esx01.corp.example): cores_per_socket is 24 ...``."""
        what = f"{self.table} {self.row}"
        if self.label:
            what = f"{self.table} {self.label}" if self.row == 0 else f"{what} ({self.label})"
        if self.kind is Kind.FIELD:
            return (
                f"{what}: {self.field} is {shown(self.stored)} in the database, "
                f"the ledger says {shown(self.recorded)}"
            )
        return f"{what} {self.kind.value}"


def identical(stored: tuple[Any, ...], recorded: tuple[Any, ...]) -> bool:
    """Whether a stored row's values are exactly the recorded ones (the fast path for large
    tables: an identical value compares the same under any rule of :func:`compare_value`; rows
    that are not identical are compared field by field)."""
    return stored == recorded


def compare_row(  # noqa: PLR0917 (a row: where it is, both sides, what to compare)
    table: str,
    row: int,
    stored: Mapping[str, Any],
    recorded: Mapping[str, Any],
    fields: tuple[str, ...],
    parent: int | None = None,
    seal: Callable[[str, Any], str | None] | None = None,
) -> tuple[list[Difference], list[str], int]:
    """Compare the ``fields`` of one stored row with what the ledger recorded of it.

    A field the ledger holds as a commitment is compared by committing the stored value the
    same way (``seal(field, value)`` gives its commitment's hex); without ``seal``, or when
    ``seal`` gives None (the field's salt is not kept), it is sealed: counted, not compared.

    Returns:
        The differences, the fields the ledger never recorded for this row (older entries did
        not carry every field; they are not compared), and how many were sealed commitments.
    """
    differences: list[Difference] = []
    unrecorded: list[str] = []
    sealed = 0
    for name in fields:
        if name not in recorded:
            unrecorded.append(name)
            continue
        value = recorded[name]
        match = compare_value(stored[name], value)
        if match is Match.SEALED and seal is not None:
            if stored[name] is None:
                match = Match.DIFFERENT
            elif (digest := seal(name, stored[name])) is not None:
                match = Match.SAME if digest == value["commit"] else Match.DIFFERENT
        if match is Match.DIFFERENT:
            differences.append(
                Difference(table, row, Kind.FIELD, name, stored[name], value, parent)
            )
        elif match is Match.SEALED:
            sealed += 1
    return differences, unrecorded, sealed
