"""English counts and articles for every message the user reads (services, command line, window).

``plural(2, "seat")`` is "2 seats", ``plural(1, "seat")`` is "1 seat", and ``article("auditor")``
is "an auditor": one place knows the irregular nouns and the vowel sounds, so no message says
"1 seats", "seat(s)" or "a auditor".  Pure Python, importable from every layer.
"""

from __future__ import annotations

# Words whose plural is not the word + "s" / "es" / "ies": irregular nouns, and the verbs messages
# put after a count, in the singular ("1 title matches", "2 titles match").
_IRREGULAR = {
    "person": "people",
    "is": "are",
    "was": "were",
    "has": "have",
    "holds": "hold",
    "matches": "match",
    "needs": "need",
    "runs": "run",
    "verifies": "verify",
}
# Words spelt with a vowel but said with a consonant, and the other way round.
_SAYS_CONSONANT = ("one", "once", "uni", "use", "usa", "user", "usu", "euro")
_SAYS_VOWEL = ("hour", "honest", "honour", "honor", "heir")


def agree(count: int, word: str) -> str:
    """``word`` in the number that agrees with ``count``: ``agree(1, "seat")`` is "seat"."""
    if count == 1:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def plural(count: int, word: str) -> str:
    """The count with thousands separators and the word that agrees: "1 seat", "1,200 seats"."""
    return f"{count:,} {agree(count, word)}"


def article(word: str) -> str:
    """The word after "a" or "an" as it is said: "an auditor", "a license manager", "a user"."""
    lower = word.lower()
    vowel = lower[:1] in tuple("aeiou")
    if lower.startswith(_SAYS_CONSONANT):
        vowel = False
    elif lower.startswith(_SAYS_VOWEL):
        vowel = True
    return f"{'an' if vowel else 'a'} {word}"
