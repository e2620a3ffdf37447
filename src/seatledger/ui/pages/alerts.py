"""The alerts page: what the rules raised, who and which change caused it, and acknowledging it.

The list is loaded in the background from
:meth:`~seatledger.services.alerts.service.AlertService.alerts` (open ones, or all).
Acknowledging needs a note and is a service call, so it is recorded in the ledger like any change.
Administrators reach the rules' settings from here too.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.alerts import Rule, Severity
from seatledger.domain.roles import Permission
from seatledger.errors import KnownError
from seatledger.services.alerts.service import AlertRow
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.pages import Page
from seatledger.ui.table_model import AnyIndex
from seatledger.ui.tasks import Task
from seatledger.ui.theme import colors
from seatledger.ui.widgets import EmptyState, accessible, list_table, splitter

_SEVERITY_COLOR = {Severity.HIGH: "bad", Severity.MEDIUM: "warn", Severity.LOW: "neutral"}
_DISPLAY = Qt.ItemDataRole.DisplayRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


def _when(alert: AlertRow) -> str:
    return alert.raised_at.astimezone().strftime("%Y-%m-%d %H:%M")


COLUMNS: list[ListColumn[AlertRow]] = [
    ListColumn("Severity", lambda a: a.severity.label, tip="High, medium or low"),
    ListColumn("Raised", _when, tip="When the change that raised it was made (local time)"),
    ListColumn("Rule", lambda a: a.rule.label),
    ListColumn("Subject", lambda a: a.subject),
    ListColumn("Caused by", lambda a: a.operator or None, tip="The operator who made the change"),
    ListColumn(
        "Entry",
        lambda a: a.ledger_seq,
        numeric=True,
        tip="The ledger entry of the change (see Activity)",
    ),
    ListColumn(
        "Status",
        lambda a: "Open" if a.open else f"Acknowledged by {a.acknowledged_by}",
        bad=lambda a: a.open and a.severity is Severity.HIGH,
    ),
]


class AlertTableModel(ListTableModel[AlertRow]):
    """Alerts with the severity column coloured."""

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        """As the list model, with severity colours."""
        if role == _FOREGROUND and index.isValid() and index.column() == 0:
            return QBrush(colors().qcolor(_SEVERITY_COLOR[self.row(index.row()).severity]))
        return super().data(index, role)


AUDITABLE = frozenset({"entitlement", "product"})  # alert subjects an audit can start from


class AlertsPage(Page):
    """Open (or all) alerts; the selected one's detail, and acknowledging it with a note.

    Signals:
        audit_requested(str, str, str): start an audit on suspicion of the alert's license or
            product (entity type, entity id, the reason).
    """

    audit_requested = Signal(str, str, str)

    title = "Alerts"
    settings_group = "alerts"
    shows_every_change = True  # any change may raise an alert (after hours, at the least)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._wanted: int | None = None

        self.show_filter = QComboBox(self)
        self.show_filter.addItem("Open alerts", False)
        self.show_filter.addItem("All alerts", True)
        self.show_filter.setToolTip("Acknowledged alerts stay listed under All alerts")
        accessible(self.show_filter, "Show")
        self.count = QLabel(self)
        self.settings_button = QPushButton("Alert &settings…", self)
        self.settings_button.setToolTip("Rules, warning level, bursts and working hours")
        self.settings_button.setVisible(self.may(Permission.MANAGE_SETTINGS))
        self.settings_button.clicked.connect(self.edit_settings)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show", self))
        bar.addWidget(self.show_filter)
        bar.addSpacing(12)
        bar.addWidget(self.count, 1)
        bar.addWidget(self.settings_button)

        self.model = AlertTableModel(COLUMNS, self)
        self.table = list_table(self, self.model)
        self.table.setObjectName("alerts")
        accessible(self.table, "Alerts")
        self.table.setSortingEnabled(False)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setStretchLastSection(False)

        self.detail = QLabel("Select an alert to see what caused it.", self)
        self.detail.setObjectName("alert_detail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.note = QLineEdit(self)
        self.note.setPlaceholderText("What was done about it (recorded in the ledger)")
        accessible(self.note, "Acknowledgement note", self.note.placeholderText())
        self.acknowledge_button = QPushButton("&Acknowledge", self)
        self.acknowledge_button.setToolTip("Close the alert with your note")
        self.note.textChanged.connect(lambda _text: self._update_buttons())
        self.note.returnPressed.connect(self.acknowledge)
        self.acknowledge_button.clicked.connect(self.acknowledge)
        self.audit_button = QPushButton("A&udit this…", self)
        self.audit_button.setObjectName("audit_alert")
        self.audit_button.setToolTip(
            "Start an audit on suspicion of the alert's license or product"
        )
        self.audit_button.clicked.connect(self.audit_current)
        ack = QHBoxLayout()
        ack.addWidget(self.note, 1)
        ack.addWidget(self.acknowledge_button)
        ack.addWidget(self.audit_button)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.detail, 1)
        lower_layout.addLayout(ack)

        self.splitter = splitter(self, self.table, lower, (3, 1), collapsible=False)
        layout = self.body_layout()
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        watched = "; ".join(rule.label.lower() for rule in Rule)
        self.empty = EmptyState(
            "No open alerts",
            "SeatLedger raises an alert in the same transaction as the change that causes it, "
            f"when one of its rules matches ({watched}), and keeps it here until someone "
            "acknowledges it with a note. Acknowledged alerts stay listed under All alerts.",
            self,
        )
        self.show_all_button = self.empty.add_action(
            "Show &all alerts", lambda: self.show_filter.setCurrentIndex(1)
        )
        may_set = self.may(Permission.MANAGE_SETTINGS)
        self.empty.add_action(
            "Alert &settings…",
            self.edit_settings,
            enabled=may_set,
            tip="" if may_set else "Administrators set the alert rules.",
        )
        self.set_empty_state(self.empty)

        self.show_filter.currentIndexChanged.connect(lambda _index: self.refresh())
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self._update_buttons()
        self._stale = True

    # ------------------------------------------------------------------ loading
    def refresh(self) -> None:
        """Reload the alerts in the background, keeping the selected one."""
        super().refresh()
        current = self.current_alert()
        if self._wanted is None and current is not None:
            self._wanted = current.id
        include = bool(self.show_filter.currentData())
        service = self.services.alerts
        task = Task(lambda _progress: service.alerts(include_acknowledged=include), self)
        task.on_done(self._show).failed.connect(self.show_error)
        self.runner.start(task, key=(self, "alerts"))

    def _show(self, rows: list[AlertRow]) -> None:
        rows.sort(key=lambda a: (not a.open, _SEVERITY_ORDER[a.severity], -a.id))
        self.model.set_rows(rows)
        open_count = sum(1 for a in rows if a.open)
        shown = "open" if not self.show_filter.currentData() else f"{open_count:,} open"
        self.count.setText(plural(len(rows), "alert") + ("" if shown == "open" else f" ({shown})"))
        every = bool(self.show_filter.currentData())
        self.empty.title.setText("No alerts yet" if every else "No open alerts")
        self.show_all_button.setVisible(not every)
        self.show_empty(not rows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        wanted, self._wanted = self._wanted, None
        if wanted:
            self.select_alert(wanted)
        self._selected()

    def show_alert(self, alert_id: int) -> None:
        """Select an alert once the list has loaded (or now, if it is listed)."""
        if alert_id and not self.select_alert(alert_id):
            self._wanted = alert_id
            if not self.show_filter.currentData():
                self.show_filter.setCurrentIndex(1)  # acknowledged: look among all of them

    def select_alert(self, alert_id: int) -> bool:
        """Select an alert if it is listed."""
        for number, alert in enumerate(self.model.rows):
            if alert.id == alert_id:
                self.table.selectRow(number)
                self.table.scrollTo(self.model.index(number, 0))
                return True
        return False

    # ------------------------------------------------------------------ selection
    def current_alert(self) -> AlertRow | None:
        """The selected alert."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def _selected(self, *_args: QItemSelection) -> None:
        alert = self.current_alert()
        if alert is None:
            self.detail.setText("Select an alert to see what caused it.")
        else:
            caused = (
                f"by <b>{alert.operator}</b> in ledger entry {alert.ledger_seq}"
                if alert.operator
                else f"by ledger entry {alert.ledger_seq}"
            )
            status = (
                "Open."
                if alert.open
                else f"Acknowledged by <b>{alert.acknowledged_by}</b> on "
                f"{alert.acknowledged_at:%Y-%m-%d %H:%M} UTC: {alert.note}"
            )
            self.detail.setText(
                f"<b>{alert.subject}</b><br>{alert.rule.label} ({alert.severity.label.lower()}"
                f" severity), raised {_when(alert)} {caused}.<br>{alert.detail}<br><br>{status}"
            )
        self._update_buttons()
        self.selection_changed.emit()

    def _update_buttons(self) -> None:
        alert = self.current_alert()
        may = self.may(Permission.ACKNOWLEDGE_ALERTS)
        can = may and alert is not None and alert.open
        self.note.setEnabled(can)
        self.acknowledge_button.setEnabled(can and bool(self.note.text().strip()))
        if not may:
            self.note.setPlaceholderText("Your role may not acknowledge alerts")
        self.audit_button.setEnabled(
            self.may(Permission.RUN_AUDITS)
            and alert is not None
            and alert.entity_type in AUDITABLE
            and bool(alert.entity_id)
        )

    # ------------------------------------------------------------------ actions
    def audit_current(self) -> None:
        """Ask for an audit on suspicion of what the selected alert is about."""
        alert = self.current_alert()
        if alert is not None and alert.entity_type in AUDITABLE and alert.entity_id:
            self.audit_requested.emit(alert.entity_type, alert.entity_id, f"Alert: {alert.subject}")

    def acknowledge(self) -> None:
        """Acknowledge the selected alert with the note typed (a ledger entry)."""
        alert = self.current_alert()
        if alert is None or not self.acknowledge_button.isEnabled():
            return
        try:
            self.services.alerts.acknowledge(alert.id, self.note.text())
        except KnownError as exc:
            self.report(exc)
            return
        self.note.clear()
        self.status_message.emit(f"Alert {alert.id} acknowledged.")

    def edit_settings(self) -> None:
        """Open the alert settings (administrators)."""
        if not self.may(Permission.MANAGE_SETTINGS):
            return
        from seatledger.ui.dialogs.alert_settings import AlertSettingsDialog  # noqa: PLC0415

        if AlertSettingsDialog(self.services, self).exec() == QDialog.DialogCode.Accepted:
            self.status_message.emit("Alert settings saved.")

    def focus_search(self) -> None:
        """The filter takes the focus."""
        self.show_filter.setFocus()
