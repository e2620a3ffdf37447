"""What the license-server snapshots that print no time of their own share (LM-X, Sentinel RMS,
DSLS): their lines, whether the last one is whole, and the handles that tell apart two checkouts
the server does not number.

None of these outputs says when it was taken.  The user may know (``--taken-at``); otherwise each
checkout says when it began (and DSLS when it was last used), so a snapshot is dated by the latest
such time: it was taken then or later.  A session an earlier snapshot of the same server showed,
and this one does not, ended by then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable

from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem


def text_lines(facts: FileFacts) -> tuple[list[str], bool]:
    """The file's lines (without their line ends) and whether its last line ended whole.

    Only line feeds end lines, as in the editor the user will open the file in.  A last line
    that is blank, or followed by a line end, is whole; any other is cut off (or the file was
    saved without its last line end, which the readers then refuse the same way).
    """
    with facts.path.open(encoding=facts.encoding, newline="") as handle:
        text = handle.read()
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    whole = not lines[-1].strip()
    if whole:
        lines.pop()
    return lines, whole


def cut_line(number: int, line: str, again: str) -> Problem:
    """The problem of a last line the file ends in the middle of (``again``: what to save)."""
    return Problem(
        number, "line", line.strip(), f"is cut off: the file ends in the middle of it; {again}"
    )


class Handles:
    """Handles for checkouts a server lists without one: '' for the first of a key, then '#2', '#3'.

    Two checkouts of one feature by one user on one host that began in the same minute are two
    sessions; numbered in the order the server lists them, the same pair gets the same handles in
    the next snapshot, and when one of them is gone the other is read as the first.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[object, ...], int] = {}

    def next(self, key: tuple[object, ...]) -> str:
        count = self._seen.get(key, 0) + 1
        self._seen[key] = count
        return "" if count == 1 else f"#{count}"


def given_time(
    given: dt.datetime,
    latest: tuple[dt.datetime, int] | None,
    tool: str,
    problems: list[Problem],
) -> str:
    """The note of a snapshot dated as the import says (``--taken-at``); a problem when the file
    shows a later time (``latest``: the latest time and its line), which it could not have."""
    if latest is not None and latest[0] > given:
        problems.append(
            Problem(
                latest[1],
                "taken at",
                f"{given:%Y-%m-%d %H:%M:%S}",
                f"is before this line's time, {latest[0]:%Y-%m-%d %H:%M:%S}: the snapshot was "
                "taken later, or the time given is another server's (give the license server's "
                "own time)",
            )
        )
    return (
        f"{tool} prints no time of its own; the snapshot was taken at "
        f"{given:%Y-%m-%d %H:%M:%S}, as the import says"
    )


TAKEN_AT_FORMAT = "YYYY-MM-DD HH:MM"


def taken_at_of(text: str) -> dt.datetime | None:
    """The time a snapshot was taken, as a user types it ('YYYY-MM-DD HH:MM', or with seconds:
    the license server's time, kept as UTC like every time without an offset); None if not one."""
    for layout in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text.strip(), layout).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def appended_runs(lines: list[str], key_of: Callable[[str], Hashable | None]) -> list[int]:
    """The lines (numbered from 1) where each run after the first begins, in a file holding
    several runs of one tool appended to one another (a cron job's ``tool >> file``).

    ``key_of`` names what a line says once a run (the tool's banner, a server's heading, an
    ISV's pools, a usage table of one server), None for any other line.  A line that says what
    the run read so far said already begins the next run.
    """
    starts: list[int] = []
    seen: set[Hashable] = set()
    for number, line in enumerate(lines, start=1):
        key = key_of(line)
        if key is None:
            continue
        if key in seen:
            starts.append(number)
            seen = set()
        seen.add(key)
    return starts


def refuse_appended(name: str, tool: str, starts: list[int]) -> ImportFileError:
    """The refusal of a file holding several runs (``starts``: where each run after the first
    begins): read as one snapshot, every checkout of every run would be open at once, and the
    concurrency counted as if all were."""
    shown = ", ".join(str(n) for n in starts[:5]) + (", ..." if len(starts) > 5 else "")
    where = (
        "the next run begins at line"
        if len(starts) == 1
        else "the runs after the first begin at lines"
    )
    return ImportFileError(
        f"{name} holds {len(starts) + 1} runs of '{tool}' appended to one another ({where} "
        f"{shown}); a snapshot is one run: save each run to a file of its own and import them "
        "in the order they were taken."
    )
