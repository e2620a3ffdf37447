"""The dashboard: where the organization stands at a glance, each figure one click from its list.

Figures come from :class:`~seatledger.services.alerts.dashboard.DashboardService` in the
background (a few SQL aggregates), so the page paints at once and fills in; nothing here imports
pyqtgraph or numpy — the utilization chart is drawn with QPainter.  Cards reflow into as many
columns as the width allows.

Signals tell the window which list to open; the window decides how (it owns the pages).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.alerts import Severity
from seatledger.domain.roles import Permission
from seatledger.progress import Progress
from seatledger.services.alerts.dashboard import DashboardFigures, Utilization
from seatledger.services.alerts.service import AlertRow
from seatledger.services.catalog.queries import EntitlementState
from seatledger.services.operators.session import Services
from seatledger.text import agree, plural
from seatledger.ui.pages import Page
from seatledger.ui.tasks import Task
from seatledger.ui.theme import colors, keep_styled
from seatledger.ui.widgets import EmptyState

# How a figure stands: the names of colours in seatledger.ui.theme.Colors, so that each is
# chosen for the palette in use (light or dark).
RED = "bad"
AMBER = "warn"
GREEN = "good"
GREY = "neutral"
_TINT = {RED: "tint_bad", AMBER: "tint_warn", GREEN: "tint_good"}
CARD_MIN_WIDTH = 210
NARROW = 720  # below this width the chart and the alerts stack
RECENT_ALERTS = 6
_ALERT_ID = Qt.ItemDataRole.UserRole + 1
_SEVERITY_COLOR = {Severity.HIGH: RED, Severity.MEDIUM: AMBER, Severity.LOW: GREY}


def money(totals: dict[str, Decimal]) -> str:
    """Amounts by currency, e.g. ``1,250.00 EUR + 40.00 USD``."""
    return " + ".join(f"{amount:,.2f} {currency}" for currency, amount in totals.items())


@dataclass(frozen=True)
class CardSpec:
    """What a card says and where its click leads."""

    name: str
    title: str
    tip: str


class Card(QFrame):
    """A figure with a title and a line under it; clicking (or Enter/Space) opens its list.

    Signals:
        clicked(): the user asked for the list behind the figure.
    """

    clicked = Signal()

    def __init__(self, spec: CardSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"card_{spec.name}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMinimumWidth(CARD_MIN_WIDTH)
        # Minimum vertically: every card of a row grows to the tallest one's height.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setToolTip(spec.tip)
        self.title = QLabel(spec.title, self)
        self.value = QLabel("…", self)
        self.value.setObjectName("card_value")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        self.value.setFont(font)
        self.note = QLabel("", self)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.value)
        layout.addWidget(self.note)
        self._color = GREY
        self._focused = False
        self.set_figure("…", "", GREY)

    def set_figure(self, value: str, note: str, color: str, *, enabled: bool = True) -> None:
        """Show a figure; ``color`` marks how it stands (red over, amber close, grey neutral)."""
        self.value.setText(value)
        self.note.setText(note)
        # Read as one control: "Over the limit: 2", then what the figure means.
        self.setAccessibleName(f"{self.title.text()}: {value}")
        self.setAccessibleDescription(f"{note}. {self.spec.tip}" if note else self.spec.tip)
        self._color = color
        self.setEnabled(enabled)
        self.setCursor(Qt.CursorShape.PointingHandCursor if enabled else Qt.CursorShape.ArrowCursor)
        self._style()

    @property
    def color(self) -> str:
        """How the figure stands: ``"bad"``, ``"warn"``, ``"good"`` or ``"neutral"``."""
        return self._color

    def value_color(self) -> QColor:
        """The colour the figure is drawn in, for the palette in use."""
        if self._color == GREY:
            return self.palette().color(QPalette.ColorRole.WindowText)
        return colors().qcolor(self._color)

    def background_color(self) -> QColor:
        """The card's background, for the palette in use."""
        tint = _TINT.get(self._color)
        if tint is None:
            return self.palette().color(QPalette.ColorRole.Window)
        return colors().qcolor(tint)

    def _sheet(self) -> str:
        # A 2-px frame in the highlight colour shows the keyboard focus (1 px was too faint).
        border = "2px solid palette(highlight)" if self._focused else "1px solid palette(mid)"
        tint = "transparent" if self._color == GREY else self.background_color().name()
        edge = colors().qcolor(self._color).name()
        return (
            f"QFrame#{self.objectName()} {{ background: {tint}; border: {border};"
            f" border-left: 5px solid {edge}; border-radius: 4px; }}"
            f" QLabel {{ background: transparent; border: none; }}"
            f" QLabel#card_value {{ color: {self.value_color().name()}; }}"
        )

    def _style(self) -> None:
        keep_styled(self, self._sheet)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A click opens the list."""
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter or Space opens the list."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Show keyboard focus on the border."""
        self._focused = True
        self._style()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Back to the plain border."""
        self._focused = False
        self._style()
        super().focusOutEvent(event)


class UtilizationChart(QWidget):
    """Horizontal bars of the most used licenses: red over the limit, amber at the warning level.

    Signals:
        license_clicked(int): the entitlement whose bar was clicked.
    """

    license_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("utilization_chart")
        self.setAccessibleName("Most used licenses")
        self.setAccessibleDescription("Seats used against seats bought; click a bar to open it")
        self.rows: list[Utilization] = []
        self.warning = 0.9
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_rows(self, rows: list[Utilization], warning_percent: int) -> None:
        """Show these licenses (most used first)."""
        self.rows = rows
        self.warning = warning_percent / 100
        listed = "; ".join(f"{r.title}: {r.used:,} of {r.quantity:,}" for r in rows)
        self.setAccessibleDescription(
            f"Seats used against seats bought. {listed}"
            if rows
            else "No licenses with a limit yet."
        )
        self.updateGeometry()
        self.update()

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 12

    def sizeHint(self) -> QSize:
        """Tall enough for every bar."""
        return QSize(480, max(3, len(self.rows)) * self._row_height() + 8)

    def minimumSizeHint(self) -> QSize:
        """Every bar stays readable."""
        return QSize(260, self.sizeHint().height())

    def color_of(self, row: Utilization) -> QColor:
        """A bar's colour."""
        if row.used > row.quantity:
            return colors().qcolor(RED)
        if row.share >= self.warning:
            return colors().qcolor(AMBER)
        return self.palette().color(QPalette.ColorRole.Highlight)

    def _layout(self) -> tuple[int, int, int]:
        """Widths of the label column, the bar area and the figures column: the labels as wide
        as the longest name needs, up to 55 % of the width (the bars keep at least 120 px)."""
        metrics = self.fontMetrics()
        figures = metrics.horizontalAdvance("99,999 / 99,999  (999 %)") + 8
        longest = max((metrics.horizontalAdvance(r.title) for r in self.rows), default=0) + 16
        room = self.width() - figures - 16
        label = max(120, min(longest, self.width() * 55 // 100, room - 120))
        bar = max(room - label, 40)
        return label, bar, figures

    def row_at(self, point: QPoint) -> int | None:
        """The row under a point, if any."""
        number = (point.y() - 4) // self._row_height()
        return number if 0 <= number < len(self.rows) and point.y() >= 4 else None

    def paintEvent(self, event: QPaintEvent) -> None:
        """Label, track, bar, the 100 % mark and the figures, per row."""
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            palette = self.palette()
            metrics = self.fontMetrics()
            if not self.rows:
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(
                    self.rect(), Qt.AlignmentFlag.AlignCenter, "No licenses with a limit yet."
                )
                return
            label_w, bar_w, fig_w = self._layout()
            height = self._row_height()
            top_share = max(1.0, *(r.share for r in self.rows))
            track = QColor(palette.color(QPalette.ColorRole.Mid))
            track.setAlpha(60)
            for number, row in enumerate(self.rows):
                y = 4 + number * height
                text_rect = QRect(0, y, label_w - 8, height)
                painter.setPen(palette.color(QPalette.ColorRole.WindowText))
                painter.drawText(
                    text_rect,
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    elide_words(row.title, metrics, label_w - 8),
                )
                bar_top = y + height // 4
                bar_h = height // 2
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(track)
                painter.drawRoundedRect(QRect(label_w, bar_top, bar_w, bar_h), 2, 2)
                painter.setBrush(self.color_of(row))
                width = max(1, round(bar_w * row.share / top_share)) if row.used else 0
                if width:
                    painter.drawRoundedRect(QRect(label_w, bar_top, width, bar_h), 2, 2)
                full = label_w + round(bar_w / top_share)
                painter.setPen(palette.color(QPalette.ColorRole.WindowText))
                painter.drawLine(full, y + 3, full, y + height - 3)  # the limit
                painter.drawText(
                    QRect(label_w + bar_w + 8, y, fig_w, height),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"{row.used:,} / {row.quantity:,}  ({row.share:.0%})",
                )
        finally:
            painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """A tooltip with the license's exact figures."""
        number = self.row_at(event.position().toPoint())
        if number is None:
            QToolTip.hideText()
            return
        row = self.rows[number]
        free = row.quantity - row.used
        state = f"{-free:,} over the limit" if free < 0 else f"{free:,} free"
        QToolTip.showText(
            event.globalPosition().toPoint(),
            f"{row.title}\n{row.used:,} of {row.quantity:,} seats used ({row.share:.1%}), "
            f"{state}.\nClick to open it in Licenses.",
            self,
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Clicking a bar opens its license."""
        number = self.row_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and number is not None:
            self.license_clicked.emit(self.rows[number].entitlement_id)


def elide_words(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` cut after a whole word with "…" when it is wider than ``width`` (never mid-word,
    unless its first word alone is too wide)."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        shorter = " ".join(words).rstrip(" —-–,") + "…"
        if metrics.horizontalAdvance(shorter) <= width:
            return shorter
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)


CARDS = [
    CardSpec(
        "over_limit",
        "Over the limit",
        "Licenses using more seats than were bought (over-commits included). Click to list them.",
    ),
    CardSpec(
        "near_limit",
        "At the warning level",
        "Licenses using at least the warning level of their seats without exceeding them. "
        "Click to list them.",
    ),
    CardSpec(
        "expiring_30",
        "Expiring within 30 days",
        "Licenses whose term ends in the next 30 days. Click to list them.",
    ),
    CardSpec(
        "expiring_60",
        "Expiring within 60 days",
        "Licenses whose term ends in the next 60 days (the 30-day ones included).",
    ),
    CardSpec(
        "expiring_90",
        "Expiring within 90 days",
        "Licenses whose term ends in the next 90 days (the 30- and 60-day ones included).",
    ),
    CardSpec(
        "unassigned",
        "Unassigned seats and units",
        "Seats bought and in term but held by no one, and what they cost at each license's "
        "unit cost. Per-core and per-processor licenses count their unused cores or "
        "processors. Click to list the licenses with free seats.",
    ),
    CardSpec(
        "findings",
        "Open findings",
        "Seats held by people who left (or are missing from HR) and seats still held on "
        "expired terms, counted per license now. Inventory findings (unlicensed installs, "
        "over-deployment, shelfware, duplicates) need the full reconciliation: click to "
        "compute them on the Reconciliation page.",
    ),
    CardSpec(
        "alerts",
        "Open alerts",
        "Alerts raised by the rules (limits, over-commits, unlicensed installs, bursts, "
        "changes outside working hours, seats of people who left) and not acknowledged yet. "
        "Click to review them.",
    ),
    CardSpec(
        "audits",
        "Audits due",
        "Scheduled vendor audits whose date has come.",
    ),
    CardSpec(
        "reviews",
        "Access reviews open",
        "Access review campaigns not closed yet (those you review, or all for administrators "
        "and auditors), their seats nobody has decided and those past their due date. Click to "
        "open Access reviews.",
    ),
    CardSpec(
        "reclaimed",
        "Seats reclaimed this month",
        "Seats that reclaim runs released this month because nobody used them, what they cost "
        "at each license's unit cost, and the same over the last twelve months. Click to open "
        "the reclaim rules and runs.",
    ),
]
LICENSE_CARDS = {
    "over_limit": EntitlementState.OVER_LIMIT,
    "near_limit": EntitlementState.NEAR_LIMIT,
    "expiring_30": EntitlementState.EXPIRING_30,
    "expiring_60": EntitlementState.EXPIRING_60,
    "expiring_90": EntitlementState.EXPIRING_90,
    "unassigned": EntitlementState.UNASSIGNED,
}


@dataclass(frozen=True)
class _Loaded:
    figures: DashboardFigures
    alerts: list[AlertRow]


class DashboardPage(Page):
    """Cards, the top-N utilization chart and the newest open alerts.

    Signals:
        licenses_requested(object): open Licenses filtered to a
            :class:`~seatledger.services.catalog.queries.EntitlementState`.
        license_requested(int): open one license.
        findings_requested(): open the Reconciliation page's findings.
        alerts_requested(int): open the alerts list (on an alert id, or 0 for none).
        audits_requested(): open the audits due (wired by the audit workflow).
        reviews_requested(): open the access review campaigns.
        reclaim_requested(): open the reclaim rules and runs.
        license_form_requested(): add the first license (the empty dashboard's action).
    """

    licenses_requested = Signal(object)
    license_requested = Signal(int)
    findings_requested = Signal()
    alerts_requested = Signal(int)
    audits_requested = Signal()
    reviews_requested = Signal()
    reclaim_requested = Signal()
    license_form_requested = Signal()

    title = "Dashboard"
    settings_group = "dashboard"
    shows_every_change = True  # licenses, seats, alerts, audits due: any change may move a figure

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.figures: DashboardFigures | None = None
        self._alerts_shown: tuple[list[AlertRow], int] | None = None

        self.heading = QLabel("Where things stand", self)
        heading_font = QFont(self.heading.font())
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.35)
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        self.as_of = QLabel("", self)
        self.as_of.setObjectName("dashboard_as_of")
        self.reload = QPushButton("&Refresh", self)
        self.reload.setToolTip("Recount every figure (F5 reloads every page)")
        self.reload.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addSpacing(12)
        top.addWidget(self.as_of, 1)
        top.addWidget(self.reload)

        self.cards: dict[str, Card] = {}
        self.grid = QGridLayout()
        self.grid.setSpacing(10)
        for spec in CARDS:
            card = Card(spec, self)
            card.clicked.connect(lambda name=spec.name: self.open_card(name))
            self.cards[spec.name] = card
        self._columns = 0

        self.chart = UtilizationChart(self)
        self.chart.license_clicked.connect(self.license_requested)
        chart_title = QLabel("<b>Most used licenses</b> — seats used against seats bought", self)
        self.alert_list = QListWidget(self)
        self.alert_list.setObjectName("recent_alerts")
        self.alert_list.setAccessibleName("Newest open alerts")
        self.alert_list.setAccessibleDescription("Enter or double-click opens the alert")
        self.alert_list.setAlternatingRowColors(True)
        self.alert_list.setWordWrap(True)
        self.alert_list.itemActivated.connect(self._alert_activated)
        alerts_title = QLabel("<b>Newest open alerts</b>", self)
        all_alerts = QPushButton("All alerts…", self)
        all_alerts.clicked.connect(lambda: self.alerts_requested.emit(0))
        self.all_alerts = all_alerts

        # Side by side when there is room, one above the other in a narrow window.
        lower = self.lower_row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        lower.setSpacing(12)
        self.alert_list.setMinimumSize(220, 140)
        left = QVBoxLayout()
        left.addWidget(chart_title)
        left.addWidget(self.chart)
        left.addStretch(1)
        right = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(alerts_title, 1)
        head.addWidget(all_alerts)
        right.addLayout(head)
        right.addWidget(self.alert_list, 1)
        lower.addLayout(left, 3)
        lower.addLayout(right, 2)

        body = QWidget(self)
        body.setObjectName("dashboard_body")
        inner = QVBoxLayout(body)
        inner.setContentsMargins(12, 12, 12, 12)
        inner.setSpacing(12)
        inner.addLayout(top)
        inner.addLayout(self.grid)
        inner.addLayout(lower, 1)
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setWidget(body)
        outer = QVBoxLayout(self.body())
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroller)
        empty = EmptyState(
            "Nothing to count yet",
            "The dashboard says where the organization stands: licenses over their limit or "
            "close to it, terms ending, seats paid for and unused, findings and alerts. It "
            "counts what was bought against who holds it: start with your purchases and your "
            "people.",
            self,
        )
        may_licenses = self.may(Permission.EDIT_LICENSES)
        may_people = self.may(Permission.EDIT_DIRECTORY)
        empty.add_action("&Add license…", self.license_form_requested.emit, enabled=may_licenses)
        empty.add_action(
            "&Import purchases…",
            lambda: self.import_requested.emit("entitlements"),
            enabled=may_licenses,
        )
        empty.add_action(
            "Import &HR list…",
            lambda: self.import_requested.emit("people"),
            enabled=may_people,
        )
        if not (may_licenses or may_people):
            empty.text.setText(
                empty.text.text() + " A license manager or an administrator adds them."
            )
        self.set_empty_state(empty)
        self._reflow(force=True)
        self._stale = True

    # ------------------------------------------------------------------ layout
    def _reflow(self, *, force: bool = False) -> None:
        # The page's own width: the scroll area's viewport is resized only after this event.
        width = max(self.width() - 24 - self.scroller.verticalScrollBar().sizeHint().width(), 0)
        columns = max(1, min(len(self.cards), width // (CARD_MIN_WIDTH + 10)))
        if columns > 3 and columns < len(self.cards):
            columns = min(columns, 5)  # 9 cards: rows of 5 and 4, not 6 and 3
        direction = (
            QBoxLayout.Direction.LeftToRight
            if width >= NARROW
            else QBoxLayout.Direction.TopToBottom
        )
        if self.lower_row.direction() != direction:
            self.lower_row.setDirection(direction)
        if columns == self._columns and not force:
            return
        self._columns = columns
        for card in self.cards.values():
            self.grid.removeWidget(card)
        for number, card in enumerate(self.cards.values()):
            self.grid.addWidget(card, number // columns, number % columns)
        for column in range(len(self.cards)):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Reflow the cards to the width."""
        super().resizeEvent(event)
        self._reflow()

    # ------------------------------------------------------------------ loading
    def refresh(self) -> None:
        """Recount in the background; the figures shown stay until the new ones arrive.

        A refresh asked for while a count runs starts a new count that supersedes it (the
        runner drops the older result), so the figures shown are never older than the last
        change.
        """
        super().refresh()
        services = self.services

        def work(_progress: Progress) -> _Loaded:
            return _Loaded(
                services.dashboard.figures(),
                services.alerts.alerts(limit=RECENT_ALERTS),
            )

        task = Task(work, self).on_done(self._show)
        task.failed.connect(self._failed)
        if self.figures is None:
            self.as_of.setText("Counting…")
        self.runner.start(task, key=(self, "figures"))

    def _failed(self, message: str, details: str) -> None:
        self.as_of.setText("The figures could not be counted.")
        self.show_error(message, details)

    def _show(self, loaded: _Loaded) -> None:
        figures = self.figures = loaded.figures
        self.as_of.setText(f"{figures.today:%A %d %B %Y} · {plural(figures.licenses, 'license')}")
        self._show_cards(figures)
        self.chart.set_rows(figures.top, figures.warning_percent)
        self._show_alerts(loaded.alerts, figures.open_alerts)
        self.show_empty(figures.licenses == 0)

    def _show_cards(self, f: DashboardFigures) -> None:
        def licenses(count: int, number: bool = True) -> str:
            return plural(count, "license") if number else agree(count, "license")

        cards = self.cards
        cards["over_limit"].set_figure(
            f"{f.over_limit:,}",
            f"{licenses(f.over_limit, False)} beyond what was bought",
            RED if f.over_limit else GREEN,
        )
        cards["near_limit"].title.setText(f"At {f.warning_percent} % or more")
        cards["near_limit"].set_figure(
            f"{f.near_limit:,}",
            f"{licenses(f.near_limit, False)} close to the limit",
            AMBER if f.near_limit else GREEN,
        )
        for days in (30, 60, 90):
            count = f.expiring[days]
            color = (AMBER if days == 30 else GREY) if count else GREEN
            cards[f"expiring_{days}"].set_figure(
                f"{count:,}", f"{licenses(count, False)} ending by {_ends(f, days)}", color
            )
        cost = money(f.unassigned_cost)
        note = f"{cost} paid for, unused" if cost else "no unit cost recorded"
        if cost and f.unassigned_uncosted:
            note += f" (+{f.unassigned_uncosted:,} seats without a cost)"
        cards["unassigned"].set_figure(
            f"{f.unassigned_seats:,}", note, AMBER if f.unassigned_cost else GREY
        )
        parts = []
        if f.departed_findings:
            parts.append(f"{licenses(f.departed_findings)} with seats of people who left")
        if f.expired_findings:
            parts.append(f"{licenses(f.expired_findings)} expired but still held")
        cards["findings"].set_figure(
            f"{f.findings:,}",
            "; ".join(parts) if parts else "none counted here; inventory needs a reconciliation",
            RED if f.findings else GREEN,
        )
        alert_color = RED if f.open_alerts_high else (AMBER if f.open_alerts else GREEN)
        cards["alerts"].set_figure(
            f"{f.open_alerts:,}",
            f"{f.open_alerts_high:,} of high severity" if f.open_alerts else "nothing to review",
            alert_color,
        )
        if f.audits_due is None:
            cards["audits"].set_figure("—", "audits are not tracked yet", GREY, enabled=False)
        else:
            cards["audits"].set_figure(
                f"{f.audits_due:,}",
                "scheduled audits whose date has come",
                AMBER if f.audits_due else GREEN,
            )
        reviews = f.reviews
        if reviews is None:
            cards["reviews"].set_figure("—", "access reviews are not tracked", GREY, enabled=False)
        elif not reviews.open:
            cards["reviews"].set_figure("0", "no campaign open", GREEN)
        else:
            note = f"{plural(reviews.undecided, 'seat')} undecided"
            if reviews.overdue:
                note += f"; {reviews.overdue:,} overdue"
            color = RED if reviews.overdue else (AMBER if reviews.undecided else GREEN)
            cards["reviews"].set_figure(f"{reviews.open:,}", note, color)
        reclaimed = f.reclaimed
        if reclaimed is None:
            cards["reclaimed"].set_figure("—", "reclaim runs are not tracked", GREY, enabled=False)
        else:
            cost = money(reclaimed.month_cost)
            note = f"{cost} no longer paid for" if cost else "no unit cost recorded"
            if not reclaimed.month:
                note = "none released this month"
            if reclaimed.year:
                note += f"; {plural(reclaimed.year, 'seat')} in 12 months"
                year_cost = money(reclaimed.year_cost)
                if year_cost:
                    note += f" ({year_cost})"
            else:
                note = "none released in the last 12 months"
            cards["reclaimed"].set_figure(
                f"{reclaimed.month:,}", note, GREEN if reclaimed.month else GREY
            )

    def changeEvent(self, event: QEvent) -> None:
        """Light to dark or back: the alerts' severity colours follow."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._alerts_shown is not None:
            self._show_alerts(*self._alerts_shown)

    def _show_alerts(self, alerts: list[AlertRow], total: int) -> None:
        self._alerts_shown = (alerts, total)
        self.alert_list.clear()
        if not alerts:
            item = QListWidgetItem("No open alerts.", self.alert_list)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            return
        for alert in alerts:
            when = alert.raised_at.astimezone().strftime("%d %b %H:%M")
            who = f" · by {alert.operator}" if alert.operator else ""
            item = QListWidgetItem(
                f"● {alert.subject}\n    {alert.rule.label} · {when}{who}", self.alert_list
            )
            item.setForeground(colors().qcolor(_SEVERITY_COLOR[alert.severity]))
            item.setToolTip(f"{alert.severity.label}: {alert.detail}\nDouble-click to review.")
            item.setData(_ALERT_ID, alert.id)
        if total > len(alerts):
            more = QListWidgetItem(f"… and {total - len(alerts):,} more", self.alert_list)
            more.setData(_ALERT_ID, 0)

    def _alert_activated(self, item: QListWidgetItem) -> None:
        alert_id = item.data(_ALERT_ID)
        if isinstance(alert_id, int):
            self.alerts_requested.emit(alert_id)

    # ------------------------------------------------------------------ cards
    def open_card(self, name: str) -> None:
        """Open the list behind a card."""
        if name in LICENSE_CARDS:
            self.licenses_requested.emit(LICENSE_CARDS[name])
        elif name == "findings":
            self.findings_requested.emit()
        elif name == "alerts":
            self.alerts_requested.emit(0)
        elif name == "audits" and self.cards["audits"].isEnabled():
            self.audits_requested.emit()
        elif name == "reviews" and self.cards["reviews"].isEnabled():
            self.reviews_requested.emit()
        elif name == "reclaimed" and self.cards["reclaimed"].isEnabled():
            self.reclaim_requested.emit()

    def focus_search(self) -> None:
        """The first card takes the focus (the dashboard has no search), or the first action
        of an empty dashboard."""
        if self.showing_empty and self.empty_state is not None and self.empty_state.buttons:
            self.empty_state.buttons[0].setFocus()
            return
        self.cards["over_limit"].setFocus()


def _ends(figures: DashboardFigures, days: int) -> str:
    return f"{figures.today + dt.timedelta(days=days):%d %b}"
