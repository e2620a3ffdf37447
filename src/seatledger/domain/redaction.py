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
_APART = re.compile(r"[^\w\x00]+")  # what separates words, NUL aside


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` (letters, digits and underscores)."""
    return _WORD.findall(text.casefold())


class PhraseScanner:
    """Finds any of a set of phrases in a text, as whole words in order."""

    def __init__(self, phrases: Iterable[str]) -> None:
        # As words(phrase) for each, in a few C-level passes over them all (a large
        # organization's bundle scans for about a million names, e-mails and numbers): the
        # phrases joined by NUL, every run of other non-word characters made one space.
        joined = _APART.sub(" ", "\x00".join(phrases).casefold())
        self._phrases: set[tuple[str, ...]] = set(map(tuple, map(str.split, joined.split("\x00"))))
        self._phrases.discard(())
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
