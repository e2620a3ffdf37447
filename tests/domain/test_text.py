"""The one pluralization helper: counts, irregular words and articles in every message."""

from __future__ import annotations

import pytest

from seatledger.text import agree, article, plural


@pytest.mark.parametrize(
    ("count", "word", "expected"),
    [
        (0, "seat", "0 seats"),
        (1, "seat", "1 seat"),
        (2, "seat", "2 seats"),
        (1_200, "seat", "1,200 seats"),
        (-1, "seat", "-1 seats"),
        (1, "person", "1 person"),
        (3, "person", "3 people"),
        (1, "entry", "1 entry"),
        (5, "entry", "5 entries"),
        (2, "day", "2 days"),
        (2, "license", "2 licenses"),
        (2, "match", "2 matches"),
        (2, "box", "2 boxes"),
        (2, "software title", "2 software titles"),
        (2, "new install", "2 new installs"),
    ],
)
def test_plural_says_the_count_and_the_word_that_agrees(
    count: int, word: str, expected: str
) -> None:
    assert plural(count, word) == expected


def test_a_verb_after_a_count_agrees_with_it() -> None:
    assert f"{plural(1, 'title')} {agree(1, 'matches')}" == "1 title matches"
    assert f"{plural(3, 'title')} {agree(3, 'matches')}" == "3 titles match"
    assert f"{plural(2, 'person')} {agree(2, 'holds')}" == "2 people hold"
    assert agree(1, "is") == "is"
    assert agree(4, "is") == "are"
    assert agree(1, "license") == "license"
    assert agree(0, "license") == "licenses"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("auditor", "an auditor"),
        ("administrator", "an administrator"),
        ("viewer", "a viewer"),
        ("license manager", "a license manager"),
        ("user", "a user"),
        ("unit", "a unit"),
        ("hour", "an hour"),
        ("Operator", "an Operator"),
        ("", "a "),
    ],
)
def test_article_follows_the_sound_of_the_word(word: str, expected: str) -> None:
    assert article(word) == expected
