"""The licenses page: every entitlement with seats used against seats bought, and the selected one.

The table filters and sorts in SQL (:class:`~seatledger.services.catalog.queries.EntitlementQuery`);
over-limit rows are red, bold and flagged, expired rows grey, rows ending within 60 days amber.  The
selected license's facts and seats are shown underneath (:class:`LicenseDetail`).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from seatledger.domain.roles import Permission
from seatledger.errors import KnownError
from seatledger.services.catalog.queries import (
    WARNING_PERCENT,
    EntitlementColumn,
    EntitlementQuery,
    EntitlementRow,
    EntitlementState,
)
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.pages import Page
from seatledger.ui.pages.license_detail import LicenseDetail
from seatledger.ui.presenters import (
    NEARLY_FULL,
    EntitlementPresenter,
    expiring_color,
    over_limit_color,
)
from seatledger.ui.table_model import FOREGROUND, ROW_ROLE, AnyIndex, KeyedTableModel
from seatledger.ui.widgets import (
    DataTable,
    EmptyState,
    SearchBox,
    Stateful,
    accessible,
    index_key,
    splitter,
)

_UTILIZATION = EntitlementColumn.UTILIZATION
_VENDOR = EntitlementColumn.VENDOR
_HAS_DECORATION = QStyleOptionViewItem.ViewItemFeature.HasDecoration
_SELECTED = QStyle.StateFlag.State_Selected
_CE_ITEM = QStyle.ControlElement.CE_ItemViewItem
_TEXT = QPalette.ColorRole.Text
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText
_HIGHLIGHT = QPalette.ColorRole.Highlight
_MID = QPalette.ColorRole.Mid
_ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_NO_PEN = Qt.PenStyle.NoPen
_BAR_HEIGHT = 8


def _entitlement_of(index: AnyIndex) -> EntitlementRow | None:
    row = index.data(ROW_ROLE)
    if not row or not isinstance(row[0], EntitlementRow):
        return None
    return row[0]


class EntitlementDelegate(QStyledItemDelegate):
    """Bold over-limit rows with a warning icon, and a utilization bar beside the percentage."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = QApplication.style()
        self._warning = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self._icon_size = QSize(16, 16)

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """Over-limit rows are bold; their first cell carries a warning icon."""
        super().initStyleOption(option, index)
        lic = _entitlement_of(index)
        if lic is not None and lic.over_limit:
            option.font.setBold(True)
            if index.column() == _VENDOR:
                option.icon = self._warning
                option.decorationSize = self._icon_size
                option.features |= _HAS_DECORATION

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        """The utilization column shows a bar, then the percentage right-aligned."""
        if index.column() != _UTILIZATION:
            super().paint(painter, option, index)
            return
        lic = _entitlement_of(index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text: str = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(_CE_ITEM, opt, painter, widget)

        rect: QRect = opt.rect
        palette: QPalette = opt.palette
        selected = bool(opt.state & _SELECTED)
        metrics = opt.fontMetrics
        text_width = metrics.horizontalAdvance("100 %") + 8
        painter.save()
        try:
            share = lic.utilization if lic is not None else None
            bar_width = rect.width() - text_width - 12
            if share is not None and bar_width >= 24:
                top = rect.top() + (rect.height() - _BAR_HEIGHT) // 2
                track = QRect(rect.left() + 6, top, bar_width, _BAR_HEIGHT)
                painter.setPen(_NO_PEN)
                track_color = QColor(palette.color(_MID))
                track_color.setAlpha(70)
                painter.setBrush(track_color)
                painter.drawRoundedRect(track, 2, 2)
                if share > 1:
                    fill_color = over_limit_color()
                elif share >= NEARLY_FULL:
                    fill_color = expiring_color()
                else:
                    fill_color = QColor(palette.color(_HIGHLIGHT))
                if selected:
                    fill_color = QColor(palette.color(_HIGHLIGHTED_TEXT))
                filled = QRect(track)
                filled.setWidth(max(1, round(bar_width * min(share, 1.0))))
                painter.setBrush(fill_color)
                painter.drawRoundedRect(filled, 2, 2)
            painter.setFont(opt.font)
            if selected:
                painter.setPen(palette.color(_HIGHLIGHTED_TEXT))
            else:
                brush = index.data(FOREGROUND)
                painter.setPen(brush.color() if brush is not None else palette.color(_TEXT))
            painter.drawText(rect.adjusted(0, 0, -6, 0), _ALIGN_RIGHT, text)
        finally:
            painter.restore()


_EMPTY = {
    EntitlementState.OVER_LIMIT: "over the limit",
    EntitlementState.NEAR_LIMIT: "at the warning level",
    EntitlementState.EXPIRING_30: "ending within 30 days",
    EntitlementState.EXPIRING_60: "ending within 60 days",
    EntitlementState.EXPIRING_90: "ending within 90 days",
    EntitlementState.UNASSIGNED: "with unassigned seats",
}


class LicensesPage(Page):
    """Licenses with usage; the selected license's seats underneath.

    Signals:
        chart_requested(int): the user asked to chart a license's usage over time (its id).
        audit_requested(int): the user asked to audit a license that looks wrong (its id).
    """

    title = "Licenses"
    settings_group = "licenses"
    # The list (names, seats used, the near-limit setting) and the pane's seats and holders.
    shows = frozenset(
        {
            "entitlement", "seat", "vendor", "product", "person", "device", "team", "import",
            "setting",
        }
    )  # fmt: skip

    chart_requested = Signal(int)
    audit_requested = Signal(int)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self._reloading = False

        self.search = SearchBox(
            "Search vendor, product, name or PO reference…  (Ctrl+F)", self, name="Search licenses"
        )
        self.search.searched.connect(self._apply_filter)
        self.state = QComboBox(self)
        self.state.setObjectName("license_state")
        for state in EntitlementState:
            self.state.addItem(state.label, state)
        self.state.setToolTip(
            "Narrow the list: over the limit, at the warning level, expiring soon, or with "
            "unassigned seats (the dashboard's cards open these)"
        )
        accessible(self.state, "Show licenses")
        self.state.currentIndexChanged.connect(self._apply_filter)
        self._count = QLabel(self)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.state)
        filters.addSpacing(12)
        filters.addWidget(self._count)

        self.table = DataTable(self)
        self.table.setObjectName("licenses")
        accessible(self.table, "Licenses", "Select a license to see its seats below")
        self.table.setItemDelegate(EntitlementDelegate(self.table))
        self._current = services.reads.entitlements()
        self.model = KeyedTableModel(self._current, EntitlementPresenter(), self.table)
        self.table.attach(self.model, EntitlementColumn.VENDOR, descending=False)
        # Middle elision keeps a name's end, where purchases of one product differ
        # ("Jira Software Cloud Premium — 2025/26 term" vs "— 2026/27 term").
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.set_column_widths(
            {
                EntitlementColumn.VENDOR: 13,
                EntitlementColumn.PRODUCT: 30,
                EntitlementColumn.METRIC: 16,
                EntitlementColumn.QUANTITY: 9,
                EntitlementColumn.USED: 9,
                EntitlementColumn.FREE: 9,
                EntitlementColumn.UTILIZATION: 18,
                EntitlementColumn.TERM_END: 11,
            },
            stretch=EntitlementColumn.PRODUCT,
        )
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.selection_changed.emit()
        )
        self.table.activated.connect(self._open_detail)
        self.chart_action = QAction("&Chart usage over time", self.table)
        self.chart_action.setObjectName("chart_license")
        self.chart_action.setShortcut("Ctrl+Shift+U")
        self.chart_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.chart_action.setStatusTip("Chart the selected license's seats against its limit")
        self.chart_action.triggered.connect(self.chart_current)
        self.table.addAction(self.chart_action)
        self.audit_action = QAction("A&udit this…", self.table)
        self.audit_action.setObjectName("audit_license")
        self.audit_action.setStatusTip("Audit the selected license's product, on suspicion")
        self.audit_action.setEnabled(self.may(Permission.RUN_AUDITS))
        self.audit_action.triggered.connect(self.audit_current)
        self.table.addAction(self.audit_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.detail = LicenseDetail(services, self)
        self.detail.selection_changed.connect(self.selection_changed)

        self.splitter = splitter(self, self.table, self.detail, (3, 2), collapsible=False)

        layout = self.body_layout()
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        empty = EmptyState(
            "No licenses yet",
            "A license is one purchase of a product: how its rights are counted (per user, per "
            "device, per core…), how many were bought and for how long. Add the first one by "
            "hand, or import your purchase records from a CSV or XLSX file.",
            self,
        )
        may_edit = self.may(Permission.EDIT_LICENSES)
        refused = "" if may_edit else "License managers and administrators add licenses."
        empty.add_action("&Add license…", self.new_license, enabled=may_edit, tip=refused)
        empty.add_action(
            "&Import purchases…",
            lambda: self.import_requested.emit("entitlements"),
            enabled=may_edit,
            tip=refused,
        )
        self.set_empty_state(empty)
        self.splitter.setSizes([450, 550])
        self._update_after_query()
        self.table.select_first()  # the detail pane is never empty while there are licenses

    # ------------------------------------------------------------------ querying
    def _query(self) -> EntitlementQuery:
        return self._current

    def _apply_filter(self, *_args: object) -> None:
        current = self._query()
        query = self.services.reads.entitlements(
            self.search.text(),
            current.sort_column,
            current.descending,
            state=self.current_state(),
            warning_percent=self._warning_percent(),
        )
        previous = self.table.current_key()
        self._reloading = True
        try:
            self._current = query
            self.model.set_query(query)
            self.table.keep_or_select_first(previous)
        finally:
            self._reloading = False
        self._update_after_query()
        self.detail.show_license(self.table.current_key())
        self.selection_changed.emit()

    def refresh(self) -> None:
        """Reload the licenses (keeping the selection) and the license shown."""
        super().refresh()
        self._reloading = True
        try:
            self.table.reload()
        finally:
            self._reloading = False
        self._update_after_query()
        self.detail.show_license(self.table.current_key())
        self.selection_changed.emit()

    def _update_after_query(self) -> None:
        count = self.model.rowCount()
        self._count.setText(plural(count, "license"))
        query = self._query()
        if query.state is not EntitlementState.ALL:
            what = f" matching “{query.text}”" if query.text else ""
            self.table.set_empty_hint(f"No licenses {_EMPTY[query.state]}{what}.")
        elif query.text or query.over_limit_only:
            what = f" matching “{query.text}”" if query.text else ""
            over = " over the limit" if query.over_limit_only else ""
            self.table.set_empty_hint(f"No licenses{over}{what}.")
        else:
            self.table.set_empty_hint("No licenses yet — add one with Edit ▸ New license (Ctrl+N).")
        unfiltered = (
            query.state is EntitlementState.ALL and not query.text and not query.over_limit_only
        )
        self.show_empty(unfiltered and count == 0)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._reloading:
            return
        self.detail.show_license(index_key(current))

    def _open_detail(self, _index: QModelIndex) -> None:
        sizes = self.splitter.sizes()
        if len(sizes) == 2 and sizes[1] < 120:
            total = sum(sizes)
            self.splitter.setSizes([total * 3 // 5, total - total * 3 // 5])
        self.detail.seats.setFocus()
        if self.detail.seats.keyed_model().rowCount():
            self.detail.seats.select_first()

    # ------------------------------------------------------------------ what actions act on
    def current_license(self) -> int | None:
        """The selected license."""
        return self.table.current_key()

    def chart_current(self) -> None:
        """Ask for the selected license's usage chart (the window opens the Usage page)."""
        entitlement_id = self.table.current_key()
        if entitlement_id is not None:
            self.chart_requested.emit(entitlement_id)

    def audit_current(self) -> None:
        """Ask for an audit of the selected license (the window opens the audit wizard)."""
        entitlement_id = self.table.current_key()
        if entitlement_id is not None:
            self.audit_requested.emit(entitlement_id)

    def current_vendor(self) -> int | None:
        """The vendor of the selected license (to preselect it when adding a product)."""
        entitlement_id = self.table.current_key()
        if entitlement_id is None:
            return None
        try:
            return self.services.reads.entitlement(entitlement_id)[1] or None
        except KnownError:
            return None

    def select_license(self, entitlement_id: int) -> None:
        """Show a license (e.g. one just added), clearing a search that hides it."""
        if self.table.select_key(entitlement_id):
            return
        self.search.clear()
        self.state.setCurrentIndex(0)
        self.search.flush()
        self._apply_filter()
        self.table.select_key(entitlement_id)

    def current_state(self) -> EntitlementState:
        """What the list is narrowed to."""
        state = self.state.currentData()  # Qt hands a str enum back as a plain str
        return EntitlementState(state) if state else EntitlementState.ALL

    def _warning_percent(self) -> int:
        if self.current_state() is not EntitlementState.NEAR_LIMIT:
            return WARNING_PERCENT
        try:
            return self.services.alerts.settings().warning_percent
        except KnownError:
            return WARNING_PERCENT

    def show_state(self, state: EntitlementState) -> None:
        """List exactly the licenses in ``state`` (a dashboard card was clicked)."""
        self.search.clear()
        self.search.flush()
        if self.current_state() is state:
            self._apply_filter()
        else:
            self.state.setCurrentIndex(self.state.findData(state))

    def focus_search(self) -> None:
        """Focus the search box."""
        self.search.setFocus()
        self.search.selectAll()

    def new_license(self) -> None:
        """Add a license (EntitlementDialog) and select it."""
        if not self.may(Permission.EDIT_LICENSES):
            return
        from seatledger.ui.dialogs.forms import EntitlementDialog  # noqa: PLC0415

        dialog = EntitlementDialog(self.services, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved_id is not None:
            self.select_license(dialog.saved_id)

    # ------------------------------------------------------------------ settings
    def layouts(self) -> dict[str, Stateful]:
        """The splitter."""
        return {"licenses/splitter": self.splitter}

    def save_state(self, settings: QSettings) -> None:
        """Remember the splitter and the columns."""
        super().save_state(settings)
        settings.setValue("licenses/header", self.table.header_state())
        self.detail.save_state(settings, "licenses")

    def restore_state(self, settings: QSettings) -> None:
        """Restore the splitter and the columns."""
        super().restore_state(settings)
        self.table.restore_header_state(settings.value("licenses/header"))
        self.detail.restore_state(settings, "licenses")
