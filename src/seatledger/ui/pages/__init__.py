"""The pages of the main window: licenses (with the selected license's seats), people, devices
and activity.

Every page is a :class:`Page`: it reads through query objects, changes data only through services
and dialogs, and reports a change with :attr:`Page.data_changed` so the window can refresh what
depends on it.  Pages that are not on screen are only marked stale and reload when shown.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QWidget

from seatledger.domain.roles import Permission, allows
from seatledger.errors import KnownError
from seatledger.services.operators.session import Services
from seatledger.ui.tasks import Runner


class Page(QWidget):
    """A page of the main window.

    Signals:
        data_changed(): the page changed data (through a service); dependent views must reload.
        selection_changed(): what the page's actions act on changed.
        status_message(str): a short confirmation for the status bar.
    """

    data_changed = Signal()
    selection_changed = Signal()
    status_message = Signal(str)

    title = ""
    settings_group = ""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._stale = False
        self._own_runner: Runner | None = None

    @property
    def services(self) -> Services:
        """The signed-in session."""
        return self._services

    @property
    def runner(self) -> Runner:
        """Where background work runs: the window's runner, when the page is in one."""
        found = getattr(self.window(), "runner", None)
        if isinstance(found, Runner):
            return found
        if self._own_runner is None:
            self._own_runner = Runner()
        return self._own_runner

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in operator's role allows ``permission`` (to grey out actions)."""
        return allows(self._services.actor.role, permission)

    # ------------------------------------------------------------------ refreshing
    def refresh(self) -> None:
        """Re-run the page's queries, keeping the selection."""
        self._stale = False

    def mark_stale(self) -> None:
        """Data changed elsewhere: reload now if shown, else when next shown."""
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def activate(self) -> None:
        """The page is being shown."""
        if self._stale:
            self.refresh()

    def focus_search(self) -> None:
        """Put the keyboard focus in the page's search or first filter."""

    # ------------------------------------------------------------------ state
    def save_state(self, settings: QSettings) -> None:
        """Remember splitter and column layout."""

    def restore_state(self, settings: QSettings) -> None:
        """Restore what :meth:`save_state` saved."""

    # ------------------------------------------------------------------ errors
    def show_error(self, message: str, details: str = "") -> None:
        """Tell the user why something failed."""
        from seatledger.ui.dialogs.errors import show_error  # noqa: PLC0415 (dialogs load lazily)

        show_error(self, message, details)

    def report(self, exc: KnownError) -> None:
        """Show a known failure (validation, permission, missing record)."""
        self.show_error(str(exc))
