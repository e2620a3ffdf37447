"""The pages of the main window: licenses (with the selected license's seats), people, devices
and activity.

Every page is a :class:`Page`: it reads through the services, changes data only through services
and dialogs, and says which entity types it shows (:attr:`Page.shows`).  When a change commits,
whoever made it and on whatever thread, a page that shows one of its entity types reloads at once
if it is on screen and is marked stale otherwise (see :mod:`seatledger.ui.changes`).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import QStackedLayout, QVBoxLayout, QWidget

from seatledger.domain.roles import Permission, allows
from seatledger.errors import KnownError
from seatledger.services.operators.session import Services
from seatledger.ui.changes import CommittedChanges
from seatledger.ui.tasks import Runner, runner_for
from seatledger.ui.widgets import EmptyState, Stateful, restore_layout, save_layout


class Page(QWidget):
    """A page of the main window.

    Signals:
        selection_changed(): what the page's actions act on changed.
        status_message(str): a short confirmation for the status bar.
        import_requested(str): import a file of this kind (the value of a
            :class:`~seatledger.ingest.formats.Kind`, such as "people"; an empty page's action;
            the file readers are not imported before the wizard opens).
    """

    selection_changed = Signal()
    status_message = Signal(str)
    import_requested = Signal(str)

    title = ""
    settings_group = ""
    shows: frozenset[str] = frozenset()
    """The entity types (as the ledger names them) whose committed changes the page shows."""
    shows_every_change = False
    """The page shows what any change can alter (the ledger itself, or what every change can
    raise, such as the after-hours alert)."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._stale = False
        self._stack: QStackedLayout | None = None
        self._content: QWidget | None = None
        self.empty_state: EmptyState | None = None
        self.changes = CommittedChanges(services, self)
        self.changes.committed.connect(self._committed)

    @property
    def services(self) -> Services:
        """The signed-in session."""
        return self._services

    @property
    def runner(self) -> Runner:
        """Where background work runs: the window's runner, when the page is in one."""
        return runner_for(self)

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in operator's role allows ``permission`` (to grey out actions)."""
        return allows(self._services.actor.role, permission)

    # ------------------------------------------------------------------ empty state
    def body(self) -> QWidget:
        """The widget that holds the page's contents (its layout goes on it), so that an empty
        state can take the page's place (:meth:`set_empty_state`)."""
        if self._content is None:
            self._stack = QStackedLayout(self)
            self._stack.setContentsMargins(0, 0, 0, 0)
            self._content = QWidget(self)
            self._stack.addWidget(self._content)
        return self._content

    def body_layout(self) -> QVBoxLayout:
        """A column on :meth:`body`, with the pages' margin of 8 pixels."""
        layout = QVBoxLayout(self.body())
        layout.setContentsMargins(8, 8, 8, 8)
        return layout

    def set_empty_state(self, empty: EmptyState) -> None:
        """What the page says, and offers, while it has no data at all (see :meth:`show_empty`)."""
        self.body()
        assert self._stack is not None
        self.empty_state = empty
        self._stack.addWidget(empty)

    def show_empty(self, empty: bool) -> None:
        """Show the empty state instead of the contents, or the contents again."""
        if self._stack is None or self.empty_state is None or self._content is None:
            return
        target = self.empty_state if empty else self._content
        if self._stack.currentWidget() is not target:
            had_focus = self.isAncestorOf(self.focusWidget()) if self.focusWidget() else False
            self._stack.setCurrentWidget(target)
            if empty and had_focus and self.empty_state.buttons:
                self.empty_state.buttons[0].setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def showing_empty(self) -> bool:
        """Whether the empty state is on the page instead of its contents."""
        return (
            self._stack is not None
            and self.empty_state is not None
            and self._stack.currentWidget() is self.empty_state
        )

    # ------------------------------------------------------------------ refreshing
    def shows_change(self, entity_types: frozenset[str]) -> bool:
        """Whether a change of these entity types alters what the page shows."""
        return self.shows_every_change or not self.shows.isdisjoint(entity_types)

    def _committed(self, entity_types: object) -> None:
        assert isinstance(entity_types, frozenset)
        if self.shows_change(entity_types):
            self.mark_stale()

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
    def layouts(self) -> dict[str, Stateful]:
        """The splitters and headers whose layout the page remembers, by their settings key."""
        return {}

    def save_state(self, settings: QSettings) -> None:
        """Remember splitter and column layout."""
        for key, widget in self.layouts().items():
            save_layout(settings, key, widget)

    def restore_state(self, settings: QSettings) -> None:
        """Restore what :meth:`save_state` saved."""
        for key, widget in self.layouts().items():
            restore_layout(settings, key, widget)

    # ------------------------------------------------------------------ errors
    def show_error(self, message: str, details: str = "") -> None:
        """Tell the user why something failed."""
        from seatledger.ui.dialogs.errors import show_error  # noqa: PLC0415 (dialogs load lazily)

        show_error(self, message, details)

    def report(self, exc: KnownError) -> None:
        """Show a known failure (validation, permission, missing record)."""
        self.show_error(str(exc))
