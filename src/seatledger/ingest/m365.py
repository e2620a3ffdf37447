"""The Microsoft 365 active user detail report, read as usage evidence of user subscriptions.

Microsoft 365 exports one row per user: when the report was refreshed, the user's principal name,
whether the account is deleted, one last activity date per workload (Exchange, OneDrive,
SharePoint, Skype for Business, Yammer, Teams) and the products assigned to the user
("MICROSOFT 365 E3+MICROSOFT TEAMS EXPLORATORY").  The admin center's export (Reports > Usage >
Active users > Export) and Microsoft Graph's ``getOffice365ActiveUserDetail`` (PowerShell's
``Get-MgReportOffice365ActiveUserDetail -OutFile``) write the same columns; the readers differ
in the byte-order mark and the spelling of the headers, which are compared loosely here.

What a row means (``docs/import-formats.md``, "Microsoft 365 active users"):

- each workload's last activity date is use, on that day, of every product the row assigns:
  one record per product and workload, at noon UTC of the day with no length (the report
  gives the day, not the hours: a use on that day, never a concurrent checkout);
- a product assigned with no activity date at all is no use (its seat may be shelfware);
  the notes count such users;
- activity with no product assigned is use of nothing SeatLedger can name (it may be a free or
  trial plan): reported in the notes, not recorded;
- a deleted user (``Is Deleted`` true) is reported in the notes, never evidence of current use.

A report exported while the admin center conceals names ("Display concealed user, group, and
site names in all reports") carries a 32-digit hexadecimal ID instead of each user principal
name.  It could only be imported as unknown people, so it is refused, naming the line and the
setting.  Pure: no storage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from seatledger.ingest.formats import normal
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import Problem, Table
from seatledger.text import agree, plural

FORMAT_NAME = "Microsoft 365 active user detail"
SETTING = "Display concealed user, group, and site names in all reports"
SETTING_PATH = "Microsoft 365 admin center > Settings > Org settings > Services > Reports"

WORKLOADS = ("Exchange", "OneDrive", "SharePoint", "Skype For Business", "Yammer", "Teams")

_EARLIEST = dt.date(1990, 1, 1)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A concealed name: Microsoft writes an MD5-sized hexadecimal ID where the name was.
_CONCEALED = re.compile(r"[0-9A-Fa-f]{32}")
# Products are joined by "+" with no space; "ENTERPRISE MOBILITY + SECURITY E5" keeps its own.
_PRODUCT_JOIN = re.compile(r"(?<=\S)\+(?=\S)")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})

# Loose header names (see formats.normal) and the spellings each reader writes.
_HEADERS: dict[str, tuple[str, ...]] = {
    "refreshed": ("reportrefreshdate", "dataasof", "reportdate"),
    "upn": ("userprincipalname", "upn", "username"),
    "name": ("displayname",),
    "deleted": ("isdeleted", "deleted"),
    "deleted_date": ("deleteddate",),
    "products": ("assignedproducts", "productsassigned"),
    "period": ("reportperiod", "reportingperiodindays", "reportingperiod"),
}


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a report's columns are (indexes into its header)."""

    upn: int
    refreshed: int
    products: int
    activity: tuple[tuple[str, int], ...]  # (workload, column) of each last activity date
    name: int | None = None
    deleted: int | None = None
    deleted_date: int | None = None
    period: int | None = None


def layout_of(header: Sequence[str]) -> Layout | None:
    """The report's columns, or None when the header is not the active user detail report."""
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        key = normal(cell)
        key = key.removesuffix("utc")  # "Exchange last activity date (UTC)"
        index.setdefault(key, position)
    found: dict[str, int] = {}
    for key, spellings in _HEADERS.items():
        at = next((index[s] for s in spellings if s in index), None)
        if at is not None:
            found[key] = at
    activity = tuple(
        (workload, index[f"{normal(workload)}lastactivitydate"])
        for workload in WORKLOADS
        if f"{normal(workload)}lastactivitydate" in index
    )
    if not activity or not {"upn", "refreshed", "products"} <= set(found):
        return None
    return Layout(
        upn=found["upn"],
        refreshed=found["refreshed"],
        products=found["products"],
        activity=activity,
        name=found.get("name"),
        deleted=found.get("deleted"),
        deleted_date=found.get("deleted_date"),
        period=found.get("period"),
    )


def products_of(text: str) -> list[str]:
    """The products an "Assigned Products" cell names, in order, each once."""
    seen: dict[str, str] = {}
    for part in _PRODUCT_JOIN.split(text):
        name = " ".join(part.split())
        if name:
            seen.setdefault(name.lower(), name)
    return list(seen.values())


def day_of_use(day: dt.date) -> dt.datetime:
    """The instant a day's activity is recorded at: noon UTC of the day."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@dataclass
class _Seen:
    """Users the notes name: how many, and the first one with its line."""

    count: int = 0
    first: str = ""

    def add(self, text: str) -> None:
        if not self.count:
            self.first = text
        self.count += 1


@dataclass
class ActiveUserReport:
    """Reads one report's rows as usage records; problems are appended to ``problems``.

    ``notes`` is complete once :meth:`records` has been read to its end.
    """

    table: Table
    layout: Layout
    problems: list[Problem]
    rows_read: int = 0
    records_made: int = 0
    notes: list[str] = field(default_factory=list)
    _concealed: _Seen = field(default_factory=_Seen)
    _deleted: _Seen = field(default_factory=_Seen)
    _idle: _Seen = field(default_factory=_Seen)
    _unassigned: _Seen = field(default_factory=_Seen)
    _refreshed: set[dt.date] = field(default_factory=set)
    _periods: set[str] = field(default_factory=set)

    def records(self) -> Iterator[UsageRecord]:
        """One record per assigned product and workload with a last activity date."""
        width = len(self.table.header)
        for line, read in self.table.rows:
            self.rows_read += 1
            cells = [*read, *[""] * (width - len(read))]  # a row may stop at its last value
            for record in self._row(line, cells):
                self.records_made += 1
                yield record
        self._finish()

    # -- one row --------------------------------------------------------------------------------

    def _row(self, line: int, cells: list[str]) -> list[UsageRecord]:
        layout = self.layout
        before = len(self.problems)
        upn = cells[layout.upn].strip()
        if not upn:
            self._bad(line, layout.upn, "", "is empty; every row names its user")
        elif _CONCEALED.fullmatch(upn):
            if not self._concealed.count:
                self._bad(
                    line,
                    layout.upn,
                    upn,
                    "is a concealed name, not a user principal name: Microsoft 365 conceals "
                    f"the names in its reports while '{SETTING}' is on ({SETTING_PATH}). Turn "
                    "it off, export the report again and import the new file",
                )
            self._concealed.add(upn)
            return []
        elif "@" not in upn or len(upn) > 200:
            self._bad(line, layout.upn, upn, "is not a user principal name (name@domain)")
        refreshed = self._day(cells, layout.refreshed, line, required=True)
        deleted = self._flag(cells, layout.deleted, line)
        deleted_on = self._day(cells, layout.deleted_date, line)
        if layout.period is not None and (period := cells[layout.period].strip()):
            self._periods.add(period)
        days: list[tuple[str, dt.date]] = []
        for workload, column in layout.activity:
            day = self._day(cells, column, line)
            if day is None:
                continue
            if refreshed is not None and day > refreshed:
                self._bad(
                    line,
                    column,
                    cells[column].strip(),
                    f"is after the report's refresh date {refreshed.isoformat()}",
                )
                continue
            days.append((workload, day))
        products = products_of(cells[layout.products])
        if len(self.problems) > before or refreshed is None:
            return []
        self._refreshed.add(refreshed)
        who = f"{upn}, line {line}"
        if deleted:
            self._deleted.add(who + (f", deleted {deleted_on.isoformat()}" if deleted_on else ""))
            return []
        if products and not days:
            self._idle.add(who)
        if days and not products:
            self._unassigned.add(who)
        return [
            UsageRecord(line, upn, product, workload, day_of_use(day), day_of_use(day))
            for product in products
            for workload, day in days
        ]

    # -- cells ----------------------------------------------------------------------------------

    def _day(
        self, cells: list[str], column: int | None, line: int, *, required: bool = False
    ) -> dt.date | None:
        """A YYYY-MM-DD cell; None when empty (or a problem, reported)."""
        if column is None:
            return None
        text = cells[column].strip()
        if not text:
            if required:
                self._bad(line, column, "", "is empty; every row has the report's date")
            return None
        if len(text) > 10 and text[10] in "T " and _ISO_DAY.fullmatch(text[:10]):
            text = text[:10]  # a workbook cell holding a date and midnight
        try:
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            day = dt.date.fromisoformat(text)
        except ValueError:
            self._bad(line, column, text, "is not a date written YYYY-MM-DD, as the report writes")
            return None
        latest = dt.date(dt.datetime.now(dt.UTC).year + 1, 12, 31)
        if not _EARLIEST <= day <= latest:
            self._bad(
                line,
                column,
                text,
                f"is not a plausible date (before {_EARLIEST.year} or after {latest.year})",
            )
            return None
        return day

    def _flag(self, cells: list[str], column: int | None, line: int) -> bool:
        if column is None:
            return False
        text = cells[column].strip().lower()
        if text in _TRUE:
            return True
        if text not in _FALSE:
            self._bad(line, column, cells[column].strip(), "is not True or False")
        return False

    def _bad(self, line: int, column: int, value: str, reason: str) -> None:
        self.problems.append(Problem(line, self.table.header[column], value, reason))

    # -- the whole file -------------------------------------------------------------------------

    def _finish(self) -> None:
        if not self.rows_read:
            self.problems.append(
                Problem(
                    self.table.header_line,
                    "",
                    "",
                    "the report has a header row but no users; there is nothing to import",
                )
            )
        concealed = self._concealed
        if concealed.count:
            self.problems.append(
                Problem(
                    0,
                    "",
                    "",
                    f"{concealed.count} of the {plural(self.rows_read, 'user')} are concealed "
                    "IDs, which match no person: a report with concealed names is refused whole",
                )
            )
        notes = self.notes
        if self._refreshed:
            period = f", period {'/'.join(sorted(self._periods))} days" if self._periods else ""
            notes.append(
                f"Microsoft 365 activity refreshed {max(self._refreshed).isoformat()}{period}: "
                "each workload's last activity date is recorded as use of every product the "
                "user is assigned, on that day."
            )
        for seen, what in (
            (
                self._idle,
                "{n} {have} products assigned and no activity in the report ({e}): no use, so "
                "their seats of those products may be shelfware.",
            ),
            (
                self._unassigned,
                "{n} {were} active with no product assigned ({e}): that activity is use of no "
                "product and is not recorded.",
            ),
            (
                self._deleted,
                "{n} {are} deleted in Microsoft 365 ({e}): not counted as use.",
            ),
        ):
            if seen.count:
                notes.append(
                    what.format(
                        n=plural(seen.count, "user"),
                        have=agree(seen.count, "has"),
                        were=agree(seen.count, "was"),
                        are=agree(seen.count, "is"),
                        e=("e.g. " if seen.count > 1 else "") + seen.first,
                    )
                )
