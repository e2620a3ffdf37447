"""Normalization: mapping raw inventory titles, publishers and versions to products by rules.

Discovery tools report what the registry or package database says ("Microsoft Office
Professional Plus 2019 - en-us", "Adobe Acrobat DC (64-bit)", "16.0.10827.20181").  A rule says
which product such a row is: its publisher and title are matched exactly (case-insensitively),
by wildcard (``*`` and ``?``) or by regular expression, optionally within a version range.  The
most specific rule wins: a higher priority first, then exact before wildcard before regex, then
the rule added first.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from seatledger.errors import ValidationError


class MatchKind(StrEnum):
    """How a rule's patterns are read."""

    EXACT = "exact"
    WILDCARD = "wildcard"
    REGEX = "regex"


_KIND_ORDER = {MatchKind.EXACT: 0, MatchKind.WILDCARD: 1, MatchKind.REGEX: 2}
_CACHE_ROWS = 200_000
_VERSION_PART = re.compile(r"\d+|[A-Za-z]+")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A sortable key for a dotted version: numbers compare as numbers, words as words.

    ``"16.0.10827"`` < ``"16.0.10828"`` < ``"16.1"``; numbers sort after words, so
    ``"2.0beta"`` < ``"2.0.1"``.
    """
    return tuple(
        (1, int(part)) if part.isdigit() else (0, part.lower())
        for part in _VERSION_PART.findall(version)
    )


@dataclass(frozen=True, slots=True)
class RawTitle:
    """One row of inventory as a discovery tool reported it."""

    publisher: str
    title: str
    version: str = ""


class _Exact:
    """Case-insensitive equality (lower-cased, as :class:`Normalizer` looks exact rules up),
    with the ``fullmatch`` of a compiled pattern: a store holds thousands of exact rules, and
    compiling each as a regular expression took a second to load."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text.lower()

    def fullmatch(self, value: str) -> bool:
        return value.lower() == self._text


_Matcher = re.Pattern[str] | _Exact


@dataclass(frozen=True)
class RuleFields:
    """A rule's fields as entered, before they are checked and compiled.

    ``publisher`` may be empty to match any publisher.  ``version_min`` is inclusive,
    ``version_max`` exclusive (``16`` ≤ v < ``17`` is "version 16.x").
    """

    product_id: int
    title: str
    publisher: str = ""
    kind: MatchKind = MatchKind.EXACT
    version_min: str = ""
    version_max: str = ""
    priority: int = 0


@dataclass(frozen=True)
class Rule(RuleFields):
    """Maps matching raw titles to a product (its patterns checked and compiled)."""

    _title_re: _Matcher = field(init=False, repr=False, compare=False)
    _publisher_re: _Matcher | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValidationError("A rule needs a title pattern.", "Title")
        object.__setattr__(self, "_title_re", _compile(self.kind, self.title, "Title"))
        publisher = _compile(self.kind, self.publisher, "Publisher") if self.publisher else None
        object.__setattr__(self, "_publisher_re", publisher)
        if (
            self.version_min
            and self.version_max
            and version_key(self.version_max) <= version_key(self.version_min)
        ):
            raise ValidationError(
                f"Version range {self.version_min} to {self.version_max} is empty.", "Version"
            )

    def matches(self, row: RawTitle) -> bool:
        """Whether the raw row is this rule's product."""
        if not self._title_re.fullmatch(row.title.strip()):
            return False
        if self._publisher_re is not None and not self._publisher_re.fullmatch(
            row.publisher.strip()
        ):
            return False
        if self.version_min or self.version_max:
            key = version_key(row.version)
            if not key:
                return False
            if self.version_min and key < version_key(self.version_min):
                return False
            if self.version_max and key >= version_key(self.version_max):
                return False
        return True


def _compile(kind: MatchKind, pattern: str, field_name: str) -> _Matcher:
    text = pattern.strip()
    if kind is MatchKind.EXACT:
        return _Exact(text)
    if kind is MatchKind.WILDCARD:
        return re.compile(fnmatch.translate(text), re.IGNORECASE)
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise ValidationError(
            f"{field_name} '{text}' is not a valid regular expression: {exc}.", field_name
        ) from None


class Normalizer:
    """Applies rules, most specific first, to raw titles."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        ordered = sorted(
            enumerate(rules),
            key=lambda item: (-item[1].priority, _KIND_ORDER[item[1].kind], item[0]),
        )
        self._rules = [rule for _, rule in ordered]
        # Exact rules are looked up by title (thousands of them cost one dict lookup); the
        # others are tried in order.  Each keeps its place in the order, so the first match wins.
        self._exact: dict[str, list[tuple[int, Rule]]] = {}
        self._patterns: list[tuple[int, Rule]] = []
        for place, rule in enumerate(self._rules):
            if rule.kind is MatchKind.EXACT:
                self._exact.setdefault(rule.title.strip().lower(), []).append((place, rule))
            else:
                self._patterns.append((place, rule))
        self._cache: dict[RawTitle, int | None] = {}

    def product_of(self, row: RawTitle) -> int | None:
        """The product a raw row is, or None when no rule matches."""
        if row in self._cache:
            return self._cache[row]
        best: tuple[int, int] | None = None
        for place, rule in self._exact.get(row.title.strip().lower(), ()):
            if rule.matches(row):
                best = (place, rule.product_id)
                break
        for place, rule in self._patterns:
            if best is not None and place > best[0]:
                break
            if rule.matches(row):
                best = (place, rule.product_id)
                break
        found = None if best is None else best[1]
        if len(self._cache) >= _CACHE_ROWS:  # inventories repeat titles; bound the memory anyway
            self._cache.clear()
        self._cache[row] = found
        return found

    def unmatched(self, rows: Iterable[RawTitle]) -> Counter[tuple[str, str]]:
        """Publisher and title of every row no rule matches, with how often each occurs."""
        return Counter(
            (row.publisher.strip(), row.title.strip())
            for row in rows
            if self.product_of(row) is None
        )
