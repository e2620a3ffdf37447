"""Reading X-Formation LM-X ``lmxendutil -licstat`` output: who holds which feature, since when.

lmxendutil prints, per license server (``LM-X License Server on 6200@lic01:``), a block per
feature (``Feature: SolverPro Version: 2026.1 Vendor: CAEWORKS``, its dates and key type) that
counts the licenses in use (``3 of 10 license(s) used:``) and lists each checkout: ``1 license(s)
used by jdoe@cae-ws-12 [10.1.2.12]`` over ``Login time: 2026-03-03 08:10   Checkout time:
2026-03-03 08:11`` and, where the license is shared, ``Shared on username: jdoe ...``.

A snapshot must prove itself complete before it may close sessions an earlier one saw: every
feature's checkouts must hold the licenses its count says are in use, and a checkout must have its
times.  A line cut off is refused.  lmxendutil prints no time of its own: the snapshot is dated
by the latest login or checkout time it shows (see :mod:`seatledger.ingest.snapshot_text`).

``-licstatxml`` says the same as attributes (``<LICENSE_PATH HOST="6200@lic01">``, ``<FEATURE
NAME=… USED_LICENSES=… TOTAL_LICENSES=…>``, ``<USER NAME=… HOST=… USED_LICENSES=… LOGIN_TIME=…
CHECKOUT_TIME=…/>``) after the same banner; a document cut anywhere is not well-formed, so an XML
snapshot proves itself whole.

A checkout's identity is the server (``host/port``), the feature, user, host and checkout minute;
LM-X gives no handle, so two checkouts alike in all of these are numbered (``#2``).  The output
has no last line of its own: a file cut between two blocks of one feature (two versions, two
keys) would look whole, so the feature of the file's last block closes no earlier checkout.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.snapshot_refusals import before_any_server, cut_off, no_blocks, stray
from seatledger.ingest.snapshot_text import (
    Handles,
    appended_runs,
    given_time,
    refuse_appended,
    text_lines,
)
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem
from seatledger.text import agree, plural

FORMAT_NAME = "X-Formation LM-X lmxendutil -licstat"

_SERVER = re.compile(r"^\s*LM-X License Server on (?P<port>\d+)@(?P<host>[^\s:@]+):\s*$", re.I)
_NO_SERVER = re.compile(r"There are no license server\(s\) available", re.I)
_FEATURE = re.compile(
    r"^\s*Feature: (?P<feature>\S+) Version: (?P<version>\S+) Vendor: (?P<vendor>\S+)\s*$"
)
_IN_USE = re.compile(r"^\s*(?P<used>\d+) of (?P<total>\d+) license\(s\) used(?P<colon>:?)\s*$")
_USED_BY = re.compile(
    r"^\s*(?P<count>\d+) license\(s\) used by (?P<who>.+)@(?P<host>[^\s@\[\]]+)"
    r"(?: \[[^\]]*\])?\s*$"
)
_TIME = r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}"
_TIMES = re.compile(
    rf"^\s*Login time: (?P<login>{_TIME})\s+Checkout time: (?P<checkout>{_TIME})\s*$"
)
_SHARED = re.compile(r"^\s*Shared on [^:]+:")
_SEPARATOR = re.compile(r"^\s*(?:-{8,}|\+{8,})\s*$")
_LMX_LINE = re.compile(
    r"LM-X End-user Utility|^\s*LM-X License Server on \d+@|^\s*Feature: \S+ Version: \S+ Vendor:"
    r"|^\s*\d+ of \d+ license\(s\) used|<LICENSE_PATH\b",
    re.M,
)
_AGAIN = "save the whole output of 'lmxendutil -licstat' again"
_XML_START = re.compile(r"^\s*<(?:\?xml\b|[A-Za-z_][\w.-]*)")
_BANNER = re.compile(r"^\s*LM-X End-user Utility v\S+\s*$")
_XML_ONCE = re.compile(
    r"^\s*<(?:(?P<decl>\?xml)\b|(?P<root>LICSTAT)\b|LICENSE_PATH\b.*?\bHOST=\"(?P<host>[^\"]*)\")"
)


@dataclass
class _Checkout:
    line: int
    user: str
    host: str
    units: int
    login: dt.datetime | None = None
    checkout: dt.datetime | None = None
    times_line: int = 0


@dataclass
class _Block:
    """One ``Feature:`` block while it is read."""

    line: int
    feature: str
    version: str
    vendor: str
    server: str
    in_use_line: int = 0
    used: int = 0
    issued: int = 0
    checkouts: list[_Checkout] = field(default_factory=list)
    damaged: bool = False  # a line of it was refused already


def looks_like_licstat(head: str) -> bool:
    """Whether a file's first lines are ``lmxendutil -licstat``'s: its banner, a server heading,
    a feature line or a count of licenses used."""
    return _LMX_LINE.search(head) is not None


def read_licstat(
    facts: FileFacts, problems: list[Problem], taken_at: dt.datetime | None = None
) -> tuple[Snapshot, Iterator[UsageRecord]]:
    """The snapshot's time, servers and features, and its checkouts as open sessions.

    Problems: a feature whose checkouts do not hold the licenses in use, a feature without its
    count, a checkout without its times, a line that is not one lmxendutil writes where it stands,
    a line cut off, values too long to store.

    ``taken_at``: when the snapshot was taken, as the user knows it; else the latest time shown.

    Raises:
        ImportFileError: lmxendutil reached no license server, nothing dates the snapshot, or
            the file holds several runs appended.
    """
    lines, whole = text_lines(facts)
    name = facts.path.name
    if starts := appended_runs(lines, _once_a_run):
        raise refuse_appended(name, "lmxendutil -licstat", starts)
    xml = next((i for i, line in enumerate(lines) if line.lstrip().startswith("<")), None)
    if xml is not None and _XML_START.match(lines[xml]):
        servers, blocks = _xml_blocks(lines, xml, name, problems)
        ends_whole = True  # a document cut anywhere is not well-formed
    else:
        servers, blocks = _text_blocks(lines, whole, name, problems)
        ends_whole = False
    records, notes, by_server = _records(blocks, problems, ends_whole=ends_whole)
    features: dict[str, tuple[int | None, int]] = {}
    for each in blocks:
        issued, in_use = features.get(each.feature, (0, 0))
        features[each.feature] = (
            None if issued is None else issued + each.issued,
            in_use + each.used,
        )
    if not blocks:
        no_blocks(problems, "'Feature: NAME Version: V Vendor: V'", "lmxendutil -licstat")
    moments = [
        (moment, c.times_line)
        for each in blocks
        for c in each.checkouts
        for moment in (c.login, c.checkout)
        if moment is not None
    ]
    if taken_at is not None:
        latest = max(moments) if moments else None
        notes.insert(0, given_time(taken_at, latest, "lmxendutil", problems))
        moments = [(taken_at, 0)]
    elif not moments:
        if problems:  # refused already; the date is the least of its faults
            return Snapshot(dt.datetime.min.replace(tzinfo=dt.UTC), {}), iter(())
        raise ImportFileError(
            f"{name}: lmxendutil prints no time of its own, and no checkout in this file gives "
            "one (nothing is in use): the snapshot cannot be dated. Give the time it was taken "
            "('--taken-at'), or import a snapshot that shows at least one checkout."
        )
    taken, where = max(moments)
    if taken_at is None:
        notes.insert(
            0,
            f"line {where}: lmxendutil prints no time of its own; the snapshot is dated by its "
            f"latest login or checkout time, {taken:%Y-%m-%d %H:%M} (it was taken then or later)",
        )
    return (
        Snapshot(
            taken,
            features,
            tuple(servers),
            tuple(notes),
            # Every server the file names, those whose features close nothing too.
            {
                _checkout_server(each): by_server.get(_checkout_server(each), frozenset())
                for each in servers
            },
        ),
        iter(records),
    )


def _text_blocks(
    lines: list[str], whole: bool, name: str, problems: list[Problem]
) -> tuple[list[str], list[_Block]]:
    """The servers ('PORT@HOST') and feature blocks of ``-licstat``'s text."""
    servers: list[str] = []
    blocks: list[_Block] = []
    server: str | None = None
    block: _Block | None = None
    checkout: _Checkout | None = None
    for number, line in enumerate(lines, start=1):
        if not whole and number == len(lines):
            cut_off(problems, number, line, _AGAIN, block)
            break
        if not line.strip():
            continue
        if _NO_SERVER.search(line):
            raise ImportFileError(
                f"{name} line {number}: lmxendutil reached no license server ({line.strip()}); "
                "the file holds no snapshot of who uses what."
            )
        if match := _SERVER.match(line):
            server = f"{match['host']}/{match['port']}"
            servers.append(f"{match['port']}@{match['host']}")
            block, checkout = None, None
            continue
        if _SEPARATOR.match(line):
            block, checkout = None, None
            continue
        if match := _FEATURE.match(line):
            if server is None:
                server_line = "'LM-X License Server on PORT@HOST:'"
                problems.append(before_any_server(number, line, server_line, _AGAIN))
                block = None
                continue
            block = _Block(number, match["feature"], match["version"], match["vendor"], server)
            blocks.append(block)
            checkout = None
            continue
        if block is None:
            continue  # the banner, the server's version and uptime
        if not block.in_use_line:
            if match := _IN_USE.match(line):
                block.in_use_line = number
                block.used, block.issued = int(match["used"]), int(match["total"])
            continue  # the feature's dates, key type and sharing
        if match := _USED_BY.match(line):
            checkout = _Checkout(number, match["who"].strip(), match["host"], int(match["count"]))
            block.checkouts.append(checkout)
            continue
        if checkout is not None and checkout.checkout is None and (match := _TIMES.match(line)):
            checkout.login = _moment(match["login"])
            checkout.checkout = _moment(match["checkout"])
            checkout.times_line = number
            if checkout.login is None or checkout.checkout is None:
                problems.append(Problem(number, "checkout time", line.strip(), "not a real date"))
                block.damaged = True
            continue
        if checkout is not None and checkout.checkout is not None and _SHARED.match(line):
            continue
        what = (
            "is not a line of a checkout ('N license(s) used by user@host [address]', "
            "'Login time: … Checkout time: …', 'Shared on …')"
        )
        stray(problems, block, number, "checkout", line, what=what)
    return servers, blocks


def _xml_blocks(
    lines: list[str], first: int, name: str, problems: list[Problem]
) -> tuple[list[str], list[_Block]]:
    """The servers and feature blocks of ``-licstatxml``'s document (from line ``first`` + 1).

    ``<LICENSE_PATH HOST="6200@lic01" STATUS="SUCCESS">`` per server, ``<FEATURE NAME VERSION
    VENDOR USED_LICENSES TOTAL_LICENSES>`` per feature, ``<USER NAME HOST USED_LICENSES LOGIN_TIME
    CHECKOUT_TIME>`` per checkout; the element around them is not read.
    """
    servers: list[str] = []
    blocks: list[_Block] = []
    down: list[tuple[int, str]] = []
    server: str | None = None
    block: _Block | None = None
    parser = expat.ParserCreate()

    def number() -> int:
        return first + parser.CurrentLineNumber

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal server, block
        at = number()
        if tag == "LICENSE_PATH":
            host = attributes.get("HOST", "")
            port, _, named = host.partition("@")
            if not (port.isdigit() and named):
                problems.append(Problem(at, "HOST", host, "is not PORT@HOST"))
                server = None
                return
            servers.append(host)
            server = f"{named}/{port}"
            if attributes.get("STATUS", "SUCCESS") != "SUCCESS":
                down.append((at, host))
            return
        if tag == "FEATURE":
            values = [attributes.get(k, "") for k in ("NAME", "VERSION", "VENDOR")]
            counts = [attributes.get(k, "") for k in ("USED_LICENSES", "TOTAL_LICENSES")]
            if server is None:
                problems.append(
                    Problem(at, "server", values[0], "is in no LICENSE_PATH with a HOST")
                )
                block = None
                return
            block = _Block(at, values[0], values[1], values[2], server)
            blocks.append(block)
            for what, value in zip(("USED_LICENSES", "TOTAL_LICENSES"), counts, strict=True):
                if not value.isdigit():
                    problems.append(Problem(at, what, value, "is not a count"))
                    block.damaged = True
            if not values[0]:
                problems.append(Problem(at, "NAME", "", "names no feature"))
                block.damaged = True
            if not block.damaged:
                block.in_use_line, block.used, block.issued = at, int(counts[0]), int(counts[1])
            return
        if tag == "USER" and block is not None:
            units = attributes.get("USED_LICENSES", "")
            checkout = _Checkout(
                at,
                attributes.get("NAME", "").strip(),
                attributes.get("HOST", "").strip(),
                int(units) if units.isdigit() else 0,
                _moment(attributes.get("LOGIN_TIME", "")),
                _moment(attributes.get("CHECKOUT_TIME", "")),
                at,
            )
            for what, bad in (
                ("NAME", not checkout.user),
                ("HOST", not checkout.host),
                ("USED_LICENSES", not units.isdigit()),
                ("CHECKOUT_TIME", checkout.checkout is None),
                ("LOGIN_TIME", checkout.login is None),
            ):
                if bad:
                    problems.append(
                        Problem(at, what, attributes.get(what, ""), "is missing or not one")
                    )
                    block.damaged = True
                    return
            block.checkouts.append(checkout)

    def end(tag: str) -> None:
        nonlocal block, server
        if tag == "FEATURE":
            block = None
        elif tag == "LICENSE_PATH":
            server = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse("\n".join(lines[first:]) + "\n", True)
    except expat.ExpatError as error:
        problems.append(
            Problem(
                first + error.lineno,
                "line",
                lines[first + error.lineno - 1].strip()
                if first + error.lineno <= len(lines)
                else "",
                f"is not well-formed XML ({expat.errors.messages[error.code]}): the file is "
                "cut short or edited; save the whole output of 'lmxendutil -licstatxml' again",
            )
        )
        for each in blocks:
            each.damaged = True
    if down and len(down) == len(servers):
        raise ImportFileError(
            f"{name} line {down[0][0]}: lmxendutil reached no license server ({down[0][1]} "
            "does not report SUCCESS); the file holds no snapshot of who uses what."
        )
    return servers, blocks


def _once_a_run(line: str) -> tuple[str, ...] | None:
    """What a line of lmxendutil says once a run: its banner, a license server's heading (text
    or XML), the XML declaration or root; None for any other line."""
    if _BANNER.match(line):
        return ("banner",)
    if match := _SERVER.match(line):
        return ("server", f"{match['port']}@{match['host']}".lower())
    if match := _XML_ONCE.match(line):
        if match["host"] is not None:
            return ("server", match["host"].lower())
        return ("declaration",) if match["decl"] else ("root",)
    return None


def _records(
    blocks: list[_Block], problems: list[Problem], *, ends_whole: bool
) -> tuple[list[UsageRecord], list[str], dict[str, frozenset[str]]]:
    """Every block's checkouts as records once they add up; the features each server may close."""
    records: list[UsageRecord] = []
    notes: list[str] = []
    closing: dict[str, set[str]] = {}
    handles = Handles()
    for block in blocks:
        name = f"{block.feature} v{block.version}"
        if block.damaged:
            continue
        if not block.in_use_line:
            problems.append(
                Problem(
                    block.line,
                    "used",
                    name,
                    f"has no 'N of M license(s) used' line: the file is cut short or edited; "
                    f"{_AGAIN}",
                )
            )
            continue
        untimed = [c for c in block.checkouts if c.checkout is None]
        for each in untimed:
            problems.append(
                Problem(
                    each.line,
                    "checkout",
                    f"{each.user}@{each.host}",
                    "has no 'Login time: … Checkout time: …' line after it: the file is cut "
                    f"short or edited; {_AGAIN}",
                )
            )
        if untimed:
            continue
        held = sum(c.units for c in block.checkouts)
        if held != block.used:
            problems.append(
                Problem(
                    block.in_use_line,
                    "used",
                    str(block.used),
                    f"says {plural(block.used, 'license')} of {name} {agree(block.used, 'is')} "
                    f"in use but its lines hold {held}: the snapshot is cut short or edited; "
                    f"{_AGAIN}",
                )
            )
            continue
        refused = False
        for each in block.checkouts:
            for what, value, limit in (
                ("feature", block.feature, 200),
                ("user", each.user, 200),
                ("host", each.host, 255),
            ):
                if len(value) > limit:
                    problems.append(
                        Problem(each.line, what, value, f"is longer than {limit} characters")
                    )
                    refused = True
            if not 1 <= each.units <= 1_000_000_000:
                problems.append(
                    Problem(each.line, "licenses", str(each.units), "is not a count of licenses")
                )
                refused = True
        if refused:
            continue
        closing.setdefault(block.server, set()).add(block.feature)
        for each in block.checkouts:
            assert each.checkout is not None
            key = (block.server, block.feature, each.user, each.host, each.checkout)
            records.append(
                UsageRecord(
                    each.line,
                    each.user,
                    block.feature,
                    each.host,
                    each.checkout,
                    None,
                    block.vendor,
                    each.units,
                    server=block.server,
                    handle=handles.next(key),
                )
            )
    if (
        not ends_whole
        and blocks
        and not blocks[-1].damaged
        and blocks[-1].feature in closing.get(blocks[-1].server, set())
    ):
        last = blocks[-1]
        closing[last.server].discard(last.feature)
        notes.append(
            f"line {last.line}: {last.feature} is the last feature of the file, and "
            "lmxendutil writes no line after it: a file cut before another block of "
            f"{last.feature} would look the same, so its checkouts close none an earlier "
            "snapshot saw (those end at their last sighting)"
        )
    return records, notes, {server: frozenset(f) for server, f in closing.items()}


def _checkout_server(named: str) -> str:
    """'6200@lic01' as checkouts name their server: 'lic01/6200'."""
    port, _, host = named.partition("@")
    return f"{host}/{port}"


def _moment(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
