"""The People page says when someone HR employs has a disabled directory account (issue 13)."""

from __future__ import annotations

import datetime as dt

from seatledger.services.core.tables import Row
from seatledger.services.directory.queries import PeopleColumn
from seatledger.ui.pages.people import PeopleWithAccounts
from seatledger.ui.presenters import inactive_color, over_limit_color

LINE = "ad.csv (SHA-256 3f2a9c01b7e4…), line 2"


def _row(status: str, seats: int, disabled: bool | None, left: dt.date | None = None) -> Row:
    # The shown columns, then date left, account disabled, source, account source.
    return ("E1", "Ann", "", None, None, "", status, seats, left, disabled, "hr.csv", LINE)


def test_an_employed_persons_disabled_account_is_said_in_red_with_its_line() -> None:
    presenter = PeopleWithAccounts()
    disabled = _row("active", 2, True)
    assert presenter.display(disabled, PeopleColumn.STATUS) == "Active, account disabled"
    for column in (PeopleColumn.STATUS, PeopleColumn.SEATS):
        red = presenter.foreground(disabled, column)
        assert red is not None
        assert red.color() == over_limit_color()
    assert presenter.tooltip(disabled, PeopleColumn.STATUS) == (
        f"Directory account disabled (per {LINE}); HR employs them and they still hold 2 "
        "seats: a finding until the account is enabled or the seats released"
    )
    enabled = _row("active", 2, False)
    assert presenter.display(enabled, PeopleColumn.STATUS) == "Active"
    assert presenter.foreground(enabled, PeopleColumn.SEATS) is None
    assert presenter.tooltip(enabled, PeopleColumn.STATUS) == (
        f"Directory account enabled (per {LINE})"
    )
    assert presenter.tooltip(_row("active", 2, None), PeopleColumn.STATUS) is None
    # HR says they left: a leaver, as ever, whatever the directory says.
    left = _row("left", 1, True, dt.date(2026, 1, 31))
    assert presenter.display(left, PeopleColumn.STATUS) == "Left 2026-01-31"
    grey = presenter.foreground(left, PeopleColumn.NAME)
    assert grey is not None
    assert grey.color() == inactive_color()
