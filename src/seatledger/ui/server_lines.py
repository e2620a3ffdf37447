"""Server lines beside a desktop position: what each server rule requires, and why.

Shared by the audit wizard's position step (the audited vendor's lines) and the Reconciliation
page (every line, or the chosen vendor's): a table of the lines (product, what it counts,
required, bought, short) and, for the selected one, its reason in words with the hosts and VMs
behind its figure, as the Servers page shows them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from seatledger.services.servers.position import RULES, ServerLine
from seatledger.text import plural
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.widgets import accessible, list_table, splitter

STANDING_TIP = (
    "Covered by fewer: what was bought covers every host although it is fewer than required "
    "(a Datacenter core license, or a virtual datacenter subscription, licenses a host whole "
    "for unlimited VMs; the requirement is the cheaper kind of each host as if nothing were "
    "bought)"
)

COLUMNS: list[ListColumn[ServerLine]] = [
    ListColumn("Server product", lambda line: line.title),
    ListColumn("Counts", lambda line: line.unit),
    ListColumn("Required", lambda line: line.required, numeric=True),
    ListColumn("Bought", lambda line: line.purchased, numeric=True),
    ListColumn(
        "Short",
        lambda line: line.short or None,
        numeric=True,
        bad=lambda line: line.short > 0,
        tip="What the requirement needs beyond what was bought",
    ),
    ListColumn("Status", lambda line: line.standing, tip=STANDING_TIP),
    ListColumn("Rule", lambda line: RULES.get(line.family, line.family)),
]


def details_html(line: ServerLine) -> list[str]:
    """The hosts and partitions behind a line's figure, each with its VMs, as HTML items."""
    if not line.details:
        return []
    items = []
    for detail in line.details:
        reason = detail.reason.removeprefix(f"{detail.subject}: ")
        vms = f" <i>VMs: {html.escape(', '.join(detail.vms))}</i>" if detail.vms else ""
        items.append(
            f"<li><b>{html.escape(detail.subject)}</b> {detail.figure:,}: "
            f"{html.escape(reason)}{vms}</li>"
        )
    return [f"<ul>{''.join(items)}</ul>"]


def findings_html(findings: Sequence[str]) -> str:
    """The server findings (Microsoft's reassignments, the License Statement's differences) as
    an HTML list (nothing when there are none)."""
    if not findings:
        return ""
    items = "".join(f"<li>{html.escape(f)}</li>" for f in findings)
    return f"<h4>Findings</h4><ul>{items}</ul>"


class ServerLinesView(QWidget):
    """Server lines in a table; the selected one's reason and what stands behind it below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(self)
        self.summary.setObjectName("serverLinesSummary")
        self.summary.setWordWrap(True)
        self.model: ListTableModel[ServerLine] = ListTableModel(COLUMNS, self)
        self.table = list_table(self, self.model)
        self.table.setObjectName("serverLines")
        self.table.horizontalHeader().setStretchLastSection(True)
        accessible(self.table, "Server lines", "Select a server product to see why")
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_reason())
        self.why = QTextBrowser(self)
        self.why.setObjectName("serverLinesWhy")
        accessible(self.why, "Why", "The selected server product's requirement in words")
        split = splitter(self, self.table, self.why, (1, 1))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._findings: tuple[str, ...] = ()

    def set_lines(
        self, heading: str, lines: Sequence[ServerLine], findings: Sequence[str] = ()
    ) -> None:
        """Show ``lines`` (and the findings beside them) under ``heading``."""
        self._findings = tuple(findings)
        self.model.set_rows(list(lines))
        short = [line.title for line in lines if line.short]
        said = (
            f"{plural(len(lines), 'server line')}; short: {', '.join(short)}."
            if short
            else f"{plural(len(lines), 'server line')}, none short."
            if lines
            else "None of these server products runs on the hosts, VMs or physical servers."
        )
        self.summary.setText(f"{heading}: {said}")
        self.table.resizeColumnsToContents()
        if lines:
            self.table.selectRow(0)
        self._show_reason()

    def _show_reason(self) -> None:
        row = self.table.currentIndex().row()
        rows = self.model.rows
        parts: list[str] = []
        if 0 <= row < len(rows):
            line = rows[row]
            parts = [f"<h3>{html.escape(line.title)}</h3>", f"<p>{html.escape(line.reason)}</p>"]
            parts += details_html(line)
        self.why.setHtml("".join(parts) + findings_html(self._findings))
