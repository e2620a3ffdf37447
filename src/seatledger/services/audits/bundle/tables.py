"""The bundle's tables of licenses, deployments, seats and the imports under them, as CSV
(UTF-8 with a BOM).

The writer's process writes them (:func:`write_tables`) once it has checked the audit's scope,
while the export's ledger helper process is still checking the whole ledger (the longer of the
two).  People and devices appear as keyed-hash pseudonyms (:class:`Pseudonyms`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from seatledger.services.directory.memberships import held_on
from seatledger.services.position.engine import CONCURRENT_WINDOW_DAYS, end_of, installed
from seatledger.services.position.evidence import SOURCE_HEADERS as EXPORT_SOURCE_HEADERS
from seatledger.services.position.evidence import import_batches
from seatledger.services.position.export import safe_text
from seatledger.services.position.sources import LINE_NOT_RECORDED, line_cells, line_ranges
from seatledger.services.usage.sessions import out_during
from seatledger.store import models as m

ENTITLEMENTS_CSV = "entitlements.csv"
DEPLOYMENTS_CSV = "deployments.csv"
SEATS_CSV = "seat-assignments.csv"
SOURCES_CSV = "sources.csv"
_CHUNK = 1 << 20
_ROWS = 20_000
_NO_BATCH: tuple[str, str, str, dt.datetime | None] = ("", "", "", None)  # an import not found

ENTITLEMENT_HEADERS = (
    "Entitlement id",
    "Product",
    "Name",
    "Metric",
    "Quantity",
    "Min cores per processor",
    "Core factor",
    "Units per core by processor",
    "Term start",
    "Term end",
    "Unit cost",
    "Currency",
    "PO reference",
    "Reseller",
    "Seats used",
    "Retired",
)
DEPLOYMENT_HEADERS = (
    "Product",
    "Device",
    "Owner",
    "Processors",
    "Cores",
    "Processor model",
    "Publisher",
    "Title",
    "Version",
    "First seen",
    "Install date",
    "Import id",
    "Line",
)
SEAT_HEADERS = (
    "Assignment id",
    "Entitlement id",
    "Product",
    "Metric",
    "Holder kind",
    "Holder",
    "Holder name",
    "Team",
    "Units",
    "Started",
    "Over-commit",
    "Over-commit reason",
)


# The position export's sources.csv columns but the vendor's (a bundle is one vendor's).
SOURCE_HEADERS = EXPORT_SOURCE_HEADERS[1:]
_EVIDENCE = {  # evidence -> the figures of the position it feeds
    "installs": "needed, unlicensed (per device, per core, per processor, named user)",
    "checkouts": f"needed (concurrent: the peak over the {CONCURRENT_WINDOW_DAYS} days)",
    "refused checkouts": "the denial finding (the pool was too small)",
}


def when(moment: dt.datetime | None) -> str:
    """A moment as ISO 8601 UTC (storage without a zone holds UTC)."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat("T", "seconds") + "Z"


def day(value: dt.date | None) -> str:
    """A date as ISO 8601, or empty."""
    return "" if value is None else value.isoformat()


_PREFIXES = {"person": "P", "host": "H", "cluster": "K"}


class Pseudonyms:
    """Keyed-hash (HMAC-SHA256) names for people and devices; the key is sealed with the signing
    identity and never leaves the database."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key
        self._cache: dict[str, str] = {}

    @property
    def active(self) -> bool:
        """Whether names are replaced."""
        return self._key is not None

    def name(self, kind: str, ident: str) -> str:
        """``P-…`` for a person (by employee id), ``D-…`` for a device (by host name), ``H-…``
        for a server host and ``K-…`` for a cluster (by name)."""
        if self._key is None:
            return ident
        token = f"{kind}:{ident}"
        value = self._cache.get(token)
        if value is None:
            digest = hmac.digest(self._key, token.encode("utf-8"), "sha256").hex()
            value = f"{_PREFIXES.get(kind, 'D')}-{digest[:16]}"
            self._cache[token] = value
        return value


class FileSink(Protocol):
    """Where a table is written: ``file(name)`` gives a writer of its bytes."""

    def file(self, name: str) -> AbstractContextManager[Callable[[bytes], None]]:
        """A writer for one file."""
        ...


class Csv:
    """CSV rows buffered into chunks (UTF-8 with a BOM, so Excel reads accents right)."""

    def __init__(self, write: Callable[[bytes], None], headers: Sequence[str]) -> None:
        self._write = write
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer)
        self.rows = 0
        self._buffer.write("\ufeff")
        self._csv.writerow(headers)

    def row(self, cells: Iterable[Any]) -> None:
        """One row: text escaped against formula injection, None empty, amounts exact."""
        self._csv.writerow([cell(v) for v in cells])
        self.rows += 1
        if self._buffer.tell() > _CHUNK:
            self.flush()

    def plain(self, cells: list[Any]) -> None:
        """One row whose cells the caller already made safe (the fast path for big tables)."""
        self._csv.writerow(cells)
        self.rows += 1
        if self.rows % 4096 == 0 and self._buffer.tell() > _CHUNK:
            self.flush()

    def flush(self) -> None:
        """Hand what is buffered to the file."""
        self._write(self._buffer.getvalue().encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()


def cell(value: Any) -> Any:
    """A value as a CSV cell: text escaped against formula injection, None empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return when(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class TableScope:
    """What the tables list: the vendor's products, narrowed to teams when named."""

    vendor_id: int
    product_ids: tuple[int, ...]
    team_ids: tuple[int, ...]


def chunks(ids: Sequence[int], size: int = 5000) -> Iterator[Sequence[int]]:
    """``ids`` a slice of ``size`` at a time."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def write_tables(
    session: Session, out: FileSink, scope: TableScope, as_of: dt.date, names: Pseudonyms
) -> dict[str, int]:
    """Write entitlements.csv, deployments.csv, seat-assignments.csv and sources.csv into
    ``out``; returns their rows under report.json's names for them (sources.csv last: it lists
    the imports behind the deployments as they were written)."""
    evidence = Evidence()
    return {
        "entitlements": _write_entitlements(session, out, scope),
        "deployments": _write_deployments(session, out, scope, as_of, names, evidence),
        "seat_assignments": _write_seats(session, out, scope, as_of, names),
        "sources": _write_sources(session, out, scope, as_of, evidence),
    }


class Evidence:
    """The import lines each product's figures rest on: (product, evidence, import) -> the
    lines read there (0: imported before lines were kept)."""

    def __init__(self) -> None:
        self.lines: dict[tuple[str, str, int], array[int]] = {}

    def add(self, product: str, evidence: str, import_id: int, line: int | None) -> None:
        """One row read from line ``line`` of import ``import_id``."""
        key = (product, evidence, import_id)
        found = self.lines.get(key)
        if found is None:
            found = self.lines[key] = array("q")
        found.append(line or 0)


def _write_entitlements(session: Session, out: FileSink, scope: TableScope) -> int:
    with out.file(ENTITLEMENTS_CSV) as write:
        table = Csv(write, ENTITLEMENT_HEADERS)
        for pids in chunks(scope.product_ids):
            query = (
                select(
                    m.Entitlement.id,
                    m.Product.name,
                    m.Entitlement.name,
                    m.Entitlement.metric,
                    m.Entitlement.quantity,
                    m.Entitlement.min_cores_per_processor,
                    m.Entitlement.core_factor,
                    m.Entitlement.unit_table,
                    m.Entitlement.term_start,
                    m.Entitlement.term_end,
                    m.Entitlement.unit_cost,
                    m.Entitlement.currency,
                    m.Entitlement.po_reference,
                    m.Entitlement.reseller,
                    m.Entitlement.seats_used,
                    m.Entitlement.retired,
                )
                .join(m.Product, m.Product.id == m.Entitlement.product_id)
                .where(m.Entitlement.product_id.in_(pids))
                .order_by(m.Product.name, m.Entitlement.id)
            )
            for row in session.execute(query):
                table.row(row)
        table.flush()
    return table.rows


def _write_deployments(  # noqa: PLR0917 (the tables' shared state, passed through)
    session: Session,
    out: FileSink,
    scope: TableScope,
    as_of: dt.date,
    names: Pseudonyms,
    evidence: Evidence,
) -> int:
    owner = aliased(m.Person)
    owner_team = aliased(m.PersonTeam)
    with out.file(DEPLOYMENTS_CSV) as write:
        table = Csv(write, DEPLOYMENT_HEADERS)
        for pids in chunks(scope.product_ids, 500):
            query = (
                select(
                    m.Product.name,
                    m.Device.hostname,
                    owner.employee_id,
                    m.Device.processors,
                    m.Device.cores,
                    m.Device.processor_model,
                    m.SoftwareTitle.publisher,
                    m.SoftwareTitle.title,
                    m.SoftwareTitle.version,
                    m.Installation.first_seen,
                    m.Installation.install_date,
                    m.Installation.import_id,
                    m.Installation.source_line,
                )
                .select_from(m.Installation)
                .join(m.SoftwareTitle, m.SoftwareTitle.id == m.Installation.title_id)
                .join(m.Product, m.Product.id == m.SoftwareTitle.product_id)
                .join(m.Device, m.Device.id == m.Installation.device_id)
                .outerjoin(owner, owner.id == m.Device.owner_id)
                .where(m.SoftwareTitle.product_id.in_(pids), installed(as_of))
                .order_by(m.Product.name, m.Device.hostname, m.SoftwareTitle.title)
            )
            if scope.team_ids:  # the owner's team on the report's day
                query = query.join(owner_team, held_on(as_of, m.Device.owner_id, owner_team)).where(
                    owner_team.team_id.in_(scope.team_ids)
                )
            name = names.name
            seen = evidence.add
            rows = session.connection().execute(query.execution_options(yield_per=_ROWS))
            for (
                product,
                host,
                employee,
                processors,
                cores,
                model,
                publisher,
                title,
                version,
                first_seen,
                install_date,
                import_id,
                line,
            ) in rows:
                seen(product, "installs", import_id, line)
                table.plain(
                    [
                        safe_text(product),
                        name("device", host),
                        "" if employee is None else name("person", employee),
                        processors,
                        cores,
                        safe_text(model or ""),
                        safe_text(publisher),
                        safe_text(title),
                        safe_text(version),
                        day(first_seen),
                        day(install_date),
                        import_id,
                        line,
                    ]
                )
        table.flush()
    return table.rows


def _write_seats(
    session: Session, out: FileSink, scope: TableScope, as_of: dt.date, names: Pseudonyms
) -> int:
    moment = end_of(as_of)
    # The holder's team, and a device's owner's, on the report's day.
    held, owned = aliased(m.PersonTeam), aliased(m.PersonTeam)
    with out.file(SEATS_CSV) as write:
        table = Csv(write, SEAT_HEADERS)
        for pids in chunks(scope.product_ids, 500):
            query = (
                select(
                    m.SeatAssignment.id,
                    m.SeatAssignment.entitlement_id,
                    m.Product.name,
                    m.Entitlement.metric,
                    m.Person.employee_id,
                    m.Person.name,
                    m.Device.hostname,
                    m.Team.name,
                    m.SeatAssignment.units,
                    m.SeatAssignment.started_at,
                    m.SeatAssignment.over_commit,
                    m.SeatAssignment.over_commit_reason,
                )
                .select_from(m.SeatAssignment)
                .join(m.Entitlement, m.Entitlement.id == m.SeatAssignment.entitlement_id)
                .join(m.Product, m.Product.id == m.Entitlement.product_id)
                .outerjoin(m.Person, m.Person.id == m.SeatAssignment.person_id)
                .outerjoin(m.Device, m.Device.id == m.SeatAssignment.device_id)
                .outerjoin(held, held_on(as_of, m.SeatAssignment.person_id, held))
                .outerjoin(m.Team, m.Team.id == held.team_id)
                .where(
                    m.Entitlement.product_id.in_(pids),
                    m.SeatAssignment.started_at < moment,
                    or_(m.SeatAssignment.ended_at.is_(None), m.SeatAssignment.ended_at >= moment),
                )
                .order_by(m.Product.name, m.SeatAssignment.id)
            )
            if scope.team_ids:
                query = query.outerjoin(owned, held_on(as_of, m.Device.owner_id, owned)).where(
                    or_(
                        held.team_id.in_(scope.team_ids),
                        and_(m.Device.id.is_not(None), owned.team_id.in_(scope.team_ids)),
                    )
                )
            name = names.name
            hidden = names.active
            # Untyped rows: person and device are outer-joined, so either side may be None.
            rows: Iterable[tuple[Any, ...]] = session.connection().execute(
                query.execution_options(yield_per=_ROWS)
            )
            for (
                seat_id,
                entitlement_id,
                product,
                metric,
                employee,
                person_name,
                hostname,
                team,
                units,
                started_at,
                over_commit,
                over_commit_reason,
            ) in rows:
                if employee is not None:
                    kind, holder = "person", name("person", employee)
                    label = "" if hidden else safe_text(person_name)
                else:
                    kind, holder, label = "device", name("device", hostname), ""
                table.plain(
                    [
                        seat_id,
                        entitlement_id,
                        safe_text(product),
                        metric,
                        kind,
                        holder,
                        label,
                        "" if team is None else safe_text(team),
                        units,
                        when(started_at),
                        "yes" if over_commit else "no",
                        safe_text(over_commit_reason),
                    ]
                )
        table.flush()
    return table.rows


def _write_sources(
    session: Session, out: FileSink, scope: TableScope, as_of: dt.date, evidence: Evidence
) -> int:
    """sources.csv: per product and kind of evidence, every import its figures rest on (file,
    SHA-256, when) and the lines read there.  The installs are deployments.csv's; the
    checkouts and refusals are those of the concurrent window before the report's day (for
    teams, those of people in them on the day)."""
    moment = end_of(as_of)
    start = moment - dt.timedelta(days=CONCURRENT_WINDOW_DAYS)
    held = aliased(m.PersonTeam)
    for pids in chunks(scope.product_ids, 500):
        usage = (
            select(m.Product.name, m.UsageSession.import_id, m.UsageSession.source_line)
            .join(m.Product, m.Product.id == m.UsageSession.product_id)
            .where(m.UsageSession.product_id.in_(pids), out_during(start, moment))
        )
        refused = (
            select(m.Product.name, m.UsageDenial.import_id, m.UsageDenial.line)
            .join(m.Product, m.Product.id == m.UsageDenial.product_id)
            .where(
                m.UsageDenial.product_id.in_(pids),
                m.UsageDenial.capacity.is_(True),
                m.UsageDenial.denied_at >= start,
                m.UsageDenial.denied_at < moment,
            )
        )
        if scope.team_ids:
            usage = usage.join(held, held_on(as_of, m.UsageSession.person_id, held)).where(
                held.team_id.in_(scope.team_ids)
            )
            refused = refused.join(held, held_on(as_of, m.UsageDenial.person_id, held)).where(
                held.team_id.in_(scope.team_ids)
            )
        for kind, query in (("checkouts", usage), ("refused checkouts", refused)):
            for product, import_id, line in session.connection().execute(
                query.execution_options(yield_per=_ROWS)
            ):
                evidence.add(product, kind, import_id, line)
    batches = import_batches(session, {key[2] for key in evidence.lines})
    order = list(_EVIDENCE)
    with out.file(SOURCES_CSV) as write:
        table = Csv(write, SOURCE_HEADERS)
        for product, kind, import_id in sorted(
            evidence.lines, key=lambda k: (k[0], order.index(k[1]), k[2])
        ):
            lines = evidence.lines[(product, kind, import_id)]
            file_name, sha256, fmt, imported_at = batches.get(import_id, _NO_BATCH)
            unlined = lines.count(0)
            ranges = line_ranges(lines)
            for cell_text in line_cells(ranges) if ranges else [LINE_NOT_RECORDED]:
                table.row(
                    [
                        product,
                        kind,
                        _EVIDENCE[kind],
                        import_id,
                        file_name,
                        sha256,
                        fmt,
                        imported_at,
                        len(lines),
                        unlined,
                        cell_text,
                    ]
                )
        table.flush()
    return table.rows
