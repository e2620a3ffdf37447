"""The dashboard and the alerts list driven by real input: each card opens its list; alerts are
reviewed and acknowledged; the settings are for administrators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QBoxLayout, QDialog
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from seatledger.domain.alerts import Rule
from seatledger.domain.roles import Role
from seatledger.services.alerts.dashboard import ReclaimedCounts, ReviewCounts
from seatledger.services.catalog.queries import EntitlementQuery, EntitlementState
from seatledger.services.operators.session import Services
from seatledger.store.models import LedgerEntry
from seatledger.ui.dialogs.alert_settings import AlertSettingsDialog
from seatledger.ui.dialogs.data_settings import DataSettingsDialog
from seatledger.ui.main_window import ALERTS, AUDITS, DASHBOARD, LICENSES, REVIEWS, MainWindow
from seatledger.ui.pages.alerts import AlertsPage
from seatledger.ui.pages.dashboard import AMBER, GREEN, GREY, RED, DashboardPage
from seatledger.ui.pages.reconciliation import ReconciliationPage
from seatledger.ui.theme import colors

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
MakeWindow = Callable[[Services], MainWindow]


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """No remembered page: the window opens as it does the first time, on the dashboard."""
    return QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def busy(admin: Services, org: Any) -> Any:
    """The PDF license over its limit (an over-commit); one person who left holds a seat."""
    admin.seats.assign(org.acrobat, people=org.people[:3])
    admin.seats.assign(org.acrobat, people=org.people[3:4], reason="audit", over_commit=True)
    admin.directory.mark_left(org.people[0], dt.date.today(), "resigned")
    return org


def dashboard_of(window: MainWindow) -> DashboardPage:
    page = window.current_page()
    assert isinstance(page, DashboardPage)
    return page


def click(qtbot: QtBot, widget: Any) -> None:
    qtbot.mouseClick(widget, LEFT, pos=QPoint(widget.width() // 2, widget.height() // 2))


def test_a_new_window_opens_on_the_dashboard_with_its_figures(
    make_window: MakeWindow, admin: Services, busy: Any
) -> None:
    window = make_window(admin)
    assert window.nav.currentRow() == DASHBOARD
    assert window.nav.item(DASHBOARD).text() == "Dashboard"
    cards = dashboard_of(window).cards
    assert cards["over_limit"].value.text() == "1"
    assert cards["over_limit"].color == RED
    assert cards["near_limit"].value.text() == "0"
    assert cards["near_limit"].color == GREEN
    assert cards["findings"].value.text() == "1"  # the PDF seat of the person who left
    assert "warning level" in cards["near_limit"].toolTip()
    open_alerts = admin.alerts.open_count()
    assert cards["alerts"].value.text() == str(open_alerts)
    assert window.nav_count(ALERTS) == open_alerts


@pytest.mark.parametrize(
    ("card", "state"),
    [
        ("over_limit", EntitlementState.OVER_LIMIT),
        ("near_limit", EntitlementState.NEAR_LIMIT),
        ("expiring_30", EntitlementState.EXPIRING_30),
        ("expiring_60", EntitlementState.EXPIRING_60),
        ("expiring_90", EntitlementState.EXPIRING_90),
        ("unassigned", EntitlementState.UNASSIGNED),
    ],
)
def test_each_license_card_opens_licenses_filtered_to_it(  # noqa: PLR0917
    qtbot: QtBot,
    make_window: MakeWindow,
    admin: Services,
    busy: Any,
    card: str,
    state: EntitlementState,
) -> None:
    window = make_window(admin)
    window.licenses.search.setText("no such license")  # a stale search does not hide the list
    window.nav.setCurrentRow(DASHBOARD)
    click(qtbot, dashboard_of(window).cards[card])
    page = window.licenses
    assert window.current_page() is page
    assert page.current_state() is state
    assert page.search.text() == ""
    expected = list(EntitlementQuery(admin.ctx, state=state).keys())
    assert [page.model.key_at(row) for row in range(page.model.rowCount())] == expected


def test_cards_answer_the_keyboard_too(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    window = make_window(admin)
    card = dashboard_of(window).cards["over_limit"]
    card.setFocus()
    qtbot.keyClick(card, Qt.Key.Key_Return)
    assert window.current_page() is window.licenses
    assert window.licenses.current_state() is EntitlementState.OVER_LIMIT
    assert window.licenses.table._hint == "No licenses over the limit."


def test_the_findings_card_opens_the_reconciliation_findings(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, busy: Any
) -> None:
    window = make_window(admin)
    click(qtbot, dashboard_of(window).cards["findings"])
    page = window.current_page()
    assert isinstance(page, ReconciliationPage)
    assert page.tabs.currentIndex() == 1
    qtbot.waitUntil(lambda: page.finding_model.rowCount() > 0)
    assert "Seat held by someone who left" in [f.kind.label for f in page.finding_model.rows]


def test_a_bar_of_the_chart_opens_its_license(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, busy: Any
) -> None:
    window = make_window(admin)
    chart = dashboard_of(window).chart
    assert [row.entitlement_id for row in chart.rows] == [busy.acrobat, busy.sql_server]
    assert chart.color_of(chart.rows[0]) == colors().qcolor(RED)
    y = 4 + chart._row_height() // 2  # the first bar
    qtbot.mouseClick(chart, LEFT, pos=QPoint(chart.width() // 2, y))
    assert window.current_page() is window.licenses
    assert window.licenses.current_license() == busy.acrobat


def test_the_audits_card_waits_for_a_hook(make_window: MakeWindow, admin: Services) -> None:
    admin.dashboard.audits_due = None
    window = make_window(admin)
    card = dashboard_of(window).cards["audits"]
    assert (card.value.text(), card.isEnabled()) == ("—", False)


def test_the_audits_card_shows_what_the_audit_hook_counts(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    admin.dashboard.audits_due = lambda _ctx, _today: 2
    window = make_window(admin)
    card = dashboard_of(window).cards["audits"]
    assert (card.value.text(), card.isEnabled(), card.color) == ("2", True, AMBER)
    click(qtbot, card)
    assert window.nav.currentRow() == AUDITS


def test_cards_reflow_to_the_window_width(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    window = make_window(admin)
    page = dashboard_of(window)
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: page._columns == 5)
    assert page.lower_row.direction() == QBoxLayout.Direction.LeftToRight
    window.resize(760, 480)
    qtbot.waitUntil(lambda: page._columns < 5)
    assert page._columns >= 1
    assert page.lower_row.direction() == QBoxLayout.Direction.TopToBottom  # chart above alerts
    for card in page.cards.values():
        assert card.width() >= card.minimumWidth()


# ------------------------------------------------------------------------------------ alerts


def test_alerts_are_reviewed_and_acknowledged_from_the_dashboard(
    qtbot: QtBot, qtmodeltester: ModelTester, make_window: MakeWindow, admin: Services, busy: Any
) -> None:
    window = make_window(admin)
    dashboard = dashboard_of(window)
    over = next(a for a in admin.alerts.alerts() if a.rule is Rule.LIMIT)
    listed = [
        dashboard.alert_list.item(n).data(Qt.ItemDataRole.UserRole + 1)
        for n in range(dashboard.alert_list.count())
    ]
    assert over.id in listed
    item = dashboard.alert_list.item(listed.index(over.id))
    dashboard.alert_list.itemActivated.emit(item)  # a double-click or Enter
    page = window.current_page()
    assert isinstance(page, AlertsPage)
    qtmodeltester.check(page.model)
    selected = page.current_alert()
    assert selected is not None
    assert selected.id == over.id
    assert "PDF Studio is over its limit" in page.detail.text()
    assert not page.acknowledge_button.isEnabled()  # no note yet
    qtbot.keyClicks(page.note, "Bought one more seat")
    click(qtbot, page.acknowledge_button)
    assert admin.alerts.alert(over.id).note == "Bought one more seat"
    with admin.db.read() as session:
        action = session.scalar(select(LedgerEntry.action).order_by(LedgerEntry.seq.desc()))
    assert action == "alert.acknowledge"
    assert over.id not in [a.id for a in page.model.rows]
    assert window.nav_count(ALERTS) == admin.alerts.open_count()


def test_viewers_see_alerts_but_cannot_acknowledge_or_configure(
    make_window: MakeWindow, as_role: Callable[[Role], Services], admin: Services, busy: Any
) -> None:
    window = make_window(as_role(Role.VIEWER))
    window.show_alerts()
    page = window.page(ALERTS)
    assert isinstance(page, AlertsPage)
    assert page.model.rowCount() == admin.alerts.open_count() > 0
    page.table.selectRow(0)
    assert not page.note.isEnabled()
    assert not page.settings_button.isVisible()
    assert not window.menu_actions["alert_settings"].isEnabled()


def test_the_settings_dialog_saves_for_an_administrator(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    window = make_window(admin)
    assert window.menu_actions["alert_settings"].isEnabled()
    dialog = AlertSettingsDialog(admin, window)
    qtbot.addWidget(dialog)
    dialog.warning.setValue(80)
    dialog.rule_boxes[Rule.AFTER_HOURS].setChecked(False)
    dialog.timezone.setText("Europe/Berlin")
    dialog.work_days.setText("Mon,Funday")
    assert not dialog.ok_button.isEnabled()
    assert "not a day" in dialog.hint.text()
    dialog.work_days.setText("Mon,Tue,Wed")
    click(qtbot, dialog.ok_button)
    saved = admin.alerts.settings()
    assert (saved.warning_percent, saved.timezone, saved.work_days_text) == (
        80,
        "Europe/Berlin",
        "Mon,Tue,Wed",
    )
    assert Rule.AFTER_HOURS not in saved.enabled


def test_the_data_settings_dialog_shows_the_sources_and_saves(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    window = make_window(admin)
    assert window.menu_actions["data_settings"].isEnabled()
    dialog = DataSettingsDialog(admin, window)
    qtbot.addWidget(dialog)
    assert (dialog.sampling.value(), dialog.freshness.value()) == (24, 30)
    assert "Inventory: never imported" in dialog.sources.text()
    dialog.sampling.setValue(6)
    qtbot.keyClicks(dialog.reason, "snapshots every 6 hours")
    click(qtbot, dialog.ok_button)
    assert admin.settings.data().sampling_hours == 6


def test_the_settings_dialogs_number_fields(qtbot: QtBot, admin: Services) -> None:
    """Each whole-number field keeps its range, its unit and its tooltip (the saved value shown)."""
    alerts = AlertSettingsDialog(admin)
    data = DataSettingsDialog(admin)
    for dialog in (alerts, data):
        qtbot.addWidget(dialog)
    fields = {
        "warning": alerts.warning,
        "burst": alerts.burst_count,
        "window": alerts.burst_minutes,
        "unseated": alerts.unseated_days,
        "sampling": data.sampling,
        "freshness": data.freshness,
    }
    shown = {
        name: (box.minimum(), box.maximum(), box.value(), box.prefix(), box.suffix())
        for name, box in fields.items()
    }
    current = admin.alerts.settings()
    assert shown == {
        "warning": (1, 100, current.warning_percent, "", " %"),
        "burst": (2, 100_000, current.burst_count, "", " seat changes"),
        "window": (1, 1440, current.burst_minutes, "within ", " min"),
        "unseated": (1, 3650, current.unseated_days, "installed over ", " days"),
        "sampling": (1, 720, 24, "", " hours"),
        "freshness": (1, 3650, 30, "", " days"),
    }
    assert alerts.unseated_days.toolTip() == Rule.UNSEATED_INSTALLS.explanation
    assert [name for name, box in fields.items() if not box.toolTip()] == ["burst", "window"]
    assert all(box.parent() is not None for box in fields.values())


def test_a_bad_time_zone_is_refused_in_the_dialog(qtbot: QtBot, admin: Services) -> None:
    dialog = AlertSettingsDialog(admin)
    qtbot.addWidget(dialog)
    dialog.timezone.setText("Mars/Olympus")
    click(qtbot, dialog.ok_button)
    assert dialog.result() != QDialog.DialogCode.Accepted  # refused, the input kept
    assert "'Mars/Olympus' is not a time zone" in dialog.message.text()
    assert admin.alerts.settings().timezone == ""


def test_licenses_page_remembers_nothing_of_a_card_after_select_license(
    make_window: MakeWindow, admin: Services, busy: Any
) -> None:
    window = make_window(admin)
    dashboard_of(window).open_card("over_limit")
    window.licenses.select_license(busy.sql_server)  # not over: the filter is cleared
    assert window.licenses.current_state() is EntitlementState.ALL
    assert window.licenses.current_license() == busy.sql_server
    assert window.nav.currentRow() == LICENSES


def test_chart_labels_are_cut_between_words(qapp: object) -> None:
    """A license name too long for the chart's label column loses whole words, never half of
    one ("Microsoft SQL Serv…" said nothing of which purchase it was)."""
    from PySide6.QtGui import QFont, QFontMetrics

    from seatledger.ui.pages.dashboard import elide_words

    metrics = QFontMetrics(QFont())
    name = "Microsoft SQL Server 2022 Enterprise — Perpetual with Software Assurance"
    assert elide_words(name, metrics, 10_000) == name
    width = metrics.horizontalAdvance("Microsoft SQL Server 2022 Enterprise") + 20
    cut = elide_words(name, metrics, width)
    assert cut == "Microsoft SQL Server 2022 Enterprise…"
    assert metrics.horizontalAdvance(cut) <= width


def test_the_reviews_card_counts_open_campaigns_and_opens_them(
    qtbot: QtBot, make_window: MakeWindow, admin: Services
) -> None:
    admin.dashboard.reviews_open = lambda _ctx, _today: ReviewCounts(2, 31, 1)
    window = make_window(admin)
    card = dashboard_of(window).cards["reviews"]
    assert (card.value.text(), card.note.text(), card.color) == (
        "2",
        "31 seats undecided; 1 overdue",
        RED,
    )
    click(qtbot, card)
    assert window.nav.currentRow() == REVIEWS


def test_the_reviews_card_is_green_with_no_campaign_open(
    make_window: MakeWindow, admin: Services
) -> None:
    window = make_window(admin)  # the real hook, on a database with no campaign
    card = dashboard_of(window).cards["reviews"]
    assert (card.value.text(), card.note.text(), card.color) == ("0", "no campaign open", GREEN)


def test_the_reclaimed_card_counts_this_month_and_the_year_and_opens_reclaim(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.dashboard.reclaimed = lambda _ctx, _today: ReclaimedCounts(
        3, {"EUR": Decimal("360")}, 14, {"EUR": Decimal("1680"), "USD": Decimal("99")}
    )
    window = make_window(admin)
    card = dashboard_of(window).cards["reclaimed"]
    assert (card.value.text(), card.color) == ("3", GREEN)
    assert card.note.text() == (
        "360.00 EUR no longer paid for; 14 seats in 12 months (1,680.00 EUR + 99.00 USD)"
    )
    opened: list[bool] = []
    monkeypatch.setattr(window, "reclaim_idle", lambda: opened.append(True))
    dashboard_of(window).reclaim_requested.disconnect()
    dashboard_of(window).reclaim_requested.connect(window.reclaim_idle)
    click(qtbot, card)
    assert opened == [True]


def test_the_reclaimed_card_is_grey_when_nothing_was_reclaimed(
    make_window: MakeWindow, admin: Services
) -> None:
    window = make_window(admin)  # the real hook, on a database with no reclaim run
    card = dashboard_of(window).cards["reclaimed"]
    assert (card.value.text(), card.note.text(), card.color) == (
        "0",
        "none released in the last 12 months",
        GREY,
    )
