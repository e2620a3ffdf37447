"""The selected license: what was bought, how much of it is used, and who holds its seats.

Shown under the licenses table.  Assigning, releasing and editing go through the dialogs, which
call the services; the licenses page reloads the pane when a change it shows commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import QItemSelection, QSettings, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.roles import Permission, allows
from seatledger.errors import KnownError
from seatledger.services.catalog.queries import EntitlementRow
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.operators.session import Services
from seatledger.services.seats.queries import SeatColumn
from seatledger.text import plural
from seatledger.ui.presenters import (
    NEARLY_FULL,
    SeatPresenter,
    expiring_color,
    over_limit_color,
)
from seatledger.ui.table_model import KeyedTableModel
from seatledger.ui.theme import keep_styled
from seatledger.ui.widgets import DataTable

_KEY_DELETE = Qt.Key.Key_Delete
_SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _term(start: dt.date | None, end: dt.date | None) -> str:
    if start is None and end is None:
        return "Perpetual"
    first = start.isoformat() if start else "…"
    last = end.isoformat() if end else "no end date"
    return f"{first} → {last}"


def license_title(row: EntitlementRow) -> str:
    """Vendor, product and name, without repeating a vendor the product name already starts with."""
    product = row.product
    if not product.lower().startswith(row.vendor.lower()):
        product = f"{row.vendor} {product}"
    return f"{product} — {row.name}" if row.name else product


class _SeatTable(DataTable):
    """The seats table; Delete asks to release the selected seats."""

    release_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Delete releases (after confirmation)."""
        if event.key() == _KEY_DELETE:
            self.release_requested.emit()
            return
        super().keyPressEvent(event)


class LicenseDetail(QWidget):
    """Facts, usage and seat assignments of one license.

    Signals:
        selection_changed(): the selected seats changed.
    """

    selection_changed = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._entitlement_id: int | None = None
        self._row: EntitlementRow | None = None
        self._pending_header: object = None

        self._pages = QStackedWidget(self)
        self._placeholder = QLabel("Select a license to see its seats.", self)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setEnabled(False)
        self._pages.addWidget(self._placeholder)
        self._pages.addWidget(self._build_detail())
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._pages)

    # ------------------------------------------------------------------ layout
    def _build_detail(self) -> QWidget:
        body = QWidget(self)
        self._title = QLabel(body)
        font = self._title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self._title.setFont(font)
        self._title.setTextInteractionFlags(_SELECTABLE)

        self._facts: dict[str, QLabel] = {}
        facts = QGridLayout()
        facts.setHorizontalSpacing(24)
        facts.setVerticalSpacing(4)
        columns = (
            ("Metric", "Term", "PO reference"),
            ("Reseller", "Unit cost", "Total cost"),
        )
        for column, names in enumerate(columns):
            form = QFormLayout()
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
            form.setHorizontalSpacing(12)
            form.setVerticalSpacing(4)
            for name in names:
                value = QLabel(body)
                value.setTextInteractionFlags(_SELECTABLE)
                self._facts[name] = value
                form.addRow(f"{name}:", value)
            facts.addLayout(form, 0, column)

        self._usage_label = QLabel(body)
        self._usage = QProgressBar(body)
        self._usage.setTextVisible(True)
        self._usage.setMinimumWidth(220)
        self._usage.setMaximumHeight(self.fontMetrics().height() + 6)
        usage = QVBoxLayout()
        usage.setSpacing(4)
        usage.addWidget(self._usage_label)
        usage.addWidget(self._usage)
        usage.addStretch(1)
        facts.addLayout(usage, 0, 2)
        facts.setColumnStretch(3, 1)

        self._notice = QLabel(body)
        self._notice.setWordWrap(True)
        self._notice.setFrameShape(QFrame.Shape.StyledPanel)
        self._notice.hide()

        self._show_released = QCheckBox("Show released", body)
        self._show_released.setToolTip("Include seats that were released (the full history)")
        self._show_released.toggled.connect(self._reload_seats)
        self._assign = QPushButton("Assign…", body)
        self._assign.setToolTip("Assign seats of this license to people or devices (Ctrl+Shift+A)")
        self._assign.clicked.connect(self.assign)
        self._release = QPushButton("Release selected", body)
        self._release.setToolTip("Release the selected seats, with a reason (Delete)")
        self._release.clicked.connect(self.release_selected)
        self._edit = QPushButton("Edit license…", body)
        self._edit.clicked.connect(self.edit_license)
        seats_label = QLabel("<b>Seats</b>", body)
        self._seat_count = QLabel(body)
        buttons = QHBoxLayout()
        buttons.addWidget(seats_label)
        buttons.addWidget(self._seat_count)
        buttons.addSpacing(12)
        buttons.addWidget(self._show_released)
        buttons.addStretch(1)
        buttons.addWidget(self._assign)
        buttons.addWidget(self._release)
        buttons.addWidget(self._edit)

        self.seats = _SeatTable(body)
        self.seats.setObjectName("seats")
        self.seats.setAccessibleName("Seats of the selected license")
        self.seats.release_requested.connect(self.release_selected)
        self.seats.set_empty_hint("No seats assigned. Assign seats with Assign… (Ctrl+Shift+A).")

        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.setSpacing(6)
        layout.addWidget(self._title)
        layout.addLayout(facts)
        layout.addWidget(self._notice)
        layout.addLayout(buttons)
        layout.addWidget(self.seats, 1)
        self._title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        return body

    # ------------------------------------------------------------------ state
    @property
    def entitlement_id(self) -> int | None:
        """The license shown, or None."""
        return self._entitlement_id

    @property
    def license(self) -> EntitlementRow | None:
        """The license shown, as listed."""
        return self._row

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in operator may do this."""
        return allows(self._services.actor.role, permission)

    def _is_open(self, row: int) -> bool:
        if not self._show_released.isChecked():
            return True  # the table lists open seats only
        data = self.seats.keyed_model().row_data(row)
        return data is not None and data[SeatColumn.RELEASED] is None

    def has_releasable_selection(self) -> bool:
        """Whether at least one selected seat is still assigned."""
        if self._entitlement_id is None or not isinstance(self.seats.model(), KeyedTableModel):
            return False
        if not self.seats.selectionModel().hasSelection():
            return False
        return any(self._is_open(row) for row in self.seats.selected_rows())

    def selected_assignments(self) -> list[int]:
        """The selected seats that are still assigned (released ones cannot be released again)."""
        if self._entitlement_id is None or not isinstance(self.seats.model(), KeyedTableModel):
            return []
        model = self.seats.keyed_model()
        return [model.key_at(row) for row in self.seats.selected_rows() if self._is_open(row)]

    def show_license(self, entitlement_id: int | None) -> None:
        """Show a license (None: the placeholder)."""
        changed = entitlement_id != self._entitlement_id
        self._entitlement_id = entitlement_id
        if entitlement_id is None:
            self._row = None
            self._pages.setCurrentIndex(0)
            self._update_buttons()
            return
        try:
            row = self._services.reads.entitlement_row(entitlement_id)
            data, _vendor = self._services.reads.entitlement(entitlement_id)
        except KnownError:
            self.show_license(None)
            return
        self._row = row
        self._show_facts(row, data)
        self._pages.setCurrentIndex(1)
        if changed or not isinstance(self.seats.model(), KeyedTableModel):
            self._set_seat_query()
        else:
            self.seats.reload()
        self._update_seat_count()
        self._update_buttons()

    def refresh(self) -> None:
        """Reload the license shown (after a change)."""
        self.show_license(self._entitlement_id)

    def _show_facts(self, row: EntitlementRow, data: EntitlementInput) -> None:
        title = license_title(row)
        self._title.setText(title)
        self._title.setToolTip(title)
        metric = row.metric.label
        counted = []
        if data.min_cores_per_processor:
            counted.append(f"at least {data.min_cores_per_processor} cores per processor")
        if data.unit_table:
            counted.append(f"units per core by processor: {data.unit_table}")
        elif data.core_factor != 1:
            counted.append(f"core factor {data.core_factor.normalize():f}")
        if counted:
            metric += f" ({'; '.join(counted)})"
        self._facts["Metric"].setText(metric)
        self._facts["Term"].setText(_term(row.term_start, row.term_end))
        self._facts["PO reference"].setText(row.po_reference or "—")
        self._facts["Reseller"].setText(data.reseller or "—")
        if row.unit_cost is None:
            self._facts["Unit cost"].setText("—")
            self._facts["Total cost"].setText("—")
        else:
            self._facts["Unit cost"].setText(_money(row.unit_cost, row.currency))
            total = row.unit_cost * row.quantity
            self._facts["Total cost"].setText(_money(total, row.currency))

        today = dt.date.today()
        palette = QPalette()  # the application's: only the bar's colour is set here
        if row.metric.unlimited:
            self._usage_label.setText(f"Site license: {row.used:,} in use, no limit")
            self._usage.hide()
        else:
            self._usage.show()
            self._usage.setRange(0, max(row.quantity, 1))
            self._usage.setValue(min(row.used, row.quantity))
            share = f"{(row.utilization or 0) * 100:.0f} %"
            self._usage_label.setText(f"{row.used:,} of {row.quantity:,} used · {share}")
            self._usage.setFormat(f"{row.used:,} / {row.quantity:,}")
            if row.over_limit:
                palette.setColor(QPalette.ColorRole.Highlight, over_limit_color())
            elif (row.utilization or 0) >= NEARLY_FULL:
                palette.setColor(QPalette.ColorRole.Highlight, expiring_color())
        self._usage.setPalette(palette)

        notices: list[str] = []
        if row.over_limit:
            over = row.used - row.quantity
            notices.append(
                f"<b>{over:,} over the purchased limit.</b> Seats beyond the limit were assigned "
                "as over-commit exceptions by an administrator; their reasons are in the seat "
                "tooltips and the activity ledger. Buy more or release seats."
            )
        if row.expired(today) and row.term_end is not None:
            notices.append(
                f"<b>Expired on {row.term_end.isoformat()}.</b> Renew it (Edit license…) "
                "before assigning more seats."
            )
        elif row.expiring(today) and row.term_end is not None:
            days = (row.term_end - today).days
            notices.append(f"Ends in {days:,} days, on {row.term_end.isoformat()}.")
        if data.cancel_by is not None and data.cancel_by >= today and not row.expired(today):
            days = (data.cancel_by - today).days
            notices.append(
                f"Cancel by {data.cancel_by.isoformat()} "
                + (f"(in {plural(days, 'day')})" if days else "(today)")
                + ": the vendor's last day to cancel or change before the contract renews."
            )
        self._notice.setText("<br>".join(notices))
        self._notice.setVisible(bool(notices))
        urgent = row.over_limit or row.expired(today)

        def sheet() -> str:
            color = (over_limit_color() if urgent else expiring_color()).name()
            return (
                f"QLabel {{ border: 1px solid {color}; border-radius: 3px;"
                f" padding: 4px 8px; color: {color}; }}"
            )

        keep_styled(self._notice, sheet)

    # ------------------------------------------------------------------ seats table
    def _set_seat_query(self) -> None:
        assert self._entitlement_id is not None
        query = self._services.reads.seats(
            self._entitlement_id,
            include_released=self._show_released.isChecked(),
        )
        model = self.seats.model()
        if isinstance(model, KeyedTableModel):
            model.set_query(query)
            header = self.seats.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(query.sort_column, Qt.SortOrder.DescendingOrder)
            header.blockSignals(False)
            return
        model = KeyedTableModel(query, SeatPresenter(), self.seats)
        self.seats.attach(model, query.sort_column, query.descending)
        self.seats.set_column_widths(
            {
                SeatColumn.HOLDER: 26,
                SeatColumn.KIND: 8,
                SeatColumn.UNITS: 6,
                SeatColumn.ASSIGNED: 17,
                SeatColumn.ASSIGNED_BY: 12,
                SeatColumn.RELEASED: 17,
                SeatColumn.NOTE: 20,
            },
            stretch=SeatColumn.NOTE,
        )
        self.seats.restore_header_state(self._pending_header)
        self.seats.selectionModel().selectionChanged.connect(self._on_seat_selection)

    def _reload_seats(self) -> None:
        if self._entitlement_id is not None:
            self._set_seat_query()
            self._update_seat_count()
            self._update_buttons()

    def _update_seat_count(self) -> None:
        count = self.seats.keyed_model().rowCount()
        what = "assignment" if self._show_released.isChecked() else "open seat"
        self._seat_count.setText(plural(count, what))

    def _on_seat_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_buttons()
        self.selection_changed.emit()

    def _update_buttons(self) -> None:
        shown = self._row is not None
        can_assign = self.may(Permission.ASSIGN_SEATS)
        self._assign.setEnabled(shown and can_assign)
        self._release.setEnabled(shown and can_assign and self.has_releasable_selection())
        self._edit.setEnabled(shown and self.may(Permission.EDIT_LICENSES))

    # ------------------------------------------------------------------ actions
    def assign(self) -> None:
        """Assign seats of the license shown (AssignDialog)."""
        if self._entitlement_id is None or not self.may(Permission.ASSIGN_SEATS):
            return
        from seatledger.ui.dialogs.assign import AssignDialog  # noqa: PLC0415

        dialog = AssignDialog(self._services, self._entitlement_id, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result is not None:
            self.show_assigned(dialog.result.assignment_ids)

    def show_assigned(self, assignment_ids: list[int]) -> None:
        """The seats just assigned, selected in the seats table, which takes the focus: the
        keyboard goes on from what was done (Delete would release them again)."""
        self.refresh()
        if self.seats.select_keys(assignment_ids):
            self.seats.setFocus(Qt.FocusReason.OtherFocusReason)

    def release_selected(self) -> None:
        """Release the selected open seats after asking for a reason."""
        ids = self.selected_assignments()
        if not ids or not self.may(Permission.ASSIGN_SEATS):
            return
        from seatledger.ui.dialogs.assign import confirm_release  # noqa: PLC0415

        if confirm_release(self, self._services, ids):
            self.seats.clearSelection()

    def edit_license(self) -> None:
        """Edit the license shown (EntitlementDialog)."""
        if self._entitlement_id is None or not self.may(Permission.EDIT_LICENSES):
            return
        from seatledger.ui.dialogs.forms import EntitlementDialog  # noqa: PLC0415

        EntitlementDialog(self._services, self, entitlement_id=self._entitlement_id).exec()

    # ------------------------------------------------------------------ settings
    def save_state(self, settings: QSettings, group: str) -> None:
        """Remember the seat table's columns."""
        if isinstance(self.seats.model(), KeyedTableModel):
            settings.setValue(f"{group}/seat_header", self.seats.header_state())

    def restore_state(self, settings: QSettings, group: str) -> None:
        """Restore the seat table's columns (applied when a license is first shown)."""
        self._pending_header = settings.value(f"{group}/seat_header")
