"""Seats ▸ Reclaim idle seats…: a rule set in the dialog, a run started, a seat kept with a
reason, the release refused while the grace period runs and done once it is over."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from seatledger.domain.licensing import Metric
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.reclaim import ReclaimDialog

LEFT = Qt.MouseButton.LeftButton


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_reclaim_from_the_dialog(qtbot: QtBot, admin: Services, tmp_path: Path) -> None:
    vendor = admin.catalog.add_vendor("Contoso Software")
    product = admin.catalog.add_product(vendor, "PDF Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=5)
    )
    for n, name in enumerate(("Ann", "Ben")):
        person = admin.directory.add_person(PersonInput(f"E{n}", name, f"{n}@example.com"))
        admin.seats.assign(license_id, people=[person])
    with admin.db.engine.begin() as conn:  # as if assigned a year ago, never used since
        conn.execute(text("UPDATE seat_assignment SET started_at = '2025-01-02 09:00:00'"))
    dialog = ReclaimDialog(admin)
    qtbot.addWidget(dialog)
    dialog.products.setCurrentIndex(dialog.products.findData(product))
    dialog.idle.setValue(60)
    dialog.grace.setValue(7)
    qtbot.mouseClick(dialog.set_rule_button, LEFT)
    assert [(r.product, r.idle_days, r.grace_days) for r in dialog.rules.rows] == [
        ("Contoso Software PDF Studio", 60, 7)
    ]
    qtbot.mouseClick(dialog.start_button, LEFT)
    assert [c.holder for c in dialog.candidates.rows] == ["Ann", "Ben"]
    written = dialog.write_notices(tmp_path)
    assert [p.name for p in written] == ["notices.csv", "notice-0001.eml", "notice-0002.eml"]
    dialog.candidates_table.selectRow(1)
    assert dialog.keep("Ben's manager: needed for the audit") == 1
    assert [c.kept_by for c in dialog.candidates.rows] == ["", "admin"]
    qtbot.mouseClick(dialog.finish_button, LEFT)
    assert "grace period runs until" in dialog.message.text()
    later = admin.reclaim.today() + dt.timedelta(days=7)
    admin.ctx.clock = lambda: dt.datetime.combine(later, dt.time(12), dt.UTC)
    qtbot.mouseClick(dialog.finish_button, LEFT)
    assert dialog.message.text() == "1 seat released."
    assert [c.outcome for c in dialog.candidates.rows] == ["released", "kept"]
    assert dialog.reclaimed.text().startswith(f"Reclaimed: {later:%Y-%m}: 1 seat")
    assert not dialog.keep_button.isEnabled()
