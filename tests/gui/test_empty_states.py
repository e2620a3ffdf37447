"""A new database's pages say what goes there and offer what fills them, not an empty table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from seatledger.domain.alerts import AlertSettings, Rule
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.import_wizard import ImportWizard
from seatledger.ui.main_window import (
    ACTIVITY,
    ALERTS,
    AUDITS,
    DASHBOARD,
    DEVICES,
    LICENSES,
    PEOPLE,
    RECONCILIATION,
    TITLES,
    MainWindow,
)
from seatledger.ui.pages import Page
from seatledger.ui.pages.alerts import AlertsPage

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def _buttons(page: Page) -> dict[str, bool]:
    """The empty state's buttons (without mnemonics), and whether each is enabled."""
    assert page.empty_state is not None
    return {b.text().replace("&", ""): b.isEnabled() for b in page.empty_state.buttons}


@pytest.fixture
def wizards(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The kind each import wizard opened on (the wizard closes at once)."""
    opened: list[Any] = []

    def exec_(wizard: ImportWizard) -> int:
        opened.append(wizard.choose_page.kind_combo.currentData())
        return 0

    monkeypatch.setattr(ImportWizard, "exec", exec_)
    return opened


def _show(window: MainWindow, qtbot: QtBot, number: int) -> Page:
    window.nav.setCurrentRow(number)
    page = window.page(number)
    qtbot.waitUntil(page.isVisible)
    return page


def test_a_new_database_explains_each_page_and_offers_what_fills_it(
    window: MainWindow, qtbot: QtBot, wizards: list[Any]
) -> None:
    dashboard = _show(window, qtbot, DASHBOARD)
    qtbot.waitUntil(lambda: dashboard.showing_empty)
    assert dashboard.empty_state is not None
    assert dashboard.empty_state.title.text() == "Nothing to count yet"
    assert _buttons(dashboard) == {
        "Add license…": True,
        "Import purchases…": True,
        "Import HR list…": True,
    }
    assert not window.dashboard.cards["over_limit"].isVisible()  # no row of zeros

    licenses = _show(window, qtbot, LICENSES)
    assert licenses.showing_empty
    assert not window.licenses.table.isVisible()
    assert licenses.empty_state is not None
    assert licenses.empty_state.title.text() == "No licenses yet"
    assert _buttons(licenses) == {"Add license…": True, "Import purchases…": True}

    people = _show(window, qtbot, PEOPLE)
    assert people.showing_empty
    assert _buttons(people) == {"Import HR list…": True, "Add person…": True}
    devices = _show(window, qtbot, DEVICES)
    assert devices.showing_empty
    assert _buttons(devices) == {"Import devices…": True, "Add device…": True}
    reconciliation = _show(window, qtbot, RECONCILIATION)
    qtbot.waitUntil(lambda: reconciliation.showing_empty)
    assert _buttons(reconciliation) == {"Import purchases…": True, "Import inventory…": True}
    audits = _show(window, qtbot, AUDITS)
    assert audits.showing_empty
    assert _buttons(audits) == {"New audit…": True, "Schedules…": True}
    titles = _show(window, qtbot, TITLES)
    qtbot.waitUntil(lambda: titles.showing_empty)
    assert _buttons(titles) == {"Import inventory…": True, "New rule…": True}

    # Each Import… opens the import wizard on that kind of file.
    for page, label in (
        (licenses, "Import purchases…"),
        (people, "Import HR list…"),
        (devices, "Import devices…"),
        (reconciliation, "Import inventory…"),
        (titles, "Import inventory…"),
        (dashboard, "Import HR list…"),
    ):
        window.show_page(page)
        assert page.empty_state is not None
        button = next(b for b in page.empty_state.buttons if b.text().replace("&", "") == label)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert wizards == [
        Kind.ENTITLEMENTS.value,
        Kind.PEOPLE.value,
        Kind.DEVICES.value,
        Kind.INVENTORY.value,
        Kind.INVENTORY.value,
        Kind.PEOPLE.value,
    ]

    # The ledger already holds the database's creation: Activity lists it.
    activity = _show(window, qtbot, ACTIVITY)
    assert not activity.showing_empty
    assert window.activity.model.rowCount() >= 1


def test_the_first_license_replaces_the_empty_state(
    window: MainWindow, admin: Services, qtbot: QtBot
) -> None:
    licenses = _show(window, qtbot, LICENSES)
    assert licenses.showing_empty
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Writer")
    admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=product,
            metric=Metric.PER_USER,
            quantity=5,
            term_start=dt.date.today(),
            term_end=None,
        )
    )
    qtbot.waitUntil(lambda: not licenses.showing_empty)
    assert window.licenses.table.isVisible()
    assert window.licenses.model.rowCount() == 1
    # A search that finds nothing is not an empty database: the table stays, with its hint.
    window.licenses.search.setText("nothing like this")
    window.licenses.search.flush()
    assert window.licenses.model.rowCount() == 0
    assert not licenses.showing_empty
    dashboard = _show(window, qtbot, DASHBOARD)
    qtbot.waitUntil(lambda: window.dashboard.figures is not None)
    assert not dashboard.showing_empty


def test_a_viewer_is_told_who_adds_data(
    make_window: Callable[[Services], MainWindow], as_role: Callable[[Role], Services], qtbot: QtBot
) -> None:
    window = make_window(as_role(Role.VIEWER))
    licenses = _show(window, qtbot, LICENSES)
    assert licenses.showing_empty
    assert _buttons(licenses) == {"Add license…": False, "Import purchases…": False}
    assert licenses.empty_state is not None
    assert "License managers and administrators" in licenses.empty_state.buttons[0].toolTip()
    dashboard = _show(window, qtbot, DASHBOARD)
    qtbot.waitUntil(lambda: dashboard.showing_empty)
    assert dashboard.empty_state is not None
    assert "A license manager or an administrator adds them." in (dashboard.empty_state.text.text())


@pytest.fixture
def quiet_hours(admin: Services) -> Services:
    """The administrator with the working-hours rule off: the fixtures build data on the real
    clock, which may be an evening or a weekend (19:00 UTC ends the default working day)."""
    admin.alerts.save_settings(AlertSettings(enabled=frozenset(Rule) - {Rule.AFTER_HOURS}))
    return admin


def test_the_alerts_page_says_what_raises_an_alert_until_one_is_raised(
    quiet_hours: Services, window: MainWindow, qtbot: QtBot, admin: Services, org: Any
) -> None:
    alerts = _show(window, qtbot, ALERTS)
    qtbot.waitUntil(lambda: alerts.showing_empty)
    assert alerts.empty_state is not None
    assert alerts.empty_state.title.text() == "No open alerts"
    assert "over the limit" in alerts.empty_state.text.text()
    assert _buttons(alerts) == {"Show all alerts": True, "Alert settings…": True}
    # Over the limit: the alert replaces the empty state.
    admin.seats.assign(org.acrobat, people=org.people[:4], over_commit=True, reason="launch")
    alerts.refresh()
    qtbot.waitUntil(lambda: not alerts.showing_empty)
    assert isinstance(alerts, AlertsPage)
    assert alerts.model.rowCount() >= 1
