"""Reading a FlexNet (FlexLM) debug log: every checkout with its real checkin, and the denials.

lmgrd and its vendor daemons write one line per event, ``H:MM:SS (daemon) message`` (the hour
padded to two places with a space by most versions).  The time has no date: the date comes from
``(lmgrd) TIMESTAMP 3/2/2026`` lines (every six hours; vendor daemons write their own), from
lmgrd's start line ``... started on lic01 (linux) (3/2/2026)`` and its ``Server's System Date and
Time: Mon Mar 02 2026 09:14:02 CET``, and a time earlier than the line before it is the next day
(midnight).  Lines written before the first date are dated backwards from it.  A log whose lines
each carry their date (``3/2/2026 9:14:02 (MLM) ...`` or ``2026-03-02 09:14:02 (MLM) ...``, as
some collectors and newer daemons write) needs none of that.  Times are the license server's
local time, read as UTC like every time without an offset.

Events (see ``tests/data/flexlm_log/README.md`` for the versions studied):

- ``OUT: "FEATURE" user@host`` opens a session, ``IN:`` with the same feature, user and host closes
  the oldest one still open (``(INACTIVE)``, ``(SHUTDOWN)`` say why; ``(3 licenses)`` on both
  says how many it holds).  Verbose daemons (``ls_enable_verbose_dlog``) add ``^^^ version user ip
  pid handle ... ^^^``: the handle then tells sessions apart, as lmstat's does.  Without one, two
  checkouts by one user on one host in the same second are told apart as handles ``#2``, ``#3``.
- A daemon that stops or starts again (``EXITING DUE TO SIGNAL``, lmgrd's ``Shutting down MLM``,
  ``Started MLM``, ``REStarted MLM``, the daemon's own ``Server started on``, lmgrd starting again)
  holds no checkout any more: its sessions still open end at the stop, or at the last line logged
  before the start.
- ``DENIED:`` is kept line by line (who, when, why) and counted per feature with its first and
  last time: "Licensed number of users already reached (-4)" means the pool was too small; other
  reasons (an EXCLUDE list, an expired feature) are counted apart.  ``UNSUPPORTED:`` (a feature
  this server does not serve) is counted likewise.
- A checkout still out when the log ends stays open; a checkin whose checkout is before the log
  began is counted in a note, not stored (its start is unknown).

The file is read line by line: memory holds the sessions open at once, not the log.  A line that
is not ``TIME (daemon) message``, an event line that cannot be read, a date that is not a date, a
date that goes back, a last line cut off: each is a problem naming the line and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import FileFacts, Problem
from seatledger.text import agree, plural

FORMAT_NAME = "FlexNet debug log"

# [date] time (daemon) message.  The message keeps its trailing spaces out.
_LINE = re.compile(
    r" *(?:(?P<mo>\d{1,2})/(?P<dd>\d{1,2})/(?P<yy>\d{4}) +"
    r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})[ T])?"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2}) \((?P<daemon>[^()\s]+)\) ?(?P<msg>.*?)\s*$"
)
_EVENT = re.compile(
    r"(?P<kind>OUT|IN|DENIED|UNSUPPORTED|QUEUED|DEQUEUED|UPGRADE|TIMESTAMP)(?::|(?= ))"
    r"\s*(?P<rest>.*)$"
)
# "FEATURE" user@host rest; the user may be empty (verbose lines name it after ^^^).  A host
# holds no '@' but a user may (SSSD's fully qualified "jdoe@corp.example"): the host follows the
# first '@' that a whole host name and the end of the line or a space follow.
_WHO = re.compile(
    r'(?:"(?P<quoted>[^"]+)"|(?P<bare>[^\s"]+))\s+(?P<user>[^"]*?)@(?P<host>[^\s@]+)'
    r"(?P<rest>(?:\s.*)?)$"
)
# The common line: TIME (daemon) OUT|IN: "FEATURE" user@host tail (no date on the line).
_FAST = re.compile(
    r' *(\d{1,2}):(\d{2}):(\d{2}) \(([^()\s]+)\) (OUT|IN): +"([^"]+)" +([^"]*?)@([^\s@]+)'
    r"((?:\s.*)?)$"
)
_UNSUPPORTED = re.compile(r'(?:"(?P<quoted>[^"]+)"|(?P<bare>[^\s"]+))(?P<rest>.*)$')
_LICENSES = re.compile(r"\((\d+)(?: licenses?)?\)")  # "(2)" in verbose lines
_ERROR = re.compile(r"\((-\d+),\d+")
_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_START = re.compile(r"\bstarted on .*\((\d{1,2})/(\d{1,2})/(\d{4})\)$")
_MONTHS = {
    month: number
    for number, month in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_SPELLED = re.compile(r"\w{3} (\w{3}) (\d{1,2}) (\d{4}) (\d{1,2}):(\d{2}):(\d{2})")
_LMGRD_DAEMON = re.compile(
    r"(?:RE)?[Ss]tarted (\S+) \(|Shutting down (\S+)|(\S+) exited with status"
)
_STOPS = ("EXITING DUE TO SIGNAL", "Shutdown requested", "Shutting down", "Server exiting")
_LMGRD_STOPS = ("EXITING DUE TO SIGNAL",)  # its "SHUTDOWN request" is followed by the daemons'
_DAEMON_STARTS = (
    "FlexNet Licensing version",
    "FLEXnet Licensing version",
    "FLEXlm version",
    "Server started on",
)
_LOG_KINDS = (
    "OUT:",
    "IN:",
    "DENIED:",
    "UNSUPPORTED:",
    "TIMESTAMP",
    "FlexNet Licensing",
    "FLEXnet Licensing",
    "FLEXlm",
)
SLACK = 300  # seconds a line may be logged before the one above it (daemons share the file)
UNDATED_LIMIT = 1_000_000  # lines kept while waiting for the first date
_DAY = 86_400


def looks_like_debug_log(head: str) -> bool:
    """Whether a file's first lines are a FlexNet debug log.

    Most non-blank lines must be ``TIME (daemon) message`` and one at least lmgrd's or an event's
    (a table with a column of such text is not a log).
    """
    lines = head.splitlines()
    if len(lines) > 1 and not head.endswith("\n"):
        lines.pop()  # the head may end inside a line
    lines = [line for line in lines if line.strip()]
    if not lines:
        return False
    known = 0
    matched = 0
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            continue
        matched += 1
        if match["daemon"] == "lmgrd" or match["msg"].startswith(_LOG_KINDS):
            known += 1
    return known > 0 and matched * 5 >= len(lines) * 4


@dataclass
class _Denials:
    count: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    reason: str = ""  # the first one's, for denials that are not about the pool's size

    def add(self, when: dt.datetime, reason: str) -> None:
        self.count += 1
        self.first = when if self.first is None else self.first
        self.last = when
        self.reason = self.reason or reason


@dataclass(frozen=True, slots=True)
class Denial:
    """One ``DENIED:`` line: who was refused which feature, when, and why.

    ``capacity``: the pool was too small (-4, "already reached"); ``nth`` tells apart the same
    refusal logged more than once in one second (1, 2...).
    """

    line: int
    when: dt.datetime
    daemon: str
    feature: str
    user: str
    host: str
    capacity: bool
    reason: str
    nth: int


@dataclass
class DebugLog:
    """What a debug log held besides its sessions; ``notes`` and ``denials`` are complete once
    they were read."""

    notes: list[str] = field(default_factory=list)
    denials: list[Denial] = field(default_factory=list)  # every DENIED line, in the log's order
    denied: dict[str, _Denials] = field(default_factory=dict)  # the pool was too small
    refused: dict[str, _Denials] = field(default_factory=dict)  # other reasons
    unsupported: dict[str, _Denials] = field(default_factory=dict)
    sessions: int = 0
    open_at_end: int = 0
    ended_by_stop: int = 0
    orphan_checkins: int = 0
    upgrades: int = 0
    first: dt.datetime | None = None
    last: dt.datetime | None = None


# A session still out: (checkout, line of its OUT, handle: the log's, or '#2'... in a second).
_Out = tuple[dt.datetime, int, str]
_Key = tuple[str, str, str, str, int]  # feature, user, host, handle, units


class _Reader:
    """One pass over a log; :meth:`records` yields sessions as they end, then those still out."""

    def __init__(self, facts: FileFacts, problems: list[Problem], log: DebugLog) -> None:
        self.facts = facts
        self.problems = problems
        self.log = log
        self.day: dt.datetime | None = None  # midnight of the current date
        self.last = 0  # seconds into that day of the latest dated line
        self.last_when: dt.datetime | None = None
        self.undated: list[tuple[int, int, str, str, str]] = []  # line, secs, daemon, msg, text
        self.undated_dropped = False
        self.out: dict[str, dict[_Key, list[_Out]]] = {}  # daemon -> key -> sessions out
        self.ready: list[UsageRecord] = []
        self.same_second: dict[_Key, int] = {}
        self.denied_twice: dict[tuple[dt.datetime, str, str, str, str], int] = {}
        self.second: dt.datetime | None = None
        self.names: dict[str, str] = {}
        self.stop_note: tuple[str, dt.datetime] | None = None

    # -- the pass ------------------------------------------------------------------------------

    def records(self) -> Iterator[UsageRecord]:
        number = 0
        fast_match, session, read_line, ready = _FAST.match, self.session, self.line, self.ready
        log, timedelta, latest = self.log, dt.timedelta, _DAY - SLACK
        with self.facts.path.open(encoding=self.facts.encoding, newline="") as handle:
            for number, raw in enumerate(handle, 1):
                # Most lines are a plain OUT or IN of the day being read: one pattern reads them;
                # any other line (a date, midnight, a late line, a server's) takes the long way.
                day = self.day
                fast = fast_match(raw) if day is not None else None
                if fast is not None:
                    hours, minutes, seconds, daemon, kind, feature, user, host, tail = fast.groups()
                    secs = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
                    last = self.last
                    if (
                        last <= secs <= last + latest
                        and secs < _DAY
                        and raw[-1:] == "\n"  # else cut: the long way says so
                        and minutes < "60"
                        and seconds < "60"
                        and "^" not in tail
                        and user[-1:] != " "
                        and day is not None
                    ):
                        self.last = secs
                        when = day + timedelta(seconds=secs)
                        log.last = self.last_when = when
                        session(number, when, daemon, kind, feature, user, host, tail, "", raw)
                        if ready:
                            yield from ready
                            ready.clear()
                        continue
                if raw[-1:] != "\n":
                    if raw.strip():
                        self.problem(
                            number,
                            "line",
                            raw.strip(),
                            "is cut off: the file ends in the middle of it (lmgrd ends every "
                            "line); copy the whole log again, or delete its last line",
                        )
                    break
                read_line(number, raw)
                if ready:
                    yield from ready
                    ready.clear()
        if self.undated:
            first = self.undated[0]
            self.problem(
                first[0],
                "date",
                first[4],
                "no line of the log says its date (no 'TIMESTAMP M/D/YYYY' line, no lmgrd start "
                "line): the times cannot be dated; import a log that holds a TIMESTAMP line",
            )
        if number == 0:
            self.problem(0, "", "", "the file holds no line")
        for daemon in list(self.out):
            for key, sessions in self.out[daemon].items():
                for checkout, line, held in sessions:
                    self.log.open_at_end += 1
                    self.emit(line, daemon, key, checkout, None, held)
        self.out.clear()
        yield from self.ready
        self.ready.clear()
        self.notes()

    def line(self, number: int, raw: str) -> None:
        text = raw.rstrip("\r\n")
        if not text.strip():
            return
        match = _LINE.match(text)
        if match is None:
            self.problem(
                number,
                "line",
                text.strip(),
                "is not a debug log line ('H:MM:SS (daemon) message'); the file may be edited "
                "or hold something else",
            )
            return
        secs = int(match["h"]) * 3600 + int(match["mi"]) * 60 + int(match["s"])
        if secs >= _DAY or int(match["mi"]) > 59 or int(match["s"]) > 59:
            self.problem(number, "time", text.strip(), "is not a time of day")
            return
        daemon, msg = match["daemon"], match["msg"]
        if match["yy"] or match["iy"]:
            day = self.date_of(
                number,
                text,
                *(
                    (match["yy"], match["mo"], match["dd"])
                    if match["yy"]
                    else (match["iy"], match["im"], match["id"])
                ),
            )
            if day is None:
                return
            self.set_day(number, text, day, secs)
        elif (dated := self.dates(number, text, daemon, msg)) is not None:
            if not isinstance(dated, dt.datetime):
                return  # a date that is not one: said as a problem
            self.set_day(number, text, dated, secs)
        elif self.day is None:
            self.wait(number, secs, daemon, msg, text)
            return
        else:
            self.advance(secs)
        self.event(number, self.at(secs), daemon, msg, text)

    # -- dates ---------------------------------------------------------------------------------

    def dates(self, number: int, text: str, daemon: str, msg: str) -> dt.datetime | bool | None:
        """The date a line says (TIMESTAMP, lmgrd's start), None if none, False if unreadable."""
        found: tuple[str, str, str] | None = None
        if msg.startswith("TIMESTAMP"):
            date = _DATE.search(msg)
            if date is None:
                return None  # lmgrd's bare "TIMESTAMP" of some versions: no date
            found = (date[3], date[1], date[2])
        elif daemon == "lmgrd" and (start := _START.search(msg)) is not None:
            found = (start[3], start[1], start[2])
        elif "Date and Time:" in msg or "Start-Date:" in msg:
            spelled = _SPELLED.search(msg)
            if spelled is None or spelled[1] not in _MONTHS:
                return None
            found = (spelled[3], str(_MONTHS[spelled[1]]), spelled[2])
        if found is None:
            return None
        day = self.date_of(number, text, *found)
        return False if day is None else day

    def date_of(
        self, number: int, text: str, year: str, month: str, day: str
    ) -> dt.datetime | None:
        try:
            return dt.datetime(int(year), int(month), int(day), tzinfo=dt.UTC)
        except ValueError:
            self.problem(number, "date", text.strip(), "is not a real date (M/D/YYYY)")
            return None

    def set_day(self, number: int, text: str, day: dt.datetime, secs: int) -> None:
        if self.day is not None and day + dt.timedelta(seconds=secs + SLACK) < self.at(self.last):
            self.problem(
                number,
                "date",
                text.strip(),
                f"goes back to {day:%Y-%m-%d} after lines read as {self.day:%Y-%m-%d}: the log "
                "is out of order or joined from several logs; import each log on its own",
            )
            return
        first = self.day is None
        self.day, self.last = day, secs
        if first and self.undated:
            self.date_backwards(day, secs)

    def advance(self, secs: int) -> None:
        """Move to the next day when the time goes back (midnight), beyond the daemons' slack."""
        if secs >= self.last:
            if secs - self.last <= _DAY - SLACK:
                self.last = secs
            return  # else a line a little late, logged just before midnight
        if self.last - secs > SLACK:
            assert self.day is not None
            self.day += dt.timedelta(days=1)
            self.last = secs

    def at(self, secs: int) -> dt.datetime:
        assert self.day is not None
        when = self.day + dt.timedelta(seconds=secs)
        if secs - self.last > _DAY - SLACK:
            when -= dt.timedelta(days=1)  # a line from before midnight, logged just after it
        return when

    def wait(self, number: int, secs: int, daemon: str, msg: str, text: str) -> None:
        if len(self.undated) >= UNDATED_LIMIT:
            if not self.undated_dropped:
                self.undated_dropped = True
                self.problem(
                    number,
                    "date",
                    text.strip(),
                    f"no date in the first {UNDATED_LIMIT:,} lines of the log (no TIMESTAMP "
                    "line): they cannot be dated",
                )
            return
        self.undated.append((number, secs, daemon, msg, text))

    def date_backwards(self, day: dt.datetime, secs: int) -> None:
        """Date the lines before the first date: a time later than the one after it is the day
        before (the log crossed midnight before it said its date)."""
        waiting, self.undated = self.undated, []
        days = [0] * len(waiting)
        later, back = secs, 0
        for index in range(len(waiting) - 1, -1, -1):
            line_secs = waiting[index][1]
            if line_secs - later > SLACK:
                back += 1
            if line_secs - later > SLACK or line_secs < later:
                later = line_secs
            days[index] = back
        current_day, current_last = self.day, self.last
        for (number, line_secs, daemon, msg, text), back in zip(waiting, days, strict=True):
            self.day, self.last = day - dt.timedelta(days=back), line_secs
            self.event(number, self.day + dt.timedelta(seconds=line_secs), daemon, msg, text)
        self.day, self.last = current_day, current_last

    # -- events --------------------------------------------------------------------------------

    def event(self, number: int, when: dt.datetime, daemon: str, msg: str, text: str) -> None:
        log = self.log
        if log.first is None:
            log.first = when
        log.last = when
        match = _EVENT.match(msg)
        if match is None:
            self.server(number, when, daemon, msg)
            if daemon != "lmgrd":  # lmgrd's banner as it starts is no sign the daemons lived
                self.last_when = when
            return
        self.last_when = when
        kind, rest = match["kind"], match["rest"]
        if kind in {"TIMESTAMP", "QUEUED", "DEQUEUED"}:
            return
        if kind == "UPGRADE":
            log.upgrades += 1
            return
        if kind == "UNSUPPORTED":
            found = _UNSUPPORTED.match(rest)
            if found is None:
                self.problem(number, kind, text.strip(), "names no feature")
                return
            feature = found["quoted"] or found["bare"]
            log.unsupported.setdefault(self.name(feature), _Denials()).add(when, "")
            return
        who = _WHO.match(rest)
        if who is None:
            self.problem(
                number,
                kind,
                text.strip(),
                f"is not a whole {kind} line ('{kind}: \"FEATURE\" user@host'); the file may be "
                "cut or edited",
            )
            return
        feature = who["quoted"] or who["bare"]
        user, host, tail = who["user"].strip(), who["host"], who["rest"]
        handle = ""
        if "^^^" in tail:
            verbose = _verbose(tail)
            if verbose is None:
                self.problem(number, kind, text.strip(), "has a '^^^' part that is not whole")
                return
            user, handle = user or verbose[0], verbose[1]
        if kind == "DENIED":
            code = _ERROR.search(tail)
            reason = tail.strip()
            capacity = (code is not None and code[1] == "-4") or "already reached" in reason
            book = log.denied if capacity else log.refused
            book.setdefault(self.name(feature), _Denials()).add(when, reason)
            same = (when, daemon, feature, user, host)
            self.denied_twice[same] = nth = self.denied_twice.get(same, 0) + 1
            log.denials.append(
                Denial(number, when, daemon, feature, user, host, capacity, reason[:500], nth)
            )
            return
        self.session(number, when, daemon, kind, feature, user, host, tail, handle, text)

    def session(  # noqa: PLR0917 (the parts of one OUT or IN line)
        self,
        number: int,
        when: dt.datetime,
        daemon: str,
        kind: str,
        feature: str,
        user: str,
        host: str,
        tail: str,
        handle: str,
        text: str,
    ) -> None:
        """An OUT opens a session, an IN ends the oldest one of its key still out."""
        units = 1
        if "(" in tail and (count := _LICENSES.search(tail)) is not None:
            units = int(count[1])
            if not 1 <= units <= 1_000_000:
                self.problem(number, "licenses", count[0], "is not a count")
                return
        if not user:
            self.problem(number, "user", text.strip(), "names no user")
            return
        if len(feature) > 200 or len(user) > 200 or len(host) > 255:
            for what, value, limit in (
                ("feature", feature, 200),
                ("user", user, 200),
                ("host", host, 255),
            ):
                if len(value) > limit:
                    self.problem(number, what, value, f"is longer than {limit} characters")
                    return
        names = self.names
        key = (
            names.setdefault(feature, feature),
            names.setdefault(user, user),
            names.setdefault(host, host),
            handle,
            units,
        )
        sessions = self.out.get(daemon)
        if sessions is None:
            sessions = self.out[daemon] = {}
        if kind == "OUT":
            if when != self.second:
                self.second = when
                self.same_second.clear()
            held = handle or self.unique(key)
            if (out := sessions.get(key)) is None:
                sessions[key] = [(when, number, held)]
            else:
                out.append((when, number, held))
            return
        out = sessions.get(key)
        if not out:
            self.log.orphan_checkins += 1
            return
        checkout, line, held = out.pop(0)
        if not out:
            del sessions[key]
        self.emit(line, daemon, key, checkout, max(when, checkout), held)

    def unique(self, key: _Key) -> str:
        """'' for a checkout, '#2', '#3'... for the next ones of the same key in the same second."""
        seen = self.same_second.get(key, 0) + 1
        self.same_second[key] = seen
        return "" if seen == 1 else f"#{seen}"

    def server(self, number: int, when: dt.datetime, daemon: str, msg: str) -> None:
        """lmgrd's and the daemons' own lines: a stop or a start ends the sessions still out."""
        if daemon == "lmgrd":
            if _START.search(msg) or msg.startswith(("FlexNet Licensing (", "FLEXnet Licensing (")):
                self.stop(None, self.last_when or when, "lmgrd started again")
            elif msg.startswith(_LMGRD_STOPS):
                self.stop(None, when, "lmgrd stopped")
            elif (named := _LMGRD_DAEMON.match(msg)) is not None:
                target = next(name for name in named.groups() if name)
                if target.lower() != "all":
                    if msg.startswith(("Started", "REStarted")):
                        self.stop(target, self.last_when or when, f"{target} started again")
                    else:
                        self.stop(target, when, f"{target} stopped")
            return
        if msg.startswith(_DAEMON_STARTS):
            self.stop(daemon, self.last_when or when, f"{daemon} started again")
        elif msg.startswith(_STOPS):
            self.stop(daemon, when, f"{daemon} stopped")

    def stop(self, daemon: str | None, when: dt.datetime, why: str) -> None:
        daemons = list(self.out) if daemon is None else [daemon]
        for name in daemons:
            held = self.out.pop(name, None)
            if not held:
                continue
            for key, sessions in held.items():
                for checkout, line, handle in sessions:
                    self.log.ended_by_stop += 1
                    self.emit(line, name, key, checkout, max(when, checkout), handle)
            if self.stop_note is None:
                self.stop_note = (why, when)

    def emit(  # noqa: PLR0917 (one session's parts)
        self,
        line: int,
        daemon: str,
        key: _Key,
        checkout: dt.datetime,
        checkin: dt.datetime | None,
        handle: str,
    ) -> None:
        feature, user, host, _, units = key
        self.log.sessions += 1
        self.ready.append(
            UsageRecord(line, user, feature, host, checkout, checkin, daemon, units, "", handle)
        )

    def name(self, value: str) -> str:
        """One string object per distinct name (a year of log repeats a few thousand names)."""
        return self.names.setdefault(value, value)

    def problem(self, line: int, column: str, value: str, reason: str) -> None:
        self.problems.append(Problem(line, column, value, reason))

    # -- notes ---------------------------------------------------------------------------------

    def notes(self) -> None:
        log, notes = self.log, self.log.notes
        if log.first is not None and log.last is not None:
            notes.append(
                f"The log runs from {log.first:%Y-%m-%d %H:%M} to {log.last:%Y-%m-%d %H:%M}: "
                f"{plural(log.sessions, 'session')}."
            )
        for feature, denials in sorted(log.denied.items()):
            assert denials.first is not None
            assert denials.last is not None
            notes.append(
                f"{feature}: {plural(denials.count, 'denial')} (first "
                f"{denials.first:%Y-%m-%d %H:%M}, last {denials.last:%Y-%m-%d %H:%M}) — the "
                "pool was too small at those times."
            )
        if log.refused:
            count = sum(d.count for d in log.refused.values())
            feature, first = min(log.refused.items())
            notes.append(
                f"{plural(count, 'other denial')} ({', '.join(sorted(log.refused))}) for "
                "reasons other than the pool's size, e.g. "
                f"{feature}: {first.reason or 'none given'}."
            )
        if log.unsupported:
            count = sum(d.count for d in log.unsupported.values())
            notes.append(
                f"{plural(count, 'request')} for features this server does not serve "
                f"(UNSUPPORTED: {', '.join(sorted(log.unsupported))})."
            )
        if log.ended_by_stop and self.stop_note is not None:
            why, when = self.stop_note
            notes.append(
                f"{plural(log.ended_by_stop, 'session')} {agree(log.ended_by_stop, 'was')} still "
                f"out when a daemon stopped or started again (first: {why}, "
                f"{when:%Y-%m-%d %H:%M}); {_it(log.ended_by_stop, 'ends', 'end')} then."
            )
        if log.open_at_end:
            notes.append(
                f"{plural(log.open_at_end, 'checkout')} {agree(log.open_at_end, 'is')} still out "
                f"at the end of the log; {_it(log.open_at_end, 'stays', 'stay')} open until a "
                "later log or snapshot ends it."
            )
        if log.orphan_checkins:
            notes.append(
                f"{plural(log.orphan_checkins, 'checkin')} of checkouts made before the log began "
                f"{agree(log.orphan_checkins, 'was')} left out: the log does not say when they "
                "started."
            )
        if log.upgrades:
            notes.append(
                f"{plural(log.upgrades, 'UPGRADE line')} (more licenses for a checkout already "
                "out) left out: the session keeps the licenses of its checkout."
            )


def _it(count: int, one: str, more: str) -> str:
    return f"it {one}" if count == 1 else f"they {more}"


def _verbose(tail: str) -> tuple[str, str] | None:
    """(user, handle) from a verbose line's ``^^^ ver user ip pid handle in_use out_of project
    flex_version flex_revision date time is_dup_group ^^^``."""
    start = tail.find("^^^")
    end = tail.find("^^^", start + 3)
    if end < 0:
        return None
    words = tail[start + 3 : end].split()
    if len(words) < 12:
        return None
    return words[1], words[4]


def read_debug_log(
    facts: FileFacts, problems: list[Problem]
) -> tuple[DebugLog, Iterator[UsageRecord]]:
    """The log's notes (filled once the records are read) and its sessions as usage records.

    Sessions come out as they end (at their checkin, or when their daemon stopped), then those
    still out at the end of the log (no checkin).  Problems are appended as the file is read.
    """
    log = DebugLog()
    return log, _Reader(facts, problems, log).records()
