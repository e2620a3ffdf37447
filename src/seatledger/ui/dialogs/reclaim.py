"""Reclaim idle seats (Seats ▸ Reclaim idle seats…): rules per product, runs and their seats.

The rules table says, per product, how many days without use make a seat a candidate and how
long the grace period is; Start run lists the candidates; Write notices… puts the CSV and the
e-mail drafts in a folder; Keep… records that the holder or their manager asked to keep the
selected seats; Release the rest finishes the run once the grace period is over.  Each is one
service call and one ledger entry.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from seatledger.errors import KnownError
from seatledger.services.operators.session import Services
from seatledger.services.reclaim.service import Candidate, RuleInfo, RunInfo
from seatledger.text import plural
from seatledger.ui.dialogs.common import InlineMessage
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.widgets import accessible, list_table

_RULES: list[ListColumn[RuleInfo]] = [
    ListColumn("Product", lambda r: r.product),
    ListColumn("Unused for (days)", lambda r: r.idle_days, numeric=True),
    ListColumn("Grace (days)", lambda r: r.grace_days, numeric=True),
]
_CANDIDATES: list[ListColumn[Candidate]] = [
    ListColumn("Holder", lambda c: c.holder),
    ListColumn("Team", lambda c: c.team or None),
    ListColumn("License", lambda c: c.license),
    ListColumn("Last use", lambda c: c.last_use.isoformat() if c.last_use else "never seen"),
    ListColumn("Released on", lambda c: c.release_on.isoformat()),
    ListColumn("Kept by", lambda c: c.kept_by or None),
    ListColumn("Reason", lambda c: c.keep_reason or None),
    ListColumn("Outcome", lambda c: c.outcome or None),
]


class ReclaimDialog(QDialog):
    """Reclaim rules and runs."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Reclaim idle seats")
        self.resize(900, 620)
        intro = QLabel(
            "A seat nobody has used for the days its product's rule says (no install seen, no "
            "checkout, no SaaS activity) is a candidate. A run lists them; send the notices, "
            "keep what the holders or their managers ask for, and release the rest once the "
            "grace period is over.",
            self,
        )
        intro.setWordWrap(True)
        self.products = accessible(QComboBox(self), "Product")
        for product in services.reviews.choices().products:
            self.products.addItem(f"{product.vendor} {product.name}", product.id)
        self.idle = accessible(QSpinBox(self), "Days unused")
        self.idle.setRange(1, 3650)
        self.idle.setValue(90)
        self.grace = accessible(QSpinBox(self), "Grace days")
        self.grace.setRange(0, 365)
        self.grace.setValue(14)
        self.set_rule_button = QPushButton("&Set rule", self)
        self.remove_rule_button = QPushButton("Re&move rule", self)
        rule_row = QHBoxLayout()
        for text, widget in (
            ("Product:", self.products),
            ("unused for", self.idle),
            ("days, grace", self.grace),
        ):
            rule_row.addWidget(QLabel(text, self))
            rule_row.addWidget(widget)
        rule_row.addWidget(QLabel("days", self))
        rule_row.addStretch(1)
        rule_row.addWidget(self.set_rule_button)
        rule_row.addWidget(self.remove_rule_button)
        self.rules: ListTableModel[RuleInfo] = ListTableModel(_RULES, self)
        self.rules_table = list_table(self, self.rules)
        self.rules_table.setObjectName("reclaim_rules")
        self.rules_table.setMaximumHeight(130)
        accessible(self.rules_table, "Reclaim rules")

        self.runs = accessible(QComboBox(self), "Run")
        self.runs.setObjectName("reclaim_run")
        self.start_button = QPushButton("Start &run", self)
        self.notices_button = QPushButton("Write &notices…", self)
        self.keep_button = QPushButton("&Keep…", self)
        self.finish_button = QPushButton("Release the r&est", self)
        run_row = QHBoxLayout()
        run_row.addWidget(QLabel("Run:", self))
        run_row.addWidget(self.runs, 1)
        for button in (
            self.start_button,
            self.notices_button,
            self.keep_button,
            self.finish_button,
        ):
            run_row.addWidget(button)
        self.candidates: ListTableModel[Candidate] = ListTableModel(_CANDIDATES, self)
        self.candidates_table = list_table(
            self, self.candidates, QAbstractItemView.SelectionMode.ExtendedSelection
        )
        self.candidates_table.setObjectName("reclaim_candidates")
        accessible(self.candidates_table, "Candidates", "Select seats to keep")
        for table in (self.rules_table, self.candidates_table):
            table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.reclaimed = QLabel(self)
        self.reclaimed.setObjectName("reclaimed_per_month")
        self.reclaimed.setWordWrap(True)
        self.message = InlineMessage()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(rule_row)
        layout.addWidget(self.rules_table)
        layout.addLayout(run_row)
        layout.addWidget(self.candidates_table, 1)
        layout.addWidget(self.reclaimed)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        self.set_rule_button.clicked.connect(self.set_rule)
        self.remove_rule_button.clicked.connect(self.remove_rule)
        self.start_button.clicked.connect(self.start_run)
        # clicked passes a bool, which is neither a folder nor a reason
        self.notices_button.clicked.connect(lambda: self.write_notices())  # noqa: PLW0108
        self.keep_button.clicked.connect(lambda: self.keep())  # noqa: PLW0108
        self.finish_button.clicked.connect(self.finish)
        self.runs.currentIndexChanged.connect(lambda _i: self._show_run())
        self._runs: list[RunInfo] = []
        self.refresh()

    # ------------------------------------------------------------------ reading
    def refresh(self, run_id: int | None = None) -> None:
        """Re-read the rules, the runs (showing ``run_id`` or the newest) and the totals."""
        self.rules.set_rows(self.services.reclaim.rules())
        self.rules_table.resizeColumnsToContents()
        self._runs = self.services.reclaim.runs()
        self.runs.blockSignals(True)
        self.runs.clear()
        for run in self._runs:
            self.runs.addItem(
                f"#{run.id} {run.status}, {run.started_at:%Y-%m-%d} by {run.started_by}: "
                f"{plural(run.candidates, 'seat')}, {run.kept} kept, {run.released} released",
                run.id,
            )
        if run_id is not None:
            self.runs.setCurrentIndex(max(self.runs.findData(run_id), 0))
        self.runs.blockSignals(False)
        months = self.services.reclaim.reclaimed_by_month()
        self.reclaimed.setText(
            "Reclaimed: "
            + "; ".join(
                f"{m.month}: {plural(m.seats, 'seat')}"
                + "".join(f", {amount:,.2f} {currency}" for currency, amount in m.cost.items())
                for m in months
            )
            if months
            else "Nothing reclaimed yet."
        )
        self._show_run()

    def current_run(self) -> RunInfo | None:
        """The run chosen."""
        index = self.runs.currentIndex()
        return self._runs[index] if 0 <= index < len(self._runs) else None

    def _show_run(self) -> None:
        run = self.current_run()
        self.candidates.set_rows(self.services.reclaim.candidates(run.id) if run else [])
        self.candidates_table.resizeColumnsToContents()
        is_open = run is not None and run.status == "open"
        for button in (self.notices_button, self.keep_button, self.finish_button):
            button.setEnabled(is_open)

    # ------------------------------------------------------------------ actions
    def _do(self, work: object) -> bool:
        try:
            assert callable(work)
            work()
        except KnownError as exc:
            self.message.show_message(str(exc), "error")
            return False
        self.message.clear_message()
        return True

    def set_rule(self) -> None:
        """Set the chosen product's rule."""
        product = self.products.currentData()
        if product is not None and self._do(
            lambda: self.services.reclaim.set_rule(
                int(product), self.idle.value(), self.grace.value()
            )
        ):
            self.refresh()

    def remove_rule(self) -> None:
        """Remove the selected rule."""
        index = self.rules_table.currentIndex()
        if index.isValid():
            rule = self.rules.row(index.row())
            if self._do(lambda: self.services.reclaim.remove_rule(rule.product_id)):
                self.refresh()

    def start_run(self) -> None:
        """Start a run over the idle seats."""
        started: list[int] = []
        if self._do(lambda: started.append(self.services.reclaim.start_run())):
            self.refresh(started[0])

    def write_notices(self, folder: Path | None = None) -> list[Path]:
        """Write the chosen run's notices into a folder (asked for unless given)."""
        run = self.current_run()
        if run is None:
            return []
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "Write the notices into")
            if not chosen:
                return []
            folder = Path(chosen)
        written: list[Path] = []
        if self._do(lambda: written.extend(self.services.reclaim.write_notices(run.id, folder))):
            self.message.show_message(
                f"Wrote {written[0].name} and {plural(len(written) - 1, 'e-mail draft')} "
                f"to {folder}.",
                "info",
            )
        return written

    def keep(self, reason: str | None = None) -> int:
        """Keep the selected candidates, with a reason (asked for unless given)."""
        run = self.current_run()
        rows = [
            self.candidates.row(i.row())
            for i in self.candidates_table.selectionModel().selectedRows()
        ]
        if run is None or not rows:
            return 0
        if reason is None:
            reason, ok = QInputDialog.getText(
                self, "Keep seats", f"Why keep {plural(len(rows), 'seat')}? (who asked)"
            )
            if not ok:
                return 0
        kept: list[int] = []
        if self._do(
            lambda: kept.append(
                self.services.reclaim.keep(run.id, [c.id for c in rows], reason or "")
            )
        ):
            self.refresh(run.id)
        return kept[0] if kept else 0

    def finish(self) -> None:
        """Release what was not kept (refused while the grace period runs)."""
        run = self.current_run()
        released: list[int] = []
        if run is not None and self._do(
            lambda: released.append(self.services.reclaim.finish(run.id))
        ):
            self.refresh(run.id)
            self.message.show_message(f"{plural(released[0], 'seat')} released.", "info")
