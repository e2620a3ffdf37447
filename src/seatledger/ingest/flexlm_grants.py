"""Reading FlexNet (FlexLM) ``lmutil lmstat -i`` output: what a license file grants.

``lmstat -i`` reads the license file (``-c license.dat``, or the one a server at ``-c PORT@HOST``
serves), not the server's state, and lists one line per FEATURE or INCREMENT line of it: the
feature, its version, the licenses it issues, the vendor daemon that serves it and its expiry.
``lmstat -i FEATURE`` lists the lines of one feature in the same table.  The output names no
server (the user says which one it is of) and, from lmutil 11 on, carries the time it ran under
lmutil's banner ("Mon 12/13/2021 13:35").

The table comes in two column orders, told by its heading: ``Feature Version #licenses Vendor
Expires`` (lmutil of 2017 on) and ``Feature Version #licenses Expires Vendor`` (older ones, and
FLEXlm's own ``# licenses`` with tabs).  The count is a number, or ``0`` / ``uncounted`` for a
license the file does not count (node-locked, unlimited on its host).  The expiry is a date like
``31-dec-2027`` (any case); a year of 0 (``1-jan-0``, ``01-jan-0000``, ``31-MAY-0``) and
``permanent`` (``permanent(no expiration date)``) mean it never expires.

Read exactly or refused: every line is one lmstat writes, or a problem by line; a feature line
whose fields are not a count and a date is refused by field; a last line without its line end was
cut.  Nothing is guessed: a year of two digits is refused, not read as a century.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from seatledger.ingest.records import GrantRecord
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem

FORMAT_NAME = "FlexNet lmstat -i"

_HEADING = re.compile(
    r"^Feature\s+Version\s+#\s?licenses\s+(?P<order>Vendor\s+Expires|Expires\s+Vendor)\s*$"
)
_RULE = re.compile(r"^_+(?:\s+_+){4}\s*$")
_BANNER = re.compile(r"^\s*(?:lmutil|lmstat) - Copyright \(c\)", re.I)
_LIBRARY = re.compile(r"^\s*FlexNet Licensing v\S+ build ")
_NOTE = (
    "NOTE: lmstat -i does not give information from the server,",
    "but only reads the license file.  For this reason,",
    "lmstat -a is recommended instead.",
)
# The time lmutil ran, as its banner's next line gives it: "Mon 12/13/2021 13:35" (with
# "Flexible License Manager status on" before it where the server's status was asked for too).
_RAN = re.compile(
    r"^\s*(?:Flexible License Manager status on )?"
    r"\w{3}\s+(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})\s*$"
)
_USAGE = re.compile(r"^(?:License server status:|Users of \S+:)", re.M)
_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{1,4})$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_PERMANENT = re.compile(r"^permanent(?:\(no expiration date\))?$", re.I)
_LIMITS = (("feature", 200), ("version", 100), ("vendor", 200))


@dataclass(frozen=True)
class GrantList:
    """What one ``lmstat -i`` output lists."""

    taken_at: dt.datetime | None  # when lmutil ran, where its output says; read as UTC
    dated_on: int  # the line that says it (0: none)
    grants: tuple[GrantRecord, ...]


def looks_like_grants(head: str) -> bool:
    """Whether a file's first lines are ``lmstat -i`` output (its note or its table heading)."""
    return "lmstat -i does not give information" in head or any(
        _HEADING.match(line) for line in head.splitlines()
    )


def read_grants(facts: FileFacts, problems: list[Problem]) -> GrantList:
    """The license file's feature lines, each as a grant; problems by line and field.

    Raises:
        ImportFileError: the file has no ``Feature Version #licenses ...`` heading, or holds
            ``lmstat -a`` output too (``lmstat -a -i``), which is usage, not only the file.
    """
    with facts.path.open(encoding=facts.encoding, newline="") as handle:
        text = handle.read()
    name = facts.path.name
    if _USAGE.search(text):
        raise ImportFileError(
            f"{name} holds 'lmutil lmstat -a' output (who uses what) beside the license file's "
            "features: save the output of 'lmutil lmstat -i' alone and import that as grants, "
            "and the output of 'lmutil lmstat -a' as usage."
        )
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    last = lines.pop()  # "" after the line end lmstat writes at the end of every line
    heading = next((n for n, line in enumerate(lines) if _HEADING.match(line)), None)
    if heading is None:
        raise ImportFileError(
            f"{name} has no 'Feature  Version  #licenses  Vendor  Expires' heading; save the "
            "whole output of 'lmutil lmstat -i', which lists the license file's features under it."
        )
    match = _HEADING.match(lines[heading])
    assert match is not None
    expires_last = match["order"].startswith("Vendor")
    taken, dated_on = _preamble(lines[:heading], problems)
    grants: list[GrantRecord] = []
    body = lines[heading + 1 :]
    if body and not _RULE.match(body[0]):
        problems.append(
            Problem(
                heading + 2,
                "line",
                body[0].strip(),
                "is not the row of underscores lmstat writes under its heading; the file was "
                "edited",
            )
        )
    for number, line in enumerate(body[1:], start=heading + 3):
        if not line.strip():
            continue
        grant = _grant(number, line, expires_last=expires_last, problems=problems)
        if grant is not None:
            grants.append(grant)
    if last:
        # A line without its end was cut, whatever it reads as ("31-dec-2027  vendor1" cut
        # to "31-dec-2027  vend" still reads as a feature line).
        problems.append(
            Problem(
                len(lines) + 1,
                "line",
                last.strip(),
                "is cut off: the file ends in the middle of it (lmstat ends every line); save "
                "the whole output of 'lmutil lmstat -i' again",
            )
        )
    elif not grants and not problems:
        problems.append(
            Problem(
                0,
                "",
                "",
                "lists no feature under its heading: the license file grants nothing here (for "
                "'lmstat -i FEATURE', the feature is not in it); nothing to import",
            )
        )
    return GrantList(taken, dated_on, tuple(grants))


def _preamble(lines: list[str], problems: list[Problem]) -> tuple[dt.datetime | None, int]:
    """lmutil's banner, the time it ran and the note above the table; anything else is refused."""
    taken: dt.datetime | None = None
    dated_on = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or _BANNER.match(line) or _LIBRARY.match(line) or stripped in _NOTE:
            continue
        if match := _RAN.match(line):
            month, day, year, hour, minute = (int(p) for p in match.groups())
            try:
                taken = dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
            except ValueError:
                problems.append(Problem(number, "date", stripped, "is not a real date and time"))
                continue
            dated_on = number
            continue
        problems.append(
            Problem(
                number,
                "line",
                stripped,
                "is not a line 'lmutil lmstat -i' writes above its table (lmutil's banner, the "
                "time it ran, its note); save the output as lmutil wrote it",
            )
        )
    return taken, dated_on


def _grant(
    number: int, line: str, *, expires_last: bool, problems: list[Problem]
) -> GrantRecord | None:
    """One feature line as a grant, or None with its problem recorded."""
    words = line.split()
    if len(words) < 5:
        problems.append(
            Problem(
                number,
                "line",
                line.strip(),
                "is not a feature line (feature, version, licenses, vendor, expiry); the file "
                "may be cut short or edited",
            )
        )
        return None
    feature, version, count_text = words[:3]
    if expires_last:
        vendor, expires_text = words[3], " ".join(words[4:])
    else:
        vendor, expires_text = words[-1], " ".join(words[3:-1])
    count: int | None
    if count_text.lower() == "uncounted" or count_text == "0":
        count = None
    elif count_text.isdigit() and int(count_text) <= 1_000_000_000:
        count = int(count_text)
    else:
        problems.append(
            Problem(number, "#licenses", count_text, "is not a count of licenses or 'uncounted'")
        )
        return None
    try:
        expires = _expiry(expires_text)
    except ValueError:
        problems.append(
            Problem(
                number,
                "expires",
                expires_text,
                "is not an expiry lmstat writes (like 31-dec-2027, 1-jan-0 or permanent); a "
                "year of two digits is not read as a century",
            )
        )
        return None
    for (what, limit), value in zip(_LIMITS, (feature, version, vendor), strict=True):
        if len(value) > limit:
            problems.append(Problem(number, what, value, f"is longer than {limit} characters"))
            return None
    return GrantRecord(number, feature, version, count, vendor, expires)


def _expiry(text: str) -> dt.date | None:
    """The date a grant expires, None when it never does.

    Raises:
        ValueError: ``text`` is not an expiry lmstat writes.
    """
    if _PERMANENT.match(text):
        return None
    match = _DATE.match(text)
    month = _MONTHS.get(match[2].lower(), 0) if match is not None else 0
    if match is None or not month:
        raise ValueError(text)
    year = int(match[3])
    if year == 0:
        return None  # FlexNet: a year of 0 (0, 00, 0000) never expires
    if len(match[3]) != 4:
        raise ValueError(text)
    return dt.date(year, month, int(match[1]))
