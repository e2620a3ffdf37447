"""The Audits page: every audit with its status, and the scheduled ones due.

New audit… and Resume open the audit wizard (a draft resumes at its saved step); Open bundle
folder shows a signed audit's bundle; Schedules… edits the periodic audits per vendor.  Starting
and resuming audits needs the audit permission (administrators and auditors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QModelIndex, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from seatledger.domain.roles import Permission
from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.audits.service import AuditInfo, DueAudit, Status
from seatledger.services.operators.session import Services
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.pages import Page
from seatledger.ui.theme import keep_notice_styled, keep_styled
from seatledger.ui.widgets import EmptyState, Stateful, accessible, list_table

_COLUMNS: list[ListColumn[AuditInfo]] = [
    ListColumn("#", lambda a: a.id, numeric=True),
    ListColumn("Status", lambda a: a.status.label, bad=lambda a: a.status is not Status.SIGNED),
    ListColumn("Vendor", lambda a: a.vendor),
    ListColumn(
        "Scope",
        lambda a: ", ".join(a.products) if a.products else "All products",
    ),
    ListColumn("Trigger", lambda a: a.trigger.label, tip="Why the audit was started"),
    ListColumn("As of", lambda a: a.as_of.isoformat()),
    ListColumn("Owner", lambda a: a.owner),
    ListColumn("Step", lambda a: "Done" if a.status is Status.SIGNED else a.step.label),
    ListColumn(
        "Due",
        lambda a: a.due_on.isoformat() if a.due_on else None,
        tip="A scheduled audit's date; red when it has passed and the audit is not signed",
        bad=lambda a: (
            a.due_on is not None
            and a.status is not Status.SIGNED
            and a.due_on < dt.datetime.now(dt.UTC).date()
        ),
    ),
    ListColumn("Updated", lambda a: f"{a.updated_at:%Y-%m-%d %H:%M}"),
    ListColumn("Reason", lambda a: a.trigger_reason or None),
]


class AuditsPage(Page):
    """Audits, newest first, and the scheduled audits that are due."""

    title = "Audits"
    settings_group = "audits"
    shows = frozenset({"audit", "audit_schedule", "signing_identity", "vendor", "product"})

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.due_label = QLabel(self)
        self.due_label.setObjectName("auditsDue")
        self.due_label.setWordWrap(True)
        self.due_label.linkActivated.connect(self._start_due)
        self.new_button = QPushButton("&New audit…", self)
        self.new_button.setObjectName("new_audit")
        self.resume_button = QPushButton("&Resume", self)
        self.resume_button.setObjectName("resume_audit")
        self.folder_button = QPushButton("Open bundle &folder", self)
        self.folder_button.setObjectName("open_bundle_folder")
        self.schedules_button = QPushButton("&Schedules…", self)
        self.schedules_button.setObjectName("audit_schedules")
        buttons = QHBoxLayout()
        for button in (
            self.new_button,
            self.resume_button,
            self.folder_button,
            self.schedules_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.model: ListTableModel[AuditInfo] = ListTableModel(_COLUMNS, self)
        self.table = list_table(self, self.model)
        self.table.setObjectName("audits")
        accessible(self.table, "Audits", "Double-click or Enter opens an audit where it stopped")
        self.table.setSortingEnabled(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.activated.connect(self._activated)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        layout = self.body_layout()
        layout.addWidget(self.due_label)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        empty = EmptyState(
            "No audits yet",
            "An audit prepares one vendor's report: its scope and date, how fresh the data is, "
            "the license position, a decision on every finding, who attests it, and a signed "
            "bundle for the vendor. Start one when a vendor asks, or schedule them so that "
            "SeatLedger says when one is due.",
            self,
        )
        may_audit = self.may(Permission.RUN_AUDITS)
        refused = "" if may_audit else "Auditors and administrators run audits."
        empty.add_action("&New audit…", self._new_clicked, enabled=may_audit, tip=refused)
        empty.add_action("&Schedules…", self.edit_schedules, enabled=may_audit, tip=refused)
        self.set_empty_state(empty)

        self.new_button.clicked.connect(self._new_clicked)
        self.resume_button.clicked.connect(self.resume)
        self.folder_button.clicked.connect(self.open_bundle_folder)
        self.schedules_button.clicked.connect(self.edit_schedules)
        self._due: list[DueAudit] = []
        self.wizard: QWidget | None = None
        self.refresh()

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Re-read the audits and what is due, keeping the selection."""
        super().refresh()
        keep = self.current_audit()
        self.model.set_rows(self.services.audits.audits())
        self._due = self.services.audits.due()
        self._show_due()
        self.show_empty(not self.model.rowCount() and not self._due)
        self.table.resizeColumnsToContents()
        for column in range(self.model.columnCount() - 1):
            self.table.setColumnWidth(column, self.table.columnWidth(column) + 14)
        rows = self.model.rows
        target = next((i for i, a in enumerate(rows) if keep and a.id == keep.id), 0)
        if rows:
            self.table.selectRow(target)
        self._update_buttons()

    def _show_due(self) -> None:
        if not self._due:
            self.due_label.setText("No scheduled audit is due in the next two weeks.")
            keep_styled(self.due_label, str)
            return
        may = self.may(Permission.RUN_AUDITS)
        parts = []
        for due in self._due:
            start = (
                f" <a href='{due.schedule_id}'>Start</a>" if may and due.audit_id is None else ""
            )
            parts.append(f"{due.text}{start}")
        self.due_label.setText("<b>Scheduled audits due:</b> " + " · ".join(parts))
        keep_notice_styled(self.due_label, "warning")

    def current_audit(self) -> AuditInfo | None:
        """The selected audit."""
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row(index.row())

    def _update_buttons(self) -> None:
        audit = self.current_audit()
        may = self.may(Permission.RUN_AUDITS)
        self.new_button.setEnabled(may)
        self.schedules_button.setEnabled(may)
        signed = audit is not None and audit.status is Status.SIGNED
        self.resume_button.setEnabled(audit is not None and (may or signed))
        self.resume_button.setText(
            "&View" if audit is not None and audit.status is Status.SIGNED else "&Resume"
        )
        self.folder_button.setEnabled(audit is not None and bool(audit.bundle_path))

    # ------------------------------------------------------------------ actions
    def new_audit(
        self,
        vendor_id: int | None = None,
        product_ids: Sequence[int] = (),
        trigger: Trigger | None = None,
        reason: str = "",
    ) -> QWidget:
        """Open the wizard for a new audit (optionally preset); returns the wizard."""
        from seatledger.ui.dialogs.audit_wizard import AuditWizard  # noqa: PLC0415

        wizard = AuditWizard(
            self.services,
            self.runner,
            self,
            vendor_id=vendor_id,
            product_ids=product_ids,
            trigger=trigger,
            reason=reason,
        )
        return self._open(wizard)

    def _new_clicked(self) -> None:
        self.new_audit()

    def resume(self) -> QWidget | None:
        """Open the wizard at the selected audit's saved step; returns the wizard."""
        audit = self.current_audit()
        if audit is None:
            return None
        from seatledger.ui.dialogs.audit_wizard import AuditWizard  # noqa: PLC0415

        return self._open(AuditWizard(self.services, self.runner, self, audit.id))

    def _open(self, wizard: QWidget) -> QWidget:
        # Each step the wizard commits reloads the page (see Page.shows): nothing to do on close.
        self.wizard = wizard
        wizard.show()
        return wizard

    def _activated(self, _index: QModelIndex) -> None:
        audit = self.current_audit()
        if audit is not None:
            self.resume()

    def _start_due(self, link: str) -> None:
        due = next((d for d in self._due if str(d.schedule_id) == link), None)
        if due is not None:
            self.new_audit(due.vendor_id, trigger=Trigger.SCHEDULED)

    def open_bundle_folder(self) -> None:
        """Show the selected audit's bundle in the file manager."""
        audit = self.current_audit()
        if audit is not None and audit.bundle_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(audit.bundle_path).parent)))

    def edit_schedules(self) -> None:
        """Edit the periodic audits per vendor."""
        from seatledger.ui.dialogs.audit_schedules import ScheduleDialog  # noqa: PLC0415

        ScheduleDialog(self.services, self).exec()

    # ------------------------------------------------------------------ state
    def layouts(self) -> dict[str, Stateful]:
        """The column widths."""
        return {"audits/header": self.table.horizontalHeader()}
