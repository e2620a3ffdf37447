"""Forms that add or edit records: vendors, products, licenses (entitlements), teams, people
and devices.

Each form keeps OK disabled until its required fields are filled, saves through one service call,
and shows a refusal inside the dialog with the offending field highlighted.  After Accepted,
``saved_id`` is the id of the record added or edited.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain import validation
from seatledger.domain.licensing import Metric
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.tables import Row
from seatledger.services.directory.queries import PeopleColumn, PeopleQuery
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.lookups import NamedItem
from seatledger.services.operators.session import Services
from seatledger.text import agree, plural
from seatledger.ui.dialogs.common import FormDialog, PickerTable, helper_button, row, wide
from seatledger.ui.widgets import from_qdate, to_qdate

CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CAD", "AUD", "JPY", "INR")
OPERATING_SYSTEMS = (
    "Windows 11",
    "Windows 10",
    "Windows Server 2022",
    "Windows Server 2019",
    "macOS",
    "Ubuntu 24.04 LTS",
    "Ubuntu 22.04 LTS",
    "Red Hat Enterprise Linux 9",
    "Debian 12",
)
QUANTITY_UNITS = {
    Metric.PER_CORE: "core",
    Metric.PER_PROCESSOR: "processor",
    Metric.PER_DEVICE: "device",
    Metric.CONCURRENT: "concurrent user",
}
MAX_QUANTITY = 10_000_000


def money_text(amount: Decimal | None) -> str:
    """An amount for editing: two decimals, or more only when the amount has them."""
    if amount is None:
        return ""
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return f"{amount.normalize():f}"
    return f"{amount:.2f}"


def _person_label(found: Row) -> str:
    """A people-list row as "Name (employee ID)"."""
    return f"{found[PeopleColumn.NAME]} ({found[PeopleColumn.EMPLOYEE_ID]})"


class PersonChoice:
    """One person chosen from the active people: who is chosen, a button to choose no one, and
    a searchable picker (keyset-paged in SQL, never a combo of every person)."""

    def __init__(
        self,
        services: Services,
        name: str,
        *,
        nobody: str,
        clear: str,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        reads = services.reads

        def people(text: str, column: int, descending: bool) -> PeopleQuery:
            return reads.people(text, column, descending, status="active")

        self.person_id: int | None = None
        self._nobody = nobody
        self._on_change = on_change
        self.label = QLabel()
        self.clear = helper_button(clear)
        self.clear.clicked.connect(lambda: self.set(None, ""))
        self.picker = PickerTable(
            people,
            sort_column=PeopleColumn.NAME,
            hidden_columns=(
                PeopleColumn.EMAIL,
                PeopleColumn.MANAGER,
                PeopleColumn.COST_CENTRE,
                PeopleColumn.STATUS,
                PeopleColumn.SEATS,
            ),
            widths={PeopleColumn.EMPLOYEE_ID: 10, PeopleColumn.NAME: 24, PeopleColumn.TEAM: 16},
            stretch=PeopleColumn.TEAM,
            empty_hint="No active person matches the search.",
            placeholder="Search people by name, employee ID or email",
            name=name,
        )
        self.picker.view.setMinimumHeight(150)
        self.picker.selection_changed.connect(self._picked)
        self.layout = QVBoxLayout()
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.layout.addLayout(row(self.label, 0, self.clear))
        self.layout.addWidget(self.picker)

    def set(self, person_id: int | None, name: str) -> None:
        """Show ``person_id`` (None: no one) as chosen."""
        self.person_id = person_id
        self.label.setText(name if person_id is not None else self._nobody)
        self.clear.setEnabled(person_id is not None)
        if person_id is None:
            self.picker.view.clearSelection()
        if self._on_change is not None:
            self._on_change()

    def show_person(self, services: Services, person_id: int | None) -> None:
        """Show ``person_id`` as chosen, labelled "Name (employee ID)"."""
        found = services.reads.people().rows([person_id]).get(person_id) if person_id else None
        self.set(person_id if found else None, _person_label(found) if found else "")

    def _picked(self) -> None:
        rows = self.picker.selected_rows()
        if not rows:
            return
        found = self.picker.model.row_data(rows[0])
        if found is not None:
            self.set(self.picker.model.key_at(rows[0]), _person_label(found))


def fill_combo(combo: QComboBox, items: list[NamedItem], select: int | None) -> None:
    """Replace a combo's items with ``items`` (id as item data) and select ``select``."""
    combo.blockSignals(True)
    combo.clear()
    for item in items:
        combo.addItem(item.name, item.id)
    combo.setCurrentIndex(combo.findData(select) if select is not None else -1)
    combo.blockSignals(False)
    combo.currentIndexChanged.emit(combo.currentIndex())


def combo_id(combo: QComboBox) -> int | None:
    """The id stored with the selected item, or None."""
    value = combo.currentData()
    return int(value) if isinstance(value, int) else None


def date_edit() -> QDateEdit:
    """A date field with a calendar, showing ISO dates."""
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumWidth(130)
    return edit


def notes_edit() -> QPlainTextEdit:
    """A short multi-line notes field."""
    edit = QPlainTextEdit()
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 14)
    return edit


class RecordDialog(FormDialog):
    """A form that adds or edits one record through the signed-in operator's services."""

    def __init__(
        self, services: Services, title: str, action: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(title, action, parent)
        self.services = services
        self.saved_id: int | None = None


# ------------------------------------------------------------------------------ catalog


class VendorDialog(RecordDialog):
    """Adds a vendor."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, "New vendor", "Add vendor", parent)
        self.name_edit = wide(QLineEdit())
        self.name_edit.setPlaceholderText("e.g. Adobe")
        self.website_edit = QLineEdit()
        self.website_edit.setPlaceholderText("https://")
        self.notes_edit = notes_edit()
        self.add_row("&Name:", self.name_edit, names=("Vendor name",))
        self.add_row("&Website:", self.website_edit, names=("Website",))
        self.add_row("N&otes:", self.notes_edit, names=("Notes",))
        self.finish()

    def complete(self) -> bool:
        """A name is given."""
        return bool(self.name_edit.text().strip())

    def save(self) -> None:
        """Add the vendor."""
        self.saved_id = self.services.catalog.add_vendor(
            self.name_edit.text(), self.website_edit.text(), self.notes_edit.toPlainText()
        )


class ProductDialog(RecordDialog):
    """Adds a product of a vendor."""

    def __init__(
        self, services: Services, parent: QWidget | None = None, vendor_id: int | None = None
    ) -> None:
        super().__init__(services, "New product", "Add product", parent)
        self.vendor_combo = wide(QComboBox())
        self.vendor_combo.setPlaceholderText("Choose a vendor")
        fill_combo(self.vendor_combo, services.catalog.vendors(), vendor_id)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Acrobat Pro")
        self.notes_edit = notes_edit()
        self.add_row("&Vendor:", self.vendor_combo)
        self.add_row("&Name:", self.name_edit, names=("Product name",))
        self.add_row("N&otes:", self.notes_edit, names=("Notes",))
        self.finish()
        if vendor_id is not None:
            self.name_edit.setFocus()

    def complete(self) -> bool:
        """A vendor is chosen and a name given."""
        return combo_id(self.vendor_combo) is not None and bool(self.name_edit.text().strip())

    def save(self) -> None:
        """Add the product."""
        vendor_id = combo_id(self.vendor_combo)
        assert vendor_id is not None
        self.saved_id = self.services.catalog.add_product(
            vendor_id, self.name_edit.text(), self.notes_edit.toPlainText()
        )


class EntitlementDialog(RecordDialog):
    """Records a purchase (a license) or edits one, asking why for an edit."""

    def __init__(
        self,
        services: Services,
        parent: QWidget | None = None,
        entitlement_id: int | None = None,
    ) -> None:
        editing = entitlement_id is not None
        super().__init__(
            services,
            "Edit license" if editing else "New license",
            "Save changes" if editing else "Add license",
            parent,
        )
        self.setMinimumWidth(560)
        self.entitlement_id = entitlement_id
        self.vendor_dialog: VendorDialog | None = None
        self.product_dialog: ProductDialog | None = None
        current, vendor_id = (
            services.reads.entitlement(entitlement_id)
            if entitlement_id is not None
            else (None, None)
        )

        self.vendor_combo = wide(QComboBox())
        self.vendor_combo.setPlaceholderText("Choose a vendor")
        self.new_vendor = helper_button("New vendor…")
        self.new_vendor.clicked.connect(self._add_vendor)
        self.product_combo = wide(QComboBox())
        self.product_combo.setPlaceholderText("Choose a product")
        self.new_product = helper_button("New product…")
        self.new_product.clicked.connect(self._add_product)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("optional, e.g. Enterprise agreement 2026")
        self.metric_combo = QComboBox()
        for metric in Metric:
            self.metric_combo.addItem(metric.label, metric.value)
        self.quantity = QSpinBox()
        self.quantity.setRange(0, MAX_QUANTITY)
        self.quantity.setValue(1)
        self.quantity.setMinimumWidth(120)
        self.quantity_unit = QLabel()
        self.quantity.valueChanged.connect(self._show_unit)
        self.min_cores = QSpinBox()
        self.min_cores.setRange(0, 1024)
        self.min_cores.setSpecialValueText("No minimum")
        self.min_cores.setMinimumWidth(160)
        self.min_cores.setToolTip("Contracts often count at least 16 cores per processor.")
        self.core_factor = QDoubleSpinBox()
        self.core_factor.setRange(0.01, 100)
        self.core_factor.setDecimals(3)
        self.core_factor.setSingleStep(0.25)
        self.core_factor.setValue(1)
        self.core_factor.setMinimumWidth(120)
        self._core_factor_tip = (
            "Licenses per core: 1 counts every core, 0.5 half of them (some processor "
            "families); each device is rounded up to whole licenses."
        )
        self._core_factor_locked = False  # rights in use were counted with it
        self.core_factor.setToolTip(self._core_factor_tip)
        self.unit_table = QLineEdit()
        self.unit_table.setPlaceholderText("optional, e.g. Xeon=0.5; EPYC=0.5; POWER10=1")
        self.unit_table.textChanged.connect(self._rates_changed)
        self.unit_table.setToolTip(
            "Units per core by processor, from the contract's table: Oracle's core factors "
            "(Xeon=0.5), IBM's processor value units (Xeon=70; POWER10=120).  Each class is "
            "matched as whole words of the device's processor model ('*' spans any text); "
            "'*=1' rates every other processor.  A device whose processor has no rate is "
            "counted apart.  Empty: the core factor counts every core."
        )
        today = dt.date.today()
        self.term_start = date_edit()
        self.term_start.setDate(to_qdate(today))
        self.no_start = QCheckBox("No start")
        self.term_end = date_edit()
        self.term_end.setDate(to_qdate(today).addYears(1).addDays(-1))  # a one-year term
        self.no_end = QCheckBox("No end (perpetual)")
        self.no_start.toggled.connect(lambda on: self.term_start.setEnabled(not on))
        self.no_end.toggled.connect(lambda on: self.term_end.setEnabled(not on))
        self.no_end.toggled.connect(self._term_end_toggled)
        self.notice_days = QLineEdit()
        self.notice_days.setPlaceholderText("180, 90, 30 (the default)")
        self.notice_days.setToolTip(
            "Days before the term ends on which the dashboard, File > Renewal calendar and "
            "'seatledger renewals' remind that this license needs a decision."
        )
        self.cancel_by = date_edit()
        self.cancel_by.setDate(to_qdate(today).addYears(1).addDays(-91))
        self.no_cancel_by = QCheckBox("None in the contract")
        self.no_cancel_by.setChecked(True)
        self.cancel_by.setEnabled(False)
        self.no_cancel_by.toggled.connect(lambda on: self.cancel_by.setEnabled(not on))
        self.cancel_by.setToolTip(
            "The vendor's last day to cancel or change the contract before it renews by itself."
        )
        self.unit_cost = QLineEdit()
        self.unit_cost.setPlaceholderText("0.00")
        self.unit_cost.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"^\d{0,12}([.,]\d{0,4})?$"))
        )
        self.unit_cost.setMaximumWidth(160)
        self.currency = QComboBox()
        self.currency.setEditable(True)
        self.currency.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.currency.addItems(CURRENCIES)
        self.currency.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"^[A-Za-z]{0,3}$"))
        )
        self.currency.setMinimumWidth(90)
        self.currency.setAccessibleName("Currency")
        self.po_reference = QLineEdit()
        self.po_reference.setPlaceholderText("e.g. PO-2026-0142 / contract 77-1180")
        self.reseller = QLineEdit()
        self.notes_edit = notes_edit()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. true-up after the Q2 audit")

        self.add_row("&Vendor:", row(self.vendor_combo, self.new_vendor), buddy=self.vendor_combo)
        self.add_row(
            "&Product:", row(self.product_combo, self.new_product), buddy=self.product_combo
        )
        self.add_row("Na&me:", self.name_edit, names=("Name",))
        self.add_row("Me&tric:", self.metric_combo, names=("Metric",))
        self.add_row(
            "&Quantity:", row(self.quantity, 4, self.quantity_unit, 0), names=("Quantity",)
        )
        self.add_row(
            "Min. cores per CP&U:", row(self.min_cores, 0), names=("Minimum cores per processor",)
        )
        self.add_row(
            "Core f&actor:",
            row(self.core_factor, QLabel("licenses per core"), 0),
            names=("Core factor",),
        )
        self.add_row("Rates &by processor:", self.unit_table, names=(validation.UNIT_TABLE,))
        self.add_row(
            "Term &start:", row(self.term_start, 8, self.no_start, 0), names=("Term start",)
        )
        self.add_row("Term &end:", row(self.term_end, 8, self.no_end, 0), names=("Term end",))
        self.add_row("Remin&d (days before):", self.notice_days, names=(validation.NOTICE_DAYS,))
        self.add_row(
            "Cancel b&y:", row(self.cancel_by, 8, self.no_cancel_by, 0), names=("Cancel by",)
        )
        self.add_row("Unit &cost:", row(self.unit_cost, self.currency, 0), names=("Unit cost",))
        self.name_field("Currency", self.currency)
        self.add_row("P&O / contract:", self.po_reference, names=("PO reference",))
        self.add_row("&Reseller:", self.reseller, names=("Reseller",))
        self.add_row("&Notes:", self.notes_edit, names=("Notes",))
        if editing:
            self.add_row("Reason for c&hange:", self.reason, names=("Reason",))
        else:
            self.reason.hide()

        self.vendor_combo.currentIndexChanged.connect(self._vendor_changed)
        self.metric_combo.currentIndexChanged.connect(self._metric_changed)
        vendors = services.catalog.vendors()
        if vendor_id is None and len(vendors) == 1:
            vendor_id = vendors[0].id
        fill_combo(self.vendor_combo, vendors, vendor_id)
        if current is not None:
            self._load(current)
        self._metric_changed()
        self.finish()
        (self.reason if editing else self.vendor_combo).setFocus()

    def _load(self, data: EntitlementInput) -> None:
        self.product_combo.setCurrentIndex(self.product_combo.findData(data.product_id))
        self.name_edit.setText(data.name)
        self.metric_combo.setCurrentIndex(self.metric_combo.findData(data.metric.value))
        self.quantity.setValue(data.quantity)
        self.min_cores.setValue(data.min_cores_per_processor)
        self.core_factor.setValue(float(data.core_factor))
        self.unit_table.setText(data.unit_table)
        self.no_start.setChecked(data.term_start is None)
        if data.term_start is not None:
            self.term_start.setDate(to_qdate(data.term_start))
        self.no_end.setChecked(data.term_end is None)
        if data.term_end is not None:
            self.term_end.setDate(to_qdate(data.term_end))
        self.notice_days.setText(data.notice_days)
        self.no_cancel_by.setChecked(data.cancel_by is None)
        if data.cancel_by is not None:
            self.cancel_by.setDate(to_qdate(data.cancel_by))
        self.unit_cost.setText(money_text(data.unit_cost))
        self.currency.setCurrentText(data.currency)
        self.po_reference.setText(data.po_reference)
        self.reseller.setText(data.reseller)
        self.notes_edit.setPlainText(data.notes)
        assert self.entitlement_id is not None
        listed = self.services.reads.entitlement_row(self.entitlement_id)
        used = listed.used
        unit = QUANTITY_UNITS.get(listed.metric, "seat")
        self.set_intro(
            f"<b>{html.escape(listed.title)}</b><br>{used:,} of "
            f"{plural(listed.quantity, unit)} in use."
        )
        if used:
            self.metric_combo.setEnabled(False)
            self.metric_combo.setToolTip(
                f"{used:,} rights are in use; release them to change the metric."
            )
            self._core_factor_locked = True
            for counted in (self.min_cores, self.core_factor, self.unit_table):
                counted.setEnabled(False)
                counted.setToolTip(
                    f"{used:,} rights are in use, each counted with this value; release them "
                    "to change it."
                )

    # ------------------------------------------------------------------ reactions
    def _vendor_changed(self) -> None:
        vendor_id = combo_id(self.vendor_combo)
        self.new_product.setEnabled(vendor_id is not None)
        previous = combo_id(self.product_combo)
        if vendor_id is None:
            fill_combo(self.product_combo, [], None)
            return
        prefix = self.vendor_combo.currentText() + " "
        products = [
            NamedItem(p.id, p.name.removeprefix(prefix))
            for p in self.services.catalog.products(vendor_id)
        ]
        keep = previous if any(p.id == previous for p in products) else None
        if keep is None and len(products) == 1:
            keep = products[0].id
        fill_combo(self.product_combo, products, keep)

    def _term_end_toggled(self, perpetual: bool) -> None:
        """A perpetual license has nothing to renew: no reminders, no cancel-by date."""
        self.notice_days.setEnabled(not perpetual)
        self.no_cancel_by.setEnabled(not perpetual)
        self.cancel_by.setEnabled(not perpetual and not self.no_cancel_by.isChecked())

    def _rates_changed(self) -> None:
        """Rates by processor replace the core factor: it is not editable beside them."""
        if self._core_factor_locked:
            return
        rated = bool(self.unit_table.text().strip())
        self.core_factor.setEnabled(not rated)
        self.core_factor.setToolTip(
            "The rates by processor replace the core factor for this license."
            if rated
            else self._core_factor_tip
        )

    def _metric_changed(self) -> None:
        metric = self.chosen_metric()
        self.set_row_visible(self.min_cores, metric is Metric.PER_CORE)
        self.set_row_visible(self.core_factor, metric is Metric.PER_CORE)
        self.set_row_visible(self.unit_table, metric is Metric.PER_CORE)
        self._rates_changed()
        self._show_unit()
        self.quantity.setToolTip(
            "A site license is not capped; the quantity is for reference."
            if metric.unlimited
            else ""
        )

    def _show_unit(self) -> None:
        unit = QUANTITY_UNITS.get(self.chosen_metric(), "seat")
        self.quantity_unit.setText(agree(self.quantity.value(), unit))

    def _add_vendor(self) -> None:
        self.vendor_dialog = VendorDialog(self.services, self)
        self.vendor_dialog.accepted.connect(self._vendor_added)
        self.vendor_dialog.open()

    def _vendor_added(self) -> None:
        assert self.vendor_dialog is not None
        fill_combo(self.vendor_combo, self.services.catalog.vendors(), self.vendor_dialog.saved_id)
        self.product_combo.setFocus()

    def _add_product(self) -> None:
        self.product_dialog = ProductDialog(self.services, self, combo_id(self.vendor_combo))
        self.product_dialog.accepted.connect(self._product_added)
        self.product_dialog.open()

    def _product_added(self) -> None:
        assert self.product_dialog is not None
        vendor_id = combo_id(self.product_dialog.vendor_combo)
        if vendor_id != combo_id(self.vendor_combo):
            self.vendor_combo.setCurrentIndex(self.vendor_combo.findData(vendor_id))
        self._vendor_changed()
        saved = self.product_dialog.saved_id
        self.product_combo.setCurrentIndex(self.product_combo.findData(saved))
        self.name_edit.setFocus()

    # ------------------------------------------------------------------ form
    def chosen_metric(self) -> Metric:
        """The chosen metric."""
        return Metric(self.metric_combo.currentData())

    def complete(self) -> bool:
        """Product and quantity are given (and the reason, for an edit)."""
        editing = self.entitlement_id is not None
        return (
            combo_id(self.product_combo) is not None
            and bool(self.quantity.cleanText().strip())
            and (not editing or bool(self.reason.text().strip()))
        )

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """The quantity must be a whole number."""
        if not self.quantity.cleanText().strip():
            return [("Enter the quantity as a whole number.", self.quantity)]
        return []

    def entered(self) -> EntitlementInput:
        """The license as entered."""
        product_id = combo_id(self.product_combo)
        assert product_id is not None
        metric = self.chosen_metric()
        return EntitlementInput(
            product_id=product_id,
            metric=metric,
            quantity=self.quantity.value(),
            name=self.name_edit.text(),
            term_start=None if self.no_start.isChecked() else from_qdate(self.term_start.date()),
            term_end=None if self.no_end.isChecked() else from_qdate(self.term_end.date()),
            notice_days=self.notice_days.text() if not self.no_end.isChecked() else "",
            cancel_by=None
            if self.no_cancel_by.isChecked() or self.no_end.isChecked()
            else from_qdate(self.cancel_by.date()),
            unit_cost=validation.money(self.unit_cost.text().replace(",", "."), "Unit cost"),
            currency=self.currency.currentText(),
            po_reference=self.po_reference.text(),
            reseller=self.reseller.text(),
            notes=self.notes_edit.toPlainText(),
            min_cores_per_processor=self.min_cores.value() if metric is Metric.PER_CORE else 0,
            core_factor=(
                Decimal(f"{self.core_factor.value():.3f}")
                if metric is Metric.PER_CORE
                else Decimal(1)
            ),
            unit_table=self.unit_table.text() if metric is Metric.PER_CORE else "",
        )

    def save(self) -> None:
        """Add or update the entitlement."""
        data = self.entered()
        if self.entitlement_id is None:
            self.saved_id = self.services.catalog.add_entitlement(data)
        else:
            self.services.catalog.update_entitlement(self.entitlement_id, data, self.reason.text())
            self.saved_id = self.entitlement_id


# ------------------------------------------------------------------------------ directory


class TeamDialog(RecordDialog):
    """Adds a team (a cost centre)."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, "New team", "Add team", parent)
        self.name_edit = wide(QLineEdit())
        self.name_edit.setPlaceholderText("e.g. Finance")
        self.cost_centre = QLineEdit()
        self.cost_centre.setPlaceholderText("optional, e.g. CC-4100")
        self.add_row("&Name:", self.name_edit, names=("Team name",))
        self.add_row("&Cost centre:", self.cost_centre, names=("Cost centre",))
        self.finish()

    def complete(self) -> bool:
        """A name is given."""
        return bool(self.name_edit.text().strip())

    def save(self) -> None:
        """Add the team."""
        self.saved_id = self.services.directory.add_team(
            self.name_edit.text(), self.cost_centre.text()
        )


class PersonDialog(RecordDialog):
    """Adds a person or edits one."""

    def __init__(
        self, services: Services, parent: QWidget | None = None, person_id: int | None = None
    ) -> None:
        editing = person_id is not None
        super().__init__(
            services,
            "Edit person" if editing else "New person",
            "Save changes" if editing else "Add person",
            parent,
        )
        self.person_id = person_id
        self.team_dialog: TeamDialog | None = None
        self.employee_id = wide(QLineEdit())
        self.employee_id.setPlaceholderText("e.g. E10442")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Jane Smith")
        self.email = QLineEdit()
        self.email.setPlaceholderText("optional, e.g. jane.smith@example.org")
        self.team_combo = QComboBox()
        self.new_team = helper_button("New team…")
        self.new_team.clicked.connect(self._add_team)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("optional, e.g. moved to Finance")
        self.add_row("&Employee ID:", self.employee_id, names=("Employee ID",))
        self.add_row("&Name:", self.name_edit, names=("Name",))
        self.add_row("E&mail:", self.email, names=("Email",))
        self.add_row("&Team:", row(self.team_combo, self.new_team), buddy=self.team_combo)
        self.team_combo.setMinimumWidth(220)
        team_id: int | None = None
        if person_id is not None:
            data, status = services.reads.person(person_id)
            listed = services.reads.people().rows([person_id]).get(person_id)
            self.employee_id.setText(data.employee_id)
            self.name_edit.setText(data.name)
            self.email.setText(data.email)
            team_id = data.team_id
            if status == "left" and listed is not None:
                left = listed[PeopleQuery.DATE_LEFT]
                when = f" on {left.isoformat()}" if left else ""
                self.add_note(f"{data.name} left the organization{when}.", "warning")
            self.add_row("&Reason:", self.reason, names=("Reason",))
        self._fill_teams(team_id)
        self.finish()

    def _fill_teams(self, select: int | None) -> None:
        items = [NamedItem(-1, "(no team)"), *self.services.directory.teams()]
        fill_combo(self.team_combo, items, -1 if select is None else select)

    def _add_team(self) -> None:
        self.team_dialog = TeamDialog(self.services, self)
        self.team_dialog.accepted.connect(lambda: self._fill_teams(self._new_team_id()))
        self.team_dialog.open()

    def _new_team_id(self) -> int | None:
        return self.team_dialog.saved_id if self.team_dialog is not None else None

    def complete(self) -> bool:
        """Employee id and name are given."""
        return bool(self.employee_id.text().strip() and self.name_edit.text().strip())

    def save(self) -> None:
        """Add or update the person."""
        team = combo_id(self.team_combo)
        data = PersonInput(
            self.employee_id.text(),
            self.name_edit.text(),
            self.email.text(),
            None if team is None or team < 0 else team,
        )
        if self.person_id is None:
            self.saved_id = self.services.directory.add_person(data)
        else:
            self.services.directory.update_person(self.person_id, data, self.reason.text())
            self.saved_id = self.person_id


class DeviceDialog(RecordDialog):
    """Adds a device or edits one; the owner is picked from the people list."""

    def __init__(
        self, services: Services, parent: QWidget | None = None, device_id: int | None = None
    ) -> None:
        editing = device_id is not None
        super().__init__(
            services,
            "Edit device" if editing else "New device",
            "Save changes" if editing else "Add device",
            parent,
        )
        self.setMinimumWidth(600)
        self.device_id = device_id
        reads = services.reads
        self.hostname = wide(QLineEdit())
        self.hostname.setPlaceholderText("e.g. fin-lt-0142")
        self.serial = QLineEdit()
        self.serial.setPlaceholderText("optional")
        self.owner = PersonChoice(services, "Owner", nobody="No owner chosen", clear="Clear owner")
        self.owner_label, self.clear_owner, self.owner_picker = (
            self.owner.label,
            self.owner.clear,
            self.owner.picker,
        )
        # 0 shows "Unknown": a count nobody gave is never guessed (per-core and per-processor
        # licenses cannot be counted on the device until it is given).
        self.processors = QSpinBox()
        self.processors.setRange(0, 1024)
        self.cores = QSpinBox()
        self.cores.setRange(0, 65536)
        for count in (self.processors, self.cores):
            count.setSpecialValueText("Unknown")
            count.setMinimumWidth(100)
            count.setToolTip("As the machine reports it; leave Unknown rather than guess.")
        self.processor_model = QLineEdit()
        self.processor_model.setPlaceholderText("e.g. Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz")
        self.processor_model.setToolTip(
            "As inventory reports it; licenses that rate cores by processor (core factor "
            "tables, IBM PVUs) read it.  Leave empty rather than guess."
        )
        self.os = QComboBox()
        self.os.setEditable(True)
        self.os.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.os.addItems(OPERATING_SYSTEMS)
        self.os.setCurrentIndex(-1)
        self.os.setPlaceholderText("optional")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("optional, e.g. motherboard replaced")

        hardware = QHBoxLayout()
        hardware.setContentsMargins(0, 0, 0, 0)
        cores_label = QLabel("&Cores:")
        cores_label.setBuddy(self.cores)
        hardware.addWidget(self.processors)
        hardware.addSpacing(16)
        hardware.addWidget(cores_label)
        hardware.addWidget(self.cores)
        hardware.addStretch(1)
        self.add_row("&Host name:", self.hostname, names=("Host name",))
        self.add_row("&Serial:", self.serial, names=("Serial",))
        self.add_row("&Owner:", self.owner.layout, buddy=self.owner_picker.search)
        self.add_row("&Processors:", hardware, names=("Processors",), buddy=self.processors)
        self.name_field("Cores", self.cores)
        self.add_row("Processor &model:", self.processor_model, names=("Processor model",))
        self.add_row("Operating s&ystem:", self.os, names=("Operating system",))
        if device_id is not None:
            data = reads.device(device_id)
            self.hostname.setText(data.hostname)
            self.serial.setText(data.serial)
            self.processors.setValue(data.processors or 0)
            self.cores.setValue(data.cores or 0)
            self.processor_model.setText(data.processor_model)
            self.os.setCurrentText(data.os)
            for field in (self.processor_model, self.os.lineEdit()):
                if field is not None:
                    field.setCursorPosition(0)  # long names read from their start
            self.owner.show_person(services, data.owner_id)
            self.add_row("&Reason:", self.reason, names=("Reason",))
        else:
            self.owner.set(None, "")
        self.finish()

    def complete(self) -> bool:
        """A host name is given."""
        return bool(self.hostname.text().strip())

    def save(self) -> None:
        """Add or update the device."""
        data = DeviceInput(
            self.hostname.text(),
            self.serial.text(),
            self.owner.person_id,
            self.processors.value() or None,
            self.cores.value() or None,
            self.os.currentText(),
            self.processor_model.text(),
        )
        if self.device_id is None:
            self.saved_id = self.services.directory.add_device(data)
        else:
            self.services.directory.update_device(self.device_id, data, self.reason.text())
            self.saved_id = self.device_id
