"""The audit report's usage charts: one PNG per series, each with the caption the report prints.

The series come from :meth:`seatledger.services.audits.service.AuditService.report_usage`; this
module only draws them.  Drawing needs Qt (an off-screen application is started when none runs),
so it runs on the GUI thread or in a command, never in a worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from seatledger.charts.usage import render_usage_chart
from seatledger.domain.usage import UsageSeries

WIDTH = 1200
HEIGHT = 560


def render_report_charts(series: Sequence[UsageSeries], folder: Path) -> list[tuple[Path, str]]:
    """Write each series as ``usage-N.png`` in ``folder``; return each file with its caption.

    Raises:
        KnownError: a file that cannot be written.
    """
    drawn = []
    for index, one in enumerate(series, 1):
        path = folder / f"usage-{index}.png"
        render_usage_chart(one, path, WIDTH, HEIGHT)
        drawn.append((path, f"{one.label}: seats used against the limit, {one.start} to {one.end}"))
    return drawn
