"""The vendors' per-core tables as data files: Oracle's core factors and IBM's PVUs per core.

Each file is a CSV that says first what it is, in ``# key: value`` lines: ``table`` (its name),
``effective`` (the date of the vendor's table it transcribes, YYYY-MM-DD) and ``source`` (where
the vendor publishes it); then a header row and one row per processor class.  A processor class
is matched against a host's processor model as :class:`seatledger.domain.licensing.UnitTable`
matches it (whole words, ``*`` for any text; the first matching row wins), so a row for
``Xeon`` rates "Intel(R) Xeon(R) Gold 6338".  A processor no row matches is not rated: the
rules count it apart, never at a guessed rate.

A malformed file is refused whole, naming the file, the line and the field: a table that rates
one processor wrongly would misstate every server that has it.  The files SeatLedger ships are
under ``resources/licensing/``; another edition of a vendor's table is loaded with the same
functions.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from seatledger.domain.licensing import UnitTable, processor_key
from seatledger.errors import KnownError
from seatledger.resources import resource_path

ORACLE_FILE = "oracle-core-factors.csv"
IBM_PVU_FILE = "ibm-pvu-per-core.csv"
_META_KEYS = ("table", "effective", "source")
_ORACLE_HEADER = ("vendor", "processor", "core_factor")
_PVU_HEADER = ("vendor", "processor", "max_sockets", "pvu_per_core")


class TableError(KnownError):
    """A vendor table file that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class TableInfo:
    """What a table file says of itself."""

    name: str
    effective: dt.date
    source: str
    file: str

    @property
    def cited(self) -> str:
        """The table as a reason cites it: "Oracle Processor Core Factor Table of 2024-03-05"."""
        return f"{self.name} of {self.effective.isoformat()}"


@dataclass(frozen=True, slots=True)
class CoreFactorTable:
    """Oracle's Processor Core Factor Table: the factor each processor's cores count for."""

    info: TableInfo
    factors: UnitTable

    def factor_for(self, model: str | None) -> Decimal | None:
        """The core factor of a processor ``model``; None when it is unknown or not in the table."""
        return self.factors.rate_for(model)


@dataclass(frozen=True, slots=True)
class PvuTable:
    """IBM's Processor Value Units per core, by processor and the sockets the server model takes.

    ``tiers`` pairs the largest number of sockets a server model may take (None: more than the
    largest bound, IBM's ">4") with the rates for such servers, smallest bound first.
    """

    info: TableInfo
    tiers: tuple[tuple[int | None, UnitTable], ...]

    def rate_for(self, model: str | None, max_sockets: int | None) -> tuple[Decimal | None, str]:
        """PVUs per core of a processor ``model`` in a server taking ``max_sockets`` processors.

        Where the server model's sockets are unknown, the highest rate the table gives the
        processor applies, and the note says so: IBM's License Metric Tool does the same when
        it cannot identify the rate ("Default PVU counting on x86 processors").  (None, "")
        when the table does not rate the processor.
        """
        if max_sockets is not None:
            for bound, rates in self.tiers:
                if bound is None or max_sockets <= bound:
                    rate = rates.rate_for(model)
                    if rate is not None:
                        return rate, ""
            return None, ""
        found = [rate for _, rates in self.tiers if (rate := rates.rate_for(model)) is not None]
        if not found:
            return None, ""
        highest = max(found)
        if len(set(found)) == 1:
            return highest, ""
        return highest, (
            f"the sockets the server model takes are not recorded: {highest:f} PVUs per core, "
            "the highest rate of its processor, as IBM's License Metric Tool applies"
        )


def shipped_core_factors() -> CoreFactorTable:
    """The Oracle core factor table SeatLedger ships (``resources/licensing``)."""
    return load_core_factor_table(resource_path("licensing", ORACLE_FILE))


def shipped_pvu_table() -> PvuTable:
    """The IBM PVU table SeatLedger ships (``resources/licensing``)."""
    return load_pvu_table(resource_path("licensing", IBM_PVU_FILE))


def load_core_factor_table(path: Path) -> CoreFactorTable:
    """Read an Oracle core factor table file.

    Raises:
        TableError: the file is missing, lacks its table, effective date or source, has another
            header, or a row whose processor is empty or given twice, or whose factor is not a
            number above 0 and at most 1; the message names the file, the line and the field.
    """
    info, rows = _read(path, _ORACLE_HEADER)
    rates: list[tuple[str, Decimal]] = []
    for line, cells in rows:
        processor = _processor(path, line, cells)
        factor = _decimal(path, line, "core_factor", cells[2], maximum=Decimal(1))
        _unique(path, line, processor, rates)
        rates.append((processor, factor))
    return CoreFactorTable(info, UnitTable(tuple(rates)))


def load_pvu_table(path: Path) -> PvuTable:
    """Read an IBM PVU table file (``max_sockets`` is a whole number, or ``>N`` for more).

    Raises:
        TableError: as :func:`load_core_factor_table`, and for a ``max_sockets`` that is not a
            whole number or ``>N``, or PVUs per core that are not a whole number from 1 to 1,000.
    """
    info, rows = _read(path, _PVU_HEADER)
    tiers: dict[int | None, list[tuple[str, Decimal]]] = {}
    open_above: int | None = None
    for line, cells in rows:
        processor = _processor(path, line, cells)
        bound_text = cells[2].strip()
        bound: int | None
        if bound_text.startswith(">") and bound_text[1:].strip().isdigit():
            bound = None
            above = int(bound_text[1:])
            if open_above is not None and above != open_above:
                raise _error(
                    path, line, "max_sockets", bound_text, f"the table already says '>{open_above}'"
                )
            open_above = above
        elif bound_text.isdigit() and int(bound_text) >= 1:
            bound = int(bound_text)
        else:
            raise _error(
                path,
                line,
                "max_sockets",
                bound_text,
                "is not the sockets a server model takes: a whole number from 1, or '>N' for more",
            )
        pvus = _decimal(path, line, "pvu_per_core", cells[3], maximum=Decimal(1000))
        if pvus != pvus.to_integral_value():
            raise _error(path, line, "pvu_per_core", cells[3].strip(), "is not a whole number")
        rates = tiers.setdefault(bound, [])
        _unique(path, line, processor, rates)
        rates.append((processor, pvus))
    bounds = sorted(b for b in tiers if b is not None)
    if open_above is not None and bounds and bounds[-1] > open_above:
        raise TableError(
            f"{path.name}: a tier of {bounds[-1]} sockets lies inside '>{open_above}'; "
            "the tiers must not overlap"
        )
    ordered: list[tuple[int | None, UnitTable]] = [(b, UnitTable(tuple(tiers[b]))) for b in bounds]
    if None in tiers:
        ordered.append((None, UnitTable(tuple(tiers[None]))))
    return PvuTable(info, tuple(ordered))


def _read(path: Path, header: tuple[str, ...]) -> tuple[TableInfo, list[tuple[int, list[str]]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TableError(f"{path.name}: no such file ({path}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TableError(f"{path.name} cannot be read as UTF-8 text ({exc}).") from None
    lines = text.splitlines()
    meta: dict[str, tuple[int, str]] = {}
    read = 0  # the '#' lines read; the header row is the next line
    while read < len(lines) and lines[read].startswith("#"):
        text_line = lines[read]
        read += 1
        key, colon, value = text_line[1:].partition(":")
        key = key.strip().lower()
        if not colon or key not in _META_KEYS:
            raise _error(
                path, read, "", text_line, "is not '# table: …', '# effective: …' or '# source: …'"
            )
        if key in meta:
            raise _error(path, read, key, value.strip(), f"is given twice (line {meta[key][0]})")
        meta[key] = (read, value.strip())
    number = read + 1  # the header row's line
    for key in _META_KEYS:
        if not meta.get(key, (0, ""))[1]:
            raise TableError(
                f"{path.name}: says no {key} ('# {key}: …' before the header row); a vendor "
                "table without its name, effective date and source cannot be cited"
            )
    effective_line, effective_text = meta["effective"]
    try:
        effective = dt.date.fromisoformat(effective_text)
    except ValueError:
        raise _error(
            path, effective_line, "effective", effective_text, "is not a date written YYYY-MM-DD"
        ) from None
    info = TableInfo(meta["table"][1], effective, meta["source"][1], path.name)
    body = lines[read:]
    reader = csv.reader(body, strict=True)
    try:
        found = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise TableError(f"{path.name}: has no header row after its '#' lines.") from None
    except csv.Error as exc:
        raise _error(path, number, "", body[0], f"cannot be read as CSV ({exc})") from None
    if tuple(found) != header:
        raise _error(path, number, "", ",".join(found), f"is not the header '{','.join(header)}'")
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            line = read + reader.line_num  # the row's last line (body starts after the '#' lines)
            if not "".join(cells).strip():
                continue
            if len(cells) != len(header):
                raise _error(
                    path,
                    line,
                    "",
                    ",".join(cells),
                    f"has {len(cells)} fields; the header has {len(header)}",
                )
            rows.append((line, cells))
    except csv.Error as exc:
        raise TableError(f"{path.name}: cannot be read as CSV ({exc}).") from None
    if not rows:
        raise TableError(f"{path.name}: has a header but no rows; it rates no processor.")
    return info, rows


def _processor(path: Path, line: int, cells: list[str]) -> str:
    processor = " ".join(cells[1].split())
    if not processor:
        raise _error(path, line, "processor", "", "is empty; every row names a processor class")
    return processor


def _decimal(path: Path, line: int, field: str, text: str, *, maximum: Decimal) -> Decimal:
    value = text.strip()
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or number <= 0 or number > maximum:
        raise _error(path, line, field, value, f"is not a number above 0 and at most {maximum:f}")
    return number.normalize()


def _unique(path: Path, line: int, processor: str, rates: list[tuple[str, Decimal]]) -> None:
    if any(processor_key(processor) == processor_key(seen) for seen, _ in rates):
        raise _error(path, line, "processor", processor, "is rated twice")


def _error(path: Path, line: int, field: str, value: str, reason: str) -> TableError:
    where = f"{path.name}, line {line}" + (f", {field}" if field else "")
    shown = f" ('{value}')" if value else ""
    return TableError(f"{where}{shown}: {reason}.")
