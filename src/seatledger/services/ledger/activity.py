"""Reading the activity ledger: the activity list, filtered and newest first, and one entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from seatledger.domain.commitments import commitments_in, opened
from seatledger.errors import NotFoundError
from seatledger.services.core.context import Context
from seatledger.services.core.tables import KEY_PAGE, KeyPage, Row, TableColumn, titles
from seatledger.services.ledger.verify import decode_body, summarize
from seatledger.store import ledger_store
from seatledger.store.models import LedgerEntry, LedgerHead


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """What the activity view is narrowed to; empty fields do not filter."""

    operator: str = ""
    action: str = ""
    entity_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def empty(self) -> bool:
        """No filter at all."""
        return not (
            self.operator or self.action or self.entity_type or self.date_from or self.date_to
        )


_COMMITTED = b'{"commit":'  # how a committed field starts in a stored (canonical) body


class ActivityColumn(TableColumn):
    """The activity list's columns."""

    SEQ = 0, "#"
    TIME = 1, "Time (UTC)"
    OPERATOR = 2, "Operator"
    ACTION = 3, "Action"
    ENTITY = 4, "Entity"
    REASON = 5, "Reason"
    DETAILS = 6, "Details"


class ActivityQuery:
    """Ledger entries, newest first, filtered by operator, action, entity and date."""

    columns: tuple[str, ...] = titles(ActivityColumn)
    sortable: tuple[bool, ...] = (False,) * len(ActivityColumn)
    page_size = KEY_PAGE  # filtered keys read at a time

    def __init__(self, ctx: Context, flt: ActivityFilter | None = None) -> None:
        self._ctx = ctx
        self.filter = flt or ActivityFilter()

    def keys(self) -> Sequence[int]:
        """Matching sequence numbers, newest first.

        Unfiltered, the sequence is dense 1..N, so the keys are a ``range``: no query, no memory.
        Filtered, they are a :class:`KeyPage`: the newest matches, then more as the view scrolls
        (an operator's entries may be most of a 10-million-entry ledger).
        """
        with self._ctx.read() as session:
            size = session.scalar(select(LedgerHead.size)) or 0
        if self.filter.empty:
            return range(size, 0, -1)
        return KeyPage(self._page(size + 1), self._page, self.page_size)

    def _page(self, before: int) -> list[int]:
        """The next ``page_size`` matching sequence numbers below ``before``, newest first."""
        flt = self.filter
        query = select(LedgerEntry.seq).where(LedgerEntry.seq < before)
        if flt.operator:
            query = query.where(LedgerEntry.operator == flt.operator)
        if flt.action:
            query = query.where(LedgerEntry.action == flt.action)
        if flt.entity_type:
            query = query.where(LedgerEntry.entity_type == flt.entity_type)
        if flt.date_from:
            query = query.where(LedgerEntry.ts >= flt.date_from.isoformat())
        if flt.date_to:
            end = flt.date_to + dt.timedelta(days=1)
            query = query.where(LedgerEntry.ts < end.isoformat())
        with self._ctx.read() as session:
            return list(
                session.scalars(query.order_by(LedgerEntry.seq.desc()).limit(self.page_size))
            )

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        """Rows: seq, time, operator, action, entity, reason, summary of the change."""
        query = select(
            LedgerEntry.seq,
            LedgerEntry.ts,
            LedgerEntry.operator,
            LedgerEntry.action,
            LedgerEntry.entity_type,
            LedgerEntry.entity_id,
            LedgerEntry.body,
        ).where(LedgerEntry.seq.in_(list(keys)))
        out: dict[int, Row] = {}
        with self._ctx.read() as session:
            rows = session.execute(query).all()
            stored = [bytes(row[-1]) for row in rows]
            bodies = [decode_body(body) for body in stored]
            # Only a body whose bytes hold a commitment is walked for one (most entries of a
            # large ledger are seat changes with none; walking every body was a third of a page).
            committed = [_COMMITTED in body for body in stored]
            values = ledger_store.opened_values(
                session,
                (
                    c
                    for body, walk in zip(bodies, committed, strict=True)
                    if walk
                    for c in commitments_in(body)
                ),
            )
            for (seq, ts, operator, action, entity, entity_id, _), raw, walk in zip(
                rows, bodies, committed, strict=True
            ):
                decoded = opened(raw, values) if walk else raw
                label = f"{entity} {entity_id}".strip()
                out[seq] = (
                    seq,
                    ts.replace("T", " ")[:19],
                    operator,
                    action,
                    label,
                    decoded.get("what", {}).get("reason", ""),
                    summarize(decoded),
                )
        return out


def ledger_entry(ctx: Context, seq: int) -> dict[str, Any]:
    """One ledger entry's canonical body, decoded, with its hashes (hex) for display.

    Raises:
        NotFoundError: no entry has that sequence number.
    """
    with ctx.read() as session:
        row = session.execute(
            select(LedgerEntry.body, LedgerEntry.prev_hash, LedgerEntry.hash).where(
                LedgerEntry.seq == seq
            )
        ).first()
        if row is None:
            raise NotFoundError(f"Ledger entry {seq} does not exist.")
        body = decode_body(bytes(row.body))
        values = ledger_store.opened_values(session, commitments_in(body))
    return {
        # Committed personal fields as the organization sees them (the stored body, which is
        # what was hashed, holds {"commit": …} there).
        "entry": opened(body, values),
        "personal_fields_committed": sorted(commitments_in(body)),
        "prev_hash": bytes(row.prev_hash).hex(),
        "hash": bytes(row.hash).hex(),
    }
