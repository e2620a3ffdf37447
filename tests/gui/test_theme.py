"""Light and dark: View > Theme, the desktop's scheme, and every colour readable in both.

Contrast is WCAG 2.1's: (L1 + 0.05) / (L2 + 0.05) of the relative luminances; text needs 4.5:1
(1.4.3), lines and bars 3:1 (1.4.11).  The colours are read from the running application after
the theme is applied, so a palette or a colour that changes is measured as the user sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from seatledger.services.operators.session import Services
from seatledger.ui.dialogs.common import InlineMessage
from seatledger.ui.main_window import DASHBOARD, MainWindow
from seatledger.ui.pages.dashboard import GREY
from seatledger.ui.theme import (
    DARK,
    LIGHT,
    SETTING,
    Colors,
    Theme,
    colors,
    is_dark,
    keep_notice_styled,
    theme_keeper,
)

pytestmark = pytest.mark.gui

ROLE = QPalette.ColorRole
TEXT_ON = [
    (ROLE.WindowText, ROLE.Window),
    (ROLE.Text, ROLE.Base),
    (ROLE.Text, ROLE.AlternateBase),
    (ROLE.ButtonText, ROLE.Button),
    (ROLE.HighlightedText, ROLE.Highlight),
    (ROLE.ToolTipText, ROLE.ToolTipBase),
    (ROLE.Link, ROLE.Base),
    (ROLE.Link, ROLE.Window),
    (ROLE.PlaceholderText, ROLE.Base),  # counts in the navigation, notes under charts
    (ROLE.PlaceholderText, ROLE.Window),
]


def luminance(color: QColor) -> float:
    """WCAG relative luminance of an opaque colour."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(color.redF())
        + 0.7152 * linear(color.greenF())
        + 0.0722 * linear(color.blueF())
    )


def contrast(a: QColor | str, b: QColor | str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((luminance(QColor(a)), luminance(QColor(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_matches_the_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic fail
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.fixture
def use_theme(qapp: Any) -> Iterator[Callable[[Theme], None]]:
    """Apply a theme to the application; the desktop's comes back afterwards."""
    keeper = theme_keeper()
    yield keeper.apply
    keeper.apply(Theme.SYSTEM)


def _text_pairs(found: Colors, palette: QPalette) -> list[tuple[str, str, str]]:
    """(what, text colour, background) for every custom colour drawn as text."""
    window = palette.color(ROLE.Window).name()
    base = palette.color(ROLE.Base).name()
    pairs = []
    for name in ("bad", "warn", "good", "neutral"):
        text = getattr(found, name)
        pairs += [(f"{name} on the window", text, window), (f"{name} in a table", text, base)]
        pairs.append(
            (f"{name} on the alternate row", text, palette.color(ROLE.AlternateBase).name())
        )
    for tint in ("bad", "warn", "good"):  # a dashboard card's figure on its tint
        pairs.append((f"{tint} card", getattr(found, tint), getattr(found, f"tint_{tint}")))
        pairs.append(
            (
                f"card title on {tint}",
                palette.color(ROLE.WindowText).name(),
                getattr(found, f"tint_{tint}"),
            )
        )
    for kind in ("error", "warning", "info"):
        background, text, _border = getattr(found, f"notice_{kind}")
        pairs.append((f"{kind} message", text, background))
        pairs.append((f"link in a {kind} message", palette.color(ROLE.Link).name(), background))
    pairs.append(("demo badge", found.badge[1], found.badge[0]))
    pairs.append(("text in a refused field", palette.color(ROLE.Text).name(), found.invalid_base))
    chart = found.chart
    for what, text in chart.text_colors.items():
        pairs.append((f"chart {what}", text, chart.background))
    return pairs


@pytest.mark.parametrize("theme", [Theme.LIGHT, Theme.DARK])
def test_every_text_colour_reads_at_4_5_to_1(
    use_theme: Callable[[Theme], None], theme: Theme
) -> None:
    use_theme(theme)
    palette = QGuiApplication.palette()
    assert is_dark(palette) is (theme is Theme.DARK)
    found = colors()
    assert found is (DARK if theme is Theme.DARK else LIGHT)
    low = [
        f"{text.name} on {back.name}: {contrast(palette.color(text), palette.color(back)):.2f}"
        for text, back in TEXT_ON
        if contrast(palette.color(text), palette.color(back)) < 4.5
    ]
    low += [
        f"{what}: {text} on {background}: {contrast(text, background):.2f}"
        for what, text, background in _text_pairs(found, palette)
        if contrast(text, background) < 4.5
    ]
    assert low == []


@pytest.mark.parametrize("found", [LIGHT, DARK], ids=["light", "dark"])
def test_chart_lines_stand_out_at_3_to_1(found: Colors) -> None:
    chart = found.chart
    low = {
        what: round(contrast(line, chart.background), 2)
        for what, line in chart.line_colors.items()
        if contrast(line, chart.background) < 3
    }
    assert low == {}


def test_view_theme_switches_the_window_and_is_remembered(
    use_theme: Callable[[Theme], None],
    make_window: Callable[[Services], MainWindow],
    admin: Services,
    settings: QSettings,
    qtbot: QtBot,
) -> None:
    window = make_window(admin)
    assert window.menu_actions["theme_system"].isChecked()
    window.nav.setCurrentRow(DASHBOARD)
    card = window.dashboard.cards["over_limit"]
    qtbot.waitUntil(lambda: card.value.text() != "…")
    light_background = card.background_color()

    window.menu_actions["theme_dark"].trigger()
    assert settings.value(SETTING) == "dark"
    assert window.menu_actions["theme_dark"].isChecked()
    qtbot.waitUntil(lambda: is_dark(window.palette()))  # widgets take it from a posted event
    # The card restyled itself: its figure and background are the dark set's.
    assert card.value_color() == QColor(DARK.good)
    assert card.background_color() == QColor(DARK.tint_good)
    assert card.background_color() != light_background
    assert DARK.tint_good in card.styleSheet()
    assert contrast(card.value_color(), card.background_color()) >= 4.5

    window.menu_actions["theme_light"].trigger()
    assert settings.value(SETTING) == "light"
    qtbot.waitUntil(lambda: not is_dark(window.palette()))
    assert LIGHT.tint_good in card.styleSheet()

    # A new window on the same settings comes back dark.
    settings.setValue(SETTING, "dark")
    theme_keeper().apply(Theme.SYSTEM)
    again = make_window(admin)
    qtbot.waitUntil(lambda: is_dark(again.palette()))
    assert again.menu_actions["theme_dark"].isChecked()


def test_a_grey_card_takes_the_window_text(
    use_theme: Callable[[Theme], None], window: MainWindow, qtbot: QtBot
) -> None:
    window.nav.setCurrentRow(DASHBOARD)
    card = window.dashboard.cards["expiring_60"]
    card.set_figure("3", "three", GREY)
    for theme in (Theme.LIGHT, Theme.DARK):
        use_theme(theme)
        qtbot.waitUntil(lambda t=theme: is_dark(window.palette()) is (t is Theme.DARK))
        assert card.value_color() == window.palette().color(ROLE.WindowText)
        assert contrast(card.value_color(), window.palette().color(ROLE.Window)) >= 4.5


def test_system_follows_the_desktop_scheme(
    use_theme: Callable[[Theme], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = theme_keeper()
    monkeypatch.setattr("seatledger.ui.theme.desktop_scheme", lambda: Qt.ColorScheme.Dark)
    use_theme(Theme.SYSTEM)
    assert is_dark()  # the offscreen platform's palette is light: SeatLedger's dark one is set
    monkeypatch.setattr("seatledger.ui.theme.desktop_scheme", lambda: Qt.ColorScheme.Light)
    keeper._desktop_changed(Qt.ColorScheme.Light)  # what colorSchemeChanged calls
    assert not is_dark()
    # An explicit choice is not overridden by the desktop changing.
    use_theme(Theme.DARK)
    keeper._desktop_changed(Qt.ColorScheme.Light)
    assert is_dark()


def test_the_window_follows_the_desktop_when_qt_announces_a_new_scheme(
    use_theme: Callable[[Theme], None],
    window: MainWindow,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Qt's own signal (``QStyleHints.colorSchemeChanged``, as a desktop switching to dark sends
    it) turns the open window dark and back, its style-sheet colours included.  The offscreen
    platform cannot switch its scheme, so the signal is emitted here and the scheme it reports
    is the one the desktop would."""
    use_theme(Theme.SYSTEM)
    window.nav.setCurrentRow(DASHBOARD)
    card = window.dashboard.cards["over_limit"]
    qtbot.waitUntil(lambda: card.value.text() != "…")
    assert LIGHT.tint_good in card.styleSheet()
    hints = QGuiApplication.styleHints()
    scheme = [Qt.ColorScheme.Dark]
    monkeypatch.setattr("seatledger.ui.theme.desktop_scheme", lambda: scheme[0])
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.waitUntil(lambda: is_dark(window.palette()))
    assert card.background_color() == QColor(DARK.tint_good)
    assert not window.menu_actions["theme_dark"].isChecked()  # still following the desktop
    scheme[0] = Qt.ColorScheme.Light
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qtbot.waitUntil(lambda: not is_dark(window.palette()))
    assert card.background_color() == QColor(LIGHT.tint_good)


def test_notices_take_their_kinds_colours_in_either_palette(
    use_theme: Callable[[Theme], None], qtbot: QtBot
) -> None:
    """An inline message and a page's banner are styled by name, with the notice colours of their
    kind, and restyled when the palette changes."""
    message = InlineMessage()
    banner = QLabel()
    banner.setObjectName("auditsDue")
    for widget in (message, banner):
        qtbot.addWidget(widget)
    use_theme(Theme.LIGHT)
    message.show_message("Saved.", "info")
    keep_notice_styled(banner, "warning")
    for palette in (LIGHT, DARK):
        if palette is DARK:
            use_theme(Theme.DARK)
            qtbot.waitUntil(lambda: DARK.notice_info[0] in message.styleSheet())
        for widget, (background, text, border) in (
            (message, palette.notice_info),
            (banner, palette.notice_warning),
        ):
            sheet = widget.styleSheet()
            assert sheet.startswith(f"QLabel#{widget.objectName()} {{")
            assert f"background:{background}; color:{text}; border:1px solid {border};" in sheet
