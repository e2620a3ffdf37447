"""Alert settings (administrators): which rules run, the warning level, bursts, working hours."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QLineEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.alerts import AlertSettings, Rule, parse_days
from seatledger.errors import ValidationError
from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.common import FormDialog, count_box, row
from seatledger.ui.widgets import accessible

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _qtime(value: dt.time) -> QTime:
    return QTime(value.hour, value.minute)


def _time(value: QTime) -> dt.time:
    return dt.time(value.hour(), value.minute())


class AlertSettingsDialog(FormDialog):
    """Edits :class:`~seatledger.domain.alerts.AlertSettings`; saving is a ledger entry."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__("Alert settings", "&Save", parent)
        self.setObjectName("alert_settings")
        self._services = services
        current = services.alerts.settings()
        self.set_intro(
            "Alert rules run after every change and import. Changes to these settings take "
            "effect with the next change and are recorded in the ledger."
        )
        rules = QWidget(self)
        box = QVBoxLayout(rules)
        box.setContentsMargins(0, 0, 0, 0)
        self.rule_boxes: dict[Rule, QCheckBox] = {}
        for rule in Rule:
            check = QCheckBox(rule.label, rules)
            check.setObjectName(f"rule_{rule.value}")
            check.setChecked(rule in current.enabled)
            check.setToolTip(f"{rule.explanation} Severity: {rule.severity.label.lower()}.")
            box.addWidget(check)
            self.rule_boxes[rule] = check
        self.add_row("Rules", rules)

        self.warning = count_box(
            1,
            100,
            current.warning_percent,
            " %",
            tip="A license at this share of its seats or more raises a warning",
            parent=self,
        )
        self.add_row("&Warning level", self.warning, names=["Warning"])

        self.burst_count = count_box(2, 100_000, current.burst_count, " seat changes", parent=self)
        self.burst_minutes = count_box(
            1, 24 * 60, current.burst_minutes, " min", prefix="within ", parent=self
        )
        accessible(self.burst_minutes, "Burst window")
        self.add_row("&Burst", row(self.burst_count, self.burst_minutes, 0), names=["Burst"])
        self.unseated_days = count_box(
            1,
            3650,
            current.unseated_days,
            " days",
            prefix="installed over ",
            tip=Rule.UNSEATED_INSTALLS.explanation,
            parent=self,
        )
        self.add_row("Without a &seat", self.unseated_days, names=["Days without a seat"])

        self.work_start = QTimeEdit(_qtime(current.work_start), self)
        self.work_start.setDisplayFormat("HH:mm")
        self.work_end = QTimeEdit(_qtime(current.work_end), self)
        self.work_end.setDisplayFormat("HH:mm")
        accessible(self.work_end, "Working hours end")
        self.add_row(
            "Working &hours",
            row(self.work_start, 6, QLabel("to", self), 6, self.work_end, 0),
            names=["Working hours"],
        )
        self.work_days = QLineEdit(current.work_days_text, self)
        self.work_days.setPlaceholderText("Mon,Tue,Wed,Thu,Fri")
        self.work_days.setToolTip("Days as Mon … Sun, separated by commas")
        self.add_row("Working &days", self.work_days, names=["Working days"])
        self.timezone = QLineEdit(current.timezone, self)
        self.timezone.setPlaceholderText("this computer's time zone")
        self.timezone.setToolTip(
            "An IANA time zone such as Europe/Berlin; ledger times are UTC and are converted"
        )
        self.add_row("&Time zone", self.timezone, names=["Time zone"])
        self.finish()

    def settings(self) -> AlertSettings:
        """The settings as entered.

        Raises:
            ValidationError: a value cannot be right.
        """
        return AlertSettings(
            enabled=frozenset(rule for rule, box in self.rule_boxes.items() if box.isChecked()),
            warning_percent=self.warning.value(),
            burst_count=self.burst_count.value(),
            burst_minutes=self.burst_minutes.value(),
            work_start=_time(self.work_start.time()),
            work_end=_time(self.work_end.time()),
            work_days=parse_days(self.work_days.text()),
            timezone=self.timezone.text().strip(),
            unseated_days=self.unseated_days.value(),
        )

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """Days that are not days, hours that end before they start."""
        found: list[tuple[str, QWidget | None]] = []
        try:
            parse_days(self.work_days.text())
        except ValidationError as exc:
            found.append((str(exc), self.work_days))
        if self.work_end.time() <= self.work_start.time():
            found.append(("Working hours must end after they start.", self.work_end))
        return found

    def save(self) -> None:
        """Store the settings through the alert service (administrators only)."""
        self._services.alerts.save_settings(self.settings())
