"""Finding the names a disclosure must not carry (people's names, e-mails and employee numbers,
other vendors' names) in text written before anyone thought of disclosing it.

Entries written before pseudonymizing commitments carry whatever their authors typed (a reason
naming a colleague, a file named after another vendor).  A vendor's bundle withholds such an
entry's content, disclosing only its hash; this decides which.  Text and phrases are compared as
sequences of lower-case words, so "Nia Murphy", "nia.murphy@fabrikam.example" and
"NIA-MURPHY" all contain the phrase "Nia Murphy", while "Murphy" alone does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` (letters, digits and underscores)."""
    return _WORD.findall(text.casefold())


class PhraseScanner:
    """Finds any of a set of phrases in a text, as whole words in order."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._phrases: set[tuple[str, ...]] = set()
        for phrase in phrases:
            found = tuple(words(phrase))
            if found:
                self._phrases.add(found)
        self._starts = {phrase[0] for phrase in self._phrases}
        self._longest = max((len(phrase) for phrase in self._phrases), default=0)

    def __len__(self) -> int:
        return len(self._phrases)

    def find(self, text: str) -> tuple[str, ...] | None:
        """The first phrase ``text`` contains (as words), or None."""
        found = words(text)
        starts, phrases = self._starts, self._phrases
        if starts.isdisjoint(found):  # most texts: no phrase even begins here
            return None
        for i, word in enumerate(found):
            if word in starts:
                for n in range(1, min(self._longest, len(found) - i) + 1):
                    candidate = tuple(found[i : i + n])
                    if candidate in phrases:
                        return candidate
        return None
