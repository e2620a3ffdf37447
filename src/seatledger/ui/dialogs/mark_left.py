"""Recording that a person left the organization."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtWidgets import QLineEdit, QWidget

from seatledger.services.directory.queries import PeopleColumn
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.dialogs.common import FormDialog
from seatledger.ui.dialogs.forms import date_edit
from seatledger.ui.widgets import from_qdate, to_qdate


class MarkLeftDialog(FormDialog):
    """Asks for the date a person left and why; their seats stay until released."""

    def __init__(self, services: Services, person_id: int, parent: QWidget | None = None) -> None:
        super().__init__("Mark as left", "Mark as left", parent)
        self.services = services
        self.person_id = person_id
        data, _status = services.reads.person(person_id)
        found = services.reads.people().rows([person_id]).get(person_id)
        seats = int(found[PeopleColumn.SEATS]) if found else 0
        if not seats:
            held = "They hold no seats."
        elif seats == 1:
            held = (
                "They hold 1 seat; it stays assigned (and shows as a finding) until you release it."
            )
        else:
            held = (
                f"They hold {plural(seats, 'seat')}; the seats stay assigned "
                "(and show as findings) until you release them."
            )
        who = f"<b>{html.escape(data.name)}</b> ({html.escape(data.employee_id)})"
        self.set_intro(f"Record that {who} left the organization. {held}")
        self.date_left = date_edit()
        self.date_left.setDate(to_qdate(dt.date.today()))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("optional, e.g. resignation, HR ticket HR-3312")
        self.reason.setMinimumWidth(300)
        self.add_row("&Date left:", self.date_left, names=("Date left",))
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self.finish()

    def save(self) -> None:
        """Record the departure."""
        self.services.directory.mark_left(
            self.person_id, from_qdate(self.date_left.date()), self.reason.text()
        )
