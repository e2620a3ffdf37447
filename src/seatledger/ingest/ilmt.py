"""IBM License Metric Tool (ILMT) audit snapshots: what IBM will be shown of the organization's
IBM software use, the peak of each product's metric over the snapshot's period.

The snapshot is a zip (``audit_snapshot_<date>_<time>.zip``) of CSV files with
``checksums.txt``, ``signature.rsa`` and ``pub_key.pem`` (IBM documentation, "Content of the
audit snapshot").  ``audit_snapshot_summary.csv`` holds one row per charged product: Row No.,
Publisher, Product Name, FlexPoint or Cloud Pak Bundle, Metric, Metric Quantity (the highest
number of metric units the product used in the period), Imported Part Numbers and
Recalculation Needed.  ``data_condition.txt`` says the period (Start Date, End Date) and lists,
in English and in order, every CSV file's column names: the CSV headers themselves are in the
language of the ILMT server (a Polish snapshot writes "Nazwa produktu", "Wielkość mierzona",
"Wartość wielkości mierzonej"), so a header that is not English is read by its position in that
list.  IBM advises integrations to go by column names, not order: the names are read, the
order only where the names are another language's.

``pvu_sub_capacity.csv``, where the snapshot has it, is the per-server detail behind each PVU
peak: one row per product, physical server and computer (and install), with Server Name, PVU
Per Core, Physical Server CPU Core Subcapacity and Physical Server PVU Subcapacity (the server's
PVUs at the product's peak) — the layout of the public sample snapshot of
github.com/tstopa/LMT-Explorer (``test/audit_snapshot``, Polish headers, English names in its
data_condition.txt).  Each product's figure per server is read (the highest its rows give), with
every line behind it, for the per-server reconciliation against the topology.

Pure: reads the zip, appends every problem with its file, line and column, stores nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seatledger.ingest.formats import normal
from seatledger.ingest.tabular import ImportFileError, Problem
from seatledger.ingest.values import ValueProblem, whole
from seatledger.text import plural

FORMAT_NAME = "ILMT audit snapshot"
SUMMARY = "audit_snapshot_summary.csv"
CONDITION = "data_condition.txt"
SERVERS = "pvu_sub_capacity.csv"  # per product and server (and computer): the peak's PVUs
SERVER_COLUMNS: dict[str, tuple[str, ...]] = {
    "product": ("Product Name",),
    "server": ("Server Name",),
    "pvus": ("Physical Server PVU Subcapacity",),
}
SERVER_REQUIRED = ("product", "server", "pvus")
COLUMNS: dict[str, tuple[str, ...]] = {
    "product": ("Product Name",),
    "metric": ("Metric",),
    "quantity": ("Metric Quantity",),
    "publisher": ("Publisher",),
}
REQUIRED = ("product", "metric", "quantity")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_LONG_DATE = re.compile(r"([A-Za-z]{3})[a-z]*\.? (\d{1,2}), (\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True, slots=True)
class IlmtLine:
    """One product of the summary: its metric and the peak quantity of the period."""

    line: int
    metric: str
    product: str
    quantity: int

    @property
    def pvu(self) -> bool:
        """Whether the metric is Processor Value Units (sub-capacity or full)."""
        return "pvu" in self.metric.casefold() or "processor value unit" in self.metric.casefold()


@dataclass(frozen=True, slots=True)
class IlmtServer:
    """A product's sub-capacity PVUs on one physical server at the product's peak, as
    ``pvu_sub_capacity.csv`` gives them (one row per computer and install: every line of the
    server is kept)."""

    lines: tuple[int, ...]
    product: str
    server: str
    pvus: int


@dataclass
class IlmtSnapshot:
    """What a snapshot says, and where it was read."""

    file: str
    member: str
    period_end: dt.date | None
    period_start: dt.date | None = None
    lines: list[IlmtLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    servers: list[IlmtServer] = field(default_factory=list)


def read_ilmt(path: Path, problems: list[Problem]) -> IlmtSnapshot:
    """The products and peaks of an ILMT audit snapshot.

    Raises:
        ImportFileError: the file is not a zip, or holds no audit_snapshot_summary.csv, or that
            file names no product, metric and quantity columns in any language it can be read in.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(
            f"{path.name} is not a zip ({type(exc).__name__}): an ILMT audit snapshot is the "
            "audit_snapshot_<date>_<time>.zip License Metric Tool writes."
        ) from None
    with archive:
        members = {
            Path(info.filename).name.casefold(): info.filename for info in archive.infolist()
        }
        summary = members.get(SUMMARY)
        if summary is None:
            raise ImportFileError(
                f"{path.name} holds no {SUMMARY}: is it an ILMT audit snapshot (generated on "
                "the All Metrics report)?"
            )
        text = _decode(archive.read(summary))
        condition_name = members.get(CONDITION)
        condition = _decode(archive.read(condition_name)) if condition_name else ""
        servers_name = members.get(SERVERS)
        servers = _decode(archive.read(servers_name)) if servers_name else None
    where = f"{path.name}, {SUMMARY}"
    english, start, end = _condition(condition)
    snapshot = IlmtSnapshot(path.name, SUMMARY, end, start)
    if end is None:
        problems.append(
            Problem(
                0,
                f"{path.name}, {CONDITION}",
                "",
                "no End Date of the snapshot's period (data_condition.txt says it): the peak "
                "is evidence for its period",
            )
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    columns = _columns(header)
    if not all(key in columns for key in REQUIRED):
        names = english.get(SUMMARY, [])
        if len(names) == len(header):
            columns = _columns(names)
            snapshot.notes.append(
                f"{SUMMARY}'s header is not in English; its columns were read by the names "
                f"{CONDITION} lists for them."
            )
    if not all(key in columns for key in REQUIRED):
        raise ImportFileError(
            f"{where}: no 'Product Name', 'Metric' and 'Metric Quantity' columns (and no "
            f"{CONDITION} naming them in English)."
        )

    def label(key: str) -> str:
        return f"{header[columns[key]]} ({where})"

    seen: dict[tuple[str, str], int] = {}
    left_out = 0
    for line, cell in _rows(reader, columns):
        product, metric = cell("product"), cell("metric")
        if not product:
            problems.append(Problem(line, label("product"), "", "is empty"))
            continue
        quantity = _whole(problems, line, label("quantity"), cell("quantity"))
        if quantity is None:
            continue
        key = (normal(product), normal(metric))
        if key in seen:
            problems.append(
                Problem(
                    line,
                    label("product"),
                    product,
                    f"is listed twice with metric {metric} (line {seen[key]})",
                )
            )
            continue
        seen[key] = line
        entry = IlmtLine(line, metric, product, quantity)
        if not entry.pvu:
            left_out += 1
            continue
        snapshot.lines.append(entry)
    if left_out:
        snapshot.notes.append(
            f"{plural(left_out, 'product')} measured by another metric than PVUs left out "
            "(SeatLedger computes IBM's PVU requirement only)."
        )
    if servers is None:
        snapshot.notes.append(
            f"No {SERVERS} in the snapshot: its per-server figures are not checked."
        )
    else:
        _servers(path.name, servers, english.get(SERVERS, []), snapshot, problems)
    return snapshot


def _servers(
    file: str,
    text: str,
    english: list[str],
    snapshot: IlmtSnapshot,
    problems: list[Problem],
) -> None:
    """``pvu_sub_capacity.csv``: each product's PVUs per physical server.  Its rows are per
    computer and install, each repeating its server's figure; a server's lines are kept
    together, its figure the highest they give."""
    where = f"{file}, {SERVERS}"
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    columns = _columns(header, SERVER_COLUMNS)
    if not all(key in columns for key in SERVER_REQUIRED) and len(english) == len(header):
        columns = _columns(english, SERVER_COLUMNS)
        snapshot.notes.append(
            f"{SERVERS}'s header is not in English; its columns were read by the names "
            f"{CONDITION} lists for them."
        )
    if not all(key in columns for key in SERVER_REQUIRED):
        problems.append(
            Problem(
                1,
                where,
                "",
                "no 'Product Name', 'Server Name' and 'Physical Server PVU Subcapacity' columns "
                f"(and no {CONDITION} naming them in English): the per-server figures cannot be "
                "read",
            )
        )
        return

    def label(key: str) -> str:
        return f"{header[columns[key]]} ({where})"

    found: dict[tuple[str, str], tuple[str, str, list[int], int]] = {}
    for line, cell in _rows(reader, columns):
        product, server = cell("product"), cell("server")
        if not product:
            problems.append(Problem(line, label("product"), "", "is empty"))
            continue
        if not server:
            problems.append(Problem(line, label("server"), "", "is empty"))
            continue
        pvus = _whole(problems, line, label("pvus"), cell("pvus"))
        if pvus is None:
            continue
        key = (normal(product), normal(server))
        _, _, lines, most = found.get(key, (product, server, [], 0))
        found[key] = (product, server, [*lines, line], max(most, pvus))
    snapshot.servers = [
        IlmtServer(tuple(lines), product, server, pvus)
        for product, server, lines, pvus in found.values()
    ]
    products = {normal(s.product) for s in snapshot.servers}
    snapshot.notes.append(
        f"{SERVERS}: {plural(len(snapshot.servers), 'server figure')} of "
        f"{plural(len(products), 'product')} read (checked per server against the topology)."
    )


def _decode(data: bytes) -> str:
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _columns(header: list[str], known: dict[str, tuple[str, ...]] = COLUMNS) -> dict[str, int]:
    found: dict[str, int] = {}
    for position, cell in enumerate(header):
        folded = normal(cell)
        for key, names in known.items():
            if key not in found and folded in {normal(n) for n in names}:
                found[key] = position
    return found


def _condition(text: str) -> tuple[dict[str, list[str]], dt.date | None, dt.date | None]:
    """data_condition.txt: each CSV file's English column names, and the period's dates."""
    names: dict[str, list[str]] = {}
    start = end = None
    lines = text.splitlines()
    in_columns = False
    current: list[str] | None = None
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        depth = len(raw) - len(raw.lstrip("\t"))
        if depth == 0:
            in_columns = stripped.casefold().startswith("csv files column names")
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            if stripped.casefold() == "start date:":
                start = _date(following)
            elif stripped.casefold() == "end date:":
                end = _date(following)
            continue
        if not in_columns:
            continue
        if depth == 1:
            current = names.setdefault(stripped.casefold(), [])
        elif depth >= 2 and current is not None:
            current.append(stripped)
    return names, start, end


def _date(text: str) -> dt.date | None:
    match = _LONG_DATE.fullmatch(text.strip())
    try:
        if match:
            month = _MONTHS.get(match.group(1).casefold())
            return dt.date(int(match.group(3)), month, int(match.group(2))) if month else None
        match = _ISO_DATE.fullmatch(text.strip())
        if match:
            return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    return None


def _rows(reader: Any, columns: dict[str, int]) -> Iterator[tuple[int, Callable[[str], str]]]:
    """Each row of ``reader`` holding a value: its line, and its cells by column key (stripped;
    empty where the row is short)."""
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue

        def cell(key: str, cells: list[str] = cells) -> str:
            at = columns.get(key)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        yield reader.line_num, cell


def _whole(problems: list[Problem], line: int, field: str, text: str) -> int | None:
    """A row's whole number, or None with the problem said (not a number, or empty)."""
    try:
        value = whole(text, 0, 1_000_000_000)
    except ValueProblem as exc:
        problems.append(Problem(line, field, text, str(exc)))
        return None
    if value is None:
        problems.append(Problem(line, field, "", "is empty"))
    return value
