"""What a new password must be, and how long repeated failed sign-ins wait.

The policy applies wherever a password is set (the first administrator, a new operator, a reset,
one's own change); a password stored before it existed still signs in.  Guessability is judged
by zxcvbn (Dropbox's estimator: dictionaries of common passwords, names and words, keyboard
patterns, repeats, sequences and dates) rather than a list of our own.
"""

from __future__ import annotations

import datetime as dt
import re
import threading

MIN_LENGTH = 12
MIN_SCORE = 3
"""zxcvbn's 0-4 scale; 3 is "safely unguessable" (about 10^8 guesses or more)."""
_ZXCVBN_CHARS = 72  # zxcvbn refuses longer ones (its matching grows with the length)

FREE_FAILURES = 3
"""Consecutive failed sign-ins allowed before each further attempt waits."""
FIRST_DELAY = dt.timedelta(seconds=1)
MAX_DELAY = dt.timedelta(minutes=5)

_SEPARATORS = re.compile(r"[\s._@-]+")
_APPENDED = "0123456789!?.#*_- "
_zxcvbn_lock = threading.Lock()
_WHAT_PASSES = "Three or four words that do not belong together, in a phrase of your own, pass."


def problem(password: str, name: str = "", full_name: str = "") -> str:
    """Why ``password`` may not be set for the operator ``name`` (``full_name``), or ''.

    The message names the field, says why and what would pass.
    """
    if len(password) < MIN_LENGTH:
        return (
            f"The password has {len(password)} characters and needs at least {MIN_LENGTH}. "
            + _WHAT_PASSES
        )
    own = _own_name(password, name, full_name)
    if own:
        return (
            f"The password is the {own} with trivial changes (case, reversed, digits added), "
            "which is the first thing anyone guesses. " + _WHAT_PASSES
        )
    score, warning, hints = _estimate(
        password, [name, full_name, *_SEPARATORS.split(full_name), "seatledger"]
    )
    if score >= MIN_SCORE:
        return ""
    return (
        f"The password is too easy to guess. {warning or 'It follows a common pattern.'} "
        f"{' '.join(hints) or _WHAT_PASSES}"
    ).strip()


def _squeezed(text: str) -> str:
    return _SEPARATORS.sub("", text.casefold())


def _own_name(password: str, name: str, full_name: str) -> str:
    """'operator name' or 'full name' when the password is one of them, trivially varied."""
    core = password.casefold().rstrip(_APPENDED)
    tried = {core, _squeezed(core)}
    tried |= {value[::-1] for value in tried}
    for label, value in (("operator name", name), ("full name", full_name)):
        plain = value.strip().casefold()
        if plain and (plain in tried or _squeezed(plain) in tried):
            return label
    return ""


def _estimate(password: str, user_inputs: list[str]) -> tuple[int, str, list[str]]:
    """zxcvbn's score (0-4), its warning and its suggestions."""
    # Imported here: its dictionaries take a tenth of a second to load, needed only when a
    # password is set, never at start-up.
    from zxcvbn import zxcvbn  # noqa: PLC0415

    inputs = [value for value in user_inputs if value.strip()]
    with _zxcvbn_lock:  # it keeps each call's user inputs in a module-wide dictionary
        result = zxcvbn(password[:_ZXCVBN_CHARS], user_inputs=inputs, max_length=_ZXCVBN_CHARS)
    feedback = result["feedback"]
    return result["score"], feedback["warning"], list(feedback["suggestions"])


def delay(failures: int) -> dt.timedelta:
    """How long after the last of ``failures`` consecutive failed sign-ins the next attempt
    waits: none for the first few, then 1 s, doubling with each further failure, capped."""
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    doublings = min(failures - FREE_FAILURES, 20)  # 2**20 s is far past the cap
    return min(FIRST_DELAY * (1 << doublings), MAX_DELAY)
