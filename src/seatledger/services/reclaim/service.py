"""Reclaiming idle seats: rules per product, runs that find candidates, notices, keeps, release.

A rule says, for one product, that a seat nobody has used in N days (by its last install
sighting, license-server checkout or SaaS activity, and never younger than the seat itself) is a
reclaim candidate.  A run lists the candidates of every rule, leaving out the people, teams and
products excluded; it produces the notices to send (a CSV and an ``.eml`` draft per holder, the
app working offline), and each candidate may be kept during the rule's grace period, with a
reason.  Finishing the run releases the rest through the seat service, in one release entry that
names the run.  Every step is a ledger entry.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session, aliased

from seatledger.domain.roles import Permission
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services.alerts.dashboard import ReclaimedCounts
from seatledger.services.core.context import Context
from seatledger.services.reviews.service import Evidence
from seatledger.services.seats.service import SeatService
from seatledger.store.models import (
    Device,
    Entitlement,
    Person,
    Product,
    SeatAssignment,
    Team,
    Vendor,
)
from seatledger.store.models_reviews import (
    ReclaimCandidate,
    ReclaimExclusion,
    ReclaimRule,
    ReclaimRun,
)

RECLAIM = "reclaim idle seats"
KINDS = ("person", "team", "product")
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A product's reclaim rule."""

    product_id: int
    product: str
    idle_days: int
    grace_days: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A seat a run found unused, and what is to become of it."""

    id: int
    assignment_id: int
    holder: str
    email: str
    team: str
    license: str
    last_use: dt.date | None
    release_on: dt.date
    kept_by: str
    keep_reason: str
    outcome: str


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A reclaim run and its counts."""

    id: int
    status: str
    started_at: dt.datetime
    started_by: str
    candidates: int
    kept: int
    released: int


@dataclass(frozen=True, slots=True)
class MonthReclaimed:
    """Seats reclaimed in one month and what they cost (unit cost × seats, per currency)."""

    month: str  # YYYY-MM
    seats: int
    cost: dict[str, Decimal]


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class ReclaimService:
    """Reclaim rules, exclusions and runs (administrators and license managers)."""

    def __init__(self, ctx: Context, seats: SeatService | None = None) -> None:
        self._ctx = ctx
        self._seats = seats if seats is not None else SeatService(ctx)

    def today(self) -> dt.date:
        """The calendar date idleness is counted to, where the organization is."""
        return self._ctx.clock().astimezone().date()

    # ------------------------------------------------------------------ rules and exclusions
    def rules(self) -> list[RuleInfo]:
        """Every rule, by vendor and product."""
        with self._ctx.read() as session:
            return [
                RuleInfo(pid, f"{vendor} {product}", idle, grace)
                for pid, vendor, product, idle, grace in session.execute(
                    select(
                        ReclaimRule.product_id,
                        Vendor.name,
                        Product.name,
                        ReclaimRule.idle_days,
                        ReclaimRule.grace_days,
                    )
                    .join(Product, ReclaimRule.product_id == Product.id)
                    .join(Vendor, Product.vendor_id == Vendor.id)
                    .order_by(Vendor.name, Product.name)
                )
            ]

    def set_rule(self, product_id: int, idle_days: int, grace_days: int) -> None:
        """Make (or change) a product's rule: no use in ``idle_days``, kept for ``grace_days``.

        Raises:
            ValidationError: days out of range.
            NotFoundError: no such product.
        """
        if not 1 <= idle_days <= 3650:
            raise ValidationError("Idle days run from 1 to 3650.", "Idle days")
        if not 0 <= grace_days <= 365:
            raise ValidationError("The grace period runs from 0 to 365 days.", "Grace days")
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.rule", "reclaim_rule", RECLAIM
        ) as change:
            change.get(Product, product_id, "Product")
            rule = change.session.scalar(
                select(ReclaimRule).where(ReclaimRule.product_id == product_id)
            )
            before = None
            if rule is None:
                rule = ReclaimRule(
                    product_id=product_id,
                    idle_days=idle_days,
                    grace_days=grace_days,
                    created_by=self._ctx.actor.name,
                    created_at=change.now,
                )
                change.session.add(rule)
            else:
                before = {"idle_days": rule.idle_days, "grace_days": rule.grace_days}
                rule.idle_days, rule.grace_days = idle_days, grace_days
            change.entity_id = str(product_id)
            change.before = before
            change.after = {"idle_days": idle_days, "grace_days": grace_days}

    def remove_rule(self, product_id: int) -> None:
        """Stop reclaiming a product's seats.

        Raises:
            NotFoundError: the product has no rule.
        """
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.rule_remove", "reclaim_rule", RECLAIM
        ) as change:
            gone = change.session.execute(
                delete(ReclaimRule).where(ReclaimRule.product_id == product_id)
            )
            if not getattr(gone, "rowcount", 0):
                raise NotFoundError(f"Product {product_id} has no reclaim rule.")
            change.entity_id = str(product_id)
            change.before = {"rule": True}
            change.after = {"rule": False}

    def exclusions(self) -> list[tuple[str, int, str]]:
        """The excluded (kind, id, reason), by kind and id."""
        with self._ctx.read() as session:
            return [
                (kind, int(target), reason)
                for kind, target, reason in session.execute(
                    select(
                        ReclaimExclusion.kind, ReclaimExclusion.target_id, ReclaimExclusion.reason
                    ).order_by(ReclaimExclusion.kind, ReclaimExclusion.target_id)
                )
            ]

    def exclude(self, kind: str, target_id: int, reason: str) -> None:
        """Leave a person's, team's or product's seats alone in every run, with a reason.

        Raises:
            ValidationError: an unknown kind, no reason, excluded already.
        """
        if kind not in KINDS:
            raise ValidationError(f"Exclude a person, a team or a product, not '{kind}'.")
        if not reason.strip():
            raise ValidationError("Say why they are excluded.", "Reason")
        model = {"person": Person, "team": Team, "product": Product}[kind]
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.exclude", "reclaim_exclusion", RECLAIM, reason
        ) as change:
            change.get(model, target_id, kind.capitalize())
            change.session.add(
                ReclaimExclusion(
                    kind=kind,
                    target_id=target_id,
                    reason=change.reason,
                    created_by=self._ctx.actor.name,
                    created_at=change.now,
                )
            )
            change.entity_id = f"{kind}:{target_id}"
            change.after = {"kind": kind, "id": target_id}

    def include(self, kind: str, target_id: int) -> None:
        """Take an exclusion back.

        Raises:
            NotFoundError: it was not excluded.
        """
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.include", "reclaim_exclusion", RECLAIM
        ) as change:
            gone = change.session.execute(
                delete(ReclaimExclusion).where(
                    ReclaimExclusion.kind == kind, ReclaimExclusion.target_id == target_id
                )
            )
            if not getattr(gone, "rowcount", 0):
                raise NotFoundError(f"That {kind} is not excluded.")
            change.entity_id = f"{kind}:{target_id}"
            change.before = {"kind": kind, "id": target_id}

    # ------------------------------------------------------------------ runs
    def start_run(self) -> int:
        """Find every seat past its product's rule and start a run over them; returns its id.

        Raises:
            ValidationError: no rule, or no seat is idle.
        """
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.start", "reclaim_run", RECLAIM
        ) as change:
            session = change.session
            today = change.now.astimezone().date()
            found = _idle_seats(session, today)
            if not found:
                raise ValidationError("No seat is idle past its product's reclaim rule.")
            run = ReclaimRun(
                status="open",
                started_by=self._ctx.actor.name,
                started_at=change.now,
                finished_by="",
            )
            session.add(run)
            session.flush()
            session.add_all(
                ReclaimCandidate(
                    run_id=run.id,
                    assignment_id=seat,
                    last_use=last,
                    release_on=release_on,
                    kept_by="",
                    keep_reason="",
                    outcome="",
                )
                for seat, last, release_on in found
            )
            change.entity_id = str(run.id)
            change.after = {
                "candidates": [seat for seat, _, _ in found],
                "release_on": sorted({r.isoformat() for _, _, r in found}),
            }
            return run.id

    def runs(self) -> list[RunInfo]:
        """Every run, newest first, with its counts."""
        with self._ctx.read() as session:
            counts: dict[int, tuple[int, int, int]] = {}
            for run_id, total, kept, released in session.execute(
                select(
                    ReclaimCandidate.run_id,
                    func.count(),
                    func.sum(case((ReclaimCandidate.kept_by != "", 1), else_=0)),
                    func.sum(case((ReclaimCandidate.outcome == "released", 1), else_=0)),
                ).group_by(ReclaimCandidate.run_id)
            ):
                counts[run_id] = (int(total), int(kept or 0), int(released or 0))
            return [
                RunInfo(r.id, r.status, r.started_at, r.started_by, *counts.get(r.id, (0, 0, 0)))
                for r in session.scalars(select(ReclaimRun).order_by(ReclaimRun.id.desc()))
            ]

    def candidates(self, run_id: int) -> list[Candidate]:
        """A run's candidates, by holder."""
        holder = func.coalesce(Person.name, Device.hostname)
        owner = aliased(Person, name="owner")
        query = (
            select(
                ReclaimCandidate,
                holder.label("holder"),
                func.coalesce(Person.email, owner.email, "").label("email"),
                func.coalesce(Team.name, "").label("team"),
                Vendor.name.label("vendor"),
                Product.name.label("product"),
                Entitlement.name.label("entitlement"),
            )
            .join(SeatAssignment, ReclaimCandidate.assignment_id == SeatAssignment.id)
            .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
            .join(Product, Entitlement.product_id == Product.id)
            .join(Vendor, Product.vendor_id == Vendor.id)
            .outerjoin(Person, SeatAssignment.person_id == Person.id)
            .outerjoin(Device, SeatAssignment.device_id == Device.id)
            .outerjoin(owner, Device.owner_id == owner.id)
            .outerjoin(Team, func.coalesce(Person.team_id, owner.team_id) == Team.id)
            .where(ReclaimCandidate.run_id == run_id)
            .order_by(holder, ReclaimCandidate.id)
        )
        with self._ctx.read() as session:
            rows = []
            for c, who, email, team_name, vendor, product, name in session.execute(query):
                title = f"{vendor} {product}"
                rows.append(
                    Candidate(
                        c.id,
                        c.assignment_id,
                        who,
                        email,
                        team_name,
                        f"{title} ({name})" if name else title,
                        c.last_use,
                        c.release_on,
                        c.kept_by,
                        c.keep_reason,
                        c.outcome,
                    )
                )
            return rows

    def write_notices(self, run_id: int, folder: Path, sender: str = "") -> list[Path]:
        """Write the run's notices into ``folder``: ``notices.csv`` (one line per seat) and one
        ``.eml`` draft per holder with an e-mail address, listing their seats and the day each
        is released unless they (or their manager) ask to keep it.  A ledger entry records it.

        Returns the files written.

        Raises:
            PermissionDenied: the operator may not assign seats (checked before any file is
                written: the notices name people and their e-mail addresses).
        """
        self._ctx.require(Permission.ASSIGN_SEATS, RECLAIM)
        found = [c for c in self.candidates(run_id) if not c.outcome and not c.kept_by]
        if not found:
            raise ValidationError("No seat of this run awaits its grace period.")
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / "notices.csv"]
        with written[0].open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["seat", "holder", "email", "team", "license", "last_use", "release_on"])
            for c in found:
                out.writerow(
                    [
                        c.assignment_id,
                        _safe(c.holder),
                        _safe(c.email),
                        _safe(c.team),
                        _safe(c.license),
                        c.last_use.isoformat() if c.last_use else "never seen",
                        c.release_on.isoformat(),
                    ]
                )
        by_holder: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        for c in found:
            if c.email:
                by_holder[(c.holder, c.email)].append(c)
        for number, ((who, email), seats) in enumerate(sorted(by_holder.items()), start=1):
            message = EmailMessage()
            message["To"] = f"{who} <{email}>"
            if sender:
                message["From"] = sender
            message["Subject"] = f"Unused software licenses to be reclaimed: {len(seats)}"
            lines = [
                f"Hello {who},",
                "",
                "These software licenses assigned to you have not been used for a while and "
                "will be released on the date shown unless you need them. To keep one, reply "
                "with the reason (or ask your manager to).",
                "",
            ]
            lines += [
                f"- {c.license}: last used "
                f"{c.last_use.isoformat() if c.last_use else 'never, as far as we can see'}; "
                f"released on {c.release_on.isoformat()}"
                for c in seats
            ]
            message.set_content("\n".join([*lines, "", "Thank you."]))
            path = folder / f"notice-{number:04}.eml"
            path.write_bytes(bytes(message))
            written.append(path)
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.notices", "reclaim_run", RECLAIM
        ) as change:
            change.get(ReclaimRun, run_id, "Reclaim run")
            change.entity_id = str(run_id)
            change.after = {
                "seats": [c.assignment_id for c in found],
                "notices": len(written) - 1,
                "without_email": sorted({c.holder for c in found if not c.email}),
            }
        return written

    def keep(self, run_id: int, candidate_ids: Sequence[int], reason: str) -> int:
        """Keep candidates (the holder or their manager asked), with a reason; returns how many.

        Raises:
            ValidationError: no reason, a finished run, a candidate not in it.
        """
        ids = list(dict.fromkeys(candidate_ids))
        if not reason.strip():
            raise ValidationError("Say why the seat is kept (who asked, and why).", "Reason")
        if not ids:
            raise ValidationError("Choose seats to keep.")
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.keep", "reclaim_run", RECLAIM, reason
        ) as change:
            run = change.get(ReclaimRun, run_id, "Reclaim run")
            if run.status != "open":
                raise ValidationError(f"Reclaim run {run_id} is finished.")
            seats: list[int] = []
            for chunk in _chunks(ids):
                seats.extend(
                    change.session.scalars(
                        select(ReclaimCandidate.assignment_id).where(
                            ReclaimCandidate.run_id == run_id, ReclaimCandidate.id.in_(chunk)
                        )
                    )
                )
            if len(seats) != len(ids):
                raise NotFoundError("A seat to keep is not a candidate of this run.")
            for chunk in _chunks(ids):
                change.session.execute(
                    update(ReclaimCandidate)
                    .where(ReclaimCandidate.id.in_(chunk))
                    .values(kept_by=self._ctx.actor.name, keep_reason=change.reason)
                )
            change.entity_id = str(run_id)
            change.after = {"kept": sorted(seats)}
            return len(ids)

    def finish(self, run_id: int) -> int:
        """Release every candidate not kept whose grace period is over, through the seat
        service (one entry naming the run), then close the run; returns how many were released.

        Raises:
            ValidationError: the run is finished, or a grace period is not over yet.
        """
        self._ctx.require(Permission.ASSIGN_SEATS, RECLAIM)
        today = self.today()
        with self._ctx.read() as session:
            run = session.get(ReclaimRun, run_id)
            if run is None:
                raise NotFoundError(f"Reclaim run {run_id} does not exist.")
            if run.status != "open":
                raise ValidationError(f"Reclaim run {run_id} is finished already.")
            waiting = session.scalar(
                select(func.max(ReclaimCandidate.release_on)).where(
                    ReclaimCandidate.run_id == run_id, ReclaimCandidate.kept_by == ""
                )
            )
            if waiting is not None and waiting > today:
                raise ValidationError(
                    f"The grace period runs until {waiting.isoformat()}; "
                    "the holders may still ask to keep their seats."
                )
            due = list(
                session.scalars(
                    select(ReclaimCandidate.assignment_id)
                    .join(SeatAssignment, ReclaimCandidate.assignment_id == SeatAssignment.id)
                    .where(
                        ReclaimCandidate.run_id == run_id,
                        ReclaimCandidate.kept_by == "",
                        SeatAssignment.ended_at.is_(None),
                    )
                    .order_by(ReclaimCandidate.assignment_id)
                )
            )
        released = (
            self._seats.release(
                due,
                f"Reclaim run #{run_id}: not used within its product's rule, "
                "not kept in the grace period",
            )
            if due
            else 0
        )
        with self._ctx.change(
            Permission.ASSIGN_SEATS, "reclaim.finish", "reclaim_run", RECLAIM
        ) as change:
            session = change.session
            run = change.get(ReclaimRun, run_id, "Reclaim run")
            ended = (
                select(SeatAssignment.ended_at.is_not(None))
                .where(SeatAssignment.id == ReclaimCandidate.assignment_id)
                .scalar_subquery()
            )
            for outcome, condition in (
                ("kept", ReclaimCandidate.kept_by != ""),
                ("released", ReclaimCandidate.assignment_id.in_(due)),
                ("ended", ended),
            ):
                session.execute(
                    update(ReclaimCandidate)
                    .where(
                        ReclaimCandidate.run_id == run_id,
                        ReclaimCandidate.outcome == "",
                        condition,
                    )
                    .values(outcome=outcome)
                    .execution_options(synchronize_session=False)
                )
            run.status = "finished"
            run.finished_by = self._ctx.actor.name
            run.finished_at = change.now
            change.entity_id = str(run_id)
            change.before = {"status": "open"}
            change.after = {"status": "finished", "released": due}
        return released

    def reclaimed_by_month(self, months: int = 12) -> list[MonthReclaimed]:
        """Seats reclaimed per month (newest first) and their cost, over the last months."""
        return _by_month(self._ctx, months)


def count_reclaimed(ctx: Context, today: dt.date) -> ReclaimedCounts:
    """The dashboard's figure: seats released this month and over the twelve months up to and
    including it, with what they cost."""
    this = f"{today:%Y-%m}"
    first = (
        dt.date(today.year - 1, today.month + 1, 1)
        if today.month < 12
        else dt.date(today.year, 1, 1)
    )
    since = dt.datetime.combine(first, dt.time(), dt.UTC)
    months = [m for m in _by_month(ctx, 12, since) if m.month <= this]
    now = next((m for m in months if m.month == this), None)
    year_cost: dict[str, Decimal] = {}
    for month in months:
        for currency, amount in month.cost.items():
            year_cost[currency] = year_cost.get(currency, Decimal(0)) + amount
    return ReclaimedCounts(
        month=now.seats if now else 0,
        month_cost=dict(sorted(now.cost.items())) if now else {},
        year=sum(m.seats for m in months),
        year_cost=dict(sorted(year_cost.items())),
    )


def _by_month(ctx: Context, months: int, since: dt.datetime | None = None) -> list[MonthReclaimed]:
    """Seats reclaim runs released per month (newest first, at most ``months``), with cost;
    only runs finished from ``since`` on, when given (the dashboard reads a year, not all)."""
    with ctx.read() as session:
        rows = session.execute(
            select(
                ReclaimRun.finished_at,
                Entitlement.unit_cost,
                Entitlement.currency,
                SeatAssignment.units,
            )
            .select_from(ReclaimCandidate)
            .join(ReclaimRun, ReclaimCandidate.run_id == ReclaimRun.id)
            .join(SeatAssignment, ReclaimCandidate.assignment_id == SeatAssignment.id)
            .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
            .where(
                ReclaimCandidate.outcome == "released",
                *(() if since is None else (ReclaimRun.finished_at >= since,)),
            )
        ).all()
    per_month: dict[str, tuple[int, dict[str, Decimal]]] = {}
    for finished, cost, currency, units in rows:
        month = f"{finished:%Y-%m}"
        seats, costs = per_month.setdefault(month, (0, {}))
        if cost is not None:
            costs[currency] = costs.get(currency, Decimal(0)) + Decimal(cost) * units
        per_month[month] = (seats + int(units), costs)
    return [
        MonthReclaimed(month, seats, costs)
        for month, (seats, costs) in sorted(per_month.items(), reverse=True)[:months]
    ]


def _safe(value: str) -> str:
    """Text a spreadsheet shows as text and never runs as a formula."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _idle_seats(session: Session, today: dt.date) -> list[tuple[int, dt.date | None, dt.date]]:
    """The open seats past their product's rule: (seat, last use, release on), by seat.

    A seat's last use is the latest of its install sighting, checkout and SaaS activity; a seat
    younger than the rule's days is not idle, however unused.
    """
    rules = {
        pid: (idle, grace)
        for pid, idle, grace in session.execute(
            select(ReclaimRule.product_id, ReclaimRule.idle_days, ReclaimRule.grace_days)
        )
    }
    if not rules:
        raise ValidationError("There is no reclaim rule yet: say which products to reclaim.")
    excluded: dict[str, set[int]] = defaultdict(set)
    for kind, target in session.execute(select(ReclaimExclusion.kind, ReclaimExclusion.target_id)):
        excluded[kind].add(int(target))
    products = sorted(set(rules) - excluded["product"])
    owner = aliased(Person, name="owner")
    seats = session.execute(
        select(
            SeatAssignment.id,
            SeatAssignment.person_id,
            SeatAssignment.device_id,
            SeatAssignment.started_at,
            Entitlement.product_id,
            func.coalesce(Person.team_id, owner.team_id).label("team_id"),
            Device.owner_id,
        )
        .join(Entitlement, SeatAssignment.entitlement_id == Entitlement.id)
        .outerjoin(Person, SeatAssignment.person_id == Person.id)
        .outerjoin(Device, SeatAssignment.device_id == Device.id)
        .outerjoin(owner, Device.owner_id == owner.id)
        .where(SeatAssignment.ended_at.is_(None), Entitlement.product_id.in_(products))
        .order_by(SeatAssignment.id)
    ).all()
    seats = [
        s
        for s in seats
        if (s.person_id or s.owner_id) not in excluded["person"]
        and s.team_id not in excluded["team"]
    ]
    evidence = Evidence.read(session, seats)
    found = []
    for s in seats:
        idle, grace = rules[s.product_id]
        last_use = max(
            (
                d
                for d in (
                    evidence.install(s.person_id, s.device_id, s.product_id),
                    evidence.used.get((s.person_id, s.product_id, True)),
                    evidence.used.get((s.person_id, s.product_id, False)),
                )
                if d is not None
            ),
            default=None,
        )
        since = max(last_use or dt.date.min, _date_of(s.started_at))
        if (today - since).days >= idle:
            found.append((int(s.id), last_use, today + dt.timedelta(days=grace)))
    return found


def _date_of(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])
