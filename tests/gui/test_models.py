"""The keyed table model over every query, its laziness, its SQL sorting, and the presenters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from seatledger.domain.licensing import Metric
from seatledger.services.catalog.queries import EntitlementColumn, EntitlementQuery, EntitlementRow
from seatledger.services.core.tables import Row, TableColumn, TableQuery
from seatledger.services.directory.queries import (
    DeviceColumn,
    DeviceQuery,
    PeopleColumn,
    PeopleQuery,
)
from seatledger.services.ledger.activity import ActivityColumn, ActivityFilter, ActivityQuery
from seatledger.services.operators.session import Services
from seatledger.services.seats.queries import SeatColumn, SeatQuery
from seatledger.ui.list_model import AtLeast, AtMost, ListColumn, ListTableModel
from seatledger.ui.presenters import (
    ActivityPresenter,
    DevicePresenter,
    EntitlementPresenter,
    PeoplePresenter,
    SeatPresenter,
    inactive_color,
    over_limit_color,
)
from seatledger.ui.table_model import (
    BLOCK,
    KEY_ROLE,
    RIGHT,
    SORT_ROLE,
    KeyedTableModel,
    Presenter,
    plain,
)

pytestmark = pytest.mark.gui

DISPLAY = Qt.ItemDataRole.DisplayRole
FOREGROUND = Qt.ItemDataRole.ForegroundRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


class FakeQuery:
    """An in-memory query that records how the model uses it."""

    columns = ("Name", "Number", "Even")
    sortable = (True, True, False)

    def __init__(self, size: int) -> None:
        self.size = size
        self.sort_column = 0
        self.descending = False
        self.keys_calls = 0
        self.rows_calls = 0
        self.largest_request = 0

    def keys(self) -> Sequence[int]:
        self.keys_calls += 1
        return range(self.size - 1, -1, -1) if self.descending else range(self.size)

    def rows(self, keys: Sequence[int]) -> dict[int, Row]:
        self.rows_calls += 1
        self.largest_request = max(self.largest_request, len(keys))
        return {key: (f"row {key:05}", key, key % 2 == 0) for key in keys}


def _model(query: TableQuery, presenter: Presenter | None = None) -> KeyedTableModel:
    return KeyedTableModel(query, presenter)


def _paint(view: QTableView) -> None:
    """Paint the view now, as the screen would (grab renders synchronously)."""
    view.grab()


def _texts(model: KeyedTableModel, column: int) -> list[str]:
    return [model.index(row, column).data(DISPLAY) for row in range(model.rowCount())]


@pytest.fixture
def busy(admin: Services, org: Any) -> Services:
    """The small organization with seats assigned, one released and one person who left."""
    ids = admin.seats.assign(org.acrobat, people=org.people[:3]).assignment_ids
    admin.seats.release(ids[:1], "moved team")
    admin.seats.assign(org.sql_server, devices=org.devices[:1])
    admin.directory.mark_left(org.people[4], dt.date(2026, 1, 31), "resigned")
    return admin


# ------------------------------------------------------------------------ model tester


def test_license_model_passes_the_model_tester(qtmodeltester: ModelTester, busy: Services) -> None:
    model = _model(EntitlementQuery(busy.ctx), EntitlementPresenter())
    assert model.rowCount() == 2
    qtmodeltester.check(model)
    model.sort(EntitlementColumn.QUANTITY, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    assert _texts(model, EntitlementColumn.QUANTITY) == ["16", "3"]


def test_people_model_passes_the_model_tester(qtmodeltester: ModelTester, busy: Services) -> None:
    model = _model(PeopleQuery(busy.ctx), PeoplePresenter())
    assert model.rowCount() == 5
    qtmodeltester.check(model)
    model.sort(PeopleColumn.SEATS, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    assert _texts(model, PeopleColumn.SEATS)[:2] == ["1", "1"]


def test_device_model_passes_the_model_tester(qtmodeltester: ModelTester, busy: Services) -> None:
    model = _model(DeviceQuery(busy.ctx), DevicePresenter())
    qtmodeltester.check(model)
    model.sort(4, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    assert _texts(model, 0) == ["db-01", "db-02"]


def test_seat_model_passes_the_model_tester(
    qtmodeltester: ModelTester, busy: Services, org: Any
) -> None:
    acrobat: int = org.acrobat
    open_only = _model(SeatQuery(busy.ctx, acrobat), SeatPresenter())
    assert open_only.rowCount() == 2
    qtmodeltester.check(open_only)
    history = _model(SeatQuery(busy.ctx, acrobat, include_released=True), SeatPresenter())
    assert history.rowCount() == 3
    qtmodeltester.check(history)
    history.sort(SeatColumn.RELEASED, Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(history)


def test_activity_model_passes_the_model_tester(qtmodeltester: ModelTester, busy: Services) -> None:
    everything = _model(ActivityQuery(busy.ctx), ActivityPresenter())
    qtmodeltester.check(everything)
    seats = _model(
        ActivityQuery(busy.ctx, ActivityFilter(entity_type="entitlement")), ActivityPresenter()
    )
    qtmodeltester.check(seats)
    assert 0 < seats.rowCount() < everything.rowCount()
    assert set(_texts(seats, ActivityColumn.ACTION)) == {
        "entitlement.create",
        "seat.assign",
        "seat.bulk_assign",
    }
    seats.sort(0, Qt.SortOrder.AscendingOrder)  # the ledger has one order: ignored
    qtmodeltester.check(seats)


def test_a_filtered_activity_list_reads_its_matches_a_page_at_a_time(
    qtmodeltester: ModelTester, qtbot: QtBot, busy: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An operator's entries may be most of a 10-million-entry ledger: a filter reads the newest
    # page of matches and the next page when the view scrolls to the end, never all of them.
    every = list(ActivityQuery(busy.ctx, ActivityFilter(operator="admin")).keys())
    assert len(every) >= 7
    monkeypatch.setattr(ActivityQuery, "page_size", 3)
    model = _model(ActivityQuery(busy.ctx, ActivityFilter(operator="admin")), ActivityPresenter())
    assert model.rowCount() == 3
    assert not model.complete
    assert [model.key_at(row) for row in range(3)] == every[:3]
    qtmodeltester.check(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(800, 2000)  # tall enough for every row: the view fetches until it is full
    _paint(view)
    view.scrollToBottom()
    while model.canFetchMore(model.index(-1, -1)):
        model.fetchMore(model.index(-1, -1))
    assert model.complete
    assert [model.key_at(row) for row in range(model.rowCount())] == every  # no gap, no repeat
    assert set(_texts(model, ActivityColumn.OPERATOR)) == {"admin"}
    qtmodeltester.check(model)


def test_model_tester_on_a_large_fake_query(qtmodeltester: ModelTester) -> None:
    model = _model(FakeQuery(1_000))
    qtmodeltester.check(model)
    model.sort(1, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)


# ------------------------------------------------------------------------ resets


def test_twenty_thousand_resets_do_not_crash(qtbot: QtBot) -> None:
    """Guards the PySide6 pin: 6.12.0 on Python 3.11 aborts after a few thousand model resets."""
    query = FakeQuery(50)
    model = _model(query)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    resets = 0

    def count() -> None:
        nonlocal resets
        resets += 1

    model.modelReset.connect(count)
    for _ in range(20_000):
        model.reload()
    assert resets == 20_000
    assert model.rowCount() == 50
    assert model.index(49, 0).data(DISPLAY) == "row 00049"


# ------------------------------------------------------------------------ laziness


def test_rows_are_fetched_per_visible_block_not_per_row(qtbot: QtBot) -> None:
    query = FakeQuery(10_000)
    model = _model(query)
    assert query.rows_calls == 0  # holding the keys costs no row query
    view = QTableView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.setModel(model)
    view.show()
    _paint(view)
    after_first_paint = query.rows_calls
    assert 1 <= after_first_paint <= 2

    view.scrollToBottom()
    _paint(view)
    assert query.rows_calls - after_first_paint <= 2
    last = model.rowCount() - 1
    assert view.indexAt(view.viewport().rect().bottomLeft()).row() in range(last - 2, last + 1)

    # Scrolling through all 10,000 rows (half a block at a time, to keep the test quick) fetches
    # about one block per BLOCK rows, never row by row.
    view.scrollToTop()
    before = query.rows_calls
    bar = view.verticalScrollBar()
    while bar.value() < bar.maximum():
        bar.setValue(bar.value() + BLOCK // 2)
        _paint(view)
    walked = query.rows_calls - before
    assert walked <= 10_000 // (BLOCK // 2) + 4
    assert query.largest_request <= BLOCK + 1


def test_sorting_reruns_the_query(qtbot: QtBot) -> None:
    query = FakeQuery(300)
    model = _model(query)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSortingEnabled(True)
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert (query.sort_column, query.descending) == (1, True)
    assert model.index(0, 1).data(SORT_ROLE) == 299
    assert model.index(0, 0).data(KEY_ROLE) == 299
    calls = query.keys_calls
    view.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # not sortable: the query is not re-run
    assert query.keys_calls == calls
    assert (query.sort_column, query.descending) == (1, True)


# ------------------------------------------------------------------------ presenters


def _license(**changes: object) -> Row:
    fields: dict[str, object] = {
        "id": 1,
        "vendor": "Contoso",
        "product": "PDF Studio",
        "name": "",
        "metric": Metric.PER_USER,
        "quantity": 1200,
        "used": 1000,
        "term_start": None,
        "term_end": None,
        "unit_cost": Decimal("12.50"),
        "currency": "EUR",
        "po_reference": "PO-1",
    }
    fields.update(changes)
    return (EntitlementRow(**fields),)  # type: ignore[arg-type]


def test_license_presenter_formats_and_flags() -> None:
    today = dt.date(2026, 6, 1)
    presenter = EntitlementPresenter(today=lambda: today)
    row = _license()
    assert presenter.display(row, EntitlementColumn.QUANTITY) == "1,200"
    assert presenter.display(row, EntitlementColumn.UTILIZATION) == "83 %"
    assert presenter.alignment(EntitlementColumn.FREE) == RIGHT
    assert presenter.foreground(row, 0) is None

    over = _license(quantity=5, used=8)
    assert presenter.display(over, EntitlementColumn.FREE) == "−3"
    brush = presenter.foreground(over, 0)
    assert brush is not None
    assert brush.color() == over_limit_color()
    assert presenter.tooltip(over, 0) == "3 over the purchased limit"

    expired = _license(term_end=dt.date(2026, 5, 1), used=0)
    brush = presenter.foreground(expired, 0)
    assert brush is not None
    assert brush.color() == inactive_color()
    assert presenter.tooltip(expired, 0) == "Expired on 2026-05-01"
    assert presenter.display(expired, EntitlementColumn.TERM_END) == "2026-05-01"
    in_use = _license(term_end=dt.date(2026, 5, 1), used=1200)
    assert presenter.tooltip(in_use, 0) == (
        "Expired on 2026-05-01 with 1,200 still in use: renew or release"
    )

    soon = _license(term_end=dt.date(2026, 6, 21))
    assert presenter.tooltip(soon, 3) == "Ends in 20 days, on 2026-06-21"

    site = _license(metric=Metric.SITE, quantity=0, used=4000)
    assert presenter.display(site, EntitlementColumn.QUANTITY) == "Unlimited"
    assert presenter.display(site, EntitlementColumn.UTILIZATION) == "—"
    assert presenter.foreground(site, 0) is None


def test_people_presenter_greys_people_who_left() -> None:
    presenter = PeoplePresenter()
    active: Row = ("E1", "Ada", "ada@example.org", "Finance", "Eve", "CC-1", "active", 2, None)
    left: Row = ("E2", "Bob", "", None, None, "", "left", 1, dt.date(2026, 1, 31))
    assert presenter.display(active, PeopleColumn.STATUS) == "Active"
    assert presenter.display(left, PeopleColumn.STATUS) == "Left 2026-01-31"
    assert presenter.foreground(active, 0) is None
    grey = presenter.foreground(left, PeopleColumn.NAME)
    assert grey is not None
    assert grey.color() == inactive_color()
    red = presenter.foreground(left, PeopleColumn.SEATS)
    assert red is not None
    assert red.color() == over_limit_color()
    assert presenter.tooltip(left, 0) == "Left on 2026-01-31; still holds 1 seat: release them"
    assert presenter.display(left, PeopleColumn.TEAM) == ""


@pytest.mark.parametrize(
    ("query", "columns"),
    [
        (EntitlementQuery, EntitlementColumn),
        (PeopleQuery, PeopleColumn),
        (DeviceQuery, DeviceColumn),
        (SeatQuery, SeatColumn),
        (ActivityQuery, ActivityColumn),
    ],
)
def test_each_query_names_its_columns_by_position(
    query: type[TableQuery], columns: type[TableColumn]
) -> None:
    assert [int(column) for column in columns] == list(range(len(columns)))
    assert query.columns == tuple(column.title for column in columns)
    assert len(query.sortable) == len(columns)


def test_cell_texts_of_keyed_tables_and_computed_lists(qtbot: QtBot) -> None:
    """Both models word amounts and counts alike; they differ on nothing, truth and dates."""
    values: list[Any] = [
        None,
        True,
        False,
        Decimal("1234.5"),
        1234567,
        AtLeast(28),
        AtMost(12),
        dt.date(2026, 3, 1),
        "text",
    ]
    listed: ListTableModel[Any] = ListTableModel([ListColumn("Value", lambda v: v)])
    listed.set_rows(values)
    shown = [listed.data(listed.index(n, 0)) for n in range(len(values))]
    assert shown == [
        "—",
        "yes",
        "no",
        "1,234.50",
        "1,234,567",
        "≥ 28",
        "≤ 12",
        "2026-03-01",
        "text",
    ]
    assert [plain(v) for v in values] == [
        "",
        "Yes",
        "",
        "1,234.50",
        "1,234,567",
        "28",
        "12",
        "2026-03-01",
        "text",
    ]
