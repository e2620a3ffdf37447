"""The usage chart: rights used per day against the limit, the warning band, installs, concurrent
peaks and the forecast, on a date axis.

:func:`draw_usage` draws into any pyqtgraph ``PlotItem`` (the Usage page's, or one made here);
:func:`render_usage_chart` writes the chart as a PNG or SVG file without showing a window.  Both
draw the same things in the same colours, so what a report embeds is what the window shows.

Daily values are drawn as steps: a day's value holds from its midnight to the next (UTC), so a
renewal or a true-up changes the limit exactly at the day it took effect.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QApplication

from seatledger.charts.colors import LIGHT_CHART, ChartColors
from seatledger.domain.usage import UsageSeries, to_date
from seatledger.errors import KnownError
from seatledger.paths import replaced

DAY = 86_400.0
# The light chart's colours, as files are drawn (see seatledger.charts.colors for both sets).
USED = LIGHT_CHART.used
LIMIT = LIGHT_CHART.limit
TEXT = LIGHT_CHART.text
GRID_ALPHA = 0.12
LEGEND_LIMIT = 8  # more series than this: no legend (it would cover the plot)
LEGEND_COLUMNS = 3
HEADROOM = 1.25  # room above the data for the legend

_DASH = Qt.PenStyle.DashLine
_DOT = Qt.PenStyle.DotLine


def epoch_days(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """Days as days since 1970-01-01: the x values of every chart (see :class:`DayAxis`)."""
    return days.astype("datetime64[D]").astype(np.int64).astype(np.float64)


def _edges(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    x = epoch_days(days)
    return np.append(x, x[-1] + 1) if len(x) else x


def _steps(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Values for ``stepMode="left"`` over :func:`_edges`: each day's value from its start to the
    next day's, the last one repeated to close its day.  ("center" needs one x more than y, which
    pyqtgraph's clip-to-view breaks on the first zoom.)"""
    floats = values.astype(np.float64)
    return np.append(floats, floats[-1]) if len(floats) else floats


def _x(day: dt.date) -> float:
    return float((day - dt.date(1970, 1, 1)).days)


_DAYS_IN = {"day": 1.0, "month": 30.44, "year": 365.25}
# The tick steps the axis chooses from, finest first: the first whose labels fit is used.
TICK_STEPS: tuple[tuple[str, int], ...] = (
    ("day", 1), ("day", 2), ("day", 7), ("day", 14),
    ("month", 1), ("month", 2), ("month", 3), ("month", 6),
    ("year", 1), ("year", 2), ("year", 5), ("year", 10), ("year", 25), ("year", 50),
)  # fmt: skip
# The widest label of each kind (the spacing is chosen so that these never touch).
_WIDEST = {"day": "28 Sep 2026", "month": "Sep 2026", "year": "2026"}
_LABEL_PADDING = 16
_EPOCH = dt.date(1970, 1, 1)
_MONDAY = 4  # 1970-01-01 was a Thursday: day 4 was a Monday


class DayAxis(pg.AxisItem):  # type: ignore[misc]
    """A date axis over x values in days since 1970 (UTC), readable at every zoom.

    It picks one step (days, weeks, months or years) whose labels fit the width, and every
    label names its date on its own: "2 Jan 2026" for days, "Jan 2026" for months, "2027" for
    years (pyqtgraph's ``DateAxisItem`` writes a day as "02" and a month as "Feb", which say
    nothing of the month or year, and on a narrow chart of a year writes nothing at all).
    Days keep the numbers small where seconds since 1970 (near 1.7e9) lose day-to-day steps to
    an SVG's rounding.
    """

    def __init__(self) -> None:
        super().__init__(orientation="bottom")
        self.step: tuple[str, int] = ("month", 1)
        self._metrics: QFontMetrics | None = None

    def _label_width(self, kind: str) -> int:
        metrics = self._metrics or QFontMetrics(self.style["tickFont"] or QFont())
        return metrics.horizontalAdvance(_WIDEST[kind]) + _LABEL_PADDING

    def choose_step(self, span_days: float, pixels: float) -> tuple[str, int]:
        """The finest step whose labels fit ``pixels`` for a range of ``span_days``."""
        for kind, count in TICK_STEPS:
            spacing = count * _DAYS_IN[kind] / max(span_days, 1e-9) * pixels
            if spacing >= self._label_width(kind):
                return kind, count
        return TICK_STEPS[-1]

    def tickValues(
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, list[float]]]:
        """One level of ticks, at the chosen step's dates within the range."""
        if not (np.isfinite(minVal) and np.isfinite(maxVal)) or maxVal <= minVal or size <= 0:
            return []
        self.step = self.choose_step(maxVal - minVal, size)
        kind, count = self.step
        first = _EPOCH + dt.timedelta(days=max(int(np.floor(minVal)), -700_000))
        last = _EPOCH + dt.timedelta(days=min(int(np.ceil(maxVal)), 2_900_000))
        days: list[dt.date] = []
        if kind == "day":
            day = first
            while day <= last:
                number = (day - _EPOCH).days
                if count == 1 or (count == 2 and number % 2 == 0):
                    days.append(day)
                elif count in (7, 14) and (number - _MONDAY) % count == 0:
                    days.append(day)  # Mondays (every other one for 14)
                day += dt.timedelta(days=1)
        elif kind == "month":
            year, month = first.year, first.month
            while (year, month) <= (last.year, last.month):
                if (month - 1) % count == 0:
                    days.append(dt.date(year, month, 1))
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        else:
            for year in range(first.year - first.year % count, last.year + 1, count):
                if dt.MINYEAR <= year <= dt.MAXYEAR:
                    days.append(dt.date(year, 1, 1))
        values = [float((d - _EPOCH).days) for d in days]
        inside = [v for v in values if minVal <= v <= maxVal]
        if kind == "day" and len(inside) < 2:
            # Zoomed in to a day or two: each day is named at its middle.
            inside = [v + 0.5 for v in values if minVal <= v + 0.5 <= maxVal]
            inside = inside or [(minVal + maxVal) / 2]  # within one day: name it
        return [(count * _DAYS_IN[kind], inside)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Each tick's date, whole: "2 Jan 2026", "Jan 2026" or "2027"."""
        kind, _count = self.step
        labels = []
        for value in values:
            day = _EPOCH + dt.timedelta(days=int(np.floor(value)))
            if kind == "day":
                labels.append(f"{day.day} {day:%b %Y}")
            elif kind == "month":
                labels.append(f"{day:%b %Y}")
            else:
                labels.append(f"{day.year}")
        return labels

    def generateDrawSpecs(self, p: QPainter) -> Any:
        """Measure labels with the painter's font, then lay the axis out."""
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        self._metrics = p.fontMetrics()
        return super().generateDrawSpecs(p)


def _pen(color: str | QColor, width: float = 2.0, style: Qt.PenStyle | None = None) -> Any:
    pen = pg.mkPen(color, width=width)
    if style is not None:
        pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


@dataclass
class DrawnUsage:
    """What :func:`draw_usage` put into a plot (the Usage page reads it for its hover readout)."""

    series: list[UsageSeries]
    items: list[Any] = field(default_factory=list)
    forecast_until: dt.date | None = None

    def readout(self, x: float) -> str | None:
        """The figures of the day under ``x`` (days since 1970), as one line of text."""
        if not self.series:
            return None
        first = self.series[0]
        index = int(np.floor(x - epoch_days(first.days[:1])[0]))
        if not 0 <= index < len(first.days):
            return None
        day = to_date(first.days[index])
        if len(self.series) > 1:
            total = sum(int(s.used[index]) for s in self.series)
            return f"{day}: {total:,} used in {len(self.series)} scopes"
        parts = [f"{day}", f"used {int(first.used[index]):,} {first.unit}"]
        limit = float(first.limit[index])
        if np.isfinite(limit):
            share = f" ({first.used[index] / limit:.0%})" if limit else ""
            parts.append(f"limit {limit:,.0f}{share}")
        elif first.has_limit or not np.isnan(first.limit).all():
            parts.append("no cap (site license)")
        if first.installs is not None:
            parts.append(f"installs {int(first.installs[index]):,}")
        if first.peaks is not None:
            parts.append(f"peak concurrent {int(first.peaks[index]):,}")
        return " · ".join(parts)


def draw_usage(
    plot: Any,
    series: UsageSeries | Sequence[UsageSeries],
    *,
    legend: bool = True,
    colors: ChartColors = LIGHT_CHART,
) -> DrawnUsage:
    """Draw usage against the limit into ``plot`` (a ``pyqtgraph.PlotItem``), replacing what it
    showed, in ``colors`` (the light set unless the window is dark).

    One series gets its warning band, installs, concurrent peaks and forecast; several series
    (one per product, say) get a used line and a dashed limit line each, in matching colours.
    The plot keeps downsampling and clip-to-view on, so years of daily points stay fast.
    """
    many = [series] if isinstance(series, UsageSeries) else list(series)
    plot.clear()
    if plot.legend is not None:
        plot.legend.clear()
        plot.legend.setLabelTextColor(colors.text)
        plot.legend.setBrush(pg.mkBrush(*colors.legend_background))
    elif legend:
        plot.addLegend(
            offset=(10, 5),
            labelTextColor=colors.text,
            brush=pg.mkBrush(*colors.legend_background),
            colCount=LEGEND_COLUMNS,
        )
    plot.setClipToView(True)
    plot.setDownsampling(auto=True, mode="peak")
    plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
    drawn = DrawnUsage(many)
    if not many:
        return drawn
    # The range first: items added to a fixed view are clipped and downsampled once, instead of
    # again for every item whenever the range moves.
    drawn.forecast_until = _forecast_until(many[0]) if len(many) == 1 else None
    first = _x(many[0].start)
    last = _x(many[0].end) + 1
    if drawn.forecast_until is not None:
        last = max(last, _x(drawn.forecast_until) + 1)
    top = max(_top(s) for s in many)
    plot.disableAutoRange()
    plot.setLimits(xMin=first - 30, xMax=last + 365, yMin=-0.05 * max(top, 1))
    plot.setXRange(first, last, padding=0.01)
    plot.setYRange(0, max(top * HEADROOM, 1), padding=0)
    if len(many) == 1:
        _draw_one(plot, many[0], drawn, colors)
    else:
        _draw_many(plot, many, drawn, colors)
    if plot.legend is not None:
        plot.legend.setVisible(legend and len(many) <= LEGEND_LIMIT)
    unit = many[0].unit if len({s.unit for s in many}) == 1 else "rights"
    plot.setLabel("left", unit.capitalize(), color=colors.text)
    plot.setLabel("bottom", "Date (UTC)", color=colors.text)
    return drawn


def _top(series: UsageSeries) -> float:
    values = [float(series.used.max(initial=0))]
    finite = series.limit[np.isfinite(series.limit)]
    if len(finite):
        values.append(float(finite.max()))
    for extra in (series.installs, series.peaks):
        if extra is not None:
            values.append(float(extra.max(initial=0)))
    return max(values)


def _draw_one(plot: Any, series: UsageSeries, drawn: DrawnUsage, colors: ChartColors) -> None:
    x = _edges(series.days)
    band_color = QColor(*colors.warning_band)
    edge_color = QColor(*colors.warning_edge)
    finite = np.isfinite(series.limit)
    if finite.any():
        upper = np.where(finite, series.limit, 0.0)
        lower = upper * series.warning_level
        low = pg.PlotCurveItem(x, _steps(lower), stepMode="left", pen=_pen(edge_color, 1, _DOT))
        high = pg.PlotCurveItem(x, _steps(upper), stepMode="left", pen=pg.mkPen(None))
        band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(band_color))
        for item in (band, low, high):
            plot.addItem(item)
        # A swatch for the legend: the band itself has no legend sample.
        swatch = pg.PlotDataItem(
            [], [], pen=None, fillLevel=0, fillBrush=pg.mkBrush(band_color),
            name=f"Warning (≥ {series.warning_level:.0%} of limit)",
        )  # fmt: skip
        plot.addItem(swatch)
        limit_line = pg.PlotDataItem(
            x,
            _steps(series.limit),
            stepMode="left",
            connect="finite",
            pen=_pen(colors.limit, 2),
            name="Limit",
        )
        plot.addItem(limit_line)
        drawn.items += [band, low, high, limit_line]
    # An all-zero line says only that nothing of the kind was imported for this scope.
    if series.installs is not None and series.installs.any():
        installs = pg.PlotDataItem(
            x,
            _steps(series.installs),
            stepMode="left",
            pen=_pen(colors.installs, 1.5, _DASH),
            name="Installs",
        )
        plot.addItem(installs)
        drawn.items.append(installs)
    if series.peaks is not None and series.peaks.any():
        peak_color = QColor(colors.peaks)
        peak_color.setAlpha(170)
        peaks = pg.PlotDataItem(
            x, _steps(series.peaks), stepMode="left", pen=_pen(peak_color, 1),
            name="Peak concurrent use",
        )  # fmt: skip
        plot.addItem(peaks)
        drawn.items.append(peaks)
    used = pg.PlotDataItem(
        x, _steps(series.used), stepMode="left", pen=_pen(colors.used, 2.5),
        name=f"Used ({series.unit})",
    )  # fmt: skip
    plot.addItem(used)
    drawn.items.append(used)
    _draw_forecast(plot, series, drawn, colors)


def _forecast_until(series: UsageSeries) -> dt.date | None:
    """Where the trend line ends: the day the limit is reached when that is near enough to show
    without squeezing the range (half its length), else a little past the range's end."""
    result = series.forecast
    if result.slope_per_day is None or result.fit_end is None:
        return None
    span = max((series.end - series.start).days, 28)
    reached = result.reached_on
    if (
        reached is not None
        and reached > result.fit_end
        and reached <= series.end + dt.timedelta(days=span // 2)
    ):
        return reached
    return series.end + dt.timedelta(days=max(span // 8, 7))


def _draw_forecast(plot: Any, series: UsageSeries, drawn: DrawnUsage, colors: ChartColors) -> None:
    """The trend line, and a mark on the day the limit is reached when the chart shows it."""
    result = series.forecast
    until = drawn.forecast_until
    if until is None:
        return
    line_days, values = result.line(until)
    line = pg.PlotDataItem(
        epoch_days(line_days), values, pen=_pen(colors.forecast, 2, _DASH), name="Trend (forecast)"
    )
    plot.addItem(line)
    drawn.items.append(line)
    if result.reached_on == until:
        mark = pg.InfiniteLine(
            pos=_x(until),
            angle=90,
            pen=_pen(colors.limit, 1, _DASH),
            label=f"limit reached ≈ {until}",
            labelOpts={"position": 0.6, "color": colors.limit, "anchors": [(1, 0.5), (1, 0.5)]},
        )
        plot.addItem(mark)
        drawn.items.append(mark)


def _draw_many(plot: Any, many: list[UsageSeries], drawn: DrawnUsage, colors: ChartColors) -> None:
    """A used line and a limit line per series, in one colour each.  Thin solid pens: with 100
    lines of years of days, dashes and wide pens cost Qt's rasterizer several times more."""
    count = len(many)
    named = count <= LEGEND_LIMIT  # a hidden legend of 50 entries still costs their layout
    # Darker hues on white, lighter ones on a dark background (both 3:1 or more).
    dark = QColor(colors.background).lightness() < 128
    for n, series in enumerate(many):
        color = pg.intColor(
            n, hues=max(count, 1), values=1, maxValue=255 if dark else 200, sat=160 if dark else 255
        )
        faint = QColor(color)
        faint.setAlpha(110)
        x = _edges(series.days)
        finite = bool(np.isfinite(series.limit).all())
        limit = pg.PlotDataItem(
            x, _steps(series.limit), stepMode="left", connect="all" if finite else "finite",
            pen=pg.mkPen(faint, width=1), skipFiniteCheck=finite,
        )  # fmt: skip
        used = pg.PlotDataItem(
            x, _steps(series.used), stepMode="left", pen=pg.mkPen(color, width=1),
            name=series.label if named else None, skipFiniteCheck=True,
        )  # fmt: skip
        plot.addItem(limit)
        plot.addItem(used)
        drawn.items += [used, limit]


def style_plot(plot: Any, colors: ChartColors = LIGHT_CHART) -> None:
    """Axes and text in ``colors`` (dark on light by default: on screen, on paper, in a PDF)."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(colors.axis))
        axis.setTextPen(pg.mkPen(colors.text))
    title = plot.titleLabel
    if title is not None and title.text:
        title.setText(title.text, color=colors.text)


def date_axis() -> DayAxis:
    """A bottom axis that labels days since 1970 as dates (UTC, whatever the local zone)."""
    return DayAxis()


# ------------------------------------------------------------------------------------ files


def _application() -> QApplication:
    """The running QApplication, or one made for drawing off screen (no display needed)."""
    found = QApplication.instance()
    if isinstance(found, QApplication):
        return found
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication([sys.argv[0] if sys.argv else "seatledger"])
    _KEEP.append(app)
    return app


_KEEP: list[QApplication] = []


def _footer(series: Sequence[UsageSeries], width: int) -> str:
    if len(series) != 1:
        return f"{len(series)} scopes; the faint line of each colour is its limit."
    one = series[0]
    chars = max(60, width // 7)
    lines = textwrap.wrap("Forecast: " + one.forecast.method, chars)
    for note in one.notes:
        lines += textwrap.wrap(note, chars)
    return "<br>".join(lines)


def render_usage_chart(
    series: UsageSeries | Sequence[UsageSeries],
    out: Path,
    width: int = 1200,
    height: int = 600,
    *,
    title: str | None = None,
) -> Path:
    """Write the usage chart of ``series`` to ``out`` as PNG or SVG (by its suffix); return ``out``.

    A stable entry point for the command line and the audit report.  Works without a display
    (it starts an off-screen Qt application when none runs).  The chart has a title (the series'
    label unless ``title`` is given), a date axis, the legend, and underneath the forecast's method
    in words and the series' notes.

    Args:
        series: one series (with its band, installs, peaks and forecast) or several (a used and a
            limit line each).
        out: the file to write; ``.png`` or ``.svg``.
        width: width in pixels (PNG) or user units (SVG).
        height: height likewise.
        title: a title other than the series' label.

    Raises:
        KnownError: another suffix, or a folder that cannot be written.
    """
    suffix = out.suffix.lower()
    if suffix not in {".png", ".svg"}:
        raise KnownError(f"{out.name}: charts are written as .png or .svg.")
    if not out.parent.exists():
        raise KnownError(f"Cannot write {out}: the folder {out.parent} does not exist.")
    many = [series] if isinstance(series, UsageSeries) else list(series)
    _application()
    from pyqtgraph import exporters  # noqa: PLC0415 (loads only when a file is written)

    view = pg.GraphicsLayoutWidget()
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    view.setBackground(LIGHT_CHART.background)
    view.resize(width, height)
    layout = view.ci
    heading = title if title is not None else (many[0].label if len(many) == 1 else "Usage")
    span = f"{many[0].start} to {many[0].end}" if many else ""
    subtitle = f"<span style='color:{LIGHT_CHART.muted_text}'>used against limit, {span}</span>"
    layout.addLabel(
        f"<b>{_escape(heading)}</b> &nbsp; {subtitle}", row=0, col=0, color=TEXT, size="12pt"
    )
    plot = layout.addPlot(row=1, col=0, axisItems={"bottom": date_axis()})
    style_plot(plot)
    draw_usage(plot, many)
    layout.addLabel(_escape_lines(_footer(many, width)), row=2, col=0, color=TEXT, size="9pt")
    view.show()  # lays the chart out; WA_DontShowOnScreen keeps it off the screen
    layout.setGeometry(QRectF(0, 0, width, height))
    try:
        # Written beside the target and renamed over it: a symbolic link named as the output
        # is replaced, never written through, and a failed export leaves what was there.
        with replaced(out) as target:
            if suffix == ".png":
                exporter = exporters.ImageExporter(layout)
                exporter.parameters()["width"] = width
                exporter.parameters()["antialias"] = True
                exporter.export(str(target))
            else:
                _write_svg(view, target, width, height, heading)
            if target.stat().st_size == 0:
                raise KnownError(f"Cannot write {out}.")
    except OSError as exc:
        raise KnownError(f"Cannot write {out}: {exc.strerror}.") from None
    finally:
        view.close()
        view.deleteLater()
    return out


def _write_svg(view: Any, out: Path, width: int, height: int, title: str) -> None:
    """Qt's own SVG writer over the scene: pyqtgraph 0.14's SVGExporter fails on the closed
    paths (``Z``) Qt 6 writes (pyqtgraph issue #3485)."""
    from PySide6.QtCore import QRect, QSize  # noqa: PLC0415
    from PySide6.QtGui import QPainter  # noqa: PLC0415
    from PySide6.QtSvg import QSvgGenerator  # noqa: PLC0415

    generator = QSvgGenerator()
    generator.setFileName(str(out))
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    # The screen's resolution: at the generator's default 72 dpi the plot's contents, drawn in
    # device units, come out a third larger than the axes around them.
    generator.setResolution(view.logicalDpiX())
    generator.setTitle(title)
    generator.setDescription("SeatLedger usage chart")
    painter = QPainter(generator)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        target = QRectF(0, 0, width, height)
        view.scene().render(painter, target, view.ci.sceneBoundingRect())
    finally:
        painter.end()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_lines(text: str) -> str:
    return "<br>".join(_escape(line) for line in text.split("<br>"))
