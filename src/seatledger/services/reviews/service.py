"""Access review campaigns: start one, let reviewers keep, release or move seats, close it.

An administrator starts a campaign over vendors, products and teams, naming an operator to
review each team's seats; the open seats in scope are taken at that moment, each with the team
its holder (or the device's owner) is in.  A reviewer sees and decides only the seats of the
teams given to them, checked here, so the window and the command line alike are held to it
(administrators decide any).  Closing carries out the releases through the seat service, one
release entry per reviewer whose reason names the campaign and the reviewer, then carries out the
moves (each holder's seat ends and the chosen person's begins on the close date) and records each
seat's outcome in the campaign's own closing entry, which names every move's reviewer and reason;
undecided seats stay and are reported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    and_,
    case,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from seatledger.domain.reviews import (
    CampaignStatus,
    Decision,
    Outcome,
    Recurrence,
    decision_problem,
    is_overdue,
)
from seatledger.domain.roles import Permission, Role, allows
from seatledger.errors import NotFoundError, PermissionDenied, ValidationError
from seatledger.services import lookups
from seatledger.services.alerts.dashboard import ReviewCounts
from seatledger.services.core.context import Change, Context
from seatledger.services.core.tables import contains
from seatledger.services.lookups import NamedItem, ProductItem
from seatledger.services.seats.moves import Move, check_moves, move_seats
from seatledger.services.seats.service import SeatService
from seatledger.store import models as m
from seatledger.store.models_reviews import ReviewCampaign, ReviewItem, ReviewReviewer
from seatledger.text import article, plural

START = "start or close access review campaigns"
SIGN = "sign access review reports"
DECIDE = "decide access reviews"
_CHUNK = 900  # stays under SQLite's bound-parameter limit
_Owner = aliased(m.Person, name="owner")
_Target = aliased(m.Person, name="move_target")
_MOVE_ONE_BY_ONE = "A move names the person who holds each seat instead: move seats one at a time."


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """A campaign as its list shows it, with its progress."""

    id: int
    name: str
    status: CampaignStatus
    due_on: dt.date
    recurrence: Recurrence
    seats: int
    decided: int
    to_release: int
    created_by: str
    closed_by: str
    overdue: bool
    to_move: int = 0

    @property
    def undecided(self) -> int:
        """Seats nobody has decided yet."""
        return self.seats - self.decided

    @property
    def progress(self) -> str:
        """ "312 of 1,204 seats decided (40 to release)"."""
        moves = f", {self.to_move:,} to move" if self.to_move else ""
        return (
            f"{self.decided:,} of {plural(self.seats, 'seat')} decided "
            f"({self.to_release:,} to release{moves})"
        )


@dataclass(frozen=True, slots=True)
class ScopeChoices:
    """What a campaign's scope and reviewers are chosen from."""

    vendors: list[NamedItem]
    products: list[ProductItem]
    teams: list[NamedItem]
    reviewers: list[NamedItem]  # the active operators whose role may review access


@dataclass(frozen=True, slots=True)
class Reviewer:
    """The operator reviewing one team's seats in a campaign."""

    team_id: int
    team: str
    operator: str


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One seat under review, with the evidence of its use a reviewer decides on."""

    id: int  # the review item
    assignment_id: int
    team: str
    holder: str
    license: str
    started: dt.date
    last_install: dt.date | None  # the last inventory that saw it installed on a holder's device
    last_checkout: dt.date | None  # the last license-server checkout by the holder
    last_activity: dt.date | None  # the last activity a usage or SaaS report gave for the holder
    decision: Decision | None
    reason: str
    decided_by: str
    outcome: Outcome | None
    move_to: str = ""  # a move: the person chosen to hold the seat instead
    moved_seat: int | None = None  # a move carried out: the seat that person was given

    def age_days(self, today: dt.date) -> int:
        """How long the seat has been held, in days."""
        return (today - self.started).days

    @property
    def last_use(self) -> dt.date | None:
        """The latest evidence of any kind (None: none at all)."""
        seen = [d for d in (self.last_install, self.last_checkout, self.last_activity) if d]
        return max(seen) if seen else None


@dataclass(frozen=True, slots=True)
class MoveCandidate:
    """A person a seat under review may move to."""

    id: int
    name: str
    employee_id: str
    email: str
    team: str

    @property
    def label(self) -> str:
        """ "Ada Lovelace (E1002, ada@example.com), Finance"."""
        ids = ", ".join(v for v in (self.employee_id, self.email) if v)
        return f"{self.name} ({ids})" + (f", {self.team}" if self.team else "")


@dataclass(frozen=True, slots=True)
class CloseResult:
    """What closing a campaign did."""

    released: int
    kept: int
    undecided: int
    ended: int
    next_campaign: int | None
    moved: int = 0

    @property
    def message(self) -> str:
        """One sentence for the status bar or the command line."""
        moved = f"{self.moved:,} moved to another person, " if self.moved else ""
        text = (
            f"{plural(self.released, 'seat')} released, {moved}{self.kept:,} kept, "
            f"{self.undecided:,} undecided (left as they were)"
        )
        if self.ended:
            text += f", {self.ended:,} released meanwhile by other means"
        if self.next_campaign is not None:
            text += f"; the next campaign is #{self.next_campaign}"
        return text + "."


def _ids(text: str) -> list[int]:
    return [int(i) for i in json.loads(text or "[]")]


def _ids_text(ids: Iterable[int]) -> str:
    return json.dumps(sorted(set(ids)), separators=(",", ":"))


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _day(value: Any) -> dt.date | None:
    """A date from what a MAX() over dates or timestamps returns on either engine."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def count_open(ctx: Context, today: dt.date) -> ReviewCounts:
    """The open campaigns the operator sees, their undecided seats and how many are overdue
    on ``today`` (the dashboard's "Access reviews" card)."""
    shown = [c for c in ReviewService(ctx).campaigns() if c.status is CampaignStatus.OPEN]
    return ReviewCounts(
        open=len(shown),
        undecided=sum(c.undecided for c in shown),
        overdue=sum(1 for c in shown if c.undecided and is_overdue(c.status, c.due_on, today)),
    )


class ReviewService:
    """Access review campaigns, their decisions and their closing."""

    def __init__(self, ctx: Context, seats: SeatService | None = None) -> None:
        self._ctx = ctx
        self._seats = seats if seats is not None else SeatService(ctx)

    def today(self) -> dt.date:
        """The calendar date due dates are checked against, where the organization is."""
        return self._ctx.clock().astimezone().date()

    # ------------------------------------------------------------------ starting
    def choices(self) -> ScopeChoices:
        """The vendors, products and teams a campaign may cover, and who may review."""
        with self._ctx.read() as session:
            operators = session.execute(
                select(m.Operator.id, m.Operator.name, m.Operator.role)
                .where(m.Operator.active.is_(True))
                .order_by(m.Operator.name)
            ).all()
        return ScopeChoices(
            vendors=lookups.vendors(self._ctx),
            products=lookups.products(self._ctx),
            teams=lookups.teams(self._ctx),
            reviewers=[
                NamedItem(int(i), str(n))
                for i, n, role in operators
                if allows(Role(role), Permission.REVIEW_ACCESS)
            ],
        )

    def start(
        self,
        name: str,
        due_on: dt.date,
        *,
        reviewers: Mapping[int, int],
        vendors: Sequence[int] = (),
        products: Sequence[int] = (),
        teams: Sequence[int] = (),
        recurrence: Recurrence = Recurrence.NONE,
    ) -> int:
        """Start a campaign over the open seats in scope; returns its id.

        Args:
            name: what the campaign is called ("Adobe, Q1 2027").
            due_on: the day the reviewers' decisions are due.
            reviewers: each team's reviewer, team id -> operator id.  Seats of a team without
                one (and of people in no team) are decided by administrators.
            vendors: the vendors whose seats are reviewed (empty: every vendor's).
            products: the products whose seats are reviewed (empty: every product's).
            teams: the teams whose seats are reviewed (empty: every team's, and seats of
                people in none).
            recurrence: how often it comes back; closing it starts the next.

        Raises:
            ValidationError: no name, a due date past, a reviewer who cannot review, nothing
                in scope.
            PermissionDenied: the operator is not an administrator.
        """
        clean = name.strip()
        if not clean:
            raise ValidationError("Name the campaign.", "Name")
        if due_on < self.today():
            raise ValidationError(f"The due date {due_on:%Y-%m-%d} has passed.", "Due")
        with self._ctx.change(
            Permission.MANAGE_REVIEWS, "review.start", "review_campaign", START
        ) as change:
            campaign = ReviewCampaign(
                name=clean,
                status=CampaignStatus.OPEN.value,
                due_on=due_on,
                recurrence=recurrence.value,
                vendor_ids=_ids_text(vendors),
                product_ids=_ids_text(products),
                team_ids=_ids_text(teams),
                created_by=self._ctx.actor.name,
                created_at=change.now,
                closed_by="",
            )
            change.session.add(campaign)
            change.session.flush()
            named = self._store_reviewers(change.session, campaign.id, reviewers)
            seats = self._take_seats(change.session, campaign)
            if not seats:
                raise ValidationError("No open seat is in the campaign's scope.")
            change.entity_id = str(campaign.id)
            change.after = {
                "name": clean,
                "due_on": due_on.isoformat(),
                "recurrence": recurrence.value,
                "vendors": _ids(campaign.vendor_ids),
                "products": _ids(campaign.product_ids),
                "teams": _ids(campaign.team_ids),
                "reviewers": named,
                "seats": seats,
            }
            return campaign.id

    def _store_reviewers(
        self, session: Session, campaign_id: int, reviewers: Mapping[int, int]
    ) -> dict[str, str]:
        """Record each team's reviewer; returns team id -> operator name for the entry."""
        named: dict[str, str] = {}
        for team_id, operator_id in sorted(reviewers.items()):
            team = session.get(m.Team, team_id)
            if team is None:
                raise NotFoundError(f"Team {team_id} does not exist.")
            operator = session.get(m.Operator, operator_id)
            if operator is None or not operator.active:
                raise ValidationError(f"Operator {operator_id} is not an active operator.")
            if not allows(Role(operator.role), Permission.REVIEW_ACCESS):
                raise ValidationError(
                    f"{operator.name} may not review access (their role is "
                    f"{Role(operator.role).label.lower()}); make them a reviewer first.",
                    "Reviewers",
                )
            session.add(
                ReviewReviewer(campaign_id=campaign_id, team_id=team_id, operator_id=operator_id)
            )
            named[str(team_id)] = operator.name
        return named

    def _take_seats(self, session: Session, campaign: ReviewCampaign) -> int:
        """Copy the open seats in scope into the campaign, each with its holder's team."""
        team = func.coalesce(m.Person.team_id, _Owner.team_id)
        scope = (
            select(literal(campaign.id), m.SeatAssignment.id, team)
            .select_from(m.SeatAssignment)
            .join(m.Entitlement, m.SeatAssignment.entitlement_id == m.Entitlement.id)
            .join(m.Product, m.Entitlement.product_id == m.Product.id)
            .outerjoin(m.Person, m.SeatAssignment.person_id == m.Person.id)
            .outerjoin(m.Device, m.SeatAssignment.device_id == m.Device.id)
            .outerjoin(_Owner, m.Device.owner_id == _Owner.id)
            .where(m.SeatAssignment.ended_at.is_(None))
            .order_by(m.SeatAssignment.id)
        )
        if vendors := _ids(campaign.vendor_ids):
            scope = scope.where(m.Product.vendor_id.in_(vendors))
        if products := _ids(campaign.product_ids):
            scope = scope.where(m.Product.id.in_(products))
        if teams := _ids(campaign.team_ids):
            scope = scope.where(team.in_(teams))
        session.execute(
            insert(ReviewItem).from_select(["campaign_id", "assignment_id", "team_id"], scope)
        )
        return int(
            session.scalar(
                select(func.count())
                .select_from(ReviewItem)
                .where(ReviewItem.campaign_id == campaign.id)
            )
            or 0
        )

    # ------------------------------------------------------------------ reading
    def campaigns(self) -> list[CampaignInfo]:
        """Every campaign the operator may see, newest first, with its progress.

        Administrators and auditors see them all; anyone else the campaigns they review.
        """
        today = self.today()
        with self._ctx.read() as session:
            query = select(ReviewCampaign).order_by(ReviewCampaign.id.desc())
            if not self._sees_all():
                query = query.where(
                    ReviewCampaign.id.in_(
                        select(ReviewReviewer.campaign_id).where(
                            ReviewReviewer.operator_id == self._ctx.actor.id
                        )
                    )
                )
            campaigns = list(session.scalars(query))
            counts: dict[int, tuple[int, int, int, int]] = {}
            for campaign_id, seats, decided, to_release, to_move in session.execute(
                self._progress(session).group_by(ReviewItem.campaign_id)
            ):
                counts[campaign_id] = (
                    int(seats),
                    int(decided or 0),
                    int(to_release or 0),
                    int(to_move or 0),
                )
        infos = []
        for c in campaigns:
            seats, decided, to_release, to_move = counts.get(c.id, (0, 0, 0, 0))
            status = CampaignStatus(c.status)
            infos.append(
                CampaignInfo(
                    id=c.id,
                    name=c.name,
                    status=status,
                    due_on=c.due_on,
                    recurrence=Recurrence(c.recurrence),
                    seats=seats,
                    decided=decided,
                    to_release=to_release,
                    created_by=c.created_by,
                    closed_by=c.closed_by,
                    overdue=is_overdue(status, c.due_on, today),
                    to_move=to_move,
                )
            )
        return infos

    def _progress(self, session: Session) -> Any:
        """Seats, decided seats and releases per campaign, within what the operator sees."""
        query = select(
            ReviewItem.campaign_id,
            func.count(),
            func.sum(case((ReviewItem.decision != "", 1), else_=0)),
            func.sum(case((ReviewItem.decision == Decision.RELEASE.value, 1), else_=0)),
            func.sum(case((ReviewItem.decision == Decision.MOVE.value, 1), else_=0)),
        )
        if not self._sees_all():
            query = query.join(
                ReviewReviewer,
                and_(
                    ReviewReviewer.campaign_id == ReviewItem.campaign_id,
                    ReviewReviewer.team_id == ReviewItem.team_id,
                    ReviewReviewer.operator_id == self._ctx.actor.id,
                ),
            )
        return query

    def campaign(self, campaign_id: int) -> CampaignInfo:
        """One campaign with its progress.

        Raises:
            NotFoundError: there is no such campaign.
            PermissionDenied: the operator neither reviews it nor sees every campaign.
        """
        for info in self.campaigns():
            if info.id == campaign_id:
                return info
        with self._ctx.read() as session:
            exists = session.get(ReviewCampaign, campaign_id) is not None
        if exists:
            actor = self._ctx.actor
            raise PermissionDenied(
                f"{actor.name} is {article(actor.role.label.lower())} and does not review "
                f"campaign {campaign_id}; administrators, auditors and its reviewers see it."
            )
        raise NotFoundError(f"Access review campaign {campaign_id} does not exist.")

    def reviewers(self, campaign_id: int) -> list[Reviewer]:
        """Who reviews which team in a campaign, by team name."""
        with self._ctx.read() as session:
            return [
                Reviewer(team_id, team, operator)
                for team_id, team, operator in session.execute(
                    select(ReviewReviewer.team_id, m.Team.name, m.Operator.name)
                    .join(m.Team, ReviewReviewer.team_id == m.Team.id)
                    .join(m.Operator, ReviewReviewer.operator_id == m.Operator.id)
                    .where(ReviewReviewer.campaign_id == campaign_id)
                    .order_by(m.Team.name)
                )
            ]

    def my_teams(self, campaign_id: int) -> list[tuple[int, str]]:
        """The teams whose seats the operator decides in a campaign (id, name), by name.

        Administrators decide every team's, so they get every team with seats in it.
        """
        with self._ctx.read() as session:
            query = (
                select(m.Team.id, m.Team.name)
                .where(
                    m.Team.id.in_(
                        select(ReviewItem.team_id).where(ReviewItem.campaign_id == campaign_id)
                    )
                )
                .order_by(m.Team.name)
            )
            if not self._decides_all():
                query = query.where(m.Team.id.in_(self._my_teams_select(campaign_id)))
            return [(int(i), str(n)) for i, n in session.execute(query)]

    def items(
        self,
        campaign_id: int,
        *,
        team_id: int | None = None,
        undecided_only: bool = False,
        limit: int | None = None,
    ) -> list[ReviewRow]:
        """The seats of a campaign the operator may see, each with its evidence of use.

        A reviewer gets the seats of the teams they review and nothing else, however they
        ask; administrators and auditors get every seat.  The evidence is read for the seats
        returned only, a few grouped statements for all of them (not one per seat).

        Args:
            campaign_id: the campaign.
            team_id: only this team's seats.
            undecided_only: only the seats nobody has decided yet.
            limit: at most this many, team by team in the order they were taken.
        """
        query = (
            select(
                ReviewItem.id,
                ReviewItem.assignment_id,
                func.coalesce(m.Team.name, "").label("team"),
                func.coalesce(m.Person.name, m.Device.hostname).label("holder"),
                m.Vendor.name.label("vendor"),
                m.Product.name.label("product"),
                m.Entitlement.name.label("entitlement"),
                m.Entitlement.product_id,
                m.SeatAssignment.person_id,
                m.SeatAssignment.device_id,
                m.SeatAssignment.started_at,
                ReviewItem.decision,
                ReviewItem.reason,
                ReviewItem.decided_by,
                ReviewItem.outcome,
                _Target.name.label("move_to"),
                ReviewItem.moved_seat_id,
            )
            .select_from(ReviewItem)
            .join(m.SeatAssignment, ReviewItem.assignment_id == m.SeatAssignment.id)
            .join(m.Entitlement, m.SeatAssignment.entitlement_id == m.Entitlement.id)
            .join(m.Product, m.Entitlement.product_id == m.Product.id)
            .join(m.Vendor, m.Product.vendor_id == m.Vendor.id)
            .outerjoin(m.Person, m.SeatAssignment.person_id == m.Person.id)
            .outerjoin(m.Device, m.SeatAssignment.device_id == m.Device.id)
            .outerjoin(m.Team, ReviewItem.team_id == m.Team.id)
            .outerjoin(_Target, ReviewItem.move_to_id == _Target.id)
            .where(ReviewItem.campaign_id == campaign_id)
            .order_by(ReviewItem.team_id, ReviewItem.id)
        )
        if team_id is not None:
            query = query.where(ReviewItem.team_id == team_id)
        if undecided_only:
            query = query.where(ReviewItem.decision == "")
        if not self._sees_all():
            query = query.where(ReviewItem.team_id.in_(self._my_teams_select(campaign_id)))
        if limit is not None:
            query = query.limit(limit)
        with self._ctx.read() as session:
            found = session.execute(query).all()
            evidence = Evidence.read(session, found)
        rows = []
        for r in found:
            title = f"{r.vendor} {r.product}"
            rows.append(
                ReviewRow(
                    id=r.id,
                    assignment_id=r.assignment_id,
                    team=r.team,
                    holder=r.holder,
                    license=f"{title} ({r.entitlement})" if r.entitlement else title,
                    started=_day(r.started_at) or dt.date.min,
                    last_install=evidence.install(r.person_id, r.device_id, r.product_id),
                    last_checkout=evidence.used.get((r.person_id, r.product_id, True)),
                    last_activity=evidence.used.get((r.person_id, r.product_id, False)),
                    decision=Decision(r.decision) if r.decision else None,
                    reason=r.reason,
                    decided_by=r.decided_by,
                    outcome=Outcome(r.outcome) if r.outcome else None,
                    move_to=r.move_to or "",
                    moved_seat=r.moved_seat_id,
                )
            )
        return rows

    def overdue(self) -> list[CampaignInfo]:
        """The open campaigns past their due date that the operator still has seats to decide
        in (everything undecided, for administrators)."""
        return [c for c in self.campaigns() if c.overdue and c.undecided]

    # ------------------------------------------------------------------ deciding
    def decide(
        self, campaign_id: int, item_ids: Sequence[int], decision: Decision, reason: str = ""
    ) -> int:
        """Keep or release seats of a campaign; returns how many were decided.

        One ledger entry names the campaign, the seats, the decision and its reason; the
        operator is the reviewer.  A seat decided before is decided again (the last decision
        counts).  Nothing is released until the campaign closes.

        Raises:
            PermissionDenied: the operator may not review, or a seat belongs to a team they
                do not review in this campaign.
            ValidationError: a release without a reason, a closed campaign, a seat not in it.
        """
        ids = list(dict.fromkeys(item_ids))
        if not ids:
            raise ValidationError("Choose seats to decide.")
        if decision is Decision.MOVE:
            raise ValidationError(_MOVE_ONE_BY_ONE)
        return self._decide(campaign_id, decision, reason, lambda _s: ids, None)

    def decide_team(
        self, campaign_id: int, team_id: int, decision: Decision, reason: str = ""
    ) -> int:
        """Keep or release every undecided seat of one team at once; returns how many.

        Raises:
            PermissionDenied: the operator does not review that team in this campaign.
            ValidationError: as :meth:`decide`, or the team has no undecided seat.
        """
        if decision is Decision.MOVE:
            raise ValidationError(_MOVE_ONE_BY_ONE)

        def undecided(session: Session) -> list[int]:
            return list(
                session.scalars(
                    select(ReviewItem.id)
                    .where(
                        ReviewItem.campaign_id == campaign_id,
                        ReviewItem.team_id == team_id,
                        ReviewItem.decision == "",
                    )
                    .order_by(ReviewItem.id)
                )
            )

        return self._decide(campaign_id, decision, reason, undecided, team_id)

    def _decide(
        self,
        campaign_id: int,
        decision: Decision,
        reason: str,
        items: Any,
        team_id: int | None,
    ) -> int:
        problem = decision_problem(decision, reason)
        if problem:
            raise ValidationError(problem, "Reason")
        action = "review.decide" if team_id is None else "review.decide_team"
        with self._ctx.change(
            Permission.REVIEW_ACCESS, action, "review_campaign", DECIDE, reason
        ) as change:
            session = change.session
            campaign = self._open_campaign(change, campaign_id)
            ids: list[int] = items(session)
            if not ids:
                raise ValidationError("Every seat of that team is decided already.")
            teams = self._teams_of(session, campaign.id, ids)
            self._refuse_outside_scope(session, campaign.id, set(teams.values()))
            for chunk in _chunks(ids):
                session.execute(
                    update(ReviewItem)
                    .where(ReviewItem.id.in_(chunk))
                    .values(
                        decision=decision.value,
                        reason=change.reason,
                        decided_by=self._ctx.actor.name,
                        decided_at=change.now,
                        move_to_id=None,
                    )
                )
            change.entity_id = str(campaign.id)
            change.after = {
                "campaign": campaign.name,
                "decision": decision.value,
                "items": ids,
                "seats": sorted(self._seats_of(session, ids)),
                "teams": sorted({t for t in teams.values() if t is not None}),
            }
            if team_id is not None:
                change.after["team"] = team_id
            return len(ids)

    def move_candidates(
        self, campaign_id: int, item_id: int, text: str = "", limit: int = 50
    ) -> list[MoveCandidate]:
        """The people a seat under review may move to, whose name, employee number or e-mail
        holds ``text``, by name (at most ``limit``).

        Active people who hold no seat of the seat's license; for a reviewer, only the people
        of the teams they review in the campaign (administrators: anyone).  A search the
        picker runs as the reviewer types, so it reads a page, never the whole directory.

        Raises:
            NotFoundError: the seat is not under review in that campaign.
            PermissionDenied: the operator does not review the seat's team.
        """
        with self._ctx.read() as session:
            item = session.execute(
                select(ReviewItem.team_id, m.SeatAssignment.entitlement_id)
                .join(m.SeatAssignment, ReviewItem.assignment_id == m.SeatAssignment.id)
                .where(ReviewItem.id == item_id, ReviewItem.campaign_id == campaign_id)
            ).first()
            if item is None:
                raise NotFoundError(f"Seat {item_id} is not under review in this campaign.")
            self._refuse_outside_scope(session, campaign_id, {item.team_id})
            holds = select(m.SeatAssignment.id).where(
                m.SeatAssignment.person_id == m.Person.id,
                m.SeatAssignment.entitlement_id == item.entitlement_id,
                m.SeatAssignment.ended_at.is_(None),
            )
            query = (
                select(
                    m.Person.id,
                    m.Person.name,
                    m.Person.employee_id,
                    m.Person.email,
                    func.coalesce(m.Team.name, ""),
                )
                .outerjoin(m.Team, m.Person.team_id == m.Team.id)
                .where(m.Person.status != "left", ~holds.exists())
                .order_by(m.Person.name, m.Person.id)
                .limit(limit)
            )
            if clean := text.strip():
                query = query.where(
                    contains(m.Person.name, clean)
                    | contains(m.Person.employee_id, clean)
                    | contains(m.Person.email, clean)
                )
            if not self._decides_all():
                query = query.where(m.Person.team_id.in_(self._my_teams_select(campaign_id)))
            return [
                MoveCandidate(int(i), n, e, mail, t) for i, n, e, mail, t in session.execute(query)
            ]

    def find_person(self, text: str) -> int:
        """The person whose employee number or e-mail is ``text`` (either case).

        Raises:
            NotFoundError: nobody has it.
            ValidationError: no text, or several people share that e-mail.
        """
        clean = text.strip()
        if not clean:
            raise ValidationError("Name the person by employee number or e-mail.")
        with self._ctx.read() as session:
            found = list(
                session.scalars(
                    select(m.Person.id)
                    .where(
                        (m.Person.employee_id == clean)
                        | (func.lower(m.Person.email) == clean.lower())
                    )
                    .order_by(m.Person.id)
                    .limit(3)
                )
            )
        if not found:
            raise NotFoundError(f"Nobody has the employee number or e-mail '{clean}'.")
        if len(found) > 1:
            raise ValidationError(
                f"Several people have '{clean}'; name the person by employee number."
            )
        return int(found[0])

    def move(self, campaign_id: int, item_id: int, to_person: int, reason: str) -> str:
        """Decide that a seat moves to another person when the campaign closes; returns the
        person's name.

        One ledger entry names the campaign, the seat, the person and the reason; the operator
        is the reviewer.  What could not be carried out is refused now, saying why: the person
        left, already holds a seat of the license or is chosen for another of its seats in this
        campaign, the seat is a device's or has ended, the license's term is over; and a
        reviewer moves seats only to people of the teams they review (a seat moved to another
        team is an administrator's decision).  Deciding the seat again replaces the move.

        Raises:
            PermissionDenied: the operator may not review, does not review the seat's team, or
                the person is outside the teams they review.
            ValidationError: no reason, a closed campaign, or a move that cannot be carried out.
            NotFoundError: no such seat in the campaign, no such person.
        """
        problem = decision_problem(Decision.MOVE, reason)
        if problem:
            raise ValidationError(problem, "Reason")
        with self._ctx.change(
            Permission.REVIEW_ACCESS, "review.decide", "review_campaign", DECIDE, reason
        ) as change:
            session = change.session
            campaign = self._open_campaign(change, campaign_id)
            teams = self._teams_of(session, campaign.id, [item_id])
            self._refuse_outside_scope(session, campaign.id, set(teams.values()))
            item = change.get(ReviewItem, item_id, "Review item")
            person = session.get(m.Person, to_person)
            if person is None:
                raise NotFoundError(f"Person {to_person} does not exist.")
            if not self._decides_all():
                mine = set(session.scalars(self._my_teams_select(campaign.id)))
                if person.team_id not in mine:
                    team = session.get(m.Team, person.team_id) if person.team_id else None
                    where = f"in {team.name}" if team is not None else "in no team"
                    raise PermissionDenied(
                        f"{person.name} is {where}, which {self._ctx.actor.name} does not "
                        "review in this campaign; a reviewer moves seats only to people of the "
                        "teams given to them (an administrator may move it to anyone)."
                    )
            seat = session.get(m.SeatAssignment, item.assignment_id)
            if seat is not None and seat.person_id is not None:
                rival = session.scalar(
                    select(ReviewItem.id)
                    .join(m.SeatAssignment, ReviewItem.assignment_id == m.SeatAssignment.id)
                    .where(
                        ReviewItem.campaign_id == campaign.id,
                        ReviewItem.id != item.id,
                        ReviewItem.decision == Decision.MOVE.value,
                        ReviewItem.move_to_id == person.id,
                        m.SeatAssignment.entitlement_id == seat.entitlement_id,
                    )
                    .limit(1)
                )
                if rival is not None:
                    raise ValidationError(
                        f"{person.name} is already chosen for another seat of this license in "
                        f"this campaign (seat under review {rival}); a person holds one seat "
                        "of a license."
                    )
            check_moves(
                session.connection(),
                [Move(item.assignment_id, person.id)],
                change.now.astimezone().date(),
            )
            item.decision = Decision.MOVE.value
            item.reason = change.reason
            item.decided_by = self._ctx.actor.name
            item.decided_at = change.now
            item.move_to_id = person.id
            change.entity_id = str(campaign.id)
            change.after = {
                "campaign": campaign.name,
                "decision": Decision.MOVE.value,
                "items": [item.id],
                "seats": [item.assignment_id],
                "teams": sorted({t for t in teams.values() if t is not None}),
                "to_person": person.id,
            }
            return person.name

    def _open_campaign(self, change: Change, campaign_id: int) -> ReviewCampaign:
        campaign = change.get(ReviewCampaign, campaign_id, "Access review campaign")
        if campaign.status != CampaignStatus.OPEN.value:
            raise ValidationError(f"Campaign {campaign.name!r} is closed; it takes no decisions.")
        return campaign

    def _teams_of(
        self, session: Session, campaign_id: int, ids: list[int]
    ) -> dict[int, int | None]:
        """Each review item's team; an item not in the campaign is refused."""
        teams: dict[int, int | None] = {}
        for chunk in _chunks(ids):
            teams.update(
                (int(i), t)
                for i, t in session.execute(
                    select(ReviewItem.id, ReviewItem.team_id).where(
                        ReviewItem.id.in_(chunk), ReviewItem.campaign_id == campaign_id
                    )
                )
            )
        missing = [i for i in ids if i not in teams]
        if missing:
            raise NotFoundError(f"Seat {missing[0]} is not under review in this campaign.")
        return teams

    def _seats_of(self, session: Session, ids: list[int]) -> list[int]:
        seats: list[int] = []
        for chunk in _chunks(ids):
            seats.extend(
                session.scalars(select(ReviewItem.assignment_id).where(ReviewItem.id.in_(chunk)))
            )
        return seats

    def _refuse_outside_scope(
        self, session: Session, campaign_id: int, teams: set[int | None]
    ) -> None:
        """Refuse unless the operator reviews every one of ``teams`` (administrators: any)."""
        if self._decides_all():
            return
        mine = set(session.scalars(self._my_teams_select(campaign_id)))
        outside = teams - mine
        if not outside:
            return
        known = sorted(t for t in outside if t is not None)
        names = (
            list(
                session.scalars(
                    select(m.Team.name).where(m.Team.id.in_(known)).order_by(m.Team.name)
                )
            )
            if known
            else []
        )
        if None in outside:
            names.append("seats of people in no team")
        raise PermissionDenied(
            f"{self._ctx.actor.name} does not review {', '.join(names)} in this campaign; "
            "a reviewer decides only the seats of the teams given to them."
        )

    def _my_teams_select(self, campaign_id: int) -> Any:
        return select(ReviewReviewer.team_id).where(
            ReviewReviewer.campaign_id == campaign_id,
            ReviewReviewer.operator_id == self._ctx.actor.id,
        )

    def _decides_all(self) -> bool:
        return allows(self._ctx.actor.role, Permission.MANAGE_REVIEWS)

    def _sees_all(self) -> bool:
        role = self._ctx.actor.role
        return allows(role, Permission.MANAGE_REVIEWS) or allows(role, Permission.RUN_AUDITS)

    # ------------------------------------------------------------------ closing
    def close(self, campaign_id: int) -> CloseResult:
        """Carry out the decisions and close the campaign (administrators).

        The releases go through the seat service, one call (and one ledger entry) per reviewer,
        whose reason names the campaign and the reviewer; then one entry closes the campaign:
        it carries out the moves through the seat service in its own transaction (each holder's
        seat ends and the chosen person's seat of the same license begins on the close date,
        the entry naming each move's seats, people, reviewer and reason), records each seat's
        outcome, and starts the next campaign when it recurs.  A close that stopped half-way is
        finished by closing again: released seats are not released twice.

        Raises:
            PermissionDenied: the operator is not an administrator.
            ValidationError: the campaign is closed already, or a move decided in it can no
                longer be carried out (the person left or got a seat meanwhile...): nothing is
                released then, and the message names the seat to decide again.
        """
        self._ctx.require(Permission.MANAGE_REVIEWS, START)
        with self._ctx.read() as session:
            campaign = session.get(ReviewCampaign, campaign_id)
            if campaign is None:
                raise NotFoundError(f"Access review campaign {campaign_id} does not exist.")
            if campaign.status != CampaignStatus.OPEN.value:
                raise ValidationError(f"Campaign {campaign.name!r} is closed already.")
            name = campaign.name
            by_reviewer: dict[str, list[int]] = {}
            for reviewer, seat in session.execute(
                select(ReviewItem.decided_by, ReviewItem.assignment_id)
                .join(m.SeatAssignment, ReviewItem.assignment_id == m.SeatAssignment.id)
                .where(
                    ReviewItem.campaign_id == campaign_id,
                    ReviewItem.decision == Decision.RELEASE.value,
                    m.SeatAssignment.ended_at.is_(None),
                )
                .order_by(ReviewItem.decided_by, ReviewItem.assignment_id)
            ):
                by_reviewer.setdefault(reviewer, []).append(seat)
            # Refused before anything is released: a move that can no longer be carried out.
            self._check_pending_moves(session, campaign_id, name, self.today())
        for reviewer, seats in by_reviewer.items():
            self._seats.release(
                seats,
                f'Access review #{campaign_id} "{name}": released as {reviewer} decided',
            )
        return self._close(campaign_id)

    def _close(self, campaign_id: int) -> CloseResult:
        with self._ctx.change(
            Permission.MANAGE_REVIEWS, "review.close", "review_campaign", START
        ) as change:
            session = change.session
            campaign = self._open_campaign(change, campaign_id)
            moved = self._carry_out_moves(change, campaign)
            ended = select(m.SeatAssignment.ended_at.is_not(None)).where(
                m.SeatAssignment.id == ReviewItem.assignment_id
            )
            outcome = case(
                (ReviewItem.moved_seat_id.is_not(None), Outcome.MOVED.value),
                (ReviewItem.decision == Decision.RELEASE.value, Outcome.RELEASED.value),
                (ended.scalar_subquery() == true(), Outcome.ENDED.value),
                (ReviewItem.decision == Decision.KEEP.value, Outcome.KEPT.value),
                else_=Outcome.UNDECIDED.value,
            )
            session.execute(
                update(ReviewItem)
                .where(ReviewItem.campaign_id == campaign.id)
                .values(outcome=outcome)
            )
            counts = dict(
                session.execute(
                    select(ReviewItem.outcome, func.count())
                    .where(ReviewItem.campaign_id == campaign.id)
                    .group_by(ReviewItem.outcome)
                ).all()
            )
            campaign.status = CampaignStatus.CLOSED.value
            campaign.closed_by = self._ctx.actor.name
            campaign.closed_at = change.now
            next_id = self._recur(session, campaign, change)
            result = CloseResult(
                released=int(counts.get(Outcome.RELEASED.value, 0)),
                kept=int(counts.get(Outcome.KEPT.value, 0)),
                undecided=int(counts.get(Outcome.UNDECIDED.value, 0)),
                ended=int(counts.get(Outcome.ENDED.value, 0)),
                next_campaign=next_id,
                moved=int(counts.get(Outcome.MOVED.value, 0)),
            )
            undecided = list(
                session.scalars(
                    select(ReviewItem.assignment_id)
                    .where(
                        ReviewItem.campaign_id == campaign.id,
                        ReviewItem.outcome == Outcome.UNDECIDED.value,
                    )
                    .order_by(ReviewItem.assignment_id)
                )
            )
            change.entity_id = str(campaign.id)
            change.before = {"status": CampaignStatus.OPEN.value}
            change.after = {
                "status": CampaignStatus.CLOSED.value,
                "campaign": campaign.name,
                "released": result.released,
                "kept": result.kept,
                "undecided": result.undecided,
                "ended": result.ended,
                "undecided_seats": undecided,
            }
            if moved:
                change.after["moved"] = moved
                change.after["moved_note"] = change.extra["moved_note"]  # the new seats' note
                change.after["effective"] = change.now.astimezone().date().isoformat()
            if next_id is not None:
                change.after["next_campaign"] = next_id
            return result

    def _pending_moves(self, session: Session, campaign_id: int) -> list[Any]:
        """The campaign's moves whose seat is still open: item, seat, person, reviewer, reason."""
        return list(
            session.execute(
                select(
                    ReviewItem.id,
                    ReviewItem.assignment_id,
                    ReviewItem.move_to_id,
                    ReviewItem.decided_by,
                    ReviewItem.reason,
                    m.SeatAssignment.person_id,
                    m.SeatAssignment.entitlement_id,
                )
                .join(m.SeatAssignment, ReviewItem.assignment_id == m.SeatAssignment.id)
                .where(
                    ReviewItem.campaign_id == campaign_id,
                    ReviewItem.decision == Decision.MOVE.value,
                    ReviewItem.move_to_id.is_not(None),
                    m.SeatAssignment.ended_at.is_(None),
                )
                .order_by(ReviewItem.id)
            ).all()
        )

    def _check_pending_moves(
        self, session: Session, campaign_id: int, name: str, today: dt.date
    ) -> None:
        """Refuse the close, naming the seat, when a move decided in it cannot be carried out."""
        for row in self._pending_moves(session, campaign_id):
            try:
                check_moves(session.connection(), [Move(row.assignment_id, row.move_to_id)], today)
            except (ValidationError, NotFoundError) as exc:
                raise ValidationError(
                    f"Campaign {name!r} cannot close: the move of seat {row.assignment_id} "
                    f"(under review as {row.id}, decided by {row.decided_by}) cannot be carried "
                    f"out: {exc} Decide that seat again (keep, release or another person), then "
                    "close."
                ) from exc

    def _carry_out_moves(self, change: Change, campaign: ReviewCampaign) -> list[dict[str, Any]]:
        """Move the seats the reviewers decided to move, in the close's transaction; returns
        what the close's ledger entry says of each."""
        session = change.session
        pending = self._pending_moves(session, campaign.id)
        if not pending:
            return []
        self._check_pending_moves(
            session, campaign.id, campaign.name, change.now.astimezone().date()
        )
        note = f'Access review #{campaign.id} "{campaign.name}"'
        replaced = move_seats(
            self._ctx, change, [Move(r.assignment_id, r.move_to_id) for r in pending], note=note
        )
        change.extra["moved_note"] = note
        for chunk in _chunks([r.id for r in pending]):
            session.execute(
                update(ReviewItem)
                .where(ReviewItem.id.in_(chunk))
                .values(
                    moved_seat_id=case(
                        {r.id: replaced[r.assignment_id] for r in pending if r.id in chunk},
                        value=ReviewItem.id,
                    )
                )
            )
        return [
            {
                "item": r.id,
                "entitlement": r.entitlement_id,
                "seat": r.assignment_id,
                "from_person": r.person_id,
                "to_person": r.move_to_id,
                "new_seat": replaced[r.assignment_id],
                "reviewer": r.decided_by,
                "reason": r.reason,
            }
            for r in pending
        ]

    def _recur(self, session: Session, campaign: ReviewCampaign, change: Change) -> int | None:
        """Start the next campaign of a recurring one, with its scope and reviewers."""
        due = Recurrence(campaign.recurrence).next_due(campaign.due_on)
        if due is None:
            return None
        following = ReviewCampaign(
            name=campaign.name,
            status=CampaignStatus.OPEN.value,
            due_on=due,
            recurrence=campaign.recurrence,
            vendor_ids=campaign.vendor_ids,
            product_ids=campaign.product_ids,
            team_ids=campaign.team_ids,
            created_by=self._ctx.actor.name,
            created_at=change.now,
            closed_by="",
        )
        session.add(following)
        session.flush()
        for team_id, operator_id in session.execute(
            select(ReviewReviewer.team_id, ReviewReviewer.operator_id).where(
                ReviewReviewer.campaign_id == campaign.id
            )
        ).all():
            session.add(
                ReviewReviewer(campaign_id=following.id, team_id=team_id, operator_id=operator_id)
            )
        session.flush()
        self._take_seats(session, following)
        campaign.next_id = following.id
        return following.id


# A device's last inventory sighting while the product is installed on it.
_SIGHTED = func.coalesce(m.Device.last_seen, m.Installation.first_seen)


@dataclass
class Evidence:
    """The evidence of use of a set of seats, read in a few grouped statements.

    ``by_owner`` and ``by_device``: the last inventory sighting of a product installed (now) on
    a person's devices or on one device, as the device's last-seen date; ``used``: a person's
    last use of a product, from license-server checkouts (True) or from usage files and SaaS
    activity reports (False).
    """

    by_owner: dict[tuple[int, int], dt.date]
    by_device: dict[tuple[int, int], dt.date]
    used: dict[tuple[int | None, int, bool], dt.date]

    def install(self, person: int | None, device: int | None, product: int) -> dt.date | None:
        """A seat's last install sighting: on its device, or on a device its holder owns."""
        if device is not None:
            return self.by_device.get((device, product))
        return None if person is None else self.by_owner.get((person, product))

    @classmethod
    def read(cls, session: Session, rows: Sequence[Any]) -> Evidence:
        people = sorted({r.person_id for r in rows if r.person_id is not None})
        devices = sorted({r.device_id for r in rows if r.device_id is not None})
        products = sorted({r.product_id for r in rows})
        evidence = cls({}, {}, {})
        if not rows:
            return evidence
        # Only the installs there now: the open one of a device and title is indexed.
        wanted = set(products)

        def installs(key: Any, ids: Sequence[int]) -> Any:
            # Not narrowed to the products in SQL: the planner would then walk every install
            # of their titles instead of the few devices' (several times slower on the demo).
            return (
                select(key, m.SoftwareTitle.product_id, func.max(_SIGHTED))
                .select_from(m.Installation)
                .join(m.Device, m.Installation.device_id == m.Device.id)
                .join(m.SoftwareTitle, m.Installation.title_id == m.SoftwareTitle.id)
                .where(
                    m.Installation.removed_on.is_(None),
                    key.in_(ids),
                    m.SoftwareTitle.product_id.is_not(None),
                )
                .group_by(key, m.SoftwareTitle.product_id)
            )

        for chunk in _chunks(people):
            for owner, product, day in session.execute(installs(m.Device.owner_id, chunk)):
                if product in wanted and (found := _day(day)) is not None:
                    evidence.by_owner[(int(owner), int(product))] = found
        for chunk in _chunks(devices):
            for device, product, day in session.execute(installs(m.Installation.device_id, chunk)):
                if (found := _day(day)) is not None:
                    evidence.by_device[(int(device), int(product))] = found
        licensed = m.UsageSession.server != ""
        last = func.max(
            func.coalesce(m.UsageSession.checkin, m.UsageSession.seen_at, m.UsageSession.checkout)
        )
        usage = select(
            m.UsageSession.person_id, m.UsageSession.product_id, licensed, last
        ).group_by(m.UsageSession.person_id, m.UsageSession.product_id, licensed)
        for chunk in _chunks(people):
            for person, product, from_server, day in session.execute(
                usage.where(m.UsageSession.person_id.in_(chunk))
            ):
                found = _day(day)
                if person is not None and product is not None and found is not None:
                    evidence.used[(int(person), int(product), bool(from_server))] = found
        return evidence
