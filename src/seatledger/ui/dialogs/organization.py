"""A person's manager and cost centre, from a day on."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from seatledger.services.directory.queries import PeopleColumn, PeopleQuery
from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.common import FormDialog, PickerTable, helper_button, row
from seatledger.ui.dialogs.forms import date_edit
from seatledger.ui.widgets import accessible, from_qdate, to_qdate


class OrganizationDialog(FormDialog):
    """Sets who a person reports to and their cost centre from a day on (one ledger entry).

    The period held until then stays as it was: by-team and by-manager figures of earlier days
    keep it.
    """

    def __init__(self, services: Services, person_id: int, parent: QWidget | None = None) -> None:
        super().__init__("Manager and cost centre", "Save", parent)
        self.setMinimumWidth(620)
        self.services = services
        self.person_id = person_id
        data, _status = services.reads.person(person_id)
        now = services.directory.organization(person_id)
        self.held = (now.manager_id, now.cost_centre)
        who = f"<b>{html.escape(data.name)}</b> ({html.escape(data.employee_id)})"
        since = f" since {now.since.isoformat()}" if now.since else ""
        self.set_intro(
            f"Set who {who} reports to and the cost centre they are charged to, from the day "
            f"under <i>From</i>. What they held{since} stays on record for the days before it."
        )
        reads = services.reads

        def people(text: str, column: int, descending: bool) -> PeopleQuery:
            return reads.people(text, column, descending, status="active")

        self.manager_id: int | None = None
        self.manager_label = accessible(QLineEdit(), "Manager chosen")
        self.manager_label.setReadOnly(True)
        self.clear_manager = helper_button("No manager")
        self.clear_manager.clicked.connect(lambda: self._set_manager(None, ""))
        self.picker = PickerTable(
            people,
            sort_column=PeopleColumn.NAME,
            hidden_columns=(
                PeopleColumn.EMAIL,
                PeopleColumn.MANAGER,
                PeopleColumn.COST_CENTRE,
                PeopleColumn.STATUS,
                PeopleColumn.SEATS,
            ),
            widths={PeopleColumn.EMPLOYEE_ID: 10, PeopleColumn.NAME: 24},
            stretch=PeopleColumn.TEAM,
            empty_hint="No active person matches the search.",
            placeholder="Search people by name, employee ID or email",
            name="Manager",
        )
        self.picker.view.setMinimumHeight(160)
        self.picker.selection_changed.connect(self._picked)
        self.cost_centre = QLineEdit(now.cost_centre)
        self.cost_centre.setPlaceholderText("optional, e.g. CC-4100")
        self.cost_centre.setMaxLength(100)
        self.effective = date_edit()
        self.effective.setDate(to_qdate(dt.date.today()))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("optional, e.g. reorganization of Finance, HR ticket 5521")
        manager = QVBoxLayout()
        manager.setContentsMargins(0, 0, 0, 0)
        manager.addLayout(row(self.manager_label, self.clear_manager))
        manager.addWidget(self.picker)
        self.add_row("&Manager:", manager, buddy=self.picker.search)
        self.name_field("Manager", self.manager_label)
        self.add_row("&Cost centre:", self.cost_centre, names=("Cost centre",))
        self.add_row("&From:", self.effective, names=("From",))
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self._set_manager(now.manager_id, now.manager)
        self.finish()

    def _set_manager(self, manager_id: int | None, name: str) -> None:
        self.manager_id = manager_id
        self.manager_label.setText(name if manager_id is not None else "No manager")
        self.clear_manager.setEnabled(manager_id is not None)
        if manager_id is None:
            self.picker.view.clearSelection()
        self.update_state()

    def _picked(self) -> None:
        rows = self.picker.selected_rows()
        if not rows:
            return
        found = self.picker.model.row_data(rows[0])
        if found is not None:
            self._set_manager(self.picker.model.key_at(rows[0]), str(found[PeopleColumn.NAME]))

    def complete(self) -> bool:
        """Something differs from what the person holds now."""
        return (self.manager_id, self.cost_centre.text().strip()) != self.held

    def save(self) -> None:
        """Record the new manager and cost centre."""
        self.services.directory.set_organization(
            self.person_id,
            self.manager_id,
            self.cost_centre.text(),
            from_qdate(self.effective.date()),
            self.reason.text(),
        )
