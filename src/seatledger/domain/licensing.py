"""License metrics and the seat-limit rule applied at every entry point.

Pure functions: the services feed them numbers read inside the write transaction, so the GUI, the
CLI, bulk actions and imports all meet the same rule.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
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
    metric: Metric,
    processors: int | None,
    cores: int | None,
    min_cores_per_processor: int = 0,
    rate_known: bool = True,
) -> str:
    """What a device lacks for ``metric`` to count it ("cores", "processors", "processor
    model"), or "" when nothing.

    A device whose hardware no file or person has given cannot be counted per core or per
    processor: it is counted apart, never as an invented 1 × 4.  Under a purchase that rates
    cores by processor (``rate_known`` False: the device's processor model is unknown or the
    table has no rate for it) it is counted apart too, never at a guessed rate.
    """
    if metric is Metric.PER_CORE:
        if cores is None:
            return "cores"
        if min_cores_per_processor and processors is None:
            return "processors"
        if not rate_known:
            return "processor model"
    if metric is Metric.PER_PROCESSOR and processors is None:
        return "processors"
    return ""


_MARKS = re.compile(r"\((?:r|tm|c)\)|[®™©]", re.IGNORECASE)


def processor_key(model: str) -> str:
    """A processor model as rates are matched against it: trademark marks dropped, spaces
    collapsed, case folded ("Intel(R) Xeon(R) Gold 6338 CPU" -> "intel xeon gold 6338 cpu")."""
    return " ".join(_MARKS.sub(" ", model).split()).casefold()


@dataclass(frozen=True, slots=True)
class UnitTable:
    """Units per core by processor: a contract's core factor table (Oracle's 0.5 for Intel
    Xeon, 1 for IBM POWER) or processor value units (IBM's 70 or 100 PVUs per core).

    Each rate names a processor class by the words of its model ("Xeon", "EPYC 7003") or a
    pattern with ``*`` ("Xeon*Gold"), matched as whole words anywhere in the model; the first
    rate whose class matches the device's processor model applies.  A device whose model no
    rate matches, or whose model is unknown, is counted apart (never at a guessed rate); a rate
    for ``*`` covers every other processor.
    """

    rates: tuple[tuple[str, Decimal], ...]

    @classmethod
    def parse(cls, text: str) -> UnitTable | None:
        """The table written as ``class=units; class=units`` (None when ``text`` is blank).

        Raises:
            ValueError: a rate is not ``class=units`` with units a positive number, or a
                class is given twice; the message names the rate.
        """
        rates: list[tuple[str, Decimal]] = []
        for part in re.split(r"[;\n]", text):
            if not part.strip():
                continue
            name, equals, units = part.rpartition("=")
            name = " ".join(name.split())
            if not equals or not name:
                raise ValueError(
                    f"rate '{part.strip()}' is not 'processor class=units per core' "
                    "(for example 'Xeon=0.5; EPYC=0.5; POWER10=1')"
                )
            try:
                rate = Decimal(units.strip().replace(",", "."))
            except ArithmeticError:
                rate = Decimal(0)
            if not rate.is_finite() or rate <= 0 or rate > 10_000:
                raise ValueError(
                    f"rate '{part.strip()}': units per core must be a number above 0 and at "
                    "most 10,000"
                )
            if any(processor_key(name) == processor_key(seen) for seen, _ in rates):
                raise ValueError(f"processor class '{name}' is rated twice")
            rates.append((name, rate.normalize()))
        return cls(tuple(rates)) if rates else None

    @property
    def text(self) -> str:
        """The table as it is stored, shown and typed: ``Xeon=0.5; POWER10=1``."""
        return "; ".join(f"{name}={rate:f}" for name, rate in self.rates)

    def rate_for(self, model: str | None) -> Decimal | None:
        """Units per core for a processor ``model``; None when it is unknown or unrated."""
        if not model or not model.strip():
            return None
        key = f" {processor_key(model)} "
        for name, rate in self.rates:
            # Whole words anywhere in the model; '*' spans any characters.
            if fnmatch.fnmatchcase(key, f"* {processor_key(name)} *"):
                return rate
        return None


def stored_table(text: str | None) -> UnitTable | None:
    """A purchase's unit table as a column stores it (None: one core factor for every core)."""
    return UnitTable.parse(text) if text else None


def core_rate(factor: Decimal, table: UnitTable | None, model: str | None) -> Decimal | None:
    """The units one core of ``model`` counts for under a purchase: its table's rate where it
    has one (None when the table does not rate the processor), else its core factor."""
    return factor if table is None else table.rate_for(model)


def device_units(
    metric: Metric,
    processors: int | None,
    cores: int | None,
    model: str | None,
    *,
    min_cores_per_processor: int = 0,
    core_factor: Decimal = Decimal(1),
    table: UnitTable | None = None,
) -> tuple[int | None, str]:
    """Rights one device consumes under a purchase, and what it lacks to be counted.

    ``(units, "")`` where the device can be counted; ``(None, "cores")`` (or "processors",
    "processor model") where the metric needs what nobody has recorded, or a per-core
    purchase's table has no rate for the device's processor.
    """
    rate = core_rate(core_factor, table, model) if metric is Metric.PER_CORE else core_factor
    lacking = unknown_hardware(
        metric, processors, cores, min_cores_per_processor, rate_known=rate is not None
    )
    if lacking or rate is None:
        return None, lacking
    # What the metric does not need may be unknown: it is not read.
    return units_for_device(metric, processors or 0, cores or 0, min_cores_per_processor, rate), ""


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
