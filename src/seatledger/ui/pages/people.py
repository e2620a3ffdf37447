"""The people page: who seats are assigned to, by team and status, with the seats each holds.

People who left are grey with the date they left; the seats they still hold are red, since each is
an audit finding until released (Seats ▸ Release seats of people who left…).  Someone HR employs
whose directory account is disabled reads "Active, account disabled": the seats they hold are red
too (the finding "account disabled, still holds seats"), and the status's tooltip names the
directory import line that said so.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from seatledger.domain.roles import Permission
from seatledger.errors import KnownError
from seatledger.services.core.tables import Row
from seatledger.services.directory.queries import PeopleColumn, PeopleQuery
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.pages.directory import DirectoryPage, RecordForm, SearchedQuery
from seatledger.ui.presenters import PeoplePresenter
from seatledger.ui.table_model import Presenter
from seatledger.ui.theme import colors
from seatledger.ui.widgets import accessible

_STATUSES = (
    ("Active and left", None),
    ("Active", "active"),
    ("Left", "left"),
    ("Active, account disabled", PeopleQuery.DISABLED),
)


def _disabled(row: Row) -> bool:
    """HR employs them and the directory has disabled their account."""
    return row[PeopleColumn.STATUS] == "active" and row[PeopleQuery.ACCOUNT_DISABLED] is True


class PeopleWithAccounts(PeoplePresenter):
    """The people list, with the directory's account state in the status: "Active, account
    disabled" (the account of someone HR employs), whose seats are a finding."""

    def display(self, row: Row, column: int) -> str:
        """Cell text; an employed person's disabled account is said in the status."""
        if column == PeopleColumn.STATUS and _disabled(row):
            return "Active, account disabled"
        return super().display(row, column)

    def foreground(self, row: Row, column: int) -> QBrush | None:
        """Red for the seats of a disabled account, and for its status."""
        if _disabled(row) and (
            column == PeopleColumn.STATUS
            or (column == PeopleColumn.SEATS and (row[PeopleColumn.SEATS] or 0) > 0)
        ):
            return QBrush(colors().qcolor("bad"))
        return super().foreground(row, column)

    def tooltip(self, row: Row, column: int) -> str | None:
        """On the status: the directory import line that said the account is disabled, and
        the seats still held."""
        if column == PeopleColumn.STATUS and row[PeopleQuery.ACCOUNT_DISABLED] is not None:
            state = "disabled" if row[PeopleQuery.ACCOUNT_DISABLED] else "enabled"
            text = f"Directory account {state}"
            source = row[PeopleQuery.ACCOUNT_SOURCE]
            if source:
                text += f" (per {source})"
            seats = int(row[PeopleColumn.SEATS] or 0)
            if _disabled(row) and seats:
                text += (
                    f"; HR employs them and they still hold {plural(seats, 'seat')}: "
                    "a finding until the account is enabled or the seats released"
                )
            return text
        return super().tooltip(row, column)


class PeoplePage(DirectoryPage):
    """People with their team, status and seats."""

    title = "People"
    settings_group = "people"
    shows = frozenset({"person", "team", "entitlement", "seat", "import"})  # teams, seats
    noun = "person"
    search_placeholder = "Search name, employee ID or email…  (Ctrl+F)"
    empty_hint = "No people yet — add someone with Edit ▸ New person… or the New person… button."
    empty_title = "No people yet"
    empty_text = (
        "People hold named-user and subscription seats. Import the list your HR system exports "
        "(a CSV or XLSX file with employee ID, name and email), or add someone by hand; "
        "people who leave keep their history."
    )
    import_label = "&Import HR list…"
    import_kind = "people"

    _current: PeopleQuery

    def _add_filters(self, filters: QHBoxLayout) -> None:
        self.team = QComboBox(self)
        self.team.setToolTip("Show one team only")
        self.team.setMinimumContentsLength(14)
        accessible(self.team, "Team filter")
        self.status = accessible(QComboBox(self), "Status filter")
        for label, value in _STATUSES:
            self.status.addItem(label, value)
        self._fill_teams()
        self.team.currentIndexChanged.connect(self._apply_filter)
        self.status.currentIndexChanged.connect(self._apply_filter)
        filters.addWidget(QLabel("Team:", self))
        filters.addWidget(self.team)
        filters.addWidget(QLabel("Status:", self))
        filters.addWidget(self.status)

    def _add_buttons(self, buttons: QHBoxLayout) -> None:
        self.left_button = QPushButton("Mark as left…", self)
        self.left_button.setToolTip("Record that the selected person left the organization")
        self.left_button.clicked.connect(self.mark_left)
        buttons.addWidget(self.left_button)
        self.organization_button = QPushButton("Manager…", self)
        self.organization_button.setToolTip(
            "Set who the selected person reports to and their cost centre, from a day on"
        )
        self.organization_button.clicked.connect(self.set_organization)
        buttons.addWidget(self.organization_button)

    def _presenter(self) -> Presenter:
        return PeopleWithAccounts()

    def _set_column_widths(self) -> None:
        self.table.set_column_widths(
            {
                PeopleColumn.EMPLOYEE_ID: 12,
                PeopleColumn.NAME: 24,
                PeopleColumn.EMAIL: 28,
                PeopleColumn.TEAM: 16,
                PeopleColumn.MANAGER: 20,
                PeopleColumn.COST_CENTRE: 11,
                PeopleColumn.STATUS: 16,
                PeopleColumn.SEATS: 7,
            },
            stretch=PeopleColumn.EMAIL,
        )

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

    def _run_query(self, current: SearchedQuery | None = None) -> PeopleQuery:
        if current is None:
            return self.services.reads.people()
        return self.services.reads.people(
            self.search.text(),
            current.sort_column,
            current.descending,
            team_id=self.team.currentData(),
            status=self.status.currentData(),
        )

    def refresh(self) -> None:
        """Reload teams and people, keeping the selection."""
        super().refresh()
        before = self.team.currentData()
        self._fill_teams()
        if self.team.currentData() != before:
            self._apply_filter()
            return
        self._reload()

    def _filtered(self) -> bool:
        query = self._current
        return bool(query.text) or query.team_id is not None or query.status is not None

    def _filtered_hint(self) -> str:
        return "No one matches the search and filters."

    def _clear_filters(self) -> None:
        self.team.setCurrentIndex(0)
        self.status.setCurrentIndex(0)

    # ------------------------------------------------------------------ selection
    def _current_is_active(self) -> bool:
        index = self.table.currentIndex()
        if not index.isValid():
            return False
        row = self.model.row_data(index.row())
        return row is not None and row[PeopleColumn.STATUS] == "active"

    def _update_buttons(self) -> None:
        super()._update_buttons()
        selected = self.current_record() is not None
        self.left_button.setEnabled(
            self.may(Permission.EDIT_DIRECTORY) and selected and self._current_is_active()
        )
        self.organization_button.setEnabled(self.may(Permission.EDIT_DIRECTORY) and selected)

    # ------------------------------------------------------------------ actions
    def _form(self, key: int | None) -> RecordForm:
        from seatledger.ui.dialogs.forms import PersonDialog  # noqa: PLC0415

        return PersonDialog(self.services, self, person_id=key)

    def mark_left(self) -> None:
        """Record that the selected person left (MarkLeftDialog)."""
        from seatledger.ui.dialogs.mark_left import MarkLeftDialog  # noqa: PLC0415

        self._edit_person(MarkLeftDialog)

    def set_organization(self) -> None:
        """Set the selected person's manager and cost centre (OrganizationDialog)."""
        from seatledger.ui.dialogs.organization import OrganizationDialog  # noqa: PLC0415

        self._edit_person(OrganizationDialog)

    def _edit_person(self, dialog_type: Callable[[Services, int, QWidget], QDialog]) -> None:
        """Open a dialog on the selected person, if the operator may edit the directory (a
        dialog that cannot open on them says why instead)."""
        person_id = self.current_record()
        if person_id is None or not self.may(Permission.EDIT_DIRECTORY):
            return
        try:
            dialog = dialog_type(self.services, person_id, self)
        except KnownError as exc:
            self.report(exc)
            return
        dialog.exec()
