"""Turning a table's rows into typed records, with every problem named by line, column and value.

Each kind has a reader that takes the cells of one row and returns a record, or appends the
row's problems and returns None.  Rows are read lazily, so a million-row inventory is never held
as text; duplicate keys with conflicting values are caught as they appear.
"""

from __future__ import annotations

import datetime as dt
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from operator import itemgetter

from seatledger.domain.licensing import Metric, UnitTable
from seatledger.domain.renewals import notice_text, parse_notice_days
from seatledger.ingest.formats import Detection, Kind, field_label, normal
from seatledger.ingest.tabular import CellRows, Problem, Table
from seatledger.ingest.values import (
    Ambiguous,
    DateReader,
    ValueProblem,
    employed,
    priced,
    whole,
)

MAX_TEXT = 500
UNKNOWN_VENDOR = "Unknown manufacturer"
"""The vendor of a Snipe-IT license whose manufacturer is not given (Snipe-IT needs none)."""


# Dates that say when something was seen (not contract terms or hire dates): before 1990 or after
# next year they are a tool's stand-in for "unknown" (1970-01-01, 1601-01-01, 2083-03-08).
_OBSERVED = frozenset({"last_seen", "install_date", "checkout", "checkin"})
_EARLIEST = dt.date(1990, 1, 1)
_NOT_A_PERSON = re.compile(
    r"^(?:administrator|admin|guest|krbtgt|defaultaccount|wdagutilityaccount|"
    r"healthmailbox\w*|msol_\w+|aad_\w+|sm_\w+|iusr\w*|iwam\w*)$"
    r"|^(?:svc|srv|sa|sql|app|service|task|sys|backup|scan|noreply|no-reply)[-_.]"
    r"|[-_.](?:svc|service)$|\$$"
    r"|#ext#@",  # an Entra ID guest: another organization's account
    re.IGNORECASE,
)
# A directory's account-name columns: an ID read from one is no employee number.
_ACCOUNT_NAMES = frozenset({"samaccountname", "userprincipalname"})
_UNKNOWN_COUNT = re.compile(r"'?-1|'?0|unknown|n/?a|-|\?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    line: int
    employee_id: str
    name: str
    email: str
    team: str
    left: bool | None  # None: the file does not say
    date_left: dt.date | None
    date_joined: dt.date | None = None  # the first day, where the file gives it
    team_since: dt.date | None = None  # the day the team began, where the file gives it
    # The manager's employee number or e-mail; None: the file has no manager column ("" is none).
    manager: str | None = None
    cost_centre: str | None = None  # None: the file has no cost centre column
    # A directory's account state (AD's Enabled, Entra ID's AccountEnabled): True disabled;
    # None: not a directory, or its row does not say.  Never employment (HR decides that).
    account_disabled: bool | None = None


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    line: int
    hostname: str
    serial: str
    os: str
    processors: int | None
    cores: int | None
    owner: str
    last_seen: dt.date | None
    processor_model: str = ""  # as inventory names it; empty: not given


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a microsecond a row, x 1M rows
class InstallRecord:
    line: int
    hostname: str
    publisher: str
    title: str
    version: str
    install_date: dt.date | None


@dataclass(frozen=True, slots=True)
class EntitlementRecord:
    line: int
    vendor: str
    product: str
    metric: Metric
    quantity: int
    term_start: dt.date | None
    term_end: dt.date | None
    unit_cost: Decimal | None
    currency: str  # "" when the row does not say
    po_reference: str
    reseller: str
    min_cores: int
    core_factor: Decimal
    unit_table: str | None = None  # per core: rates by processor as stored; None: not given
    notice_days: str | None = None  # "180, 90, 30" as stored; None: not given
    cancel_by: dt.date | None = None


@dataclass(frozen=True, slots=True)
class UsageRecord:
    line: int
    user: str
    feature: str
    host: str
    checkout: dt.datetime
    checkin: dt.datetime | None
    publisher: str = ""
    units: int = 1
    server: str = ""  # a license server's "host/port" (lmstat), "" when the file has none
    handle: str = ""  # the server's handle of the checkout: two sessions in a minute differ


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """One FEATURE or INCREMENT line of a license file, as ``lmstat -i`` lists it."""

    line: int
    feature: str
    version: str
    count: int | None  # None: uncounted (0 or "uncounted" in the file)
    vendor: str  # the vendor daemon that serves it
    expires: dt.date | None  # None: never (permanent, or a year of 0)


Record = PersonRecord | DeviceRecord | InstallRecord | EntitlementRecord | UsageRecord | GrantRecord


@dataclass(slots=True)
class Installs:
    """The distinct values an inventory's rows have read so far, which its rows index into."""

    hosts: list[str] = field(default_factory=list)  # as the file first wrote each, stripped
    titles: list[tuple[str, str, str]] = field(default_factory=list)  # (publisher, title, ver.)
    dates: list[dt.date | None] = field(default_factory=lambda: [None])  # 0: no date
    host_index: dict[str, int] = field(default_factory=dict)
    title_index: dict[tuple[str, str, str], int] = field(default_factory=dict)


@dataclass(slots=True)
class InstallChunk:
    """Some rows of an inventory, each as indexes into ``found``'s hosts, titles and dates."""

    found: Installs
    host_of: array[int] = field(default_factory=lambda: array("i"))
    title_of: array[int] = field(default_factory=lambda: array("i"))
    date_of: array[int] = field(default_factory=lambda: array("i"))  # empty: no date column
    # Where each row starts, less ``line_base`` (one addition per chunk, not per row).
    lines: array[int] = field(default_factory=lambda: array("q"))
    line_base: int = 0

    def __len__(self) -> int:
        return len(self.host_of)


_METRICS = {
    "peruser": Metric.PER_USER,
    "nameduser": Metric.PER_USER,
    "user": Metric.PER_USER,
    "named": Metric.PER_USER,
    "namedusers": Metric.PER_USER,
    "authorizeduser": Metric.PER_USER,
    "perseat": Metric.PER_USER,
    "seat": Metric.PER_USER,
    "perdevice": Metric.PER_DEVICE,
    "device": Metric.PER_DEVICE,
    "install": Metric.PER_DEVICE,
    "perinstall": Metric.PER_DEVICE,
    "perinstallation": Metric.PER_DEVICE,
    "permachine": Metric.PER_DEVICE,
    "workstation": Metric.PER_DEVICE,
    "concurrent": Metric.CONCURRENT,
    "floating": Metric.CONCURRENT,
    "concurrentuser": Metric.CONCURRENT,
    "network": Metric.CONCURRENT,
    "percore": Metric.PER_CORE,
    "core": Metric.PER_CORE,
    "cores": Metric.PER_CORE,
    "perprocessor": Metric.PER_PROCESSOR,
    "processor": Metric.PER_PROCESSOR,
    "cpu": Metric.PER_PROCESSOR,
    "socket": Metric.PER_PROCESSOR,
    "subscription": Metric.SUBSCRIPTION,
    "usersubscription": Metric.SUBSCRIPTION,
    "site": Metric.SITE,
    "enterprise": Metric.SITE,
    "employee": Metric.SITE,
    "enterpriseagreement": Metric.SITE,
    "unlimited": Metric.SITE,
}


def metric_of(text: str) -> Metric:
    """A license metric from the words purchase records use for it."""
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    for value in Metric:
        if key == value.value.replace("_", ""):
            return value
    try:
        return _METRICS[key]
    except KeyError:
        raise ValueProblem(
            "not a metric (per device, named user, concurrent, per core, per processor, "
            "subscription, site)"
        ) from None


class RowReader:
    """Reads one table's rows as records of its kind, collecting problems."""

    def __init__(
        self, table: Table, detection: Detection, dates: DateReader, problems: list[Problem]
    ) -> None:
        self.table = table
        self.detection = detection
        self.dates = dates
        self.problems = problems
        self.problem_count = 0  # the caller's list may stop growing; this does not
        self.rows_read = 0
        self.repeated = 0  # rows the same as an earlier one, read once (the summary says so)
        self.not_people: list[str] = []  # a directory's built-in and service accounts, skipped
        self.disabled_accounts = 0  # a directory's disabled accounts (HR decides who left)
        self.expired_accounts = 0  # a directory's accounts past their AccountExpirationDate
        self.continued = 0  # rows that only add to the row above (Jamf: an app or a group)
        self._named_above = False  # a row above named its computer (see _continues)
        # Announced fallbacks (Detection.announced) that stood in: key -> (rows, first line).
        self.stood_in: dict[str, tuple[int, int]] = {}
        self.width = len(table.header)
        # Rows may leave out the cells of unnamed last columns ("a;b;" then "1;2").
        self._named = max((i + 1 for i, h in enumerate(table.header) if h.strip()), default=0)
        self._columns = dict(detection.columns)
        self._labels = {key: field_label(detection.kind, key) for key in self._columns}
        self._seen: dict[str, tuple[int, Record]] = {}
        readers: dict[Kind, Callable[[int, list[str]], Record | None]] = {
            Kind.PEOPLE: self._person,
            Kind.DEVICES: self._device,
            Kind.ENTITLEMENTS: self._entitlement,
            Kind.USAGE: self._usage,
            Kind.SNIPEIT: self._snipeit,
        }
        self._read = readers.get(detection.kind)  # installs: see install_chunks
        self.installs = Installs()
        self._blank = 0  # blank install rows (not counted as read)
        self._left_out = 0  # install rows with problems
        # Uninstall keys without a DisplayName (Format.uninstall_keys): read, no program.
        self.nameless_keys = 0
        self._first_nameless = 0

    def records(self) -> Iterator[Record]:
        """Every good record, in file order."""
        if self.detection.kind is Kind.INVENTORY:
            yield from self._install_records()
            return
        read = self._read
        assert read is not None
        width = self.width
        for line, cells in self.table.rows:
            self.rows_read += 1
            if len(cells) != width and self._width_problem(line, cells):
                continue
            record = read(line, cells)
            if record is not None:
                yield record

    def counted(self) -> Iterator[Record]:
        """No records, the rows counted: a file a required field has no column in is refused,
        and its summary still says how many rows it holds (not "0 rows")."""
        for _line, _cells in self.table.rows:
            self.rows_read += 1
        yield from ()

    def _install_records(self) -> Iterator[InstallRecord]:
        """Installs one record at a time, each with its line (slower than the chunks)."""
        found = self.installs
        for chunk in self.install_chunks():
            days = chunk.date_of or array("i", bytes(4 * len(chunk)))
            base = chunk.line_base
            for line, host, title, day in zip(
                chunk.lines, chunk.host_of, chunk.title_of, days, strict=True
            ):
                publisher, name, version = found.titles[title]
                yield InstallRecord(
                    base + line, found.hosts[host], publisher, name, version, found.dates[day]
                )

    @property
    def notes(self) -> list[str]:
        """What the import's notes should say about how rows were read (after reading them)."""
        said = []
        header = self.table.header
        for key, (rows, first) in sorted(self.stood_in.items()):
            own = header[self._columns[key]]
            other = header[self.detection.fallbacks[key]]
            said.append(
                f"{rows:,} {'row has' if rows == 1 else 'rows have'} no {own}; "
                f"{'its' if rows == 1 else 'their'} {other} stands in as the "
                f"{field_label(self.detection.kind, key)} (first on line {first})."
            )
        if self.nameless_keys:
            said.append(
                f"{self.nameless_keys:,} Uninstall "
                f"{'key has' if self.nameless_keys == 1 else 'keys have'} no DisplayName "
                f"(first on line {self._first_nameless}): Windows lists no program for such a "
                "key, so none is imported."
            )
        return said

    # -- cell helpers ---------------------------------------------------------------------------

    def _text(
        self,
        cells: list[str],
        key: str,
        line: int,
        *,
        required: bool = False,
        limit: int = MAX_TEXT,
    ) -> str | None:
        position = self._columns.get(key)
        value = cells[position].strip() if position is not None else ""
        fallback = self.detection.fallbacks.get(key)
        if not value and fallback is not None:
            value = cells[fallback].strip()
            if value and key in self.detection.announced:
                rows, first = self.stood_in.get(key, (0, line))
                self.stood_in[key] = (rows + 1, first)
        if required and not value:
            self._bad(line, key, "", "is empty; every row needs one")
            return None
        if len(value) > limit:
            self._bad(line, key, value, f"is {len(value):,} characters long; the limit is {limit}")
            return None
        return value

    def _add(self, problem: Problem) -> None:
        self.problem_count += 1
        self.problems.append(problem)

    def _bad(self, line: int, key: str, value: str, reason: str) -> None:
        self._add(Problem(line, self._label(key), value, reason))

    def _label(self, key: str) -> str:
        position = self._columns.get(key)
        header = self.table.header[position] if position is not None else ""
        label = self._labels.get(key, key)
        return (
            f"{header} ({label})" if header and normal(header) != normal(label) else header or label
        )

    def _date(self, cells: list[str], key: str, line: int) -> tuple[bool, dt.date | None]:
        position = self._columns.get(key)
        if position is None:
            return True, None
        value = cells[position]
        try:
            day = self.dates.date(value, line, self._label(key))
        except Ambiguous:
            return True, None  # reported once for the whole file by the preview
        except ValueProblem as exc:
            self._bad(line, key, value.strip(), str(exc))
            return False, None
        return self._plausible(day, key, line, value)

    def _plausible(
        self, day: dt.date | None, key: str, line: int, value: str
    ) -> tuple[bool, dt.date | None]:
        """An observed date outside 1990 to the end of next year is a tool's placeholder."""
        if day is None or key not in _OBSERVED:
            return True, day
        latest = dt.date(dt.datetime.now(dt.UTC).year + 1, 12, 31)
        if _EARLIEST <= day <= latest:
            return True, day
        self._bad(
            line,
            key,
            value.strip(),
            f"is not a plausible date for when this was seen (before {_EARLIEST.year} or "
            f"after {latest.year}); tools write such dates for 'unknown': leave the cell empty",
        )
        return False, None

    def _moment(self, cells: list[str], key: str, line: int) -> tuple[bool, dt.datetime | None]:
        position = self._columns.get(key)
        if position is None:
            return True, None
        value = cells[position]
        try:
            moment = self.dates.moment(value, line, self._label(key))
        except Ambiguous:
            return True, None
        except ValueProblem as exc:
            self._bad(line, key, value.strip(), str(exc))
            return False, None
        ok, _ = self._plausible(moment.date() if moment else None, key, line, value)
        return ok, moment if ok else None

    def _number(
        self, cells: list[str], key: str, line: int, maximum: int = 10_000_000, minimum: int = 0
    ) -> tuple[bool, int | None]:
        position = self._columns.get(key)
        if position is None:
            return True, None
        value = cells[position]
        try:
            return True, whole(value, minimum, maximum)
        except ValueProblem as exc:
            self._bad(line, key, value.strip(), str(exc))
            return False, None

    def _hardware(
        self, cells: list[str], key: str, line: int, maximum: int
    ) -> tuple[bool, int | None]:
        """A processor or core count; the ways tools write "unknown" stay unknown (None).

        Jamf writes ``-1`` (Excel keeps it as text: ``'-1``), others ``0`` or ``Unknown``; a
        device whose count is unknown is counted apart by the position, never as a guess.
        """
        position = self._columns.get(key)
        if position is not None and _UNKNOWN_COUNT.fullmatch(cells[position].strip()):
            return True, None
        return self._number(cells, key, line, maximum=maximum, minimum=1)

    def _duplicate(self, shown: str, line: int, record: Record, what: str) -> bool:
        """Whether ``record`` repeats a key with other values (a problem) or exactly (ignored).

        Keys compare without regard to case; ``shown`` is the key as the row wrote it.
        """
        key = shown.lower()
        earlier = self._seen.get(key)
        if earlier is None:
            self._seen[key] = (line, record)
            return False
        first_line, first = earlier
        if _same(first, record):
            self.repeated += 1
            return True
        self._add(
            Problem(
                line, what, shown, f"appears again with other values (first on line {first_line})"
            )
        )
        return True

    # -- kinds ----------------------------------------------------------------------------------

    def _person(self, line: int, cells: list[str]) -> Record | None:
        before = self.problem_count
        employee_id = self._text(cells, "employee_id", line, required=True, limit=64)
        name = self._text(cells, "name", line, limit=200)
        if not name:
            first = self._text(cells, "first_name", line, limit=100) or ""
            last = self._text(cells, "last_name", line, limit=100) or ""
            name = f"{first} {last}".strip()
            if not name and self.problem_count == before:
                self._bad(line, "name", "", "is empty; every person needs a name")
        email = self._text(cells, "email", line, limit=320) or ""
        if email and ("@" not in email or " " in email):
            self._bad(line, "email", email, "is not an email address")
        team = self._text(cells, "team", line, limit=200) or ""
        for key, value in (("name", name), ("team", team)):
            if value and "?" in value:
                # No name or department holds a '?': the encoding the file was saved in had no
                # letter for one (Windows PowerShell 5.1's Export-Csv writes ASCII unless told
                # otherwise; Excel's "CSV (Comma delimited)" writes Windows-1252).
                self._bad(
                    line,
                    key if key in self._columns else "first_name",
                    value,
                    "holds '?' where a letter was: the file was saved in an encoding without "
                    "that letter (Windows PowerShell 5.1's Export-Csv writes ASCII unless given "
                    "-Encoding UTF8); export it again in UTF-8",
                )
        left: bool | None = None
        disabled: bool | None = None
        position = self._columns.get("status")
        if position is not None:
            try:
                here = employed(cells[position])
                left = None if here is None else not here
            except ValueProblem as exc:
                self._bad(line, "status", cells[position].strip(), str(exc))
        if self.detection.directory and employee_id:
            # A directory lists accounts: its Enabled says nothing about employment (HR does),
            # and its built-in and service accounts are no people.
            if self._not_a_person(cells, employee_id):
                self.not_people.append(employee_id)
                return None
            if left:
                self.disabled_accounts += 1
            disabled, left = left, None
        _, date_left = self._date(cells, "date_left", line)
        if self.detection.directory and date_left is not None:
            # AccountExpirationDate: when the account stops working, not a leaving day (HR's).
            if date_left <= dt.datetime.now(dt.UTC).date():
                self.expired_accounts += 1
            date_left = None
        _, date_joined = self._date(cells, "date_joined", line)
        _, team_since = self._date(cells, "team_since", line)
        if date_left is not None and date_joined is not None and date_left < date_joined:
            self._bad(
                line, "date_left", date_left.isoformat(), "is before the day the person joined"
            )
        manager = cost_centre = None
        if "manager" in self._columns:
            manager = self._text(cells, "manager", line, limit=320) or ""
            if manager and manager.lower() in {(employee_id or "").lower(), email.lower()}:
                self._bad(line, "manager", manager, "is the person themselves")
        if "cost_centre" in self._columns:
            cost_centre = self._text(cells, "cost_centre", line, limit=100) or ""
        if self.problem_count > before or not employee_id or not name:
            return None
        if left is None and date_left is not None:
            left = date_left <= dt.datetime.now(dt.UTC).date()
        record = PersonRecord(
            line,
            employee_id,
            name,
            email,
            team,
            left,
            date_left,
            date_joined,
            team_since,
            manager,
            cost_centre,
            disabled,
        )
        return None if self._duplicate(employee_id, line, record, "Employee ID") else record

    def _not_a_person(self, cells: list[str], account: str) -> bool:
        """A built-in or service account: no employee number, and a name only such accounts
        have (Administrator, Guest, krbtgt, svc-backup, HealthMailbox..., a computer's NAME$)."""
        position = self._columns.get("employee_id")
        header = self.table.header[position] if position is not None else ""
        if (
            position is not None
            and normal(header) not in _ACCOUNT_NAMES
            and cells[position].strip()
        ):
            return False  # HR gave it an employee number: a person
        # Where the account name is the only ID (no EmployeeID column), the name decides.
        return bool(_NOT_A_PERSON.search(account))

    def _device(self, line: int, cells: list[str]) -> Record | None:
        before = self.problem_count
        if "hostname" in self.detection.carried and self._continues(line, cells):
            return None
        hostname = self._text(cells, "hostname", line, required=True, limit=255)
        serial = self._text(cells, "serial", line, limit=128) or ""
        os_name = self._text(cells, "os", line, limit=100) or ""
        _, processors = self._hardware(cells, "processors", line, maximum=1024)
        _, cores = self._hardware(cells, "cores", line, maximum=65_536)
        owner = self._text(cells, "owner", line, limit=320) or ""
        _, last_seen = self._date(cells, "last_seen", line)
        model = self._text(cells, "processor_model", line, limit=200) or ""
        if self.problem_count > before or not hostname:
            return None
        record = DeviceRecord(
            line, hostname, serial, os_name, processors, cores, owner, last_seen, model
        )
        return None if self._duplicate(hostname, line, record, "Host name") else record

    def _continues(self, line: int, cells: list[str]) -> bool:
        """Whether a device row only adds an application or group to the computer above it.

        Jamf leaves the computer's cells empty on such rows; one that fills a device field but
        not the name is a problem (whose device would the value be?).
        """
        if cells[self._columns["hostname"]].strip():
            self._named_above = True
            return False  # a computer's own row
        if not self._named_above:
            return False  # no computer above to continue: the empty name is a problem
        filled = [
            key for key, at in self._columns.items() if key != "hostname" and cells[at].strip()
        ]
        if filled:
            key = filled[0]
            self._bad(
                line,
                key,
                cells[self._columns[key]].strip(),
                "is on a row without a computer name; Jamf writes a computer's fields on its "
                "first row only",
            )
        else:
            self.continued += 1
        return True

    def install_chunks(self, size: int = 20_000) -> Iterator[InstallChunk]:
        """Installed-software rows, a chunk of up to ``size`` rows at a time.

        The hot path of a million-row inventory: each distinct cell value (a host name, a
        title with its publisher and version, a date) is read and checked once, and a row
        becomes three indexes into :attr:`installs`.  Rows with problems are reported (by
        line) and left out.  Every good row keeps the line it starts on (its provenance).
        """
        assert self.detection.kind is Kind.INVENTORY
        found = self.installs
        columns = self._columns
        host_at, date_at = columns["hostname"], columns.get("install_date")
        parts = [p for p in (columns["title"], columns.get("publisher")) if p is not None]
        parts += [columns["version"]] if "version" in columns else []
        title_key = itemgetter(*parts)
        hosts: dict[str, int] = {}  # a host cell as written -> its index, -1 if unusable
        titles: dict[object, int] = {}  # the title's cells as written -> index, or -1
        dates: dict[str, int] = {"": 0}  # a date cell -> index into found.dates (0: none)
        width, named = self.width, self._named
        source = self.table.cells
        assert source is not None
        rows = iter(source)
        good = 0
        carry = "hostname" in self.detection.carried
        last = -1  # the host of the row above, for rows that leave it empty (carry)
        while True:
            chunk = InstallChunk(found, line_base=source.base)
            add_host, add_title = chunk.host_of.append, chunk.title_of.append
            add_date, add_line = chunk.date_of.append, chunk.lines.append
            for cells in islice(rows, size):
                if len(cells) != width and (
                    not (named <= len(cells) < width) and self._unfit(source, cells)
                ):
                    continue
                host = hosts.get(cells[host_at])
                if host is None:
                    if carry and not cells[host_at].strip():
                        host = last  # Jamf names a computer on its first row only
                    else:
                        host = hosts[cells[host_at]] = self._new_host(cells[host_at])
                last = host
                title = titles.get(title_key(cells))
                if title is None:
                    title = titles[title_key(cells)] = self._new_title(title_key(cells))
                if host < 0 or title < 0:
                    self._bad_install(source, cells, host_at, title_key)
                    continue
                if date_at is not None:  # without the column, date_of stays empty: no dates
                    day = dates.get(cells[date_at], -1)
                    if day < 0:
                        day = self._install_date(source, cells, date_at, dates)
                        if day < 0:
                            continue
                    add_date(day)
                add_host(host)
                add_title(title)
                add_line(source.read)
            before = self.rows_read + self._blank
            good += len(chunk)
            self.rows_read = good + self._left_out + self.nameless_keys  # blank rows are not
            if self.rows_read + self._blank == before:
                return
            yield chunk

    def _unfit(self, source: CellRows, cells: list[str]) -> bool:
        """Whether a row of the wrong width is left out (blank, or a problem reported)."""
        if not "".join(cells).strip():
            self._blank += 1
            return True
        if self._width_problem(source.line(cells), cells):
            self._left_out += 1
            return True
        return False

    def _new_host(self, cell: str) -> int:
        host = cell.strip()
        if not host or len(host) > 255:
            return -1
        found = self.installs
        index = found.host_index.get(host)
        if index is None:
            index = found.host_index[host] = len(found.hosts)
            found.hosts.append(host)
        return index

    def _title_parts(self, key: object) -> tuple[str, str, str]:
        """(publisher, title, version) from the cells :meth:`install_chunks` keys titles by."""
        cells = [str(c) for c in key] if isinstance(key, tuple) else [str(key)]
        title = cells.pop(0).strip()
        publisher = cells.pop(0).strip() if "publisher" in self._columns else ""
        version = cells.pop(0).strip() if "version" in self._columns else ""
        return publisher, title, version

    def _new_title(self, key: object) -> int:
        publisher, title, version = parts = self._title_parts(key)
        if not title or len(title) > MAX_TEXT or len(publisher) > 300 or len(version) > 100:
            return -1
        found = self.installs
        index = found.title_index.get(parts)
        if index is None:
            index = found.title_index[parts] = len(found.titles)
            found.titles.append(parts)
        return index

    def _bad_install(
        self, source: CellRows, cells: list[str], host_at: int, title_key: itemgetter[object]
    ) -> None:
        if not "".join(cells).strip():  # Excel writes ",,," for an empty row
            self._blank += 1
            return
        publisher, title, version = self._title_parts(title_key(cells))
        if not title and self.detection.uninstall_keys and cells[host_at].strip():
            self.nameless_keys += 1
            self._first_nameless = self._first_nameless or source.line(cells)
            return
        self._left_out += 1
        self._install_problem(source.line(cells), cells[host_at].strip(), title, publisher, version)

    def _install_date(
        self, source: CellRows, cells: list[str], date_at: int, dates: dict[str, int]
    ) -> int:
        """The index of a row's install date, or -1 when it is a problem (reported)."""
        value = cells[date_at]
        if not value.strip():
            dates[value] = 0
            return 0
        line = source.line(cells)
        ok, day = self._date(cells, "install_date", line)
        if not ok:
            self._left_out += 1
            return -1
        if day is None:  # ambiguous until the file settles the order: read again, not kept
            return 0
        found = self.installs
        # A date read is the same date for the rest of the file: the order, once settled, stays.
        index = dates[value] = len(found.dates)
        found.dates.append(day)
        return index

    def _width_problem(self, line: int, cells: list[str]) -> bool:
        """Report a row with the wrong number of fields; whether it must be skipped."""
        width = self.width
        if self._named <= len(cells) < width:
            return False  # what is missing is unnamed; no field reads it
        if len(cells) < width:
            self._add(
                Problem(
                    line,
                    "",
                    "",
                    f"the row has {len(cells)} fields; the header "
                    f"has {width} (a field is missing or a quote is misplaced)",
                )
            )
            return True
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            self._add(
                Problem(
                    line, "", extra[0], f"the row has {len(cells)} fields; the header has {width}"
                )
            )
            return True
        return False

    def _install_problem(
        self, line: int, hostname: str, title: str, publisher: str, version: str
    ) -> None:
        for key, value, limit in (
            ("hostname", hostname, 255),
            ("title", title, MAX_TEXT),
            ("publisher", publisher, 300),
            ("version", version, 100),
        ):
            if key in ("hostname", "title") and not value:
                self._bad(line, key, "", "is empty; every row needs one")
            elif len(value) > limit:
                self._bad(
                    line, key, value, f"is {len(value):,} characters long; the limit is {limit}"
                )

    def _entitlement(self, line: int, cells: list[str]) -> Record | None:
        before = self.problem_count
        vendor = self._text(cells, "vendor", line, required=True, limit=200)
        product = self._text(cells, "product", line, required=True, limit=200)
        metric: Metric | None = None
        raw_metric = self._text(cells, "metric", line, required=True) or ""
        if raw_metric:
            try:
                metric = metric_of(raw_metric)
            except ValueProblem as exc:
                self._bad(line, "metric", raw_metric, str(exc))
        _, quantity = self._number(cells, "quantity", line)
        if quantity is None and "quantity" in self._columns and self.problem_count == before:
            self._bad(line, "quantity", "", "is empty; every purchase has a quantity")
        _, start = self._date(cells, "term_start", line)
        _, end = self._date(cells, "term_end", line)
        if start and end and end < start:
            self._bad(line, "term_end", end.isoformat(), f"is before the start {start.isoformat()}")
        cost, named = self._priced(cells, "unit_cost", line)
        currency = self._currency(cells, "unit_cost", named, line)
        po = self._text(cells, "po_reference", line, required=True, limit=200)
        reseller = self._text(cells, "reseller", line, limit=200) or ""
        _, min_cores = self._number(cells, "min_cores", line, maximum=1024)
        factor = self._amount(cells, "core_factor", line)
        if factor is not None and not Decimal("0.01") <= factor <= Decimal(100):
            self._bad(line, "core_factor", f"{factor.normalize():f}", "must be from 0.01 to 100")
        factor = factor or Decimal(1)
        typed = self._text(cells, "notice_days", line, limit=64) or ""
        notices: str | None = None
        if typed:
            try:
                notices = notice_text(parse_notice_days(typed)) or None
            except ValueError as exc:
                self._bad(line, "notice_days", typed, str(exc))
        _, cancel_by = self._date(cells, "cancel_by", line)
        if cancel_by and end and cancel_by > end:
            self._bad(
                line,
                "cancel_by",
                cancel_by.isoformat(),
                f"is after the term ends {end.isoformat()}",
            )
        table = self._text(cells, "unit_table", line, limit=2000) or None
        if table is not None:
            try:
                parsed = UnitTable.parse(table)
            except ValueError as exc:
                self._bad(line, "unit_table", table, str(exc))
            else:
                table = None if parsed is None else parsed.text
                if table and metric is not None and metric is not Metric.PER_CORE:
                    self._bad(
                        line,
                        "unit_table",
                        table,
                        f"rates cores by processor: it applies to per-core purchases, not "
                        f"{metric.label.lower()}",
                    )
        if (
            self.problem_count > before
            or not (vendor and product and metric and po)
            or quantity is None
        ):
            return None
        record = EntitlementRecord(
            line,
            vendor,
            product,
            metric,
            quantity,
            start,
            end,
            cost,
            currency,
            po,
            reseller,
            min_cores or 0,
            factor,
            table,
            notices,
            cancel_by,
        )
        key = f"{vendor} / {product} / {metric.label} / {po}"
        return None if self._duplicate(key, line, record, "Purchase") else record

    def _currency(self, cells: list[str], cost_key: str, named: str, line: int) -> str:
        """The row's currency: its currency cell, else what the amount names ("$79.66").

        A symbol or code in the amount that contradicts the currency cell is a problem of the
        amount's cell.  Without a currency column, detect() points the currency at the amount's
        own column: the amount's symbol is then all there is ("" when it has none).
        """
        position = self._columns.get("currency")
        if position is None or position == self._columns.get(cost_key):
            return named
        currency = (self._text(cells, "currency", line, limit=3) or "").upper()  # "": not given
        if currency and not (len(currency) == 3 and currency.isalpha()):
            self._bad(line, "currency", currency, "is not a three-letter code such as EUR")
        elif named and currency and named != currency:
            self._bad(
                line,
                cost_key,
                cells[self._columns[cost_key]].strip(),
                f"is in {named} but the row's currency is {currency}",
            )
        return currency or named

    def _amount(self, cells: list[str], key: str, line: int) -> Decimal | None:
        return self._priced(cells, key, line)[0]

    def _priced(self, cells: list[str], key: str, line: int) -> tuple[Decimal | None, str]:
        """An amount and the currency its cell names ("" when none); a problem when not one."""
        position = self._columns.get(key)
        if position is None:
            return None, ""
        try:
            return priced(cells[position])
        except ValueProblem as exc:
            self._bad(line, key, cells[position].strip(), str(exc))
            return None, ""

    def _usage(self, line: int, cells: list[str]) -> Record | None:
        before = self.problem_count
        user = self._text(cells, "user", line, required=True, limit=200)
        feature = self._text(cells, "feature", line, required=True, limit=200)
        host = self._text(cells, "host", line, limit=255) or ""
        ambiguous = self.dates.ambiguous_count
        _, start = self._moment(cells, "checkout", line)
        if (
            start is None
            and self.problem_count == before
            and self.dates.ambiguous_count == ambiguous
        ):
            self._bad(line, "checkout", "", "is empty; every session has a checkout time")
        _, end = self._moment(cells, "checkin", line)
        if start and end and end < start:
            self._bad(line, "checkin", end.isoformat(), "is before the checkout")
        if self.problem_count > before or not user or not feature or start is None:
            return None
        return UsageRecord(line, user, feature, host, start, end)

    def _snipeit(self, line: int, cells: list[str]) -> Record | None:
        before = self.problem_count
        name = self._text(cells, "name", line, required=True, limit=200)
        # Snipe-IT requires no manufacturer; the license is still a purchase of something.
        vendor = self._text(cells, "vendor", line, limit=200) or UNKNOWN_VENDOR
        _, seats = self._number(cells, "seats", line)
        _, start = self._date(cells, "purchase_date", line)
        _, end = self._date(cells, "expiration_date", line)
        cost, named = self._priced(cells, "purchase_cost", line)
        currency = self._currency(cells, "purchase_cost", named, line)
        # The purchase order is the PO reference; the supplier's order number stands in.
        order = (
            self._text(cells, "purchase_order", line, limit=200)
            or self._text(cells, "order_number", line, limit=200)
            or ""
        )
        supplier = self._text(cells, "supplier", line, limit=200) or ""
        if seats is None and self.problem_count == before:
            self._bad(line, "seats", "", "is empty; every license has a number of seats")
        if self.problem_count > before or not name or seats is None:
            return None
        unit = (cost / seats).quantize(Decimal("0.0001")) if cost is not None and seats else None
        po = order or f"Snipe-IT: {name}"
        record = EntitlementRecord(
            line,
            vendor,
            name,
            Metric.PER_USER,
            seats,
            start,
            end,
            unit,
            currency,  # Snipe-IT keeps no currency column; "$79.66" names its own
            po,
            supplier,
            0,
            Decimal(1),
        )
        key = f"{vendor} / {name} / {po}"
        return None if self._duplicate(key, line, record, "License") else record


def _same(a: Record, b: Record) -> bool:
    return {k: v for k, v in _fields(a).items() if k != "line"} == {
        k: v for k, v in _fields(b).items() if k != "line"
    }


def _fields(record: Record) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}
