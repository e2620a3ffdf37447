"""GUI fixtures: a SQLite workspace opened as the app opens it, and main windows that are always
closed with no background thread left running.

Background work runs inline (:class:`SyncRunner`) unless a test builds a real
:class:`~seatledger.ui.tasks.Runner` itself (tests/gui/test_tasks.py crosses real threads).

``admin`` is overridden here so that the shared fixtures built on it (``org``, ``as_role``) run on
one SQLite database opened through :class:`Workspace`, not on every engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThreadPool
from pytestqt.qtbot import QtBot

from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.main_window import LICENSES, MainWindow
from seatledger.ui.tasks import SyncRunner, live_runners, use_shared_runner

PASSWORD = "correct horse"


@pytest.fixture
def workspace(tmp_path: Path, migrated_sqlite: Callable[[Path], Path]) -> Iterator[Workspace]:
    """A new SQLite database opened as the app opens one."""
    opened = Workspace.open(migrated_sqlite(tmp_path / "gui.sqlite"))
    yield opened
    opened.close()


@pytest.fixture
def admin(workspace: Workspace) -> Services:
    """The workspace's first administrator, signed in (overrides the engine-parametrized one)."""
    return workspace.create_administrator("admin", "Ada Admin", PASSWORD)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Window settings in a temporary file, never the user's.

    They remember the Licenses page as the last one shown, which most tests drive; a new
    window without settings opens on the dashboard (tests/gui/test_dashboard.py).
    """
    remembered = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    remembered.setValue("main_window/page", LICENSES)
    return remembered


@pytest.fixture
def make_window(
    qtbot: QtBot, workspace: Workspace, settings: QSettings
) -> Iterator[Callable[[Services], MainWindow]]:
    """Build shown main windows for a session; each is closed and its runner drained at teardown."""
    windows: list[MainWindow] = []

    def make(services: Services) -> MainWindow:
        window = MainWindow(services, workspace, runner=SyncRunner(), settings=settings)
        qtbot.addWidget(window)
        with qtbot.waitActive(window):  # shortcuts and focus need the active window
            window.show()
            window.activateWindow()
        # Counted after the first paint (the dashboard, first, has no count of its own).
        qtbot.waitUntil(lambda: window.nav_count(LICENSES) is not None)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert window.runner.wait(5000), "background work still running after close"


@pytest.fixture
def window(make_window: Callable[[Services], MainWindow], admin: Services) -> MainWindow:
    """The main window signed in as the administrator."""
    return make_window(admin)


@pytest.fixture(autouse=True)
def _synchronous_shared_runner() -> Iterator[None]:
    """Dialogs outside a window (start, sign-in) run their work inline, like the windows'."""
    use_shared_runner(SyncRunner())
    yield
    use_shared_runner(None)


@pytest.fixture(autouse=True)
def _no_thread_left(qapp: object) -> Iterator[None]:
    """Fail a test that leaves pooled Qt threads running: the global pool's and every runner's."""
    yield
    pools = [QThreadPool.globalInstance()] + [runner.pool for runner in live_runners()]
    for pool in pools:
        assert pool.waitForDone(5000), "a QThreadPool task is still running"
        assert pool.activeThreadCount() == 0
