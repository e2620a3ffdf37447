"""What the people and devices pages share: a searched table of directory records with New… and
Edit… buttons, the record's form on a double click, and the columns remembered."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QModelIndex, QSettings
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from seatledger.domain.roles import Permission
from seatledger.services.core.tables import TableQuery
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.pages import Page
from seatledger.ui.table_model import KeyedTableModel, Presenter
from seatledger.ui.widgets import DataTable, EmptyState, SearchBox, accessible


class SearchedQuery(TableQuery, Protocol):
    """A table query with the search text and the sort it was run with."""

    text: str
    sort_column: int
    descending: bool


class RecordForm(Protocol):
    """A form dialog that adds or edits one record (see ``seatledger.ui.dialogs.forms``)."""

    saved_id: int | None

    def exec(self) -> int:
        """Run the dialog."""
        ...


class DirectoryPage(Page):
    """A searched table of records with New… and Edit… buttons (people, devices).

    A subclass names its query (:meth:`_run_query`), its presenter, its form (:meth:`_form`) and
    the hint for an empty list; it may add filters and buttons (:meth:`_add_filters`,
    :meth:`_add_buttons`), which are built between the search box and the table.
    """

    noun = ""
    """What a row is (the count, the New… button)."""
    search_placeholder = ""
    empty_hint = ""
    empty_title = ""
    """What the page says while there are no records at all, with the import that fills it."""
    empty_text = ""
    import_label = ""
    import_kind = "people"
    """The table's hint when there are no records at all."""

    _current: SearchedQuery

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.search = SearchBox(self.search_placeholder, self, name=f"Search {self.title.lower()}")
        self.search.searched.connect(self._apply_filter)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        self._add_filters(filters)
        self._count = QLabel(self)
        filters.addSpacing(12)
        filters.addWidget(self._count)

        self.new_button = QPushButton(f"New {self.noun}…", self)
        self.new_button.clicked.connect(self.new_record)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self.edit_record)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.edit_button)
        self._add_buttons(buttons)

        self.table = DataTable(self)
        self.table.setObjectName(self.settings_group)
        accessible(self.table, self.title)
        query = self._current = self._run_query()
        self.model = KeyedTableModel(query, self._presenter(), self.table)
        self.table.attach(self.model, query.sort_column, query.descending)
        self._set_column_widths()
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.activated.connect(self._on_activated)

        layout = self.body_layout()
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        empty = EmptyState(self.empty_title, self.empty_text, self)
        may_edit = self.may(Permission.EDIT_DIRECTORY)
        refused = "" if may_edit else "License managers and administrators add them."
        empty.add_action(
            self.import_label,
            lambda: self.import_requested.emit(self.import_kind),
            enabled=may_edit,
            tip=refused,
        )
        empty.add_action(f"&Add {self.noun}…", self.new_record, enabled=may_edit, tip=refused)
        self.set_empty_state(empty)
        self._update_after_query()
        self._update_buttons()

    # ------------------------------------------------------------------ the subclass's part
    def _add_filters(self, filters: QHBoxLayout) -> None:
        """Add filters after the search box."""

    def _add_buttons(self, buttons: QHBoxLayout) -> None:
        """Add buttons after New… and Edit…."""

    def _presenter(self) -> Presenter:
        raise NotImplementedError

    def _set_column_widths(self) -> None:
        raise NotImplementedError

    def _run_query(self, current: SearchedQuery | None = None) -> SearchedQuery:
        """The query the search and filters ask for, sorted as ``current`` (None: the default)."""
        raise NotImplementedError

    def _filtered(self) -> bool:
        """Whether a search or filter narrows the list."""
        return bool(self._current.text)

    def _filtered_hint(self) -> str:
        raise NotImplementedError

    def _clear_filters(self) -> None:
        """Clear the filters other than the search (their signals may fire)."""

    def _form(self, key: int | None) -> RecordForm:
        """The form that adds a record (``key`` None) or edits record ``key``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ querying
    def _apply_filter(self, *_args: object) -> None:
        previous = self.table.current_key()
        self._current = self._run_query(self._current)
        self.model.set_query(self._current)
        self.table.keep_or_select_first(previous)
        self._update_after_query()
        self._update_buttons()
        self.selection_changed.emit()

    def _reload(self) -> None:
        self.table.reload()
        self._update_after_query()
        self._update_buttons()

    def _update_after_query(self) -> None:
        self._count.setText(plural(self.model.rowCount(), self.noun))
        self.table.set_empty_hint(self._filtered_hint() if self._filtered() else self.empty_hint)
        self.show_empty(not self._filtered() and self.model.rowCount() == 0)

    # ------------------------------------------------------------------ selection
    def _on_selection(self, *_args: object) -> None:
        self._update_buttons()
        self.selection_changed.emit()

    def _update_buttons(self) -> None:
        can_edit = self.may(Permission.EDIT_DIRECTORY)
        self.new_button.setEnabled(can_edit)
        self.edit_button.setEnabled(can_edit and self.current_record() is not None)

    def _on_activated(self, _index: QModelIndex) -> None:
        if self.may(Permission.EDIT_DIRECTORY):
            self.edit_record()

    def current_record(self) -> int | None:
        """The selected record's id."""
        return self.table.current_key()

    def select_record(self, key: int) -> None:
        """Select a record, clearing the search and filters that hide it."""
        if self.table.select_key(key):
            return
        self.search.clear()
        self.search.flush()
        self._clear_filters()
        self._apply_filter()
        self.table.select_key(key)

    def focus_search(self) -> None:
        """Focus the search box."""
        self.search.setFocus()
        self.search.selectAll()

    # ------------------------------------------------------------------ actions
    def new_record(self) -> None:
        """Add a record (the page's form) and select it."""
        if not self.may(Permission.EDIT_DIRECTORY):
            return
        dialog = self._form(None)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved_id is not None:
            self.select_record(dialog.saved_id)

    def edit_record(self) -> None:
        """Edit the selected record (the page's form)."""
        key = self.current_record()
        if key is None or not self.may(Permission.EDIT_DIRECTORY):
            return
        self._form(key).exec()

    # ------------------------------------------------------------------ settings
    def save_state(self, settings: QSettings) -> None:
        """Remember the columns."""
        settings.setValue(f"{self.settings_group}/header", self.table.header_state())

    def restore_state(self, settings: QSettings) -> None:
        """Restore the columns."""
        self.table.restore_header_state(settings.value(f"{self.settings_group}/header"))
