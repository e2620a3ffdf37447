"""Field rules shared by dialogs, the CLI and imports; each error names the field."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from seatledger.domain.licensing import UnitTable
from seatledger.domain.renewals import notice_text, parse_notice_days
from seatledger.errors import ValidationError

NAME_MAX = 200
SEARCH_MAX = 200  # a search longer than any name it could match is refused, not run
MONEY_LIMIT = Decimal(10) ** 10  # amounts are stored as NUMERIC(14, 4): ten integer digits
_WHOLE = re.compile(r"[+-]?[0-9]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def name(value: str, field: str, *, max_len: int = NAME_MAX) -> str:
    """Return a trimmed non-empty name of at most ``max_len`` characters."""
    text = value.strip()
    if not text:
        raise ValidationError(f"{field} must not be empty.", field)
    if len(text) > max_len:
        raise ValidationError(
            f"{field} is {len(text)} characters long; the limit is {max_len}.", field
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationError(f"{field} contains control characters.", field)
    return text


def optional_text(value: str | None, field: str, *, max_len: int = 2000) -> str:
    """Return trimmed optional text, empty when absent."""
    if value is None:
        return ""
    text = value.strip()
    if len(text) > max_len:
        raise ValidationError(
            f"{field} is {len(text)} characters long; the limit is {max_len}.", field
        )
    return text


def email(value: str | None, field: str = "Email") -> str:
    """Return a trimmed email address, or empty; reject anything that is not shaped like one."""
    text = optional_text(value, field, max_len=320)
    if text and not _EMAIL.match(text):
        raise ValidationError(f"{field} '{text}' is not an email address.", field)
    return text


def count(value: object, field: str, *, minimum: int = 0, maximum: int = 10_000_000) -> int:
    """Return a whole number within bounds; accepts ints and digit strings."""
    if isinstance(value, bool):
        raise ValidationError(f"{field} must be a whole number.", field)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not _WHOLE.fullmatch(text):
            raise ValidationError(f"{field} must be a whole number, not '{text}'.", field)
        number = int(text)
    if number < minimum:
        raise ValidationError(f"{field} must be at least {minimum}, not {number}.", field)
    if number > maximum:
        raise ValidationError(f"{field} must be at most {maximum}, not {number}.", field)
    return number


def money(value: object, field: str) -> Decimal | None:
    """Return a non-negative amount below 10^10 with at most 4 decimals, or None when empty."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"{field} must be an amount, not '{text}'.", field) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(f"{field} must be zero or more, not '{text}'.", field)
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationError(f"{field} has more than 4 decimals.", field)
    if amount >= MONEY_LIMIT:
        raise ValidationError(f"{field} must be less than {MONEY_LIMIT:,}.", field)
    return amount


def core_factor(value: object, field: str = "Core factor") -> Decimal:
    """Return a per-core purchase's core factor: 0.01 to 100 with at most 3 decimals; 1 when
    empty (every core counts once)."""
    text = "" if value is None else str(value).strip()
    if not text:
        return Decimal(1)
    try:
        factor = Decimal(text)
    except InvalidOperation:
        message = f"{field} must be a number such as 0.5 or 1, not '{text}'."
        raise ValidationError(message, field) from None
    if not factor.is_finite() or not Decimal("0.01") <= factor <= 100:
        raise ValidationError(f"{field} must be from 0.01 to 100, not '{text}'.", field)
    if factor.as_tuple().exponent < -3:  # type: ignore[operator]
        raise ValidationError(f"{field} has more than 3 decimals.", field)
    return factor


UNIT_TABLE = "Units per core by processor"


def unit_table(value: str | None, field: str = UNIT_TABLE) -> str | None:
    """Return a per-core purchase's rates by processor as stored (``Xeon=0.5; POWER10=1``), or
    None when empty (the core factor counts every core)."""
    try:
        table = UnitTable.parse(value or "")
    except ValueError as error:
        raise ValidationError(f"{field}: {error}.", field) from None
    if table is not None and len(table.text) > 2000:
        raise ValidationError(f"{field} is longer than 2,000 characters.", field)
    return None if table is None else table.text


NOTICE_DAYS = "Notice periods"


def notice_days(value: str | None, field: str = NOTICE_DAYS) -> str | None:
    """Return a license's notice periods as stored ("180, 90, 30"), or None when empty (the
    organization's apply)."""
    try:
        days = parse_notice_days(value or "")
    except ValueError as error:
        raise ValidationError(f"{field}: {error}.", field) from None
    return notice_text(days) if days else None


def currency(value: str | None, field: str = "Currency") -> str:
    """Return an ISO 4217-shaped currency code (three letters), defaulting to EUR."""
    text = (value or "").strip().upper()
    if not text:
        return "EUR"
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValidationError(f"{field} must be a three-letter code such as EUR or USD.", field)
    return text


def term(start: dt.date | None, end: dt.date | None) -> None:
    """Refuse a term that ends before it starts."""
    if start is not None and end is not None and end < start:
        raise ValidationError(
            f"Term end {end.isoformat()} is before term start {start.isoformat()}.", "Term end"
        )


def date(value: object, field: str) -> dt.date | None:
    """Parse an ISO date (YYYY-MM-DD); other shapes are ambiguous and refused."""
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field} must be a date as YYYY-MM-DD, not '{text}'.", field
        ) from None
