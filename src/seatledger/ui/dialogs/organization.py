"""A person's manager and cost centre, from a day on."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtWidgets import QLineEdit, QWidget

from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.common import FormDialog
from seatledger.ui.dialogs.forms import PersonChoice, date_edit
from seatledger.ui.widgets import from_qdate, to_qdate


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
        self.manager = PersonChoice(
            services,
            "Manager",
            nobody="No manager",
            clear="No manager",
            on_change=self.update_state,
        )
        self.manager_label, self.clear_manager, self.picker = (
            self.manager.label,
            self.manager.clear,
            self.manager.picker,
        )
        self.cost_centre = QLineEdit(now.cost_centre)
        self.cost_centre.setPlaceholderText("optional, e.g. CC-4100")
        self.cost_centre.setMaxLength(100)
        self.effective = date_edit()
        self.effective.setDate(to_qdate(dt.date.today()))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("optional, e.g. reorganization of Finance, HR ticket 5521")
        self.add_row("&Manager:", self.manager.layout, buddy=self.picker.search)
        self.add_row("&Cost centre:", self.cost_centre, names=("Cost centre",))
        self.add_row("&From:", self.effective, names=("From",))
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self.manager.show_person(services, now.manager_id)
        self.finish()

    def complete(self) -> bool:
        """Something differs from what the person holds now."""
        return (self.manager.person_id, self.cost_centre.text().strip()) != self.held

    def save(self) -> None:
        """Record the new manager and cost centre."""
        self.services.directory.set_organization(
            self.person_id,
            self.manager.person_id,
            self.cost_centre.text(),
            from_qdate(self.effective.date()),
            self.reason.text(),
        )
