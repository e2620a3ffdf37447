"""Reading FlexNet (FlexLM) ``lmutil lmstat -a`` output: who holds which feature, since when.

lmstat prints a snapshot: the time it ran ("Flexible License Manager status on Wed 11/25/2026
10:30"), then per feature a "Users of FEATURE:" block listing each checkout as
``user host display (version) (server/port handle), start Wed 11/25 9:14[, N licenses]``.  A
checkout's start has no year; it is the snapshot's year, or the year before when that start
would lie after the snapshot.  Start times are local to the license server, read as UTC like
every time without an offset.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem

_STATUS = re.compile(
    r"Flexible License Manager status on \w{3}\s+(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})"
)
_USERS_OF = re.compile(r"^Users of (\S+?):\s*\((.*)\)\s*$")
# The expiry after the vendor is optional: some lmstat versions end the line at the vendor.
_VENDOR = re.compile(r'^\s+"([^"]+)"\s+v\S*,\s*vendor:\s*([^,\s]+)')
_CHECKOUT = re.compile(
    r"^\s+(?P<user>\S+)\s+(?P<host>\S+)\s+.*?start\s+\w{3}\s+(?P<m>\d{1,2})/(?P<d>\d{1,2})"
    r"\s+(?P<hh>\d{1,2}):(?P<mm>\d{2})(?:,\s+(?P<n>\d+)\s+licenses?)?"
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one lmstat run showed."""

    taken_at: dt.datetime
    features: dict[str, tuple[int | None, int]]  # feature -> (issued or None, in use)


_LMSTAT_LINE = re.compile(r"^(?:Flexible License Manager status on |Users of \S+:)", re.MULTILINE)


def looks_like_lmstat(head: str) -> bool:
    """Whether a file's first lines are lmstat output (a line that starts as only lmstat's do)."""
    return _LMSTAT_LINE.search(head) is not None


def read_lmstat(
    facts: FileFacts, problems: list[Problem]
) -> tuple[Snapshot, Iterator[UsageRecord]]:
    """The snapshot's time and features, and its checkouts as usage records (open sessions).

    Raises:
        ImportFileError: no status line with the snapshot's date.
    """
    with facts.path.open(encoding=facts.encoding, newline="") as handle:
        text = handle.read()
    # Only line feeds end lines, as in the editor the user will open the file in.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    taken: dt.datetime | None = None
    for line in lines[:40]:
        if match := _STATUS.search(line):
            month, day, year, hour, minute = (int(p) for p in match.groups())
            try:
                taken = dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
            except ValueError:
                break
            break
    if taken is None:
        raise ImportFileError(
            f"{facts.path.name} has no line 'Flexible License Manager status on <date>'; save "
            "the whole output of 'lmutil lmstat -a', which dates the snapshot."
        )
    features: dict[str, tuple[int | None, int]] = {}
    records: list[UsageRecord] = []
    feature = ""
    publisher = ""
    for number, line in enumerate(lines, start=1):
        if match := _USERS_OF.match(line):
            feature, publisher = match.group(1), ""
            counts = re.findall(r"Total of (\d+) licenses? (issued|in use)", match.group(2))
            found = {kind: int(n) for n, kind in counts}
            features[feature] = (found.get("issued"), found.get("in use", 0))
            continue
        if not feature:
            continue
        if match := _VENDOR.match(line):
            publisher = match.group(2)
            continue
        if "start " in line and (match := _CHECKOUT.match(line)):
            start = _start(taken, match)
            if start is None:
                problems.append(Problem(number, "start", line.strip(), "not a real date"))
                continue
            too_long = next(
                (
                    (what, value, limit)
                    for what, value, limit in (
                        ("feature", feature, 200),
                        ("user", match["user"], 200),
                        ("host", match["host"], 255),
                    )
                    if len(value) > limit
                ),
                None,
            )
            if too_long is not None:
                what, value, limit = too_long
                problems.append(Problem(number, what, value, f"is longer than {limit} characters"))
                continue
            units = int(match["n"] or 1)
            if not 1 <= units <= 1_000_000:
                problems.append(Problem(number, "licenses", match["n"], "is not a count"))
                continue
            records.append(
                UsageRecord(
                    number, match["user"], feature, match["host"], start, None, publisher, units
                )
            )
    if not features:
        problems.append(
            Problem(
                0, "", "", "no 'Users of FEATURE:' block; is this the output of 'lmutil lmstat -a'?"
            )
        )
    return Snapshot(taken, features), iter(records)


def _start(taken: dt.datetime, match: re.Match[str]) -> dt.datetime | None:
    """A checkout's start: in the snapshot's year unless that is after the snapshot."""
    month, day, hour, minute = (int(match[k]) for k in ("m", "d", "hh", "mm"))
    for year in (taken.year, taken.year - 1):
        try:
            start = dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
        except ValueError:
            continue  # 29 February only exists in some years
        if start <= taken + dt.timedelta(days=1):
            return start
    return None
