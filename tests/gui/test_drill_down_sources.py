"""Reconciliation's drill-down names where each row came from, and its export carries the
sources: the data of ``tests/services/test_record_sources.py`` (its lines counted by hand there),
as a user sees it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from tests.services.test_record_sources import _purchases_seats_and_use, _utc_day, _where

from seatledger.services.directory.queries import PeopleColumn
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Column
from seatledger.ui.main_window import MainWindow
from seatledger.ui.pages.reconciliation import ReconciliationPage

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def test_the_drill_down_shows_sources_and_the_export_has_a_sources_sheet(
    qtbot: QtBot,
    qtmodeltester: ModelTester,
    make_window: Callable[[Services], MainWindow],
    admin: Services,
    tmp_path: Path,
) -> None:
    made = _purchases_seats_and_use(admin, tmp_path)
    window = make_window(admin)
    qtbot.keyClick(window.licenses.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    page.select_number("PDF Studio", Column.NEEDED)
    model = page.holder_model
    qtmodeltester.check(model)
    headers = [
        model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        for c in range(model.columnCount())
    ]
    assert headers[-2:] == ["Source", "Person or device from"]
    shown = {
        model.index(r, 1).data(): (model.index(r, 4).data(), model.index(r, 5).data())
        for r in range(model.rowCount())
    }
    hr = str(made["hr"])
    assert shown == {
        "Ann Lee": (
            f"assigned by admin on {_utc_day()} (ledger entry #{made['assigned']})",
            _where("hr-1.csv", hr, 2),
        ),
        "Bob Roe": (
            "latest of 2 checkouts: " + _where("usage.csv", str(made["usage"]), 4),
            _where("hr-1.csv", hr, 3),
        ),
    }
    page.export_to(tmp_path / "position.xlsx")
    book = load_workbook(tmp_path / "position.xlsx", read_only=True)
    assert book.sheetnames[-1] == "Sources"
    evidence = [r[2] for r in book["Sources"].iter_rows(min_row=2, values_only=True)]
    book.close()
    assert evidence == ["purchases", "purchases", "purchases", "seats", "checkouts"]

    # The People list says, on a person's name, the import line that last set their fields.
    qtbot.keyClick(page, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    people = window.people
    assert window.current_page() is people
    names = {
        people.model.index(r, PeopleColumn.NAME).data(): people.model.index(
            r, PeopleColumn.NAME
        ).data(Qt.ItemDataRole.ToolTipRole)
        for r in range(people.model.rowCount())
    }
    assert names == {
        "Ann Lee": "Source: " + _where("hr-1.csv", hr, 2),
        "Bob Roe": "Source: " + _where("hr-1.csv", hr, 3),
    }
