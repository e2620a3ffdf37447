"""Topology imports: an RVTools or Hyper-V export previewed, then stored whole or not at all.

An export is several files read together (RVTools' sheets, Hyper-V's cmdlets) or one workbook.
The preview reads them all and names every problem by file or sheet, line and column; nothing is
written.  The commit reads them again inside one write transaction, refuses the whole export
while any problem remains, and becomes one ledger entry (``import.topology``) naming the files,
their SHA-256 and the counts.  Importing the same files again changes nothing.

What is stored: each host and VM the export lists, as it says them now (a VM the export no
longer lists on one of its hosts is removed), and the placement history: a running VM seen on
the same host with the same vCPUs as before continues its placement; otherwise the old one ends
at the export's moment and a new one starts.  An export is dated by the moment it was taken
(``taken_at``, else the moment of the import); one older than the newest stored is refused, since
the history would run backwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import compress, repeat
from operator import attrgetter, itemgetter
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seatledger.domain.roles import Permission
from seatledger.domain.server.topology import Host, PowerState, VmRow, row_of
from seatledger.errors import ValidationError
from seatledger.ingest import hyperv, rvtools
from seatledger.ingest.tabular import Problem
from seatledger.services.core.collector import collector_paused
from seatledger.services.core.context import Context
from seatledger.services.imports.service import ImportRejected
from seatledger.store.bulk import Bulk
from seatledger.store.models import ImportBatch
from seatledger.store.models_servers import (
    HOST_FIELDS,
    VM_FIELDS,
    ServerHost,
    ServerPlacement,
    ServerVm,
)
from seatledger.text import plural

IMPORT_KIND = "topology"


class TopologySource(StrEnum):
    """Which hypervisor's exports a topology import reads."""

    RVTOOLS = "rvtools"
    HYPERV = "hyperv"

    @property
    def label(self) -> str:
        """The source as shown to people."""
        return {
            TopologySource.RVTOOLS: rvtools.FORMAT_NAME,
            TopologySource.HYPERV: hyperv.FORMAT_NAME,
        }[self]


@dataclass(frozen=True)
class _Read:
    hosts: dict[str, Host]
    vms: Sequence[VmRow]  # as stored: an export's tens of thousands are never VM objects
    notes: list[str]
    sources: dict[str, str]
    sha256: str  # the export's (export_sha256), from the files as they were read


@dataclass(frozen=True)
class TopologyPreview:
    """What an export holds and everything wrong with it; nothing is written."""

    source: TopologySource
    files: tuple[str, ...]
    sha256: str
    hosts: int
    clusters: int
    vms: int
    running: int
    cores: int
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    sheets: dict[str, str]
    already_imported: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        """Whether the export can be imported as it is."""
        return not self.problems

    def summary(self) -> str:
        """One line for a terminal or a status bar."""
        return (
            f"{self.source.label}: {plural(self.hosts, 'host')} ({plural(self.cores, 'core')}), "
            f"{plural(self.clusters, 'cluster')}, {plural(self.vms, 'VM')} "
            f"({self.running:,} running)"
        )


@dataclass(frozen=True)
class TopologyResult:
    """What an import stored."""

    batch_id: int | None
    files: tuple[str, ...]
    sha256: str
    taken_at: dt.datetime | None
    hosts_new: int = 0
    hosts_changed: int = 0
    hosts_unchanged: int = 0
    vms_new: int = 0
    vms_changed: int = 0
    vms_unchanged: int = 0
    vms_removed: int = 0
    placements_opened: int = 0
    placements_closed: int = 0
    already_imported: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line for a terminal or a status bar."""
        names = ", ".join(self.files)
        if self.already_imported:
            return f"{names} was imported before (same SHA-256); nothing changed."
        return (
            f"{names}: hosts {self.hosts_new:,} new, {self.hosts_changed:,} changed, "
            f"{self.hosts_unchanged:,} unchanged; VMs {self.vms_new:,} new, "
            f"{self.vms_changed:,} changed, {self.vms_unchanged:,} unchanged, "
            f"{self.vms_removed:,} no longer listed; placements {self.placements_opened:,} "
            f"started, {self.placements_closed:,} ended."
        )


def export_sha256(digests: Sequence[str]) -> str:
    """One SHA-256 for the files of an export from theirs, whatever order they are given in:
    the file's own for one file, else the hash of their hashes, sorted."""
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def _read(paths: Sequence[Path], source: TopologySource, problems: list[Problem]) -> _Read:
    if not paths:
        raise ValidationError("Name the export's files (one workbook, or its CSV files).")
    if source is TopologySource.RVTOOLS:
        rv = rvtools.read_rvtools(paths, problems)
        return _Read(rv.hosts, rv.rows, rv.notes, rv.sources, export_sha256(rv.digests))
    hv = hyperv.read_hyperv(paths, problems)
    rows = list(map(row_of, hv.identities, hv.topology.vms))
    return _Read(hv.topology.hosts, rows, hv.notes, hv.sources, export_sha256(hv.digests))


def _earlier(session: Session, sha256: str) -> dt.datetime | None:
    return session.scalar(
        select(ImportBatch.imported_at).where(
            ImportBatch.kind == IMPORT_KIND, ImportBatch.sha256 == sha256
        )
    )


def preview_topology(
    ctx: Context, paths: Sequence[Path], source: TopologySource
) -> TopologyPreview:
    """Read the export whole and report what it holds and every problem; write nothing.

    Raises:
        ImportFileError: a file is not one of the export's sheets, or a required one is missing.
    """
    problems: list[Problem] = []
    read = _read(paths, source, problems)
    sha256 = read.sha256
    with ctx.read() as session:
        earlier = _earlier(session, sha256)
    hosts = read.hosts.values()
    return TopologyPreview(
        source=source,
        files=tuple(path.name for path in paths),
        sha256=sha256,
        hosts=len(hosts),
        clusters=len({host.cluster for host in hosts if host.cluster}),
        vms=len(read.vms),
        running=sum(row[_POWER] == PowerState.ON.value for row in read.vms),
        cores=sum(host.cores for host in hosts),
        problems=tuple(problems),
        notes=tuple(read.notes),
        sheets=dict(read.sources),
        already_imported=earlier,
    )


def import_topology(
    ctx: Context,
    paths: Sequence[Path],
    source: TopologySource,
    *,
    taken_at: dt.datetime | None = None,
) -> TopologyResult:
    """Store the export in one transaction and one ledger entry, or nothing at all.

    Raises:
        ImportFileError: a file cannot be read as the export's sheets (nothing was written).
        ImportRejected: the export has problems (nothing was written).
        ValidationError: it was taken before the newest export stored.
        PermissionDenied: the operator's role may not change the directory.
    """
    # Before the files are read, and before an export imported already is reported as such.
    ctx.require(Permission.EDIT_DIRECTORY, "import server topology")
    with collector_paused():  # tens of thousands of rows without cycles (see its docstring)
        return _import(ctx, paths, source, taken_at)


def _import(
    ctx: Context, paths: Sequence[Path], source: TopologySource, taken_at: dt.datetime | None
) -> TopologyResult:
    files = tuple(path.name for path in paths)
    problems: list[Problem] = []
    read = _read(paths, source, problems)
    sha256 = read.sha256
    label = ", ".join(files)[:500]
    if problems:
        raise ImportRejected(label, problems[:200], len(problems))
    already = TopologyResult(None, files, sha256, None, already_imported=True)
    with ctx.read() as session:
        if _earlier(session, sha256) is not None:
            return already
    try:
        return _store(
            ctx, read, source=source, files=files, sha256=sha256, label=label, taken_at=taken_at
        )
    except _AlreadyImported:  # by another operator while this one read the files
        return already


class _AlreadyImported(Exception):
    """Rolls the change back: the same files were imported meanwhile."""


def _store(
    ctx: Context,
    read: _Read,
    *,
    source: TopologySource,
    files: tuple[str, ...],
    sha256: str,
    label: str,
    taken_at: dt.datetime | None,
) -> TopologyResult:
    with ctx.change(
        Permission.EDIT_DIRECTORY,
        f"import.{IMPORT_KIND}",
        "import",
        "import server topology",
        bulk=True,  # the rows refer to nothing else: hosts and VMs are named, not keyed
    ) as change:
        session = change.session
        if _earlier(session, sha256) is not None:
            raise _AlreadyImported
        moment = taken_at or change.now
        newest = session.scalar(select(func.max(ServerPlacement.started)))
        newest_host = session.scalar(select(func.max(ServerHost.seen_at)))
        latest = max((m for m in (newest, newest_host) if m is not None), default=None)
        if latest is not None and _aware(latest) > moment:
            raise ValidationError(
                f"This export is dated {moment:%Y-%m-%d %H:%M} UTC, before the newest one stored "
                f"({_aware(latest):%Y-%m-%d %H:%M} UTC): the placement history cannot run "
                "backwards. Import exports in the order they were taken."
            )
        batch = ImportBatch.begun(
            session,
            kind=IMPORT_KIND,
            file_name=label,
            sha256=sha256,
            format=source.label,
            operator=ctx.actor.name,
            at=change.now,
        )
        stored = _Store(session, batch.id, moment, source)
        stored.hosts(read.hosts)
        stored.vms(read.hosts, read.vms)
        result = TopologyResult(
            batch.id,
            files,
            sha256,
            moment,
            hosts_new=stored.counts["hosts_new"],
            hosts_changed=stored.counts["hosts_changed"],
            hosts_unchanged=stored.counts["hosts_unchanged"],
            vms_new=stored.counts["vms_new"],
            vms_changed=stored.counts["vms_changed"],
            vms_unchanged=stored.counts["vms_unchanged"],
            vms_removed=stored.counts["vms_removed"],
            placements_opened=stored.counts["opened"],
            placements_closed=stored.counts["closed"],
            notes=tuple(read.notes),
        )
        batch.rows = len(read.hosts) + len(read.vms)
        batch.inserted = result.hosts_new + result.vms_new
        batch.updated = result.hosts_changed + result.vms_changed
        batch.unchanged = result.hosts_unchanged + result.vms_unchanged
        change.entity_id = str(batch.id)
        change.after = {
            "files": list(files),
            "sha256": sha256,
            "format": source.label,
            "taken_at": f"{moment:%Y-%m-%d %H:%M:%S}",
            "hosts": len(read.hosts),
            "vms": len(read.vms),
            **{key: value for key, value in stored.counts.items() if value},
        }
        if taken_at is not None:  # the user's word, not the file's
            change.after["taken_at_given"] = True
        change.after["server_rows"] = stored.rows()
        return result


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite returns stored times without their zone; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


_VCPUS, _HOST, _POWER = 2, 3, 5  # in a VmRow
_OS_WIDTH = 300  # server_vm.os
ROWS_FIELDS = {
    "server_host": ("name", *HOST_FIELDS),
    "server_vm": ("identity", *VM_FIELDS, "new"),
    "server_placement_opened": ("vm_identity", "vm_name", "host", "vcpus"),
}
"""The columns of each list of rows an import entry records under ``after["server_rows"]``
(besides ``at``, ``source``, the identities removed and the VMs whose placement closed)."""


@dataclass
class _Store:
    """Writes an export's rows with Core statements, many rows per statement (an export of a
    large estate is tens of thousands of VMs: the ORM's row-by-row flush is many times slower)."""

    session: Session
    batch_id: int
    moment: dt.datetime
    source: TopologySource
    bulk: Bulk = field(init=False)
    stamp: object = field(init=False)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "hosts_new",
                "hosts_changed",
                "hosts_unchanged",
                "vms_new",
                "vms_changed",
                "vms_unchanged",
                "vms_removed",
                "opened",
                "closed",
            ),
            0,
        )
    )

    # What the export wrote, for the ledger entry (``after["server_rows"]``): the state check
    # replays it (``services.ledger.state``) to catch a row changed behind the ledger's back.
    # Rows are lists or tuples: both are JSON arrays.
    hosts_written: list[list[object]] = field(default_factory=list)
    vms_written: list[Sequence[object]] = field(default_factory=list)
    vms_removed: list[str] = field(default_factory=list)
    opened: list[Sequence[object]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bulk = Bulk(self.session.connection())
        self.stamp = self.bulk.stamp(self.moment)  # the moment as the backend stores it

    def rows(self) -> dict[str, object]:
        """What this export wrote, as the ledger entry records it (:data:`ROWS_FIELDS`)."""
        return {
            "at": self.moment.astimezone(dt.UTC).isoformat(),
            "source": self.source.value,
            "server_host": self.hosts_written,
            "server_vm": self.vms_written,
            "server_vm_removed": self.vms_removed,
            "server_placement_opened": self.opened,
            "server_placement_closed": self.closed,
        }

    def hosts(self, hosts: dict[str, Host]) -> None:
        existing = {
            row[0]: tuple(row[1:])
            for row in self.session.execute(
                select(ServerHost.name, *(getattr(ServerHost, f) for f in HOST_FIELDS))
            )
        }
        stamp = (self.source.value, self.batch_id, self.stamp)
        new, changed, seen = [], [], []
        fields = attrgetter(*HOST_FIELDS)
        for host in hosts.values():
            values = fields(host)
            before = existing.get(host.name)
            if before is None:
                new.append((host.name, *values, *stamp))
            elif before != values:
                changed.append((*values, *stamp, host.name))
            else:
                seen.append((*stamp, host.name))
                continue
            self.hosts_written.append([host.name, *values])
        columns = ", ".join(("name", *HOST_FIELDS, "source", "import_id", "seen_at"))
        self.bulk.insert("server_host", columns, new)
        sets = ", ".join(f"{f} = ?" for f in (*HOST_FIELDS, "source", "import_id", "seen_at"))
        self.bulk.many(f"UPDATE server_host SET {sets} WHERE name = ?", changed)
        self.bulk.many(
            "UPDATE server_host SET source = ?, import_id = ?, seen_at = ? WHERE name = ?", seen
        )
        self.counts["hosts_new"] += len(new)
        self.counts["hosts_changed"] += len(changed)
        self.counts["hosts_unchanged"] += len(seen)

    def vms(self, hosts: Collection[str], rows: Sequence[VmRow]) -> None:
        existing = {
            row[0]: tuple(row[1:])
            for row in self.session.execute(
                select(ServerVm.identity, *(getattr(ServerVm, f) for f in VM_FIELDS))
            )
        }
        listed = set(map(itemgetter(0), rows))
        host_at = VM_FIELDS.index("host")
        gone = [
            (identity,)
            for identity, before in existing.items()
            if identity not in listed and before[host_at] in hosts
        ]
        new: list[tuple[object, ...]] = []
        changed: list[tuple[object, ...]] = []
        seen: list[tuple[object, ...]] = []
        batch, stamp, written = self.batch_id, self.stamp, self.vms_written
        fields: list[tuple[object, ...]] = []
        if not existing and rows:  # the first export of these VMs: every one new
            # Its tens of thousands of rows taken apart into columns and put together as the
            # statement's and the ledger entry's rows, in C (zip), not row by row.
            *fields, oses = zip(*rows, strict=True)
            if max(map(len, oses)) > _OS_WIDTH:
                oses = tuple(os[:_OS_WIDTH] for os in oses)
            fields.append(oses)
            written.extend(zip(*fields, repeat(True)))
        # Locals: this loop runs once per VM of the export.
        known = existing.get
        for identity, name, vcpus, host, cluster, power, os in rows if existing else ():
            values = (name, vcpus, host, cluster, power, os[:_OS_WIDTH])
            before = known(identity)
            if before is None:
                new.append((identity, *values, batch, stamp))
            elif before != values:
                changed.append((*values, batch, stamp, identity))
            else:
                seen.append((batch, stamp, identity))
                continue
            written.append([identity, *values, before is None])
        # gone from a host this export describes
        self.bulk.many("DELETE FROM server_vm WHERE identity = ?", gone)
        self.vms_removed.extend(identity for (identity,) in gone)
        columns = ", ".join(("identity", *VM_FIELDS, "import_id", "seen_at"))
        self.bulk.insert("server_vm", columns, new)
        if fields:  # streamed to the driver: never a list of rows (zip reuses its tuple)
            marks = ", ".join("?" * (len(fields) + 2))
            self.bulk.stream(
                f"INSERT INTO server_vm ({columns}) VALUES ({marks})",
                zip(*fields, repeat(batch), repeat(stamp)),
            )
        sets = ", ".join(f"{f} = ?" for f in (*VM_FIELDS, "import_id", "seen_at"))
        self.bulk.many(f"UPDATE server_vm SET {sets} WHERE identity = ?", changed)
        self.bulk.many("UPDATE server_vm SET import_id = ?, seen_at = ? WHERE identity = ?", seen)
        self.counts["vms_removed"] += len(gone)
        self.counts["vms_new"] += len(new) + (len(rows) if fields else 0)
        self.counts["vms_changed"] += len(changed)
        self.counts["vms_unchanged"] += len(seen)
        self._placements(rows, listed, hosts)

    def _placements(self, rows: Sequence[VmRow], listed: set[str], hosts: Collection[str]) -> None:
        on = PowerState.ON.value
        still: set[str] = set()
        ended = []
        stored = self.session.execute(
            select(
                ServerPlacement.id,
                ServerPlacement.vm_identity,
                ServerPlacement.host,
                ServerPlacement.vcpus,
            ).where(ServerPlacement.ended.is_(None))
        ).all()
        running = {row[0]: row for row in rows if row[_POWER] == on} if stored else {}
        for row_id, identity, host, vcpus in stored:
            if identity not in listed and host not in hosts:
                continue  # another export's VM on another export's host
            vm = running.get(identity)
            if vm is not None and (vm[_HOST], vm[_VCPUS]) == (host, vcpus):
                still.add(identity)
            else:
                ended.append((self.stamp, row_id))
                self.closed.append(identity)
        self.bulk.many("UPDATE server_placement SET ended = ? WHERE id = ?", ended)
        # Each running VM once (an identity is listed once), as the export lists them; the
        # rows made in C (compress, zip) where none was running before.
        if still:
            starting = [row for row in rows if row[_POWER] == on and row[0] not in still]
        else:
            starting = list(compress(rows, map(on.__eq__, map(itemgetter(_POWER), rows))))
        if starting:
            identities, names, cpus, on_hosts = list(zip(*starting, strict=True))[:4]
            placed = (identities, names, on_hosts, cpus)
            self.bulk.stream(
                "INSERT INTO server_placement (vm_identity, vm_name, host, vcpus, started, "
                "import_id) VALUES (?, ?, ?, ?, ?, ?)",
                zip(*placed, repeat(self.stamp), repeat(self.batch_id)),
            )
            self.opened.extend(zip(*placed, strict=True))
        self.counts["closed"] += len(ended)
        self.counts["opened"] += len(starting)
