"""Pages reload from committed changes: the pages that show a changed entity type, only those,
never for a change that rolled back, and on the GUI thread whichever thread committed it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from seatledger.errors import ValidationError
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators.session import Services
from seatledger.ui.main_window import PAGE_TYPES, PEOPLE, MainWindow
from seatledger.ui.pages import Page
from seatledger.ui.pages.activity import ActivityPage
from seatledger.ui.pages.alerts import AlertsPage
from seatledger.ui.pages.audits import AuditsPage
from seatledger.ui.pages.dashboard import DashboardPage
from seatledger.ui.pages.devices import DevicesPage
from seatledger.ui.pages.licenses import LicensesPage
from seatledger.ui.pages.people import PeoplePage
from seatledger.ui.pages.reconciliation import ReconciliationPage
from seatledger.ui.pages.titles import SoftwareTitlesPage
from seatledger.ui.pages.usage import UsagePage
from seatledger.ui.tasks import Runner, Task

pytestmark = pytest.mark.gui

MakeWindow = Callable[[Services], MainWindow]


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> list[tuple[type[Page], bool]]:
    """Every page told to reload, and whether it was told on the GUI thread."""
    seen: list[tuple[type[Page], bool]] = []
    original = Page.mark_stale

    def mark_stale(page: Page) -> None:
        app = QApplication.instance()
        assert app is not None
        seen.append((type(page), QThread.currentThread() is app.thread()))
        original(page)

    monkeypatch.setattr(Page, "mark_stale", mark_stale)
    return seen


def every_page(window: MainWindow) -> list[Page]:
    """Build every page, as if the user had visited each."""
    return [window.page(number) for number in range(len(PAGE_TYPES))]


def test_a_commit_reloads_only_the_pages_that_show_its_entity_type(
    qtbot: QtBot,
    make_window: MakeWindow,
    admin: Services,
    org: Any,
    told: list[tuple[type[Page], bool]],
) -> None:
    window = make_window(admin)
    every_page(window)
    told.clear()

    admin.directory.add_team("Legal", "CC-200")  # a team: who shows teams reloads

    assert {page for page, _ in told} == {
        DashboardPage, LicensesPage, ReconciliationPage, PeoplePage, UsagePage, ActivityPage,
        AlertsPage,
    }  # fmt: skip
    assert len(told) == 7  # once each

    told.clear()
    admin.audits.set_schedule(org.vendor, 6, admin.audits.today())  # an audit schedule
    assert {page for page, _ in told} == {AuditsPage, DashboardPage, ActivityPage, AlertsPage}
    assert not {DevicesPage, SoftwareTitlesPage, LicensesPage} & {page for page, _ in told}


def test_the_page_on_screen_shows_a_change_made_elsewhere_at_once(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, org: Any
) -> None:
    window = make_window(admin)
    window.nav.setCurrentRow(PEOPLE)
    page = window.people
    shown = page.model.rowCount()
    counted = window.nav_count(PEOPLE)

    # Not through the page: any service call of the session (a dialog, an import, a script).
    admin.directory.add_person(PersonInput("E900", "Nina New", "nina@example.com", org.team))

    assert page.model.rowCount() == shown + 1
    assert window.nav_count(PEOPLE) == (counted or 0) + 1


def test_a_rolled_back_change_reloads_nothing(
    qtbot: QtBot,
    make_window: MakeWindow,
    admin: Services,
    org: Any,
    told: list[tuple[type[Page], bool]],
) -> None:
    window = make_window(admin)
    every_page(window)
    told.clear()
    with qtbot.assertNotEmitted(window.changes.committed), pytest.raises(ValidationError):
        admin.catalog.add_vendor("CONTOSO software")  # a duplicate: refused, rolled back
    assert told == []


def test_a_change_committed_on_a_worker_reaches_the_page_on_the_gui_thread(
    qtbot: QtBot,
    make_window: MakeWindow,
    admin: Services,
    org: Any,
    told: list[tuple[type[Page], bool]],
) -> None:
    window = make_window(admin)
    window.nav.setCurrentRow(PEOPLE)
    page = window.people
    shown = page.model.rowCount()
    told.clear()
    workers: list[threading.Thread] = []

    def work(_progress: object) -> int:
        workers.append(threading.current_thread())
        return admin.directory.add_person(PersonInput("E901", "Walt Worker", "", org.team))

    runner = Runner()  # a real thread pool, not the window's synchronous one
    task = Task(work)
    with qtbot.waitSignal(task.finished):
        runner.start(task)
    assert runner.wait(5000)
    qtbot.waitUntil(lambda: page.model.rowCount() == shown + 1)
    assert len(workers) == 1
    assert workers[0] is not threading.main_thread()  # committed on the worker
    assert (PeoplePage, True) in told  # ...and reloaded on the GUI thread
    assert all(on_gui_thread for _, on_gui_thread in told)
