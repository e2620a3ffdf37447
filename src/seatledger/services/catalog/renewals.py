"""Renewal reminders of the licenses in force: what needs a decision now, and a calendar file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from seatledger.domain.licensing import Metric
from seatledger.domain.renewals import (
    DEFAULT_NOTICE_DAYS,
    Reminder,
    Term,
    calendar,
    due,
    parse_notice_days,
    reminders,
)
from seatledger.paths import replaced
from seatledger.services.core.context import Context
from seatledger.services.core.selects import entitlement_titles
from seatledger.store.models import Entitlement, Setting

ORGANIZATION_KEY = "organization"  # as services.operators.session stores it


class RenewalService:
    """Reads the terms of the licenses not retired and turns them into reminders."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def today(self) -> dt.date:
        """The organization's calendar day by the session's clock."""
        return self._ctx.clock().astimezone().date()

    def terms(self) -> list[Term]:
        """Every license that is not retired and has an end date."""
        with self._ctx.read() as session:
            rows = session.execute(
                entitlement_titles(
                    Entitlement.term_end,
                    Entitlement.notice_days,
                    Entitlement.cancel_by,
                    Entitlement.metric,
                    Entitlement.quantity,
                    Entitlement.seats_used,
                    Entitlement.unit_cost,
                    Entitlement.currency,
                    Entitlement.po_reference,
                ).where(Entitlement.retired.is_(False), Entitlement.term_end.is_not(None))
            ).all()
        terms = []
        for row in rows:
            title = f"{row.vendor} {row.product}"
            reference = row.name or row.po_reference
            if reference and reference not in title:
                title += f" ({reference})"
            metric = Metric(row.metric)
            detail = f"{row.quantity:,} × {metric.label.lower()}, {row.seats_used:,} in use"
            if row.unit_cost is not None:
                detail += f"; {row.unit_cost * row.quantity:,.2f} {row.currency} for the term"
            terms.append(
                Term(
                    row.id,
                    title,
                    row.term_end,
                    parse_notice_days(row.notice_days) if row.notice_days else DEFAULT_NOTICE_DAYS,
                    row.cancel_by,
                    detail,
                )
            )
        return terms

    def due(self) -> list[Reminder]:
        """Per license, the reminder reached today (nearest notice or cancel-by date)."""
        return due(self.terms(), self.today())

    def upcoming(self, days: int) -> list[Reminder]:
        """Every reminder from today to ``days`` ahead."""
        today = self.today()
        return reminders(self.terms(), today, today + dt.timedelta(days=days))

    def write_calendar(self, target: Path, days: int = 730) -> int:
        """Write the reminders of the next ``days`` (two years by default) to an iCalendar file
        (written beside ``target`` and renamed, never through a link); returns how many."""
        terms = self.terms()
        today = self.today()
        chosen = reminders(terms, today, today + dt.timedelta(days=days))
        with self._ctx.read() as session:
            organization = (
                session.scalar(select(Setting.value).where(Setting.key == ORGANIZATION_KEY)) or ""
            )
        text = calendar(
            chosen,
            organization=organization,
            stamp=self._ctx.clock(),
            details={t.entitlement_id: t.detail for t in terms},
        )
        with replaced(target) as temporary:
            temporary.write_bytes(text.encode())
        return len(chosen)
