"""Server lines beside the desktop position: the audit wizard's position step.

The estate is the RVTools fixture of ``tests/services/test_server_position.py`` (its figures are
counted by hand there): Microsoft's lines are Windows Server (208 required, 192 bought) and SQL
Server (8 required, 4 bought: 4 short), on the organization's own screens by their real names.
"""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot
from tests.services.test_server_position import estate  # noqa: F401 (the fixture)

from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.audits.service import Step
from seatledger.services.operators.session import Services
from seatledger.services.servers.position import SQL, WINDOWS
from seatledger.ui.dialogs.audit_wizard import AuditWizard
from seatledger.ui.tasks import SyncRunner

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def test_the_wizard_shows_the_vendors_server_lines_with_what_stands_behind_them(
    qtbot: QtBot,
    estate: Services,  # noqa: F811 (the fixture)
) -> None:
    microsoft = next(v.id for v in estate.catalog.vendors() if v.name == "Microsoft")
    audit_id = estate.audits.start(microsoft, Trigger.VENDOR_REQUEST)
    for warning in estate.audits.freshness(audit_id):
        estate.audits.acknowledge(audit_id, warning.topic, warning.text)
    estate.audits.set_step(audit_id, Step.POSITION)
    wizard = AuditWizard(estate, SyncRunner(), None, audit_id)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.currentId() == Step.POSITION.order
    view = wizard.position_page.servers
    assert view.isVisible()
    lines = view.model.rows
    assert [(ln.family, ln.required, ln.purchased, ln.short) for ln in lines] == [
        (WINDOWS, 208, 192, 0),
        (SQL, 8, 4, 4),
    ]
    assert "short: SQL Server" in view.summary.text()
    # Select SQL Server: its reason, the host and the VM behind its 8.
    view.table.selectRow(1)
    why = view.why.toPlainText()
    assert "8 core licenses; 4 bought" in why
    assert "esx03.corp.example 8:" in why
    assert "VMs: sql01" in why
    assert "Oracle" not in why  # another vendor's servers are not this audit's


@pytest.mark.usefixtures("org")
def test_a_vendor_without_servers_shows_no_server_lines(qtbot: QtBot, admin: Services) -> None:
    vendor = next(v.id for v in admin.catalog.vendors() if v.name == "Contoso Software")
    audit_id = admin.audits.start(vendor, Trigger.VENDOR_REQUEST)
    for warning in admin.audits.freshness(audit_id):
        admin.audits.acknowledge(audit_id, warning.topic, warning.text)
    admin.audits.set_step(audit_id, Step.POSITION)
    wizard = AuditWizard(admin, SyncRunner(), None, audit_id)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.currentId() == Step.POSITION.order
    assert not wizard.position_page.servers.isVisible()
