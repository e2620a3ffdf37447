"""The activity page: the ledger, newest first, filtered by operator, action, entity and date.

Unfiltered, the keys are the dense sequence range (no query, no memory), so the page stays instant
at a hundred million entries.  The selected entry is shown in full underneath.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from PySide6.QtCore import QDate, QItemSelection, QSettings
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QWidget,
)

from seatledger.errors import NotFoundError
from seatledger.services.ledger.activity import ActivityColumn, ActivityFilter
from seatledger.services.ledger.verify import ACTIONS, ENTITY_TYPES
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.pages import Page
from seatledger.ui.presenters import ActivityPresenter
from seatledger.ui.table_model import KeyedTableModel
from seatledger.ui.widgets import (
    DataTable,
    EmptyState,
    Stateful,
    accessible,
    from_qdate,
    splitter,
    to_qdate,
)


def entry_text(entry: dict[str, Any]) -> str:
    """A ledger entry (its hashed body and hashes) as pretty-printed JSON for the entry pane."""
    return json.dumps(entry, indent=2, ensure_ascii=False, sort_keys=True)


class _DateFilter(QWidget):
    """A date edit with an "Any date" check box that switches it off."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QDateEdit(self)
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setDate(QDate.currentDate())
        self.edit.setEnabled(False)
        # Room for the whole date and the arrow (the filter bar squeezed it to "2026-12").
        self.edit.setMinimumWidth(self.edit.fontMetrics().horizontalAdvance("2026-12-07") + 44)
        accessible(self.edit, f"{label.rstrip(':')} date", "Untick Any date to filter by it")
        self.any = QCheckBox("Any date", self)
        accessible(self.any, f"{label.rstrip(':')}: any date")
        self.any.setChecked(True)
        self.any.toggled.connect(lambda checked: self.edit.setEnabled(not checked))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(label, self))
        layout.addWidget(self.edit)
        layout.addWidget(self.any)

    def value(self) -> dt.date | None:
        """The date, or None for any date."""
        if self.any.isChecked():
            return None
        return from_qdate(self.edit.date())

    def set_value(self, value: dt.date | None) -> None:
        """Set the date (None: any date)."""
        if value is not None:
            self.edit.setDate(to_qdate(value))
        self.any.setChecked(value is None)


class ActivityPage(Page):
    """Ledger entries with filters and the selected entry in full."""

    title = "Activity"
    settings_group = "activity"
    shows_every_change = True  # every commit appends to the ledger it lists

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.operator = QComboBox(self)
        self.operator.setMinimumContentsLength(10)
        self._fill_operators()
        self.action = QComboBox(self)
        self.action.addItem("Any action", "")
        for action in ACTIONS:
            self.action.addItem(action, action)
        self.entity = QComboBox(self)
        self.entity.addItem("Any entity", "")
        for entity in ENTITY_TYPES:
            self.entity.addItem(entity, entity)
        self.date_from = _DateFilter("From:", self)
        self.date_to = _DateFilter("To:", self)
        for combo, name in ((self.operator, "Operator"), (self.action, "Action"),
                            (self.entity, "Entity")):  # fmt: skip
            accessible(combo, f"{name} filter")
            combo.currentIndexChanged.connect(self._apply_filter)
        for date_filter in (self.date_from, self.date_to):
            date_filter.edit.dateChanged.connect(self._apply_filter)
            date_filter.any.toggled.connect(self._apply_filter)
        self._count = QLabel(self)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Operator:", self))
        filters.addWidget(self.operator)
        filters.addWidget(QLabel("Action:", self))
        filters.addWidget(self.action)
        filters.addWidget(QLabel("Entity:", self))
        filters.addWidget(self.entity)
        filters.addStretch(1)
        # The dates on a line of their own: on one line with the rest, a 1280-px window
        # squeezed them under their "Any date" boxes.
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addSpacing(16)
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        dates.addWidget(self._count)

        self.table = DataTable(self)
        self.table.setObjectName("activity")
        accessible(self.table, "Activity ledger", "Every change, newest first")
        self.table.setSelectionMode(DataTable.SelectionMode.SingleSelection)
        self.model = KeyedTableModel(services.reads.activity(), ActivityPresenter(), self.table)
        self.table.attach(self.model, ActivityColumn.SEQ, descending=True)
        self.table.set_column_widths(
            {
                ActivityColumn.SEQ: 11,  # "10,098,178": a ledger of ten million entries
                ActivityColumn.TIME: 18,
                ActivityColumn.OPERATOR: 11,
                ActivityColumn.ACTION: 18,
                ActivityColumn.ENTITY: 20,
                ActivityColumn.REASON: 24,
                ActivityColumn.DETAILS: 40,
            },
            stretch=ActivityColumn.DETAILS,
        )
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.rowsInserted.connect(lambda *_: self._update_after_query())  # next matches

        self.entry = QPlainTextEdit(self)
        self.entry.setObjectName("entry")
        accessible(self.entry, "Selected ledger entry", "The entry's full record, with its hash")
        self.entry.setReadOnly(True)
        self.entry.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.entry.setPlaceholderText("Select an entry to see it in full.")
        self.entry.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)

        self.splitter = splitter(self, self.table, self.entry, (3, 1), collapsible=False)
        self.splitter.setSizes([720, 240])

        layout = self.body_layout()
        layout.addLayout(filters)
        layout.addLayout(dates)
        layout.addWidget(self.splitter, 1)
        self.set_empty_state(
            EmptyState(
                "Nothing recorded yet",
                "Every change made in SeatLedger (from the window, the command line or an "
                "import) is recorded here with who made it, when and why, in a ledger whose "
                "entries are chained by their hashes. The first change appears as soon as it "
                "is made.",
                self,
            )
        )
        self._update_after_query()

    # ------------------------------------------------------------------ querying
    def _fill_operators(self) -> None:
        current = self.operator.currentData()
        self.operator.blockSignals(True)
        self.operator.clear()
        self.operator.addItem("Any operator", "")
        for info in self.services.operators.list():
            self.operator.addItem(info.name, info.name)
        index = self.operator.findData(current) if current else 0
        self.operator.setCurrentIndex(max(index, 0))
        self.operator.blockSignals(False)

    def current_filter(self) -> ActivityFilter:
        """The filter the controls describe."""
        return ActivityFilter(
            operator=str(self.operator.currentData() or ""),
            action=str(self.action.currentData() or ""),
            entity_type=str(self.entity.currentData() or ""),
            date_from=self.date_from.value(),
            date_to=self.date_to.value(),
        )

    def _apply_filter(self, *_args: object) -> None:
        self.model.set_query(self.services.reads.activity(self.current_filter()))
        self.entry.clear()
        self._update_after_query()

    def refresh(self) -> None:
        """Reload operators and entries (new entries appear at the top)."""
        super().refresh()
        before = self.operator.currentData()
        self._fill_operators()
        if self.operator.currentData() != before:
            self._apply_filter()
            return
        self.table.reload()
        self._update_after_query()

    def _update_after_query(self) -> None:
        count = self.model.rowCount()
        if self.model.complete:
            self._count.setText(plural(count, "entry"))
        else:  # a filter over a long ledger: its newest matches, more as the table scrolls
            self._count.setText(f"Newest {count:,} matching entries (more as you scroll)")
        if self.current_filter().empty:
            self.table.set_empty_hint("The ledger is empty.")
        else:
            self.table.set_empty_hint("No entries match the filters.")
        self.show_empty(self.current_filter().empty and count == 0)

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        index = self.table.currentIndex()
        if not index.isValid():
            self.entry.clear()
            return
        seq = self.model.key_at(index.row())
        try:
            entry = self.services.reads.ledger_entry(seq)
        except NotFoundError as exc:
            self.entry.setPlainText(str(exc))
        else:
            self.entry.setPlainText(entry_text(entry))

    def focus_search(self) -> None:
        """Focus the first filter."""
        self.operator.setFocus()

    # ------------------------------------------------------------------ settings
    def layouts(self) -> dict[str, Stateful]:
        """The splitter."""
        return {"activity/splitter": self.splitter}

    def save_state(self, settings: QSettings) -> None:
        """Remember the splitter and the columns."""
        super().save_state(settings)
        settings.setValue("activity/header", self.table.header_state())

    def restore_state(self, settings: QSettings) -> None:
        """Restore the splitter and the columns."""
        super().restore_state(settings)
        self.table.restore_header_state(settings.value("activity/header"))
