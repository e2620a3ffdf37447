"""Renewal reminders: notice periods, the vendor's cancel-by date, and a calendar file that a
stock iCalendar parser reads back.

Hand count, today 2027-01-04 (the services' clock):
- Acrobat (PO-1) ends 2027-03-31, the default notices 180, 90, 30 days before: 2026-10-02,
  2026-12-31, 2027-03-01; the 90-day one is the latest reached: due now ("in 90 days").
- Tableau (PO-2) ends 2027-12-31, notices 60 days before (2027-11-01), cancel by 2027-10-01:
  nothing reached yet; its cancel-by date comes first.
- Perpetual SQL Server (no end): never reminds.  A retired license: never reminds.
In the next 90 days (to 2027-04-04): Acrobat's 30-day notice (2027-03-01) and its end
(2027-03-31).  In two years: Acrobat 2 (2027-03-01, 2027-03-31) + Tableau 3 = 5 events.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import icalendar
import pytest

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.renewals import Term, When, calendar, due, parse_notice_days
from seatledger.errors import ValidationError
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.operators.session import Services

TODAY = dt.date(2027, 1, 4)


@pytest.fixture
def renewing(admin: Services) -> Services:
    noon = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    admin = Services.for_actor(admin.db, admin.actor, clock=lambda: noon)
    vendor = admin.catalog.add_vendor("Adobe")
    acrobat = admin.catalog.add_product(vendor, "Acrobat Pro")
    tableau = admin.catalog.add_product(admin.catalog.add_vendor("Salesforce"), "Tableau")
    sql = admin.catalog.add_product(admin.catalog.add_vendor("Microsoft"), "SQL Server")
    admin.catalog.add_entitlement(
        EntitlementInput(
            acrobat,
            Metric.PER_USER,
            40,
            term_start=dt.date(2026, 4, 1),
            term_end=dt.date(2027, 3, 31),
            unit_cost=Decimal(60),
            po_reference="PO-1",
        )
    )
    admin.catalog.add_entitlement(
        EntitlementInput(
            tableau,
            Metric.SUBSCRIPTION,
            5,
            term_end=dt.date(2027, 12, 31),
            po_reference="PO-2",
            notice_days="60",
            cancel_by=dt.date(2027, 10, 1),
        )
    )
    admin.catalog.add_entitlement(EntitlementInput(sql, Metric.PER_CORE, 16))
    return admin


def test_what_needs_a_decision_now_and_what_comes(renewing: Services) -> None:
    [now] = renewing.renewals.due()
    assert (now.day, now.when, now.title) == (
        dt.date(2026, 12, 31),
        When.NOTICE,
        "Adobe Acrobat Pro (PO-1)",
    )
    assert now.text == "ends on 2027-03-31, in 86 days"  # from today, 2027-01-04
    assert [(r.day.isoformat(), r.when.value) for r in renewing.renewals.upcoming(90)] == [
        ("2027-03-01", "notice"),
        ("2027-03-31", "term_end"),
    ]


def test_the_calendar_is_read_back_by_a_stock_parser(renewing: Services, tmp_path: Path) -> None:
    target = tmp_path / "renewals.ics"
    assert renewing.renewals.write_calendar(target) == 5
    raw = target.read_bytes()
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded as RFC 5545 says
    parsed = icalendar.Calendar.from_ical(raw)
    events = sorted(parsed.walk("VEVENT"), key=lambda e: (e.decoded("DTSTART"), str(e["UID"])))
    assert [(e.decoded("DTSTART"), str(e["SUMMARY"])) for e in events] == [
        (dt.date(2027, 3, 1), "Renewal notice: Adobe Acrobat Pro (PO-1)"),
        (dt.date(2027, 3, 31), "Term ends: Adobe Acrobat Pro (PO-1)"),
        (dt.date(2027, 10, 1), "Cancel-by date: Salesforce Tableau (PO-2)"),
        (dt.date(2027, 11, 1), "Renewal notice: Salesforce Tableau (PO-2)"),
        (dt.date(2027, 12, 31), "Term ends: Salesforce Tableau (PO-2)"),
    ]
    assert str(events[0]["DESCRIPTION"]) == (
        "ends on 2027-03-31, in 30 days\n40 × named user, 0 in use; 2,400.00 EUR for the term"
    )
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == dt.timedelta(days=1) for e in events)
    # Exported again, every event keeps its UID: a calendar updates it instead of doubling it.
    again = tmp_path / "again.ics"
    renewing.renewals.write_calendar(again)
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(again.read_bytes()).walk("VEVENT")}
    assert uids == {str(e["UID"]) for e in events}


def test_text_is_escaped_and_long_lines_fold_between_characters() -> None:
    term = Term(7, "Ünïcode; Ltd, \\ Suite " + "ä" * 60, dt.date(2027, 6, 30), (30,))
    text = calendar(
        due([term], dt.date(2027, 6, 1)),
        organization="Contoso",
        stamp=dt.datetime(2027, 6, 1, tzinfo=dt.UTC),
    )
    for line in text.encode().split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # no character cut in two
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Renewal notice: {term.title}"


def test_notice_periods_and_cancel_by_dates_are_checked(renewing: Services) -> None:
    assert parse_notice_days(" 30; 180,90 , 30") == (180, 90, 30)
    for text, message in [
        ("ninety", "'ninety' is not a number of days"),
        ("0", "'0' is not a number of days"),
        ("1,2,3,4,5,6,7", "at most 6"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_notice_days(text)
    product = renewing.catalog.add_product(renewing.catalog.add_vendor("Zoom"), "Meetings")
    with pytest.raises(ValidationError, match="Notice periods: 'soon' is not"):
        renewing.catalog.add_entitlement(
            EntitlementInput(
                product, Metric.PER_USER, 1, term_end=dt.date(2027, 5, 1), notice_days="soon"
            )
        )
    with pytest.raises(ValidationError, match="cancel-by date 2027-06-01 is after the term"):
        renewing.catalog.add_entitlement(
            EntitlementInput(
                product,
                Metric.PER_USER,
                1,
                term_end=dt.date(2027, 5, 1),
                cancel_by=dt.date(2027, 6, 1),
            )
        )


def test_the_command_line_lists_and_writes_the_calendar(
    admin: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By today's date: a license ending in 45 days has reached its 90-day notice (45 days ago);
    in the next 90 days come its 30-day notice (in 15 days) and its end."""
    today = dt.date.today()
    end = today + dt.timedelta(days=45)
    product = admin.catalog.add_product(admin.catalog.add_vendor("Figma"), "Professional")
    admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.PER_USER, 9, term_end=end, po_reference="PO-9")
    )
    target = tmp_path / "cal.ics"
    assert cli.main(["renewals", "--db", admin.db.url, "--ics", str(target)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Needs a decision now: 1 license",
        f"  {end - dt.timedelta(days=90)}  Figma Professional (PO-9): ends on {end}, in 45 days",
        "Next 90 days: 2 reminders",
        f"  {end - dt.timedelta(days=30)}  Figma Professional (PO-9): ends on {end}, in 30 days",
        f"  {end}  Figma Professional (PO-9): the term ends today",
        f"Wrote 2 events of the next two years to {target}.",
    ]
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")


def test_purchase_files_give_notice_periods_and_cancel_by_dates(
    admin: Services, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from seatledger.ingest.formats import Kind
    from seatledger.services.imports.options import ImportOptions
    from seatledger.store.models import Entitlement

    good = tmp_path / "purchases.csv"
    good.write_text(
        "Vendor,Product,Metric,Quantity,End date,PO number,Notice days,Cancel by\n"
        "Adobe,Acrobat Pro,named_user,40,2027-03-31,PO-1,30 90,\n"
        'Zoom,Meetings,named_user,10,2027-05-31,PO-2,"60, 30",2027-04-30\n',
        encoding="utf-8",
    )
    problems = admin.imports.preview(good, ImportOptions(Kind.ENTITLEMENTS)).problems
    assert [(p.line, p.column) for p in problems] == [(2, "Notice days (Notice periods)")]
    good.write_text(good.read_text().replace("30 90", "90; 30"), encoding="utf-8")
    admin.imports.commit(good, ImportOptions(Kind.ENTITLEMENTS))
    with admin.db.read() as session:
        stored = session.execute(
            select(
                Entitlement.po_reference, Entitlement.notice_days, Entitlement.cancel_by
            ).order_by(Entitlement.po_reference)
        ).all()
    assert [tuple(row) for row in stored] == [
        ("PO-1", "90, 30", None),
        ("PO-2", "60, 30", dt.date(2027, 4, 30)),
    ]


def test_a_due_license_says_its_cancel_by_date_while_it_is_ahead() -> None:
    """Ends 2027-01-01 with notices 90 and 30 days before; cancel by 2026-12-12.  On 2026-12-07
    the 30-day notice (2026-12-02) is reached: 25 days left, the cancel-by date in 5."""
    term = Term(3, "Salesforce Tableau", dt.date(2027, 1, 1), (90, 30), dt.date(2026, 12, 12))
    [now] = due([term], dt.date(2026, 12, 7))
    assert (now.day, now.when) == (dt.date(2026, 12, 2), When.NOTICE)
    assert now.text == "ends on 2027-01-01, in 25 days; cancel by 2026-12-12, in 5 days"
    [later] = due([term], dt.date(2026, 12, 20))  # the cancel-by date has passed
    assert (later.when, later.text) == (When.CANCEL_BY, "ends on 2027-01-01, in 12 days")
    assert due([term], dt.date(2027, 1, 2)) == []  # ended: nothing to decide any more
