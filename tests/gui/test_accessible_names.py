"""Screen readers: every control the keyboard reaches, every table and every chart has a name.

The name is read the way a screen reader reads it, through Qt's accessibility interface
(``QAccessibleInterface.text(Name)``): a button's text, a field's buddy label, or the
``accessibleName`` set on it.  The walk covers every page of the main window and every dialog it
can open (wizard pages included, shown or not yet), on a database with licenses, people, devices
and seats so that tables and detail panes are filled in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QGraphicsView,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QTabBar,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from seatledger.ingest.formats import Kind
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.dialogs.alert_settings import AlertSettingsDialog
from seatledger.ui.dialogs.assign import AssignDialog, ReleaseDepartedDialog, ReleaseDialog
from seatledger.ui.dialogs.audit_schedules import ScheduleDialog
from seatledger.ui.dialogs.audit_wizard import AuditWizard
from seatledger.ui.dialogs.data_settings import DataSettingsDialog
from seatledger.ui.dialogs.forms import (
    DeviceDialog,
    EntitlementDialog,
    PersonDialog,
    ProductDialog,
    TeamDialog,
    VendorDialog,
)
from seatledger.ui.dialogs.import_wizard import ImportWizard, MapColumnsDialog
from seatledger.ui.dialogs.mark_left import MarkLeftDialog
from seatledger.ui.dialogs.operators import (
    AddOperatorDialog,
    ChangeRoleDialog,
    OperatorsDialog,
    ResetPasswordDialog,
)
from seatledger.ui.dialogs.organization import OrganizationDialog
from seatledger.ui.dialogs.rules import MapTitlesDialog, RuleDialog
from seatledger.ui.dialogs.sign_in import SignInDialog
from seatledger.ui.dialogs.signing_key import SigningKeyDialog
from seatledger.ui.dialogs.start import StartDialog
from seatledger.ui.main_window import PAGE_TYPES, MainWindow
from seatledger.ui.pages.dashboard import Card, UtilizationChart
from seatledger.ui.tasks import SyncRunner

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QTextEdit,
    QPlainTextEdit,
    QSlider,
    QGraphicsView,  # pyqtgraph's charts
    UtilizationChart,  # the dashboard's
    Card,
)
CHARTS_AND_TABLES = (QAbstractItemView, QGraphicsView, UtilizationChart)
# Parts of a composite control that screen readers announce as the control itself.
INSIDE_OF = (QComboBox, QAbstractSpinBox, QTabBar)
PARTS = (QHeaderView,)  # a table's column headers are read as the table's


def accessible_name(widget: QWidget) -> str:
    """What a screen reader calls the widget: its accessible name, else the label that names it
    (a buddy label, as the accessibility bridge relates them), else what Qt reports as its name.

    A combo box without either is unnamed: on Linux Qt reports its current choice as its name.
    """
    if widget.accessibleName().strip():
        return widget.accessibleName().strip()
    interface = QAccessible.queryAccessibleInterface(widget)
    if interface is None:
        return ""
    for label, _relation in interface.relations(QAccessible.RelationFlag.Label):
        text = label.text(QAccessible.Text.Name).replace("&", "").strip(" :")
        if text:
            return text
    if isinstance(widget, QComboBox):
        return ""
    return interface.text(QAccessible.Text.Name).replace("&", "").strip()


def _inside_composite(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, INSIDE_OF):
            return True
        parent = parent.parentWidget()
    return False


def unnamed(root: QWidget) -> list[str]:
    """The interactive widgets under ``root`` (itself included) without an accessible name."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if (
            not isinstance(widget, INTERACTIVE)
            or isinstance(widget, PARTS)
            or _inside_composite(widget)
        ):
            continue
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus and not isinstance(
            widget, CHARTS_AND_TABLES
        ):
            continue  # not reachable: scroll-bar buttons, the calendar's internals
        if widget.isHidden() and widget.parentWidget() is not None and _hidden_for_good(widget):
            continue
        if not accessible_name(widget):
            where = widget.parentWidget()
            context = type(where).__name__ if where is not None else ""
            found.append(
                f"{type(root).__name__}: {type(widget).__name__} "
                f"{widget.objectName() or '(no object name)'} in {context}"
            )
    return found


def _hidden_for_good(widget: QWidget) -> bool:
    """Widgets Qt makes and never shows (a QWizard's unused buttons, say)."""
    return isinstance(widget, QAbstractButton) and not widget.text() and widget.icon().isNull()


def test_the_walk_finds_a_nameless_field(qtbot: QtBot) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    field = QLineEdit(root)
    assert unnamed(root) == ["QWidget: QLineEdit (no object name) in QWidget"]
    field.setAccessibleName("Search")
    assert unnamed(root) == []


@pytest.fixture
def filled(org: Any, admin: Services) -> Services:
    """The tiny organization with a seat held, so the license detail shows its seats."""
    admin.seats.assign(org.acrobat, people=[org.people[0]])
    return admin


def test_every_page_names_its_controls(
    make_window: Callable[[Services], MainWindow], filled: Services, qtbot: QtBot
) -> None:
    window = make_window(filled)
    for number in range(len(PAGE_TYPES)):
        window.nav.setCurrentRow(number)
        page = window.page(number)
        if hasattr(page, "table") and page.table.model().rowCount():
            page.table.selectRow(0)  # the license's seats, a person's detail…
    # Every page, the navigation, the toolbar, the status bar and the lock screen.
    problems = unnamed(window)
    assert not problems, "without a name:\n" + "\n".join(problems)


@pytest.fixture
def dialogs(filled: Services, org: Any, workspace: Workspace, qtbot: QtBot) -> list[QDialog]:
    assignment_ids = filled.seats.assign(org.acrobat, people=[org.people[1]]).assignment_ids
    me = filled.operators.list()[0]
    made: list[QDialog] = [
        VendorDialog(filled),
        ProductDialog(filled),
        EntitlementDialog(filled),
        TeamDialog(filled),
        PersonDialog(filled),
        DeviceDialog(filled),
        AssignDialog(filled, org.acrobat),
        ReleaseDialog(filled, assignment_ids),
        ReleaseDepartedDialog(filled),
        MarkLeftDialog(filled, org.people[2]),
        OrganizationDialog(filled, org.people[2]),
        OperatorsDialog(filled),
        AddOperatorDialog(filled),
        ChangeRoleDialog(filled, me),
        ResetPasswordDialog(filled, me),
        MapTitlesDialog(filled, [("Contoso", "PDF Studio Pro")]),
        RuleDialog(filled),
        MapColumnsDialog(filled, Kind.PEOPLE, header=["Employee", "Name"], current={}),
        AlertSettingsDialog(filled),
        DataSettingsDialog(filled),
        SigningKeyDialog(filled),
        ScheduleDialog(filled),
        ImportWizard(filled, SyncRunner()),
        AuditWizard(filled, SyncRunner()),
        StartDialog(),
        SignInDialog(workspace),
    ]
    for dialog in made:
        qtbot.addWidget(dialog)
    return made


def test_every_dialog_names_its_controls(dialogs: list[QDialog]) -> None:
    problems = []
    for dialog in dialogs:
        dialog.show()
        problems += unnamed(dialog)
        dialog.hide()
    assert not problems, "without a name:\n" + "\n".join(problems)
