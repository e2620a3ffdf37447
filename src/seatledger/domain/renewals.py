"""Renewal reminders: the days a license's term calls for a decision, and a calendar of them.

A license whose term ends is renewed, changed or let go, and each takes time: the vendor's
cancellation notice date (after it, the contract renews by itself) and the organization's own
notice periods (180, 90 and 30 days before the end unless the license says otherwise) are the
days someone must look at it.  :func:`calendar` writes them as an iCalendar file (RFC 5545) that
any calendar program imports; each event keeps its UID from one export to the next, so importing
the file again updates the events instead of doubling them.

Pure functions: the services read the licenses, these decide the days and write the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from seatledger.text import plural

DEFAULT_NOTICE_DAYS = (180, 90, 30)
"""Days before a term ends that remind, where a license sets none of its own."""
MAX_NOTICES = 6


class When(StrEnum):
    """Why a day is a reminder."""

    NOTICE = "notice"  # one of the notice periods before the end
    CANCEL_BY = "cancel_by"  # the vendor's last day to cancel (or change) before it renews
    TERM_END = "term_end"  # the last day of the term


@dataclass(frozen=True, slots=True)
class Term:
    """A license as reminders need it."""

    entitlement_id: int
    title: str  # "Adobe Acrobat Pro (PO-2026-0142)"
    term_end: dt.date
    notice_days: tuple[int, ...] = DEFAULT_NOTICE_DAYS
    cancel_by: dt.date | None = None
    detail: str = ""  # "40 named user seats, 31 used; 2,400.00 EUR a year"


@dataclass(frozen=True, slots=True, order=True)
class Reminder:
    """One day a license needs a decision."""

    day: dt.date
    entitlement_id: int
    when: When
    title: str
    text: str  # what the day is, in words


def parse_notice_days(text: str) -> tuple[int, ...]:
    """Notice periods as typed ("180, 90, 30"): days before the end, largest first, no repeats.

    Raises:
        ValueError: a period is not a whole number of days from 1 to 3,650, or more than
            :data:`MAX_NOTICES` are given; the message names it.
    """
    days: set[int] = set()
    for part in text.replace(";", ",").split(","):
        word = part.strip()
        if not word:
            continue
        if not word.isdigit() or not 1 <= int(word) <= 3650:
            raise ValueError(f"'{word}' is not a number of days from 1 to 3,650")
        days.add(int(word))
    if len(days) > MAX_NOTICES:
        raise ValueError(f"at most {MAX_NOTICES} notice periods, not {len(days)}")
    return tuple(sorted(days, reverse=True))


def notice_text(days: Sequence[int]) -> str:
    """Notice periods as they are stored and shown: "180, 90, 30"."""
    return ", ".join(str(d) for d in days)


def reminders(terms: Iterable[Term], since: dt.date, until: dt.date) -> list[Reminder]:
    """Every reminder day from ``since`` to ``until`` (both included), by day."""
    found: list[Reminder] = []
    for term in terms:
        end = term.term_end.isoformat()
        days = [
            (
                term.term_end - dt.timedelta(days=n),
                When.NOTICE,
                f"ends on {end}, in {plural(n, 'day')}",
            )
            for n in term.notice_days
        ]
        if term.cancel_by is not None and term.cancel_by <= term.term_end:
            days.append(
                (
                    term.cancel_by,
                    When.CANCEL_BY,
                    f"last day to cancel or change before it renews (the term ends on {end})",
                )
            )
        days.append((term.term_end, When.TERM_END, "the term ends today"))
        for day, when, text in days:
            if since <= day <= until:
                found.append(Reminder(day, term.entitlement_id, when, term.title, text))
    return sorted(found)


def due(terms: Sequence[Term], today: dt.date) -> list[Reminder]:
    """What needs a decision today: per license whose term has not ended, the latest reminder
    day reached (the nearest notice, or the cancellation deadline), soonest term end first."""
    result = []
    for term in sorted(terms, key=lambda t: (t.term_end, t.title)):
        if term.term_end < today:
            continue
        reached = reminders([term], dt.date.min, today)
        if not reached:
            continue
        left = (term.term_end - today).days
        text = f"ends on {term.term_end}" + (f", in {plural(left, 'day')}" if left else " (today)")
        if term.cancel_by is not None and term.cancel_by >= today:
            before = (term.cancel_by - today).days
            text += f"; cancel by {term.cancel_by}" + (
                f", in {plural(before, 'day')}" if before else " (today)"
            )
        last = reached[-1]
        result.append(Reminder(last.day, last.entitlement_id, last.when, last.title, text))
    return result


def calendar(
    items: Iterable[Reminder],
    *,
    organization: str,
    stamp: dt.datetime,
    details: dict[int, str] | None = None,
) -> str:
    """The reminders as an iCalendar (RFC 5545) file: one all-day event each, CRLF lines folded
    at 75 octets, text escaped; ``stamp`` (UTC) is when the file was made."""
    scope = hashlib.sha256(organization.encode()).hexdigest()[:12]
    moment = stamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"License renewals: {organization}" if organization else "License renewals"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//SeatLedger//License renewals//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for item in items:
        description = item.text
        if details and details.get(item.entitlement_id):
            description += f"\n{details[item.entitlement_id]}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{item.entitlement_id}-{item.when.value}-{item.day:%Y%m%d}-{scope}@seatledger",
            f"DTSTAMP:{moment}",
            f"DTSTART;VALUE=DATE:{item.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{item.day + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(f'{_LABELS[item.when]}: {item.title}')}",
            f"DESCRIPTION:{_escape(description)}",
            f"CATEGORIES:{_escape('License renewal')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


_LABELS = {
    When.NOTICE: "Renewal notice",
    When.CANCEL_BY: "Cancel-by date",
    When.TERM_END: "Term ends",
}


def _escape(text: str) -> str:
    """TEXT as RFC 5545 3.3.11 writes it."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """A content line folded after 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = char
            limit = 74  # continuation lines begin with a space
        else:
            current += char
    parts.append(current)
    return "\r\n ".join(parts)
