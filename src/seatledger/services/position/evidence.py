"""The sources a position's figures rest on, per product: the position export's Sources sheet
(or the CSV beside the position, or its JSON's ``sources``), as the audit bundle's sources.csv.

Each row is one kind of evidence of one product from one import (its file, SHA-256, format, when,
how many rows and which lines), or what was entered by hand (the ledger entries, or for seats how
many: each seat's entry is in the drill-down).
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seatledger.services.position.periods import (
    CONCURRENT_WINDOW_DAYS,
    end_of,
    in_term,
    installed,
    seat_open,
)
from seatledger.services.position.sources import (
    LINE_NOT_RECORDED,
    SOURCE_NOT_RECORDED,
    line_cells,
    line_ranges,
)
from seatledger.services.usage.sessions import out_during
from seatledger.store.models import (
    Entitlement,
    ImportBatch,
    Installation,
    LedgerEntry,
    SeatAssignment,
    SoftwareTitle,
    UsageDenial,
    UsageSession,
)

SOURCE_HEADERS = (
    "Vendor",
    "Product",
    "Evidence",
    "Figures it feeds",
    "Import id",
    "File",
    "SHA-256",
    "Format",
    "Imported at",
    "Rows",
    "Rows without a line",
    "Lines",
)
EVIDENCE = {  # evidence -> the figures of the position it feeds, in the order listed
    "purchases": "rights owned",
    "seats": "rights assigned",
    "installs": "rights needed, unlicensed installs (per device, core, processor, named user)",
    "checkouts": f"rights needed (concurrent: the peak over the {CONCURRENT_WINDOW_DAYS} days)",
    "refused checkouts": "the denial finding (the pool was too small)",
}
_CHUNK = 500
_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One kind of evidence of one product from one import (``import_id`` None: by hand)."""

    vendor: str
    product: str
    evidence: str
    import_id: int | None
    file_name: str
    sha256: str
    format: str
    imported_at: dt.datetime | None
    rows: int
    unlined: int
    lines: str

    @property
    def figures(self) -> str:
        """The figures of the position this evidence feeds."""
        return EVIDENCE[self.evidence]

    def cells(self) -> list[Any]:
        """The row as SOURCE_HEADERS' cells."""
        return [
            self.vendor,
            self.product,
            self.evidence,
            self.figures,
            self.import_id,
            self.file_name,
            self.sha256,
            self.format,
            None if self.imported_at is None else self.imported_at.isoformat(),
            self.rows,
            self.unlined,
            self.lines,
        ]

    def as_json(self) -> dict[str, Any]:
        """The row as plain JSON values."""
        return dict(zip(_JSON_KEYS, self.cells(), strict=True))


_JSON_KEYS = (
    "vendor",
    "product",
    "evidence",
    "figures",
    "import_id",
    "file",
    "sha256",
    "format",
    "imported_at",
    "rows",
    "rows_without_line",
    "lines",
)


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for at in range(0, len(ids), _CHUNK):
        yield ids[at : at + _CHUNK]


def position_sources(
    session: Session, day: dt.date, names: dict[int, tuple[str, str]]
) -> list[SourceRow]:
    """The imports (and hand entries) each product of a position on ``day`` rests on: ``names``
    holds its products (id -> vendor, product)."""
    moment = end_of(day)
    start = moment - dt.timedelta(days=CONCURRENT_WINDOW_DAYS)
    pids = sorted(names)
    lines: dict[tuple[int, str, int | None], array[int]] = {}

    def read(evidence: str, query: Any) -> None:  # a Select of (product, import, line)
        for chunk in _chunks(pids):
            rows = session.execute(
                query.where(query.selected_columns[0].in_(chunk)).execution_options(yield_per=_ROWS)
            )
            for pid, import_id, line in rows:
                key = (int(pid), evidence, import_id)
                found = lines.get(key)
                if found is None:
                    found = lines[key] = array("q")
                found.append(line or 0)

    read(
        "purchases",
        select(Entitlement.product_id, Entitlement.import_id, Entitlement.source_line).where(
            in_term(day)
        ),
    )
    read(
        "seats",
        select(Entitlement.product_id, SeatAssignment.import_id, SeatAssignment.source_line)
        .join(Entitlement, Entitlement.id == SeatAssignment.entitlement_id)
        .where(seat_open(moment)),
    )
    read(
        "installs",
        select(SoftwareTitle.product_id, Installation.import_id, Installation.source_line)
        .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
        .where(installed(day)),
    )
    read(
        "checkouts",
        select(UsageSession.product_id, UsageSession.import_id, UsageSession.source_line).where(
            out_during(start, moment)
        ),
    )
    read(
        "refused checkouts",
        select(UsageDenial.product_id, UsageDenial.import_id, UsageDenial.line).where(
            UsageDenial.capacity.is_(True),
            UsageDenial.denied_at >= start,
            UsageDenial.denied_at < moment,
        ),
    )
    batches = import_batches(session, {key[2] for key in lines if key[2] is not None})
    by_hand = _hand_purchases(session, pids, day)
    order = list(EVIDENCE)
    found: list[SourceRow] = []
    for pid, evidence, import_id in sorted(
        lines,
        key=lambda k: (
            names[k[0]][1].lower(),
            names[k[0]][0].lower(),
            k[0],
            order.index(k[1]),
            k[2] is None,  # what was entered by hand after the imports
            k[2] or 0,
        ),
    ):
        vendor, product = names[pid]
        read_lines = lines[(pid, evidence, import_id)]
        if import_id is None:
            found.append(_by_hand(vendor, product, evidence, len(read_lines), by_hand.get(pid)))
            continue
        batch = batches.get(import_id)
        unlined = read_lines.count(0)
        ranges = line_ranges(read_lines)
        # A long list of lines continues on further rows of the same import (a cell's limit).
        for cell in line_cells(ranges) if ranges else [_unlined(evidence)]:
            found.append(
                SourceRow(
                    vendor,
                    product,
                    evidence,
                    import_id,
                    "" if batch is None else batch[0],
                    "" if batch is None else batch[1],
                    "" if batch is None else batch[2],
                    None if batch is None else batch[3],
                    len(read_lines),
                    unlined,
                    cell,
                )
            )
    return found


def _unlined(evidence: str) -> str:
    return SOURCE_NOT_RECORDED if evidence in {"purchases", "seats"} else LINE_NOT_RECORDED


def _by_hand(
    vendor: str, product: str, evidence: str, rows: int, entries: list[int] | None
) -> SourceRow:
    """What no import gave: purchases name their ledger entries, seats say where to look."""
    if evidence == "purchases":
        known = entries or []
        text = (
            "entered or last changed by hand: ledger entr"
            + ("y " if len(known) == 1 else "ies ")
            + ", ".join(f"#{seq:,}" for seq in known)
            if known
            else SOURCE_NOT_RECORDED
        )
        if known and len(known) < rows:
            text += f"; {rows - len(known)} more: {SOURCE_NOT_RECORDED}"
    else:
        text = (
            "assigned by hand (or before schema 0029 kept sources): each seat's operator and "
            "ledger entry are in the drill-down"
        )
    return SourceRow(vendor, product, evidence, None, "", "", "", None, rows, rows, text)


def import_batches(
    session: Session, ids: set[int]
) -> dict[int, tuple[str, str, str, dt.datetime | None]]:
    """The imports ``ids``' file names, SHA-256, formats and times, by id."""
    found: dict[int, tuple[str, str, str, dt.datetime | None]] = {}
    for chunk in _chunks(sorted(ids)):
        for i, name, sha, fmt, at in session.execute(
            select(
                ImportBatch.id,
                ImportBatch.file_name,
                ImportBatch.sha256,
                ImportBatch.format,
                ImportBatch.imported_at,
            ).where(ImportBatch.id.in_(chunk))
        ):
            found[int(i)] = (str(name), str(sha), str(fmt), at)
    return found


def _hand_purchases(session: Session, pids: Sequence[int], day: dt.date) -> dict[int, list[int]]:
    """Product -> the ledger entries that entered or last changed its purchases in term by
    hand (an edit by hand makes the terms the operator's, whoever entered them)."""
    found: dict[int, list[int]] = {}
    for chunk in _chunks(pids):
        ids = {
            str(i): int(p)
            for i, p in session.execute(
                select(Entitlement.id, Entitlement.product_id).where(
                    Entitlement.product_id.in_(chunk),
                    Entitlement.import_id.is_(None),
                    in_term(day),
                )
            )
        }
        keys = list(ids)
        for at in range(0, len(keys), _CHUNK):
            for entity_id, seq in session.execute(
                select(LedgerEntry.entity_id, func.max(LedgerEntry.seq))
                .where(
                    LedgerEntry.entity_type == "entitlement",
                    LedgerEntry.action.in_(["entitlement.create", "entitlement.update"]),
                    LedgerEntry.entity_id.in_(keys[at : at + _CHUNK]),
                )
                .group_by(LedgerEntry.entity_id)
            ):
                found.setdefault(ids[str(entity_id)], []).append(int(seq))
    return {pid: sorted(seqs) for pid, seqs in found.items()}
