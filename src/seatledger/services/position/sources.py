"""Where each row behind a figure came from, as the drill-down and the exports say it.

An imported row names its import: the file, its SHA-256 and the line ("hr.csv (SHA-256
3f2a9c01b7e4…), line 12").  A row entered by hand names the ledger entry that entered it ("assigned
by ada on 2026-11-02 (ledger entry #4,812)").  A row from before its table kept sources says so
rather than invent a line or an entry.  Each function reads the rows it is given in a few
statements, whatever their number (the drill-down shows at most a few hundred).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seatledger.services.core.context import iso
from seatledger.store.models import (
    Device,
    Entitlement,
    ImportBatch,
    LedgerEntry,
    Operator,
    Person,
    SeatAssignment,
)

LINE_NOT_RECORDED = "line not recorded (imported before schema 0026 kept lines)"
SOURCE_NOT_RECORDED = "source not recorded (entered or imported before schema 0029 kept sources)"
_CHUNK = 500
_LINES_PER_CELL = 30_000  # characters: a spreadsheet cell holds 32,767


def source_text(file_name: str | None, sha256: str | None, line: int | None) -> str:
    """Where an imported row came from: "inventory.csv (SHA-256 3f2a9c01b7e4…), line 4,812".

    A row imported before lines were kept says so rather than invent one; a row no import
    gave (``file_name`` None) has no source.
    """
    if file_name is None:
        return ""
    digest = f"SHA-256 {sha256[:12]}…" if sha256 else "no SHA-256 recorded"
    where = f"line {line:,}" if line is not None else LINE_NOT_RECORDED
    return f"{file_name} ({digest}), {where}"


def ledger_text(verb: str, operator: str, day: str, seq: int) -> str:
    """A row entered by hand: "assigned by ada on 2026-11-02 (ledger entry #4,812)"."""
    return f"{verb} by {operator} on {day} (ledger entry #{seq:,})"


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for at in range(0, len(ids), _CHUNK):
        yield ids[at : at + _CHUNK]


def _batches(session: Session, ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """Import id -> (file name, SHA-256)."""
    found: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(sorted(ids)):
        for i, name, sha in session.execute(
            select(ImportBatch.id, ImportBatch.file_name, ImportBatch.sha256).where(
                ImportBatch.id.in_(chunk)
            )
        ):
            found[int(i)] = (str(name), str(sha))
    return found


def _imported(batches: dict[int, tuple[str, str]], import_id: int, line: int | None) -> str:
    name, sha = batches.get(import_id, (f"import {import_id}", ""))
    return source_text(name, sha, line)


def _entries(session: Session, kind: str, ids: Collection[int]) -> dict[int, str]:
    """Entity id -> its latest ``<kind>.create`` or ``<kind>.update`` ledger entry, as
    "entered by ada on 2026-11-02 (ledger entry #12)" (or "changed by …")."""
    found: dict[int, str] = {}
    verbs = {f"{kind}.create": "entered", f"{kind}.update": "changed"}
    for chunk in _chunks([str(i) for i in sorted(ids)]):
        latest = (
            select(func.max(LedgerEntry.seq))
            .where(
                LedgerEntry.entity_type == kind,
                LedgerEntry.entity_id.in_(chunk),
                LedgerEntry.action.in_(list(verbs)),
            )
            .group_by(LedgerEntry.entity_id)
        )
        for entity_id, seq, operator, ts, action in session.execute(
            select(
                LedgerEntry.entity_id,
                LedgerEntry.seq,
                LedgerEntry.operator,
                LedgerEntry.ts,
                LedgerEntry.action,
            ).where(LedgerEntry.seq.in_(latest.scalar_subquery()))
        ):
            found[int(entity_id)] = ledger_text(verbs[action], operator, str(ts)[:10], int(seq))
    return found


def seat_sources(session: Session, seat_ids: Collection[int]) -> dict[int, str]:
    """Seat id -> the import row that made it, or the ledger entry of the operator who assigned
    it (found by its moment and operator: a change stamps its seats with its entry's time)."""
    rows: list[tuple[int, int | None, int | None, dt.datetime, str]] = []
    for chunk in _chunks(sorted(seat_ids)):
        rows += [
            (int(i), imp, line, started, str(name))
            for i, imp, line, started, name in session.execute(
                select(
                    SeatAssignment.id,
                    SeatAssignment.import_id,
                    SeatAssignment.source_line,
                    SeatAssignment.started_at,
                    Operator.name,
                )
                .join(Operator, Operator.id == SeatAssignment.assigned_by)
                .where(SeatAssignment.id.in_(chunk))
            )
        ]
    batches = _batches(session, {imp for _, imp, _, _, _ in rows if imp is not None})
    stamps = sorted({iso(_utc(started)) for _, imp, _, started, _ in rows if imp is None})
    entries: dict[tuple[str, str], int] = {}
    for chunk in _chunks(stamps):
        for ts, operator, seq in session.execute(
            select(LedgerEntry.ts, LedgerEntry.operator, func.min(LedgerEntry.seq))
            .where(LedgerEntry.ts.in_(chunk))
            .group_by(LedgerEntry.ts, LedgerEntry.operator)
        ):
            entries[(str(ts), str(operator))] = int(seq)
    found: dict[int, str] = {}
    for seat, imp, line, started, operator in rows:
        if imp is not None:
            found[seat] = _imported(batches, imp, line)
            continue
        moment = _utc(started)
        entry = entries.get((iso(moment), operator))
        found[seat] = (
            f"assigned by {operator} on {moment.date().isoformat()} (no ledger entry found)"
            if entry is None
            else ledger_text("assigned", operator, moment.date().isoformat(), entry)
        )
    return found


def entitlement_sources(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Entitlement id -> the import row that made or last changed it, or the ledger entry that
    entered it by hand."""
    columns = (Entitlement.id, Entitlement.import_id, Entitlement.source_line)
    return _sourced(session, "entitlement", columns, ids)


def record_sources(session: Session, kind: str, ids: Collection[int]) -> dict[int, str]:
    """Person or device id (``kind``) -> the import line that last set its own fields, or the
    ledger entry of the operator who last did."""
    model = Person if kind == "person" else Device
    return _sourced(session, kind, (model.id, model.source_import_id, model.source_line), ids)


def account_sources(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Person id -> the directory import line that first said their account state as it is
    now (Active Directory's Enabled, Entra ID's AccountEnabled)."""
    columns = (Person.id, Person.account_import_id, Person.account_line)
    return _sourced(session, "person", columns, ids)


def _sourced(
    session: Session, kind: str, columns: tuple[Any, Any, Any], ids: Collection[int]
) -> dict[int, str]:
    """Row id -> its import line (``columns``: the id, import id and line columns), or the
    ledger entry of entity type ``kind`` that last wrote it by hand."""
    rows: list[tuple[int, int | None, int | None]] = []
    for chunk in _chunks(sorted(ids)):
        rows += [
            (int(i), imp, line)
            for i, imp, line in session.execute(select(*columns).where(columns[0].in_(chunk)))
        ]
    batches = _batches(session, {imp for _, imp, _ in rows if imp is not None})
    entries = _entries(session, kind, [i for i, imp, _ in rows if imp is None])
    return {
        i: _imported(batches, imp, line) if imp is not None else entries.get(i, SOURCE_NOT_RECORDED)
        for i, imp, line in rows
    }


def line_ranges(lines: Iterable[int]) -> list[str]:
    """Distinct lines, ascending, as ranges: [2, 3, 4, 9] -> ["2-4", "9"] (0s left out)."""
    ranges: list[str] = []
    start = end = -1
    for line in sorted(set(lines)):
        if line <= 0:
            continue
        if line == end + 1:
            end = line
            continue
        if start > 0:
            ranges.append(f"{start}" if start == end else f"{start}-{end}")
        start = end = line
    if start > 0:
        ranges.append(f"{start}" if start == end else f"{start}-{end}")
    return ranges


def line_cells(ranges: list[str]) -> Iterator[str]:
    """The ranges as ", "-joined cells no longer than a spreadsheet cell holds (32,767
    characters): a long list continues in the next cell."""
    cell: list[str] = []
    size = 0
    for text in ranges:
        if cell and size + len(text) + 2 > _LINES_PER_CELL:
            yield ", ".join(cell)
            cell, size = [], 0
        cell.append(text)
        size += len(text) + 2
    yield ", ".join(cell)


def _utc(moment: dt.datetime) -> dt.datetime:
    """A stored moment as UTC (SQLite returns it without a zone)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
