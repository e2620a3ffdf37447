"""How a stored value is compared with the value a ledger entry recorded (the one place)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from seatledger.domain.state import Difference, Kind, Match, compare_row, compare_value, shown

UTC = dt.UTC


@pytest.mark.parametrize(
    ("stored", "recorded", "match"),
    [
        (105, 105, Match.SAME),
        (605, 105, Match.DIFFERENT),
        ("Ann", "Ann", Match.SAME),
        ("Ann", "Anne", Match.DIFFERENT),
        (None, None, Match.SAME),
        (None, "2026-01-31", Match.DIFFERENT),
        ("", None, Match.DIFFERENT),  # empty text is not "not given"
        (dt.date(2026, 1, 31), "2026-01-31", Match.SAME),
        (dt.date(2026, 1, 31), "2026-02-01", Match.DIFFERENT),
        (Decimal("0.500"), "0.5", Match.SAME),  # a NUMERIC column keeps its scale
        (Decimal("1200.5000"), "1200.50", Match.SAME),
        (Decimal("1.000"), "0.5000", Match.DIFFERENT),
        (Decimal("1.000"), "one", Match.DIFFERENT),
        (True, True, Match.SAME),
        (1, True, Match.SAME),  # SQLite's 1 for true
        (0, True, Match.DIFFERENT),
        # SQLite gives naive UTC, PostgreSQL aware times; the ledger writes ISO with Z.
        (dt.datetime(2026, 5, 19, 8, 22, 27, 948122), "2026-05-19T08:22:27.948122Z", Match.SAME),
        (
            dt.datetime(2026, 5, 19, 10, 22, 27, 948122, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2026-05-19T08:22:27.948122Z",
            Match.SAME,
        ),
        (dt.datetime(2026, 5, 19, 8, 22, 28, tzinfo=UTC), "2026-05-19T08:22:27Z", Match.DIFFERENT),
        (dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), 1_000_000, Match.SAME),  # microseconds
        ("Ann", {"commit": "ab" * 32}, Match.SEALED),
        ("Ann", {"commit": "not hex"}, Match.DIFFERENT),
    ],
)
def test_compare_value(stored: Any, recorded: Any, match: Match) -> None:
    assert compare_value(stored, recorded) is match


def test_a_row_names_each_field_that_differs_and_skips_what_was_never_recorded() -> None:
    stored = {"quantity": 605, "name": "Campus", "notes": "x", "cancel_by": None}
    recorded = {"quantity": 105, "name": "Campus", "notes": {"commit": "0" * 64}}
    found, unrecorded, sealed = compare_row(
        "entitlement", 22, stored, recorded, ("quantity", "name", "notes", "cancel_by"), 7
    )
    assert [d.message() for d in found] == [
        "entitlement 22: quantity is 605 in the database, the ledger says 105"
    ]
    assert found[0].parent == 7
    assert (unrecorded, sealed) == (["cancel_by"], 1)


def test_messages_name_the_row_and_show_values_plainly() -> None:
    assert Difference("vendor", 19, Kind.UNRECORDED_ROW).message() == (
        "vendor 19 is in the database, but no ledger entry made it"
    )
    assert Difference("seat_assignment", 5, Kind.MISSING_ROW).message() == (
        "seat_assignment 5 is not in the database, but the ledger made it"
    )
    assert shown(None) == "empty"
    assert shown("") == "''"
    assert shown(dt.datetime(2026, 1, 1, 12)) == "2026-01-01T12:00:00+00:00"
