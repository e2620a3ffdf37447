"""The colours charts are drawn in, one set on a light background and one on a dark background.

Files (PNG, SVG, the audit report's charts) are always drawn in :data:`LIGHT_CHART`: they end up
on paper or in a PDF.  The Usage page draws in the set that matches the window's palette.  Text
colours keep a contrast of at least 4.5:1 against their background and lines at least 3:1 (WCAG
2.1, 1.4.3 and 1.4.11; tests/charts/test_chart_colors.py measures them).  Importing this module
loads neither pyqtgraph nor numpy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartColors:
    """The colours of one chart style (``#rrggbb`` strings)."""

    background: str
    text: str
    axis: str
    muted_text: str
    used: str
    limit: str
    installs: str
    peaks: str
    forecast: str
    cursor: str
    warning_band: tuple[int, int, int, int]
    warning_edge: tuple[int, int, int, int]
    legend_background: tuple[int, int, int, int]

    @property
    def text_colors(self) -> dict[str, str]:
        """The colours text is drawn in, by name (each must read on :attr:`background`)."""
        return {"text": self.text, "axis": self.axis, "muted text": self.muted_text,
                "limit label": self.limit}  # fmt: skip

    @property
    def line_colors(self) -> dict[str, str]:
        """The colours of lines and bars, by name (each must stand out from the background)."""
        return {"used": self.used, "limit": self.limit, "installs": self.installs,
                "peaks": self.peaks, "forecast": self.forecast}  # fmt: skip


LIGHT_CHART = ChartColors(
    background="#ffffff",
    text="#222222",
    axis="#444444",
    muted_text="#5f5f5f",
    used="#1f5fbf",
    limit="#c0392b",
    installs="#2e8b57",
    peaks="#8e44ad",
    forecast="#555555",
    cursor="#999999",
    warning_band=(245, 166, 35, 70),
    warning_edge=(230, 140, 20, 160),
    legend_background=(255, 255, 255, 220),
)

DARK_CHART = ChartColors(
    background="#1e1e1e",
    text="#e6e6e6",
    axis="#c8c8c8",
    muted_text="#b0b0b0",
    used="#7fb0ff",
    limit="#ff7a6b",
    installs="#5fd18b",
    peaks="#cf9be6",
    forecast="#bdbdbd",
    cursor="#8a8a8a",
    warning_band=(255, 183, 77, 60),
    warning_edge=(255, 183, 77, 170),
    legend_background=(30, 30, 30, 220),
)
