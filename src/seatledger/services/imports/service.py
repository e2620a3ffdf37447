"""Imports: preview a file with every problem named, then commit it whole or not at all.

A preview reads the whole file (nothing is written) and reports its format, encoding, delimiter,
first rows and every problem by line, column and value.  A commit reads it again inside one write
transaction: any problem rolls everything back, and a clean file becomes one ledger entry naming
the file, its SHA-256 and its row counts.  Re-importing a file already imported changes nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Select, select

from seatledger.domain import canonical
from seatledger.domain.roles import Permission
from seatledger.errors import KnownError, NotFoundError, ValidationError
from seatledger.ingest import (
    dsls,
    flexlm,
    flexlm_grants,
    flexlm_log,
    lmx,
    m365,
    rlm,
    sentinel,
)
from seatledger.ingest.formats import FIELDS, Detection, Kind, detect
from seatledger.ingest.recognize import unsupported_format
from seatledger.ingest.records import (
    GrantRecord,
    InstallChunk,
    InstallRecord,
    Record,
    RowReader,
    UsageRecord,
)
from seatledger.ingest.tabular import (
    FileFacts,
    ImportFileError,
    Problem,
    Table,
    read_table,
    sniff,
    with_host,
)
from seatledger.ingest.values import DateOrder, DateReader
from seatledger.paths import replaced
from seatledger.progress import Progress
from seatledger.services.core.context import Context
from seatledger.services.imports import importers
from seatledger.services.imports.options import ImportOptions
from seatledger.services.position.export import safe_text
from seatledger.store.models import ImportBatch, ImportMapping
from seatledger.text import agree, plural

SAMPLE_ROWS = 20
PROBLEMS_SHOWN = 200
PROGRESS_EVERY = 20_000

_T = TypeVar("_T")


class ImportRejected(KnownError):
    """A file with problems; nothing was written.  ``problems`` lists them, first first."""

    def __init__(self, file_name: str, problems: list[Problem], total: int) -> None:
        shown = "\n".join(f"  {p}" for p in problems[:10])
        more = f"\n  ...and {total - 10:,} more" if total > 10 else ""
        super().__init__(
            f"{file_name}: {plural(total, 'problem')}; nothing was imported.\n{shown}{more}"
        )
        self.file_name = file_name
        self.problems = problems
        self.total = total


@dataclass
class Preview:
    """What a file holds and what is wrong with it; nothing is written."""

    facts: FileFacts
    kind: Kind
    format_name: str
    delimiter: str
    header: list[str]
    detection: Detection | None
    sample: list[tuple[int, list[str]]]
    problems: list[Problem]
    problem_count: int
    rows: int
    records: int
    date_order: DateOrder | None
    date_note: str
    already_imported: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)
    skip_refusal: str = ""  # why refused rows cannot be skipped in this file ("" if they can)

    @property
    def ok(self) -> bool:
        """Whether the file can be committed as it is."""
        return self.problem_count == 0 and (self.detection is None or self.detection.complete)

    @property
    def refused_rows(self) -> int:
        """Rows the problems are on (one row may have several)."""
        return len({p.line for p in self.problems if p.line > 0})

    @property
    def skippable(self) -> bool:
        """Whether every problem is a row's own, so skipping the refused rows can import the rest
        (a missing column, a file-wide problem, a snapshot or an inventory cannot be skipped).
        The commit checks every problem again."""
        return (
            not self.skip_refusal
            and (self.detection is None or self.detection.complete)
            and all(p.line > 0 for p in self.problems)
        )


@dataclass(frozen=True)
class ImportResult:
    """What a commit did."""

    batch_id: int | None
    kind: Kind
    file_name: str
    sha256: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    flagged: int
    removed: int = 0
    already_imported: bool = False
    notes: tuple[str, ...] = ()
    repeated: int = 0  # rows exactly like an earlier line of the file, applied once
    not_people: int = 0  # a directory's built-in and service accounts, left out
    rejected: int = 0  # rows refused and written to ``rejects`` (skip-invalid imports only)
    rejects: Path | None = None

    def summary(self) -> str:
        """One line for a status bar or a terminal."""
        if self.already_imported:
            return f"{self.file_name} was imported before (same SHA-256); nothing changed."
        text = (
            f"{self.file_name}: {self.rows:,} rows, {self.inserted:,} new, "
            f"{self.updated:,} updated, {self.unchanged:,} unchanged"
        )
        if self.flagged:
            text += f", {self.flagged:,} flagged"
        if self.removed:
            text += f", {self.removed:,} no longer present"
        if self.repeated:
            text += f", {self.repeated:,} repeated (the same as an earlier line)"
        if self.not_people:
            text += f", {self.not_people:,} not people (built-in or service accounts)"
        if self.rejected:
            where = f" (written to {self.rejects.name})" if self.rejects is not None else ""
            text += f", {self.rejected:,} refused{where}"
        return text + "."


class _Problems(list[Problem]):
    """Problems, keeping the first few hundred and counting the rest (all of them when the
    refused rows are to be written out)."""

    def __init__(self, keep: int = PROBLEMS_SHOWN) -> None:
        super().__init__()
        self.total = 0
        self._keep = keep

    def append(self, problem: Problem) -> None:
        self.total += 1
        if len(self) < self._keep:
            super().append(problem)


@dataclass
class _Opened:
    facts: FileFacts
    options: ImportOptions
    problems: _Problems
    dates: DateReader
    format_name: str
    records: Iterator[Record]
    delimiter: str = ""  # a table's; the outputs of license servers are read as lines
    header: list[str] = field(default_factory=list)
    detection: Detection | None = None
    reader: RowReader | None = None
    table: Table | None = None
    snapshot: flexlm.Snapshot | None = None
    installs: Iterator[InstallChunk] | None = None  # an inventory's rows, in chunks
    notes: list[str] = field(default_factory=list)  # a debug log's, complete once records are read
    denials: list[flexlm_log.Denial] | None = None  # a debug log's DENIED lines, likewise
    report: m365.ActiveUserReport | None = None  # a Microsoft 365 active user detail report
    grants: flexlm_grants.GrantList | None = None  # an 'lmstat -i' output's feature lines

    def rows_read(self, records: int) -> int:
        """The file's rows read (``records`` where the file is not read as rows of a table)."""
        if self.reader is not None:
            return self.reader.rows_read
        return self.report.rows_read if self.report is not None else records

    def close(self) -> None:
        """Release the file, however far it was read."""
        if self.table is not None:
            self.table.close()


@dataclass
class _Scan:
    opened: _Opened
    problems: _Problems
    dates: DateReader
    sample: list[tuple[int, list[str]]]
    count: int


def import_permission(kind: Kind) -> Permission:
    """What importing a kind of file needs: purchases and grants are license data; people,
    devices, inventory and usage are the directory's."""
    if kind in {Kind.ENTITLEMENTS, Kind.SNIPEIT, Kind.GRANTS}:
        return Permission.EDIT_LICENSES
    return Permission.EDIT_DIRECTORY


class ImportService:
    """Previews and commits imports; keeps saved column mappings."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- mappings -------------------------------------------------------------------------------

    def mappings(self, kind: Kind | None = None) -> list[str]:
        """Names of saved mappings (for one kind, or all)."""
        with self._ctx.read() as session:
            query = select(ImportMapping.name).order_by(ImportMapping.name)
            if kind is not None:
                query = query.where(ImportMapping.kind == kind.value)
            return list(session.scalars(query))

    def mapping(self, name: str) -> tuple[Kind, dict[str, str]]:
        """A saved mapping's kind and columns."""
        with self._ctx.read() as session:
            row = session.execute(
                select(ImportMapping.kind, ImportMapping.columns).where(ImportMapping.name == name)
            ).first()
        if row is None:
            raise NotFoundError(f"There is no saved mapping named '{name}'.")
        return Kind(row.kind), dict(json.loads(row.columns))

    def save_mapping(self, name: str, kind: Kind, columns: dict[str, str]) -> None:
        """Save (or replace) a column mapping by name; recorded in the ledger."""
        clean = name.strip()
        if not clean:
            raise ValidationError("A mapping needs a name.", "Mapping name")
        known = {f.key for f in FIELDS[kind]}
        unknown = sorted(set(columns) - known)
        if unknown:
            raise ValidationError(f"{', '.join(unknown)} are not fields of {kind.label}.")
        body = canonical.canonical_bytes(columns).decode()
        with self._ctx.change(
            Permission.EDIT_DIRECTORY, "import.mapping", "import_mapping", "save import mappings"
        ) as change:
            existing = change.session.scalar(
                select(ImportMapping).where(ImportMapping.name == clean)
            )
            change.before = None if existing is None else json.loads(existing.columns)
            if existing is None:
                existing = ImportMapping(name=clean, kind=kind.value, columns=body)
                change.session.add(existing)
            else:
                existing.kind, existing.columns = kind.value, body
            change.session.flush()
            change.entity_id = str(existing.id)
            change.after = {"name": clean, "kind": kind.value, "columns": columns}

    # -- preview and commit ---------------------------------------------------------------------

    def preview(
        self, path: Path, options: ImportOptions, progress: Progress | None = None
    ) -> Preview:
        """Read the whole file and report what it holds and every problem; write nothing."""
        facts = sniff(path)
        scan = self._settled(facts, options, lambda o: self._scan(o, progress))
        opened, problems, dates = scan.opened, scan.problems, scan.dates
        detection = opened.detection
        if detection is not None and detection.missing:
            for spec in detection.missing:
                hint = "map one or use a saved mapping"
                if spec.key == "hostname":
                    hint += "; an export of one machine names none: give its host name"
                problems.append(Problem(0, spec.label, "", f"no column feeds this field; {hint}"))
        date_note = ""
        if options.date_order is not None:
            date_note = f"Dates read {options.date_order.label}, as chosen."
        elif dates.order is not None:
            date_note = f"Dates read {dates.order.label}, as {dates.decided_at} shows."
        with self._ctx.read() as session:
            earlier = session.scalar(
                select(ImportBatch.imported_at).where(
                    ImportBatch.kind == options.kind.value,
                    ImportBatch.sha256 == facts.sha256,
                )
            )
        return Preview(
            facts=facts,
            kind=options.kind,
            format_name=opened.format_name,
            delimiter=opened.delimiter,
            header=opened.header,
            detection=detection,
            sample=scan.sample,
            problems=list(problems),
            problem_count=problems.total,
            rows=opened.rows_read(scan.count),
            records=scan.count,
            date_order=options.date_order or dates.order,
            date_note=date_note,
            already_imported=earlier,
            skip_refusal=_skip_refusal(opened),
            notes=list(opened.notes),
        )

    def commit(
        self,
        path: Path,
        options: ImportOptions,
        *,
        expected_sha256: str | None = None,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Import the file in one transaction and one ledger entry, or nothing at all.

        Raises:
            ImportFileError: the file cannot be read as a table (nothing was written).
            ImportRejected: the file has problems (nothing was written).
            ValidationError: the file changed since its preview.
            Cancelled: the progress callback cancelled (nothing was written).
            PermissionDenied: the operator's role may not import this kind of file.
        """
        # Before the file is read: a role that may not import it is told so at once, not after
        # minutes of reading, and not "already imported" for a file someone else imported.
        self._ctx.require(import_permission(options.kind), f"import {options.kind.value}")
        facts = sniff(path)
        if expected_sha256 is not None and facts.sha256 != expected_sha256:
            raise ValidationError(
                f"{facts.path.name} changed since it was previewed; preview it again."
            )
        already = ImportResult(
            None, options.kind, facts.path.name, facts.sha256, 0, 0, 0, 0, 0, already_imported=True
        )
        if self._earlier(options.kind, facts.sha256) is not None:
            return already
        try:
            return self._settled(facts, options, lambda o: self._commit(o, progress))
        except _AlreadyImported:  # by another operator while this one read the file
            return already

    def _earlier(self, kind: Kind, sha256: str) -> int | None:
        """The import of the same file (by its hash) as the same kind, if there was one."""
        with self._ctx.read() as session:
            return session.scalar(_earlier_batch(kind, sha256))

    def _commit(self, opened: _Opened, progress: Progress | None) -> ImportResult:
        facts, options, problems, dates = (
            opened.facts,
            opened.options,
            opened.problems,
            opened.dates,
        )
        if opened.detection is not None and opened.detection.missing:
            missing = ", ".join(f.label for f in opened.detection.missing)
            raise ImportRejected(
                facts.path.name,
                [Problem(0, missing, "", "no column feeds these fields; map them first")],
                1,
            )
        if options.skip_invalid:
            _may_skip(opened)
        permission = import_permission(options.kind)
        written: list[Path] = []
        try:
            with self._ctx.change(
                permission,
                f"import.{options.kind.value}",
                "import",
                f"import {options.kind.value}",
                # An inventory's installs refer to devices and titles the import itself read or
                # added in this transaction, a usage file's sessions to products and people it
                # looked up and to its own batch: they go in without SQLite's per-row lookups.
                bulk=opened.installs is not None or options.kind is Kind.USAGE,
            ) as change:
                if change.session.scalar(_earlier_batch(options.kind, facts.sha256)) is not None:
                    raise _AlreadyImported
                batch = ImportBatch.begun(
                    change.session,
                    kind=options.kind.value,
                    file_name=facts.path.name,
                    sha256=facts.sha256,
                    format=opened.format_name,
                    operator=self._ctx.actor.name,
                    at=change.now,
                )
                detection = opened.detection
                given = frozenset(
                    {f.key for f in FIELDS[options.kind]}
                    if detection is None
                    else {*detection.columns, *detection.fallbacks}
                )
                if opened.installs is not None:
                    chunks = _watch(opened.installs, opened.reader, progress, facts, every=1)
                    applied = importers.apply_inventory(
                        change.session, batch.id, change.now, chunks, facts.size // 100
                    )
                elif opened.grants is not None:
                    applied = importers.apply_grants(
                        change.session, options.server, batch.id, opened.grants, problems
                    )
                else:
                    applied = importers.apply(
                        change.session,
                        options,
                        batch.id,
                        change.now,
                        _watch(opened.records, opened.reader, progress, facts),
                        problems,
                        opened.snapshot,
                        given=given,
                        denials=opened.denials,
                    )
                    applied.notes[:0] = opened.notes  # a debug log's: its span, denials, restarts
                if _needs_second_pass(options, dates):
                    raise _Settled(dates)  # rolls this pass back; the caller reads the file again
                _check_read_whole(opened)
                rejected: _Rejects | None = None
                if problems.total:
                    if not options.skip_invalid or any(p.line <= 0 for p in problems):
                        raise ImportRejected(facts.path.name, list(problems), problems.total)
                    rejected = _write_rejects(facts, options, problems)
                    written.append(rejected.path)  # removed again if the commit fails
                    applied.notes.append(
                        f"{plural(rejected.rows, 'refused row')} (line, reason and cells) "
                        f"written to {rejected.path}."
                    )
                rows = opened.rows_read(applied.rows)
                batch.rows, batch.inserted, batch.updated = rows, applied.inserted, applied.updated
                batch.unchanged, batch.flagged = applied.unchanged, applied.flagged
                change.entity_id = str(batch.id)
                change.after = {
                    "file": facts.path.name,
                    "sha256": facts.sha256,
                    "format": opened.format_name,
                    "encoding": facts.encoding_label,
                    "rows": rows,
                    "inserted": applied.inserted,
                    "updated": applied.updated,
                    "unchanged": applied.unchanged,
                    "flagged": applied.flagged,
                    "removed": applied.removed,
                }
                if applied.made:  # what each row it added or changed is now: replayable
                    change.after["written"] = applied.made
                if applied.missing:
                    change.after["flagged_missing"] = applied.missing
                if applied.organization:  # [person, team, manager, cost centre, from]
                    change.after["organization"] = applied.organization
                reader = opened.reader
                repeated = reader.repeated if reader is not None else 0
                if opened.installs is not None:
                    # An install listed twice (a registry export of both Uninstall hives, the
                    # same title on two lines of one computer) is stored once: say so.
                    stored = applied.inserted + applied.updated + applied.unchanged
                    repeated = max(applied.rows - stored, 0)
                if repeated:
                    change.after["repeated"] = repeated
                not_people = sorted(reader.not_people) if reader is not None else []
                if not_people:
                    change.after["not_people"] = len(not_people)
                    applied.notes.append(
                        f"{plural(len(not_people), 'built-in or service account')} left out, "
                        f"not people (e.g. {not_people[0]})."
                    )
                if reader is not None:
                    applied.notes.extend(reader.notes)  # what the reader stood in for, and why
                if reader is not None and reader.disabled_accounts:
                    applied.notes.append(
                        f"{plural(reader.disabled_accounts, 'account')} "
                        f"{agree(reader.disabled_accounts, 'is')} disabled in the directory; a "
                        "directory does not say who left (HR does), so their people stay as they "
                        "were, their account recorded as disabled (an employed person's seats show "
                        "as a finding). Import the HR export to record leavers."
                    )
                if reader is not None and reader.expired_accounts:
                    applied.notes.append(
                        f"{plural(reader.expired_accounts, 'account')} "
                        f"{agree(reader.expired_accounts, 'is')} past its expiration date in the "
                        "directory; an account's expiry is not a leaving day (HR says who left), "
                        "so their people stay as they were."
                    )
                if rejected is not None:
                    change.after["rejected"] = {
                        "rows": rejected.rows,
                        "file": rejected.path.name,
                        "sha256": rejected.sha256,
                        "lines": rejected.lines[:REJECTED_LINES_LOGGED],
                    }
                if dates.order is not None and options.date_order is None:
                    change.after["date_order"] = dates.order.value
                if opened.snapshot is not None and options.taken_at is not None:
                    # The user's word, not the file's: the ledger says who dated the snapshot.
                    change.after["taken_at_given"] = f"{options.taken_at:%Y-%m-%d %H:%M:%S}"
                if opened.installs is not None:  # for the alert rules, not the ledger
                    change.extra["inserted_by_title"] = applied.inserted_by_title
                    change.extra["installs_before"] = applied.installs_before
                return ImportResult(
                    batch.id,
                    options.kind,
                    facts.path.name,
                    facts.sha256,
                    rows,
                    applied.inserted,
                    applied.updated,
                    applied.unchanged,
                    applied.flagged,
                    applied.removed,
                    notes=tuple(applied.notes),
                    repeated=repeated,
                    not_people=len(not_people),
                    rejected=rejected.rows if rejected is not None else 0,
                    rejects=rejected.path if rejected is not None else None,
                )
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise

    def _scan(self, opened: _Opened, progress: Progress | None) -> _Scan:
        """Read every record (the preview's pass), keeping the first few as a sample."""
        if opened.options.skip_invalid:
            _may_skip(opened)
        sample: list[tuple[int, list[str]]] = []
        count = 0
        if opened.installs is not None:
            for chunk in _watch(opened.installs, opened.reader, progress, opened.facts, every=1):
                count += len(chunk)
                sample += _install_sample(chunk, SAMPLE_ROWS - len(sample))
        for record in _watch(opened.records, opened.reader, progress, opened.facts):
            count += 1
            if len(sample) < SAMPLE_ROWS:
                sample.append((record.line, _cells_of(record)))
        if _needs_second_pass(opened.options, opened.dates):
            raise _Settled(opened.dates)
        _check_read_whole(opened)
        return _Scan(opened, opened.problems, opened.dates, sample, count)

    def _settled(
        self, facts: FileFacts, options: ImportOptions, work: Callable[[_Opened], _T]
    ) -> _T:
        """Run ``work`` over the opened file; again, if the file settled its date order late.

        ``03/04/2026`` on line 2 is read day first once ``25/03/2026`` turns up on line 900, so
        the rows before line 900 are read again with the order the file itself settled.
        """
        dates = DateReader(options.date_order)
        keep = sys.maxsize if options.skip_invalid else PROBLEMS_SHOWN
        for attempt in range(2):
            opened = self._open(facts, options, _Problems(keep), dates)
            try:
                return work(opened)
            except _Settled as settled:
                if attempt:
                    raise AssertionError("the date order was settled twice") from None
                dates = DateReader(settled.order, decided_at=settled.decided_at)
            finally:
                opened.close()
        raise AssertionError("unreachable")

    def history(self, limit: int = 200) -> list[ImportBatch]:
        """The latest imports, newest first."""
        with self._ctx.read() as session:
            rows = list(
                session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit))
            )
            session.expunge_all()
            return rows

    def _open(
        self, facts: FileFacts, options: ImportOptions, problems: _Problems, dates: DateReader
    ) -> _Opened:
        head = ""
        if options.taken_at is not None and options.kind is not Kind.USAGE:
            raise ImportFileError(
                f"{facts.path.name}: the time a snapshot was taken is given for usage imports "
                f"only, not for {options.kind.value}."
            )
        if options.kind is Kind.GRANTS:
            return self._open_grants(facts, options, problems, dates)
        if facts.kind == "csv":
            with facts.path.open(encoding=facts.encoding, errors="replace") as handle:
                head = handle.read(8192)
            if options.kind is Kind.USAGE and flexlm_log.looks_like_debug_log(head):
                log, sessions = flexlm_log.read_debug_log(facts, problems)
                return _Opened(
                    facts,
                    options,
                    problems,
                    dates,
                    flexlm_log.FORMAT_NAME,
                    sessions,
                    notes=log.notes,
                    denials=log.denials,
                )
            if options.kind is Kind.USAGE and rlm.looks_like_rlmstat(head):
                snapshot, records = rlm.read_rlmstat(facts, problems)
                return _Opened(
                    facts, options, problems, dates, rlm.FORMAT_NAME, records, snapshot=snapshot
                )
            for looks_like, read, name in _SNAPSHOT_READERS:
                if options.kind is Kind.USAGE and looks_like(head):
                    snapshot, records = read(facts, problems, options.taken_at)
                    return _Opened(
                        facts, options, problems, dates, name, records, snapshot=snapshot
                    )
            if (other := unsupported_format(head)) is not None:
                raise ImportFileError(f"{facts.path.name} is {other}.")
        if options.taken_at is not None:
            raise ImportFileError(
                f"{facts.path.name} is not the output of lmxendutil, lsmon or DSLicSrv: the time "
                "a snapshot was taken is given only for those, which print none (the others "
                "say when, or are not snapshots)."
            )
        if options.kind is Kind.USAGE and facts.kind == "csv" and flexlm.looks_like_lmstat(head):
            snapshot, records = flexlm.read_lmstat(facts, problems)
            return _Opened(
                facts, options, problems, dates, "FlexNet lmstat -a", records, snapshot=snapshot
            )
        table = read_table(facts, problems)
        if not any(table.header):
            table.close()
            raise ImportFileError(f"{facts.path.name}: the header row is empty.")
        if options.host:
            table = _one_machine(table, options)
        if options.kind is Kind.USAGE and (layout := m365.layout_of(table.header)) is not None:
            report = m365.ActiveUserReport(table, layout, problems)
            return _Opened(
                facts,
                options,
                problems,
                dates,
                m365.FORMAT_NAME,
                report.records(),
                table.delimiter_label,
                table.header,
                table=table,
                notes=report.notes,
                report=report,
            )
        detection = detect(options.kind, table.header, options.mapping, options.mapping_name)
        reader = RowReader(table, detection, dates, problems)
        inventory = detection.complete and options.kind is Kind.INVENTORY
        return _Opened(
            facts,
            options,
            problems,
            dates,
            detection.format_name,
            reader.counted()
            if not detection.complete
            else iter(())
            if inventory
            else reader.records(),
            table.delimiter_label,
            table.header,
            detection,
            reader,
            table,
            installs=reader.install_chunks() if inventory else None,
        )

    def _open_grants(
        self, facts: FileFacts, options: ImportOptions, problems: _Problems, dates: DateReader
    ) -> _Opened:
        """An 'lmutil lmstat -i' output, and the server it is of (which it does not name).

        Raises:
            ImportFileError: the file is not 'lmstat -i' output, or no server was named.
        """
        head = ""
        if facts.kind == "csv":
            with facts.path.open(encoding=facts.encoding, errors="replace") as handle:
                head = handle.read(8192)
        if not flexlm_grants.looks_like_grants(head):
            raise ImportFileError(
                f"{facts.path.name} is not the output of 'lmutil lmstat -i' (no 'Feature  "
                "Version  #licenses' table and no 'lmstat -i' note): license file grants are "
                "read from that output only."
            )
        server = options.server.strip()
        if not server or len(server) > 255:
            raise ImportFileError(
                f"{facts.path.name}: name the license server (PORT@HOST, as in 27000@lic01) or "
                "the license file 'lmstat -i' read, in 255 characters at most: its output names "
                "neither, and a newer import of the same one replaces its grants."
            )
        listing = flexlm_grants.read_grants(facts, problems)
        return _Opened(
            facts,
            options,
            problems,
            dates,
            flexlm_grants.FORMAT_NAME,
            iter(listing.grants),
            grants=listing,
        )


# License-server outputs read as snapshots, each told from its own lines: (recognizer, reader,
# the format's name).
_SNAPSHOT_READERS: tuple[
    tuple[
        Callable[[str], bool],
        Callable[
            [FileFacts, list[Problem], dt.datetime | None],
            tuple[flexlm.Snapshot, Iterator[UsageRecord]],
        ],
        str,
    ],
    ...,
] = (
    (lmx.looks_like_licstat, lmx.read_licstat, lmx.FORMAT_NAME),
    (sentinel.looks_like_lsmon, sentinel.read_lsmon, sentinel.FORMAT_NAME),
    (dsls.looks_like_dsls, dsls.read_license_usage, dsls.FORMAT_NAME),
)

REJECTED_LINES_LOGGED = 1000  # the ledger names the first lines; the file's hash covers all


@dataclass(frozen=True)
class _Rejects:
    path: Path
    sha256: str
    rows: int
    lines: list[int]


def _skip_refusal(opened: _Opened) -> str:
    """Why refused rows of this file cannot be skipped: a missing row would change the meaning of
    the rest ("" when they can)."""
    name = opened.facts.path.name
    if opened.grants is not None:
        return (
            f"{name} lists what a license file grants: it must be read whole (a refused line "
            "would read as a feature no longer granted). Fix the file, or save it again."
        )
    if opened.snapshot is not None:
        return (
            f"{name} is a license-server snapshot: it must be read whole (a refused line would "
            "read as a checkin). Fix the file, or take a new snapshot."
        )
    if opened.installs is not None:
        return (
            f"{name} is an inventory: a refused row would read as software removed from its "
            "machine. Fix the file and import it whole."
        )
    if opened.report is not None:
        return (
            f"{name} is a Microsoft 365 activity report: a refused row would read as a user with "
            "no activity, whose seats would look unused. Fix the file and import it whole."
        )
    if opened.options.full_export:
        return (
            f"{name}: a full HR export flags everyone it does not list, so a refused row would "
            "flag its person as gone. Fix the file, or import it without 'full export'."
        )
    return ""


def _may_skip(opened: _Opened) -> None:
    """Refuse skip-invalid where it cannot apply (see :func:`_skip_refusal`)."""
    if refusal := _skip_refusal(opened):
        raise ValidationError(refusal)
    if opened.options.rejects is None:
        raise ValidationError("Choose where the refused rows are written.")


def _write_rejects(facts: FileFacts, options: ImportOptions, problems: _Problems) -> _Rejects:
    """Write the refused rows (their cells as read, then their line and reason) as CSV."""
    assert options.rejects is not None
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        reasons.setdefault(problem.line, []).append(
            f"{problem.column}: {problem.reason}"
            + (f" ({problem.value!r})" if problem.value else "")
        )
    target = options.rejects
    if target.resolve() == facts.path.resolve():
        raise ValidationError(f"{target.name}: the refused rows cannot overwrite the import file.")
    table = read_table(facts, [])
    try:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow([*table.header, "Line", "Reason"])
        for line, cells in table.rows:
            if line in reasons:
                writer.writerow([*(safe_text(c) for c in cells), line, "; ".join(reasons[line])])
    finally:
        table.close()
    data = buffer.getvalue().encode("utf-8-sig")  # Excel reads the accents right
    try:
        with replaced(target) as temporary:
            temporary.write_bytes(data)
    except OSError as exc:
        raise KnownError(f"{target}: the refused rows cannot be written ({exc.strerror}).") from exc
    lines = sorted(reasons)
    return _Rejects(target, hashlib.sha256(data).hexdigest(), len(lines), lines)


def _earlier_batch(kind: Kind, sha256: str) -> Select[int]:
    return (
        select(ImportBatch.id)
        .where(ImportBatch.kind == kind.value, ImportBatch.sha256 == sha256)
        .limit(1)
    )


class _AlreadyImported(Exception):
    """Internal: the same file was committed meanwhile; this transaction is rolled back."""


class _Settled(Exception):
    """Internal: the file settled its slash-date order after some rows were read without it."""

    def __init__(self, dates: DateReader) -> None:
        super().__init__("the date order was settled late")
        assert dates.order is not None
        self.order: DateOrder = dates.order
        self.decided_at = dates.decided_at


def _needs_second_pass(options: ImportOptions, dates: DateReader) -> bool:
    """Whether rows were read with their slash dates unknown before the file settled them."""
    return options.date_order is None and dates.order is not None and dates.ambiguous_count > 0


def _check_read_whole(opened: _Opened) -> None:
    """Problems of the file as a whole, once every row was read."""
    problems, dates = opened.problems, opened.dates
    if dates.order is None and dates.ambiguous_count:
        for line, column, value in dates.ambiguous:
            problems.append(
                Problem(
                    line,
                    column,
                    value,
                    "day and month cannot be told apart, and no date in the file settles it; "
                    "choose the date order",
                )
            )
        problems.total += dates.ambiguous_count - len(dates.ambiguous)
    reader, table = opened.reader, opened.table
    if reader is None or table is None or reader.rows_read or problems.total:
        return
    if opened.detection is not None and opened.detection.complete:
        problems.append(
            Problem(
                table.header_line,
                "",
                "",
                "the file has a header row but no data rows; there is nothing to import",
            )
        )


def _one_machine(table: Table, options: ImportOptions) -> Table:
    """The export of one machine, its rows given the host the user named.

    Raises:
        ImportFileError: the file names its hosts itself, or the name is not a host name.
    """
    name = options.host.strip()
    if not name or len(name) > 255 or any(ch.isspace() for ch in name):
        table.close()
        raise ImportFileError(f"'{options.host}' is not a host name (no spaces, 255 at most).")
    own = detect(options.kind, table.header, options.mapping, options.mapping_name)
    if "hostname" in own.columns:
        heading = table.header[own.columns["hostname"]]
        table.close()
        raise ImportFileError(
            f"{table.facts.path.name} names its hosts itself (column '{heading}'); a host name "
            "is given only for the export of one machine, which has none."
        )
    return with_host(table, name)


def _watch(
    items: Iterator[_T],
    reader: RowReader | None,
    progress: Progress | None,
    facts: FileFacts,
    every: int = PROGRESS_EVERY,
) -> Iterator[_T]:
    """Pass records through, reporting progress every few thousand (cancel raises); chunks of
    installs (``every=1``) after each."""
    if progress is None:
        yield from items
        return
    estimate = max(facts.size // 80, 1)
    for number, item in enumerate(items, 1):
        if number % every == 0:
            done = reader.rows_read if reader is not None else number
            progress(done, max(estimate, done))
        yield item
    progress(1, 1)


def _install_sample(chunk: InstallChunk, wanted: int) -> list[tuple[int, list[str]]]:
    """The preview's sample rows from the numbered start of an inventory."""
    found, days = chunk.found, chunk.date_of
    sample = []
    for n, offset in enumerate(chunk.lines[: max(wanted, 0)]):
        line = chunk.line_base + offset
        publisher, title, version = found.titles[chunk.title_of[n]]
        day = found.dates[days[n]] if days else None
        record = InstallRecord(line, found.hosts[chunk.host_of[n]], publisher, title, version, day)
        sample.append((line, _cells_of(record)))
    return sample


def _cells_of(record: Record) -> list[str]:
    """A record shown as the fields it fed, for the preview's sample."""
    if isinstance(record, GrantRecord):  # empty means something there: say what
        return [
            record.feature,
            record.version,
            "uncounted" if record.count is None else str(record.count),
            record.vendor,
            "permanent" if record.expires is None else record.expires.isoformat(),
        ]
    values = []
    for name in record.__slots__:
        if name == "line":
            continue
        value = getattr(record, name)
        values.append(
            ""
            if value is None
            else value.isoformat()
            if hasattr(value, "isoformat")
            else str(value)
        )
    return values


def record_fields(kind: Kind) -> list[str]:
    """The column titles of a preview's sample for ``kind``."""
    from seatledger.ingest import records as rec  # noqa: PLC0415

    cls: type[Record] = {
        Kind.PEOPLE: rec.PersonRecord,
        Kind.DEVICES: rec.DeviceRecord,
        Kind.INVENTORY: rec.InstallRecord,
        Kind.ENTITLEMENTS: rec.EntitlementRecord,
        Kind.SNIPEIT: rec.EntitlementRecord,
        Kind.USAGE: rec.UsageRecord,
        Kind.GRANTS: rec.GrantRecord,
    }[kind]
    names = [f.name for f in dataclasses.fields(cls)]
    return [n.replace("_", " ").capitalize() for n in names if n != "line"]
