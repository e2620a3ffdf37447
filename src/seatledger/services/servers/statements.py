"""Vendor statements as evidence: a Microsoft License Statement previewed, stored whole or not at
all, and reconciled against the recorded purchases and the computed server requirement.

A statement is what the vendor believes the organization owns, not a purchase: it changes no
entitlement.  The import follows every other file's rules: the preview names every problem by
file, sheet, line and column and writes nothing; the commit refuses the whole file while any
problem remains and is one ledger entry (``import.statement``) with the file's SHA-256 and its
lines; the same file again changes nothing; a statement calculated before the newest one stored
is refused (the evidence would run backwards).

The reconciliation (:func:`findings`) is pure: for each product family the statement lists, the
quantity it says beside the quantity the purchases in term record, and, for Windows Server and
SQL Server, beside what the server position requires; every difference is a finding naming both
numbers and where each comes from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seatledger.domain.roles import Permission
from seatledger.errors import ValidationError
from seatledger.services.core.context import Context
from seatledger.store.models import ImportBatch
from seatledger.store.models_statements import VendorStatement, VendorStatementLine
from seatledger.text import plural

if TYPE_CHECKING:
    from seatledger.ingest.tabular import Problem

# The file readers load with the first statement read, not with the position (start-up stays
# light: the Servers page computes the position without them).

IMPORT_KIND = "statement"
# The pool of a stored line of an ILMT snapshot's per-server detail (its product in ``family``,
# its server in ``version``): the zip member it was read from.  A summary line's pool is its
# metric ("PVU - Subcapacity"), never this.
SERVER_POOL = "pvu_sub_capacity.csv"
_LABELS = {"mls": "Microsoft License Statement", "ilmt": "ILMT audit snapshot"}
_PACK = re.compile(r"(\d+)\s*-?\s*core", re.IGNORECASE)


class StatementKind(StrEnum):
    """Which vendor's statement a file is."""

    MLS = "mls"
    ILMT = "ilmt"

    @property
    def label(self) -> str:
        """The statement as shown to people."""
        return _LABELS[self.value]  # the readers' FORMAT_NAME (a test holds them equal)


@dataclass(frozen=True)
class _Read:
    where: str  # the sheet or zip member read
    calculated_on: dt.date | None
    lines: tuple[tuple[int, str, str, str, int], ...]  # line, pool, family, version, quantity
    notes: tuple[str, ...]
    # An ILMT snapshot's per-server figures, stored as lines of SERVER_POOL (line, pool,
    # product, server, PVUs): one per line of the file (a server's lines give its figure).
    servers: tuple[tuple[int, str, str, str, int], ...] = ()


def _read(path: Path, kind: StatementKind, problems: list[Problem]) -> _Read:
    from seatledger.ingest import ilmt, mls  # noqa: PLC0415 (see above)

    if kind is StatementKind.MLS:
        statement = mls.read_mls(path, problems)
        return _Read(
            statement.sheet,
            statement.calculated_on,
            tuple((ln.line, ln.pool, ln.family, ln.version, ln.quantity) for ln in statement.lines),
            tuple(statement.notes),
        )
    snapshot = ilmt.read_ilmt(path, problems)
    return _Read(
        snapshot.member,
        snapshot.period_end,
        tuple((ln.line, ln.metric, ln.product, "", ln.quantity) for ln in snapshot.lines),
        tuple(snapshot.notes),
        tuple(
            (line, SERVER_POOL, server.product, server.server, server.pvus)
            for server in snapshot.servers
            for line in server.lines
        ),
    )


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    """One stored line of a statement, as the reconciliation reads it."""

    line: int
    pool: str
    family: str
    version: str
    quantity: int

    @property
    def cores_per_license(self) -> int:
        """How many core licenses one unit is (2 for a "2 Core" pack)."""
        found = _PACK.search(self.family)
        return int(found.group(1)) if found else 1


@dataclass(frozen=True)
class Evidence:
    """The newest statement stored: where it comes from and its lines."""

    kind: StatementKind
    file: str
    sheet: str
    calculated_on: dt.date
    lines: tuple[EvidenceLine, ...]
    servers: tuple[EvidenceLine, ...] = ()  # an ILMT snapshot's per-server figures

    @property
    def source(self) -> str:
        """The statement as a finding names it."""
        if self.kind is StatementKind.ILMT:
            return (
                f"the ILMT audit snapshot {self.file} (period ending {self.calculated_on:%Y-%m-%d})"
            )
        return f"the Microsoft License Statement {self.file} of {self.calculated_on:%Y-%m-%d}"


@dataclass(frozen=True)
class StatementPreview:
    """What a statement holds and everything wrong with it; nothing is written."""

    kind: StatementKind
    file: str
    sha256: str
    sheet: str
    calculated_on: dt.date | None
    lines: int
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    already_imported: dt.datetime | None = None
    newer_stored: dt.date | None = None  # a statement calculated later is stored already

    @property
    def ok(self) -> bool:
        """Whether the statement can be imported as it is."""
        return not self.problems and self.newer_stored is None

    def summary(self) -> str:
        """One line for a terminal or a status bar."""
        day = f"{self.calculated_on:%Y-%m-%d}" if self.calculated_on else "no date"
        dated = "calculated" if self.kind is StatementKind.MLS else "for the period ending"
        return (
            f"{self.kind.label} {dated} {day}: {plural(self.lines, 'product line')} ({self.sheet})"
        )


@dataclass(frozen=True)
class StatementResult:
    """What an import stored."""

    kind: StatementKind
    batch_id: int | None
    file: str
    sha256: str
    calculated_on: dt.date | None
    lines: int = 0
    already_imported: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line for a terminal or a status bar."""
        if self.already_imported:
            return f"{self.file} was imported before (same SHA-256); nothing changed."
        return (
            f"{self.file}: {self.kind.label} of {self.calculated_on:%Y-%m-%d} stored, "
            f"{plural(self.lines, 'product line')}; it is evidence, no purchase was changed."
        )


def _earlier(session: Session, sha256: str) -> dt.datetime | None:
    return session.scalar(
        select(ImportBatch.imported_at).where(
            ImportBatch.kind == IMPORT_KIND, ImportBatch.sha256 == sha256
        )
    )


def _newest(session: Session, kind: StatementKind) -> dt.date | None:
    return session.scalar(
        select(func.max(VendorStatement.calculated_on)).where(VendorStatement.kind == kind.value)
    )


def preview_statement(ctx: Context, path: Path, kind: StatementKind) -> StatementPreview:
    """Read a statement whole and report what it holds and every problem; write nothing.

    Raises:
        ImportFileError: the file is not a statement (no Pivot Data sheet, no header row).
    """
    from seatledger.ingest.tabular import sniff  # noqa: PLC0415 (see above)

    problems: list[Problem] = []
    read = _read(path, kind, problems)
    sha256 = sniff(path).sha256
    with ctx.read() as session:
        earlier = _earlier(session, sha256)
        newest = _newest(session, kind)
    newer = (
        newest
        if newest is not None and read.calculated_on is not None and newest > read.calculated_on
        else None
    )
    return StatementPreview(
        kind=kind,
        file=path.name,
        sha256=sha256,
        sheet=read.where,
        calculated_on=read.calculated_on,
        lines=len(read.lines),
        problems=tuple(problems),
        notes=tuple(read.notes),
        already_imported=earlier,
        newer_stored=None if earlier is not None else newer,
    )


def import_statement(ctx: Context, path: Path, kind: StatementKind) -> StatementResult:
    """Store the statement in one transaction and one ledger entry, or nothing at all.

    Raises:
        ImportFileError: the file is not a statement (nothing was written).
        ImportRejected: it has problems (nothing was written).
        ValidationError: a statement calculated later is stored already.
        PermissionDenied: the operator's role may not change licenses.
    """
    ctx.require(Permission.EDIT_LICENSES, "import vendor statements")
    from seatledger.ingest.tabular import sniff  # noqa: PLC0415 (see above)
    from seatledger.services.imports.service import ImportRejected  # noqa: PLC0415

    problems: list[Problem] = []
    read = _read(path, kind, problems)
    sha256 = sniff(path).sha256
    if problems:
        raise ImportRejected(path.name, problems[:200], len(problems))
    assert read.calculated_on is not None  # a problem otherwise
    already = StatementResult(
        kind, None, path.name, sha256, read.calculated_on, already_imported=True
    )
    with ctx.read() as session:
        if _earlier(session, sha256) is not None:
            return already
    try:
        return _store(ctx, path, kind, read, sha256)
    except _AlreadyImported:  # by another operator while this one read the file
        return already


class _AlreadyImported(Exception):
    """Rolls the change back: the same file was imported meanwhile."""


def _store(
    ctx: Context, path: Path, kind: StatementKind, read: _Read, sha256: str
) -> StatementResult:
    assert read.calculated_on is not None
    with ctx.change(
        Permission.EDIT_LICENSES, f"import.{IMPORT_KIND}", "import", "import vendor statements"
    ) as change:
        session = change.session
        if _earlier(session, sha256) is not None:
            raise _AlreadyImported
        newest = _newest(session, kind)
        if newest is not None and newest > read.calculated_on:
            raise ValidationError(
                f"{path.name} was calculated on {read.calculated_on:%Y-%m-%d}, before the "
                f"{kind.label} stored already ({newest:%Y-%m-%d}): the newer one is the "
                "evidence. Import them in the order they were made."
            )
        batch = ImportBatch.begun(
            session,
            kind=IMPORT_KIND,
            file_name=path.name,
            sha256=sha256,
            format=kind.label,
            operator=ctx.actor.name,
            at=change.now,
            rows=len(read.lines),
        )
        statement = VendorStatement(
            kind=kind.value,
            import_id=batch.id,
            file_name=path.name[:500],
            sha256=sha256,
            sheet=read.where[:100],
            calculated_on=read.calculated_on,
            imported_at=change.now,
        )
        session.add(statement)
        session.flush()
        session.add_all(
            VendorStatementLine(
                statement_id=statement.id,
                line=line,
                pool=pool[:100],
                family=family[:300],
                version=version[:100],
                quantity=quantity,
            )
            for line, pool, family, version, quantity in (*read.lines, *read.servers)
        )
        change.entity_id = str(batch.id)
        change.after = {
            "file": path.name,
            "sha256": sha256,
            "format": kind.label,
            "sheet": read.where,
            "calculated_on": read.calculated_on.isoformat(),
            "lines": [list(line) for line in read.lines],
        }
        if read.servers:  # the per-server figures, by the file line behind each
            change.after["servers"] = [list(line) for line in read.servers]
    return StatementResult(
        kind,
        batch.id,
        path.name,
        sha256,
        read.calculated_on,
        lines=len(read.lines),
        notes=tuple(read.notes),
    )


def load_evidence(session: Session) -> tuple[Evidence, ...]:
    """The newest statement stored of each kind (none where none was imported)."""
    found = []
    for kind in StatementKind:
        statement = session.scalars(
            select(VendorStatement)
            .where(VendorStatement.kind == kind.value)
            .order_by(VendorStatement.calculated_on.desc(), VendorStatement.id.desc())
            .limit(1)
        ).first()
        if statement is None:
            continue
        rows = [
            EvidenceLine(row.line, row.pool, row.family, row.version, row.quantity)
            for row in session.scalars(
                select(VendorStatementLine)
                .where(VendorStatementLine.statement_id == statement.id)
                .order_by(VendorStatementLine.line, VendorStatementLine.id)
            )
        ]
        per_server = kind is StatementKind.ILMT
        found.append(
            Evidence(
                kind,
                statement.file_name,
                statement.sheet,
                statement.calculated_on,
                tuple(r for r in rows if not (per_server and r.pool == SERVER_POOL)),
                tuple(r for r in rows if per_server and r.pool == SERVER_POOL),
            )
        )
    return tuple(found)


# -- the reconciliation ---------------------------------------------------------------------------

# Words of a family name that say how it is sold, not what it is.
_PACKAGING = re.compile(
    r"\b(\d+\s*-?\s*core|core|cores|license|licence|licenses|licences|lic|pack|packs|corelic)\b"
)


def family_words(family: str) -> tuple[str, ...]:
    """The words of a statement's product family that a purchase's product or name must hold:
    ``Windows Server Datacenter - 2 Core License Pack`` -> windows, server, datacenter."""
    text = _PACKAGING.sub(" ", family.casefold())
    return tuple(w for w in re.split(r"[^0-9a-zà-ÿ]+", text) if w)


@dataclass(frozen=True, slots=True)
class Bought:
    """A purchase in term, as the reconciliation matches it."""

    entitlement_id: int
    vendor: str
    words: str  # product and purchase name, folded
    quantity: int


@dataclass(frozen=True, slots=True)
class Required:
    """A server family's computed requirement (core licenses) and its words."""

    family: str
    words: str  # e.g. "windows server"
    required: int


def findings(
    evidence: Evidence, purchases: Sequence[Bought], requirements: Sequence[Required]
) -> list[str]:
    """Every difference between the statement and the purchases recorded (per product family
    the statement lists, all versions together), and between the statement and the computed
    server requirement (Windows Server, SQL Server: every edition together).

    Quantities are compared in the statement's unit converted to licenses: a "2 Core" pack is
    2 core licenses, which is how SeatLedger's per-core purchases count.
    """
    found: list[str] = []
    families: dict[tuple[str, ...], list[EvidenceLine]] = {}
    for line in evidence.lines:
        families.setdefault(family_words(line.family), []).append(line)
    microsoft = [p for p in purchases if p.vendor.casefold().startswith("microsoft")]
    for words, lines in sorted(families.items()):
        if not words:
            continue
        name = lines[0].family
        said = sum(line.quantity * line.cores_per_license for line in lines)
        units = sum(line.quantity for line in lines)
        per = lines[0].cores_per_license
        matching = [p for p in microsoft if all(w in p.words for w in words)]
        bought = sum(p.quantity for p in matching)
        if said == bought:
            continue
        where = f"{evidence.sheet} {'line' if len(lines) == 1 else 'lines'} " + ", ".join(
            str(line.line) for line in lines
        )
        said_text = (
            f"{units:,} × {per}-core {'pack' if units == 1 else 'packs'} = {said:,} core licenses"
            if per > 1
            else f"{said:,}"
        )
        bought_text = (
            f"the purchases recorded say {bought:,} (entitlements "
            + ", ".join(f"#{p.entitlement_id}" for p in matching)
            + ")"
            if matching
            else "no purchase in term is recorded for it"
        )
        difference = said - bought
        found.append(
            f"{name}: {evidence.source} says {said_text} ({where}); {bought_text}: "
            + (
                f"Microsoft counts {difference:,} more than the purchases recorded (a purchase "
                "missing here?)"
                if difference > 0
                else f"{-difference:,} recorded that Microsoft does not count (a purchase "
                "missing from Microsoft's record, or one through another channel?)"
            )
            + "."
        )
    for requirement in requirements:
        lines = [
            line
            for line in evidence.lines
            if requirement.words in " ".join(family_words(line.family))
            and "core" in line.family.casefold()
        ]
        if not lines:
            continue
        said = sum(line.quantity * line.cores_per_license for line in lines)
        if said >= requirement.required:
            continue
        found.append(
            f"{requirement.family}: the server position requires {requirement.required:,} core "
            f"licenses; {evidence.source} says {said:,} ({evidence.sheet} "
            + ", ".join(str(line.line) for line in lines)
            + f"): {requirement.required - said:,} short by Microsoft's own record."
        )
    return found


@dataclass(frozen=True, slots=True)
class Computed:
    """An IBM product's computed sub-capacity peak (PVUs) and what was bought of it, and the
    PVUs of each host at that peak (``servers``: host name, PVUs)."""

    product: str
    required: int
    purchased: int
    servers: tuple[tuple[str, int], ...] = ()


def _ours(product: str, computed: Sequence[Computed]) -> Computed | None:
    """The computed product an ILMT product name is (the catalog's name within ILMT's, or
    ILMT's within it; the longest such name where several are)."""
    name = product.casefold()
    matches = [c for c in computed if c.product.casefold() in name or name in c.product.casefold()]
    return max(matches, key=lambda c: len(c.product), default=None)


def ilmt_findings(
    evidence: Evidence, computed: Sequence[Computed], hosts: Sequence[str] = ()
) -> list[str]:
    """Every difference between an ILMT snapshot's PVU peaks and SeatLedger's computed IBM
    requirement, per product (matched by name: the catalog's product name within ILMT's, or
    ILMT's within it), every peak above what was bought, and, where the snapshot has its
    per-server detail, every server whose PVUs differ from SeatLedger's for it (``hosts``: the
    topology's hosts, to tell a server SeatLedger counts nothing on from one it does not know)."""
    found: list[str] = []
    where = f"{evidence.sheet} line"
    for line in evidence.lines:
        ours = _ours(line.family, computed)
        said = f"{evidence.source} says a peak of {line.quantity:,} PVUs ({where} {line.line})"
        if ours is None:
            found.append(
                f"{line.family}: {said}; SeatLedger computes no IBM requirement for it (no "
                "product of that name is installed on a VM): map it to a product."
            )
            continue
        if ours.required != line.quantity:
            more = line.quantity - ours.required
            found.append(
                f"{line.family}: {said}; SeatLedger computes a peak of {ours.required:,} PVUs "
                f"for {ours.product}: "
                + (f"ILMT counts {more:,} more" if more > 0 else f"ILMT counts {-more:,} fewer")
                + " (a host's processor or a VM's placement seen differently)."
            )
        if line.quantity > ours.purchased:
            found.append(
                f"{line.family}: {said}; {ours.purchased:,} bought for {ours.product}: "
                f"{line.quantity - ours.purchased:,} short by IBM's own measure."
            )
        found += _server_findings(evidence, line.family, ours, hosts)
    return found


def _host_named(server: str, hosts: Sequence[str]) -> str | None:
    """The topology's host an ILMT server name is: the same name, else the same short name
    (``esx01`` for ``esx01.corp.example``) where only one host has it."""
    folded = server.casefold()
    for host in hosts:
        if host.casefold() == folded:
            return host
    short = folded.split(".", 1)[0]
    same = [h for h in hosts if h.casefold().split(".", 1)[0] == short]
    return same[0] if len(same) == 1 else None


def _server_findings(
    evidence: Evidence, product: str, ours: Computed, hosts: Sequence[str]
) -> list[str]:
    """One ILMT product's per-server PVUs against SeatLedger's at its computed peak."""
    theirs: dict[str, list[EvidenceLine]] = {}
    for line in evidence.servers:
        if line.family.casefold() == product.casefold():
            theirs.setdefault(line.version.casefold(), []).append(line)
    if not theirs:
        return []
    counted = {host.casefold(): pvus for host, pvus in ours.servers}
    seen: set[str] = set()
    found: list[str] = []
    for lines in theirs.values():
        server, pvus = lines[0].version, max(line.quantity for line in lines)
        numbers = ", ".join(str(line.line) for line in lines)
        where = f"{SERVER_POOL} {'line' if len(lines) == 1 else 'lines'} {numbers}"
        said = f"{evidence.source} says {pvus:,} PVUs on it at the peak ({where})"
        host = _host_named(server, hosts)
        if host is None:
            if pvus:
                found.append(
                    f"{product} on {server}: {said}; it is no host of the imported topology, "
                    f"so SeatLedger counts nothing there for {ours.product}: import the server "
                    "(or its virtualization host) to check it."
                )
            continue
        seen.add(host.casefold())
        mine = counted.get(host.casefold(), 0)
        if mine == pvus:
            continue
        more = pvus - mine
        found.append(
            f"{product} on {host}: {said}; SeatLedger computes {mine:,} PVUs on it for "
            f"{ours.product}: "
            + (f"ILMT counts {more:,} more" if more > 0 else f"ILMT counts {-more:,} fewer")
            + " (the host's processor or the VMs seen running there differ)."
        )
    for host, pvus in ours.servers:
        if pvus and host.casefold() not in seen:
            found.append(
                f"{product} on {host}: SeatLedger computes {pvus:,} PVUs on it for "
                f"{ours.product}; {evidence.source} lists no PVUs of it on this server "
                f"({SERVER_POOL}): ILMT counts {pvus:,} fewer (an agent missing there?)."
            )
    return found
