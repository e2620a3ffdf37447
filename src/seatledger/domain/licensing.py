"""License metrics and the seat-limit rule applied at every entry point.

Pure functions: the services feed them numbers read inside the write transaction, so the GUI, the
CLI, bulk actions and imports all meet the same rule.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from seatledger.text import plural


class Metric(StrEnum):
    """How an entitlement's quantity is counted."""

    PER_USER = "named_user"
    PER_DEVICE = "per_device"
    CONCURRENT = "concurrent"
    PER_CORE = "per_core"
    PER_PROCESSOR = "per_processor"
    SUBSCRIPTION = "user_subscription"
    SITE = "site"

    @property
    def label(self) -> str:
        """The metric as shown to people."""
        return _LABELS[self]

    @property
    def assigns_to_device(self) -> bool:
        """Whether seats of this metric go to devices rather than people."""
        return self in {Metric.PER_DEVICE, Metric.PER_CORE, Metric.PER_PROCESSOR}

    @property
    def unlimited(self) -> bool:
        """Whether the quantity is not a cap (site licenses)."""
        return self is Metric.SITE


_LABELS = {
    Metric.PER_USER: "Named user",
    Metric.PER_DEVICE: "Per device",
    Metric.CONCURRENT: "Concurrent",
    Metric.PER_CORE: "Per core",
    Metric.PER_PROCESSOR: "Per processor",
    Metric.SUBSCRIPTION: "User subscription",
    Metric.SITE: "Site",
}


def units_for_device(
    metric: Metric,
    processors: int,
    cores: int,
    min_cores_per_processor: int = 0,
    core_factor: Decimal = Decimal(1),
) -> int:
    """Rights one device consumes under ``metric``: the one unit of measure of a purchase, from
    the seat dialog to the signed report.

    Per-core licensing counts every core, but at least ``min_cores_per_processor`` per processor
    (contracts often say 16 cores per CPU), multiplied by the core factor (0.5 for some processor
    families) and rounded up to whole licenses for each device; per-processor counts sockets.
    """
    if metric is Metric.PER_CORE:
        counted = max(cores, processors * min_cores_per_processor, 1)
        return max(math.ceil(Decimal(counted) * core_factor), 1)
    if metric is Metric.PER_PROCESSOR:
        return max(processors, 1)
    return 1


def stored_factor(value: Decimal | float | None) -> Decimal:
    """A purchase's core factor as a column gives it: 1 where a database predates the column."""
    return Decimal(str(value)) if value is not None else Decimal(1)


def unknown_hardware(
    metric: Metric, processors: int | None, cores: int | None, min_cores_per_processor: int = 0
) -> str:
    """What a device lacks for ``metric`` to count it ("cores", "processors"), or "" when nothing.

    A device whose hardware no file or person has given cannot be counted per core or per
    processor: it is counted apart, never as an invented 1 × 4.
    """
    if metric is Metric.PER_CORE:
        if cores is None:
            return "cores"
        if min_cores_per_processor and processors is None:
            return "processors"
    if metric is Metric.PER_PROCESSOR and processors is None:
        return "processors"
    return ""


@dataclass(frozen=True, slots=True)
class LimitState:
    """What the rule needs to know about an entitlement at the moment of assignment."""

    label: str
    metric: Metric
    quantity: int
    used: int
    term_start: dt.date | None
    term_end: dt.date | None

    @property
    def free(self) -> int:
        """Rights not yet used (negative when over-committed)."""
        return self.quantity - self.used


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of the limit rule: allowed, or refused with the reason the user sees."""

    allowed: bool
    message: str = ""
    over_commit: bool = False


def check_assignment(state: LimitState, needed: int, today: dt.date, *, override: bool) -> Decision:
    """Apply the purchased-limit rule to an assignment needing ``needed`` rights.

    Args:
        state: the entitlement as read inside the write transaction.
        needed: rights the new assignment(s) consume.
        today: the date the assignment starts.
        override: an administrator asked to over-commit, with a reason.

    Returns:
        Allowed, allowed as an over-commit (recorded as an exception), or refused with a message
        that says which limit and how many rights are free.
    """
    if state.term_start is not None and today < state.term_start:
        return Decision(False, f"{state.label} starts on {state.term_start.isoformat()}.")
    if state.term_end is not None and today > state.term_end:
        return Decision(
            False,
            f"{state.label} expired on {state.term_end.isoformat()}; renew it before assigning.",
        )
    if state.metric.unlimited or state.used + needed <= state.quantity:
        return Decision(True)
    free = max(state.free, 0)
    message = (
        f"{state.label} allows {plural(state.quantity, _unit(state.metric))}: {state.used} used, "
        f"{free} free, {needed} needed."
    )
    if override:
        return Decision(True, message, over_commit=True)
    return Decision(False, message)


def _unit(metric: Metric) -> str:
    if metric is Metric.PER_CORE:
        return "core"
    if metric is Metric.PER_PROCESSOR:
        return "processor"
    if metric.assigns_to_device:
        return "device"
    return "seat"
