"""What the screens and commands read, without holding the context: table queries, single records.

:class:`Reads` binds each package's table queries (``catalog.queries``, ``directory.queries``,
``seats.queries``, ``ledger.activity``), the record reads of :mod:`seatledger.services.details`
and the natural keys and counts of :mod:`seatledger.services.lookups` to one session's context, so
the window and the command line ask :class:`~seatledger.services.operators.session.Services` for
them and never build a context themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from seatledger.services import details, lookups
from seatledger.services.catalog.queries import EntitlementQuery, EntitlementRow
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.context import Context
from seatledger.services.directory.queries import DeviceQuery, PeopleQuery
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.ledger.activity import ActivityFilter, ActivityQuery, ledger_entry
from seatledger.services.lookups import Counts
from seatledger.services.seats.queries import SeatColumn, SeatQuery

P = ParamSpec("P")
Q = TypeVar("Q")


def _bound(query: Callable[Concatenate[Context, P], Q]) -> Callable[Concatenate[Reads, P], Q]:
    """A method of :class:`Reads` that makes ``query`` over the session's context."""

    def bound(self: Reads, /, *args: P.args, **kwargs: P.kwargs) -> Q:
        return query(self._ctx, *args, **kwargs)

    bound.__doc__ = query.__doc__
    return bound


class Reads:
    """The reads of one session (any role may read)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- tables ----------------------------------------------------------------------------

    entitlements = _bound(EntitlementQuery)
    """Licenses matching a search, in display order (see :class:`EntitlementQuery`)."""
    people = _bound(PeopleQuery)
    """People matching a search, in display order (see :class:`PeopleQuery`)."""
    devices = _bound(DeviceQuery)
    """Devices matching a search, in display order (see :class:`DeviceQuery`)."""

    def seats(
        self,
        entitlement_id: int,
        *,
        include_released: bool = False,
        sort_column: int = SeatColumn.ASSIGNED,
        descending: bool = True,
    ) -> SeatQuery:
        """One license's seats (see :class:`SeatQuery`)."""
        return SeatQuery(
            self._ctx,
            entitlement_id,
            include_released=include_released,
            sort_column=sort_column,
            descending=descending,
        )

    def activity(self, flt: ActivityFilter | None = None) -> ActivityQuery:
        """Ledger entries matching a filter, newest first (see :class:`ActivityQuery`)."""
        return ActivityQuery(self._ctx, flt)

    def counts(self) -> Counts:
        """How many licenses, people, devices and ledger entries there are."""
        return lookups.counts(self._ctx)

    def ledger_entry(self, seq: int) -> dict[str, Any]:
        """One ledger entry, decoded, with its hashes (see :func:`ledger_entry`)."""
        return ledger_entry(self._ctx, seq)

    # -- single records --------------------------------------------------------------------

    def entitlement(self, entitlement_id: int) -> tuple[EntitlementInput, int]:
        """An entitlement's editable fields and its vendor id."""
        return details.entitlement(self._ctx, entitlement_id)

    def entitlement_row(self, entitlement_id: int) -> EntitlementRow:
        """One license as listed (with seats used)."""
        return details.entitlement_row(self._ctx, entitlement_id)

    def person(self, person_id: int) -> tuple[PersonInput, str]:
        """A person's editable fields and status (``active`` or ``left``)."""
        return details.person(self._ctx, person_id)

    def device(self, device_id: int) -> DeviceInput:
        """A device's editable fields."""
        return details.device(self._ctx, device_id)

    # -- natural keys ----------------------------------------------------------------------

    def person_ids(self, employee_ids: Sequence[str]) -> list[int]:
        """Person ids for employee ids, in order; names the first unknown one."""
        return lookups.person_ids(self._ctx, employee_ids)

    def device_ids(self, hostnames: Sequence[str]) -> list[int]:
        """Device ids for host names (in any case), in order; names the first unknown one."""
        return lookups.device_ids(self._ctx, hostnames)
