"""Audit schedules: audit a vendor every N months; the next one is due on a date."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seatledger.errors import KnownError
from seatledger.services.audits.service import ScheduleInfo, add_months
from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.common import InlineMessage, count_box, make_form, row, wide
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.widgets import accessible, from_qdate, list_table, to_qdate

_COLUMNS: list[ListColumn[ScheduleInfo]] = [
    ListColumn("Vendor", lambda s: s.vendor),
    ListColumn("Every", lambda s: f"{s.every_months} months"),
    ListColumn("Next due", lambda s: s.next_due.isoformat()),
    ListColumn("Active", lambda s: s.active),
]


class ScheduleDialog(QDialog):
    """List the schedules; add one or change a vendor's (each save is a ledger entry)."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.changed = False
        self.setWindowTitle("Audit schedules")
        self.setMinimumSize(620, 420)
        self.model: ListTableModel[ScheduleInfo] = ListTableModel(_COLUMNS, self)
        self.table = accessible(list_table(self, self.model), "Audit schedules")
        self.table.horizontalHeader().setStretchLastSection(True)
        self.vendor = QComboBox()
        self.vendor.setObjectName("vendor")
        for vendor_id, name in services.audits.vendors():
            self.vendor.addItem(name, vendor_id)
        self.every = count_box(1, 60, 3, " months")
        self.every.setObjectName("every")
        today = services.audits.today()
        self.next_due = QDateEdit(to_qdate(add_months(today, 3)))
        self.next_due.setObjectName("next_due")
        self.next_due.setCalendarPopup(True)
        self.next_due.setDisplayFormat("yyyy-MM-dd")
        self.active = QCheckBox("Active")
        self.active.setChecked(True)
        self.save = QPushButton("&Save schedule")
        self.save.setObjectName("save")
        self.save.setAutoDefault(False)
        self.message = InlineMessage()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        form = make_form()
        form.addRow("&Vendor:", wide(self.vendor))
        every_label = QLabel("&Every:")
        every_label.setBuddy(self.every)
        due_label = QLabel("&Next due:")
        due_label.setBuddy(self.next_due)
        form.addRow(every_label, row(self.every, 16, due_label, 6, self.next_due, 0))
        form.addRow("", row(self.active, 0, self.save))
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.save.clicked.connect(self.save_schedule)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        self.reload()

    def reload(self) -> None:
        """Re-read the schedules."""
        self.model.set_rows(self.services.audits.schedules())
        self.table.resizeColumnsToContents()
        for column in range(self.model.columnCount() - 1):
            self.table.setColumnWidth(column, self.table.columnWidth(column) + 14)

    def _selected(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        schedule = self.model.row(index.row())
        self.vendor.setCurrentIndex(max(self.vendor.findData(schedule.vendor_id), 0))
        self.every.setValue(schedule.every_months)
        self.next_due.setDate(to_qdate(schedule.next_due))
        self.active.setChecked(schedule.active)

    def save_schedule(self) -> None:
        """Save the vendor's schedule."""
        self.message.clear_message()
        if self.vendor.currentData() is None:
            self.message.show_message("Add a vendor first.")
            return
        due = self.next_due.date()
        try:
            self.services.audits.set_schedule(
                int(self.vendor.currentData()),
                self.every.value(),
                from_qdate(due),
                active=self.active.isChecked(),
            )
        except KnownError as exc:
            self.message.show_message(str(exc))
            return
        self.changed = True
        self.message.show_message(f"Saved the schedule of {self.vendor.currentText()}.", "info")
        self.reload()
