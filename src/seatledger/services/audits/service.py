"""Audits as records: starting one, every wizard step and decision, schedules, and what is due.

Each method that changes something is one service call, one transaction and one ledger entry, so
the ledger shows every step an audit went through: its start (scheduled, on suspicion with a
reason, or at a vendor's request), its scope, each step reached, each freshness warning
acknowledged, each finding's decision, the attestation and its second approval, and the signed
report's checkpoint.  Starting, deciding and signing need the audit permission (administrators
and auditors).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from seatledger.domain import validation
from seatledger.domain.licensing import Metric, UnitTable, device_units, stored_table
from seatledger.domain.roles import Permission, allows
from seatledger.errors import (
    LedgerIntegrityError,
    NotFoundError,
    StateIntegrityError,
    ValidationError,
)
from seatledger.progress import Progress
from seatledger.services import lookups
from seatledger.services.audits import claim
from seatledger.services.audits.bundle import model as bundle_model
from seatledger.services.audits.servers import ServerSection, server_section
from seatledger.services.core.context import Context
from seatledger.services.ledger.state import check_scope
from seatledger.services.lookups import NamedItem
from seatledger.services.position.engine import (
    CONCURRENT_WINDOW_DAYS,
    Finding,
    Position,
    PositionRow,
    PositionScope,
    end_of,
    installed,
    seat_open,
)
from seatledger.services.servers.position import families_of
from seatledger.services.settings.service import load as data_settings
from seatledger.services.usage.history import UsageHistoryService
from seatledger.services.usage.snapshots import ConcurrencyBasis, concurrency_bases
from seatledger.store.models import (
    Device,
    Entitlement,
    ImportBatch,
    Installation,
    LedgerEntry,
    Operator,
    Product,
    SeatAssignment,
    SoftwareTitle,
    Team,
    Vendor,
)
from seatledger.store.models_audit import Audit, AuditDecision, AuditSchedule
from seatledger.text import agree, article, plural

if TYPE_CHECKING:
    from seatledger.domain.usage import UsageSeries
    from seatledger.services.audits.signing import KdfCost

RUN = "run audits"
SHOWN_DIFFERENCES = 5  # rows named when a changed state refuses signing; the count says the rest
DUE_LEAD_DAYS = 14  # a scheduled audit shows as due this many days before its date
CHART_DAYS = 365  # the report's usage charts show the year up to the as-of date
FRESHNESS = "freshness"
FINDING = "finding"
ACKNOWLEDGED = "acknowledged"
METHOD = (
    "The effective license position is computed from SeatLedger's stored history as of the "
    "audit date: rights owned are the entitlements in term on that date; rights needed count, "
    "per metric, everyone and everything holding a seat, running an install or checking out a "
    "license. Installs come from discovery imports mapped to products by normalization rules; "
    "concurrent use is the peak of simultaneous checkouts in the {window} days before the date. "
    "Shelfware is a seat unused for {shelf} days."
)


class Step(StrEnum):
    """The wizard's pages, in order; an audit resumes at the one it reached."""

    SCOPE = "scope"
    FRESHNESS = "freshness"
    POSITION = "position"
    FINDINGS = "findings"
    ATTESTATION = "attestation"
    SIGN = "sign"

    @property
    def label(self) -> str:
        """The step as shown."""
        return {
            Step.SCOPE: "Scope",
            Step.FRESHNESS: "Data freshness",
            Step.POSITION: "Position review",
            Step.FINDINGS: "Findings triage",
            Step.ATTESTATION: "Attestation",
            Step.SIGN: "Sign and export",
        }[self]

    @property
    def order(self) -> int:
        """The step's place in the wizard, from 0."""
        return list(Step).index(self)


class Status(StrEnum):
    """Where an audit stands: draft until attested, in review until signed."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    SIGNED = "signed"

    @property
    def label(self) -> str:
        """The status as shown."""
        return {Status.DRAFT: "Draft", Status.IN_REVIEW: "In review", Status.SIGNED: "Signed"}[self]


@dataclass(frozen=True, slots=True)
class AuditInfo:
    """One audit as the wizard, the Audits page and the command line show it."""

    id: int
    vendor_id: int
    vendor: str
    product_ids: tuple[int, ...]
    products: tuple[str, ...]
    team_ids: tuple[int, ...]
    teams: tuple[str, ...]
    as_of: dt.date
    shelf_days: int
    trigger: bundle_model.Trigger
    trigger_reason: str
    status: Status
    step: Step
    owner: str
    created_at: dt.datetime
    updated_at: dt.datetime
    due_on: dt.date | None
    schedule_id: int | None
    attested_by: str
    attestation: str
    attested_at: dt.datetime | None
    approver: str
    approved_at: dt.datetime | None
    signed_at: dt.datetime | None
    checkpoint: bundle_model.Checkpoint | None
    manifest_sha256: str
    key_fingerprint: str
    bundle_path: str

    @property
    def scope(self) -> bundle_model.Scope:
        """The scope by name, as the report states it."""
        return bundle_model.Scope(self.vendor, self.products, self.teams)

    @property
    def scope_text(self) -> str:
        """The scope in words."""
        products = ", ".join(self.products) if self.products else "all products"
        teams = ", ".join(self.teams) if self.teams else "everyone"
        return f"{self.vendor}: {products}; {teams}"

    @property
    def title(self) -> str:
        """A short name for the audit."""
        return f"Audit {self.id}: {self.vendor} as of {self.as_of.isoformat()}"


@dataclass(frozen=True, slots=True)
class FreshnessWarning:
    """A reason to doubt the data on the audit date, and whether someone acknowledged it."""

    topic: str
    text: str
    acknowledged_by: str = ""
    acknowledged_at: dt.datetime | None = None

    @property
    def acknowledged(self) -> bool:
        """Whether an operator acknowledged the warning."""
        return bool(self.acknowledged_by)


@dataclass(frozen=True, slots=True)
class FindingDecision:
    """The decision recorded on one finding of an audit."""

    key: str
    summary: str
    decision: bundle_model.Decision
    explanation: str
    owner: str
    due: dt.date | None
    decided_by: str
    decided_at: dt.datetime

    def resolution(self) -> bundle_model.Resolution:
        """The decision as the report states it."""
        return bundle_model.Resolution(
            decision=self.decision,
            explanation=self.explanation,
            owner=self.owner,
            due=self.due,
            decided_by=self.decided_by,
            decided_at=self.decided_at,
        )


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """A vendor's periodic audit schedule."""

    id: int
    vendor_id: int
    vendor: str
    every_months: int
    next_due: dt.date
    active: bool


@dataclass(frozen=True, slots=True)
class DueAudit:
    """A scheduled audit that is due soon or overdue, and the open audit answering it, if any."""

    schedule_id: int
    vendor_id: int
    vendor: str
    due_on: dt.date
    overdue: bool
    audit_id: int | None

    @property
    def text(self) -> str:
        """The line a dashboard shows."""
        state = "overdue since" if self.overdue else "due"
        started = f" (audit {self.audit_id} in progress)" if self.audit_id else ""
        return f"{self.vendor}: {state} {self.due_on.isoformat()}{started}"


def count_due(ctx: Context, today: dt.date) -> int:
    """Scheduled audits whose date has come (the dashboard's "audits due" card)."""
    return len(AuditService(ctx).due(today, lead_days=0))


def finding_key(finding: Finding) -> str:
    """A finding's identity within an audit: kind, product and entitlement."""
    return f"{finding.kind.value}:{finding.product_id}:{finding.entitlement_id or 0}"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in json.loads(text))


def _ids_text(ids: Sequence[int]) -> str:
    return json.dumps(sorted(set(ids)), separators=(",", ":"))


def _stamp(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def _snapshot(audit: Audit) -> dict[str, Any]:
    return {
        "vendor_id": audit.vendor_id,
        "product_ids": json.loads(audit.product_ids),
        "team_ids": json.loads(audit.team_ids),
        "as_of": audit.as_of.isoformat(),
        "shelf_days": audit.shelf_days,
        "trigger": audit.trigger,
        "trigger_reason": audit.trigger_reason,
        "status": audit.status,
        "step": audit.step,
        "owner": audit.owner,
    }


def _decision_snapshot(row: AuditDecision | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "kind": row.kind,
        "key": row.key,
        "summary": row.summary,
        "decision": row.decision,
        "explanation": row.explanation,
        "owner": row.owner,
        "due": None if row.due is None else row.due.isoformat(),
    }


class AuditService:
    """Audits, their decisions and schedules; the wizard and ``seatledger audit`` call this."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # ---------------------------------------------------------------------------- reading

    def today(self) -> dt.date:
        """Today by the services' clock (UTC)."""
        return self._ctx.clock().date()

    def audits(self) -> list[AuditInfo]:
        """Every audit, newest first."""
        with self._ctx.read() as session:
            audits = session.scalars(select(Audit).order_by(Audit.id.desc())).all()
            return [_info(session, a) for a in audits]

    def get(self, audit_id: int) -> AuditInfo:
        """One audit."""
        with self._ctx.read() as session:
            return _info(session, _audit(session, audit_id))

    def previous_checkpoint(self, audit_id: int) -> bundle_model.Checkpoint | None:
        """The checkpoint of the last signed audit of the same vendor, before this one."""
        with self._ctx.read() as session:
            audit = _audit(session, audit_id)
            return _previous(session, audit)

    def vendors(self) -> list[NamedItem]:
        """Vendors to audit, by name."""
        return lookups.vendors(self._ctx)

    def products(self, vendor_id: int) -> list[NamedItem]:
        """A vendor's products, by name."""
        return [NamedItem(p.id, p.name) for p in lookups.products(self._ctx, vendor_id)]

    def teams(self) -> list[NamedItem]:
        """Teams a scope may be narrowed to."""
        return lookups.teams(self._ctx)

    def vendor_of_entitlement(self, entitlement_id: int) -> tuple[int, int, str]:
        """(vendor id, product id, "Vendor Product") of a license, for "Audit this…"."""
        with self._ctx.read() as session:
            row = session.execute(
                select(
                    Vendor.id.label("vendor_id"),
                    Product.id.label("product_id"),
                    Vendor.name.label("vendor"),
                    Product.name.label("product"),
                )
                .join(Product, Product.vendor_id == Vendor.id)
                .join(Entitlement, Entitlement.product_id == Product.id)
                .where(Entitlement.id == entitlement_id)
            ).first()
        if row is None:
            raise NotFoundError(f"License {entitlement_id} does not exist.")
        return int(row.vendor_id), int(row.product_id), f"{row.vendor} {row.product}"

    def vendor_of_product(self, product_id: int) -> tuple[int, int]:
        """(vendor id, product id) of a product, for an audit started from an alert."""
        with self._ctx.read() as session:
            vendor_id = session.scalar(select(Product.vendor_id).where(Product.id == product_id))
        if vendor_id is None:
            raise NotFoundError(f"Product {product_id} does not exist.")
        return int(vendor_id), product_id

    def concurrency_basis(self, audit_id: int) -> list[tuple[str, str]]:
        """What each concurrent-use figure in the audit's scope rests on, on its date:
        (vendor and product, a sentence naming the snapshots or the complete log)."""
        with self._ctx.read() as session:
            audit = _audit(session, audit_id)
            bases = _concurrency_bases(session, audit, self._ctx.clock())
            return [(name, basis.text()) for name, basis in bases]

    def freshness(self, audit_id: int) -> list[FreshnessWarning]:
        """What makes the audit's data doubtful on its date, with acknowledgements so far."""
        with self._ctx.read() as session:
            audit = _audit(session, audit_id)
            warnings = _freshness(session, audit, self._ctx.clock())
            acks = {
                d.key: d
                for d in session.scalars(
                    select(AuditDecision).where(
                        AuditDecision.audit_id == audit_id, AuditDecision.kind == FRESHNESS
                    )
                )
            }
        result = []
        for topic, text in warnings:
            ack = acks.get(topic)
            if ack is not None and ack.summary == text:
                result.append(FreshnessWarning(topic, text, ack.decided_by, _aware(ack.decided_at)))
            else:
                result.append(FreshnessWarning(topic, text))
        return result

    def data_ages(self, audit_id: int) -> list[str]:
        """What the audit's data is on its date: the newest import of each kind, and its age."""
        with self._ctx.read() as session:
            audit = _audit(session, audit_id)
            lines = []
            for kind, what in (
                ("inventory", "Inventory"),
                ("usage", "License-server usage"),
                ("people", "People (HR)"),
                ("entitlements", "Purchases"),
            ):
                latest = _latest_import(session, [kind], audit.as_of)
                if latest is None:
                    lines.append(f"{what}: never imported by {audit.as_of}.")
                else:
                    age = (audit.as_of - latest.date()).days
                    lines.append(
                        f"{what}: newest import {latest.date().isoformat()}, "
                        f"{plural(age, 'day')} before the audit date."
                    )
            return lines

    def decisions(self, audit_id: int) -> dict[str, FindingDecision]:
        """The decisions recorded on the audit's findings, by finding key."""
        with self._ctx.read() as session:
            rows = session.scalars(
                select(AuditDecision).where(
                    AuditDecision.audit_id == audit_id, AuditDecision.kind == FINDING
                )
            ).all()
            return {
                r.key: FindingDecision(
                    r.key,
                    r.summary,
                    bundle_model.Decision(r.decision),
                    r.explanation,
                    r.owner,
                    r.due,
                    r.decided_by,
                    _aware(r.decided_at) or r.decided_at,
                )
                for r in rows
            }

    def position_scope(self, audit: AuditInfo) -> PositionScope:
        """What the audit's position is computed for: its vendor and products, read without the
        rest of the organization.  Its teams narrow the bundle's lists of seats and installs,
        not the position (the report's figures are the vendor's)."""
        return PositionScope(vendor_id=audit.vendor_id, product_ids=audit.product_ids)

    def scoped(
        self, audit: AuditInfo, position: Position
    ) -> tuple[list[PositionRow], list[Finding]]:
        """The rows and findings of ``position`` inside the audit's scope (vendor, products).

        Raises:
            ValidationError: ``position`` was computed for another part of the organization.
        """
        if not position.scope.whole and position.scope != self.position_scope(audit):
            raise ValidationError(
                "The position was computed for another scope than this audit's; compute it again."
            )

        def inside(vendor: str, product_id: int) -> bool:
            if vendor != audit.vendor:
                return False
            return not audit.product_ids or product_id in audit.product_ids

        rows = [r for r in position.rows if inside(r.vendor, r.product_id)]
        findings = [f for f in position.findings if inside(f.vendor, f.product_id)]
        return rows, findings

    def report_usage(
        self, audit: AuditInfo, rows: Sequence[PositionRow], *, top: int = 4
    ) -> list[UsageSeries]:
        """The report's usage charts as values: the year before the audit date, one series for
        each of the ``top`` products of ``rows`` ranked by rights needed."""
        ranked: list[int] = []
        for row in sorted(rows, key=lambda r: (-r.needed, r.product)):
            if row.product_id not in ranked:
                ranked.append(row.product_id)
        chosen = ranked[:top]
        if not chosen:
            return []
        start = audit.as_of - dt.timedelta(days=CHART_DAYS - 1)
        return UsageHistoryService(self._ctx).product_series(chosen, start, audit.as_of)

    def report_input(
        self,
        audit_id: int,
        position: Position,
        organization: str,
        charts: Sequence[bundle_model.Chart] = (),
    ) -> bundle_model.ReportInput:
        """Everything the audit recorded, as the bundle writer's input.

        Findings without a decision are reported as open; warnings nobody acknowledged are
        passed without a name or time (the report lists them as not acknowledged).

        Raises:
            ValidationError: the audit has no attestation yet.
        """
        audit = self.get(audit_id)
        if not audit.attested_by or audit.attested_at is None:
            raise ValidationError("The audit has no attestation yet; attest it before signing.")
        rows, findings = self.scoped(audit, position)
        decided = self.decisions(audit_id)
        report_findings = [
            bundle_model.ReportFinding(
                f,
                decided[finding_key(f)].resolution()
                if finding_key(f) in decided
                else bundle_model.Resolution(),
            )
            for f in findings
        ]
        # Every warning goes in: one nobody acknowledged has no name and no time, and the
        # report lists it as NOT acknowledged.
        acknowledgements = [
            bundle_model.Acknowledgement(w.topic, w.text, w.acknowledged_by, w.acknowledged_at)
            for w in self.freshness(audit_id)
        ]
        names = self._full_names([audit.attested_by, audit.approver])
        attestation = bundle_model.Attestation(
            operator=audit.attested_by,
            full_name=names.get(audit.attested_by, ""),
            statement=audit.attestation,
            at=audit.attested_at,
            approver=audit.approver,
            approver_full_name=names.get(audit.approver, ""),
            approved_at=audit.approved_at,
        )
        method = METHOD.format(window=CONCURRENT_WINDOW_DAYS, shelf=audit.shelf_days)
        return bundle_model.ReportInput(
            organization=organization,
            audit_id=audit.id,
            title=f"{audit.vendor} license audit as of {audit.as_of.isoformat()}",
            scope=audit.scope,
            as_of=audit.as_of,
            trigger=audit.trigger,
            trigger_reason=audit.trigger_reason,
            method=method,
            positions=rows,
            findings=report_findings,
            acknowledgements=acknowledgements,
            concurrency_basis=tuple(self.concurrency_basis(audit_id)),
            attestation=attestation,
            charts=tuple(charts),
            previous=self.previous_checkpoint(audit_id),
            shelf_days=audit.shelf_days,
            servers=self.servers(audit),
        )

    def servers(self, audit: AuditInfo) -> ServerSection | None:
        """The audited vendor's server lines on the audit date (Microsoft: Windows Server and
        SQL Server; Oracle; IBM; Red Hat), with the hosts and VMs behind each figure; None for
        a vendor without server rules or a database without servers."""
        return server_section(self._ctx, audit.vendor_id, audit.vendor, audit.products, audit.as_of)

    def sign(
        self,
        audit_id: int,
        position: Position,
        *,
        passphrase: str,
        out_dir: Path,
        organization: str,
        charts: Sequence[bundle_model.Chart] = (),
        progress: Progress | None = None,
        kdf: KdfCost | None = None,
    ) -> bundle_model.BundleResult:
        """Write and sign the audit's report bundle, then record it (the audit is signed).

        Unlocks the signing identity with ``passphrase``, creating it (a ledger entry of its
        own) on first signing.  Writing reads only; the audit's "signed" entry follows once the
        bundle is in place, so a cancelled, failed or killed export leaves the audit in review,
        to be signed again: the next export into the folder removes a killed one's staging, and
        a bundle of this audit put in place but never recorded is replaced.

        The audit's scope is checked (:meth:`check_verifies`) while the export's helper process
        checks the whole ledger; either refusing stops the export before anything is signed.

        Raises:
            WrongPassphrase: the passphrase does not open the identity.
            Cancelled: ``progress`` was cancelled.
            ValidationError: the audit is not attested, or is signed already.
            LedgerIntegrityError: the ledger does not verify (names the first bad entry).
            StateIntegrityError: rows in the audit's scope differ from the ledger.
            AuditBeingSigned: another process is signing the audit (see :mod:`.claim`).
            PermissionDenied: the operator may not run audits (nothing is written).
        """
        from seatledger.services.audits.bundle.writer import (  # noqa: PLC0415
            discard_unrecorded,
            write_bundle,
        )
        from seatledger.services.audits.signing import DEFAULT_KDF, SigningService  # noqa: PLC0415

        # First: a role that may not sign must not get as far as writing a signed bundle.
        self._ctx.require(Permission.RUN_AUDITS, RUN)
        with claim.signing(self._ctx, audit_id):  # refused if another process is signing it
            audit = self.get(audit_id)
            if audit.status is Status.SIGNED:
                raise ValidationError(f"Audit {audit_id} is signed already.")
            report = self.report_input(audit_id, position, organization, charts)
            signing = SigningService(self._ctx, kdf or DEFAULT_KDF)
            identity = signing.unlock_or_create(passphrase, organization or "SeatLedger")
            keys = {info.ed25519_fingerprint for info in signing.history()}
            discard_unrecorded(out_dir, audit_id, keys)  # unsigned: none was given out
            # The audit's own check runs while the export's helper checks the whole ledger.
            with self._ctx.read() as session:
                seal = _seal(session, self._ctx.clock())
            result = write_bundle(
                self._ctx,
                report,
                identity,
                out_dir,
                progress,
                check=lambda: self.check_verifies(audit, progress),
                seal=seal,
            )
            self.record_signed(audit_id, result)
            return result

    def check_verifies(self, audit: AuditInfo, progress: Progress | None = None) -> None:
        """Refuse to sign while the ledger or the rows in the audit's scope do not verify.

        Reads the audit's scope only (see :func:`~seatledger.services.ledger.state.check_scope`):
        the ledger holds every entry up to its head, each entry in scope is the one its hash
        says and replays into the rows in scope (the vendor, its products (all of the vendor's
        when the audit names none), their licenses and seats, the devices holding or running
        them, the people holding the seats (and owning those devices when a license counts
        users; everyone when one is a site license), every team and operator (operators sign),
        and the server topology when the vendor has server rules).  The rest of the ledger is
        checked whole by the bundle export, beside this work.

        Raises:
            LedgerIntegrityError: an entry is missing, or an entry in scope does not verify
                (names the first).
            StateIntegrityError: rows in scope differ from the ledger (names the first ones).
            Cancelled: ``progress`` was cancelled.
        """
        verdict, state = check_scope(
            self._ctx.db,
            audit.vendor_id,
            set(audit.product_ids),
            progress,
            servers=bool(families_of(audit.vendor)),
        )
        if verdict.failure is not None:
            failure = verdict.failure
            raise LedgerIntegrityError(
                "The activity ledger does not verify, so no report is signed: "
                f"{failure.message()}. Run 'seatledger ledger verify'.",
                failure.seq,
            )
        found = state.differences
        if found:
            named = found[:SHOWN_DIFFERENCES]
            shown = "; ".join(d.message() for d in named)
            more = state.total - len(named)
            raise StateIntegrityError(
                f"{plural(state.total, 'row')} in the scope of this audit "
                f"{agree(state.total, 'is')} not what the activity ledger says, so no report "
                f"is signed: {shown}"
                + (f"; and {more:,} more" if more > 0 else "")
                + ". Run 'seatledger ledger verify' for every difference; restore the rows from "
                "a backup or find who changed them outside SeatLedger."
            )

    def _full_names(self, names: Sequence[str]) -> dict[str, str]:
        wanted = [n for n in names if n]
        if not wanted:
            return {}
        with self._ctx.read() as session:
            rows = session.execute(
                select(Operator.name, Operator.full_name).where(Operator.name.in_(wanted))
            )
            return {str(n): str(f) for n, f in rows}

    def schedules(self) -> list[ScheduleInfo]:
        """Every vendor's audit schedule, by vendor."""
        with self._ctx.read() as session:
            rows = session.execute(
                select(AuditSchedule, Vendor.name)
                .join(Vendor, Vendor.id == AuditSchedule.vendor_id)
                .order_by(Vendor.name)
            ).all()
            return [
                ScheduleInfo(s.id, s.vendor_id, str(v), s.every_months, s.next_due, s.active)
                for s, v in rows
            ]

    def due(self, today: dt.date | None = None, lead_days: int = DUE_LEAD_DAYS) -> list[DueAudit]:
        """Scheduled audits due within ``lead_days`` or overdue, most overdue first."""
        day = today or self.today()
        with self._ctx.read() as session:
            rows = session.execute(
                select(AuditSchedule, Vendor.name)
                .join(Vendor, Vendor.id == AuditSchedule.vendor_id)
                .where(
                    AuditSchedule.active.is_(True),
                    AuditSchedule.next_due <= day + dt.timedelta(days=lead_days),
                )
                .order_by(AuditSchedule.next_due, Vendor.name)
            ).all()
            result = []
            for schedule, vendor in rows:
                open_id = session.scalar(
                    select(func.max(Audit.id)).where(
                        Audit.vendor_id == schedule.vendor_id,
                        Audit.status != Status.SIGNED.value,
                    )
                )
                result.append(
                    DueAudit(
                        schedule.id,
                        schedule.vendor_id,
                        str(vendor),
                        schedule.next_due,
                        schedule.next_due < day,
                        None if open_id is None else int(open_id),
                    )
                )
            return result

    # ---------------------------------------------------------------------------- writing

    def start(
        self,
        vendor_id: int,
        trigger: bundle_model.Trigger,
        *,
        reason: str = "",
        as_of: dt.date | None = None,
        product_ids: Sequence[int] = (),
        team_ids: Sequence[int] = (),
        shelf_days: int = 90,
    ) -> int:
        """Start an audit (a draft at its scope step); on suspicion it needs a reason.

        A scheduled audit is tied to the vendor's schedule and its due date.
        """
        clean_reason = validation.optional_text(reason, "Reason")
        if trigger is bundle_model.Trigger.SUSPICION and not clean_reason:
            raise ValidationError(
                "Say what looks wrong: an audit on suspicion needs a reason.", "Reason"
            )
        shelf = validation.count(shelf_days, "Shelfware days", minimum=1, maximum=3650)
        with self._ctx.change(
            Permission.RUN_AUDITS, "audit.start", "audit", RUN, clean_reason
        ) as change:
            session = change.session
            _check_scope(session, vendor_id, product_ids, team_ids)
            schedule = session.scalar(
                select(AuditSchedule).where(AuditSchedule.vendor_id == vendor_id)
            )
            scheduled = trigger is bundle_model.Trigger.SCHEDULED
            if scheduled and schedule is None:
                raise ValidationError(
                    "This vendor has no audit schedule; start the audit on suspicion or at the "
                    "vendor's request, or add a schedule first.",
                    "Trigger",
                )
            audit = Audit(
                vendor_id=vendor_id,
                product_ids=_ids_text(product_ids),
                team_ids=_ids_text(team_ids),
                as_of=as_of or change.now.date(),
                shelf_days=shelf,
                trigger=trigger.value,
                trigger_reason=clean_reason,
                schedule_id=schedule.id if scheduled and schedule else None,
                due_on=schedule.next_due if scheduled and schedule else None,
                status=Status.DRAFT.value,
                step=Step.SCOPE.value,
                owner=self._ctx.actor.name,
                created_at=change.now,
                updated_at=change.now,
                attested_by="",
                attestation="",
                approver="",
                checkpoint_head="",
                manifest_sha256="",
                key_fingerprint="",
                bundle_path="",
            )
            return change.stored(audit, _snapshot)

    def set_scope(
        self,
        audit_id: int,
        *,
        vendor_id: int,
        as_of: dt.date,
        product_ids: Sequence[int] = (),
        team_ids: Sequence[int] = (),
        shelf_days: int = 90,
    ) -> None:
        """Change a draft's scope and date (its findings' decisions are kept by key)."""
        shelf = validation.count(shelf_days, "Shelfware days", minimum=1, maximum=3650)
        with self._ctx.change(Permission.RUN_AUDITS, "audit.scope", "audit", RUN) as change:
            session = change.session
            audit = _open_audit(session, audit_id)
            if audit.status != Status.DRAFT.value:
                raise ValidationError("Only a draft's scope can change; this audit is attested.")
            _check_scope(session, vendor_id, product_ids, team_ids)
            change.entity_id = str(audit_id)
            change.before = _snapshot(audit)
            audit.vendor_id = vendor_id
            audit.as_of = as_of
            audit.product_ids = _ids_text(product_ids)
            audit.team_ids = _ids_text(team_ids)
            audit.shelf_days = shelf
            audit.updated_at = change.now
            change.after = _snapshot(audit)

    def set_step(self, audit_id: int, step: Step) -> None:
        """Record that the audit reached ``step`` (the wizard resumes there)."""
        with self._ctx.change(Permission.RUN_AUDITS, "audit.step", "audit", RUN) as change:
            audit = _open_audit(change.session, audit_id)
            change.entity_id = str(audit_id)
            change.before = {"step": audit.step}
            if step.order > Step.ATTESTATION.order and not audit.attested_by:
                raise ValidationError("Attest the audit before signing it.")
            audit.step = step.value
            audit.updated_at = change.now
            change.after = {"step": audit.step}

    def acknowledge(self, audit_id: int, topic: str, warning: str) -> None:
        """Record that the operator read a freshness warning and goes ahead anyway."""
        clean_topic = validation.name(topic, "Topic")
        with self._ctx.change(Permission.RUN_AUDITS, "audit.acknowledge", "audit", RUN) as change:
            session = change.session
            audit = _open_audit(session, audit_id)
            current = dict(_freshness(session, audit, self._ctx.clock()))
            if current.get(clean_topic) != warning:
                raise ValidationError(
                    f"There is no such {clean_topic} warning any more; refresh the page."
                )
            change.entity_id = str(audit_id)
            self._put_decision(
                change.session,
                change,
                audit,
                FRESHNESS,
                clean_topic,
                summary=warning,
                decision=ACKNOWLEDGED,
            )

    def decide(
        self,
        audit_id: int,
        finding: Finding,
        decision: bundle_model.Decision,
        *,
        explanation: str = "",
        owner: str = "",
        due: dt.date | None = None,
    ) -> None:
        """Record the decision on one finding: accept, remediate or dispute.

        Raises:
            ValidationError: accepting without an explanation, remediating without an owner or a
                due date, disputing without a reason, or OPEN (leave it undecided instead).
        """
        text = validation.optional_text(explanation, "Explanation")
        who = validation.optional_text(owner, "Owner", max_len=200)
        if decision is bundle_model.Decision.OPEN:
            raise ValidationError("Choose accept, remediate or dispute.", "Decision")
        if decision is bundle_model.Decision.ACCEPT and not text:
            raise ValidationError("Explain why the finding is accepted.", "Explanation")
        if decision is bundle_model.Decision.DISPUTE and not text:
            raise ValidationError("Give the reason for the dispute.", "Explanation")
        if decision is bundle_model.Decision.REMEDIATE:
            if not who:
                raise ValidationError("Name who remediates the finding.", "Owner")
            if due is None:
                raise ValidationError("Give the date the finding is remediated by.", "Due")
        else:
            who, due = "", None
        with self._ctx.change(Permission.RUN_AUDITS, "audit.decide", "audit", RUN) as change:
            audit = _open_audit(change.session, audit_id)
            if due is not None and due < audit.as_of:
                raise ValidationError("The due date is before the audit date.", "Due")
            change.entity_id = str(audit_id)
            self._put_decision(
                change.session,
                change,
                audit,
                FINDING,
                finding_key(finding),
                summary=f"{finding.kind.label}: {finding.title}: {finding.text}",
                decision=decision.value,
                explanation=text,
                owner=who,
                due=due,
            )

    def attest(self, audit_id: int, statement: str) -> None:
        """The signed-in operator attests the audit by name; it moves to review."""
        text = validation.optional_text(statement, "Statement", max_len=4000)
        if not text:
            raise ValidationError("Write the attestation statement.", "Statement")
        with self._ctx.change(Permission.RUN_AUDITS, "audit.attest", "audit", RUN) as change:
            audit = _open_audit(change.session, audit_id)
            change.entity_id = str(audit_id)
            change.before = {
                "status": audit.status,
                "attested_by": audit.attested_by,
                "statement": audit.attestation,
                "approver": audit.approver,
            }
            audit.attested_by = self._ctx.actor.name
            audit.attestation = text
            audit.attested_at = change.now
            audit.approver = ""  # a new statement needs a new approval
            audit.approved_at = None
            audit.status = Status.IN_REVIEW.value
            audit.updated_at = change.now
            change.after = {
                "status": audit.status,
                "attested_by": audit.attested_by,
                "statement": text,
                "approver": "",
            }

    def approve(self, audit_id: int, approver: str, password: str) -> None:
        """A second operator, other than the one who attested, approves with their password.

        Raises:
            AuthenticationError: wrong name or password.
            ValidationError: not attested yet, the approver attested it, or may not run audits.
        """
        from seatledger.services.operators.accounts import sign_in  # noqa: PLC0415 (a cycle otherwise)

        second = sign_in(self._ctx.db, approver, password)
        if not allows(second.role, Permission.RUN_AUDITS):
            raise ValidationError(
                f"{second.name} is {article(second.role.label.lower())} "
                "and may not approve audits.",
                "Approver",
            )
        with self._ctx.change(Permission.RUN_AUDITS, "audit.approve", "audit", RUN) as change:
            audit = _open_audit(change.session, audit_id)
            if not audit.attested_by:
                raise ValidationError("Attest the audit before asking for approval.")
            if second.name == audit.attested_by:
                raise ValidationError(
                    "The second approver must be another operator than the one who attested.",
                    "Approver",
                )
            change.entity_id = str(audit_id)
            change.before = {"approver": audit.approver}
            audit.approver = second.name
            audit.approved_at = change.now
            audit.updated_at = change.now
            change.after = {"approver": second.name, "approver_role": second.role.value}

    def record_signed(self, audit_id: int, result: bundle_model.BundleResult) -> None:
        """Record the signed bundle: its checkpoint, manifest hash and key; the audit is signed.

        A scheduled audit moves its vendor's schedule on by one interval.
        """
        with self._ctx.change(Permission.RUN_AUDITS, "audit.sign", "audit", RUN) as change:
            session = change.session
            audit = _open_audit(session, audit_id)
            if not audit.attested_by:
                raise ValidationError("Attest the audit before signing it.")
            change.entity_id = str(audit_id)
            change.before = {"status": audit.status}
            claim.end(session, audit_id)
            audit.status = Status.SIGNED.value
            audit.step = Step.SIGN.value
            audit.signed_at = change.now
            audit.updated_at = change.now
            audit.checkpoint_size = result.checkpoint.size
            audit.checkpoint_head = result.checkpoint.head
            audit.manifest_sha256 = result.manifest_sha256
            audit.key_fingerprint = result.ed25519_fingerprint
            audit.bundle_path = str(result.folder)
            change.after = {
                "status": audit.status,
                "checkpoint": result.checkpoint.as_json(),
                "manifest_sha256": result.manifest_sha256,
                "ed25519_fingerprint": result.ed25519_fingerprint,
                "bundle": result.folder.name,
                # Every entry up to the checkpoint has been checked, none before this moment:
                # the next export within SEAL_DAYS rests on it (see model.Seal).
                "ledger_check": {
                    "whole_ledger_checked_at": bundle_model.when_iso(
                        change.now if result.sealed_by is None else result.sealed_by.checked_at
                    ),
                    "through": result.checkpoint.size,
                },
            }
            if audit.schedule_id is not None:
                schedule = session.get(AuditSchedule, audit.schedule_id)
                if schedule is not None:
                    before = schedule.next_due
                    while schedule.next_due <= audit.as_of or schedule.next_due == before:
                        schedule.next_due = add_months(schedule.next_due, schedule.every_months)
                    change.after["schedule_next_due"] = schedule.next_due.isoformat()

    def set_schedule(
        self,
        vendor_id: int,
        every_months: int,
        next_due: dt.date,
        *,
        active: bool = True,
    ) -> int:
        """Audit a vendor every ``every_months`` months, the next one due on ``next_due``."""
        months = validation.count(every_months, "Interval in months", minimum=1, maximum=60)
        with self._ctx.change(
            Permission.RUN_AUDITS, "audit_schedule.set", "audit_schedule", RUN
        ) as change:
            session = change.session
            if session.get(Vendor, vendor_id) is None:
                raise NotFoundError(f"Vendor {vendor_id} does not exist.")
            schedule = session.scalar(
                select(AuditSchedule).where(AuditSchedule.vendor_id == vendor_id)
            )
            if schedule is None:
                schedule = AuditSchedule(
                    vendor_id=vendor_id,
                    created_by=self._ctx.actor.name,
                    created_at=change.now,
                )
            else:
                change.before = _schedule_snapshot(schedule)
            schedule.every_months = months
            schedule.next_due = next_due
            schedule.active = active
            return change.stored(schedule, _schedule_snapshot)

    def _put_decision(
        self,
        session: Session,
        change: Any,
        audit: Audit,
        kind: str,
        key: str,
        *,
        summary: str,
        decision: str,
        explanation: str = "",
        owner: str = "",
        due: dt.date | None = None,
    ) -> None:
        row = session.scalar(
            select(AuditDecision).where(
                AuditDecision.audit_id == audit.id,
                AuditDecision.kind == kind,
                AuditDecision.key == key,
            )
        )
        change.before = _decision_snapshot(row)
        if row is None:
            row = AuditDecision(audit_id=audit.id, kind=kind, key=key)
            session.add(row)
        row.summary = summary
        row.decision = decision
        row.explanation = explanation
        row.owner = owner
        row.due = due
        row.decided_by = self._ctx.actor.name
        row.decided_at = change.now
        audit.updated_at = change.now
        change.after = _decision_snapshot(row)


# -------------------------------------------------------------------------------- helpers


def _schedule_snapshot(schedule: AuditSchedule) -> dict[str, Any]:
    return {
        "vendor_id": schedule.vendor_id,
        "every_months": schedule.every_months,
        "next_due": schedule.next_due.isoformat(),
        "active": schedule.active,
    }


def _audit(session: Session, audit_id: int) -> Audit:
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFoundError(f"Audit {audit_id} does not exist.")
    return audit


def _open_audit(session: Session, audit_id: int) -> Audit:
    audit = _audit(session, audit_id)
    if audit.status == Status.SIGNED.value:
        raise ValidationError(f"Audit {audit_id} is signed; start a new audit to change it.")
    claim.refuse_if_claimed(session, audit_id)
    return audit


def _check_scope(
    session: Session, vendor_id: int, product_ids: Sequence[int], team_ids: Sequence[int]
) -> None:
    if session.get(Vendor, vendor_id) is None:
        raise NotFoundError(f"Vendor {vendor_id} does not exist.")
    if product_ids:
        found = set(
            session.scalars(
                select(Product.id).where(
                    Product.id.in_(product_ids), Product.vendor_id == vendor_id
                )
            )
        )
        if found != set(product_ids):
            raise ValidationError("A product in the scope is not this vendor's.", "Products")
    if team_ids:
        found = set(session.scalars(select(Team.id).where(Team.id.in_(team_ids))))
        if found != set(team_ids):
            raise NotFoundError("A team in the scope does not exist.")


def _seal(session: Session, now: dt.datetime) -> bundle_model.Seal | None:
    """The whole-ledger check the last signed export recorded, if it is at most SEAL_DAYS old
    (its ``audit.sign`` entry: the checkpoint, and since when every entry up to it is checked)."""
    body = session.scalar(
        select(LedgerEntry.body)
        .where(LedgerEntry.entity_type == "audit", LedgerEntry.action == "audit.sign")
        .order_by(LedgerEntry.seq.desc())
        .limit(1)
    )
    if body is None:
        return None
    try:
        after = json.loads(bytes(body))["what"]["after"]
        check, point = after["ledger_check"], after["checkpoint"]
        checked_at = dt.datetime.fromisoformat(str(check["whole_ledger_checked_at"]).rstrip("Z"))
        checkpoint = bundle_model.Checkpoint(
            int(point["size"]), str(point["head"]), str(point.get("root", ""))
        )
    except (KeyError, TypeError, ValueError):
        return None  # an entry from before seals: the export checks every entry
    checked_at = checked_at.replace(tzinfo=dt.UTC)
    if int(check["through"]) != checkpoint.size or now - checked_at > dt.timedelta(
        bundle_model.SEAL_DAYS
    ):
        return None
    return bundle_model.Seal(checkpoint, checked_at)


def _previous(session: Session, audit: Audit) -> bundle_model.Checkpoint | None:
    query = select(Audit.checkpoint_size, Audit.checkpoint_head).where(
        Audit.vendor_id == audit.vendor_id,
        Audit.status == Status.SIGNED.value,
        Audit.id != audit.id,
        Audit.checkpoint_size.is_not(None),
    )
    if audit.signed_at is not None:  # a signed audit names the one signed before it
        query = query.where(Audit.signed_at < audit.signed_at)
    row = session.execute(query.order_by(Audit.signed_at.desc(), Audit.id.desc()).limit(1)).first()
    if row is None or row.checkpoint_size is None:
        return None
    return bundle_model.Checkpoint(int(row.checkpoint_size), str(row.checkpoint_head))


def _info(session: Session, audit: Audit) -> AuditInfo:
    vendor = session.scalar(select(Vendor.name).where(Vendor.id == audit.vendor_id)) or ""
    product_ids = _ids(audit.product_ids)
    team_ids = _ids(audit.team_ids)
    products: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    if product_ids:
        products = tuple(
            session.scalars(
                select(Product.name).where(Product.id.in_(product_ids)).order_by(Product.name)
            )
        )
    if team_ids:
        teams = tuple(
            session.scalars(select(Team.name).where(Team.id.in_(team_ids)).order_by(Team.name))
        )
    checkpoint = (
        None
        if audit.checkpoint_size is None
        else bundle_model.Checkpoint(audit.checkpoint_size, audit.checkpoint_head)
    )
    return AuditInfo(
        id=audit.id,
        vendor_id=audit.vendor_id,
        vendor=vendor,
        product_ids=product_ids,
        products=products,
        team_ids=team_ids,
        teams=teams,
        as_of=audit.as_of,
        shelf_days=audit.shelf_days,
        trigger=bundle_model.Trigger(audit.trigger),
        trigger_reason=audit.trigger_reason,
        status=Status(audit.status),
        step=Step(audit.step),
        owner=audit.owner,
        created_at=_aware(audit.created_at) or audit.created_at,
        updated_at=_aware(audit.updated_at) or audit.updated_at,
        due_on=audit.due_on,
        schedule_id=audit.schedule_id,
        attested_by=audit.attested_by,
        attestation=audit.attestation,
        attested_at=_aware(audit.attested_at),
        approver=audit.approver,
        approved_at=_aware(audit.approved_at),
        signed_at=_aware(audit.signed_at),
        checkpoint=checkpoint,
        manifest_sha256=audit.manifest_sha256,
        key_fingerprint=audit.key_fingerprint,
        bundle_path=audit.bundle_path,
    )


def _latest_import(session: Session, kinds: Sequence[str], day: dt.date) -> dt.datetime | None:
    latest = session.scalar(
        select(func.max(ImportBatch.imported_at)).where(
            ImportBatch.kind.in_(kinds),
            ImportBatch.imported_at
            < dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
        )
    )
    return _aware(latest)


def _freshness(
    session: Session, audit: Audit, now: dt.datetime | None = None
) -> list[tuple[str, str]]:
    """(topic, warning) pairs for the audit's date (as observed by ``now`` where that is
    earlier than its end); the text is what an operator acknowledges."""
    day = audit.as_of
    warnings: list[tuple[str, str]] = []
    allowed = data_settings(session).freshness_days

    def check(kind: str, what: str, stale: str, missing: str = "") -> None:
        """Warn (under the topic ``kind``) when the newest import of ``kind`` is older than
        allowed, saying ``stale``, or when there is none and ``missing`` says why it matters."""
        latest = _latest_import(session, [kind], day)
        if latest is None:
            if missing:
                warnings.append((kind, missing))
        elif (age := (day - latest.date()).days) > allowed:
            warnings.append(
                (
                    kind,
                    f"The newest {what} import is {age} days old on the audit date "
                    f"({latest.date().isoformat()}); {stale}",
                )
            )

    check(
        "inventory",
        "inventory",
        "installs since then are not counted.",
        missing="No inventory was imported by the audit date: installs are not counted.",
    )
    check(
        "people",
        "HR",
        "people who left since still count as staff and their seats are not findings.",
    )
    products = _ids(audit.product_ids)
    concurrent = (
        select(Entitlement.id)
        .join(Product, Product.id == Entitlement.product_id)
        .where(Product.vendor_id == audit.vendor_id, Entitlement.metric == Metric.CONCURRENT.value)
    )
    if products:
        concurrent = concurrent.where(Product.id.in_(products))
    if session.scalar(concurrent.limit(1)) is not None:
        check(
            "usage",
            "usage",
            "later checkouts are not counted.",
            missing="No license-server usage was imported by the audit date: concurrent "
            "licenses show no checkouts.",
        )
        stale = [(name, b) for name, b in _concurrency_bases(session, audit, now) if b.stale]
        if stale:
            warnings.append(("snapshots", _stale_snapshots(stale)))
    unknown = _unknown_hardware(session, audit)
    if unknown:
        warnings.append(
            (
                "hardware",
                f"The cores or processors of {plural(unknown, 'device')} running per-core or "
                f"per-processor products in scope {agree(unknown, 'are')} unknown (or their "
                "processor has no rate in a purchase that rates cores by processor): the "
                "report leaves them out of rights needed (a lower bound, marked ≥) rather than "
                "assume any; record their hardware or import an inventory that gives it.",
            )
        )
    vendor = session.scalar(select(Vendor.name).where(Vendor.id == audit.vendor_id)) or ""
    unmatched = session.execute(
        select(
            func.count(func.distinct(SoftwareTitle.title)),
            func.count(Installation.id),
        )
        .join(Installation, Installation.title_id == SoftwareTitle.id)
        .where(
            SoftwareTitle.product_id.is_(None),
            Installation.removed_on.is_(None),
            func.lower(SoftwareTitle.publisher).contains(
                vendor.split()[0].lower() if vendor else ""
            ),
        )
    ).one()
    titles, installs = int(unmatched[0]), int(unmatched[1])
    if titles:
        these = plural(titles, "software title")
        verb = agree(titles, "matches")
        warnings.append(
            (
                "unmatched titles",
                f"{these} from a publisher like {vendor!r} ({installs} installs) {verb} no "
                "product; they are not counted until a rule maps them.",
            )
        )
    return warnings


def _concurrency_bases(
    session: Session, audit: Audit, now: dt.datetime | None = None
) -> list[tuple[str, ConcurrencyBasis]]:
    """What the concurrent-use figure of each product in scope bought per concurrent use
    rests on, on the audit date: (vendor and product, basis), by name."""
    chosen = (
        select(Product.id, Vendor.name, Product.name)
        .join(Vendor, Vendor.id == Product.vendor_id)
        .join(Entitlement, Entitlement.product_id == Product.id)
        .where(Product.vendor_id == audit.vendor_id, Entitlement.metric == Metric.CONCURRENT.value)
        .distinct()
    )
    if products := _ids(audit.product_ids):
        chosen = chosen.where(Product.id.in_(products))
    names = {int(pid): f"{vendor} {product}" for pid, vendor, product in session.execute(chosen)}
    bases = concurrency_bases(session, names, end_of(audit.as_of), CONCURRENT_WINDOW_DAYS, now)
    return sorted(((names[pid], basis) for pid, basis in bases.items()), key=lambda p: p[0])


def _stale_snapshots(stale: list[tuple[str, ConcurrencyBasis]]) -> str:
    """The freshness warning for products whose newest snapshot is older than the sampling
    interval on the audit date."""
    parts = []
    for name, basis in stale:
        seen = basis.sightings
        last = seen.last if seen is not None else None
        age = basis.age
        when = (
            f"the newest taken {last:%Y-%m-%d %H:%M} ({plural(age.days, 'day')} old on the "
            "audit date"
            if last is not None and age is not None
            else "none taken in the window ("
        )
        partly = "partly " if basis.logged else ""
        parts.append(f"{name} rests {partly}on license-server snapshots, {when}")
    hours = round(stale[0][1].interval.total_seconds() / 3600)
    return (
        f"The concurrent use of {'; of '.join(parts)}; snapshots are expected every "
        f"{plural(hours, 'hour')}): use since is not observed. Import a current snapshot or the "
        "server's debug log."
    )


def _unknown_hardware(session: Session, audit: Audit) -> int:
    """Devices with a seat or an install of a per-core or per-processor product in scope whose
    cores (or processors) that metric needs are unknown, or whose processor a purchase rating
    cores by processor does not rate: what the position leaves out."""
    counted = (
        select(
            Entitlement.product_id,
            Entitlement.metric,
            Entitlement.min_cores_per_processor,
            Entitlement.unit_table,
        )
        .join(Product, Product.id == Entitlement.product_id)
        .where(
            Product.vendor_id == audit.vendor_id,
            Entitlement.metric.in_((Metric.PER_CORE.value, Metric.PER_PROCESSOR.value)),
        )
    )
    products = _ids(audit.product_ids)
    if products:
        counted = counted.where(Product.id.in_(products))
    rules: dict[int, list[tuple[Metric, int, UnitTable | None]]] = {}
    for pid, metric, minimum, table in session.execute(counted):
        rules.setdefault(pid, []).append((Metric(metric), minimum or 0, stored_table(table)))
    if not rules:
        return 0
    rated = any(table for found in rules.values() for _, _, table in found)
    # Where cores are rated by processor, any device may lack a rate: none is ruled out here.
    unknown = true() if rated else or_(Device.cores.is_(None), Device.processors.is_(None))
    shape = (Device.processors, Device.cores, Device.processor_model)
    installs = (
        select(Device.id, SoftwareTitle.product_id, *shape)
        .join(Installation, Installation.device_id == Device.id)
        .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
        .where(SoftwareTitle.product_id.in_(list(rules)), installed(audit.as_of), unknown)
    )
    seats = (
        select(Device.id, Entitlement.product_id, *shape)
        .join(SeatAssignment, SeatAssignment.device_id == Device.id)
        .join(Entitlement, Entitlement.id == SeatAssignment.entitlement_id)
        .where(Entitlement.product_id.in_(list(rules)), seat_open(end_of(audit.as_of)), unknown)
    )
    found = {
        device
        for query in (installs, seats)
        for device, pid, processors, cores, model in session.execute(query)
        if any(
            device_units(m, processors, cores, model, min_cores_per_processor=low, table=table)[0]
            is None
            for m, low, table in rules[int(pid or 0)]
        )
    }
    return len(found)


__all__ = [
    "AuditInfo",
    "AuditService",
    "DueAudit",
    "FindingDecision",
    "FreshnessWarning",
    "ScheduleInfo",
    "Status",
    "Step",
    "add_months",
    "count_due",
    "finding_key",
]
