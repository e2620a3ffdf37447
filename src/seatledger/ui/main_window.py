"""The main window: navigation, pages, menus, toolbar and status bar of one signed-in session.

Actions are greyed out by role (the services refuse anyway).  Whenever a change commits, the
pages that show one of its entity types reload (the one on screen at once, the others when shown;
see :class:`~seatledger.ui.pages.Page`) and the navigation counts are recounted in the background.
"""

from __future__ import annotations

import html
import platform
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import (
    QEvent,
    QSettings,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QSystemTrayIcon,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from seatledger import APP_NAME, __version__
from seatledger.domain.ledger import Verdict
from seatledger.domain.renewals import Reminder
from seatledger.domain.roles import Permission, allows
from seatledger.errors import KnownError
from seatledger.progress import Progress
from seatledger.services.catalog.queries import EntitlementState
from seatledger.services.ledger.state import StateReport
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace, describe_upgrade
from seatledger.text import agree, plural
from seatledger.ui.changes import CommittedChanges
from seatledger.ui.pages import Page
from seatledger.ui.pages.activity import ActivityPage
from seatledger.ui.pages.alerts import AlertsPage
from seatledger.ui.pages.audits import AuditsPage
from seatledger.ui.pages.dashboard import DashboardPage
from seatledger.ui.pages.devices import DevicesPage
from seatledger.ui.pages.licenses import LicensesPage
from seatledger.ui.pages.people import PeoplePage
from seatledger.ui.pages.reconciliation import ReconciliationPage
from seatledger.ui.pages.reviews import ReviewsPage
from seatledger.ui.pages.servers import ServersPage
from seatledger.ui.pages.titles import SoftwareTitlesPage
from seatledger.ui.pages.usage import UsagePage
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.recent import forget_databases, recent_databases, remember_database
from seatledger.ui.table_model import AnyIndex
from seatledger.ui.tasks import Runner, Task
from seatledger.ui.theme import LIGHT, SETTING, Theme, saved_theme, theme_keeper
from seatledger.ui.widgets import restore_layout, save_layout

PAGE_TYPES: tuple[type[Page], ...] = (
    DashboardPage,
    LicensesPage,
    ReconciliationPage,
    PeoplePage,
    DevicesPage,
    SoftwareTitlesPage,
    ActivityPage,
    UsagePage,
    AuditsPage,
    AlertsPage,
    ServersPage,
    ReviewsPage,
)
# By type, not position: pages can be inserted without renumbering these.
DASHBOARD, LICENSES, RECONCILIATION, USAGE, PEOPLE, DEVICES, TITLES, ACTIVITY, ALERTS = (
    PAGE_TYPES.index(page)
    for page in (
        DashboardPage,
        LicensesPage,
        ReconciliationPage,
        UsagePage,
        PeoplePage,
        DevicesPage,
        SoftwareTitlesPage,
        ActivityPage,
        AlertsPage,
    )
)
AUDITS = PAGE_TYPES.index(AuditsPage)
REVIEWS = PAGE_TYPES.index(ReviewsPage)
COUNT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
_SELECTED = QStyle.StateFlag.State_Selected
_PLACEHOLDER = QPalette.ColorRole.PlaceholderText
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_RENEWALS_STYLE = "QLabel { color: palette(link); font-weight: bold; padding: 0 6px; }"
_DEMO_STYLE = (
    f"QLabel {{ background: {LIGHT.badge[0]}; color: {LIGHT.badge[1]}; font-weight: bold;"
    " border-radius: 3px; padding: 1px 8px; }"
)


class _NavDelegate(QStyledItemDelegate):
    """Navigation entries with their count right-aligned in a quieter colour."""

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        """Roomier than a list row."""
        size = super().sizeHint(option, index)
        return QSize(size.width() + 48, size.height() + 14)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """The label as usual, then the count."""
        opt = QStyleOptionViewItem(option)
        opt.rect = opt.rect.adjusted(6, 0, 0, 0)
        super().paint(painter, opt, index)
        count = index.data(COUNT_ROLE)
        if count is None:
            return
        palette: QPalette = option.palette
        selected = bool(option.state & _SELECTED)
        painter.save()
        painter.setPen(palette.color(_HIGHLIGHTED_TEXT if selected else _PLACEHOLDER))
        rect = option.rect.adjusted(0, 0, -10, 0)
        painter.drawText(rect, _RIGHT, f"{count:,}")
        painter.restore()


class LockScreen(QWidget):
    """What a locked window shows instead of its pages: the database, and a way back in."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lock_screen")
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.sign_in_button = QPushButton("&Sign in…")
        self.sign_in_button.setDefault(True)
        self.quit_button = QPushButton("&Quit")
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.quit_button)
        buttons.addStretch(1)
        box = QVBoxLayout()
        box.setSpacing(12)
        box.addStretch(2)
        box.addWidget(self.title)
        box.addWidget(self.text)
        box.addLayout(buttons)
        box.addStretch(3)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(box, 2)
        outer.addStretch(1)


def _separator(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


def _counts(services: Services) -> dict[str, int]:
    """How many licenses, people, devices and ledger entries there are (run in the background)."""
    found = services.reads.counts()
    return {
        "licenses": found.licenses,
        "people": found.people,
        "devices": found.devices,
        "activity": found.ledger,
        "alerts": services.alerts.open_count(),
    }


STATE_SHOWN = 20  # differences listed in the verification's message; the count says the rest


def verdict_text(verdict: Verdict, state: StateReport | None = None) -> tuple[bool, str, str]:
    """Whether the ledger (and, when compared, the rows it accounts for) verified, the
    headline, and the details to show."""
    if verdict.failure is None:
        head = f"Head hash:\n{verdict.head.hex()}"
        if state is None:
            return (
                True,
                f"The ledger is intact: {plural(verdict.entries, 'entry')} verified.",
                head,
            )
        rows = sum(state.rows.values())
        lines = [f"{state.summary()}."]
        lines += [d.message() for d in state.differences[:STATE_SHOWN]]
        if state.total > STATE_SHOWN:
            lines.append(f"...and {state.total - STATE_SHOWN:,} more.")
        lines += state.coverage()
        details = "\n".join([head, "", *lines])
        if state.ok:
            return (
                True,
                f"The ledger is intact: {plural(verdict.entries, 'entry')} verified, and "
                f"{plural(rows, 'row')} {agree(rows, 'is')} what it says.",
                details,
            )
        return (
            False,
            f"The ledger is intact, but the database differs from it in "
            f"{plural(state.total, 'place')}; the first: "
            f"{state.differences[0].message()}.",
            details,
        )
    return (
        False,
        f"The ledger is BROKEN: {verdict.failure.message()}.",
        f"The {plural(verdict.entries, 'entry')} before it "
        f"{agree(verdict.entries, 'verifies')}.\nLast good hash:\n{verdict.head.hex()}",
    )


class MainWindow(QMainWindow):
    """The window of one signed-in session over one workspace.

    Signals:
        open_requested(object, object): the user opened another database and signed in to it;
            carries the new (services, workspace).  The application replaces this window.
    """

    open_requested = Signal(object, object)

    def __init__(
        self,
        services: Services,
        workspace: Workspace,
        *,
        runner: Runner | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.workspace = workspace
        self.runner = runner or Runner()
        self._settings = settings if settings is not None else QSettings()
        self._closed = False
        self.verify_box: QMessageBox | None = None
        self.setObjectName("main_window")
        self.setMinimumSize(760, 480)

        self._painted = False
        self._pages: list[Page | None] = [None] * len(PAGE_TYPES)
        self.changes = CommittedChanges(services, self)
        self.changes.committed.connect(self._committed)

        self.stack = QStackedWidget(self)
        self.nav = QListWidget(self)
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName("Pages")
        self.nav.setAccessibleDescription("Ctrl+1 to Ctrl+9 go to a page directly")
        self.nav.setItemDelegate(_NavDelegate(self.nav))
        self.nav.setFrameShape(QListWidget.Shape.NoFrame)
        self.nav.setFixedWidth(max(170, self.fontMetrics().horizontalAdvance("Licenses") * 3))
        self.nav.setAutoFillBackground(True)
        for page_type in PAGE_TYPES:
            self.stack.addWidget(QWidget(self.stack))  # replaced by the page when first shown
            self.nav.addItem(QListWidgetItem(page_type.title))
        self.nav.currentRowChanged.connect(self._show_page)

        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        # The pages, or (locked) a screen that shows none of the data until someone signs in.
        self.screens = QStackedWidget(self)
        self.screens.addWidget(central)
        self.lock_screen = LockScreen(self.screens)
        self.lock_screen.sign_in_button.clicked.connect(lambda: self.unlock())  # noqa: PLW0108 (clicked passes a bool)
        self.lock_screen.quit_button.clicked.connect(self.close)
        self.screens.addWidget(self.lock_screen)
        self.setCentralWidget(self.screens)
        remember_database(self._settings, workspace.location)

        keeper = theme_keeper()
        if saved_theme(self._settings) is not keeper.theme:
            keeper.apply(saved_theme(self._settings))
        self.menu_actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self.setWindowTitle(self.title_text())

        self._restore_settings()
        self._update_actions()
        self._tray: QSystemTrayIcon | None = None
        self.renewals_due: list[Reminder] = []

    # ------------------------------------------------------------------ pages (built when shown)
    def page(self, number: int) -> Page:
        """A page, built on first use (a page's queries cost nothing until it is shown)."""
        built = self._pages[number]
        if built is None:
            built = PAGE_TYPES[number](self.services, self)
            built.selection_changed.connect(self._update_actions)
            built.status_message.connect(self._status)
            built.import_requested.connect(self.import_kind)
            if isinstance(built, LicensesPage):
                built.chart_requested.connect(self.chart_license)
                built.audit_requested.connect(self.audit_license)
            if isinstance(built, DashboardPage):
                self._wire_dashboard(built)
            if isinstance(built, AlertsPage):
                built.audit_requested.connect(self.audit_alert)
            built.restore_state(self._settings)
            placeholder = self.stack.widget(number)
            self.stack.insertWidget(number, built)
            if placeholder is not None:
                self.stack.removeWidget(placeholder)
                placeholder.deleteLater()
            self._pages[number] = built
        return built

    def _wire_dashboard(self, dashboard: DashboardPage) -> None:
        dashboard.licenses_requested.connect(self.show_licenses)
        dashboard.license_requested.connect(self.show_license)
        dashboard.findings_requested.connect(self.show_findings)
        dashboard.alerts_requested.connect(self.show_alerts)
        dashboard.audits_requested.connect(lambda: self.nav.setCurrentRow(AUDITS))
        dashboard.reviews_requested.connect(lambda: self.nav.setCurrentRow(REVIEWS))
        dashboard.reclaim_requested.connect(self.reclaim_idle)
        dashboard.license_form_requested.connect(self.new_license)

    def show_licenses(self, state: object) -> None:
        """Licenses, narrowed to a state (a dashboard card)."""
        self.show_page(self.licenses)
        if isinstance(state, EntitlementState):
            self.licenses.show_state(state)

    def show_license(self, entitlement_id: int) -> None:
        """One license, selected in Licenses."""
        self.show_page(self.licenses)
        self.licenses.select_license(entitlement_id)

    def show_findings(self) -> None:
        """The Reconciliation page's findings (computed as the page opens)."""
        page = self.page(RECONCILIATION)
        assert isinstance(page, ReconciliationPage)
        self.show_page(page)
        page.tabs.setCurrentIndex(1)

    def show_alerts(self, alert_id: int = 0) -> None:
        """The alerts list, on one alert if given."""
        page = self.page(ALERTS)
        assert isinstance(page, AlertsPage)
        self.show_page(page)
        if alert_id:
            page.show_alert(alert_id)

    @property
    def dashboard(self) -> DashboardPage:
        """The dashboard."""
        page = self.page(DASHBOARD)
        assert isinstance(page, DashboardPage)
        return page

    def built_pages(self) -> list[Page]:
        """The pages built so far."""
        return [page for page in self._pages if page is not None]

    @property
    def licenses(self) -> LicensesPage:
        """The licenses page."""
        page = self.page(LICENSES)
        assert isinstance(page, LicensesPage)
        return page

    @property
    def people(self) -> PeoplePage:
        """The people page."""
        page = self.page(PEOPLE)
        assert isinstance(page, PeoplePage)
        return page

    @property
    def devices(self) -> DevicesPage:
        """The devices page."""
        page = self.page(DEVICES)
        assert isinstance(page, DevicesPage)
        return page

    @property
    def activity(self) -> ActivityPage:
        """The activity page."""
        page = self.page(ACTIVITY)
        assert isinstance(page, ActivityPage)
        return page

    @property
    def usage(self) -> UsagePage:
        """The usage page."""
        page = self.page(USAGE)
        assert isinstance(page, UsagePage)
        return page

    @property
    def audits(self) -> AuditsPage:
        """The audits page."""
        page = self.page(AUDITS)
        assert isinstance(page, AuditsPage)
        return page

    def audit_license(self, entitlement_id: int, reason: str = "") -> None:
        """Start an audit on suspicion of a license's product (the wizard asks for the reason)."""
        from seatledger.services.audits.bundle.model import Trigger  # noqa: PLC0415

        try:
            vendor_id, product_id, _title = self.services.audits.vendor_of_entitlement(
                entitlement_id
            )
        except KnownError as exc:
            self.current_page().report(exc)
            return
        self.show_page(self.audits)
        self.audits.new_audit(vendor_id, [product_id], Trigger.SUSPICION, reason)

    def audit_alert(self, entity_type: str, entity_id: str, reason: str) -> None:
        """Start an audit on suspicion of an alert's license or product."""
        if entity_type == "entitlement":
            self.audit_license(int(entity_id), reason)
            return
        from seatledger.services.audits.bundle.model import Trigger  # noqa: PLC0415

        try:
            vendor_id, product_id = self.services.audits.vendor_of_product(int(entity_id))
        except KnownError as exc:
            self.current_page().report(exc)
            return
        self.show_page(self.audits)
        self.audits.new_audit(vendor_id, [product_id], Trigger.SUSPICION, reason)

    def chart_license(self, entitlement_id: int) -> None:
        """Show a license's usage against its limit on the Usage page."""
        self.usage.show_license(entitlement_id)
        self.show_page(self.usage)

    def paintEvent(self, event: QPaintEvent) -> None:
        """After the first paint, count the navigation entries and look for renewals due (kept
        off the start-up path)."""
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.refresh_counts)
            QTimer.singleShot(0, self._find_renewals)
            QTimer.singleShot(0, self._remind_reviews)

    # ------------------------------------------------------------------ identity
    def database_label(self) -> str:
        """The database as the title shows it: a file's name, or the URL without password."""
        display = self.workspace.display_name
        return display if "://" in display else Path(display).name

    def title_text(self) -> str:
        """``SeatLedger — <db>``, with ``— DEMO`` for a demo database."""
        title = f"{APP_NAME} — {self.database_label()}"
        return f"{title} — DEMO" if self.workspace.is_demo else title

    def may(self, permission: Permission) -> bool:
        """Whether the signed-in operator's role allows ``permission``."""
        return allows(self.services.actor.role, permission)

    # ------------------------------------------------------------------ actions and menus
    def _action(
        self,
        name: str,
        text: str,
        slot: Callable[[], Any],
        shortcut: str | None = None,
        *,
        tip: str = "",
        icon: str = "",
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if icon:
            action.setIcon(QIcon.fromTheme(icon))
        action.triggered.connect(lambda _checked=False: slot())
        self.menu_actions[name] = action
        return action

    def _build_actions(self) -> None:
        spec = tuple[str, str, Callable[[], Any], str | None, str, str]
        specs: list[spec] = [
            ("new_database", "&New database…", self.new_database, "Ctrl+Shift+N",
             "Create a new database or open the demo", "document-new"),
            ("open_database", "&Open database…", self.open_database, "Ctrl+O",
             "Open another SeatLedger database", "document-open"),
            ("import", "&Import…", self.import_file, "Ctrl+I",
             "Import people, devices, installed software, purchases or usage from a file",
             "document-import"),
            ("renewal_calendar", "Export renewal &calendar…", self.export_renewals, None,
             "Write every renewal notice, cancel-by date and term end of the next two years "
             "to an iCalendar file for your calendar program", "x-office-calendar"),
            ("verify_ledger", "&Verify ledger…", self.verify_ledger, None,
             "Check every entry of the activity ledger against its hash chain, then the rows "
             "it accounts for against the ledger", ""),
            ("quit", "&Quit", self.close, "Ctrl+Q", "Close SeatLedger", "application-exit"),
            ("switch_operator", "S&witch operator…", self.switch_operator, None,
             "Sign out and let another operator sign in to this database", "system-users"),
            ("lock", "&Lock", self.lock, "Ctrl+L",
             "Hide the data until an operator signs in again", "system-lock-screen"),
            ("clear_recent", "&Clear the list", self.clear_recent, None,
             "Forget the databases opened lately", ""),
            ("new_vendor", "New &vendor…", self.new_vendor, None, "Add a software vendor", ""),
            ("new_product", "New &product…", self.new_product, None,
             "Add a product of a vendor", ""),
            ("new_license", "New &license…", self.new_license, "Ctrl+N",
             "Record a purchase (entitlement)", "list-add"),
            ("new_team", "New &team…", self.new_team, None, "Add a team (cost centre)", ""),
            ("new_person", "New p&erson…", self.new_person, None, "Add a person", ""),
            ("new_device", "New &device…", self.new_device, None, "Add a device", ""),
            ("find", "&Find", self.focus_search, "Ctrl+F", "Search the current page", ""),
            ("assign", "&Assign…", self.assign, "Ctrl+Shift+A",
             "Assign seats of the selected license", ""),
            ("release", "&Release…", self.release, None,
             "Release the selected seats of the license shown", ""),
            ("release_departed", "Release seats of people who &left…", self.release_departed,
             None, "Release every seat still held by someone marked as left", ""),
            ("reclaim", "Re&claim idle seats…", self.reclaim_idle, None,
             "Reclaim rules per product, and runs that release seats nobody uses", ""),
            *[
                (f"page_{page.settings_group}", page.title,
                 partial(self.nav.setCurrentRow, number),
                 f"Ctrl+{number + 1}" if number < 9 else None,  # Ctrl+1 … Ctrl+9
                 f"Go to {page.title}", "")
                for number, page in enumerate(PAGE_TYPES)
            ],
            ("refresh", "&Refresh", self.refresh_all, "F5", "Reload every page",
             "view-refresh"),
            ("alert_settings", "&Alert settings…", self.alert_settings, None,
             "Which alert rules run, the warning level, bursts and working hours", ""),
            ("data_settings", "&Data settings…", self.data_settings, None,
             "The license-server snapshot interval and when an import counts as old", ""),
            ("operators", "&Operators…", self.manage_operators, None,
             "Add operators, change roles and passwords", ""),
            ("signing_key", "&Signing key…", self.signing_key, None,
             "The key reports are signed with: rotate it, or replace a lost one", ""),
            ("about", f"&About {APP_NAME}", self.about, None, "", ""),
        ]  # fmt: skip
        for name, text, slot, shortcut, tip, icon in specs:
            self._action(name, text, slot, shortcut, tip=tip, icon=icon)

    def _build_menus(self) -> None:
        bar = self.menuBar()

        def menu(title: str, names: list[str | None]) -> QMenu:
            result = bar.addMenu(title)
            for name in names:
                if name is None:
                    result.addSeparator()
                else:
                    result.addAction(self.menu_actions[name])
            return result

        file_menu = menu("&File", ["new_database", "open_database"])
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addMenu(self.recent_menu)
        for name in (
            None,
            "import",
            "renewal_calendar",
            None,
            "verify_ledger",
            None,
            "switch_operator",
            "lock",
        ):
            if name is None:
                file_menu.addSeparator()
            else:
                file_menu.addAction(self.menu_actions[name])
        file_menu.addSeparator()
        file_menu.addAction(self.menu_actions["quit"])
        menu(
            "&Edit",
            [
                "new_vendor",
                "new_product",
                "new_license",
                None,
                "new_team",
                "new_person",
                "new_device",
                None,
                "find",
            ],
        )
        menu("&Seats", ["assign", "release", None, "release_departed", "reclaim"])
        pages: list[str | None] = [f"page_{page.settings_group}" for page in PAGE_TYPES]
        view_menu = menu("&View", [*pages, None, "refresh", None])
        self.theme_menu = view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        current = theme_keeper().theme
        for theme in Theme:
            action = QAction(theme.label, self)
            action.setObjectName(f"theme_{theme.value}")
            action.setCheckable(True)
            action.setChecked(theme is current)
            action.setStatusTip(
                "Follow the desktop's light or dark colours"
                if theme is Theme.SYSTEM
                else f"Always {theme.value}, whatever the desktop uses"
            )
            action.triggered.connect(partial(self.set_theme, theme))
            group.addAction(action)
            self.theme_menu.addAction(action)
            self.menu_actions[f"theme_{theme.value}"] = action
        self.admin_menu = menu(
            "&Admin", ["operators", "alert_settings", "data_settings", None, "signing_key"]
        )
        menu("&Help", ["about"])

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main toolbar", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in (
            "new_license",
            "assign",
            "release",
            None,
            "import",
            "refresh",
            "verify_ledger",
        ):
            if name is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(self.menu_actions[name])
        self.addToolBar(toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.operator_label = QLabel(self._signed_in_text(), self)
        self.database_status = QLabel(self.workspace.display_name, self)
        self.database_status.setToolTip("The open database")
        self.demo_badge = QLabel("DEMO", self)
        self.demo_badge.setStyleSheet(_DEMO_STYLE)
        self.demo_badge.setToolTip("A demo database with made-up data")
        # Long work the window runs itself (verifying the ledger) shows here, never modal.
        self.progress = ProgressStrip("Cancel", self)
        self.progress.setMaximumWidth(420)
        bar.addPermanentWidget(self.progress)
        # Licenses that need a renewal decision now (hidden when none); the tooltip lists them.
        self.renewals_label = QLabel(self)
        self.renewals_label.setStyleSheet(_RENEWALS_STYLE)
        self.renewals_label.setVisible(False)
        bar.addPermanentWidget(self.renewals_label)
        self.reviews_label = QLabel(self)
        self.reviews_label.setObjectName("reviews_overdue")
        self.reviews_label.setStyleSheet(_RENEWALS_STYLE)
        self.reviews_label.setVisible(False)
        bar.addPermanentWidget(self.reviews_label)
        bar.addPermanentWidget(self.operator_label)
        bar.addPermanentWidget(_separator(self))
        bar.addPermanentWidget(self.database_status)
        bar.addPermanentWidget(self.demo_badge)
        self.demo_badge.setVisible(self.workspace.is_demo)
        said = []
        if self.workspace.upgraded is not None:
            upgraded = self.workspace.upgraded
            said.append(describe_upgrade(upgraded, self.workspace.display_name, short=True))
        if self.workspace.password_note:
            said.append(
                "Your password predates the password policy and would be refused if set "
                f"today: {self.workspace.password_note}"
            )
        if said:  # kept until the next message
            bar.showMessage(" ".join(said))

    def _signed_in_text(self) -> str:
        actor = self.services.actor
        return f"Signed in as {actor.name} ({actor.role.label})"

    def _update_actions(self) -> None:
        if self.locked:
            return  # nothing is enabled until an operator signs in (work finishing meanwhile)
        edit_licenses = self.may(Permission.EDIT_LICENSES)
        edit_directory = self.may(Permission.EDIT_DIRECTORY)
        assign = self.may(Permission.ASSIGN_SEATS)
        licenses = self._pages[LICENSES]
        assert licenses is None or isinstance(licenses, LicensesPage)
        enabled = {
            "new_vendor": edit_licenses,
            "new_product": edit_licenses,
            "new_license": edit_licenses,
            "new_team": edit_directory,
            "new_person": edit_directory,
            "new_device": edit_directory,
            "assign": assign and licenses is not None and licenses.current_license() is not None,
            "release": assign
            and licenses is not None
            and licenses.detail.has_releasable_selection(),
            "release_departed": assign,
            "reclaim": assign,
            "import": edit_directory or edit_licenses,
            "operators": self.may(Permission.MANAGE_OPERATORS),
            "alert_settings": self.may(Permission.MANAGE_SETTINGS),
            "data_settings": self.may(Permission.MANAGE_SETTINGS),
            "signing_key": self.may(Permission.MANAGE_SIGNING_KEYS),
        }
        for name, value in enabled.items():
            self.menu_actions[name].setEnabled(value)
        self.admin_menu.menuAction().setVisible(self.may(Permission.MANAGE_OPERATORS))

    def _status(self, message: str) -> None:
        self.statusBar().showMessage(message, 5000)

    def set_theme(self, theme: Theme, _checked: bool = True) -> None:
        """Use a theme (View > Theme) and remember it."""
        theme_keeper().apply(theme)
        self._settings.setValue(SETTING, theme.value)
        self.menu_actions[f"theme_{theme.value}"].setChecked(True)

    # ------------------------------------------------------------------ pages
    def current_page(self) -> Page:
        """The page on screen."""
        page = self.stack.currentWidget()
        assert isinstance(page, Page)
        return page

    def show_page(self, page: Page) -> None:
        """Bring a page on screen."""
        self.nav.setCurrentRow(self._pages.index(page))

    def _show_page(self, row: int) -> None:
        if 0 <= row < len(PAGE_TYPES):
            page = self.page(row)
            self.stack.setCurrentIndex(row)
            page.activate()
            self._update_actions()

    def _committed(self, _entity_types: object) -> None:
        """A change committed (the pages that show it reload themselves): recount, re-check."""
        self.refresh_counts()
        self._update_actions()

    def refresh_all(self) -> None:
        """Reload every page (F5): the one on screen now, the others when shown."""
        for page in self.built_pages():
            page.mark_stale()
        self.refresh_counts()
        self._update_actions()
        self._status("Reloaded.")

    def refresh_counts(self) -> None:
        """Recount the navigation entries in the background."""
        services = self.services
        task = Task(lambda _progress: _counts(services), self).on_done(self._show_counts)
        self.runner.start(task, key="navigation counts")

    def _show_counts(self, counts: dict[str, int]) -> None:
        if self._closed:
            return
        for row, page in enumerate(PAGE_TYPES):
            item = self.nav.item(row)
            if item is not None:
                count = counts.get(page.settings_group)
                item.setData(COUNT_ROLE, count)
                if isinstance(count, int):
                    item.setToolTip(f"{count:,} {page.title.lower()}")

    def nav_count(self, row: int) -> int | None:
        """The count shown beside a navigation entry."""
        item = self.nav.item(row)
        value = item.data(COUNT_ROLE) if item is not None else None
        return value if isinstance(value, int) else None

    # ------------------------------------------------------------------ file
    def import_kind(self, kind: object) -> None:
        """Run the import wizard on a kind of file, named by its value ("people",
        "entitlements"…; an empty page's Import… button)."""
        self.import_file(kind=str(kind))

    def import_file(self, path: Path | None = None, kind: str = "") -> None:
        """Run the import wizard (the pages showing what it brought in reload as it commits)."""
        # The file readers load with the wizard, not at start-up.
        from seatledger.ingest.formats import Kind  # noqa: PLC0415
        from seatledger.ui.dialogs.import_wizard import ImportWizard  # noqa: PLC0415

        chosen = Kind(kind) if kind in {k.value for k in Kind} else None
        wizard = ImportWizard(self.services, self.runner, self, path, chosen)
        wizard.exec()
        if wizard.result_summary:
            self._status(wizard.result_summary)

    def new_database(self) -> None:
        """The start dialog on "Create a new database" (or the demo)."""
        from seatledger.ui.dialogs.start import CREATE  # noqa: PLC0415

        self._start_dialog(CREATE)

    def open_database(self) -> None:
        """The start dialog on "Open a database"."""
        from seatledger.ui.dialogs.start import OPEN  # noqa: PLC0415

        self._start_dialog(OPEN)

    def _start_dialog(self, start_on: int, location: str = "") -> None:
        """Create or open another database (StartDialog), sign in, and ask to switch to it;
        ``location``: open that one at once (File > Open recent)."""
        from seatledger.ui.dialogs.start import StartDialog  # noqa: PLC0415

        dialog = StartDialog(
            self,
            runner=self.runner,
            start_on=start_on,
            recent=[r for r in recent_databases(self._settings) if r != self.workspace.location],
        )
        if location:
            QTimer.singleShot(0, lambda: dialog.open_location(location))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        workspace = dialog.workspace
        services = dialog.services
        if services is None:
            from seatledger.ui.dialogs.sign_in import SignInDialog  # noqa: PLC0415

            sign_in = SignInDialog(workspace, self)
            if sign_in.exec() != QDialog.DialogCode.Accepted:
                workspace.close()
                return
            services = sign_in.services
        self.open_requested.emit(services, workspace)

    # ------------------------------------------------------------------ renewals
    def _find_renewals(self) -> None:
        """Read the renewals due in the background (every license's term: a quarter of a second
        on the large demo, which the first paint does not wait for)."""
        renewals = self.services.renewals
        task = Task(lambda _progress: renewals.due(), self).on_done(self._remind_renewals)
        self.runner.start(task, key="renewals")

    def _remind_renewals(self, due: list[Reminder]) -> None:
        """Say which licenses need a renewal decision now: a mark in the status bar (its tooltip
        lists them), and a desktop notification where the desktop has a notification area."""
        if self._closed:
            return
        self.renewals_due = due
        self.renewals_label.setVisible(bool(due))
        if not due:
            return
        self.renewals_label.setText(f"Renewals due: {len(due):,}")
        listed = "".join(
            f"<li>{html.escape(r.title)}: {html.escape(r.text)}</li>" for r in due[:12]
        )
        more = f"<p>… and {len(due) - 12:,} more.</p>" if len(due) > 12 else ""
        self.renewals_label.setToolTip(
            f"<p>{plural(len(due), 'license')} {agree(len(due), 'needs')} a renewal decision:"
            f"</p><ul>{listed}</ul>{more}<p>File &gt; Export renewal calendar… puts every "
            "date in your calendar.</p>"
        )
        if QSystemTrayIcon.isSystemTrayAvailable():
            first = due[0]
            self._tray = QSystemTrayIcon(self.windowIcon(), self)
            self._tray.setToolTip(APP_NAME)
            self._tray.show()
            self._tray.showMessage(
                f"{APP_NAME}: renewals due",
                f"{first.title} {first.text.split('; ')[-1]}"
                + (f" (and {plural(len(due) - 1, 'license')} more)" if len(due) > 1 else ""),
            )

    def _remind_reviews(self) -> None:
        """Say which access reviews are overdue with seats the operator has yet to decide: a
        mark in the status bar, and a desktop notification where there is a notification area."""
        if self._closed:
            return
        late = self.services.reviews.overdue()
        self.reviews_label.setVisible(bool(late))
        if not late:
            return
        undecided = sum(c.undecided for c in late)
        self.reviews_label.setText(f"Access reviews overdue: {len(late):,}")
        self.reviews_label.setToolTip(
            "".join(
                f"<p>{html.escape(c.name)}: due {c.due_on}, "
                f"{plural(c.undecided, 'seat')} undecided</p>"
                for c in late[:12]
            )
            + "<p>Access reviews lists them.</p>"
        )
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self.windowIcon(), self)
                self._tray.setToolTip(APP_NAME)
                self._tray.show()
            self._tray.showMessage(
                f"{APP_NAME}: access reviews overdue",
                f"{late[0].name} was due on {late[0].due_on}; "
                f"{plural(undecided, 'seat')} undecided.",
            )

    def export_renewals(self) -> None:
        """Write the renewal calendar (.ics) where the user says."""
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export renewal calendar",
            str(Path.home() / "license-renewals.ics"),
            "iCalendar files (*.ics)",
        )
        if path:
            self.write_renewals(Path(path))

    def write_renewals(self, path: Path) -> None:
        """Write the renewal calendar to ``path`` and say so (or why not)."""
        if path.suffix.lower() != ".ics":
            path = path.with_name(path.name + ".ics")
        try:
            written = self.services.renewals.write_calendar(path)
        except OSError as exc:
            self._task_failed(f"The calendar could not be written to {path}: {exc.strerror}.", "")
            return
        self._status(
            f"Wrote {plural(written, 'renewal date')} of the next two years to {path}; import "
            "it into your calendar (importing it again updates the events)."
        )

    # ------------------------------------------------------------------ recent, lock, switch
    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        others = [r for r in recent_databases(self._settings) if r != self.workspace.location]
        for number, location in enumerate(others, start=1):
            shown = location.replace("&", "&&")
            action = self.recent_menu.addAction(f"&{number} {shown}" if number < 10 else shown)
            action.triggered.connect(partial(self.open_recent, location))
        if not others:
            self.recent_menu.addAction("No other database opened lately").setEnabled(False)
        self.recent_menu.addSeparator()
        self.recent_menu.addAction(self.menu_actions["clear_recent"])
        self.menu_actions["clear_recent"].setEnabled(bool(others))

    def open_recent(self, location: str) -> None:
        """Open a database opened lately: the start dialog opens it, then sign in."""
        from seatledger.ui.dialogs.start import OPEN  # noqa: PLC0415

        self._start_dialog(OPEN, location)

    def clear_recent(self) -> None:
        """Forget the databases opened lately (this one stays remembered)."""
        forget_databases(self._settings)
        remember_database(self._settings, self.workspace.location)

    @property
    def locked(self) -> bool:
        """Whether the window hides its data until an operator signs in."""
        return self.screens.currentWidget() is self.lock_screen

    def lock(self) -> None:
        """Hide every page, menu and count until an operator signs in again (Ctrl+L)."""
        if self.locked:
            return
        self.lock_screen.title.setText(f"{APP_NAME} is locked")
        self.lock_screen.text.setText(
            f"{self.services.actor.name} was signed out of {self.workspace.display_name}. "
            "Sign in to go on where you were; another operator who signs in gets a window of "
            "their own."
        )
        self.screens.setCurrentWidget(self.lock_screen)
        self.menuBar().setEnabled(False)
        for toolbar in self.findChildren(QToolBar):
            toolbar.setEnabled(False)
        for name, action in self.menu_actions.items():
            if name != "quit":
                action.setEnabled(False)
        self.operator_label.setText("Locked: nobody signed in")
        self.lock_screen.sign_in_button.setFocus()
        self.setWindowTitle(f"{APP_NAME} (locked)")

    def switch_operator(self) -> None:
        """Sign out and let another operator sign in (the window locks meanwhile)."""
        self.lock()
        self.unlock(operator_name="")

    def unlock(self, operator_name: str | None = None) -> None:
        """Sign in again: the same operator goes on in this window; another one gets a new
        window on the same database (with what their role allows)."""
        from seatledger.ui.dialogs.sign_in import SignInDialog  # noqa: PLC0415

        name = self.services.actor.name if operator_name is None else operator_name
        dialog = SignInDialog(self.workspace, self, operator_name=name)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.services is None:
            return  # stays locked
        services = dialog.services
        if services.actor.id != self.services.actor.id:
            self.open_requested.emit(services, self.workspace)
            return
        self.screens.setCurrentIndex(0)
        self.menuBar().setEnabled(True)
        for toolbar in self.findChildren(QToolBar):
            toolbar.setEnabled(True)
        for action in self.menu_actions.values():
            action.setEnabled(True)
        self.operator_label.setText(self._signed_in_text())
        self.setWindowTitle(self.title_text())
        self._update_actions()
        self.refresh_all()  # others may have changed things meanwhile

    def verify_ledger(self) -> None:
        """Verify the whole ledger in the background, with progress and cancel."""
        ledger = self.services.ledger

        def work(progress: Progress) -> tuple[Verdict, StateReport | None]:
            verdict = ledger.verify(progress=progress)
            if not verdict.ok:  # a broken ledger says nothing reliable of the rows
                return verdict, None
            return verdict, ledger.verify_state(progress=progress)

        task = Task(work, self).on_done(self._show_verdict)
        task.failed.connect(self._task_failed)
        task.cancelled.connect(lambda: self._status("Ledger verification cancelled."))
        self.menu_actions["verify_ledger"].setEnabled(False)
        task.finished.connect(lambda: self.menu_actions["verify_ledger"].setEnabled(True))
        self.progress.follow(task, "Verifying the activity ledger…")
        self.runner.start(task)

    def _show_verdict(self, outcome: tuple[Verdict, StateReport | None]) -> None:
        ok, headline, details = verdict_text(*outcome)
        box = QMessageBox(self)
        box.setObjectName("verify_result")
        box.setWindowTitle("Verify ledger")
        box.setIcon(QMessageBox.Icon.Information if ok else QMessageBox.Icon.Critical)
        box.setText(headline)
        box.setInformativeText(details)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        self.verify_box = box
        self._status(headline)
        box.open()

    def _task_failed(self, message: str, details: str) -> None:
        from seatledger.ui.dialogs.errors import show_error  # noqa: PLC0415

        show_error(self, message, details)

    # ------------------------------------------------------------------ edit
    def _run_form(self, dialog: QDialog) -> int | None:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        saved = getattr(dialog, "saved_id", None)
        return saved if isinstance(saved, int) else None

    def new_vendor(self) -> None:
        """Add a vendor."""
        if not self.may(Permission.EDIT_LICENSES):
            return
        from seatledger.ui.dialogs.forms import VendorDialog  # noqa: PLC0415

        if self._run_form(VendorDialog(self.services, self)) is not None:
            self._status("Vendor added.")

    def new_product(self) -> None:
        """Add a product (of the selected license's vendor, if one is selected)."""
        if not self.may(Permission.EDIT_LICENSES):
            return
        from seatledger.ui.dialogs.forms import ProductDialog  # noqa: PLC0415

        vendor_id: int | None = None
        licenses = self._pages[LICENSES]
        if isinstance(licenses, LicensesPage) and licenses.current_license() is not None:
            vendor_id = licenses.current_vendor()
        if self._run_form(ProductDialog(self.services, self, vendor_id=vendor_id)) is not None:
            self._status("Product added.")

    def new_license(self) -> None:
        """Record a purchase and select it."""
        self.show_page(self.licenses)
        self.licenses.new_license()

    def new_team(self) -> None:
        """Add a team."""
        if not self.may(Permission.EDIT_DIRECTORY):
            return
        from seatledger.ui.dialogs.forms import TeamDialog  # noqa: PLC0415

        if self._run_form(TeamDialog(self.services, self)) is not None:
            self._status("Team added.")

    def new_person(self) -> None:
        """Add a person and select them."""
        self.show_page(self.people)
        self.people.new_record()

    def new_device(self) -> None:
        """Add a device and select it."""
        self.show_page(self.devices)
        self.devices.new_record()

    def focus_search(self) -> None:
        """Focus the current page's search."""
        self.current_page().focus_search()

    # ------------------------------------------------------------------ seats
    def assign(self) -> None:
        """Assign seats of the selected license."""
        if self.licenses.current_license() is None:
            self.show_page(self.licenses)
            self._status("Select a license first.")
            return
        self.show_page(self.licenses)
        self.licenses.detail.assign()

    def release(self) -> None:
        """Release the selected seats of the license shown."""
        self.show_page(self.licenses)
        if not self.licenses.detail.has_releasable_selection():
            self._status("Select the seats to release in the license's seat list.")
            return
        self.licenses.detail.release_selected()

    def release_departed(self) -> None:
        """Release every seat held by people marked as left (the dialog states how many)."""
        if not self.may(Permission.ASSIGN_SEATS):
            return
        from seatledger.ui.dialogs.assign import confirm_release_departed  # noqa: PLC0415

        released = confirm_release_departed(self, self.services)
        if released is not None:
            self._status(f"Released {released:,} seats held by people who left.")

    def reclaim_idle(self) -> None:
        """Open the reclaim rules and runs (Seats ▸ Reclaim idle seats…)."""
        if not self.may(Permission.ASSIGN_SEATS):
            return
        from seatledger.ui.dialogs.reclaim import ReclaimDialog  # noqa: PLC0415

        ReclaimDialog(self.services, self).exec()

    # ------------------------------------------------------------------ admin and help
    def manage_operators(self) -> None:
        """Open the operators dialog (administrators)."""
        if not self.may(Permission.MANAGE_OPERATORS):
            return
        from seatledger.ui.dialogs.operators import OperatorsDialog  # noqa: PLC0415

        OperatorsDialog(self.services, self).exec()

    def alert_settings(self) -> None:
        """Open the alert settings (administrators)."""
        if not self.may(Permission.MANAGE_SETTINGS):
            return
        from seatledger.ui.dialogs.alert_settings import AlertSettingsDialog  # noqa: PLC0415

        if AlertSettingsDialog(self.services, self).exec() == QDialog.DialogCode.Accepted:
            self._status("Alert settings saved.")

    def data_settings(self) -> None:
        """Open the data settings (administrators)."""
        if not self.may(Permission.MANAGE_SETTINGS):
            return
        from seatledger.ui.dialogs.data_settings import DataSettingsDialog  # noqa: PLC0415

        if DataSettingsDialog(self.services, self).exec() == QDialog.DialogCode.Accepted:
            self._status("Data settings saved.")
            self.refresh_all()

    def signing_key(self) -> None:
        """Open the signing key dialog (administrators): rotate, or replace a lost key."""
        if not self.may(Permission.MANAGE_SIGNING_KEYS):
            return
        from seatledger.ui.dialogs.signing_key import SigningKeyDialog  # noqa: PLC0415

        dialog = SigningKeyDialog(self.services, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.done_text:
            self._status(dialog.done_text)

    def about(self) -> None:
        """Version, database and platform."""
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Software licenses and seat assignments with a tamper-evident activity ledger.</p>"
            f"<p>Database: {self.workspace.display_name}<br>"
            f"Qt {pyside_version} · Python {platform.python_version()}</p>",
        )

    # ------------------------------------------------------------------ settings and closing
    def _restore_settings(self) -> None:
        settings = self._settings
        geometry = settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            screen = QApplication.primaryScreen()
            available = screen.availableGeometry() if screen is not None else None
            if available is not None:
                self.resize(min(1320, available.width() - 40), min(820, available.height() - 40))
        restore_layout(settings, "main_window/state", self)
        page_row = str(settings.value("main_window/page", 0))
        row = int(page_row) if page_row.isdigit() else 0
        self.nav.setCurrentRow(row if 0 <= row < len(PAGE_TYPES) else 0)

    def save_settings(self) -> None:
        """Remember geometry, splitters and columns."""
        settings = self._settings
        settings.setValue("main_window/geometry", self.saveGeometry())
        save_layout(settings, "main_window/state", self)
        settings.setValue("main_window/page", self.nav.currentRow())
        for page in self.built_pages():
            page.save_state(settings)
        settings.sync()

    def changeEvent(self, event: QEvent) -> None:
        """Light to dark or back: the status bar's reminders name the palette's link colour,
        which Qt reads when a style sheet is set, so their sheets are set again."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            for label in (self.renewals_label, self.reviews_label):
                label.setStyleSheet(_RENEWALS_STYLE)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the layout and wait for background work (nothing is left half-done)."""
        if not self._closed:
            self._closed = True
            self.changes.close()
            self.save_settings()
            self.runner.wait()
        super().closeEvent(event)
