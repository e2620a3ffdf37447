"""The dialogs, driven with real input: what the user sees, and what got saved.

Every dialog is shown with ``show()`` (never a modal ``exec()``), so nothing waits on a nested
event loop; the few convenience functions that do call ``exec()`` are driven by a timer that
closes the dialog in any case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDateEdit, QDialog, QWidget
from pytestqt.qtbot import QtBot

from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.progress import Progress
from seatledger.services.catalog.queries import EntitlementQuery
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.queries import (
    DeviceColumn,
    DeviceQuery,
    PeopleColumn,
    PeopleQuery,
)
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.ledger.activity import ActivityFilter, ActivityQuery
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.services.seats.queries import SeatQuery
from seatledger.ui.dialogs import start as start_module
from seatledger.ui.dialogs.assign import (
    AssignDialog,
    ReleaseDepartedDialog,
    ReleaseDialog,
    confirm_release,
)
from seatledger.ui.dialogs.errors import error_box
from seatledger.ui.dialogs.forms import (
    DeviceDialog,
    EntitlementDialog,
    PersonDialog,
    ProductDialog,
    VendorDialog,
)
from seatledger.ui.dialogs.mark_left import MarkLeftDialog
from seatledger.ui.dialogs.operators import (
    COL_FAILED,
    AddOperatorDialog,
    ChangeRoleDialog,
    OperatorsDialog,
)
from seatledger.ui.dialogs.organization import OrganizationDialog
from seatledger.ui.dialogs.sign_in import DEMO_HINT, SignInDialog
from seatledger.ui.dialogs.start import CREATE, OPEN, StartDialog
from seatledger.ui.pages.people import PeoplePage
from seatledger.ui.tasks import SyncRunner
from seatledger.ui.widgets import to_qdate

from .conftest import PASSWORD as ADMIN_PASSWORD

# The offscreen platform (make test) cannot size windows; under a real display there is no message.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

LEFT = Qt.MouseButton.LeftButton
# Of the operators these tests make (the administrator's is ADMIN_PASSWORD).
PASSWORD = "secret lantern harbor"


# ------------------------------------------------------------------------------------ fixtures


# ``workspace`` and its signed-in ``admin`` are tests/gui/conftest.py's.


@pytest.fixture
def manager_services(workspace: Workspace, admin: Services) -> Services:
    """Signed in as a license manager (who may not over-commit)."""
    admin.operators.create("manager", "Max", Role.LICENSE_MANAGER, PASSWORD)
    return workspace.sign_in("manager", PASSWORD)


class Catalog:
    """Ids of a small catalog: one vendor with one product, one team of people."""

    def __init__(self, services: Services) -> None:
        self.vendor = services.catalog.add_vendor("Contoso Software")
        self.product = services.catalog.add_product(self.vendor, "PDF Studio")
        self.team = services.directory.add_team("Finance")
        self.people = [
            services.directory.add_person(
                PersonInput(f"E{n:03}", f"Person {n}", f"p{n}@example.com", self.team)
            )
            for n in (1, 2)
        ]

    def license(self, services: Services, quantity: int, metric: Metric = Metric.PER_USER) -> int:
        """A license of the product."""
        return services.catalog.add_entitlement(
            EntitlementInput(product_id=self.product, metric=metric, quantity=quantity)
        )


@pytest.fixture
def catalog(admin: Services) -> Catalog:
    """The small catalog."""
    return Catalog(admin)


def shown(qtbot: QtBot, dialog: QDialog) -> QDialog:
    """Show a dialog without a nested event loop and let pytest-qt close it afterwards."""
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def retype(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Select all of a field's text and type over it, as a user would."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(widget, text)


def type_date(qtbot: QtBot, edit: QDateEdit, iso: str) -> None:
    """Tab into a date field (which selects its first section) and type the digits of a date."""
    edit.clearFocus()
    edit.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClicks(edit, iso.replace("-", ""))


def click(qtbot: QtBot, button: QWidget) -> None:
    """Click a button with the mouse."""
    qtbot.mouseClick(button, LEFT)


def ledger(services: Services, action: str) -> list[tuple[object, ...]]:
    """Ledger rows of one action, newest first."""
    query = ActivityQuery(services.ctx, ActivityFilter(action=action))
    keys = list(query.keys())
    rows = query.rows(keys)
    return [rows[key] for key in keys]


def invalid(widget: QWidget) -> bool:
    """Whether the dialog marks the field as refused."""
    return bool(widget.property("invalid"))


# ------------------------------------------------------------------------------- entitlements


def test_entitlement_refuses_end_before_start_and_saves_nothing(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    dialog = shown(qtbot, EntitlementDialog(admin))
    assert isinstance(dialog, EntitlementDialog)
    assert dialog.product_combo.currentData() == catalog.product  # the vendor's only product
    type_date(qtbot, dialog.term_start, "2026-06-01")
    type_date(qtbot, dialog.term_end, "2026-01-31")
    assert dialog.term_end.date().toString("yyyy-MM-dd") == "2026-01-31"
    click(qtbot, dialog.ok_button)

    assert dialog.isVisible()
    assert dialog.message.isVisible()
    assert "Term end 2026-01-31 is before term start 2026-06-01" in dialog.message.text()
    assert invalid(dialog.term_end)
    assert dialog.focusWidget() is dialog.term_end
    assert list(EntitlementQuery(admin.ctx).keys()) == []
    assert ledger(admin, "entitlement.create") == []

    type_date(qtbot, dialog.term_end, "2026-12-31")  # editing the field clears the mark
    assert not invalid(dialog.term_end)
    assert not dialog.message.isVisible()


def test_entitlement_quantity_must_be_a_number(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    dialog = shown(qtbot, EntitlementDialog(admin))
    assert isinstance(dialog, EntitlementDialog)
    assert dialog.ok_button.isEnabled()
    retype(qtbot, dialog.quantity, "abc")

    assert dialog.quantity.cleanText() == ""  # letters are not taken
    assert not dialog.ok_button.isEnabled()
    assert dialog.hint.isVisible()
    assert "whole number" in dialog.hint.text()
    assert invalid(dialog.quantity)

    qtbot.keyClicks(dialog.quantity, "25")
    assert dialog.ok_button.isEnabled()
    assert not dialog.hint.isVisible()
    assert not invalid(dialog.quantity)


def test_valid_license_saves_with_its_ledger_entry(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    dialog = shown(qtbot, EntitlementDialog(admin))
    assert isinstance(dialog, EntitlementDialog)
    assert dialog.ok_button.text() == "Add license"
    qtbot.keyClicks(dialog.name_edit, "Enterprise 2026")
    retype(qtbot, dialog.quantity, "50")
    type_date(qtbot, dialog.term_start, "2026-01-01")
    type_date(qtbot, dialog.term_end, "2026-12-31")
    qtbot.keyClicks(dialog.unit_cost, "129.90")
    retype(qtbot, dialog.currency, "usd")
    qtbot.keyClicks(dialog.po_reference, "PO-2026-0142")
    qtbot.keyClicks(dialog.reseller, "SoftwareOne")
    click(qtbot, dialog.ok_button)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved_id is not None
    row = EntitlementQuery(admin.ctx).entitlements([dialog.saved_id])[dialog.saved_id]
    assert (row.title, row.metric, row.quantity) == (
        "Contoso Software PDF Studio — Enterprise 2026",
        Metric.PER_USER,
        50,
    )
    assert (row.term_start, row.term_end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert (str(row.unit_cost), row.currency, row.po_reference) == (
        "129.9000",
        "USD",
        "PO-2026-0142",
    )
    entries = ledger(admin, "entitlement.create")
    assert len(entries) == 1
    assert entries[0][2] == "admin"
    assert entries[0][4] == f"entitlement {dialog.saved_id}"


def test_editing_a_license_asks_for_a_reason(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    license_id = catalog.license(admin, 10)
    dialog = shown(qtbot, EntitlementDialog(admin, None, license_id))
    assert isinstance(dialog, EntitlementDialog)
    assert dialog.quantity.value() == 10
    retype(qtbot, dialog.quantity, "12")
    assert not dialog.ok_button.isEnabled()  # no reason yet
    qtbot.keyClicks(dialog.reason, "true-up after the Q2 audit")
    assert dialog.ok_button.text() == "Save changes"
    click(qtbot, dialog.ok_button)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved_id == license_id
    assert EntitlementQuery(admin.ctx).entitlements([license_id])[license_id].quantity == 12
    entry = ledger(admin, "entitlement.update")[0]
    assert entry[5] == "true-up after the Q2 audit"
    assert entry[6] == "quantity: 10 → 12"


def test_a_per_core_license_takes_its_core_factor_in_the_form(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    dialog = shown(qtbot, EntitlementDialog(admin))
    assert isinstance(dialog, EntitlementDialog)
    assert not dialog.core_factor.isVisible()  # named user: no cores to count
    dialog.metric_combo.setCurrentIndex(dialog.metric_combo.findData(Metric.PER_CORE.value))
    assert dialog.core_factor.isVisible()
    assert dialog.min_cores.isVisible()
    assert dialog.core_factor.value() == 1
    retype(qtbot, dialog.quantity, "32")
    retype(qtbot, dialog.core_factor, "0.5")
    click(qtbot, dialog.ok_button)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved_id is not None
    data, _ = admin.reads.entitlement(dialog.saved_id)
    assert (data.metric, data.core_factor) == (Metric.PER_CORE, Decimal("0.5"))
    device = admin.directory.add_device(DeviceInput("S1", processors=1, cores=16))
    admin.seats.assign(dialog.saved_id, devices=[device])  # 16 × 0.5 = 8 of 32

    editing = shown(qtbot, EntitlementDialog(admin, None, dialog.saved_id))
    assert isinstance(editing, EntitlementDialog)
    assert editing.core_factor.value() == 0.5
    assert not editing.core_factor.isEnabled()  # 8 rights in use were counted with it
    assert "release them" in editing.core_factor.toolTip()


def test_a_per_core_license_takes_rates_by_processor_and_refuses_a_table_it_cannot_read(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    dialog = shown(qtbot, EntitlementDialog(admin))
    assert isinstance(dialog, EntitlementDialog)
    assert not dialog.unit_table.isVisible()  # named user: no cores to rate
    dialog.metric_combo.setCurrentIndex(dialog.metric_combo.findData(Metric.PER_CORE.value))
    assert dialog.unit_table.isVisible()
    retype(qtbot, dialog.quantity, "3000")
    retype(qtbot, dialog.unit_table, "Xeon 70")
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert invalid(dialog.unit_table)
    assert "is not 'processor class=units per core'" in dialog.message.text()

    retype(qtbot, dialog.unit_table, "xeon = 70 ; POWER10=120")
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved_id is not None
    data, _ = admin.reads.entitlement(dialog.saved_id)
    assert data.unit_table == "xeon=70; POWER10=120"  # as stored and shown from now on

    # A Xeon with 2 x 16 cores takes 32 x 70 = 2,240 of the 3,000; an EPYC has no rate.
    admin.directory.add_device(
        DeviceInput("db-01", processors=2, cores=32, processor_model="Intel(R) Xeon(R) Gold 6338")
    )
    admin.directory.add_device(
        DeviceInput("db-02", processors=1, cores=16, processor_model="AMD EPYC 7543")
    )
    assign = shown(qtbot, AssignDialog(admin, dialog.saved_id))
    assert isinstance(assign, AssignDialog)
    assert "units per core by processor: xeon=70; POWER10=120" in assign.facts.text()
    select_all_shown(qtbot, assign)
    assert not assign.ok_button.isEnabled()
    assert assign.message.text().startswith(
        "1 selected device has unknown cores or a processor this license has no rate for"
    )


def test_new_vendor_and_product_from_the_license_form(qtbot: QtBot, admin: Services) -> None:
    dialog = shown(qtbot, EntitlementDialog(admin))
    assert isinstance(dialog, EntitlementDialog)
    assert not dialog.ok_button.isEnabled()  # no product yet
    assert not dialog.new_product.isEnabled()
    click(qtbot, dialog.new_vendor)
    vendor_dialog = dialog.vendor_dialog
    assert vendor_dialog is not None
    assert vendor_dialog.isVisible()
    assert not vendor_dialog.ok_button.isEnabled()
    qtbot.keyClicks(vendor_dialog.name_edit, "Fabrikam")
    click(qtbot, vendor_dialog.ok_button)
    assert dialog.vendor_combo.currentText() == "Fabrikam"

    click(qtbot, dialog.new_product)
    product_dialog = dialog.product_dialog
    assert product_dialog is not None
    assert product_dialog.vendor_combo.currentText() == "Fabrikam"
    qtbot.keyClicks(product_dialog.name_edit, "Designer")
    click(qtbot, product_dialog.ok_button)
    assert dialog.product_combo.currentText() == "Designer"
    assert dialog.ok_button.isEnabled()


def test_vendor_duplicate_name_is_refused_inline(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    dialog = shown(qtbot, VendorDialog(admin))
    assert isinstance(dialog, VendorDialog)
    qtbot.keyClicks(dialog.name_edit, "contoso software")
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert "already exists" in dialog.message.text()
    assert invalid(dialog.name_edit)
    assert dialog.name_edit.text() == "contoso software"


def test_product_dialog_adds_a_product(qtbot: QtBot, admin: Services, catalog: Catalog) -> None:
    dialog = shown(qtbot, ProductDialog(admin, None, catalog.vendor))
    assert isinstance(dialog, ProductDialog)
    qtbot.keyClicks(dialog.name_edit, "Reader")
    click(qtbot, dialog.ok_button)
    assert dialog.saved_id is not None
    names = [p.name for p in admin.catalog.products(catalog.vendor)]
    assert "Contoso Software Reader" in names


# ------------------------------------------------------------------------------------- people


def test_person_duplicate_employee_id_is_shown_inline(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    dialog = shown(qtbot, PersonDialog(admin))
    assert isinstance(dialog, PersonDialog)
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.employee_id, "E001")
    qtbot.keyClicks(dialog.name_edit, "Someone Else")
    click(qtbot, dialog.ok_button)

    assert dialog.isVisible()
    assert dialog.message.isVisible()
    assert dialog.message.text() == "Employee ID 'E001' already belongs to someone else."
    assert invalid(dialog.employee_id)
    assert not invalid(dialog.name_edit)
    assert (dialog.employee_id.text(), dialog.name_edit.text()) == ("E001", "Someone Else")
    assert len(PeopleQuery(admin.ctx).keys()) == 2

    retype(qtbot, dialog.employee_id, "E003")
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert PeopleQuery(admin.ctx).rows([dialog.saved_id or 0])[dialog.saved_id or 0][:4] == (
        "E003",
        "Someone Else",
        "",
        None,
    )


def test_person_edit_keeps_the_team(qtbot: QtBot, admin: Services, catalog: Catalog) -> None:
    person = catalog.people[0]
    dialog = shown(qtbot, PersonDialog(admin, None, person))
    assert isinstance(dialog, PersonDialog)
    assert dialog.team_combo.currentText() == "Finance"
    retype(qtbot, dialog.email, "person.one@example.com")
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    row = PeopleQuery(admin.ctx).rows([person])[person]
    assert (row[2], row[3]) == ("person.one@example.com", "Finance")


def test_device_dialog_picks_an_owner(qtbot: QtBot, admin: Services, catalog: Catalog) -> None:
    dialog = shown(qtbot, DeviceDialog(admin))
    assert isinstance(dialog, DeviceDialog)
    qtbot.keyClicks(dialog.hostname, "fin-lt-0142")
    qtbot.keyClicks(dialog.owner_picker.search, "Person 2")
    qtbot.waitUntil(lambda: dialog.owner_picker.model.rowCount() == 1)
    view = dialog.owner_picker.view
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(view.model().index(0, 1)).center())
    assert dialog.owner_label.text() == "Person 2 (E002)"
    retype(qtbot, dialog.processors, "2")
    retype(qtbot, dialog.cores, "16")
    qtbot.keyClicks(dialog.processor_model, "Intel(R) Xeon(R) Silver 4314")
    click(qtbot, dialog.ok_button)

    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = dialog.saved_id or 0
    assert DeviceQuery(admin.ctx).rows([saved])[saved][:5] == (
        "fin-lt-0142",
        "",
        "Person 2",
        2,
        16,
    )
    editing = shown(qtbot, DeviceDialog(admin, None, saved))
    assert isinstance(editing, DeviceDialog)
    assert editing.processor_model.text() == "Intel(R) Xeon(R) Silver 4314"
    click(qtbot, editing.ok_button)  # an edit keeps what it does not change
    assert admin.reads.device(saved).processor_model == "Intel(R) Xeon(R) Silver 4314"


def test_organization_dialog_sets_a_manager_and_cost_centre_from_a_day(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    person, boss = catalog.people
    dialog = shown(qtbot, OrganizationDialog(admin, person))
    assert isinstance(dialog, OrganizationDialog)
    assert dialog.manager_label.text() == "No manager"
    assert not dialog.ok_button.isEnabled()  # nothing differs from what is held yet
    qtbot.keyClicks(dialog.picker.search, "Person 2")
    qtbot.waitUntil(lambda: dialog.picker.model.rowCount() == 1)
    view = dialog.picker.view
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(view.model().index(0, 1)).center())
    assert dialog.manager_label.text() == "Person 2 (E002)"
    qtbot.keyClicks(dialog.cost_centre, "CC-4100")
    dialog.effective.setDate(to_qdate(dt.date(2026, 4, 1)))
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted

    now = admin.directory.organization(person)
    assert (now.manager_id, now.cost_centre, now.since) == (boss, "CC-4100", dt.date(2026, 4, 1))
    row = PeopleQuery(admin.ctx).rows([person])[person]
    assert (row[PeopleColumn.MANAGER], row[PeopleColumn.COST_CENTRE]) == ("Person 2", "CC-4100")
    again = shown(qtbot, OrganizationDialog(admin, person))
    assert isinstance(again, OrganizationDialog)
    assert again.manager_label.text() == "Person 2 (E002)"
    click(qtbot, again.clear_manager)
    assert again.manager_label.text() == "No manager"
    assert again.ok_button.isEnabled()


def test_device_cores_below_processors_highlights_cores(qtbot: QtBot, admin: Services) -> None:
    dialog = shown(qtbot, DeviceDialog(admin))
    assert isinstance(dialog, DeviceDialog)
    qtbot.keyClicks(dialog.hostname, "db-01")
    retype(qtbot, dialog.processors, "4")
    retype(qtbot, dialog.cores, "2")
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert invalid(dialog.cores)
    assert "Cores (2) cannot be fewer than processors (4)." in dialog.message.text()


def test_mark_left_records_the_date_and_reason(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    person = catalog.people[0]
    dialog = shown(qtbot, MarkLeftDialog(admin, person))
    assert isinstance(dialog, MarkLeftDialog)
    assert "Person 1" in dialog.intro.text()
    type_date(qtbot, dialog.date_left, "2026-03-31")
    qtbot.keyClicks(dialog.reason, "resignation")
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    row = PeopleQuery(admin.ctx).rows([person])[person]
    assert (row[PeopleColumn.STATUS], row[PeopleQuery.DATE_LEFT]) == ("left", dt.date(2026, 3, 31))
    assert ledger(admin, "person.leave")[0][5] == "resignation"


def test_the_people_pages_actions_open_their_dialog_on_the_selected_person(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    workspace: Workspace,
    admin: Services,
    manager_services: Services,
) -> None:
    catalog = Catalog(admin)
    opened: list[tuple[str, int]] = []
    for dialog_type in (MarkLeftDialog, OrganizationDialog):
        monkeypatch.setattr(
            dialog_type, "exec", lambda d: opened.append((type(d).__name__, d.person_id)) or 0
        )
    admin.operators.create("viewer", "Vic", Role.VIEWER, PASSWORD)
    viewer = workspace.sign_in("viewer", PASSWORD)
    for services in (manager_services, viewer):
        page = PeoplePage(services)
        qtbot.addWidget(page)
        qtbot.waitUntil(lambda page=page: page.model.rowCount() == 2)
        assert page.table.select_key(catalog.people[1])
        page.mark_left()
        page.set_organization()
    assert opened == [  # the manager's; a viewer may not edit the directory
        ("MarkLeftDialog", catalog.people[1]),
        ("OrganizationDialog", catalog.people[1]),
    ]
    page.table.clearSelection()
    page.table.setCurrentIndex(page.model.index(-1, -1))
    page.set_organization()  # nobody selected: nothing opens
    assert len(opened) == 2


def test_mark_left_counts_the_seats_held_in_words(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    one, two = catalog.license(admin, 5), catalog.license(admin, 5)
    person = catalog.people[0]
    admin.seats.assign(one, people=[person])
    dialog = shown(qtbot, MarkLeftDialog(admin, person))
    assert "They hold 1 seat; it stays assigned (and shows as a finding)" in dialog.intro.text()
    admin.seats.assign(two, people=[person])
    dialog = shown(qtbot, MarkLeftDialog(admin, person))
    assert "They hold 2 seats; the seats stay assigned" in dialog.intro.text()


# --------------------------------------------------------------------------------- assignment


def select_all_shown(qtbot: QtBot, dialog: AssignDialog) -> None:
    """Click "Select all shown"."""
    click(qtbot, dialog.select_all)


def test_assign_over_limit_is_refused_for_a_license_manager(
    qtbot: QtBot, manager_services: Services, admin: Services, catalog: Catalog
) -> None:
    license_id = catalog.license(admin, 1)
    dialog = shown(qtbot, AssignDialog(manager_services, license_id))
    assert isinstance(dialog, AssignDialog)
    assert dialog.picker.model.rowCount() == 2
    select_all_shown(qtbot, dialog)

    assert dialog.summary.text() == "2 people selected · needs 2 seats · 1 free"
    assert not dialog.ok_button.isEnabled()
    assert not dialog.over_commit.isVisible()
    assert "allows 1 seat: 0 used, 1 free, 2 needed" in dialog.message.text()
    assert "Only an administrator" in dialog.message.text()

    view = dialog.picker.view
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(view.model().index(0, 1)).center())
    assert dialog.summary.text() == "1 person selected · needs 1 seat · 1 free"
    assert dialog.ok_button.isEnabled()
    assert not dialog.message.isVisible()
    assert dialog.ok_button.text() == "Assign 1 seat"


def test_assign_over_commit_needs_an_administrator_and_a_reason(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    license_id = catalog.license(admin, 1)
    dialog = shown(qtbot, AssignDialog(admin, license_id))
    assert isinstance(dialog, AssignDialog)
    select_all_shown(qtbot, dialog)
    assert dialog.over_commit.isVisible()
    assert not dialog.ok_button.isEnabled()

    box = dialog.over_commit
    qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))  # on the tick box
    assert box.isChecked()
    assert not dialog.ok_button.isEnabled()  # a reason is still missing
    qtbot.keyClicks(dialog.reason, "audit season; order placed")
    assert dialog.ok_button.isEnabled()
    assert dialog.ok_button.text() == "Assign 2 seats"
    click(qtbot, dialog.ok_button)

    assert not dialog.isVisible()
    assert dialog.result is not None
    outcome = dialog.result
    assert outcome.over_commit
    assert len(outcome.assignment_ids) == 2
    assert len(SeatQuery(admin.ctx, license_id).keys()) == 2
    entry = ledger(admin, "seat.bulk_assign")[0]
    assert entry[5] == "audit season; order placed"


def test_bulk_assign_of_a_filtered_team_is_one_ledger_entry(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    design = admin.directory.add_team("Design")
    designers = [
        admin.directory.add_person(PersonInput(f"D{n}", f"Designer {n}", "", design))
        for n in range(1, 4)
    ]
    license_id = catalog.license(admin, 10)
    dialog = shown(qtbot, AssignDialog(admin, license_id))
    assert isinstance(dialog, AssignDialog)
    assert dialog.picker.model.rowCount() == 5
    dialog.team_combo.setFocus()
    qtbot.keyClicks(dialog.team_combo, "Design")
    assert dialog.team_combo.currentText() == "Design"
    assert dialog.picker.model.rowCount() == 3
    select_all_shown(qtbot, dialog)
    assert dialog.summary.text() == "3 people selected · needs 3 seats · 10 free"
    qtbot.keyClicks(dialog.note, "design tools rollout")
    assert dialog.ok_button.text() == "Assign 3 seats"
    click(qtbot, dialog.ok_button)

    assert not dialog.isVisible()
    seats = SeatQuery(admin.ctx, license_id)
    rows = seats.rows(seats.keys())
    assert sorted(row[0] for row in rows.values()) == ["Designer 1", "Designer 2", "Designer 3"]
    assert {row[6] for row in rows.values()} == {"design tools rollout"}
    entries = ledger(admin, "seat.bulk_assign")
    assert len(entries) == 1
    assert ledger(admin, "seat.assign") == []
    assert dialog.result is not None
    assert len(dialog.result.assignment_ids) == len(designers)


def test_assign_per_core_counts_cores_per_device(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    admin.directory.add_device(DeviceInput("db-01", "SN1", None, 2, 8))
    admin.directory.add_device(DeviceInput("db-02", "SN2", None, 1, 2))
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=catalog.product,
            metric=Metric.PER_CORE,
            quantity=16,
            min_cores_per_processor=4,
        )
    )
    dialog = shown(qtbot, AssignDialog(admin, license_id))
    assert isinstance(dialog, AssignDialog)
    assert not dialog.team_combo.isVisible()
    select_all_shown(qtbot, dialog)
    # db-01: 8 cores; db-02: 1 processor × minimum 4 cores.
    assert dialog.summary.text() == "2 devices selected · needs 12 cores · 16 free"
    click(qtbot, dialog.ok_button)
    assert dialog.result is not None
    assert dialog.result.units == 12


def test_assign_per_core_refuses_a_device_whose_cores_are_unknown(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    admin.directory.add_device(DeviceInput("db-01", "SN1", None, 2, 8))
    admin.directory.add_device(DeviceInput("db-09"))  # nobody said how many cores
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=catalog.product, metric=Metric.PER_CORE, quantity=16)
    )
    dialog = shown(qtbot, AssignDialog(admin, license_id))
    assert isinstance(dialog, AssignDialog)
    select_all_shown(qtbot, dialog)
    assert not dialog.ok_button.isEnabled()
    assert dialog.message.text().startswith("The cores of 1 selected device are unknown")
    model = dialog.picker.view.model()
    shown_cores = {
        model.index(r, DeviceColumn.HOSTNAME).data(): model.index(r, DeviceColumn.CORES).data()
        for r in range(model.rowCount())
    }
    assert shown_cores == {"db-01": "8", "db-09": "unknown"}


def test_release_confirms_and_releases(qtbot: QtBot, admin: Services, catalog: Catalog) -> None:
    license_id = catalog.license(admin, 5)
    assigned = admin.seats.assign(license_id, people=catalog.people)
    dialog = shown(qtbot, ReleaseDialog(admin, assigned.assignment_ids))
    assert isinstance(dialog, ReleaseDialog)
    assert "Release 2 seats?" in dialog.intro.text()
    assert dialog.ok_button.text() == "Release"
    qtbot.keyClicks(dialog.reason, "project ended")
    click(qtbot, dialog.ok_button)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.released == 2
    assert list(SeatQuery(admin.ctx, license_id).keys()) == []
    assert ledger(admin, "seat.bulk_release")[0][5] == "project ended"


def test_release_of_a_released_seat_is_refused_inline(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    license_id = catalog.license(admin, 5)
    assigned = admin.seats.assign(license_id, people=catalog.people[:1])
    admin.seats.release(assigned.assignment_ids)
    dialog = shown(qtbot, ReleaseDialog(admin, assigned.assignment_ids))
    assert isinstance(dialog, ReleaseDialog)
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert "already released" in dialog.message.text()


def test_confirm_release_returns_true_once_released(
    qtbot: QtBot, admin: Services, catalog: Catalog
) -> None:
    license_id = catalog.license(admin, 5)
    assigned = admin.seats.assign(license_id, people=catalog.people[:1])

    def release_dialogs() -> list[ReleaseDialog]:
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, ReleaseDialog) and w.isVisible()
        ]

    def press_release() -> None:
        for dialog in release_dialogs():
            click(qtbot, dialog.ok_button)

    def give_up() -> None:  # so a broken dialog fails the test instead of hanging it
        for dialog in release_dialogs():
            dialog.reject()

    QTimer.singleShot(0, press_release)
    QTimer.singleShot(5000, give_up)
    assert confirm_release(None, admin, assigned.assignment_ids)
    assert list(SeatQuery(admin.ctx, license_id).keys()) == []


def test_release_departed_states_the_count(qtbot: QtBot, admin: Services, catalog: Catalog) -> None:
    license_id = catalog.license(admin, 5)
    admin.seats.assign(license_id, people=catalog.people)
    admin.directory.mark_left(catalog.people[0], dt.date.today())
    dialog = shown(qtbot, ReleaseDepartedDialog(admin))
    assert isinstance(dialog, ReleaseDepartedDialog)
    assert "Release 1 seat held by 1 person who left" in dialog.intro.text()
    click(qtbot, dialog.ok_button)
    assert dialog.released == 1
    assert len(SeatQuery(admin.ctx, license_id).keys()) == 1

    again = shown(qtbot, ReleaseDepartedDialog(admin))
    assert isinstance(again, ReleaseDepartedDialog)
    assert "No one who left" in again.intro.text()
    assert not again.ok_button.isEnabled()


# ------------------------------------------------------------------------- sign-in and start


def test_sign_in_wrong_password_stays_open(
    qtbot: QtBot, workspace: Workspace, admin: Services
) -> None:
    dialog = shown(qtbot, SignInDialog(workspace))
    assert isinstance(dialog, SignInDialog)
    assert DEMO_HINT not in [w.text() for w in dialog.findChildren(type(dialog.message))]
    qtbot.keyClicks(dialog.name_edit, "admin")
    qtbot.keyClicks(dialog.password_edit, "wrong")
    click(qtbot, dialog.ok_button)

    assert dialog.isVisible()
    assert dialog.services is None
    assert dialog.message.text() == "Wrong operator name or password for 'admin'."
    assert dialog.password_edit.text() == ""
    assert dialog.focusWidget() is dialog.password_edit
    assert not dialog.ok_button.isEnabled()

    qtbot.keyClicks(dialog.password_edit, ADMIN_PASSWORD)
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.services is not None
    assert dialog.services.actor.name == "admin"


def test_sign_in_after_repeated_failures_says_how_long_to_wait(
    qtbot: QtBot, workspace: Workspace, admin: Services
) -> None:
    now = [dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)]
    workspace.clock = lambda: now[0]
    dialog = shown(qtbot, SignInDialog(workspace, operator_name="admin"))
    assert isinstance(dialog, SignInDialog)
    for _ in range(3):
        qtbot.keyClicks(dialog.password_edit, "wrong guess")
        click(qtbot, dialog.ok_button)
        assert dialog.message.text() == "Wrong operator name or password for 'admin'."
    qtbot.keyClicks(dialog.password_edit, ADMIN_PASSWORD)
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert dialog.message.text() == "Too many failed sign-ins for 'admin'; try again in 1 s."
    assert dialog.password_edit.text() == ""
    # Administrators see the count in the operators list.
    listing = OperatorsDialog(admin)
    qtbot.addWidget(listing)
    cell = listing.model.index(listing.model.row_of(admin.actor.id), COL_FAILED)
    assert listing.model.headerData(COL_FAILED, Qt.Orientation.Horizontal) == "Failed sign-ins"
    assert cell.data() == "3"
    assert "3 failed sign-ins in a row" in cell.data(Qt.ItemDataRole.ToolTipRole)

    now[0] += dt.timedelta(seconds=1)
    qtbot.keyClicks(dialog.password_edit, ADMIN_PASSWORD)
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    rows = ledger(admin, "operator.sign_in_failed")
    assert len(rows) == 3
    assert all("program: window" in str(row) for row in rows)


def fill_create_page(qtbot: QtBot, dialog: StartDialog, path: Path, confirm: str) -> None:
    """Type a new database's file and administrator."""
    retype(qtbot, dialog.create_path, str(path))
    qtbot.keyClicks(dialog.admin_name, "jsmith")
    qtbot.keyClicks(dialog.full_name, "Jane Smith")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.confirm, confirm)


def test_start_creates_a_database_with_its_administrator(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = shown(qtbot, StartDialog(runner=SyncRunner()))
    assert isinstance(dialog, StartDialog)
    assert dialog.choice() == CREATE
    assert dialog.ok_button.text() == "Create database"
    target = tmp_path / "licenses.sqlite"
    fill_create_page(qtbot, dialog, target, PASSWORD[:-1] + PASSWORD[-1].upper())

    assert not dialog.ok_button.isEnabled()
    assert dialog.create_hint.text() == "The passwords do not match."
    assert invalid(dialog.confirm)
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert not target.exists()

    qtbot.keyClick(dialog.confirm, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.confirm, PASSWORD[-1])
    assert not invalid(dialog.confirm)
    click(qtbot, dialog.ok_button)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert target.exists()
    assert dialog.services is not None
    assert (dialog.services.actor.name, dialog.services.actor.role) == (
        "jsmith",
        Role.ADMINISTRATOR,
    )
    assert not dialog.workspace.needs_administrator()
    dialog.workspace.close()


def test_start_refuses_a_file_that_is_not_sqlite(qtbot: QtBot, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n")
    dialog = shown(qtbot, StartDialog(runner=SyncRunner()))
    assert isinstance(dialog, StartDialog)
    click(qtbot, dialog.open_choice)
    assert dialog.choice() == OPEN
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.open_path, str(notes))
    assert dialog.ok_button.text() == "Open database"
    click(qtbot, dialog.ok_button)

    assert dialog.isVisible()
    assert str(notes) in dialog.message.text()
    assert "is not a SQLite database" in dialog.message.text()
    assert invalid(dialog.open_path)
    with pytest.raises(RuntimeError):
        _ = dialog.workspace

    # Creating over it is refused the same way, and the user can choose again.
    click(qtbot, dialog.create_choice)
    fill_create_page(qtbot, dialog, notes, PASSWORD)
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert "is not a SQLite database" in dialog.message.text()
    assert invalid(dialog.create_path)
    assert notes.read_text() == "shopping list\n"


def test_start_opens_an_existing_database(qtbot: QtBot, tmp_path: Path) -> None:
    existing = Workspace.open(tmp_path / "shared.sqlite")
    existing.create_administrator("admin", "Ada", PASSWORD)
    existing.close()
    dialog = shown(qtbot, StartDialog(runner=SyncRunner()))
    assert isinstance(dialog, StartDialog)
    click(qtbot, dialog.open_choice)
    qtbot.keyClicks(dialog.open_path, str(tmp_path / "shared.sqlite"))
    qtbot.keyClick(dialog.open_path, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.services is None
    assert dialog.workspace.display_name.endswith("shared.sqlite")
    dialog.workspace.close()


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo database's folder, moved into the test's temporary folder."""
    folder = tmp_path / "data"
    monkeypatch.setattr(start_module, "data_dir", lambda: folder)
    return folder


FakeBuild = Callable[..., str]


def fake_build(steps: Callable[[Progress], None]) -> FakeBuild:
    """A stand-in for build_demo (the real one is tested with the services) that runs ``steps``."""

    def build(db: str, size: str, *, progress: Progress) -> str:
        assert size == "small"
        workspace = Workspace.open(db)
        workspace.create_administrator("admin", "Ada", PASSWORD)
        workspace.close()
        steps(progress)
        return "a tiny demo"

    return build


def test_start_builds_the_demo_with_progress(
    qtbot: QtBot, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def steps(progress: Progress) -> None:
        progress.stage("People")
        for done in range(3):
            progress(done, 2)

    monkeypatch.setattr("seatledger.demo.builder.build_demo", fake_build(steps))
    dialog = shown(qtbot, StartDialog(runner=SyncRunner()))
    assert isinstance(dialog, StartDialog)
    click(qtbot, dialog.demo_choice)
    assert dialog.ok_button.text() == "Build and open demo"
    assert str(demo_dir / "demo.sqlite") in dialog.demo_status.text()
    click(qtbot, dialog.ok_button)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.progress.isVisible()
    assert dialog.progress.label.text() == "People"
    assert dialog.progress.bar.value() == 2
    assert (demo_dir / "demo.sqlite").exists()
    dialog.workspace.close()


def test_start_demo_build_can_be_cancelled(
    qtbot: QtBot, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder: list[StartDialog] = []

    def steps(progress: Progress) -> None:
        progress.stage("Planning")
        progress(0, 2)
        click(qtbot, holder[0].progress.cancel_button)
        progress.stage("People")  # raises: the user cancelled

    monkeypatch.setattr("seatledger.demo.builder.build_demo", fake_build(steps))
    dialog = shown(qtbot, StartDialog(runner=SyncRunner()))
    assert isinstance(dialog, StartDialog)
    holder.append(dialog)
    click(qtbot, dialog.demo_choice)
    click(qtbot, dialog.ok_button)

    assert dialog.isVisible()
    assert dialog.message.text() == "Building the demo database was cancelled."
    assert not dialog.progress.isVisible()


def test_sign_in_shows_the_demo_operators(
    qtbot: QtBot, workspace: Workspace, admin: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Workspace, "is_demo", property(lambda _self: True))
    dialog = shown(qtbot, SignInDialog(workspace))
    assert isinstance(dialog, SignInDialog)
    notes = [w.text() for w in dialog.findChildren(type(dialog.message)) if w.isVisible()]
    assert DEMO_HINT in notes


def test_the_demo_note_arriving_while_the_operator_types_moves_nothing(
    qtbot: QtBot, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At start-up the sign-in window is up before the database has opened; when the demo's
    note arrives, the fields being typed in and the Sign in button stay where they were."""
    monkeypatch.setattr(Workspace, "is_demo", property(lambda _self: True))
    opening: Future[Workspace] = Future()
    dialog = shown(qtbot, SignInDialog(opening, display_name="demo.sqlite"))
    assert isinstance(dialog, SignInDialog)
    qtbot.keyClicks(dialog.name_edit, "adm")
    watched = (dialog.name_edit, dialog.password_edit, dialog.ok_button)

    def places() -> list[tuple[int, int, int, int]]:
        QApplication.processEvents()  # the layout request the note posts
        corners = [w.mapTo(dialog, QPoint(0, 0)) for w in watched]
        return [
            (p.x(), p.y(), w.width(), w.height()) for p, w in zip(corners, watched, strict=True)
        ]

    def notes() -> list[str]:
        return [w.text() for w in dialog.findChildren(type(dialog.message)) if w.isVisible()]

    before, size = places(), dialog.size()
    assert notes() == []
    opening.set_result(workspace)
    dialog.set_workspace(workspace)

    assert places() == before
    assert notes() == [DEMO_HINT]
    assert dialog.size() == size
    qtbot.keyClicks(dialog.name_edit, "in")
    assert dialog.name_edit.text() == "admin"


# ---------------------------------------------------------------------------------- operators


def test_operators_model_passes_the_model_tester(qtmodeltester: object, admin: Services) -> None:
    admin.operators.create("viewer", "Vic", Role.VIEWER, PASSWORD)
    dialog = OperatorsDialog(admin)
    try:
        qtmodeltester.check(dialog.model)  # type: ignore[attr-defined]
        assert dialog.model.rowCount() == 2
        assert dialog.model.index(1, 2).data() == "Viewer"
    finally:
        dialog.deleteLater()


def test_operators_refuse_demoting_the_last_administrator(qtbot: QtBot, admin: Services) -> None:
    dialog = shown(qtbot, OperatorsDialog(admin))
    assert isinstance(dialog, OperatorsDialog)
    selected = dialog.selected()
    assert selected is not None
    assert selected.name == "admin"
    click(qtbot, dialog.role_button)
    form = dialog.form
    assert isinstance(form, ChangeRoleDialog)
    assert not form.ok_button.isEnabled()
    form.role_combo.setFocus()
    qtbot.keyClicks(form.role_combo, "Viewer")
    assert form.role_combo.currentText() == "Viewer"
    qtbot.keyClicks(form.reason, "handing over")
    click(qtbot, form.ok_button)

    assert form.isVisible()
    assert "admin is the last active administrator" in form.message.text()
    assert [(o.name, o.role) for o in admin.operators.list()] == [("admin", Role.ADMINISTRATOR)]


def test_operators_add_an_operator(qtbot: QtBot, admin: Services) -> None:
    dialog = shown(qtbot, OperatorsDialog(admin))
    assert isinstance(dialog, OperatorsDialog)
    click(qtbot, dialog.add_button)
    form = dialog.form
    assert isinstance(form, AddOperatorDialog)
    qtbot.keyClicks(form.name_edit, "auditor1")
    qtbot.keyClicks(form.full_name, "Audrey")
    form.role_combo.setFocus()
    qtbot.keyClicks(form.role_combo, "Auditor")
    qtbot.keyClicks(form.password, "pw")
    assert form.hint.text() == "The password must have at least 12 characters."
    assert not form.ok_button.isEnabled()
    qtbot.keyClicks(form.password, "pwpwpwpwpwpw")
    qtbot.keyClicks(form.confirm, "pwpwpwpwpwpwpw")
    click(qtbot, form.ok_button)

    # Long enough, but guessable: the service refuses it at the field, saying why.
    assert form.isVisible()
    assert form.message.text().startswith("The password is too easy to guess.")
    assert "Repeats like" in form.message.text()
    assert invalid(form.password)
    assert dialog.model.rowCount() == 1

    retype(qtbot, form.password, PASSWORD)
    retype(qtbot, form.confirm, PASSWORD)
    click(qtbot, form.ok_button)
    assert form.result() == QDialog.DialogCode.Accepted
    assert dialog.model.rowCount() == 2
    chosen = dialog.selected()
    assert chosen is not None
    assert (chosen.name, chosen.role) == ("auditor1", Role.AUDITOR)


def test_operators_for_a_manager_only_reset_their_own_password(
    qtbot: QtBot, manager_services: Services
) -> None:
    dialog = shown(qtbot, OperatorsDialog(manager_services))
    assert isinstance(dialog, OperatorsDialog)
    assert not dialog.add_button.isEnabled()
    assert not dialog.role_button.isEnabled()
    assert dialog.password_button.isEnabled()  # their own row is selected
    dialog.view.selectRow(dialog.model.row_of(1))
    assert not dialog.password_button.isEnabled()


# ------------------------------------------------------------------------------------ errors


def test_error_box_puts_details_in_the_expandable_area(qtbot: QtBot) -> None:
    box = error_box(None, "Unexpected error: boom", "Traceback (most recent call last): ...")
    qtbot.addWidget(box)
    assert box.text() == "Unexpected error: boom"
    assert box.detailedText().startswith("Traceback")
    plain = error_box(None, "The file is locked.")
    qtbot.addWidget(plain)
    assert plain.detailedText() == ""


def test_the_start_dialog_opens_on_the_choice_it_is_asked_for(qtbot: QtBot) -> None:
    """First run makes a database; File > Open… opens one."""
    from seatledger.ui.dialogs.start import OPEN

    first = shown(qtbot, StartDialog(runner=SyncRunner()))
    assert first.create_choice.isChecked()
    later = shown(qtbot, StartDialog(runner=SyncRunner(), start_on=OPEN))
    assert later.open_choice.isChecked()
    assert not later.create_choice.isChecked()
