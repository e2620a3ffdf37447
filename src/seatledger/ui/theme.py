"""Light and dark: the window's palette, the colours that carry meaning, and View > Theme.

The window follows the desktop's colour scheme (``QStyleHints.colorScheme()``, Qt 6.5+) unless
the user picks Light or Dark in View > Theme (remembered in the settings).  Where the desktop's
own palette already matches the scheme (Windows 11, macOS, KDE), it is kept; where it does not
(a desktop that reports dark but gives Qt a light palette, or an explicit choice), SeatLedger's
palettes below are set, with the Fusion style, which draws every palette role.

Everything that is not a palette role (red over the limit, amber ending soon, the dashboard's
tints, alert severities, the charts) comes from :func:`colors`, which answers for the palette in
use; widgets that bake a colour into a style sheet restyle on ``PaletteChange``.  Every text
colour here reads at 4.5:1 or more on the backgrounds it is drawn on (tests/gui/test_theme.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from seatledger.charts.colors import DARK_CHART, LIGHT_CHART, ChartColors

SETTING = "view/theme"
_ROLE = QPalette.ColorRole
_GROUP = QPalette.ColorGroup
_PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)


class Theme(StrEnum):
    """What the user picked in View > Theme."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"

    @property
    def label(self) -> str:
        """The menu entry."""
        return {"system": "&System", "light": "&Light", "dark": "&Dark"}[self.value]


@dataclass(frozen=True)
class Colors:
    """Colours that carry meaning, for one palette (``#rrggbb`` strings).

    ``bad``, ``warn``, ``good`` and ``neutral`` are text colours (over the limit, close to it or
    ending soon, all well, no longer current); the tints are the dashboard cards' backgrounds
    behind them; the notices are the inline messages' (background, text, border).
    """

    dark: bool
    bad: str
    warn: str
    good: str
    neutral: str
    tint_bad: str
    tint_warn: str
    tint_good: str
    invalid_base: str
    notice_error: tuple[str, str, str]
    notice_warning: tuple[str, str, str]
    notice_info: tuple[str, str, str]
    badge: tuple[str, str]
    chart: ChartColors

    def qcolor(self, name: str) -> QColor:
        """One of the text colours as a QColor (``"bad"``, ``"warn"``…)."""
        value = getattr(self, name)
        assert isinstance(value, str)
        return QColor(value)


LIGHT = Colors(
    dark=False,
    bad="#b71c1c",
    warn="#8a5300",
    good="#1b6e20",
    neutral="#5f5f5f",
    tint_bad="#fdecea",
    tint_warn="#fff4e0",
    tint_good="#edf7ee",
    invalid_base="#fde7e7",
    notice_error=("#fdecea", "#5f1a14", "#f1b5b0"),
    notice_warning=("#fff4e0", "#5c3b00", "#f3d08b"),
    notice_info=("#e8f1fb", "#0d3a61", "#b6d3f2"),
    badge=("#8a5300", "#ffffff"),
    chart=LIGHT_CHART,
)

DARK = Colors(
    dark=True,
    bad="#ff8a80",
    warn="#ffb74d",
    good="#81c784",
    neutral="#b0b0b0",
    tint_bad="#3d2323",
    tint_warn="#3a2f1a",
    tint_good="#1f3322",
    invalid_base="#4a2326",
    notice_error=("#3d2323", "#ffd2cc", "#8c3b36"),
    notice_warning=("#3a2f1a", "#ffe0b2", "#8a6a2a"),
    notice_info=("#1d2b3a", "#cfe3fb", "#3c5f86"),
    badge=("#8a5300", "#ffffff"),
    chart=DARK_CHART,
)


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether a palette (the application's by default) has light text on a dark window."""
    used = palette if palette is not None else QGuiApplication.palette()
    return used.color(_ROLE.Window).lightness() < used.color(_ROLE.WindowText).lightness()


def colors(palette: QPalette | None = None) -> Colors:
    """The meaningful colours for a palette (the application's by default)."""
    return DARK if is_dark(palette) else LIGHT


def _palette(spec: dict[QPalette.ColorRole, str], disabled: str) -> QPalette:
    palette = QPalette()
    for role, value in spec.items():
        palette.setColor(role, QColor(value))
    for role in (_ROLE.WindowText, _ROLE.Text, _ROLE.ButtonText, _ROLE.HighlightedText):
        palette.setColor(_GROUP.Disabled, role, QColor(disabled))
    return palette


def light_palette() -> QPalette:
    """SeatLedger's light palette (placeholder text dark enough to read, unlike Fusion's)."""
    return _palette(
        {
            _ROLE.Window: "#efefef",
            _ROLE.WindowText: "#1a1a1a",
            _ROLE.Base: "#ffffff",
            _ROLE.AlternateBase: "#f5f5f5",
            _ROLE.Text: "#1a1a1a",
            _ROLE.Button: "#efefef",
            _ROLE.ButtonText: "#1a1a1a",
            _ROLE.Highlight: "#2f65ca",
            _ROLE.HighlightedText: "#ffffff",
            _ROLE.Link: "#1a5fb4",
            _ROLE.LinkVisited: "#6a3ab4",
            _ROLE.PlaceholderText: "#616161",
            _ROLE.ToolTipBase: "#ffffdc",
            _ROLE.ToolTipText: "#1a1a1a",
            _ROLE.BrightText: "#ffffff",
            _ROLE.Light: "#ffffff",
            _ROLE.Midlight: "#e3e3e3",
            _ROLE.Mid: "#a0a0a0",
            _ROLE.Dark: "#9f9f9f",
            _ROLE.Shadow: "#767676",
        },
        disabled="#8c8c8c",
    )


def dark_palette() -> QPalette:
    """SeatLedger's dark palette."""
    return _palette(
        {
            _ROLE.Window: "#2a2a2a",
            _ROLE.WindowText: "#e8e8e8",
            _ROLE.Base: "#1e1e1e",
            _ROLE.AlternateBase: "#262626",
            _ROLE.Text: "#e8e8e8",
            _ROLE.Button: "#353535",
            _ROLE.ButtonText: "#e8e8e8",
            _ROLE.Highlight: "#2f65ca",
            _ROLE.HighlightedText: "#ffffff",
            _ROLE.Link: "#8ab4f8",
            _ROLE.LinkVisited: "#c58af9",
            _ROLE.PlaceholderText: "#a8a8a8",
            _ROLE.ToolTipBase: "#353535",
            _ROLE.ToolTipText: "#e8e8e8",
            _ROLE.BrightText: "#ffffff",
            _ROLE.Light: "#4a4a4a",
            _ROLE.Midlight: "#3d3d3d",
            _ROLE.Mid: "#6a6a6a",
            _ROLE.Dark: "#181818",
            _ROLE.Shadow: "#000000",
        },
        disabled="#7a7a7a",
    )


class _VisibleIndicators(QProxyStyle):
    """Fusion, with check boxes and radio buttons outlined in a colour that stands out from the
    window (3:1 or more): Fusion outlines them in a darker shade of the window, which on a dark
    window is all but invisible."""

    _OUTLINED = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorRadioButton,
        QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
    )

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        """Fusion's drawing, then the outline."""
        super().drawPrimitive(element, option, painter, widget)
        if element not in self._OUTLINED:
            return
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        color = option.palette.color(_ROLE.PlaceholderText)
        if not enabled:
            color.setAlpha(110)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        box = option.rect.adjusted(1, 1, -1, -1).toRectF().adjusted(0.5, 0.5, -0.5, -0.5)
        if element is QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(box)
        else:
            painter.drawRoundedRect(box, 2, 2)
        painter.restore()


def saved_theme(settings: QSettings) -> Theme:
    """The theme remembered in the settings (System when none, or an unknown value)."""
    value = str(settings.value(SETTING, Theme.SYSTEM.value))
    return Theme(value) if value in {t.value for t in Theme} else Theme.SYSTEM


def desktop_scheme() -> Qt.ColorScheme:
    """The desktop's colour scheme as Qt reports it (Unknown where it cannot tell)."""
    return QGuiApplication.styleHints().colorScheme()


class ThemeKeeper(QObject):
    """Applies a theme to the application and re-applies it when the desktop's scheme changes.

    One per application (:func:`theme_keeper`); the main window's View > Theme talks to it.

    Signals:
        palette_changed(): a theme was applied (by the user, or because the desktop's scheme
            changed); widgets with colours in style sheets restyle.  (A widget with a style
            sheet gets no ``PaletteChange`` event of its own.)
    """

    palette_changed = Signal()

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._native_style = app.style().name()
        self.theme = Theme.SYSTEM
        app.styleHints().colorSchemeChanged.connect(self._desktop_changed)

    def apply(self, theme: Theme) -> None:
        """Use ``theme`` now (every window repaints in it)."""
        self.theme = theme
        wanted = {Theme.LIGHT: Qt.ColorScheme.Light, Theme.DARK: Qt.ColorScheme.Dark}.get(
            theme, Qt.ColorScheme.Unknown
        )
        hints = self._app.styleHints()
        if hasattr(hints, "setColorScheme"):  # Qt 6.8+: the platform draws natively in it
            hints.setColorScheme(wanted)  # Unknown: follow the desktop again
        if theme is Theme.SYSTEM:
            self._use(None)  # the platform's own palette first
            scheme = desktop_scheme()
            if scheme is Qt.ColorScheme.Dark and not is_dark():
                self._use(dark_palette())
            elif scheme is Qt.ColorScheme.Light and is_dark():
                self._use(light_palette())
        else:
            self._use(dark_palette() if theme is Theme.DARK else light_palette())
        self.palette_changed.emit()

    def _use(self, palette: QPalette | None) -> None:
        if palette is None:
            if isinstance(self._app.style(), _VisibleIndicators):
                self._app.setStyle(self._native_style)
            self._app.setPalette(QPalette())  # an empty palette resolves to the platform's
            return
        if not isinstance(self._app.style(), _VisibleIndicators):
            self._app.setStyle(_VisibleIndicators())
        self._app.setPalette(palette)

    def _desktop_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.theme is Theme.SYSTEM:
            self.apply(Theme.SYSTEM)


def theme_keeper() -> ThemeKeeper:
    """The application's theme keeper (made on first use)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    found = app.findChild(ThemeKeeper)
    return found if isinstance(found, ThemeKeeper) else ThemeKeeper(app)


class _Restyler(QObject):
    """Keeps a widget's style sheet in step with the palette (see :func:`keep_styled`)."""

    def __init__(self, widget: QWidget, sheet: Callable[[], str]) -> None:
        super().__init__(widget)
        self._widget = widget
        self.sheet = sheet
        widget.installEventFilter(self)
        theme_keeper().palette_changed.connect(self.restyle)

    def restyle(self) -> None:
        """Set the style sheet for the palette in use (only if it differs: no event loop)."""
        text = self.sheet()
        if self._widget.styleSheet() != text:
            self._widget.setStyleSheet(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On a palette change, restyle."""
        if event.type() in _PALETTE_EVENTS:
            self.restyle()
        return False


def keep_styled(widget: QWidget, sheet: Callable[[], str]) -> None:
    """Give ``widget`` the style sheet ``sheet()`` returns, now and whenever the palette changes
    (light to dark or back).  ``sheet`` reads :func:`colors` each time; calling this again
    replaces the function."""
    found = widget.findChild(_Restyler, options=Qt.FindChildOption.FindDirectChildrenOnly)
    restyler = found if isinstance(found, _Restyler) else _Restyler(widget, sheet)
    restyler.sheet = sheet
    restyler.restyle()


def notice_sheet(name: str, kind: str) -> str:
    """The style of the label named ``name`` as an ``error``, ``warning`` or ``info`` notice, in
    the palette in use."""
    found = colors()
    background, text, border = {
        "error": found.notice_error,
        "warning": found.notice_warning,
        "info": found.notice_info,
    }[kind]
    return (
        f"QLabel#{name} {{ background:{background}; color:{text};"
        f" border:1px solid {border}; border-radius:4px; padding:6px 8px; }}"
    )


def keep_notice_styled(label: QWidget, kind: str) -> None:
    """Style a label (by its object name) as a notice of ``kind``, in light and dark alike."""
    name = label.objectName()
    keep_styled(label, lambda: notice_sheet(name, kind))
