"""The people page: who seats are assigned to, by team and status, with the seats each holds.

People who left are grey with the date they left; the seats they still hold are red, since each is
an audit finding until released (Seats ▸ Release seats of people who left…).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.roles import Permission
from seatledger.errors import KnownError
from seatledger.services.directory.queries import PeopleColumn, PeopleQuery
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.pages import Page
from seatledger.ui.presenters import PeoplePresenter
from seatledger.ui.table_model import KeyedTableModel
from seatledger.ui.widgets import DataTable, SearchBox

_STATUSES = (("Active and left", None), ("Active", "active"), ("Left", "left"))


class PeoplePage(Page):
    """People with their team, status and seats."""

    title = "People"
    settings_group = "people"
    shows = frozenset({"person", "team", "entitlement", "seat", "import"})  # teams, seats

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.search = SearchBox("Search name, employee ID or email…  (Ctrl+F)", self)
        self.search.searched.connect(self._apply_filter)
        self.team = QComboBox(self)
        self.team.setToolTip("Show one team only")
        self.team.setMinimumContentsLength(14)
        self.status = QComboBox(self)
        for label, value in _STATUSES:
            self.status.addItem(label, value)
        self._fill_teams()
        self.team.currentIndexChanged.connect(self._apply_filter)
        self.status.currentIndexChanged.connect(self._apply_filter)
        self._count = QLabel(self)

        self.new_button = QPushButton("New person…", self)
        self.new_button.clicked.connect(self.new_person)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self.edit_person)
        self.left_button = QPushButton("Mark as left…", self)
        self.left_button.setToolTip("Record that the selected person left the organization")
        self.left_button.clicked.connect(self.mark_left)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(QLabel("Team:", self))
        filters.addWidget(self.team)
        filters.addWidget(QLabel("Status:", self))
        filters.addWidget(self.status)
        filters.addSpacing(12)
        filters.addWidget(self._count)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.left_button)

        self.table = DataTable(self)
        self.table.setObjectName("people")
        query = self._current = services.reads.people()
        self.model = KeyedTableModel(query, PeoplePresenter(), self.table)
        self.table.attach(self.model, query.sort_column, query.descending)
        self.table.set_column_widths({0: 12, 1: 26, 2: 30, 3: 18, 4: 16, 5: 7}, stretch=2)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.activated.connect(self._on_activated)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_after_query()
        self._update_buttons()

    # ------------------------------------------------------------------ querying
    def _fill_teams(self) -> None:
        current = self.team.currentData()
        self.team.blockSignals(True)
        self.team.clear()
        self.team.addItem("All teams", None)
        for team in self.services.directory.teams():
            self.team.addItem(team.name, team.id)
        index = self.team.findData(current) if current is not None else 0
        self.team.setCurrentIndex(max(index, 0))
        self.team.blockSignals(False)

    def _query(self) -> PeopleQuery:
        return self._current

    def _apply_filter(self, *_args: object) -> None:
        current = self._query()
        previous = self.table.current_key()
        self._current = self.services.reads.people(
            self.search.text(),
            current.sort_column,
            current.descending,
            team_id=self.team.currentData(),
            status=self.status.currentData(),
        )
        self.model.set_query(self._current)
        self.table.keep_or_select_first(previous)
        self._update_after_query()
        self._update_buttons()
        self.selection_changed.emit()

    def refresh(self) -> None:
        """Reload teams and people, keeping the selection."""
        super().refresh()
        before = self.team.currentData()
        self._fill_teams()
        if self.team.currentData() != before:
            self._apply_filter()
            return
        self.table.reload()
        self._update_after_query()
        self._update_buttons()

    def _update_after_query(self) -> None:
        count = self.model.rowCount()
        self._count.setText(plural(count, "person"))
        query = self._query()
        if query.text or query.team_id is not None or query.status is not None:
            self.table.set_empty_hint("No one matches the search and filters.")
        else:
            self.table.set_empty_hint(
                "No people yet — add someone with Edit ▸ New person… or the New person… button."
            )

    # ------------------------------------------------------------------ selection
    def current_person(self) -> int | None:
        """The selected person."""
        return self.table.current_key()

    def _current_is_active(self) -> bool:
        index = self.table.currentIndex()
        if not index.isValid():
            return False
        row = self.model.row_data(index.row())
        return row is not None and row[PeopleColumn.STATUS] == "active"

    def _on_selection(self, *_args: object) -> None:
        self._update_buttons()
        self.selection_changed.emit()

    def _update_buttons(self) -> None:
        can_edit = self.may(Permission.EDIT_DIRECTORY)
        selected = self.current_person() is not None
        self.new_button.setEnabled(can_edit)
        self.edit_button.setEnabled(can_edit and selected)
        self.left_button.setEnabled(can_edit and selected and self._current_is_active())

    def _on_activated(self, _index: QModelIndex) -> None:
        if self.may(Permission.EDIT_DIRECTORY):
            self.edit_person()

    def select_person(self, person_id: int) -> None:
        """Select a person, clearing filters that hide them."""
        if self.table.select_key(person_id):
            return
        self.search.clear()
        self.search.flush()
        self.team.setCurrentIndex(0)
        self.status.setCurrentIndex(0)
        self._apply_filter()
        self.table.select_key(person_id)

    def focus_search(self) -> None:
        """Focus the search box."""
        self.search.setFocus()
        self.search.selectAll()

    # ------------------------------------------------------------------ actions
    def new_person(self) -> None:
        """Add a person (PersonDialog) and select them."""
        if not self.may(Permission.EDIT_DIRECTORY):
            return
        from seatledger.ui.dialogs.forms import PersonDialog  # noqa: PLC0415

        dialog = PersonDialog(self.services, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved_id is not None:
            self.select_person(dialog.saved_id)

    def edit_person(self) -> None:
        """Edit the selected person."""
        person_id = self.current_person()
        if person_id is None or not self.may(Permission.EDIT_DIRECTORY):
            return
        from seatledger.ui.dialogs.forms import PersonDialog  # noqa: PLC0415

        PersonDialog(self.services, self, person_id=person_id).exec()

    def mark_left(self) -> None:
        """Record that the selected person left (MarkLeftDialog)."""
        person_id = self.current_person()
        if person_id is None or not self.may(Permission.EDIT_DIRECTORY):
            return
        from seatledger.ui.dialogs.mark_left import MarkLeftDialog  # noqa: PLC0415

        try:
            dialog = MarkLeftDialog(self.services, person_id, self)
        except KnownError as exc:
            self.report(exc)
            return
        dialog.exec()

    # ------------------------------------------------------------------ settings
    def save_state(self, settings: QSettings) -> None:
        """Remember the columns."""
        settings.setValue("people/header", self.table.header_state())

    def restore_state(self, settings: QSettings) -> None:
        """Restore the columns."""
        self.table.restore_header_state(settings.value("people/header"))
