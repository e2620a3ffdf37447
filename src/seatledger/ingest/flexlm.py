"""Reading FlexNet (FlexLM) ``lmutil lmstat -a`` output: who holds which feature, since when.

lmstat prints a snapshot: the time it ran ("Flexible License Manager status on Wed 11/25/2026
10:30"), the license server's status, then per feature a "Users of FEATURE:" block whose
heading counts the licenses issued and in use and whose lines list each checkout as
``user host display (version) (server/port handle), start Wed 11/25 9:14[, N licenses]``; FlexNet
11.19 adds ``, PID: 481122`` for some vendor daemons (MLM, snpslmd, saltd).  A checkout's start
has no year; it is the snapshot's year, or the year before when that start would lie after the
snapshot.  Start times are local to the license server, read as UTC like every time without an
offset.

A snapshot must prove itself complete before it may close sessions that earlier snapshots saw:
every "N licenses in use" must equal the licenses its checkout lines hold (with the reservations
lmstat lists; queued requests hold none).  A file cut mid-block, or edited, is refused by line.

Checkout lines are read from the right, anchored on ``(vX)`` and ``(server/port handle)``: a user
name may hold spaces ("Ann Lee ws-1 ws-1 ..."), a host never does.  A display named after its host
(``build-02:0.0``, ``build-02:0481990_2``) anchors the host before it, whatever follows it: some
vendor daemons add a word after the display (``build-02:0.0 qx71b33020481122_1``,
``build-02:0481990_2 2026.06``).  The server and handle are part of a checkout's identity (two
sessions of one user on one host in the same minute differ by handle).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem
from seatledger.text import agree, plural

_STATUS = re.compile(
    r"Flexible License Manager status on \w{3}\s+(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})"
)
_SERVER_STATUS = re.compile(r"^License server status:\s*(\S+)")
_NO_SERVER = re.compile(
    r"Error getting status|Cannot connect to license server|Cannot find license"
)
_USERS_OF = re.compile(r"^Users of (\S+?):\s*\((.*)\)\s*$")
# The expiry after the vendor is optional: some lmstat versions end the line at the vendor.
_VENDOR = re.compile(r'^\s+"([^"]+)"\s+v\S*,\s*vendor:\s*([^,\s]+)')
_CHECKOUT = re.compile(
    r"^\s+(?P<who>\S.*?)\s+\((?P<version>v[^()]*)\)\s+"
    r"\((?P<server>[^()/\s]+/\d+)\s+(?P<handle>\d+)\),\s+"
    r"start\s+\w{3}\s+(?P<m>\d{1,2})/(?P<d>\d{1,2})\s+(?P<hh>\d{1,2}):(?P<mm>\d{2})"
    r"(?:,\s+(?P<n>\d+)\s+licenses?)?(?:,\s+PID:\s*\d+)?(?P<rest>\s.*)?$"
)
_QUEUED = re.compile(r"^\s+\S.*\)\s+queued for\s+\d+\s+licenses?\s*$")
_RESERVED = re.compile(r"^\s+(?P<n>\d+)\s+RESERVATIONs?\s+for\s+\S+\s+.+$")
_DISPLAY = re.compile(r"^(?:/dev/\S+|:\d+(?:\.\d+)?|\S*:\d+(?:\.\d+)?|console|unknown|-)$", re.I)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one lmstat run showed."""

    taken_at: dt.datetime
    features: dict[str, tuple[int | None, int]]  # feature -> (issued or None, in use)
    servers: tuple[str, ...] = ()  # as "License server status:" names them (port@host, ...)
    notes: tuple[str, ...] = ()  # lines read one way of two; the import summary says them
    # Where a file lists each server's features apart (LM-X, Sentinel RMS, DSLS): the features
    # whose sessions it may close, per server as its checkouts name it.  Empty: every feature of
    # ``features`` on every server of ``servers``.
    by_server: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class _Block:
    """One "Users of FEATURE:" block while it is read."""

    feature: str
    line: int
    in_use: int | None
    held: int = 0
    reserved: int = 0
    damaged: bool = False  # a line of it was refused already
    publisher: str = ""
    records: list[UsageRecord] = field(default_factory=list)


_LMSTAT_LINE = re.compile(r"^(?:Flexible License Manager status on |Users of \S+:)", re.MULTILINE)


def looks_like_lmstat(head: str) -> bool:
    """Whether a file's first lines are lmstat output (a line that starts as only lmstat's do)."""
    return _LMSTAT_LINE.search(head) is not None


def read_lmstat(
    facts: FileFacts, problems: list[Problem]
) -> tuple[Snapshot, Iterator[UsageRecord]]:
    """The snapshot's time and features, and its checkouts as usage records (open sessions).

    Problems: a block whose lines do not add up to its "in use" count (the file was cut or
    edited), a line that starts like a checkout but is not one, values too long to store.

    Raises:
        ImportFileError: no status line with the snapshot's date, or lmstat could not reach the
            license server (the file holds no snapshot).
    """
    with facts.path.open(encoding=facts.encoding, newline="") as handle:
        text = handle.read()
    # Only line feeds end lines, as in the editor the user will open the file in.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    taken = _taken_at(facts, lines)
    runs = [n for n, line in enumerate(lines, 1) if "Flexible License Manager status on" in line]
    if len(runs) > 1:
        # lmstat prints its status line once a run: a file holding more is several runs appended
        # ('lmutil lmstat -a >> lmstat.txt' every few minutes).  Read as one snapshot, every
        # checkout of every run would be open at the first run's time, and the concurrency over
        # the day counted as if all were at once.
        shown = ", ".join(str(n) for n in runs[:5]) + (", ..." if len(runs) > 5 else "")
        raise ImportFileError(
            f"{facts.path.name} holds {len(runs)} runs of 'lmutil lmstat -a' appended to one "
            f"another (their status lines are lines {shown}); a snapshot is one run: save each "
            "run to a file of its own and import them in the order they were taken."
        )
    servers: list[str] = []
    notes: list[str] = []
    features: dict[str, tuple[int | None, int]] = {}
    records: list[UsageRecord] = []
    block: _Block | None = None
    unreachable: tuple[int, str] | None = None

    def close(current: _Block | None) -> None:
        if current is None:
            return
        held = (current.held, current.held + current.reserved)
        if current.in_use is not None and not current.damaged and current.in_use not in held:
            problems.append(
                Problem(
                    current.line,
                    "in use",
                    str(current.in_use),
                    f"says {plural(current.in_use, 'license')} of {current.feature} "
                    f"{agree(current.in_use, 'is')} in use but "
                    f"its lines hold {current.held}"
                    + (f" and reserve {current.reserved}" if current.reserved else "")
                    + ": the snapshot is cut short or edited; save the whole output of "
                    "'lmutil lmstat -a' again",
                )
            )
        records.extend(current.records)

    # lmstat ends every line; a last line without its end that is none of lmstat's lines was
    # cut, and is said once, as cut (not also as a checkout line it no longer is).
    cut = bool(lines[-1].strip()) and not _whole(lines[-1])
    for number, line in enumerate(lines, start=1):
        if match := _SERVER_STATUS.match(line):
            for part in match.group(1).split(","):
                if part:
                    servers.append(part)
                    _check_server(number, part, problems)
            continue
        if _NO_SERVER.search(line) and unreachable is None:
            unreachable = (number, line.strip())
            continue
        if match := _USERS_OF.match(line):
            close(block)
            counts = re.findall(r"Total of (\d+) licenses? (issued|in use)", match.group(2))
            found = {kind: int(n) for n, kind in counts}
            in_use = found.get("in use")
            features[match.group(1)] = (found.get("issued"), in_use or 0)
            block = _Block(match.group(1), number, in_use)
            continue
        if block is None:
            continue
        if match := _VENDOR.match(line):
            block.publisher = match.group(2)
            continue
        if match := _RESERVED.match(line):
            block.reserved += int(match["n"])
            continue
        if _QUEUED.match(line):
            continue
        if "start " not in line:
            continue
        match = _CHECKOUT.match(line)
        if match is None:
            block.damaged = True
            if cut and number == len(lines):
                continue
            problems.append(
                Problem(
                    number,
                    "checkout",
                    line.strip(),
                    "is not a whole checkout line ('user host display (vX) (server/port "
                    "handle), start DAY M/D H:MM'); the file may be cut short or edited",
                )
            )
            continue
        record = _checkout(
            number, line, match, taken=taken, block=block, problems=problems, notes=notes
        )
        if record is None:
            block.damaged = True
            continue
        block.held += record.units
        block.records.append(record)
    if block is not None and cut:
        # A checkout cut before "start" would otherwise pass as an unknown line.
        block.damaged = True
        problems.append(
            Problem(
                len(lines),
                "line",
                lines[-1].strip(),
                "is cut off: the file ends in the middle of it; save the whole output of "
                "'lmutil lmstat -a' again",
            )
        )
    close(block)
    if unreachable is not None:
        where, said = unreachable
        if not features:
            raise ImportFileError(
                f"{facts.path.name} line {where}: lmstat could not reach the license server "
                f"({said}); the file holds no snapshot of who uses what."
            )
        notes.append(f"line {where}: {said}; that server's features are not in this snapshot")
    if not features:
        problems.append(
            Problem(
                0, "", "", "no 'Users of FEATURE:' block; is this the output of 'lmutil lmstat -a'?"
            )
        )
    elif not servers:
        problems.append(
            Problem(
                0,
                "",
                "",
                "no 'License server status:' line: save the whole output of 'lmutil lmstat -a', "
                "which names the server the snapshot is of",
            )
        )
    return Snapshot(taken, features, tuple(servers), tuple(notes)), iter(records)


def _check_server(number: int, server: str, problems: list[Problem]) -> None:
    """A "License server status:" entry is PORT@HOST with the port as lmstat writes it, a number.

    A port redacted as a word ("port@lic-vm7") would make the snapshot one of no server its
    checkout lines name, so it could not close the sessions an earlier snapshot of it saw.
    """
    port, at, _ = server.partition("@")
    if at and port and not port.isdigit():
        problems.append(
            Problem(
                number,
                "server",
                server,
                f"names the port '{port}', not its number (lmstat writes PORT@HOST, as in "
                "'27000@lic01'); the file was edited: save the output of 'lmutil lmstat -a' as "
                "it is",
            )
        )


def _whole(line: str) -> bool:
    """Whether a line is one lmstat writes whole inside a feature block."""
    return (
        any(pattern.match(line) for pattern in (_CHECKOUT, _VENDOR, _RESERVED, _QUEUED, _USERS_OF))
        or line.strip() in {"floating license", "uncounted nodelocked license"}
        or (line.strip().startswith(("vendor_string:", "nodelocked license")))
    )


def _taken_at(facts: FileFacts, lines: list[str]) -> dt.datetime:
    for line in lines[:40]:
        if match := _STATUS.search(line):
            month, day, year, hour, minute = (int(p) for p in match.groups())
            try:
                return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
            except ValueError:
                break
    raise ImportFileError(
        f"{facts.path.name} has no line 'Flexible License Manager status on <date>'; save "
        "the whole output of 'lmutil lmstat -a', which dates the snapshot."
    )


def _checkout(
    number: int,
    line: str,
    match: re.Match[str],
    *,
    taken: dt.datetime,
    block: _Block,
    problems: list[Problem],
    notes: list[str],
) -> UsageRecord | None:
    """One checkout line as a usage record, or None with its problem recorded."""
    words = match["who"].split()
    if len(words) < 2:
        problems.append(Problem(number, "host", line.strip(), "names no host before the version"))
        return None
    # A token pool's checkout names the product it was taken for after the display, prefixed
    # with the pool's name ("jdoe ws1 ws1 MSCONE:NASTRAN (v2021.1)"): not a word of the user's.
    if len(words) >= 4 and words[-1].casefold().startswith(block.feature.casefold() + ":"):
        words = words[:-1]
    # A display named after the host before it ("host-01 host-01:0.0", "ws1 ws1") or written as
    # only displays are ("/dev/pts/3") places the host, and the user before it, whatever words
    # some vendor daemons write after the display.
    anchor = _display_of_host(words)
    if anchor is not None:
        user, host = " ".join(words[: anchor - 1]), words[anchor - 1]
    # Else from the right: the display, the host, and the user (who may have spaces in the name).
    elif len(words) == 2 and _DISPLAY.match(words[1]):
        # "tia4108 /dev/pts/1": a user and a display, no host (a display is never a host).
        user, host = words[0], ""
        notes.append(
            f"line {number}: user '{user}' on no host: '{words[1]}' is a display, not a host"
        )
    elif len(words) == 2:
        user, host = words
    else:
        user, host, display = " ".join(words[:-2]), words[-2], words[-1]
        if len(words) > 3 and display != host and not _DISPLAY.match(display):
            notes.append(
                f"line {number}: read as user '{user}' on host '{host}' (display '{display}'); "
                "lmstat does not mark where a user name with spaces ends"
            )
    start = _start(taken, match)
    if start is None:
        problems.append(Problem(number, "start", line.strip(), "not a real date"))
        return None
    for what, value, limit in (
        ("feature", block.feature, 200),
        ("user", user, 200),
        ("host", host, 255),
    ):
        if len(value) > limit:
            problems.append(Problem(number, what, value, f"is longer than {limit} characters"))
            return None
    units = int(match["n"] or 1)
    if not 1 <= units <= 1_000_000:
        problems.append(Problem(number, "licenses", match["n"], "is not a count"))
        return None
    return UsageRecord(
        number,
        user,
        block.feature,
        host,
        start,
        None,
        block.publisher,
        units,
        server=match["server"],
        handle=match["handle"],
    )


def _display_of_host(words: list[str]) -> int | None:
    """The index of the last word that is a display of the word before it, if any.

    ``host-01:0.0`` after ``host-01``: an X display or a vendor's ``host:process`` id; ``ws1``
    after ``ws1`` (Windows clients name the display after the host); a terminal or X display
    (``/dev/pts/3``, ``:0``).  The user takes at least the first word, so the display is the
    third word or later.
    """
    for index in range(len(words) - 1, 1, -1):
        host, word = words[index - 1].casefold(), words[index].casefold()
        if word == host or word.startswith(host + ":") or _DISPLAY.match(word):
            return index
    return None


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
