"""The audit wizard: scope → data freshness → position → findings → attestation → sign and export.

Every step is recorded as it is taken (one service call, one ledger entry each): the audit is
started when the scope page is left, each page reached is saved as the audit's step, each
freshness warning acknowledged and each finding's decision is recorded when the user makes it.
Closing the wizard keeps the draft; opening it again resumes at the saved step.  The position and
the bundle are computed off the GUI thread with a progress bar and Cancel; the usage charts are
drawn on the GUI thread just before signing (drawing needs Qt).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, QItemSelection, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from seatledger.domain.roles import Permission, allows
from seatledger.errors import KnownError
from seatledger.paths import expanded
from seatledger.progress import Progress
from seatledger.services.audits.bundle.model import BundleResult, Chart, Decision, Trigger
from seatledger.services.audits.servers import ServerSection
from seatledger.services.audits.service import (
    AuditInfo,
    FindingDecision,
    FreshnessWarning,
    Status,
    Step,
    finding_key,
)
from seatledger.services.operators.session import ORGANIZATION_KEY, Services, read_setting
from seatledger.services.position.engine import Finding, Position, PositionRow, short_of_rights
from seatledger.services.usage.history import UsageSeries
from seatledger.text import article, plural
from seatledger.ui.dialogs.common import (
    InlineMessage,
    count_box,
    helper_button,
    make_form,
    on_return,
    row,
    wide,
)
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.server_lines import ServerLinesView
from seatledger.ui.tasks import Runner, Task
from seatledger.ui.widgets import accessible, from_qdate, list_table, name_by_labels, to_qdate

STATEMENT = (
    "I attest that this report states the organization's license position as of the audit "
    "date as completely and accurately as SeatLedger's records allow, and that every finding "
    "was reviewed."
)
CHART_COUNT = 4
_CANCELLED = "Cancelled; nothing was written and the audit is not signed."

_POSITION_COLUMNS: list[ListColumn[PositionRow]] = [
    ListColumn("Product", lambda r: r.title),
    ListColumn("Metric", lambda r: r.metric_label),
    ListColumn("Owned", lambda r: "unlimited" if r.owned is None else r.owned, numeric=True),
    ListColumn("Assigned", lambda r: r.assigned, numeric=True),
    ListColumn("Needed", lambda r: r.needed, numeric=True),
    ListColumn("Available", lambda r: r.available, numeric=True, bad=lambda r: r.shortfall > 0),
    ListColumn("Unlicensed", lambda r: r.unlicensed, numeric=True, bad=lambda r: r.unlicensed > 0),
    ListColumn(
        "True-up",
        lambda r: r.true_up if r.true_up else None,
        numeric=True,
        bad=lambda r: r.shortfall > 0,
    ),
    ListColumn("Currency", lambda r: r.currency),
]


class _Triage:
    """A finding with the decision recorded on it, if any (one row of the findings table)."""

    def __init__(self, finding: Finding, decision: FindingDecision | None) -> None:
        self.finding = finding
        self.decision = decision

    @property
    def decided(self) -> str:
        if self.decision is None:
            return "Open"
        d = self.decision
        if d.decision is Decision.REMEDIATE:
            due = d.due.isoformat() if d.due else ""
            return f"To remediate: {d.owner} by {due}"
        return f"{d.decision.label}: {d.explanation}"


_FINDING_COLUMNS: list[ListColumn[_Triage]] = [
    ListColumn("Finding", lambda t: t.finding.kind.label),
    ListColumn("Product", lambda t: t.finding.title),
    ListColumn("Count", lambda t: t.finding.count, numeric=True),
    ListColumn("Decision", lambda t: t.decided, bad=lambda t: t.decision is None),
    ListColumn("By", lambda t: t.decision.decided_by if t.decision else None),
    ListColumn("Detail", lambda t: t.finding.text),
]


def _table(parent: QWidget, model: QAbstractItemModel) -> QTableView:
    view = list_table(parent, model)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class _StepPage(QWizardPage):
    """A wizard page that knows its audit step and reports service errors inline."""

    step = Step.SCOPE

    def __init__(self, wizard: AuditWizard) -> None:
        super().__init__()
        self.audit_wizard = wizard
        self.message = InlineMessage()
        self.setTitle(f"{self.step.order + 1}. {self.step.label}")

    @property
    def services(self) -> Services:
        return self.audit_wizard.services

    def fail(self, exc: KnownError) -> bool:
        self.message.show_message(str(exc))
        return False

    def first_input(self) -> QWidget | None:
        """Where the keyboard focus goes when the step is shown (None: the Next button)."""
        return None

    def advance(self) -> bool:
        """Leaving the page forward: record that the next step was reached."""
        try:
            self.audit_wizard.reached(Step(list(Step)[self.step.order + 1]))
        except KnownError as exc:
            return self.fail(exc)
        return True

    def validatePage(self) -> bool:
        """Leaving forward records the next step (a page that saves something first says so)."""
        return self.advance()


# ---------------------------------------------------------------------------------- scope


class ScopePage(_StepPage):
    """Vendor, products, teams, the as-of date, the shelfware window and why the audit runs."""

    step = Step.SCOPE

    def __init__(self, wizard: AuditWizard) -> None:
        super().__init__(wizard)
        self.setSubTitle(
            "What the audit covers and on which date. The audit is recorded when you go on; "
            "closing the wizard later keeps it as a draft."
        )
        self.vendor = QComboBox()
        self.vendor.setObjectName("vendor")
        for vendor_id, name in self.services.audits.vendors():
            self.vendor.addItem(name, vendor_id)
        self.products = QListWidget()
        self.products.setObjectName("products")
        self.products.setToolTip("Tick products to narrow the audit; none ticked: all of them")
        self.teams = QListWidget()
        self.teams.setObjectName("teams")
        self.teams.setToolTip("Tick teams to narrow the seat lists; none ticked: everyone")
        for team_id, name in self.services.audits.teams():
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, team_id)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.teams.addItem(item)
        for lists in (self.products, self.teams):
            lists.setMaximumHeight(lists.fontMetrics().height() * 7)
        self.as_of = QDateEdit(to_qdate(self.services.audits.today()))
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("yyyy-MM-dd")
        self.shelf_days = count_box(1, 3650, 90, " days")
        self.trigger = QComboBox()
        for trigger in (Trigger.VENDOR_REQUEST, Trigger.SCHEDULED, Trigger.SUSPICION):
            self.trigger.addItem(trigger.label, trigger.value)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("What looks wrong (required on suspicion)")

        form = make_form()
        form.addRow("&Vendor:", wide(self.vendor))
        form.addRow("&Products:", self.products)
        form.addRow("", _note("No product ticked: all of the vendor's products."))
        form.addRow("&Teams:", self.teams)
        form.addRow("", _note("No team ticked: everyone's seats and devices."))
        as_of_label = QLabel("&As of:")
        as_of_label.setBuddy(self.as_of)
        shelf_label = QLabel("&Shelfware after:")
        shelf_label.setBuddy(self.shelf_days)
        form.addRow(as_of_label, row(self.as_of, 24, shelf_label, 6, self.shelf_days, 0))
        form.addRow("T&rigger:", wide(self.trigger))
        form.addRow("&Reason:", self.reason)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.vendor.currentIndexChanged.connect(lambda _index: self._vendor_changed())
        self.trigger.currentIndexChanged.connect(self.completeChanged)
        self.reason.textChanged.connect(self.completeChanged)
        self._vendor_changed()

    def first_input(self) -> QWidget | None:
        """The vendor (or the reason, when the scope is fixed and only it may be typed)."""
        return self.vendor if self.vendor.isEnabled() else None

    def _vendor_changed(self, checked: Sequence[int] = ()) -> None:
        self.products.clear()
        vendor_id = self.vendor.currentData()
        if vendor_id is None:
            return
        for product_id, name in self.services.audits.products(int(vendor_id)):
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, product_id)
            state = Qt.CheckState.Checked if product_id in checked else Qt.CheckState.Unchecked
            item.setCheckState(state)
            self.products.addItem(item)
        self.completeChanged.emit()

    @staticmethod
    def _checked(widget: QListWidget) -> list[int]:
        return [
            int(widget.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked
        ]

    @staticmethod
    def _check(widget: QListWidget, ids: Sequence[int]) -> None:
        for i in range(widget.count()):
            item = widget.item(i)
            wanted = int(item.data(Qt.ItemDataRole.UserRole)) in ids
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def preset(
        self,
        vendor_id: int | None,
        product_ids: Sequence[int],
        trigger: Trigger | None,
        reason: str,
    ) -> None:
        """Fill in a new audit's scope (from "Audit this…" or a due schedule)."""
        if vendor_id is not None:
            self.vendor.setCurrentIndex(max(self.vendor.findData(vendor_id), 0))
        self._check(self.products, product_ids)
        if trigger is not None:
            self.trigger.setCurrentIndex(max(self.trigger.findData(trigger.value), 0))
        self.reason.setText(reason)

    def show_audit(self, audit: AuditInfo) -> None:
        """Show a saved audit's scope; only a draft's scope may change, never its trigger."""
        self.vendor.setCurrentIndex(max(self.vendor.findData(audit.vendor_id), 0))
        self._check(self.products, audit.product_ids)
        self._check(self.teams, audit.team_ids)
        self.as_of.setDate(to_qdate(audit.as_of))
        self.shelf_days.setValue(audit.shelf_days)
        self.trigger.setCurrentIndex(max(self.trigger.findData(audit.trigger.value), 0))
        self.reason.setText(audit.trigger_reason)
        self.trigger.setEnabled(False)
        self.reason.setReadOnly(True)
        editable = audit.status is Status.DRAFT
        for widget in (self.vendor, self.products, self.teams, self.as_of, self.shelf_days):
            widget.setEnabled(editable)

    def isComplete(self) -> bool:
        """A vendor is chosen; an audit on suspicion says why."""
        if self.vendor.currentData() is None:
            return False
        suspicion = self.trigger.currentData() == Trigger.SUSPICION.value
        return not suspicion or bool(self.reason.text().strip())

    def validatePage(self) -> bool:
        """Start the audit, or save a changed scope; then record the next step."""
        self.message.clear_message()
        wizard = self.audit_wizard
        audits = self.services.audits
        vendor_id = int(self.vendor.currentData())
        products = self._checked(self.products)
        teams = self._checked(self.teams)
        as_of = from_qdate(self.as_of.date())
        shelf = self.shelf_days.value()
        try:
            if wizard.audit is None:
                audit_id = audits.start(
                    vendor_id,
                    Trigger(self.trigger.currentData()),
                    reason=self.reason.text(),
                    as_of=as_of,
                    product_ids=products,
                    team_ids=teams,
                    shelf_days=shelf,
                )
                wizard.load(audit_id)
            else:
                audit = wizard.audit
                changed = (
                    audit.vendor_id != vendor_id
                    or sorted(audit.product_ids) != sorted(products)
                    or sorted(audit.team_ids) != sorted(teams)
                    or audit.as_of != as_of
                    or audit.shelf_days != shelf
                )
                if changed and audit.status is Status.DRAFT:
                    audits.set_scope(
                        audit.id,
                        vendor_id=vendor_id,
                        as_of=as_of,
                        product_ids=products,
                        team_ids=teams,
                        shelf_days=shelf,
                    )
                    wizard.position = None
                    wizard.load(audit.id)
        except KnownError as exc:
            return self.fail(exc)
        return self.advance()


# ------------------------------------------------------------------------------ freshness


class FreshnessPage(_StepPage):
    """Each reason to doubt the data on the audit date; every one must be acknowledged."""

    step = Step.FRESHNESS

    def __init__(self, wizard: AuditWizard) -> None:
        super().__init__(wizard)
        self.setSubTitle(
            "How old the inventory and usage data are on the audit date, and what no rule maps. "
            "Acknowledge each warning to go on; each acknowledgement is recorded with your name."
        )
        self.ages = _note()
        self.ages.setObjectName("data_ages")
        # What each concurrent-use figure rests on: snapshots (how many, how old) or a log.
        self.basis = _note()
        self.basis.setObjectName("concurrency_basis")
        self.summary = _note()
        self.box = QVBoxLayout()
        self.boxes: list[QCheckBox] = []
        self.warnings: list[FreshnessWarning] = []
        layout = QVBoxLayout(self)
        layout.addWidget(self.ages)
        layout.addWidget(self.basis)
        layout.addSpacing(6)
        layout.addWidget(self.summary)
        layout.addLayout(self.box)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def initializePage(self) -> None:
        """Read the warnings for the audit's scope and date."""
        self.reload()

    def reload(self) -> None:
        """Rebuild the list of warnings with their acknowledgements."""
        while self.box.count():
            item = self.box.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.hide()  # gone now, not at the next event-loop turn
                widget.deleteLater()
        self.boxes = []
        audit = self.audit_wizard.audit
        assert audit is not None
        self.warnings = self.services.audits.freshness(audit.id)
        self.ages.setText("\n".join(self.services.audits.data_ages(audit.id)))
        basis = self.services.audits.concurrency_basis(audit.id)
        self.basis.setText(
            "\n".join(
                ["What each concurrent-use figure rests on:"]
                + [f"• {name}: {text}" for name, text in basis]
            )
        )
        self.basis.setVisible(bool(basis))
        if not self.warnings:
            self.summary.setText(
                f"No warnings: inventory and usage are recent on {audit.as_of} and every "
                f"title from a publisher like {audit.vendor} maps to a product."
            )
        else:
            count = len(self.warnings)
            self.summary.setText(f"{plural(count, 'warning')} for {audit.vendor} on {audit.as_of}:")
        for warning in self.warnings:
            frame = QFrame()
            frame.setFrameShape(QFrame.Shape.StyledPanel)
            inner = QVBoxLayout(frame)
            title = QLabel(f"<b>{warning.topic.capitalize()}</b>")
            inner.addWidget(title)
            inner.addWidget(_note(warning.text))
            check = QCheckBox("I have read this and go ahead with the audit")
            check.setObjectName(f"ack-{warning.topic}")
            if warning.acknowledged:
                check.setChecked(True)
                check.setEnabled(False)
                stamp = (
                    warning.acknowledged_at.strftime("%Y-%m-%d %H:%M UTC")
                    if (warning.acknowledged_at)
                    else ""
                )
                check.setText(f"Acknowledged by {warning.acknowledged_by}, {stamp}")
            check.toggled.connect(lambda on, w=warning: self.acknowledge(w) if on else None)
            inner.addWidget(check)
            self.boxes.append(check)
            self.box.addWidget(frame)
        self.completeChanged.emit()
        if self.isVisible():
            # The box just ticked is gone: go on to the next warning, or to Next when none is
            # left (never to Back, where Return would undo the step).
            self.audit_wizard.focus_step()

    def first_input(self) -> QWidget | None:
        """The first warning not acknowledged yet (None, so Next, when all are)."""
        return next((box for box in self.boxes if box.isEnabled()), None)

    def acknowledge(self, warning: FreshnessWarning) -> None:
        """Record the acknowledgement of one warning."""
        audit = self.audit_wizard.audit
        assert audit is not None
        try:
            self.services.audits.acknowledge(audit.id, warning.topic, warning.text)
        except KnownError as exc:
            self.fail(exc)
        self.reload()

    def isComplete(self) -> bool:
        """Every warning is acknowledged."""
        return all(w.acknowledged for w in self.warnings)


# ------------------------------------------------------------------------------- position


class PositionPage(_StepPage):
    """The position in scope on the audit date, computed in the background."""

    step = Step.POSITION

    def __init__(self, wizard: AuditWizard) -> None:
        super().__init__(wizard)
        self.setSubTitle(
            "Rights owned, assigned and needed per product and metric on the audit date. "
            "Red numbers are short of rights."
        )
        self.summary = _note()
        self.model: ListTableModel[PositionRow] = ListTableModel(_POSITION_COLUMNS, self)
        self.table = _table(self, self.model)
        self.table.setObjectName("position")
        accessible(self.table, "Position in scope", "Red numbers are short of rights")
        self.strip = ProgressStrip("Cancel")
        self.strip.busy_changed.connect(lambda _busy: self.completeChanged.emit())
        self.servers = ServerLinesView(self)
        self.servers.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.servers, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.strip)

    def first_input(self) -> QWidget | None:
        """The position table (Return goes on to the findings)."""
        return self.table

    def initializePage(self) -> None:
        """Compute the position unless it is known for this scope and date."""
        if self.audit_wizard.skip(self):
            return
        self.audit_wizard.need_position(self, self.show_position)

    def show_position(self) -> None:
        """Fill the table with the rows in scope."""
        wizard = self.audit_wizard
        if wizard.position is None or wizard.audit is None:
            return
        rows, findings = self.services.audits.scoped(wizard.audit, wizard.position)
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        for column in range(1, self.model.columnCount()):
            self.table.setColumnWidth(column, self.table.columnWidth(column) + 16)
        self.summary.setText(
            f"{wizard.audit.scope_text} on {wizard.audit.as_of}: {len(rows)} product/metric "
            f"rows, {short_of_rights(rows)}; {plural(len(findings), 'finding')} to triage next."
        )
        servers = wizard.servers
        self.servers.setVisible(servers is not None)
        if servers is not None:
            self.servers.set_lines(
                f"{wizard.audit.vendor}'s servers (hosts and VMs of the hypervisor exports)",
                servers.lines,
                servers.findings,
            )
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        """The position is known."""
        return self.audit_wizard.position is not None and not self.strip.busy


# ------------------------------------------------------------------------------- findings


class FindingsPage(_StepPage):
    """Every finding gets a decision: accept, remediate (owner, due date) or dispute."""

    step = Step.FINDINGS

    def __init__(self, wizard: AuditWizard) -> None:
        super().__init__(wizard)
        self.setSubTitle(
            "Select a finding and record what happens to it. Accept and dispute need an "
            "explanation; remediation needs an owner and a due date. Each decision is recorded."
        )
        self.summary = _note()
        self.summary.setObjectName("findings_summary")
        self.model: ListTableModel[_Triage] = ListTableModel(_FINDING_COLUMNS, self)
        self.table = _table(self, self.model)
        self.table.setObjectName("findings")
        accessible(self.table, "Findings", "Select a finding, then record a decision below")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.decision = QComboBox()
        self.decision.setObjectName("decision")
        for choice in (Decision.ACCEPT, Decision.REMEDIATE, Decision.DISPUTE):
            self.decision.addItem(
                {"accept": "Accept", "remediate": "Remediate", "dispute": "Dispute"}[choice.value],
                choice.value,
            )
        self.explanation = QLineEdit()
        self.explanation.setObjectName("explanation")
        self.explanation.setPlaceholderText("Why it is accepted, or why it is disputed")
        self.owner = QLineEdit()
        self.owner.setObjectName("owner")
        self.owner.setPlaceholderText("Who remediates")
        self.due = QDateEdit()
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd")
        self.record = QPushButton("&Record decision")
        self.record.setObjectName("record")
        self.record.setDefault(False)
        self.record.setAutoDefault(False)
        self.strip = ProgressStrip("Cancel")
        self.strip.busy_changed.connect(lambda _busy: self.completeChanged.emit())

        self.detail = _note()
        self.detail.setObjectName("finding_detail")
        decision_label = QLabel("&Decision:")
        decision_label.setBuddy(self.decision)
        owner_label = QLabel("&Owner:")
        owner_label.setBuddy(self.owner)
        due_label = QLabel("D&ue:")
        due_label.setBuddy(self.due)
        # Return in a field records the decision (Next stays for when every finding has one).
        on_return(self.explanation, self.record_decision)
        on_return(self.owner, self.record_decision)
        on_return(self.due, self.record_decision)
        form = make_form()
        form.addRow(decision_label, row(wide(self.decision, 160), 0))
        form.addRow("&Explanation:", self.explanation)
        form.addRow(owner_label, row(self.owner, 12, due_label, self.due))
        form.addRow("", row(self.record, 0))
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.strip)

        self.decision.currentIndexChanged.connect(self._decision_changed)
        self.record.clicked.connect(self.record_decision)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self._decision_changed()

    def first_input(self) -> QWidget | None:
        """The findings (arrows pick one; Alt+D, Alt+E… reach the decision's fields)."""
        if self.model.rowCount() and not self.isComplete():
            return self.table
        return None

    def initializePage(self) -> None:
        """Compute the position when resuming here; then list the findings."""
        if self.audit_wizard.skip(self):
            return
        audit = self.audit_wizard.audit
        if audit is not None:
            self.due.setDate(to_qdate(audit.as_of + dt.timedelta(days=30)))
        self.audit_wizard.need_position(self, self.reload)

    def reload(self, select_next: bool = False) -> None:
        """List the findings in scope with the decisions recorded on them."""
        wizard = self.audit_wizard
        if wizard.position is None or wizard.audit is None:
            return
        current = self.table.currentIndex().row()
        _rows, findings = self.services.audits.scoped(wizard.audit, wizard.position)
        decided = self.services.audits.decisions(wizard.audit.id)
        self.model.set_rows([_Triage(f, decided.get(finding_key(f))) for f in findings])
        widths = {0: 30, 1: 28, 2: 7, 3: 36, 4: 10}
        for column, chars in widths.items():
            self.table.setColumnWidth(column, self.table.fontMetrics().averageCharWidth() * chars)
        open_count = sum(1 for t in self.model.rows if t.decision is None)
        self.summary.setText(
            f"{plural(len(findings), 'finding')}; {open_count} still open."
            if findings
            else "No findings in scope: nothing to triage."
        )
        target = current if current >= 0 else 0
        if select_next:
            later = [i for i, t in enumerate(self.model.rows) if t.decision is None and i > current]
            earlier = [i for i, t in enumerate(self.model.rows) if t.decision is None]
            target = (later or earlier or [current])[0]
        if self.model.rowCount():
            self.table.selectRow(min(max(target, 0), self.model.rowCount() - 1))
        self.completeChanged.emit()

    def _selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            return
        triage = self.model.row(index.row())
        self.message.clear_message()
        finding = triage.finding
        self.detail.setText(
            f"{finding.kind.label}, {finding.title}: {finding.text}\nDecision: {triage.decided}"
        )
        if triage.decision is None:
            self.explanation.clear()
            self.owner.clear()
            return
        d = triage.decision
        self.decision.setCurrentIndex(max(self.decision.findData(d.decision.value), 0))
        self.explanation.setText(d.explanation)
        self.owner.setText(d.owner)
        if d.due is not None:
            self.due.setDate(to_qdate(d.due))

    def _decision_changed(self) -> None:
        remediate = self.decision.currentData() == Decision.REMEDIATE.value
        self.owner.setEnabled(remediate)
        self.due.setEnabled(remediate)
        self.explanation.setPlaceholderText(
            "Optional note on the remediation"
            if remediate
            else "Why it is accepted, or why it is disputed"
        )

    def record_decision(self) -> None:
        """Record the decision on the selected finding and move to the next open one."""
        self.message.clear_message()
        index = self.table.currentIndex()
        audit = self.audit_wizard.audit
        if not index.isValid() or audit is None:
            self.message.show_message("Select a finding first.")
            return
        triage = self.model.row(index.row())
        decision = Decision(self.decision.currentData())
        try:
            self.services.audits.decide(
                audit.id,
                triage.finding,
                decision,
                explanation=self.explanation.text(),
                owner=self.owner.text(),
                due=from_qdate(self.due.date()) if decision is Decision.REMEDIATE else None,
            )
        except KnownError as exc:
            self.fail(exc)
            return
        self.reload(select_next=True)
        if self.isComplete():
            self.audit_wizard.focus_step()  # every finding decided: Next
        else:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)  # the next open one

    def isComplete(self) -> bool:
        """Every finding has a decision."""
        return (
            self.audit_wizard.position is not None
            and not self.strip.busy
            and all(t.decision is not None for t in self.model.rows)
        )


# ---------------------------------------------------------------------------- attestation


class AttestationPage(_StepPage):
    """The named operator's statement, and an optional second approver."""

    step = Step.ATTESTATION

    def __init__(self, wizard: AuditWizard) -> None:
        super().__init__(wizard)
        self.setSubTitle(
            "You attest the audit by name. A second operator may approve it with their own "
            "password; both appear in the signed report."
        )
        actor = self.services.actor
        others = [o for o in self.services.operators.list() if o.active]
        full = {o.name: o.full_name for o in others}
        named = f"{full.get(actor.name) or actor.name} ({actor.name}, {actor.role.label.lower()})"
        self.who = _note(f"Attested by {named}, as of the moment you go on.")
        self.statement = QPlainTextEdit()
        self.statement.setObjectName("statement")
        self.statement.setPlainText(STATEMENT)
        self.statement.setMaximumHeight(self.fontMetrics().height() * 6)
        self.statement.setTabChangesFocus(True)  # Tab goes on to the approver, as in a form
        self.approver = QComboBox()
        self.approver.setObjectName("approver")
        self.approver.setEditable(True)
        self.approver.addItem("")
        for other in others:
            if other.name != actor.name and allows(other.role, Permission.RUN_AUDITS):
                self.approver.addItem(other.name)
        self.password = QLineEdit()
        self.password.setObjectName("approver_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("The approver types their own password")
        self.approval = _note()
        approver_label = QLabel("Second &approver:")
        approver_label.setBuddy(self.approver)
        password_label = QLabel("Approver's &password:")
        password_label.setBuddy(self.password)
        form = make_form()
        form.addRow("&Statement:", self.statement)
        form.addRow(approver_label, row(wide(self.approver, 220), 0))
        form.addRow(password_label, row(wide(self.password, 220), 0))
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addLayout(form)
        layout.addWidget(self.approval)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.statement.textChanged.connect(self.completeChanged)
        # Return in the approver's password checks it here, without leaving the step.
        on_return(self.password, self.approve)

    def first_input(self) -> QWidget | None:
        """The statement."""
        return self.statement

    def approve(self) -> None:
        """Attest and record the second approver now; the step stays on screen to show it."""
        if self.validate(advance=False):
            self.audit_wizard.focus_step(forward=True)  # approved: Next is what is left

    def initializePage(self) -> None:
        """Show what was attested and approved so far."""
        audit = self.audit_wizard.audit
        assert audit is not None
        if audit.attestation:
            self.statement.setPlainText(audit.attestation)
        if audit.approver:
            when = audit.approved_at.strftime("%Y-%m-%d %H:%M UTC") if audit.approved_at else ""
            self.approval.setText(f"Approved by {audit.approver}, {when}.")
        else:
            self.approval.setText("No second approver yet (optional).")

    def isComplete(self) -> bool:
        """A statement is written."""
        return bool(self.statement.toPlainText().strip())

    def validatePage(self) -> bool:
        """Attest (again, if the statement or the operator changed); approve if asked."""
        return self.validate(advance=True)

    def validate(self, *, advance: bool) -> bool:
        """Attest and approve as the fields say; then record the next step if ``advance``."""
        self.message.clear_message()
        wizard = self.audit_wizard
        audit = wizard.audit
        assert audit is not None
        audits = self.services.audits
        text = self.statement.toPlainText().strip()
        approver = self.approver.currentText().strip()
        try:
            if audit.attestation != text or audit.attested_by != self.services.actor.name:
                audits.attest(audit.id, text)
            if approver and approver != audits.get(audit.id).approver:
                audits.approve(audit.id, approver, self.password.text())
        except KnownError as exc:
            wizard.load(audit.id)
            return self.fail(exc)
        finally:
            self.password.clear()
        audit = wizard.load(audit.id)
        if audit.approver:
            when = audit.approved_at.strftime("%Y-%m-%d %H:%M UTC") if audit.approved_at else ""
            self.approval.setText(f"Approved by {audit.approver}, {when}.")
        return self.advance() if advance else True


# ----------------------------------------------------------------------------------- sign


class SignPage(_StepPage):
    """Sign the report bundle with the organization's key, off the GUI thread."""

    step = Step.SIGN

    def validatePage(self) -> bool:
        """Finishing: the last step has no next one to record."""
        return True

    def __init__(self, wizard: AuditWizard) -> None:
        super().__init__(wizard)
        self.setSubTitle(
            "The bundle (report PDF, data, ledger, signed manifest) is written to a folder and a "
            "zip. The signing key is unlocked with its passphrase."
        )
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Done")
        self.summary = _note()
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setObjectName("repeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_label = QLabel("&Repeat it:")
        self.repeat_label.setBuddy(self.repeat)
        self.folder = QLineEdit(str(Path.home() / "SeatLedger audits"))
        self.folder.setObjectName("folder")
        self.browse = helper_button("&Browse…")
        self.charts = QCheckBox(f"Incl&ude usage charts of the top {CHART_COUNT} products")
        self.charts.setChecked(True)
        self.sign_button = QPushButton("&Sign and export")
        self.sign_button.setObjectName("sign")
        self.sign_button.setAutoDefault(False)
        self.result_label = _note()
        self.result_label.setObjectName("result")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder = QPushButton("&Open bundle folder")
        self.open_folder.setObjectName("open_folder")
        self.open_folder.hide()
        self.strip = ProgressStrip("Cancel")
        self.strip.busy_changed.connect(self._busy)
        self.new_key = False
        self._charts_dir: tempfile.TemporaryDirectory[str] | None = None
        self.passphrase_label = QLabel("Key &passphrase:")
        self.passphrase_label.setBuddy(self.passphrase)

        self.form = make_form()
        self.form.addRow(self.passphrase_label, row(wide(self.passphrase, 260), 0))
        self.form.addRow(self.repeat_label, row(wide(self.repeat, 260), 0))
        folder_label = QLabel("&Folder:")
        folder_label.setObjectName("folder_label")
        folder_label.setBuddy(self.folder)
        self.form.addRow(folder_label, row(self.folder, self.browse))
        self.form.addRow("", self.charts)
        self.form.addRow("", row(self.sign_button, 0))
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.result_label)
        layout.addLayout(row(self.open_folder, 0))
        layout.addStretch(1)
        layout.addWidget(self.strip)
        self.browse.clicked.connect(self._browse)
        self.sign_button.clicked.connect(self.sign)
        for field in (self.passphrase, self.repeat, self.folder):
            on_return(field, self.sign)  # Return signs; Done is for after
        self.open_folder.clicked.connect(self._open_folder)

    def first_input(self) -> QWidget | None:
        """The passphrase (None, so Done, once signed)."""
        return self.passphrase if self.passphrase.isVisible() else None

    def initializePage(self) -> None:
        """Say what will be signed, or what was."""
        wizard = self.audit_wizard
        if wizard.skip(self):
            return
        audit = wizard.audit
        assert audit is not None
        self.new_key = self.services.signing.current() is None
        self.repeat.setVisible(self.new_key)
        self.repeat_label.setVisible(self.new_key)
        self.passphrase_label.setText(
            "New key &passphrase:" if self.new_key else "Key &passphrase:"
        )
        approver = f", approved by {audit.approver}" if audit.approver else ""
        previous = self.services.audits.previous_checkpoint(audit.id)
        continuity = (
            f"It names the previous report's checkpoint ({previous.size:,} entries)."
            if previous
            else "It is the first signed report for this vendor."
        )
        key = (
            "No signing key exists yet: one is created now, protected by the passphrase you "
            "choose (at least 12 characters)."
            if self.new_key
            else "The organization's signing key is unlocked with its passphrase."
        )
        self.summary.setText(
            f"{audit.title}, attested by {audit.attested_by}{approver}. {continuity} {key}"
        )
        if audit.status is Status.SIGNED:
            self._show_signed(audit)

    def _show_signed(self, audit: AuditInfo) -> None:
        from seatledger.services.audits.signing import fingerprint_text  # noqa: PLC0415

        for widget in (
            self.passphrase,
            self.passphrase_label,
            self.repeat,
            self.repeat_label,
            self.folder,
            self.browse,
            self.charts,
            self.sign_button,
        ):
            widget.setVisible(False)
        for label in self.findChildren(QLabel, "folder_label"):
            label.setVisible(False)
        self.summary.setText(f"{audit.title} is signed; its bundle is ready for the vendor.")
        self.audit_wizard.setOption(QWizard.WizardOption.NoCancelButton, True)
        size = audit.checkpoint.size if audit.checkpoint else 0
        self.result_label.setText(
            f"Signed {audit.signed_at:%Y-%m-%d %H:%M UTC}.\n"
            f"Bundle: {audit.bundle_path}\n"
            f"Zip: {audit.bundle_path}.zip\n"
            f"Ledger checkpoint: {size:,} entries\n"
            f"Key fingerprint (SHA-256): {fingerprint_text(audit.key_fingerprint)}"
        )
        self.open_folder.setVisible(True)
        self.completeChanged.emit()
        if self.isVisible():
            self.audit_wizard.focus_step()  # Done

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the bundle", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def _open_folder(self) -> None:
        audit = self.audit_wizard.audit
        if audit is not None and audit.bundle_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(audit.bundle_path).parent)))

    def _busy(self, busy: bool) -> None:
        self.sign_button.setEnabled(not busy)
        self.passphrase.setEnabled(not busy)
        self.repeat.setEnabled(not busy)
        self.completeChanged.emit()

    def sign(self) -> None:
        """Check the passphrase and folder, draw the charts, then sign in the background."""
        self.message.clear_message()
        wizard = self.audit_wizard
        audit = wizard.audit
        assert audit is not None
        passphrase = self.passphrase.text()
        if not passphrase:
            self.message.show_message("Type the signing key's passphrase.")
            return
        if self.new_key and self.repeat.text() != passphrase:
            self.message.show_message("The two passphrases differ.")
            return
        folder = expanded(self.folder.text().strip())
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.message.show_message(f"Cannot create {folder}: {exc.strerror}.")
            return
        wizard.need_position(self, lambda: self._sign(audit, passphrase, folder))

    def _sign(self, audit: AuditInfo, passphrase: str, folder: Path) -> None:
        wizard = self.audit_wizard
        position = wizard.position
        assert position is not None
        services = self.services
        organization = read_setting(services.db, ORGANIZATION_KEY) or "SeatLedger"
        self._cleanup()
        self._charts_dir = tempfile.TemporaryDirectory(prefix="seatledger-charts-")
        if not self.charts.isChecked():
            self._sign_with(audit, passphrase, folder, organization, [])
            return
        # The usage behind the charts is read off the GUI thread, under the strip with Cancel
        # (on a large ledger it takes seconds that used to pass without a word); only drawing
        # them (pyqtgraph) happens here.
        rows, _findings = services.audits.scoped(audit, position)
        reading = Task(lambda _progress: services.audits.report_usage(audit, rows, top=CHART_COUNT))
        reading.on_done(
            lambda series: self._draw_then_sign(series, audit, passphrase, folder, organization)
        )

        def unread(message: str, _details: str) -> None:
            self.message.show_message(f"Charts left out: {message}", "warning")
            self._sign_with(audit, passphrase, folder, organization, [])

        reading.failed.connect(unread)
        reading.cancelled.connect(lambda: self._stopped(_CANCELLED))
        self.strip.run(self.audit_wizard.runner, reading, "Reading the usage for the charts…")

    def _draw_then_sign(
        self,
        series: list[UsageSeries],
        audit: AuditInfo,
        passphrase: str,
        folder: Path,
        organization: str,
    ) -> None:
        from seatledger.charts.report import render_report_charts  # noqa: PLC0415 (pyqtgraph)

        assert self._charts_dir is not None
        charts: list[Chart] = []
        try:
            drawn = render_report_charts(series, Path(self._charts_dir.name))
            charts = [Chart(path, caption) for path, caption in drawn]
        except KnownError as exc:
            self.message.show_message(f"Charts left out: {exc}", "warning")
        self._sign_with(audit, passphrase, folder, organization, charts)

    def _sign_with(
        self,
        audit: AuditInfo,
        passphrase: str,
        folder: Path,
        organization: str,
        charts: list[Chart],
    ) -> None:
        services = self.services
        position = self.audit_wizard.position
        assert position is not None

        def work(progress: Progress) -> BundleResult:
            return services.audits.sign(
                audit.id,
                position,
                passphrase=passphrase,
                out_dir=folder,
                organization=organization,
                charts=charts,
                progress=progress,
            )

        task = Task(work).on_done(self._signed)
        task.failed.connect(lambda message, _details: self._stopped(message))
        task.cancelled.connect(lambda: self._stopped(_CANCELLED))
        self.strip.run(self.audit_wizard.runner, task, "Writing and signing the bundle…")

    def _cleanup(self) -> None:
        if self._charts_dir is not None:
            self._charts_dir.cleanup()
            self._charts_dir = None

    def _stopped(self, message: str) -> None:
        self._cleanup()
        self.message.show_message(message)

    def _signed(self, result: BundleResult) -> None:
        self._cleanup()
        wizard = self.audit_wizard
        wizard.bundle = result
        assert wizard.audit is not None
        wizard.load(wizard.audit.id)
        self.passphrase.clear()
        self.repeat.clear()
        assert wizard.audit is not None
        self._show_signed(wizard.audit)

    def isComplete(self) -> bool:
        """Signed (or closing without signing: Cancel keeps the audit in review)."""
        audit = self.audit_wizard.audit
        return audit is not None and audit.status is Status.SIGNED and not self.strip.busy


# --------------------------------------------------------------------------------- wizard


class AuditWizard(QWizard):
    """Run one audit from its scope to its signed bundle; resumable at the saved step.

    After it closes, :attr:`audit` is the audit as last saved (None if it was never started).
    """

    def __init__(
        self,
        services: Services,
        runner: Runner,
        parent: QWidget | None = None,
        audit_id: int | None = None,
        *,
        vendor_id: int | None = None,
        product_ids: Sequence[int] = (),
        trigger: Trigger | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.audit: AuditInfo | None = None
        self.position: Position | None = None
        self.servers: ServerSection | None = None  # the vendor's server lines, with position
        self.bundle: BundleResult | None = None
        self.replaying = False
        self._skipped: set[int] = set()
        self.setWindowTitle("New audit")
        self.setMinimumSize(960, 640)
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveFinishButtonOnEarlyPages, False)
        self.setButtonText(QWizard.WizardButton.CancelButton, "Close (keep &draft)")
        self.scope_page = ScopePage(self)
        self.freshness_page = FreshnessPage(self)
        self.position_page = PositionPage(self)
        self.findings_page = FindingsPage(self)
        self.attestation_page = AttestationPage(self)
        self.sign_page = SignPage(self)
        self.step_pages: list[_StepPage] = [
            self.scope_page,
            self.freshness_page,
            self.position_page,
            self.findings_page,
            self.attestation_page,
            self.sign_page,
        ]
        for page in self.step_pages:
            self.setPage(page.step.order, page)
        name_by_labels(self)
        for button in (QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton):
            # Return on a focused Back or Close would undo or end the audit: only by choice.
            found = self.button(button)
            if isinstance(found, QPushButton):
                found.setAutoDefault(False)
        self.currentIdChanged.connect(lambda _id: self.focus_step())
        if audit_id is not None:
            audit = self.load(audit_id)
            self.scope_page.show_audit(audit)
            self._replay(audit.step)
        else:
            self.scope_page.preset(vendor_id, product_ids, trigger, reason)
            self.setStartId(Step.SCOPE.order)
        if not allows(services.actor.role, Permission.RUN_AUDITS):
            self.scope_page.message.show_message(
                f"{services.actor.name} is {article(services.actor.role.label.lower())} and may "
                "not run audits.",
                "warning",
            )

    def _replay(self, step: Step) -> None:
        """Open at the saved step with the earlier pages behind it (Back works after resuming).

        Pages are passed without validating (nothing is recorded again) and without computing;
        a page skipped so is filled in when it is shown.  Replay stops early at a freshness
        warning nobody acknowledged (one that appeared since).
        """
        self.setStartId(Step.SCOPE.order)
        self.replaying = True
        try:
            self.restart()
            while self.currentId() < step.order:
                if (
                    self.currentPage() is self.freshness_page
                    and not self.freshness_page.isComplete()
                ):
                    break
                self.next()
        finally:
            self.replaying = False
        self.currentIdChanged.connect(self._shown)
        self._shown(self.currentId())

    def focus_step(self, *, forward: bool = False) -> None:
        """Put the focus on the step's first input, or on Next (Done) when it has none left
        or ``forward`` says the step is done.

        Deferred to after the wizard has laid the page out: Qt focuses the first widget of the
        page's chain itself when a page is shown, which may be anything (Back, say).
        """
        QTimer.singleShot(0, lambda: self._focus_step(forward))

    def _focus_step(self, forward: bool) -> None:
        page = self.currentPage()
        if not isinstance(page, _StepPage) or not self.isVisible():
            return
        target = None if forward else page.first_input()
        if target is None or not target.isEnabled():
            last = self.nextId() == -1
            target = self.button(
                QWizard.WizardButton.FinishButton if last else QWizard.WizardButton.NextButton
            )
        target.setFocus(Qt.FocusReason.TabFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        """Focus the first input of the step the wizard opens on."""
        super().showEvent(event)
        self.focus_step()

    def skip(self, page: _StepPage) -> bool:
        """Whether ``page`` is passed while replaying (remembered, to fill it in when shown)."""
        if self.replaying:
            self._skipped.add(page.step.order)
            return True
        return False

    def _shown(self, page_id: int) -> None:
        if page_id in self._skipped:
            self._skipped.discard(page_id)
            page = self.page(page_id)
            if page is not None:
                page.initializePage()

    def validateCurrentPage(self) -> bool:
        """Validate the page, except while replaying (nothing is recorded again)."""
        return True if self.replaying else super().validateCurrentPage()

    def load(self, audit_id: int) -> AuditInfo:
        """Re-read the audit (after each recorded change)."""
        audit = self.services.audits.get(audit_id)
        self.audit = audit
        self.setWindowTitle(audit.title)
        return audit

    def reached(self, step: Step) -> None:
        """Record that the audit reached ``step``, unless it had already."""
        audit = self.audit
        assert audit is not None
        if audit.status is Status.SIGNED or audit.step.order >= step.order:
            return
        self.services.audits.set_step(audit.id, step)
        self.load(audit.id)

    def need_position(
        self, page: PositionPage | FindingsPage | SignPage, then: Callable[[], None]
    ) -> None:
        """Run ``then`` once the position for the audit's date is known (computing it if not)."""
        audit = self.audit
        assert audit is not None
        scope = self.services.audits.position_scope(audit)
        known = self.position
        if (
            known is not None
            and known.as_of == audit.as_of
            and known.shelf_days == audit.shelf_days
            and known.scope == scope
        ):
            then()
            return
        self.position = None
        service, audits = self.services.position, self.services.audits
        as_of, shelf = audit.as_of, audit.shelf_days

        def work(progress: Progress) -> tuple[Position, ServerSection | None]:
            return service.position(as_of, shelf, progress, scope), audits.servers(audit)

        def done(result: tuple[Position, ServerSection | None]) -> None:
            self.position, self.servers = result
            then()

        task = Task(work).on_done(done)
        task.failed.connect(
            lambda message, _details: page.message.show_message(
                f"The position could not be computed: {message}"
            )
        )
        task.cancelled.connect(
            lambda: page.message.show_message(
                "Cancelled; go back and forth to compute the position again.", "warning"
            )
        )
        page.strip.run(self.runner, task, f"Computing the position on {as_of}…")

    def reject(self) -> None:
        """Cancel running work first (the wizard stays open to say so); otherwise close.

        Closing keeps the audit as it was last recorded: reopening resumes at its step.
        """
        for page in (self.position_page, self.findings_page, self.sign_page):
            if page.strip.busy:
                page.strip.cancel()
                return
        super().reject()
