"""The audit wizard on the small demo, driven as a user drives it: every step, close, resume, sign.

Work runs inline (:class:`SyncRunner`), so each click returns with its outcome on screen.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from seatledger import cli
from seatledger.demo.builder import build_demo
from seatledger.services.audits import signing
from seatledger.services.audits.bundle.model import Decision, Trigger
from seatledger.services.audits.service import Status, Step
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.store.models import LedgerEntry
from seatledger.ui.dialogs.audit_schedules import ScheduleDialog
from seatledger.ui.dialogs.audit_wizard import AuditWizard
from seatledger.ui.main_window import MainWindow
from seatledger.ui.pages.alerts import AlertsPage
from seatledger.ui.pages.audits import AuditsPage
from seatledger.ui.tasks import SyncRunner

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

LEFT = Qt.MouseButton.LeftButton
NEXT = QWizard.WizardButton.NextButton
NO_MODIFIER = Qt.KeyboardModifier.NoModifier
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo, built once for the module."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    build_demo(str(path), "small")
    return path


@pytest.fixture
def auditor(demo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The demo's auditor signed in to a copy of the demo."""
    monkeypatch.setattr(signing, "DEFAULT_KDF", signing.TEST_KDF)
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, copy)
    workspace = Workspace.open(copy)
    yield workspace.sign_in("auditor", "demo")
    workspace.close()


def _wizard(qtbot: QtBot, services: Services, audit_id: int | None = None) -> AuditWizard:
    wizard = AuditWizard(services, SyncRunner(), None, audit_id)
    qtbot.addWidget(wizard)
    wizard.show()
    return wizard


def _next(qtbot: QtBot, wizard: AuditWizard) -> None:
    button = wizard.button(NEXT)
    assert button.isEnabled()
    qtbot.mouseClick(button, LEFT)


def _audit_actions(services: Services, audit_id: int) -> list[str]:
    with services.db.read() as session:
        return list(
            session.scalars(
                select(LedgerEntry.action)
                .where(LedgerEntry.entity_type == "audit", LedgerEntry.entity_id == str(audit_id))
                .order_by(LedgerEntry.seq)
            )
        )


@pytest.mark.slow
def test_every_step_close_resume_and_sign(
    qtbot: QtBot, auditor: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wizard = _wizard(qtbot, auditor)
    scope = wizard.scope_page
    scope.vendor.setCurrentIndex(scope.vendor.findText("Microsoft"))
    scope.trigger.setCurrentIndex(scope.trigger.findData(Trigger.SUSPICION.value))
    assert not wizard.button(NEXT).isEnabled()  # on suspicion needs a reason
    qtbot.keyClicks(scope.reason, "E3 seats look too few")
    _next(qtbot, wizard)

    # freshness: every warning must be acknowledged, and each acknowledgement is recorded
    assert wizard.currentId() == Step.FRESHNESS.order
    audit = wizard.audit
    assert audit is not None
    assert audit.status is Status.DRAFT
    assert audit.trigger_reason == "E3 seats look too few"
    page = wizard.freshness_page
    assert page.boxes
    assert not wizard.button(NEXT).isEnabled()
    for index in range(len(page.boxes)):
        box = page.boxes[index]
        qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))
    assert all(w.acknowledged for w in auditor.audits.freshness(audit.id))
    _next(qtbot, wizard)

    # position: computed (inline here), rows of the scope only
    assert wizard.currentId() == Step.POSITION.order
    rows = wizard.position_page.model.rows
    assert rows
    assert {r.vendor for r in rows} == {"Microsoft"}
    _next(qtbot, wizard)

    # findings: a remediation without an owner is refused inline; decide half of them
    findings = wizard.findings_page
    assert wizard.currentId() == Step.FINDINGS.order
    count = findings.model.rowCount()
    assert count >= 2
    findings.table.selectRow(0)
    findings.decision.setCurrentIndex(findings.decision.findData(Decision.REMEDIATE.value))
    qtbot.mouseClick(findings.record, LEFT)
    assert findings.message.text() == "Name who remediates the finding."
    qtbot.keyClicks(findings.owner, "IT service desk")
    qtbot.mouseClick(findings.record, LEFT)
    assert findings.model.row(0).decision is not None
    assert not wizard.button(NEXT).isEnabled()

    # close: the draft stays, at the findings step
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), LEFT)
    assert not wizard.isVisible()
    saved = auditor.audits.get(audit.id)
    assert saved.step is Step.FINDINGS
    assert saved.status is Status.DRAFT

    # resume where it stopped, with the decision kept
    wizard = _wizard(qtbot, auditor, audit.id)
    findings = wizard.findings_page
    assert wizard.currentId() == Step.FINDINGS.order
    assert findings.model.rowCount() == count
    assert sum(1 for t in findings.model.rows if t.decision is not None) == 1
    # the earlier steps are behind it: Back shows the position (computed when shown), and
    # replaying them recorded nothing
    before = len(_audit_actions(auditor, audit.id))
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), LEFT)
    assert wizard.currentId() == Step.POSITION.order
    assert wizard.position_page.model.rowCount() == len(rows)
    _next(qtbot, wizard)
    assert wizard.currentId() == Step.FINDINGS.order
    assert len(_audit_actions(auditor, audit.id)) == before
    for number in range(count):
        if findings.model.row(number).decision is not None:
            continue
        findings.table.selectRow(number)
        choice = Decision.ACCEPT if number % 2 else Decision.DISPUTE
        findings.decision.setCurrentIndex(findings.decision.findData(choice.value))
        findings.explanation.clear()
        qtbot.keyClicks(findings.explanation, "Reviewed with the service desk")
        qtbot.mouseClick(findings.record, LEFT)
    assert findings.summary.text().endswith("0 still open.")
    _next(qtbot, wizard)

    # attestation with a second approver (another operator, with their password)
    attestation = wizard.attestation_page
    assert wizard.currentId() == Step.ATTESTATION.order
    attestation.approver.setCurrentText("admin")
    qtbot.keyClicks(attestation.password, "wrong")
    _next(qtbot, wizard)
    assert wizard.currentId() == Step.ATTESTATION.order
    assert "Wrong operator name or password" in attestation.message.text()
    qtbot.keyClicks(attestation.password, "demo")
    _next(qtbot, wizard)
    assert wizard.currentId() == Step.SIGN.order
    assert wizard.audit is not None
    assert wizard.audit.status is Status.IN_REVIEW
    assert wizard.audit.approver == "admin"

    # sign: a new key's passphrase twice; the bundle is written and verifies
    sign = wizard.sign_page
    assert sign.repeat.isVisibleTo(sign)
    qtbot.keyClicks(sign.passphrase, "a long enough passphrase")
    qtbot.keyClicks(sign.repeat, "a different passphrase!")
    qtbot.mouseClick(sign.sign_button, LEFT)
    assert sign.message.text() == "The two passphrases differ."
    sign.repeat.clear()
    qtbot.keyClicks(sign.repeat, "a long enough passphrase")
    sign.folder.setText(str(tmp_path / "bundles"))
    sign.charts.setChecked(False)
    qtbot.mouseClick(sign.sign_button, LEFT)
    assert wizard.audit.status is Status.SIGNED
    assert "Key fingerprint (SHA-256)" in sign.result_label.text()
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    bundle = Path(wizard.audit.bundle_path)
    assert bundle.is_dir()
    assert (bundle.parent / f"{bundle.name}.zip").is_file()
    pinned = bundle / "signing-key.pub.pem"  # this test's own organization: its key is known
    assert cli.main(["verify", str(bundle), "--pubkey", str(pinned)]) == 0
    assert "VERIFIED" in capsys.readouterr().out

    actions = _audit_actions(auditor, audit.id)
    assert actions[0] == "audit.start"
    assert actions.count("audit.step") == 5
    assert actions.count("audit.acknowledge") == len(page.boxes)
    assert actions.count("audit.decide") == count
    assert actions[-4:] == ["audit.attest", "audit.approve", "audit.step", "audit.sign"]


def test_audits_page_lists_resumes_and_shows_due(
    qtbot: QtBot, auditor: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendors = {name: vid for vid, name in auditor.audits.vendors()}
    auditor.audits.set_schedule(vendors["Adobe"], 3, auditor.audits.today())
    audit_id = auditor.audits.start(vendors["Oracle"], Trigger.VENDOR_REQUEST)
    auditor.audits.set_step(audit_id, Step.FRESHNESS)
    page = AuditsPage(auditor)
    qtbot.addWidget(page)
    page.show()
    assert "Adobe: due" in page.due_label.text()
    assert page.model.rowCount() == 1
    assert page.model.row(0).vendor == "Oracle"
    assert page.resume_button.isEnabled()
    assert not page.folder_button.isEnabled()
    monkeypatch.setattr(AuditsPage, "runner", SyncRunner())
    wizard = page.resume()
    assert isinstance(wizard, AuditWizard)
    qtbot.addWidget(wizard)
    assert wizard.currentId() == Step.FRESHNESS.order
    wizard.reject()
    # "Start" in the due banner opens a scheduled audit of that vendor
    page._start_due(str(auditor.audits.due()[0].schedule_id))
    started = page.wizard
    assert isinstance(started, AuditWizard)
    qtbot.addWidget(started)
    assert started.scope_page.vendor.currentText() == "Adobe"
    assert started.scope_page.trigger.currentData() == Trigger.SCHEDULED.value
    started.reject()


def test_schedule_dialog_saves_a_schedule(qtbot: QtBot, auditor: Services) -> None:
    dialog = ScheduleDialog(auditor)
    qtbot.addWidget(dialog)
    dialog.vendor.setCurrentIndex(dialog.vendor.findText("JetBrains"))
    dialog.every.setValue(6)
    qtbot.mouseClick(dialog.save, LEFT)
    assert dialog.changed
    assert [(s.vendor, s.every_months) for s in auditor.audits.schedules()] == [("JetBrains", 6)]
    assert dialog.model.rowCount() == 1


def test_viewer_may_not_start_audits(qtbot: QtBot, demo_file: Path, tmp_path: Path) -> None:
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, copy)
    workspace = Workspace.open(copy)
    try:
        page = AuditsPage(workspace.sign_in("viewer", "demo"))
        qtbot.addWidget(page)
        assert not page.new_button.isEnabled()
        assert not page.schedules_button.isEnabled()
    finally:
        workspace.close()


def test_audit_this_from_a_license(
    qtbot: QtBot, workspace: Workspace, settings: QSettings, admin: Services, org: Any
) -> None:
    window = MainWindow(admin, workspace, runner=SyncRunner(), settings=settings)
    qtbot.addWidget(window)
    window.show()
    window.show_page(window.licenses)
    window.licenses.select_license(org.acrobat)
    action = window.licenses.audit_action
    assert action.isEnabled()
    action.trigger()
    assert window.current_page() is window.audits
    wizard = window.audits.wizard
    assert isinstance(wizard, AuditWizard)
    qtbot.addWidget(wizard)
    scope = wizard.scope_page
    assert scope.vendor.currentText() == "Contoso Software"
    assert scope.trigger.currentData() == Trigger.SUSPICION.value
    ticked = [
        scope.products.item(i).text()
        for i in range(scope.products.count())
        if scope.products.item(i).checkState() == Qt.CheckState.Checked
    ]
    assert ticked == ["PDF Studio"]
    assert not wizard.button(NEXT).isEnabled()  # the reason comes first
    qtbot.keyClicks(scope.reason, "Seats look too few for the team")
    _next(qtbot, wizard)
    [audit] = admin.audits.audits()
    assert audit.trigger is Trigger.SUSPICION
    assert audit.products == ("PDF Studio",)
    wizard.reject()


def test_audit_from_an_alert(
    qtbot: QtBot, workspace: Workspace, settings: QSettings, admin: Services, org: Any
) -> None:
    # four seats of a three-seat license: the over-commit raises an alert about the license
    admin.seats.assign(org.acrobat, people=org.people[:4], over_commit=True, reason="Project surge")
    window = MainWindow(admin, workspace, runner=SyncRunner(), settings=settings)
    qtbot.addWidget(window)
    window.show()
    window.show_alerts(0)
    alerts = window.current_page()
    assert isinstance(alerts, AlertsPage)
    qtbot.waitUntil(lambda: alerts.model.rowCount() > 0)
    row = next(
        i for i, a in enumerate(alerts.model.rows) if a.entity_type in ("entitlement", "product")
    )
    alerts.table.selectRow(row)
    assert alerts.audit_button.isEnabled()
    qtbot.mouseClick(alerts.audit_button, LEFT)
    assert window.current_page() is window.audits
    wizard = window.audits.wizard
    assert isinstance(wizard, AuditWizard)
    qtbot.addWidget(wizard)
    scope = wizard.scope_page
    assert scope.vendor.currentText() == "Contoso Software"
    assert scope.trigger.currentData() == Trigger.SUSPICION.value
    assert scope.reason.text().startswith("Alert: ")
    wizard.reject()


# ------------------------------------------------------------------------ keyboard only


def _focused(wizard: AuditWizard) -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    assert widget is wizard or wizard.isAncestorOf(widget), f"focus left the wizard: {widget}"
    return widget


def _key(wizard: AuditWizard, key: Qt.Key, modifier: Qt.KeyboardModifier = NO_MODIFIER) -> None:
    """Press one key where the keyboard focus is, as a keyboard user would."""
    QTest.keyClick(_focused(wizard), key, modifier)


def _type(wizard: AuditWizard, text: str) -> None:
    QTest.keyClicks(_focused(wizard), text)


@pytest.mark.slow
def test_the_keyboard_alone_runs_an_audit_from_scope_to_signature(
    qtbot: QtBot, auditor: Services, tmp_path: Path
) -> None:
    wizard = _wizard(qtbot, auditor)
    with qtbot.waitActive(wizard):
        wizard.activateWindow()
    scope = wizard.scope_page

    # scope: the focus starts on the vendor; typing a name picks it; Return goes on
    qtbot.waitUntil(lambda: QApplication.focusWidget() is scope.vendor)
    _type(wizard, "Microsoft")
    assert scope.vendor.currentText() == "Microsoft"
    _key(wizard, Qt.Key.Key_Return)
    assert wizard.currentId() == Step.FRESHNESS.order

    # freshness: Space ticks the warning in focus; the focus moves to the next one, then to
    # Next (never to Back, where Return would go back to the scope)
    freshness = wizard.freshness_page
    warnings = len(freshness.boxes)
    assert warnings
    for _number in range(warnings):
        qtbot.waitUntil(lambda: QApplication.focusWidget() in freshness.boxes)
        _key(wizard, Qt.Key.Key_Space)
    next_button = wizard.button(NEXT)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is next_button)
    assert wizard.audit is not None
    assert all(w.acknowledged for w in auditor.audits.freshness(wizard.audit.id))
    _key(wizard, Qt.Key.Key_Return)
    assert wizard.currentId() == Step.POSITION.order

    # position: the table has the focus; Return goes on to the findings
    qtbot.waitUntil(lambda: QApplication.focusWidget() is wizard.position_page.table)
    _key(wizard, Qt.Key.Key_Return)
    findings = wizard.findings_page
    assert wizard.currentId() == Step.FINDINGS.order

    # findings: Alt+E reaches the explanation; Return records the decision on the selected
    # finding and selects the next open one; when none is left, the focus is on Next
    qtbot.waitUntil(lambda: QApplication.focusWidget() is findings.table)
    count = findings.model.rowCount()
    assert count >= 2
    for number in range(count):
        _key(wizard, Qt.Key.Key_E, ALT)
        assert QApplication.focusWidget() is findings.explanation
        _type(wizard, f"Reviewed {number + 1}")
        _key(wizard, Qt.Key.Key_Return)
        assert wizard.currentId() == Step.FINDINGS.order  # Return recorded, it did not move on
    assert all(t.decision is not None for t in findings.model.rows)
    assert {t.decision.decision for t in findings.model.rows if t.decision} == {Decision.ACCEPT}
    qtbot.waitUntil(lambda: QApplication.focusWidget() is next_button)
    _key(wizard, Qt.Key.Key_Return)

    # attestation: the statement has the focus, Tab leaves it for the approver (no tab is
    # typed into it); Return in the approver's password approves here without moving on
    attestation = wizard.attestation_page
    assert wizard.currentId() == Step.ATTESTATION.order
    qtbot.waitUntil(lambda: QApplication.focusWidget() is attestation.statement)
    _key(wizard, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is attestation.approver  # an editable combo box
    assert "\t" not in attestation.statement.toPlainText()
    _type(wizard, "admin")
    _key(wizard, Qt.Key.Key_P, ALT)
    assert QApplication.focusWidget() is attestation.password
    _type(wizard, "demo")
    _key(wizard, Qt.Key.Key_Return)
    assert wizard.currentId() == Step.ATTESTATION.order
    assert attestation.approval.text().startswith("Approved by admin")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is next_button)
    _key(wizard, Qt.Key.Key_Return)

    # sign: passphrase, Tab, the same again, Alt+F for the folder, then Return signs; the
    # focus lands on Done, and Return closes the wizard with the audit signed
    sign = wizard.sign_page
    assert wizard.currentId() == Step.SIGN.order
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sign.passphrase)
    _type(wizard, "a long enough passphrase")
    _key(wizard, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is sign.repeat
    _type(wizard, "a long enough passphrase")
    _key(wizard, Qt.Key.Key_F, ALT)
    assert QApplication.focusWidget() is sign.folder
    _key(wizard, Qt.Key.Key_A, CTRL)
    _type(wizard, str(tmp_path / "bundles"))
    _key(wizard, Qt.Key.Key_U, ALT)  # the charts check box: Alt+U unticks it (faster)
    qtbot.waitUntil(lambda: not sign.charts.isChecked())  # a mnemonic clicks as if animated
    _key(wizard, Qt.Key.Key_Return)
    assert wizard.audit is not None
    assert wizard.audit.status is Status.SIGNED, sign.message.text()
    done = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is done)
    _key(wizard, Qt.Key.Key_Return)
    assert not wizard.isVisible()
    assert wizard.result() == QWizard.DialogCode.Accepted
    assert auditor.audits.get(wizard.audit.id).status is Status.SIGNED


def _at_the_sign_step(auditor: Services) -> tuple[int, int]:
    """(Microsoft's vendor id, an audit of it) attested and at the signing step."""
    microsoft = next(v.id for v in auditor.catalog.vendors() if v.name == "Microsoft")
    audit_id = auditor.audits.start(microsoft, Trigger.VENDOR_REQUEST)
    for warning in auditor.audits.freshness(audit_id):
        auditor.audits.acknowledge(audit_id, warning.topic, warning.text)
    auditor.audits.attest(audit_id, "Complete to my knowledge.")
    auditor.audits.set_step(audit_id, Step.SIGN)
    return microsoft, audit_id


def test_the_wizard_refuses_to_sign_rows_changed_behind_the_ledger_s_back(
    qtbot: QtBot, auditor: Services, tmp_path: Path
) -> None:
    microsoft, audit_id = _at_the_sign_step(auditor)
    with auditor.db.engine.begin() as conn:
        license_id = conn.exec_driver_sql(
            "SELECT e.id FROM entitlement e JOIN product p ON p.id = e.product_id "
            f"WHERE p.vendor_id = {microsoft} ORDER BY e.id LIMIT 1"
        ).scalar_one()
        conn.exec_driver_sql(
            f"UPDATE entitlement SET quantity = quantity + 500 WHERE id = {license_id}"
        )
    wizard = _wizard(qtbot, auditor, audit_id)
    assert wizard.currentId() == Step.SIGN.order
    sign = wizard.sign_page
    qtbot.keyClicks(sign.passphrase, "a long enough passphrase")
    qtbot.keyClicks(sign.repeat, "a long enough passphrase")
    sign.folder.setText(str(tmp_path / "bundles"))
    sign.charts.setChecked(False)
    qtbot.mouseClick(sign.sign_button, LEFT)
    assert sign.message.text().startswith(
        "1 row in the scope of this audit is not what the activity ledger says, so no report "
        f"is signed: entitlement {license_id}: quantity is "
    )
    assert auditor.audits.get(audit_id).status is Status.IN_REVIEW
    assert not (tmp_path / "bundles").exists() or not any((tmp_path / "bundles").iterdir())


def test_the_charts_are_read_off_the_gui_thread_and_drawn_into_the_report(
    qtbot: QtBot, auditor: Services, tmp_path: Path
) -> None:
    # Issue 17: "Signing gives no feedback for ~11 s after Sign and export": the usage behind
    # the charts was read on the GUI thread before the progress strip appeared.  It is read by
    # a task the strip follows; only the drawing happens on the GUI thread.
    _microsoft, audit_id = _at_the_sign_step(auditor)
    wizard = _wizard(qtbot, auditor, audit_id)
    sign = wizard.sign_page
    shown: list[str] = []
    real_run = sign.strip.run

    def run(runner: Any, task: Any, text: str) -> None:
        shown.append(text)
        real_run(runner, task, text)

    sign.strip.run = run  # type: ignore[method-assign]
    qtbot.keyClicks(sign.passphrase, "a long enough passphrase")
    qtbot.keyClicks(sign.repeat, "a long enough passphrase")
    sign.folder.setText(str(tmp_path / "bundles"))
    assert sign.charts.isChecked()
    qtbot.mouseClick(sign.sign_button, LEFT)
    assert shown[-2:] == ["Reading the usage for the charts…", "Writing and signing the bundle…"]
    assert auditor.audits.get(audit_id).status is Status.SIGNED
    bundle = Path(auditor.audits.get(audit_id).bundle_path)
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert report["charts"], "the report carries the usage charts"
