"""The export's quick look at a disclosed body (``may_name``) before the phrase scanner: it may
clear a body only where the scanner would find nothing in it."""

from __future__ import annotations

import pytest

from seatledger.domain.redaction import PhraseScanner
from seatledger.services.audits.bundle.ledger_file import first_words, may_name

PHRASES = [
    "Nia Murphy",
    "nia.murphy@fabrikam.example",
    "E-01234",
    "  (Contoso) Ltd",
    "Zoë Ågren",
    "Straße Werk",  # casefolds to "strasse werk"
    "x_y",
    "",
    "--",
]

BODIES = [
    '{"action":"seat.assign","reason":"for NIA-MURPHY"}',
    '{"reason":"ask nia.murphy@fabrikam.example"}',
    '{"employee":"e 01234"}',
    '{"vendor":"CONTOSO LTD."}',
    '{"reason":"STRASSE werk"}',
    '{"reason":"Strasse_Werk"}',
    '{"reason":"X_Y"}',
    '{"reason":"x y"}',
    '{"reason":"Zoë Ågren"}',
    '{"reason":"zoë"}',
    '{"reason":"Murphy alone"}',
    '{"reason":"nia"}',
    '{"action":"entitlement.update","what":{"after":{"quantity":5}}}',
    "",
]


@pytest.mark.parametrize("text", BODIES)
def test_a_body_the_scanner_withholds_is_never_cleared(text: str) -> None:
    scanner = PhraseScanner(PHRASES)
    if scanner.find(text) is not None:
        assert may_name(first_words(PHRASES), text.encode())


def test_ascii_bodies_without_a_phrase_s_first_word_are_cleared() -> None:
    starts = first_words(PHRASES)
    assert starts == {b"nia", b"e", b"contoso", "zoë".encode(), b"strasse", b"x_y"}
    for text in (
        '{"reason":"Murphy alone"}',
        '{"reason":"Strasse_Werk"}',  # one word: strasse_werk
        '{"reason":"x y"}',
        '{"action":"entitlement.update","what":{"after":{"quantity":5}}}',
    ):
        assert not may_name(starts, text.encode()), text
    assert may_name(starts, b'{"reason":"NIA"}')  # a first word: the scanner decides
    assert may_name(starts, '{"reason":"café"}'.encode())  # not ASCII: the scanner decides
