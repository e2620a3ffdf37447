"""Reading cell values the way export tools write them: dates, times, counts, amounts, flags.

Dates come as ISO (``2026-03-04``), compact (``20260304``, the registry's InstallDate), dotted
day first (``04.03.2026``) or with slashes, where ``03/04/2026`` is 3 April in London and
4 March in New York.  A :class:`DateReader` settles the slash order from the file itself (any
value with a part above 12 decides it) or from the user's choice, and reports what it cannot
settle rather than guessing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class DateOrder(StrEnum):
    """How slash dates are read."""

    DAY_FIRST = "dmy"
    MONTH_FIRST = "mdy"

    @property
    def label(self) -> str:
        """The order as shown to people."""
        return (
            "day first (31/12/2026)" if self is DateOrder.DAY_FIRST else "month first (12/31/2026)"
        )


class ValueProblem(ValueError):
    """A cell that cannot be read; the message says why."""


class Ambiguous(ValueProblem):
    """A slash date whose day and month cannot be told apart yet."""


_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SLASH = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)


@dataclass
class DateReader:
    """Reads dates and times of one file, settling the slash order once for all its columns."""

    order: DateOrder | None = None
    decided_at: str = ""  # the value that settled the order, for the preview
    ambiguous: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, value)
    ambiguous_count: int = 0

    def date(self, text: str, line: int = 0, column: str = "") -> dt.date | None:
        """A date, or None for an empty cell.

        Raises:
            ValueProblem: not a date (or an impossible one).
            Ambiguous: a slash date while the order is unknown (recorded for the report).
        """
        moment = self.moment(text, line, column)
        return None if moment is None else moment.date()

    def moment(self, text: str, line: int = 0, column: str = "") -> dt.datetime | None:
        """A date and time in UTC (times without an offset are taken as UTC); None when empty."""
        value = text.strip()
        if not value:
            return None
        try:
            if match := _ISO.fullmatch(value):
                y, m, d, hh, mm, ss, zone = match.groups()
                return _build(int(y), int(m), int(d), hh, mm, ss, zone=zone)
            if match := _COMPACT.fullmatch(value):
                y, m, d = match.groups()
                return _build(int(y), int(m), int(d), None, None, None)
            if match := _DOTTED.fullmatch(value):
                d, m, y, hh, mm, ss = match.groups()
                return _build(int(y), int(m), int(d), hh, mm, ss)
            if match := _SLASH.fullmatch(value):
                return self._slash(match, value, line, column)
        except ValueError as exc:
            if isinstance(exc, ValueProblem):
                raise
            raise ValueProblem(f"not a real date ({exc})") from None
        raise ValueProblem("not a date this importer reads (use YYYY-MM-DD)")

    def _slash(self, match: re.Match[str], value: str, line: int, column: str) -> dt.datetime:
        a, b, y, hh, mm, ss, half = match.groups()
        first, second = int(a), int(b)
        year = int(y) + (2000 if len(y) == 2 else 0)
        if first > 12 and second > 12:
            raise ValueProblem("neither part can be a month")
        evidence = (
            DateOrder.DAY_FIRST if first > 12 else DateOrder.MONTH_FIRST if second > 12 else None
        )
        if evidence is not None:
            if self.order is None:
                self.order, self.decided_at = evidence, f"line {line}: {value}"
            elif self.order is not evidence:
                raise ValueProblem(
                    f"reads {evidence.label}, but {self.decided_at or 'the chosen order'} "
                    f"reads {self.order.label}"
                )
        order = self.order
        if order is None:
            if first == second:
                order = DateOrder.DAY_FIRST  # 04/04 reads the same either way
            else:
                self.ambiguous_count += 1
                if len(self.ambiguous) < 20:
                    self.ambiguous.append((line, column, value))
                raise Ambiguous("day and month cannot be told apart")
        day, month = (first, second) if order is DateOrder.DAY_FIRST else (second, first)
        return _build(year, month, day, hh, mm, ss, half=half)


def _build(  # noqa: PLR0917 (a date's parts, as the patterns capture them)
    year: int,
    month: int,
    day: int,
    hh: str | None,
    mm: str | None,
    ss: str | None,
    *,
    half: str | None = None,
    zone: str | None = None,
) -> dt.datetime:
    hour = int(hh or 0)
    if half is not None:
        if not 1 <= hour <= 12:
            raise ValueProblem("hour must be 1 to 12 with AM/PM")
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    tz = dt.UTC
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    if not 1900 <= year <= 2200:
        raise ValueProblem(f"year {year} is out of range")
    moment = dt.datetime(year, month, day, hour, int(mm or 0), int(ss or 0), tzinfo=tz)
    return moment.astimezone(dt.UTC)


# "16.0" and "16.00" are whole; "1.000" is a thousand written the German way, not 1.
_ZERO_DECIMALS = re.compile(r"\.0{1,2}$")
_WHOLE = re.compile(r"[0-9]{1,12}|[0-9]{1,3}(?:,[0-9]{3}){1,3}")


def whole(text: str, minimum: int = 0, maximum: int = 10_000_000) -> int | None:
    """A whole number (``1,024``, ``1 024`` and ``16.0`` accepted), or None for an empty cell.

    A comma must group thousands: ``1,5`` is a decimal written the European way, not 15.
    """
    value = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not value:
        return None
    value = _ZERO_DECIMALS.sub("", value)
    if not _WHOLE.fullmatch(value):
        raise ValueProblem("not a whole number")
    number = int(value.replace(",", ""))
    if not minimum <= number <= maximum:
        raise ValueProblem(f"must be between {minimum:,} and {maximum:,}")
    return number


_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
_PRICED = re.compile(
    r"^(?P<before>[A-Z]{3}|[€$£¥])?\s*(?P<number>[-+0-9.,'\s\u00a0\u202f]*?)\s*"
    r"(?P<after>[A-Z]{3}|[€$£¥])?$"
)


def priced(text: str) -> tuple[Decimal | None, str]:
    """A money amount and the currency it names itself (``$79.66``, ``12.50 EUR``, ``€ 12``).

    The currency is "" when the text names none (its column or row says it).  A cell of letters
    ("abc", "NaN") is not an amount, not an empty price.

    Raises:
        ValueProblem: not an amount, or two different currencies in one cell.
    """
    value = text.strip().upper()
    if not value:
        return None, ""
    match = _PRICED.fullmatch(value)
    if match is None or not any(ch.isdigit() for ch in match["number"]):
        raise ValueProblem("not an amount")
    named = {_SYMBOLS.get(mark, mark) for mark in (match["before"], match["after"]) if mark}
    if len(named) > 1:
        raise ValueProblem(f"names two currencies ({' and '.join(sorted(named))})")
    return _number(match["number"]), next(iter(named), "")


def amount(text: str) -> Decimal | None:
    """A money amount (``1,234.50``, ``1.234,50``, ``€ 12``), or None for an empty cell."""
    return priced(text)[0]


# "1.200": '.' before three digits groups thousands in German, French, Spanish... exports
# (Excel's "#.##0") and marks decimals in English ones, where money has two: read either way,
# an amount would be a thousand times off.
_DOT_THOUSANDS = re.compile(r"[1-9]\d{0,2}\.\d{3}")
_DOTS_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3}){2,}")


def _number(text: str) -> Decimal:
    value = re.sub(r"[\s\u00a0\u202f']", "", text)
    if _DOT_THOUSANDS.fullmatch(value):
        raise ValueProblem(
            f"is ambiguous: {value} is {value.replace('.', '')} where '.' groups thousands "
            f"(German, French... exports) and {Decimal(value).normalize()} where it marks "
            "decimals; write the amount with its cents (1.200,00 or 1200.00)"
        )
    if _DOTS_THOUSANDS.fullmatch(value):
        value = value.replace(".", "")  # "1.200.000": only thousands come in groups
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        value = value.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in value:
        head, _, tail = value.rpartition(",")
        value = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else value.replace(",", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueProblem("not an amount") from None
    if not number.is_finite() or number < 0:
        raise ValueProblem("must be zero or more")
    if number >= Decimal(10) ** 10:
        raise ValueProblem("too large")
    return number.quantize(Decimal("0.0001"))


_TRUE = frozenset(
    {
        "true",
        "yes",
        "y",
        "1",
        "active",
        "enabled",
        "employed",
        "a",
        "current",
        "on leave",
        "leave of absence",
        "leave",
        "suspended",
        "probation",
        "onboarding",
        "pre-hire",
        "prehire",
        "new hire",
        "hired",
        "parental leave",
        "maternity leave",
        "sick leave",
        "sabbatical",
    }
)
_FALSE = frozenset(
    {
        "false",
        "no",
        "n",
        "0",
        "terminated",
        "inactive",
        "left",
        "leaver",
        "disabled",
        "t",
        "withdrawn",
        "resigned",
        "retired",
        "former",
        "ended",
        "separated",
        "deactivated",
        "i",
        "deceased",
        "dismissed",
        "offboarded",
        "inactive employee",
    }
)


# HR systems write a leaver's status as a phrase ("Voluntarily Terminated", "Terminated for
# Cause", "Involuntary Termination", "Terminated - Resigned"): any of these words says the person
# left, unless a word of the other kind is in it too (then the status is refused, not guessed).
_LEFT_WORDS = frozenset(
    {"terminated", "termination", "resigned", "retired", "deceased", "dismissed", "separated"}
)
_HERE_WORDS = frozenset({"active", "employed", "not", "non", "pre", "rehire", "rehired"})
_WORD = re.compile(r"[a-z]+")


def employed(text: str) -> bool | None:
    """Whether an employment status or an account's Enabled flag says the person is still here."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    words = set(_WORD.findall(value))
    if words & _LEFT_WORDS and not words & _HERE_WORDS:
        return False
    raise ValueProblem("not a status this importer knows (Active, Terminated, True, False...)")
