"""Reading Dassault Systèmes DSLS license usage: ``DSLicSrv -admin`` and ``getLicenseUsage -csv``.

``DSLicSrv -admin -run "connect HOST PORT;getLicenseUsage -csv;quit;"`` prints the server's
status (``Software version:``, ``Ready: yes``, ``Server name: … Server id: …``) and a CSV table:
``Editor,EditorId,Feature,Model,…,Customer ID,Count,Inuse,Tokens,Casual Usage (mn),Host,User,
Internal ID,Active Process,Client Code Version,Session ID,Granted Since,Last Used At,Granted
At,Queue Position,``.  A license nobody uses is one row ending at ``Inuse``; one in use repeats
its license columns on one row per session: the host (``eng-ws-07 (0a1b.0)/10.2.0.7``), the user,
the session's ID, since when it is granted and when it was last used, and for token licenses the
tokens it holds.

A snapshot must prove itself complete before it may close sessions an earlier one saw: the rows
of each license must hold what its ``Inuse`` says (their tokens, or one per row where the license
counts users).  A line cut off is refused.  DSLS prints no time of its own: the snapshot is dated
by the latest time a row gives (see :mod:`seatledger.ingest.snapshot_text`).  Without the admin
tool's ``quit``, the feature of the file's last license closes no earlier checkout: a file cut
before another license of it would look whole.

A checkout's identity is the server (``host/port`` from ``connect``, else the name its status
gives), the feature, user, host, start and the session's ID.  The table alone names no server and
is refused: save the admin tool's whole output.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from seatledger.ingest import snapshot_text
from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem
from seatledger.text import agree, plural

FORMAT_NAME = "Dassault DSLS getLicenseUsage"

HEADER = (
    "Editor",
    "EditorId",
    "Feature",
    "Model",
    "Commercial Type",
    "Max Release Number",
    "Max Release Date",
    "Pricing Structure",
    "Max Casual Duration",
    "Expiration Date",
    "Customer ID",
    "Count",
    "Inuse",
    "Tokens",
    "Casual Usage (mn)",
    "Host",
    "User",
    "Internal ID",
    "Active Process",
    "Client Code Version",
    "Session ID",
    "Granted Since",
    "Last Used At",
    "Granted At",
    "Queue Position",
)
_LICENSE = HEADER.index("Customer ID") + 1  # the columns that name one license
_AT = {name: index for index, name in enumerate(HEADER)}

_CONNECT = re.compile(r"^\s*admin\s*>\s*connect\s+(?P<host>\S+)\s+(?P<port>\d+)\s*$", re.I)
_SERVER_NAME = re.compile(r"^\s*(?:admin\s*>)?\s*Server name:\s*(?P<name>\S+)")
_PROMPT = re.compile(r"^\s*admin\s*>")
_QUIT = re.compile(r"^\s*admin\s*>\s*quit\s*;?\s*$", re.I)
_DSLS_LINE = re.compile(
    r"License Administration Tool|DS License Server|DSLicSrv|^admin >"
    r"|^\ufeff?Editor,EditorId,Feature,Model",
    re.M,
)
_BANNER = re.compile(r"^\s*License Administration Tool Version ")
_TIME = "%Y-%m-%d %H:%M:%S"
_AGAIN = "save the whole output of 'DSLicSrv -admin' ('connect HOST PORT', 'getLicenseUsage -csv')"


@dataclass
class _License:
    """The rows of one license (its first 11 columns) while they are read."""

    line: int
    feature: str
    editor: str
    count: int
    in_use: int
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    damaged: bool = False


def looks_like_dsls(head: str) -> bool:
    """Whether a file's first lines are the DSLS admin tool's or its license usage table."""
    return _DSLS_LINE.search(head) is not None


def read_license_usage(
    facts: FileFacts, problems: list[Problem], taken_at: dt.datetime | None = None
) -> tuple[Snapshot, Iterator[UsageRecord]]:
    """The snapshot's time, server and features, and its sessions as open sessions.

    Problems: a license whose rows do not hold its ``Inuse``, rows of one license that disagree
    on its counts, a row with too few columns, a count or time that is not one, a line cut off,
    values too long to store.

    ``taken_at``: when the snapshot was taken, as the user knows it; else the latest time shown.

    Raises:
        ImportFileError: the file names no server (the table alone), holds no usage table,
            nothing dates the snapshot, or it holds several runs appended.
    """
    lines, whole = snapshot_text.text_lines(facts)
    name = facts.path.name
    if starts := snapshot_text.appended_runs(lines, _OnceARun()):
        raise snapshot_text.refuse_appended(name, "DSLicSrv -admin … getLicenseUsage", starts)
    server = ""
    servers: list[str] = []
    licenses: list[_License] = []
    by_key: dict[tuple[str, ...], _License] = {}
    table = False
    ended = False
    for number, raw in enumerate(lines, start=1):
        line = raw.removeprefix("\ufeff")
        if not whole and number == len(lines):
            problems.append(snapshot_text.cut_line(number, line, f"{_AGAIN} again"))
            if table and licenses:
                licenses[-1].damaged = True
            break
        if not line.strip():
            continue
        if match := _CONNECT.match(line):
            server = f"{match['host']}/{match['port']}"
            servers.append(f"{match['port']}@{match['host']}")
            table = False
            continue
        if (match := _SERVER_NAME.match(line)) and not server:
            server = match["name"]
            servers.append(server)
            continue
        if line.startswith("Editor,EditorId,Feature,"):
            table = True
            ended = False
            if not server:
                raise ImportFileError(
                    f"{name} line {number}: the license usage table names no license server "
                    f"(the admin tool's 'connect HOST PORT' or 'Server name:' lines precede "
                    f"it); {_AGAIN}, not the table alone."
                )
            continue
        if _QUIT.match(line):
            ended = True
            table = False
            continue
        if _PROMPT.match(line):
            table = False
            continue
        if not table:
            continue
        cells = next(csv.reader([line]))
        if len(cells) < _LICENSE + 2:
            problems.append(
                Problem(
                    number,
                    "row",
                    line.strip(),
                    f"has {len(cells)} columns, not the license's {_LICENSE + 2} at least; "
                    "the file may be cut short or edited",
                )
            )
            if licenses:
                licenses[-1].damaged = True
            continue
        counts = []
        for column in ("Count", "Inuse"):
            value = cells[_AT[column]].strip()
            if not value.isdigit():
                problems.append(Problem(number, column, value, "is not a count"))
            counts.append(int(value) if value.isdigit() else -1)
        key = (server, *cells[:_LICENSE])
        found = by_key.get(key)
        if found is None:
            found = _License(number, cells[_AT["Feature"]], cells[0], counts[0], counts[1])
            by_key[key] = found
            licenses.append(found)
        elif (found.count, found.in_use) != (counts[0], counts[1]):
            problems.append(
                Problem(
                    number,
                    "Inuse",
                    f"{counts[0]}/{counts[1]}",
                    f"disagrees with line {found.line} on the count and use of license "
                    f"{found.feature} ({found.count}/{found.in_use}); the file was edited",
                )
            )
            found.damaged = True
        if min(counts) < 0:
            found.damaged = True
        found.rows.append((number, cells))
    if not licenses and not problems:
        raise ImportFileError(
            f"{name} holds no license usage table ('Editor,EditorId,Feature,…'); {_AGAIN}."
        )
    records, notes, closing, features, moments = _records(licenses, server, problems)
    if licenses and not ended and not licenses[-1].damaged:
        last = licenses[-1]
        if last.feature in closing.get(server, set()):
            closing[server].discard(last.feature)
            notes.append(
                f"line {last.line}: {last.feature} is the last license of the file, which does "
                "not end with the admin tool's 'quit': a file cut before another license of "
                f"{last.feature} would look the same, so its sessions close none an earlier "
                "snapshot saw (those end at their last sighting)"
            )
    if taken_at is not None:
        latest = max(((m, line) for m, line, _ in moments), default=None)
        notes.insert(0, snapshot_text.given_time(taken_at, latest, "DSLS", problems))
        moments = [(taken_at, 0, "")]
    elif not moments:
        if problems:
            return Snapshot(dt.datetime.min.replace(tzinfo=dt.UTC), {}), iter(())
        raise ImportFileError(
            f"{name}: DSLS prints no time of its own, and no session in this file gives one "
            "(nothing is in use): the snapshot cannot be dated. Give the time it was taken "
            "('--taken-at'), or import a snapshot that shows at least one session."
        )
    taken, where, column = max(moments)
    if taken_at is None:
        notes.insert(
            0,
            f"line {where}: DSLS prints no time of its own; the snapshot is dated by the latest "
            f"time a session gives ({column}), {taken:%Y-%m-%d %H:%M:%S} (it was taken then or "
            "later)",
        )
    snapshot = Snapshot(
        taken,
        features,
        tuple(servers),
        tuple(notes),
        {server: frozenset(closing.get(server, ()))},
    )
    return snapshot, iter(records)


class _OnceARun:
    """What a line of the admin tool says once a run: its banner, a connection to a server, the
    server's name, a usage table of the server last named (a session may connect to several);
    None for any other line."""

    def __init__(self) -> None:
        self._server = ""

    def __call__(self, raw: str) -> tuple[str, ...] | None:
        line = raw.removeprefix("\ufeff")
        if _BANNER.match(line):
            return ("banner",)
        if match := _CONNECT.match(line):
            self._server = f"{match['host']}/{match['port']}".lower()
            return ("connect", self._server)
        if match := _SERVER_NAME.match(line):
            self._server = match["name"].lower()
            return ("name", self._server)
        if line.startswith("Editor,EditorId,Feature,"):
            return ("table", self._server)
        return None


def _records(
    licenses: list[_License], server: str, problems: list[Problem]
) -> tuple[
    list[UsageRecord],
    list[str],
    dict[str, set[str]],
    dict[str, tuple[int | None, int]],
    list[tuple[dt.datetime, int, str]],
]:
    """Every license's sessions as records once they add up; what each server may close; the
    times the rows give."""
    records: list[UsageRecord] = []
    notes: list[str] = []
    closing: dict[str, set[str]] = {}
    features: dict[str, tuple[int | None, int]] = {}
    moments: list[tuple[dt.datetime, int, str]] = []
    handles = snapshot_text.Handles()
    for each in licenses:
        if each.damaged:
            continue
        sessions: list[tuple[int, str, str, int, dt.datetime, str]] = []
        refused = False
        queued = 0
        for number, read in each.rows:
            cells = read + [""] * (len(HEADER) - len(read))
            user, host = cells[_AT["User"]].strip(), cells[_AT["Host"]].strip()
            if not user and not host:
                continue  # the license's own row: nobody holds it
            if cells[_AT["Queue Position"]].strip():
                queued += 1
                continue  # waiting is not use
            host = re.split(r"[\s/(]", host, maxsplit=1)[0]
            tokens = cells[_AT["Tokens"]].strip()
            if tokens and not tokens.isdigit():
                problems.append(Problem(number, "Tokens", tokens, "is not a count"))
                refused = True
                continue
            held = int(tokens) if tokens else 1
            start = _time(cells[_AT["Granted Since"]])
            if start is None:
                problems.append(
                    Problem(
                        number,
                        "Granted Since",
                        cells[_AT["Granted Since"]],
                        "is not a time (YYYY-MM-DD HH:MM:SS)",
                    )
                )
                refused = True
                continue
            for what, value, limit in (("User", user, 200), ("Host", host, 255)):
                if not value or len(value) > limit:
                    problems.append(
                        Problem(number, what, value, f"is empty or longer than {limit} characters")
                    )
                    refused = True
            if refused:
                continue
            for column in ("Granted Since", "Last Used At", "Granted At"):
                moment = _time(cells[_AT[column]])
                if moment is not None:
                    moments.append((moment, number, column))
            session = cells[_AT["Session ID"]].strip()[:24]
            sessions.append((number, user, host, held, start, session))
        if refused:
            continue
        held_all = sum(s[3] for s in sessions)
        if held_all != each.in_use:
            problems.append(
                Problem(
                    each.line,
                    "Inuse",
                    str(each.in_use),
                    f"says {plural(each.in_use, 'license')} of {each.feature} "
                    f"{agree(each.in_use, 'is')} in use but its rows hold {held_all}: the "
                    f"snapshot is cut short or edited; {_AGAIN} again",
                )
            )
            continue
        if queued:
            notes.append(
                f"line {each.line}: {plural(queued, 'queued request')} for {each.feature} "
                "not read: waiting is not use"
            )
        issued, in_use = features.get(each.feature, (0, 0))
        features[each.feature] = (
            None if issued is None else issued + each.count,
            in_use + each.in_use,
        )
        closing.setdefault(server, set()).add(each.feature)
        for number, user, host, held, start, session in sessions:
            ordinal = handles.next((server, each.feature, user, host, start, session))
            records.append(
                UsageRecord(
                    number,
                    user,
                    each.feature,
                    host,
                    start,
                    None,
                    each.editor,
                    held,
                    server=server,
                    handle=session + ordinal if session else ordinal,
                )
            )
    return records, notes, closing, features, moments


def _time(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text.strip(), _TIME).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
