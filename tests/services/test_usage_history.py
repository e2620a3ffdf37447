"""Usage history: daily series and the forecast against a small hand-computed history.

The fixture (every figure below is worked out by hand from it):

- product "Designer" (named user): license A, 3 seats, 2026-01-01..2026-01-10; its renewal B,
  4 seats from 2026-01-11, trued up to 6 on 2026-01-20 (an ``entitlement.update``).
- team Finance: p1, p2, p3; team Sales: p4.
- seats: p1 on A 01-02 → released 01-11; p2 on A 01-03 → 01-11; p1 on B 01-11 (open);
  p4 on B 01-15 (open); p3 on B 01-21 → 01-25.
- installs of Designer: on p1's laptop 01-05 → removed 01-20; on p4's laptop from 01-10.
- checkouts of Designer: 01-12 09-12h, 10-11h and 12-13h (a hand-over at noon, not a peak);
  01-13 23h → 01-14 02h; 01-16 08h, never checked in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event

from conftest import sqlite_only
from seatledger.domain.licensing import Metric
from seatledger.errors import KnownError, NotFoundError, ValidationError
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.operators.session import Services
from seatledger.services.usage.history import Scope, UsageHistoryService, forecast
from seatledger.store.models import Installation, SoftwareTitle, UsageSession

D = dt.date
START, END = D(2025, 12, 30), D(2026, 1, 31)


def _at(day: int, hour: int = 10, month: int = 1) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def _by_day(values: dict[tuple[int, int], float]) -> list[float]:
    """A day-by-day list over START..END from {(first day, last day): value} (January days)."""
    out = [0.0] * ((END - START).days + 1)
    for (first, last), value in values.items():
        for day in range(first, last + 1):
            out[(D(2026, 1, day) - START).days] = value
    return out


class History:
    product: int
    vendor: int
    license_a: int
    license_b: int
    site: int
    finance: int
    sales: int
    p1: int


@pytest.fixture
def history(admin: Services) -> History:
    now = [_at(1, 8)]
    admin.ctx.clock = lambda: now[0]
    h = History()
    h.vendor = admin.catalog.add_vendor("Studio Soft")
    h.product = admin.catalog.add_product(h.vendor, "Designer")
    other = admin.catalog.add_product(h.vendor, "Viewer")
    a = EntitlementInput(h.product, Metric.PER_USER, 3, "2025 term", D(2026, 1, 1), D(2026, 1, 10))
    h.license_a = admin.catalog.add_entitlement(a)
    b = EntitlementInput(
        h.product, Metric.PER_USER, 4, "2026 term", D(2026, 1, 11), D(2026, 12, 31),
        unit_cost=Decimal(100),
    )  # fmt: skip
    h.license_b = admin.catalog.add_entitlement(b)
    h.site = admin.catalog.add_entitlement(
        EntitlementInput(other, Metric.SITE, 0, "site", D(2026, 1, 20), None)
    )
    h.finance = admin.directory.add_team("Finance", "CC-100")
    h.sales = admin.directory.add_team("Sales", "CC-200")
    p1, p2, p3 = (
        admin.directory.add_person(PersonInput(f"F{n}", f"Fin {n}", team_id=h.finance))
        for n in (1, 2, 3)
    )
    p4 = admin.directory.add_person(PersonInput("S4", "Sal 4", team_id=h.sales))
    h.p1 = p1
    laptop1 = admin.directory.add_device(DeviceInput("lap-1", owner_id=p1))
    laptop4 = admin.directory.add_device(DeviceInput("lap-4", owner_id=p4))

    def assign(when: dt.datetime, license_id: int, person: int) -> int:
        now[0] = when
        return admin.seats.assign(license_id, people=[person]).assignment_ids[0]

    def release(when: dt.datetime, *ids: int) -> None:
        now[0] = when
        admin.seats.release(list(ids))

    s1 = assign(_at(2, 9), h.license_a, p1)
    s2 = assign(_at(3), h.license_a, p2)
    release(_at(11, 8), s1, s2)
    assign(_at(11, 9), h.license_b, p1)
    assign(_at(15), h.license_b, p4)
    now[0] = _at(20, 14)
    admin.catalog.update_entitlement(h.license_b, b.__class__(**{**_fields(b), "quantity": 6}))
    s5 = assign(_at(21), h.license_b, p3)
    release(_at(25), s5)
    now[0] = _at(31, 18)

    with admin.db.write() as session:
        title = SoftwareTitle(
            publisher="Studio Soft", title="Designer", version="5", product_id=h.product
        )
        session.add(title)
        session.flush()
        session.add_all(
            [
                Installation(device_id=laptop1, title_id=title.id, first_seen=D(2026, 1, 5),
                             removed_on=D(2026, 1, 20), import_id=1),
                Installation(device_id=laptop4, title_id=title.id, first_seen=D(2026, 1, 10),
                             import_id=1),
            ]
        )  # fmt: skip
        sessions = [
            ("u1", _at(12, 9), _at(12, 12), p1),
            ("u2", _at(12, 10), _at(12, 11), p4),
            ("u3", _at(12, 12), _at(12, 13), p4),
            ("u1", _at(13, 23), _at(14, 2), p1),
            ("u4", _at(16, 8), None, p4),
        ]
        session.add_all(
            [
                UsageSession(feature="designer", user_name=user, host="h", checkout=out,
                             checkin=back, units=1, product_id=h.product, person_id=person,
                             import_id=1)
                for user, out, back, person in sessions
            ]
        )  # fmt: skip
    return h


def _fields(data: EntitlementInput) -> dict[str, object]:
    return {name: getattr(data, name) for name in EntitlementInput.__slots__}


SEATS = _by_day({(2, 2): 1, (3, 10): 2, (11, 14): 1, (15, 20): 2, (21, 24): 3, (25, 31): 2})
LIMIT = _by_day({(1, 10): 3, (11, 19): 4, (20, 31): 6})
INSTALLS = _by_day({(5, 9): 1, (10, 19): 2, (20, 31): 1})
PEAKS = _by_day({(12, 12): 2, (13, 14): 1, (16, 31): 1})


def test_product_series_follows_renewal_and_true_up(admin: Services, history: History) -> None:
    series = UsageHistoryService(admin.ctx).series(Scope(product_id=history.product), START, END)

    assert series.days[0] == np.datetime64("2025-12-30")
    assert len(series.days) == 33
    assert series.used.tolist() == SEATS
    assert series.limit.tolist() == LIMIT
    assert series.installs is not None
    assert series.installs.tolist() == INSTALLS
    assert series.peaks is not None
    assert series.peaks.tolist() == PEAKS
    assert series.label == "Studio Soft Designer"
    assert series.unit == "seats"
    assert series.at(D(2026, 1, 20)) == (2, 6.0)


def test_license_series_counts_its_own_term(admin: Services, history: History) -> None:
    service = UsageHistoryService(admin.ctx)
    a = service.series(Scope(entitlement_id=history.license_a), START, END)
    b = service.series(Scope(entitlement_id=history.license_b), START, END)

    assert a.used.tolist() == _by_day({(2, 2): 1, (3, 10): 2})
    assert a.limit.tolist() == _by_day({(1, 10): 3})
    assert b.used.tolist() == _by_day({(11, 14): 1, (15, 20): 2, (21, 24): 3, (25, 31): 2})
    assert b.limit.tolist() == _by_day({(11, 19): 4, (20, 31): 6})
    assert "license #" in b.label
    assert b.notes  # installs are the product's, and it says so


def test_team_scope_counts_its_peoples_seats(admin: Services, history: History) -> None:
    service = UsageHistoryService(admin.ctx)
    team = service.series(Scope(team_id=history.finance), START, END)

    assert team.used.tolist() == _by_day(
        {(2, 2): 1, (3, 10): 2, (11, 20): 1, (21, 24): 2, (25, 31): 1}
    )
    assert np.isnan(team.limit).all()
    assert team.forecast.reached_on is None
    assert team.installs is not None
    assert team.installs.tolist() == _by_day({(5, 19): 1})
    assert team.peaks is not None
    assert team.peaks.tolist() == _by_day({(12, 12): 1, (13, 14): 1})

    sales_designer = service.series(
        Scope(product_id=history.product, team_id=history.sales), START, END
    )
    assert sales_designer.used.tolist() == _by_day({(15, 31): 1})
    assert sales_designer.limit.tolist() == LIMIT  # the organization's, and the notes say so
    assert any("whole organization" in note for note in sales_designer.notes)


def test_vendor_and_everything_include_the_site_license(admin: Services, history: History) -> None:
    service = UsageHistoryService(admin.ctx)
    vendor = service.series(Scope(vendor_id=history.vendor), START, END)
    everything = service.series(Scope(), START, END)

    for series in (vendor, everything):
        assert series.used.tolist() == SEATS
        limit = series.limit.tolist()
        assert limit[: (D(2026, 1, 20) - START).days] == LIMIT[: (D(2026, 1, 20) - START).days]
        assert np.isnan(series.limit[(D(2026, 1, 20) - START).days :]).all()  # site in force
    assert vendor.label == "Studio Soft (all products)"
    assert everything.label == "All licenses"


def test_products_computed_together_match_one_by_one(admin: Services, history: History) -> None:
    service = UsageHistoryService(admin.ctx)
    together = service.product_series([history.product], START, END)[0]
    alone = service.series(Scope(product_id=history.product), START, END)

    assert together.used.tolist() == alone.used.tolist()
    assert together.limit.tolist() == alone.limit.tolist()
    assert together.installs is not None
    assert alone.installs is not None
    assert together.installs.tolist() == alone.installs.tolist()
    assert together.peaks is not None
    assert alone.peaks is not None
    assert together.peaks.tolist() == alone.peaks.tolist()


@sqlite_only
def test_many_products_count_their_installs_from_the_title_index_alone(
    admin: Services, history: History
) -> None:
    """The chart of many products reads no install row: the title index holds both days."""
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "installation" in statement and "count(" in statement.lower():
            statements.append((statement, parameters))

    event.listen(admin.db.engine, "before_cursor_execute", seen)
    try:
        series = UsageHistoryService(admin.ctx).product_series([history.product], START, END)
    finally:
        event.remove(admin.db.engine, "before_cursor_execute", seen)
    assert series[0].installs is not None
    assert int(series[0].installs.max()) == 2  # both laptops from 01-10 to 01-19
    [(statement, parameters)] = statements
    with admin.db.read() as session:
        plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = " | ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX ix_installation_title" in steps


def test_without_inventory_or_usage_there_are_no_such_lines(admin: Services) -> None:
    vendor = admin.catalog.add_vendor("V")
    product = admin.catalog.add_product(vendor, "P")
    admin.catalog.add_entitlement(EntitlementInput(product, Metric.PER_USER, 5))
    series = UsageHistoryService(admin.ctx).series(Scope(product_id=product), START, END)

    assert series.installs is None
    assert series.peaks is None
    assert series.limit.tolist() == [5.0] * 33  # no term: always in force


def test_team_costs(admin: Services, history: History) -> None:
    rows = UsageHistoryService(admin.ctx).team_costs(D(2026, 1, 31))
    by_team = {(r.team, r.currency): r for r in rows}

    finance = by_team["Finance", "EUR"]
    assert (finance.people, finance.seats, finance.licenses) == (3, 1, 1)
    assert finance.cost == Decimal("100.00")
    assert finance.cost_centre == "CC-100"
    sales = by_team["Sales", "EUR"]
    assert (sales.seats, sales.cost) == (1, Decimal("100.00"))
    on_the_21st = {
        r.team: r.seats for r in UsageHistoryService(admin.ctx).team_costs(D(2026, 1, 21))
    }
    assert on_the_21st == {"Finance": 2, "Sales": 1}


def test_a_move_between_teams_keeps_the_seats_held_before_it_with_the_old_team(
    admin: Services, history: History
) -> None:
    """p1 moves from Finance to Sales on 01-18, holding license B's seat since 01-11."""
    admin.ctx.clock = lambda: _at(18, 9)
    admin.directory.update_person(
        history.p1, PersonInput("F1", "Fin 1", team_id=history.sales), "transfer"
    )
    service = UsageHistoryService(admin.ctx)

    finance = service.series(Scope(team_id=history.finance), START, END)
    # Before: p1 (01-02 on A, then B) and p2 (A to 01-10); from the move only p3 (01-21..24).
    assert finance.used.tolist() == _by_day({(2, 2): 1, (3, 10): 2, (11, 17): 1, (21, 24): 1})
    # p1's laptop (installed 01-05, removed 01-20) goes with its owner; p1's checkouts on the
    # 12th and 13th stay Finance's.
    assert finance.installs is not None
    assert finance.installs.tolist() == _by_day({(5, 17): 1})
    assert finance.peaks is not None
    assert finance.peaks.tolist() == _by_day({(12, 12): 1, (13, 14): 1})
    sales = service.series(Scope(product_id=history.product, team_id=history.sales), START, END)
    # p4 from 01-15, joined by p1's seat on the day of the move.
    assert sales.used.tolist() == _by_day({(15, 17): 1, (18, 31): 2})
    assert sales.installs is not None
    assert sales.installs.tolist() == _by_day({(10, 17): 1, (18, 19): 2, (20, 31): 1})

    def seats(day: dt.date) -> dict[str, tuple[int, int, Decimal | None]]:
        return {
            r.team: (r.people, r.seats, r.cost)
            for r in service.team_costs(day)
            if r.team_id is not None
        }

    # The day before the move p1's seat on B (100 EUR) is Finance's; from the move, Sales'.
    assert seats(D(2026, 1, 17)) == {
        "Finance": (3, 1, Decimal("100.00")),
        "Sales": (1, 1, Decimal("100.00")),
    }
    assert seats(D(2026, 1, 18)) == {
        "Finance": (2, 0, Decimal(0)),
        "Sales": (2, 2, Decimal("200.00")),
    }
    assert seats(D(2026, 1, 21)) == {
        "Finance": (2, 1, Decimal("100.00")),
        "Sales": (2, 2, Decimal("200.00")),
    }


def test_moving_back_on_the_same_day_leaves_no_day_with_the_other_team(
    admin: Services, history: History
) -> None:
    admin.ctx.clock = lambda: _at(18, 9)
    for team in (history.sales, history.finance):
        admin.directory.update_person(history.p1, PersonInput("F1", "Fin 1", team_id=team))
    finance = UsageHistoryService(admin.ctx).series(Scope(team_id=history.finance), START, END)
    assert finance.used.tolist() == _by_day(
        {(2, 2): 1, (3, 10): 2, (11, 20): 1, (21, 24): 2, (25, 31): 1}
    )


def test_find_scope_by_name(admin: Services, history: History) -> None:
    service = UsageHistoryService(admin.ctx)

    assert service.find_scope(product="studio soft designer") == Scope(product_id=history.product)
    assert service.find_scope(vendor="Studio Soft", product="Designer") == Scope(
        product_id=history.product, vendor_id=history.vendor
    )
    assert service.find_scope(team="cc-200") == Scope(team_id=history.sales)
    with pytest.raises(NotFoundError, match="No product named 'Nope'"):
        service.find_scope(product="Nope")
    with pytest.raises(NotFoundError, match="#999"):
        service.find_scope(license_id=999)
    with pytest.raises(ValidationError, match="before it starts"):
        service.series(Scope(), END, START)


# ----------------------------------------------------------------------------- the forecast


def _days(count: int, first: str = "2026-01-01") -> np.ndarray:
    return np.datetime64(first, "D") + np.arange(count)


def test_forecast_extends_the_least_squares_line() -> None:
    used = np.arange(100, dtype=np.int64)  # one more seat a day
    limit = np.full(100, 120.0)
    result = forecast(_days(100), used, limit)

    # Fitted on the last 90 days (day 10 to day 99): slope 1, at 99 on 2026-04-10.
    assert result.fit_start == D(2026, 1, 11)
    assert result.fit_end == D(2026, 4, 10)
    assert result.slope_per_day == pytest.approx(1.0)
    assert result.reached_on == D(2026, 5, 1)  # 21 more days to 120
    assert "least-squares line" in result.method
    assert "last 90 days" in result.method
    assert "2026-05-01" in result.method
    line_days, line_values = result.line(D(2026, 5, 1))
    assert line_values.tolist() == pytest.approx([10.0, 120.0])
    assert line_days.tolist() == [D(2026, 1, 11), D(2026, 5, 1)]


def test_forecast_only_fits_days_up_to_today() -> None:
    used = np.concatenate([np.arange(50), np.full(50, 49)]).astype(np.int64)
    result = forecast(_days(100), used, np.full(100, 200.0), today=D(2026, 2, 19))  # day 49
    assert result.fit_end == D(2026, 2, 19)
    assert result.slope_per_day == pytest.approx(1.0)
    assert result.reached_on == D(2026, 2, 19) + dt.timedelta(days=151)


def test_forecast_when_flat_over_short_or_uncapped() -> None:
    flat = forecast(_days(60), np.full(60, 5, dtype=np.int64), np.full(60, 10.0))
    assert flat.reached_on is None
    assert "(2026-01-01 to 2026-03-01) stays flat: flat or falling" in flat.method

    # Issue 17: "+0.00 seats/day (+0.1 a month)" for a line that barely moves; less than a
    # unit a day is said per month (one seat more halfway through 60 days: a fitted slope of
    # 7.5 / 299.92 = 0.025 a day, 0.76 a month), and a falling line never reads "-0.00".
    creeping = np.array([5] * 30 + [6] * 30, dtype=np.int64)
    slow = forecast(_days(60), creeping, np.full(60, 10.0), unit="seats")
    assert "changes by +0.8 seats a month" in slow.method
    assert "/day" not in slow.method
    falling = forecast(_days(60), creeping[::-1].copy(), np.full(60, 10.0), unit="seats")
    assert "changes by -0.8 seats a month: flat or falling" in falling.method
    fast = forecast(
        _days(100), np.arange(100, dtype=np.int64) * 2, np.full(100, 500.0), unit="seats"
    )
    assert "changes by +2.00 seats a day" in fast.method

    # Over the limit since a license existed: the days before it (limit 0, nothing used) are
    # not "at or above it" (issue 17: "since 2025-12-07", the chart's first day).
    late = np.array([0] * 10 + [12] * 20, dtype=np.int64)
    bought = np.array([0.0] * 10 + [10.0] * 20)
    created = forecast(_days(30), late, bought)
    assert created.reached_on == D(2026, 1, 11)
    assert "at or above it since 2026-01-11" in created.method
    always = forecast(_days(30), np.full(30, 12, dtype=np.int64), np.full(30, 10.0))
    assert "at or above it on every day of the range, from 2026-01-01" in always.method

    over = np.array([1] * 20 + [11] * 10, dtype=np.int64)
    already = forecast(_days(30), over, np.full(30, 10.0))
    assert already.reached_on == D(2026, 1, 21)
    assert already.method.startswith("Over the limit of 10")

    short = forecast(_days(5), np.arange(5, dtype=np.int64), np.full(5, 10.0))
    assert short.reached_on is None
    assert "at least 14" in short.method

    # The service gives a site license's days as NaN (no limit); issue 17: "All licenses" said
    # "nothing caps this scope … (a site license, or a team)".
    site = forecast(_days(30), np.arange(30, dtype=np.int64), np.full(30, np.nan))
    assert site.reached_on is None
    assert "a license without a seat limit on its last day (a site license)" in site.method

    unbought = forecast(_days(30), np.zeros(30, dtype=np.int64), np.zeros(30))
    assert unbought.reached_on is None
    assert unbought.method.startswith("No forecast: nothing bought in this scope is in term")


def test_series_forecast_uses_the_limit_in_force(admin: Services, history: History) -> None:
    series = UsageHistoryService(admin.ctx).series(Scope(product_id=history.product), START, END)
    # Fitted on all 33 days (fewer than 90), to the clock's day 2026-01-31, against the limit 6.
    assert series.forecast.fit_start == START
    assert series.forecast.fit_end == END
    assert "the limit of 6" in series.forecast.method


def test_chargeback_export_escapes_formulas(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from seatledger.services.position.export import export_table
    from seatledger.services.usage.history import TEAM_HEADERS, TeamCost, team_cells

    rows = [TeamCost(1, "=HYPERLINK(1)", "+CC", 2, 3, 1, Decimal("12.50"), "EUR", 0)]
    csv_path = export_table(TEAM_HEADERS, [team_cells(r) for r in rows], tmp_path / "t.csv")
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1] == "'=HYPERLINK(1),'+CC,2,3,1,12.5,EUR,0"
    book = load_workbook(
        export_table(TEAM_HEADERS, [team_cells(r) for r in rows], tmp_path / "t.xlsx")
    )
    sheet = book.active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:2] == ["'=HYPERLINK(1)", "'+CC"]
    with pytest.raises(KnownError, match=r"\.csv or \.xlsx"):
        export_table(TEAM_HEADERS, [], tmp_path / "t.json")


def test_a_concurrent_license_forecasts_from_its_peaks(admin: Services) -> None:
    vendor = admin.catalog.add_vendor("CAD Corp")
    product = admin.catalog.add_product(vendor, "Solver")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.CONCURRENT, 10, term_start=D(2026, 1, 1))
    )
    start = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    with admin.db.write() as session:  # one more simultaneous checkout every third day
        session.add_all(
            [
                UsageSession(feature="solver", user_name=f"u{n}", host="h",
                             checkout=start + dt.timedelta(days=day), checkin=
                             start + dt.timedelta(days=day, hours=2), units=1,
                             product_id=product, import_id=1)
                for day in range(60)
                for n in range(day // 3 % 9)
            ]
        )  # fmt: skip
    admin.ctx.clock = lambda: dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    series = UsageHistoryService(admin.ctx).series(
        Scope(entitlement_id=license_id), D(2026, 1, 1), D(2026, 3, 1)
    )
    assert series.peaks is not None
    assert int(series.peaks[59]) == 59 // 3 % 9
    assert "peaks of concurrent checkouts (the highest in each 7 days)" in series.forecast.method
    assert series.forecast.level_at_fit_end == pytest.approx(8, abs=1.5)  # weekly highs, not 5.3
