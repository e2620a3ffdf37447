"""Normalization rules: raw inventory titles to products."""

from __future__ import annotations

import pytest

from seatledger.domain.normalization import (
    MatchKind,
    Normalizer,
    RawTitle,
    Rule,
    version_key,
)
from seatledger.errors import ValidationError

OFFICE, ACROBAT, VISIO, ORACLE = 1, 2, 3, 4


def test_versions_compare_part_by_part() -> None:
    assert version_key("16.0.10827.20181") < version_key("16.0.10828")
    assert version_key("16.0.10828") < version_key("16.1")
    assert version_key("9") < version_key("10")
    assert version_key("2.0beta") < version_key("2.0.1")


def test_exact_rule_ignores_case_and_surrounding_spaces() -> None:
    rule = Rule(ACROBAT, "Adobe Acrobat DC (64-bit)", publisher="Adobe Inc.")
    assert rule.matches(RawTitle("adobe inc. ", " ADOBE ACROBAT DC (64-BIT)"))
    assert not rule.matches(RawTitle("Adobe Inc.", "Adobe Acrobat Reader DC"))
    assert not rule.matches(RawTitle("Someone Else", "Adobe Acrobat DC (64-bit)"))


def test_wildcard_rule_with_version_range() -> None:
    office_2016 = Rule(
        OFFICE,
        "Microsoft Office Professional Plus*",
        publisher="Microsoft Corporation",
        kind=MatchKind.WILDCARD,
        version_min="16",
        version_max="17",
    )
    row = RawTitle("Microsoft Corporation", "Microsoft Office Professional Plus 2019 - en-us")
    assert office_2016.matches(RawTitle(row.publisher, row.title, "16.0.10827.20181"))
    assert not office_2016.matches(RawTitle(row.publisher, row.title, "15.0.4569.1506"))
    assert not office_2016.matches(RawTitle(row.publisher, row.title, "17.0"))
    assert not office_2016.matches(RawTitle(row.publisher, row.title, ""))  # no version: no


def test_regex_rule_and_bad_patterns() -> None:
    rule = Rule(ORACLE, r"Oracle Database \d+c Enterprise Edition", kind=MatchKind.REGEX)
    assert rule.matches(RawTitle("Oracle", "Oracle Database 19c Enterprise Edition"))
    assert not rule.matches(RawTitle("Oracle", "Oracle Database 19c Standard Edition 2"))
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        Rule(ORACLE, "Oracle (Database", kind=MatchKind.REGEX)
    with pytest.raises(ValidationError, match="needs a title"):
        Rule(ORACLE, "  ")
    with pytest.raises(ValidationError, match="is empty"):
        Rule(ORACLE, "x", version_min="17", version_max="16")


def test_most_specific_rule_wins_and_unmatched_titles_are_counted() -> None:
    rules = [
        Rule(VISIO, "Microsoft *", kind=MatchKind.WILDCARD),  # broad catch-all, added first
        Rule(OFFICE, "Microsoft Office*", kind=MatchKind.WILDCARD, priority=5),
        Rule(VISIO, "Microsoft Visio Professional 2021"),  # exact beats the wildcard
    ]
    normalizer = Normalizer(rules)
    assert normalizer.product_of(RawTitle("Microsoft", "Microsoft Office Standard 2019")) == OFFICE
    assert normalizer.product_of(RawTitle("Microsoft", "Microsoft Visio Professional 2021")) == (
        VISIO
    )
    rows = [
        RawTitle("Microsoft", "Microsoft Teams"),
        RawTitle("Mozilla", "Mozilla Firefox (x64 en-US)"),
        RawTitle("Mozilla", "Mozilla Firefox (x64 en-US)"),
        RawTitle("7-Zip", "7-Zip 23.01 (x64)"),
    ]
    assert normalizer.unmatched(rows) == {
        ("Mozilla", "Mozilla Firefox (x64 en-US)"): 2,
        ("7-Zip", "7-Zip 23.01 (x64)"): 1,
    }
