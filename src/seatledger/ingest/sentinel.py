"""Reading Sentinel RMS ``lsmon`` output: who holds which feature, since when.

lsmon names the License Manager it asked (``[Contacting Sentinel RMS Development Kit server on
host "lic03"]``), then prints a ``|- Feature Information`` block per feature: its name and version
(quoted), license type, ``Maximum concurrent user(s)``, the tokens in use (``Unreserved tokens in
use`` and ``Reserved tokens in use``; older releases say *keys*), the licenses behind it (``|-
License Information``) and a ``|- Client Information`` block per client: ``User name``, ``Host
name``, ``X display name``, ``Group name``, ``Status : Running since Tue Nov 03 11:34:40 2020``.
On Windows it ends with ``Press Enter to continue . . .``.

A snapshot must prove itself complete before it may close sessions an earlier one saw: every
feature's clients must hold the tokens it says are in use (clients sharing a token, as a feature's
sharing criterion allows, are read as one session when, and only when, that is what adds up).  A
line cut off is refused.  lsmon prints no time of its own: the snapshot is dated by the latest
start it shows (see :mod:`seatledger.ingest.snapshot_text`).  Without lsmon's closing line, the
feature of the file's last block closes no earlier checkout: a file cut before another block of it
would look whole.

A checkout's identity is the License Manager's host (lsmon prints no port), the feature, user,
host and start; two clients alike in all of these are numbered (``#2``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.snapshot_refusals import before_any_server, cut_off, no_blocks, stray
from seatledger.ingest.snapshot_text import Handles, given_time, text_lines
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem
from seatledger.text import agree, plural

FORMAT_NAME = "Sentinel RMS lsmon"

_CONTACTING = re.compile(r'\[Contacting .*server on host "(?P<host>[^"]+)"\]')
_SECTION = re.compile(r"^\s*\|-\s*(?P<section>Feature|License|Client) Information\s*$")
_FIELD = re.compile(r"^\s*\|-\s*(?P<key>[^:]*?)\s*:\s?(?P<value>.*?)\s*$")
_END = re.compile(r"^\s*Press Enter to continue")
_RUNNING = re.compile(r"^Running since (?P<when>\w{3} \w{3}\s+\d{1,2} \d{1,2}:\d{2}:\d{2} \d{4})$")
_LSMON_LINE = re.compile(
    r"Contacting Sentinel|Sentinel RMS .*Application Monitor|Sentinel LM"
    r"|^\s*\|-\s*(?:Feature|Client) Information",
    re.M,
)
_AGAIN = "save the whole output of 'lsmon' again"


@dataclass
class _Client:
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    status_line: int = 0


@dataclass
class _Block:
    """One ``Feature Information`` block while it is read."""

    line: int
    server: str
    fields: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (line, value)
    clients: list[_Client] = field(default_factory=list)
    damaged: bool = False


def looks_like_lsmon(head: str) -> bool:
    """Whether a file's first lines are lsmon's: its banner, the License Manager it contacted or
    a feature block."""
    return _LSMON_LINE.search(head) is not None


def read_lsmon(
    facts: FileFacts, problems: list[Problem], taken_at: dt.datetime | None = None
) -> tuple[Snapshot, Iterator[UsageRecord]]:
    """The snapshot's time, server and features, and its clients as open sessions.

    Problems: a feature whose clients do not hold the tokens in use, a feature without its name
    or counts, a client without its user, host or start, a line cut off, a feature before any
    License Manager is named, values too long to store.

    ``taken_at``: when the snapshot was taken, as the user knows it; else the latest start shown.

    Raises:
        ImportFileError: nothing dates the snapshot (no time given, nothing in use).
    """
    lines, whole = text_lines(facts)
    servers: list[str] = []
    blocks: list[_Block] = []
    server: str | None = None
    block: _Block | None = None
    section = ""
    client: _Client | None = None
    ended = False  # lsmon's closing line was read
    for number, line in enumerate(lines, start=1):
        if not whole and number == len(lines) and not _END.match(line):
            cut_off(problems, number, line, _AGAIN, block)
            break
        if not line.strip():
            continue
        if match := _CONTACTING.search(line):
            server = match["host"]
            if server in servers:
                # lsmon contacts a License Manager once a run: runs appended to one file
                # ('lsmon HOST >> file'), read as one, would count every client once a run.
                again = [n for n, text in enumerate(lines, 1) if _CONTACTING.search(text)]
                raise ImportFileError(
                    f"{facts.path.name} holds several runs of lsmon against {server} appended "
                    f"to one another (the '[Contacting …]' lines are lines "
                    f"{', '.join(str(n) for n in again[:5])}{', ...' if len(again) > 5 else ''}"
                    "); a snapshot is one run: save each run to a file of its own and import "
                    "them in the order they were taken."
                )
            servers.append(server)
            block, client, section = None, None, ""
            continue
        if _END.match(line):
            ended = True
            block, client, section = None, None, ""
            continue
        if match := _SECTION.match(line):
            section, client = match["section"], None
            if section == "Feature":
                if server is None:
                    server_line = "'[Contacting … server on host \"HOST\"]'"
                    problems.append(before_any_server(number, line, server_line, _AGAIN))
                    block = None
                    continue
                ended = False
                block = _Block(number, server)
                blocks.append(block)
            elif block is not None and section == "Client":
                client = _Client(number)
                block.clients.append(client)
            continue
        if block is None:
            continue  # the banner and copyright
        match = _FIELD.match(line)
        if match is None:
            what = "is not a line lsmon writes in a feature block ('|- Name : value')"
            stray(problems, block, number, "line", line, what=what)
            continue
        key, value = match["key"], match["value"]
        if section == "Feature":
            block.fields.setdefault(key.lower(), (number, value.strip('" \t')))
        elif section == "Client" and client is not None:
            client.fields.setdefault(key.lower(), value)
            if key.lower() == "status":
                client.status_line = number
    records, notes, by_server, features = _records(blocks, problems)
    if blocks and not ended and not blocks[-1].damaged:
        last = blocks[-1]
        name = last.fields.get("feature name", (0, ""))[1]
        if name in by_server.get(last.server, set()):
            by_server[last.server].discard(name)
            notes.append(
                f"line {last.line}: {name} is the last feature of the file, which does not end "
                "with lsmon's 'Press Enter to continue': a file cut before another block of "
                f"{name} would look the same, so its clients close no checkout an earlier "
                "snapshot saw (those end at their last sighting)"
            )
    if not blocks:
        no_blocks(problems, "'|- Feature Information'", "lsmon HOST")
    status_lines = {c.line: c.status_line for b in blocks for c in b.clients}
    if taken_at is not None:
        shown = max(((r.checkout, status_lines[r.line]) for r in records), default=None)
        notes.insert(0, given_time(taken_at, shown, "lsmon", problems))
        snapshot = Snapshot(
            taken_at,
            features,
            tuple(servers),
            tuple(notes),
            {each: frozenset(by_server.get(each, ())) for each in servers},
        )
        return snapshot, iter(records)
    if not records:
        if problems:  # refused already
            return Snapshot(dt.datetime.min.replace(tzinfo=dt.UTC), {}), iter(())
        raise ImportFileError(
            f"{facts.path.name}: lsmon prints no time of its own, and no client in this file "
            "gives one (nothing is in use): the snapshot cannot be dated. Give the time it was "
            "taken ('--taken-at'), or import a snapshot that shows at least one client."
        )
    latest = max(records, key=lambda r: r.checkout)
    notes.insert(
        0,
        f"line {status_lines[latest.line]}: lsmon prints no time of its own; the snapshot is "
        "dated by its "
        f"latest start, {latest.checkout:%Y-%m-%d %H:%M:%S} (it was taken then or later)",
    )
    snapshot = Snapshot(
        latest.checkout,
        features,
        tuple(servers),
        tuple(notes),
        {each: frozenset(by_server.get(each, ())) for each in servers},
    )
    return snapshot, iter(records)


def _count(block: _Block, key: str, problems: list[Problem]) -> int | None:
    """A count of the feature block (tokens or keys), or None with its problem recorded."""
    for word in (key, key.replace("tokens", "keys")):
        if word in block.fields:
            line, value = block.fields[word]
            if value.isdigit():
                return int(value)
            problems.append(Problem(line, key, value, "is not a count"))
            return None
    problems.append(
        Problem(
            block.line,
            key,
            block.fields.get("feature name", (0, ""))[1],
            f"has no '{key.capitalize()}' line: the file is cut short or edited; {_AGAIN}",
        )
    )
    return None


def _records(
    blocks: list[_Block], problems: list[Problem]
) -> tuple[list[UsageRecord], list[str], dict[str, set[str]], dict[str, tuple[int | None, int]]]:
    """Every block's clients as records once they add up; the features each server may close."""
    records: list[UsageRecord] = []
    notes: list[str] = []
    closing: dict[str, set[str]] = {}
    features: dict[str, tuple[int | None, int]] = {}
    handles = Handles()
    for block in blocks:
        if block.damaged:
            continue
        if "feature name" not in block.fields:
            problems.append(
                Problem(
                    block.line,
                    "feature name",
                    "",
                    f"the feature block has no 'Feature name' line; {_AGAIN}",
                )
            )
            continue
        name = block.fields["feature name"][1]
        version = block.fields.get("feature version", (0, ""))[1]
        label = f"{name} v{version}" if version else name
        unreserved = _count(block, "unreserved tokens in use", problems)
        reserved = _count(block, "reserved tokens in use", problems)
        if unreserved is None or reserved is None:
            continue
        in_use = unreserved + reserved
        sessions = _clients(block, label, problems)
        if sessions is None:
            continue
        licenses = len(sessions)
        if licenses != in_use:
            groups: dict[tuple[str, str, str], list[tuple[_Client, dt.datetime]]] = {}
            for each in sessions:
                user, host = each[0].fields["user name"], each[0].fields["host name"]
                display = each[0].fields.get("x display name", "")
                groups.setdefault((user, host, display), []).append(each)
            if len(groups) < licenses and len(groups) == in_use:
                sessions = []
                for (user, host, _), group in groups.items():
                    first = min(group, key=lambda g: g[1])
                    sessions.append(first)
                    if len(group) > 1:
                        notes.append(
                            f"lines {', '.join(str(g[0].line) for g in group)}: "
                            f"{len(group)} clients of {label} by {user} on {host} share a "
                            "token, as its sharing allows and its count says: read as one session"
                        )
                sessions.sort(key=lambda g: g[0].line)
            else:
                problems.append(
                    Problem(
                        block.fields.get("unreserved tokens in use", (block.line, ""))[0],
                        "tokens in use",
                        str(in_use),
                        f"says {plural(in_use, 'token')} of {label} {agree(in_use, 'is')} in use "
                        f"but it lists {plural(licenses, 'client')}: the snapshot is cut short "
                        f"or edited; {_AGAIN}",
                    )
                )
                continue
        issued_text = block.fields.get("maximum concurrent user(s)", (0, ""))[1]
        issued = int(issued_text) if issued_text.isdigit() else None
        was_issued, was_in_use = features.get(name, (0, 0))
        features[name] = (
            None if was_issued is None or issued is None else was_issued + issued,
            was_in_use + in_use,
        )
        closing.setdefault(block.server, set()).add(name)
        for held, start in sessions:
            user, host = held.fields["user name"], held.fields["host name"]
            records.append(
                UsageRecord(
                    held.line,
                    user,
                    name,
                    host,
                    start,
                    None,
                    "",
                    1,
                    server=block.server,
                    handle=handles.next((block.server, name, user, host, start)),
                )
            )
    return records, notes, closing, features


def _clients(
    block: _Block, label: str, problems: list[Problem]
) -> list[tuple[_Client, dt.datetime]] | None:
    """The block's clients with their starts, or None with their problems recorded."""
    read: list[tuple[_Client, dt.datetime]] = []
    refused = False
    for client in block.clients:
        missing = [k for k in ("user name", "host name", "status") if k not in client.fields]
        if missing:
            problems.append(
                Problem(
                    client.line,
                    missing[0],
                    label,
                    f"the client has no '{missing[0].capitalize()}' line: the file is cut short "
                    f"or edited; {_AGAIN}",
                )
            )
            refused = True
            continue
        status = client.fields["status"]
        match = _RUNNING.match(status)
        start = None
        if match is not None:
            try:
                start = dt.datetime.strptime(match["when"], "%a %b %d %H:%M:%S %Y")
            except ValueError:
                start = None
        if start is None:
            problems.append(
                Problem(
                    client.status_line,
                    "status",
                    status,
                    "is not 'Running since Ddd Mmm DD HH:MM:SS YYYY'",
                )
            )
            refused = True
            continue
        for what, value, limit in (
            ("feature name", label, 200),
            ("user name", client.fields["user name"], 200),
            ("host name", client.fields["host name"], 255),
        ):
            if not value or len(value) > limit:
                problems.append(
                    Problem(client.line, what, value, f"is empty or longer than {limit} characters")
                )
                refused = True
        read.append((client, start.replace(tzinfo=dt.UTC)))
    return None if refused else read
