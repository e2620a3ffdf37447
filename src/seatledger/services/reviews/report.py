"""A campaign's report as CSV: every seat with its evidence, decision, reviewer and outcome, and
for a move the person chosen and the seat they were given."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from seatledger.services.reviews.service import ReviewRow

HEADER = (
    "item",
    "seat",
    "team",
    "holder",
    "license",
    "assigned",
    "last_install",
    "last_checkout",
    "last_activity",
    "decision",
    "reason",
    "reviewer",
    "outcome",
    "move_to",
    "new_seat",
)
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: str) -> str:
    """Text a spreadsheet shows as text and never runs as a formula."""
    return "'" + value if value.startswith(_RISKY) else value


def cells(row: ReviewRow) -> list[str]:
    """One seat's report line, in :data:`HEADER` order."""
    return [
        str(row.id),
        str(row.assignment_id),
        _safe(row.team),
        _safe(row.holder),
        _safe(row.license),
        row.started.isoformat(),
        row.last_install.isoformat() if row.last_install else "",
        row.last_checkout.isoformat() if row.last_checkout else "",
        row.last_activity.isoformat() if row.last_activity else "",
        row.decision.value if row.decision else "",
        _safe(row.reason),
        _safe(row.decided_by),
        row.outcome.value if row.outcome else "",
        _safe(row.move_to),
        str(row.moved_seat) if row.moved_seat is not None else "",
    ]


def write_csv(rows: Sequence[ReviewRow], path: Path) -> Path:
    """Write a campaign's seats to ``path`` (UTF-8, replaced whole); returns the path."""
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(cells(r) for r in rows)
    tmp.replace(path)
    return path
