"""Renewal reminders in the window: the license form's notice fields, the status bar on opening,
and the calendar export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import icalendar
import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from seatledger.domain.licensing import Metric
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.forms import EntitlementDialog
from seatledger.ui.main_window import MainWindow

from .test_dialogs import click, retype, shown

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen cannot size dialogs

MakeWindow = Callable[[Services], MainWindow]
TODAY = dt.date.today()


def test_the_license_form_keeps_notice_periods_and_a_cancel_by_date(
    qtbot: QtBot, admin: Services
) -> None:
    vendor = admin.catalog.add_vendor("Figma")
    product = admin.catalog.add_product(vendor, "Professional")
    dialog = shown(qtbot, EntitlementDialog(admin))
    assert isinstance(dialog, EntitlementDialog)
    dialog.product_combo.setCurrentIndex(dialog.product_combo.findData(product))
    retype(qtbot, dialog.quantity, "9")
    assert not dialog.cancel_by.isEnabled()  # "None in the contract" until unticked
    retype(qtbot, dialog.notice_days, "every week")
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert "Notice periods: 'every week' is not a number of days" in dialog.message.text()

    retype(qtbot, dialog.notice_days, "30, 120")
    dialog.no_cancel_by.setChecked(False)
    assert dialog.cancel_by.isEnabled()
    dialog.cancel_by.setDate(dialog.term_end.date().addDays(-60))
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved_id is not None
    data, _ = admin.reads.entitlement(dialog.saved_id)
    assert data.notice_days == "120, 30"
    assert data.term_end is not None
    assert data.cancel_by == data.term_end - dt.timedelta(days=60)

    dialog.no_end.setChecked(True)  # a perpetual license has nothing to renew
    assert not dialog.notice_days.isEnabled()
    assert not dialog.cancel_by.isEnabled()


def test_the_window_says_what_needs_a_renewal_decision_and_exports_the_calendar(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, tmp_path: Path
) -> None:
    product = admin.catalog.add_product(admin.catalog.add_vendor("Adobe"), "Acrobat Pro")
    end = TODAY + dt.timedelta(days=20)
    admin.catalog.add_entitlement(
        EntitlementInput(product, Metric.PER_USER, 40, term_end=end, po_reference="PO-1")
    )
    window = make_window(admin)
    qtbot.waitUntil(lambda: bool(window.renewals_due))
    assert window.renewals_label.isVisible()
    assert window.renewals_label.text() == "Renewals due: 1"
    assert f"Adobe Acrobat Pro (PO-1): ends on {end}, in 20 days" in (
        window.renewals_label.toolTip()
    )
    assert window.menu_actions["renewal_calendar"].isEnabled()
    window.write_renewals(tmp_path / "renewals")  # the extension is added
    parsed = icalendar.Calendar.from_ical((tmp_path / "renewals.ics").read_bytes())
    assert [e.decoded("DTSTART") for e in parsed.walk("VEVENT")] == [end]
    assert "Wrote 1 renewal date of the next two years" in window.statusBar().currentMessage()
