"""Reading Reprise RLM ``rlmutil rlmstat -a`` output: who holds which license, since when.

rlmstat prints the rlm server's status (``rlm status on lic01 (port 5053), up 5d 14:26:14``,
its statistics, the table of ISV servers), then per ISV server its status, its license pools
(``nuke_i v2024.0701, pool: 6`` over ``count: 22, # reservations: 0, inuse: 3, exp: …``) and
its checkouts (``nuke_i v2024.0701: ann@ws-01 1/0 at 03/28 20:41  (handle: 2ae5)``: licenses
held / of them reserved, the start without a year, the server's handle in hexadecimal).

rlmstat prints no date of its own.  Its statistics do: ``Recent Statistics (00:23:38), init time:
Sun Mar 31 02:32:16 2024`` was counted from 02:32:16 for 23 minutes 38 seconds, so the server
answered at 02:55:54; the snapshot is the latest such moment.  A checkout's start is in the
snapshot's year, or the year before when that start would lie after the snapshot.  Times are the
license server's, read as UTC like every time without an offset.

A snapshot must prove itself complete before it may close sessions an earlier snapshot saw: the
checkouts of each product and version must hold the licenses its pools say are in use.  Two
readings of the reserved column are allowed (in use counts the reserved licenses, or not), and
checkouts RLM shares (the same product by the same user on the same host: RLM counts the license
once and lists every checkout) are read as one session when, and only when, that is what makes
the pool add up.  A file cut inside a line is refused.  The checkouts of an ISV follow all its
pools, and rlmstat prints no usage status for an ISV with nothing in use, so a pool status that
ends the file may be whole or cut before later pools: with licenses in use it is refused (their
checkouts are missing), with none its products are read but close nothing (said in a note).

A checkout's identity is the rlm server (``host/port``), the handle and the start: two checkouts
by one user on one host in the same minute differ by handle.  Without rlm's status (``rlmstat -a
-i ISV``) the server is the one ``Setting license file path to PORT@HOST`` names, else the ISV's.
The product is the feature (the normalization rules map it as a FlexNet feature); the ISV plays
the vendor daemon's part.  A user name may hold spaces; the host is the word after the last
``@``, a user name that holds an ``@`` itself is read so and said.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from seatledger.ingest.flexlm import Snapshot
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.snapshot_text import appended_runs, cut_line, refuse_appended
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem
from seatledger.text import agree, plural

FORMAT_NAME = "Reprise RLM rlmstat -a"

_ON = r"(?P<host>\S+) \(port (?P<port>\d+)\)"
_RLM_STATUS = re.compile(rf"^\s*rlm status on {_ON}")
_ISV_STATUS = re.compile(rf"^\s*(?P<isv>\S+) ISV server status on {_ON}")
_POOL_STATUS = re.compile(rf"^\s*(?P<isv>\S+) license pool status on {_ON}\s*$")
_USAGE_STATUS = re.compile(rf"^\s*(?P<isv>\S+) license usage status on {_ON}\s*$")
_STATISTICS = re.compile(
    r"^\s*(?:Todays|Recent) Statistics \((?:(?P<days>\d+)d\s+)?(?P<hours>\d+):(?P<minutes>\d\d):"
    r"(?P<seconds>\d\d)\),\s*init time:\s*\w{3}\s+(?P<month>\w{3})\s+(?P<day>\d{1,2})\s+"
    r"(?P<hh>\d{1,2}):(?P<mm>\d\d):(?P<ss>\d\d)\s+(?P<year>\d{4})\s*$"
)
_ISV_TABLE = re.compile(r"^\s*-+\s*ISV servers\s*-+\s*$")
_ISV_ROW = re.compile(r"^\s*(?P<isv>\S+)\s+(?P<port>\d+)\s+(?P<running>Yes|No)\s+\d+\s*$")
_SEPARATOR = re.compile(r"^\s*-{8,}\s*$")
_POOL = re.compile(r"^\s*(?P<product>\S+) v(?P<version>[^\s,:]+)(?:, pool: \d+)?\s*$")
_COUNT = re.compile(
    r"^\s*count: (?P<count>\w+), # reservations: (?P<reservations>\d+), inuse: (?P<inuse>\d+), "
    r"exp: \S+"
)
_TOKEN = re.compile(r"^\s*Token-based license\s*$")
_CHECKOUT = re.compile(
    r"^\s*(?P<product>\S+) v(?P<version>[^\s:]+): (?P<who>.+)@(?P<host>[^\s@]+) "
    r"(?P<count>\d+)/(?P<reserved>\d+) at (?P<m>\d{1,2})/(?P<d>\d{1,2}) (?P<hh>\d{1,2}):"
    r"(?P<mm>\d\d)\s+\(handle: (?P<handle>[0-9A-Fa-f]+)\)(?:\s+\[I: [^\]]*\])?\s*$"
)
_PRODUCT_OF = re.compile(r"^\s*(?P<product>\S+) v(?P<version>[^\s:]+): ")
_UNREACHABLE = re.compile(r'Error connecting to "(?P<name>[^"]+)" server')
_LICENSE_PATH = re.compile(
    r"^\s*Setting license file path to (?P<port>\d+)@(?P<host>[^\s:;@]+)\s*$"
)
_MONTHS = {
    month: number
    for number, month in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_RLMSTAT_LINE = re.compile(
    r"^\s*(?:rlm status on \S+ \(port \d+\)|\S+ license (?:pool|usage) status on \S+ \(port \d+\)"
    r'|Error connecting to "rlm" server)',
    re.MULTILINE,
)
_AGAIN = "save the whole output of 'rlmutil rlmstat -a' again"
_BANNER = re.compile(r"^\s*rlmutil v\S+\s*$")

_Key = tuple[str, str]  # (product, version): what a checkout line names of its pool


@dataclass
class _Pool:
    """The pools of one product and version in one ISV's pool status (one or more pools)."""

    line: int  # its first count line (its heading's, until one is read)
    issued: int | None = 0  # None: a pool of it is uncounted or token-based
    in_use: int = 0
    counted: bool = False  # a count line was read
    token: bool = False


@dataclass(frozen=True, slots=True)
class _Checkout:
    line: int
    key: _Key
    user: str
    host: str
    units: int
    reserved: int
    start: dt.datetime
    handle: str


@dataclass
class _Isv:
    """One ISV server's pools and checkouts while they are read."""

    name: str
    line: int  # its pool status heading
    server: str  # the rlm server it answers for, "host/port" as checkout identities name it
    pools: dict[_Key, _Pool] = field(default_factory=dict)
    pools_closed: bool = False  # something followed its pool status (not the end of the file)
    usage_line: int | None = None
    checkouts: list[_Checkout] = field(default_factory=list)
    handles: dict[str, int] = field(default_factory=dict)  # handle -> line
    damaged: set[_Key] = field(default_factory=set)  # products with a line refused already
    cut: bool = False  # the file ends inside a line of it: said once, as cut
    listed: bool = True  # its products are the snapshot's (they close earlier checkouts)


def looks_like_rlmstat(head: str) -> bool:
    """Whether a file's first lines are rlmstat's: the rlm status, an ISV's pool or usage status,
    or rlmstat's word that it could not reach rlm."""
    return _RLMSTAT_LINE.search(head) is not None


def read_rlmstat(
    facts: FileFacts, problems: list[Problem]
) -> tuple[Snapshot, Iterator[UsageRecord]]:
    """The snapshot's time and products, and its checkouts as usage records (open sessions).

    Problems: pools whose checkouts do not hold the licenses in use (the file was cut or edited),
    a pool status ending the file, a line cut off, a checkout line that is not whole, a checkout
    of no pool, a handle given twice, values too long to store.

    Raises:
        ImportFileError: rlmstat could not reach the rlm server (the file holds no snapshot),
            no statistics line dates the snapshot, or the file holds several runs appended.
    """
    with facts.path.open(encoding=facts.encoding, newline="") as handle:
        text = handle.read()
    # Only line feeds end lines, as in the editor the user will open the file in.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if starts := appended_runs(lines, _once_a_run):
        raise refuse_appended(facts.path.name, "rlmutil rlmstat -a", starts)
    moments: list[dt.datetime] = []
    servers: list[str] = []
    notes: list[str] = []
    isvs: list[_Isv] = []
    unreachable: list[tuple[int, str, str]] = []
    rlm_server: str | None = None
    named: tuple[str, str] | None = None  # (host, port) of a lone 'license file path' PORT@HOST
    section: str | None = None  # "table", "pools" or "usage"
    isv: _Isv | None = None
    pool: _Pool | None = None

    def open_isv(match: re.Match[str], number: int) -> _Isv:
        nonlocal rlm_server
        if rlm_server is None:  # no status of rlm: the server the path names, else the ISV's own
            host, port = named if named is not None else (match["host"], match["port"])
            rlm_server = f"{host}/{port}"
            servers.append(f"{port}@{host}")
        for known in isvs:
            if known.name == match["isv"] and known.server == rlm_server:
                return known
        isvs.append(_Isv(match["isv"], number, rlm_server))
        return isvs[-1]

    def leave() -> None:
        if section == "pools" and isv is not None:
            isv.pools_closed = True

    last = len(lines)
    cut = bool(lines[-1].strip()) and not any(
        p.match(lines[-1]) for p in (_CHECKOUT, _USAGE_STATUS, _POOL_STATUS, _SEPARATOR)
    )
    for number, line in enumerate(lines, start=1):
        if cut and number == last:
            if isv is not None and section in ("pools", "usage"):
                isv.cut = True
            problems.append(cut_line(number, line, _AGAIN))
            break
        if match := _LICENSE_PATH.match(line):
            named = (match["host"], match["port"])
            continue
        if match := _UNREACHABLE.search(line):
            unreachable.append((number, line.strip(), match["name"]))
            continue
        if match := _RLM_STATUS.match(line):
            leave()
            section, isv = None, None
            rlm_server = f"{match['host']}/{match['port']}"
            servers.append(f"{match['port']}@{match['host']}")
            continue
        if match := _STATISTICS.match(line):
            moment = _moment(match)
            if moment is not None:
                moments.append(moment)
            continue
        if _ISV_TABLE.match(line):
            leave()
            section = "table"
            continue
        if _SEPARATOR.match(line):
            leave()
            section = None
            continue
        if section == "table":
            if (match := _ISV_ROW.match(line)) and match["running"] == "No":
                notes.append(
                    f"line {number}: rlm lists the ISV server {match['isv']} as not running; "
                    "its licenses are not in this snapshot"
                )
            continue
        if _ISV_STATUS.match(line):
            leave()
            section = None
            continue
        if match := _POOL_STATUS.match(line):
            leave()
            isv, section, pool = open_isv(match, number), "pools", None
            continue
        if match := _USAGE_STATUS.match(line):
            leave()
            isv, section = open_isv(match, number), "usage"
            isv.usage_line = number
            continue
        if isv is None:
            continue
        if section == "pools":
            if match := _POOL.match(line):
                key = (match["product"], match["version"])
                pool = isv.pools.setdefault(key, _Pool(number))
            elif pool is not None and (match := _COUNT.match(line)):
                if not pool.counted:
                    pool.line = number
                pool.counted = True
                pool.in_use += int(match["inuse"])
                issued = match["count"]
                pool.issued = (
                    pool.issued + int(issued)
                    if pool.issued is not None and issued.isdigit()
                    else None
                )
            elif pool is not None and _TOKEN.match(line):
                pool.token, pool.issued = True, None
            continue
        if section == "usage" and line.strip():
            if match := _CHECKOUT.match(line):
                _take(number, line, match, isv, problems=problems, notes=notes)
                continue
            start = _PRODUCT_OF.match(line)
            if start is not None:
                isv.damaged.add((start["product"], start["version"]))
            else:
                isv.damaged.update(isv.pools)
            problems.append(
                Problem(
                    number,
                    "checkout",
                    line.strip(),
                    "is not a whole checkout line ('product vVERSION: user@host N/N at MM/DD "
                    "HH:MM (handle: H)'); the file may be cut short or edited",
                )
            )
    if unreachable and not any(i.pools for i in isvs):
        where, said, _ = unreachable[0]
        raise ImportFileError(
            f"{facts.path.name} line {where}: rlmstat could not reach the license server "
            f"({said}); the file holds no snapshot of who uses what."
        )
    for where, said, name in unreachable:
        notes.append(f"line {where}: {said}; the licenses of {name} are not in this snapshot")
    if not moments:
        raise ImportFileError(
            f"{facts.path.name} has no line 'Recent Statistics (…), init time: <date>': rlmstat "
            "prints no date of its own, its statistics date the snapshot; save the whole output "
            "of 'rlmutil rlmstat -a' (not '-i' or '-l', which leave them out)."
        )
    taken = max(moments)
    records = _records(isvs, taken, problems, notes)
    features: dict[str, tuple[int | None, int]] = {}
    for each in isvs:
        if not each.listed:
            continue
        for (product, _), found in each.pools.items():
            issued, in_use = features.get(product, (0, 0))
            features[product] = (
                None if issued is None or found.issued is None else issued + found.issued,
                in_use + found.in_use,
            )
    if not any(each.pools for each in isvs):
        problems.append(
            Problem(
                0,
                "",
                "",
                "no 'ISV license pool status on HOST (port N)' section; is this the output of "
                "'rlmutil rlmstat -a'?",
            )
        )
    return Snapshot(taken, features, tuple(servers), tuple(notes)), iter(records)


def _once_a_run(line: str) -> tuple[str, ...] | None:
    """What a line of rlmstat says once a run: the license path, rlmutil's banner, the status of
    rlm on a server, an ISV's pool or usage status; None for any other line."""
    if match := _LICENSE_PATH.match(line):
        return ("path", match["host"].lower(), match["port"])
    if _BANNER.match(line):
        return ("banner",)
    if match := _RLM_STATUS.match(line):
        return ("rlm", match["host"].lower(), match["port"])
    for kind, pattern in (("pools", _POOL_STATUS), ("usage", _USAGE_STATUS)):
        if match := pattern.match(line):
            return (kind, match["isv"], match["host"].lower(), match["port"])
    return None


def _take(
    number: int,
    line: str,
    match: re.Match[str],
    isv: _Isv,
    *,
    problems: list[Problem],
    notes: list[str],
) -> None:
    """One checkout line into its ISV, or its problem recorded (its product is then damaged)."""
    key = (match["product"], match["version"])
    user, host, handle = match["who"].strip(), match["host"], match["handle"].lower()
    refused: Problem | None = None
    units = int(match["count"])
    for what, value, limit in (("product", key[0], 200), ("user", user, 200), ("host", host, 255)):
        if len(value) > limit:
            refused = Problem(number, what, value, f"is longer than {limit} characters")
    if not user:
        refused = Problem(number, "user", line.strip(), "names no user before '@'")
    elif not 1 <= units <= 1_000_000:
        refused = Problem(number, "licenses", match["count"], "is not a count of licenses")
    elif len(handle) > 32:
        refused = Problem(number, "handle", handle, "is longer than 32 characters")
    elif handle in isv.handles:
        refused = Problem(
            number,
            "handle",
            handle,
            f"is the handle of line {isv.handles[handle]} too: {isv.name} gives each checkout "
            "its own handle; the file was edited",
        )
    elif key not in isv.pools:
        refused = Problem(
            number,
            "product",
            f"{key[0]} v{key[1]}",
            f"has no pool in the license pool status of {isv.name}: the file was edited, or "
            f"is cut short; {_AGAIN}",
        )
    if refused is not None:
        problems.append(refused)
        isv.damaged.add(key)
        return
    isv.handles[handle] = number
    if "@" in user:
        notes.append(
            f"line {number}: read as user '{user}' on host '{host}'; rlmstat does not mark "
            "where a user name holding '@' ends"
        )
    # The year is settled once the snapshot is dated (its statistics may follow): month, day,
    # hour and minute are kept in a naive datetime of year 2000 (a leap year) until then.
    try:
        start = dt.datetime(
            2000, int(match["m"]), int(match["d"]), int(match["hh"]), int(match["mm"])
        )
    except ValueError:
        problems.append(Problem(number, "start", line.strip(), "not a real date"))
        isv.damaged.add(key)
        return
    isv.checkouts.append(
        _Checkout(number, key, user, host, units, int(match["reserved"]), start, handle)
    )


def _records(
    isvs: list[_Isv],
    taken: dt.datetime,
    problems: list[Problem],
    notes: list[str],
) -> list[UsageRecord]:
    """Every ISV's checkouts as records, once each product adds up to its pools' "in use"."""
    records: list[UsageRecord] = []
    for isv in isvs:
        if isv.cut:
            continue
        # Only the pool status the file ends in was never left.  With nothing in use rlmstat
        # prints no usage status; a file cut before later pools would look the same.
        ends_file = isv.pools and isv.usage_line is None and not isv.pools_closed
        whole = all(p.counted or p.token for p in isv.pools.values())
        if ends_file and whole and not any(p.in_use for p in isv.pools.values()):
            isv.listed = False
            notes.append(
                f"line {isv.line}: the pool status of {isv.name} ends the file with nothing in "
                "use, as rlmstat prints it then, and as a file cut there would look: its products "
                "close no checkout an earlier snapshot saw"
            )
            continue
        by_key: dict[_Key, list[_Checkout]] = {}
        for checkout in isv.checkouts:
            by_key.setdefault(checkout.key, []).append(checkout)
        for key, pool in isv.pools.items():
            if key in isv.damaged:
                continue
            held = by_key.get(key, [])
            if not pool.counted and not pool.token:
                problems.append(
                    Problem(
                        pool.line,
                        "count",
                        f"{key[0]} v{key[1]}",
                        f"has no 'count: …, inuse: …' line: the file was edited; {_AGAIN}",
                    )
                )
                continue
            read = _add_up(isv, key, pool, held, problems=problems, notes=notes)
            for checkout in read:
                start = _start(taken, checkout.start)
                if start is None:
                    problems.append(Problem(checkout.line, "start", "", "not a real date"))
                    continue
                records.append(
                    UsageRecord(
                        checkout.line,
                        checkout.user,
                        key[0],
                        checkout.host,
                        start,
                        None,
                        isv.name,
                        checkout.units,
                        server=isv.server,
                        handle=checkout.handle,
                    )
                )
    records.sort(key=lambda record: record.line)
    return records


def _add_up(
    isv: _Isv,
    key: _Key,
    pool: _Pool,
    held: list[_Checkout],
    *,
    problems: list[Problem],
    notes: list[str],
) -> list[_Checkout]:
    """The checkouts of one product and version as sessions, if they hold what is in use."""
    name = f"{key[0]} v{key[1]}"
    if pool.token:
        if held:
            notes.append(
                f"line {pool.line}: {name} of {isv.name} is token-based: rlmstat gives no count "
                f"its {plural(len(held), 'checkout')} could be checked against"
            )
        return held
    licenses = sum(c.units for c in held)
    reserved = sum(c.reserved for c in held)
    if pool.in_use in (licenses, licenses - reserved):
        return held
    groups: dict[tuple[str, str], list[_Checkout]] = {}
    for checkout in held:
        groups.setdefault((checkout.user, checkout.host), []).append(checkout)
    shared = sum(max(c.units for c in group) for group in groups.values())
    shared_reserved = sum(max(c.reserved for c in group) for group in groups.values())
    if len(groups) < len(held) and pool.in_use in (shared, shared - shared_reserved):
        sessions: list[_Checkout] = []
        for (user, host), group in groups.items():
            first = group[0]
            if len(group) > 1:
                units = max(c.units for c in group)
                first = _Checkout(
                    first.line,
                    key,
                    user,
                    host,
                    units,
                    max(c.reserved for c in group),
                    min(c.start for c in group),
                    first.handle,
                )
                notes.append(
                    f"lines {', '.join(str(c.line) for c in group)}: {len(group)} checkouts of "
                    f"{name} by {user}@{host} share {plural(units, 'license')}, as its pool "
                    f"counts them: read as one session (handle {first.handle})"
                )
            sessions.append(first)
        return sessions
    problems.append(
        Problem(
            pool.line,
            "inuse",
            str(pool.in_use),
            f"says {plural(pool.in_use, 'license')} of {name} {agree(pool.in_use, 'is')} in use "
            f"but its lines hold {licenses}"
            + (f" ({reserved} of them reserved)" if reserved else "")
            + f": the snapshot is cut short or edited; {_AGAIN}",
        )
    )
    return []


def _moment(match: re.Match[str]) -> dt.datetime | None:
    """When a statistics line was printed: its init time plus the time it counted."""
    month = _MONTHS.get(match["month"])
    if month is None:
        return None
    try:
        init = dt.datetime(
            int(match["year"]),
            month,
            int(match["day"]),
            int(match["hh"]),
            int(match["mm"]),
            int(match["ss"]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        return None
    return init + dt.timedelta(
        days=int(match["days"] or 0),
        hours=int(match["hours"]),
        minutes=int(match["minutes"]),
        seconds=int(match["seconds"]),
    )


def _start(taken: dt.datetime, start: dt.datetime) -> dt.datetime | None:
    """A checkout's start: in the snapshot's year unless that is after the snapshot."""
    for year in (taken.year, taken.year - 1):
        try:
            moment = start.replace(year=year, tzinfo=dt.UTC)
        except ValueError:
            continue  # 29 February only exists in some years
        if moment <= taken + dt.timedelta(days=1):
            return moment
    return None
