"""Misuse rules that look at usage imports and access review decisions.

Run by :meth:`AlertService._observe <seatledger.services.alerts.service.AlertService._observe>`
inside the transaction of the change that shows the misuse, like every rule:

- **shared credentials**: after a usage import, the sessions it wrote in which one person used
  a product from two hosts at the same time (their intervals overlap), where that person holds
  an open named-user seat of the product; one alert per person and product.
- **use after leaving**: after a usage import, the sessions it wrote that began after their
  person's leaving day; one alert per person.
- **review kept without reasons**: after an access review decision, a team whose every seat in
  the campaign (at least :data:`RUBBER_STAMP_MIN`) the same reviewer kept with no reason; one
  alert per campaign and team.
- **installed for long without a seat** (off unless turned on): after an inventory import, the
  open installs first seen more than N days before the import's day, on a person's device, of a
  product neither the person nor the device holds an open seat of and no site license in term
  covers; one alert per person and product (at most :data:`CAP` per import), cleared once the
  person holds a seat of it (or the installs are gone) at a later inventory import.  It reads
  every open install on people's devices (an install's import is the first that listed it,
  so the import cannot narrow it), which is why it is off until an administrator turns it on.

At most :data:`CAP` alerts per rule and change, so one import cannot flood the list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from seatledger.domain.alerts import Rule
from seatledger.domain.licensing import Metric
from seatledger.services.alerts.evaluation import Evaluation
from seatledger.store import models as m
from seatledger.store.models_alerts import Alert
from seatledger.store.models_reviews import ReviewCampaign, ReviewItem

CAP = 200
RUBBER_STAMP_MIN = 3
REVIEW_ACTIONS = frozenset({"review.decide", "review.decide_team"})


def _end(session: Any) -> Any:
    """When a session ended, or was last seen open (a checkout alone: its start)."""
    return func.coalesce(session.checkin, session.seen_at, session.checkout)


def usage_rules(run: Evaluation, enabled: frozenset[Rule], import_id: int, label: str) -> None:
    """The usage rules on the sessions one usage import wrote."""
    if Rule.SHARED_CREDENTIALS in enabled:
        _shared(run, import_id, label)
    if Rule.USED_AFTER_LEAVING in enabled:
        _after_leaving(run, import_id, label)


def _shared(run: Evaluation, import_id: int, label: str) -> None:
    first, second = aliased(m.UsageSession), aliased(m.UsageSession)
    named_seat = (
        select(m.SeatAssignment.id)
        .join(m.Entitlement, m.SeatAssignment.entitlement_id == m.Entitlement.id)
        .where(
            m.SeatAssignment.person_id == first.person_id,
            m.SeatAssignment.ended_at.is_(None),
            m.Entitlement.product_id == first.product_id,
            m.Entitlement.metric == Metric.PER_USER.value,
        )
        .exists()
    )
    rows = run.session.execute(
        select(
            first.person_id,
            first.product_id,
            m.Person.name,
            m.Product.name,
            func.min(first.host),
            func.max(second.host),
            func.min(
                case((first.checkout > second.checkout, first.checkout), else_=second.checkout)
            ),
        )
        .join(
            second,
            and_(
                second.person_id == first.person_id,
                second.product_id == first.product_id,
                second.host != first.host,
                second.checkout < _end(first),
                first.checkout < _end(second),
            ),
        )
        .join(m.Person, m.Person.id == first.person_id)
        .join(m.Product, m.Product.id == first.product_id)
        .where(
            or_(first.import_id == import_id, second.import_id == import_id),
            first.id < second.id,
            named_seat,
        )
        .group_by(first.person_id, first.product_id, m.Person.name, m.Product.name)
        .limit(CAP)
    ).all()
    for person, product, name, title, host, other, moment in rows:
        run.raise_alert(
            Rule.SHARED_CREDENTIALS,
            f"shared:{person}:{product}",
            f"{name} used {title} from two hosts at once ({host} and {other})",
            f"Overlapping sessions from {moment} on one named-user seat; found by {label}.",
            ("person", str(person)),
        )


def _after_leaving(run: Evaluation, import_id: int, label: str) -> None:
    rows = run.session.execute(
        select(
            m.Person.id,
            m.Person.name,
            m.Person.date_left,
            func.min(m.UsageSession.checkout),
            func.count(),
        )
        .join(m.Person, m.UsageSession.person_id == m.Person.id)
        .where(
            m.UsageSession.import_id == import_id,
            m.Person.status == "left",
            m.Person.date_left.is_not(None),
            func.date(m.UsageSession.checkout) > m.Person.date_left,
        )
        .group_by(m.Person.id, m.Person.name, m.Person.date_left)
        .limit(CAP)
    ).all()
    for person, name, left, first_use, sessions in rows:
        run.raise_alert(
            Rule.USED_AFTER_LEAVING,
            f"used_after_leaving:{person}",
            f"{name} used licensed software after leaving on {left}",
            f"{sessions} sessions from {first_use} on; found by {label}.",
            ("person", str(person)),
        )


def review_rules(run: Evaluation, campaign_id: int, teams: list[int], label: str) -> None:
    """The review rule on the teams whose seats a decision touched."""
    if not teams:
        return
    rows = run.session.execute(
        select(
            ReviewItem.team_id,
            m.Team.name,
            ReviewCampaign.name,
            func.count(),
            func.min(ReviewItem.decided_by),
            func.max(ReviewItem.decided_by),
            func.sum(
                case(
                    (and_(ReviewItem.decision == "keep", ReviewItem.reason == ""), 1),
                    else_=0,
                )
            ),
        )
        .join(m.Team, ReviewItem.team_id == m.Team.id)
        .join(ReviewCampaign, ReviewItem.campaign_id == ReviewCampaign.id)
        .where(ReviewItem.campaign_id == campaign_id, ReviewItem.team_id.in_(teams[:CAP]))
        .group_by(ReviewItem.team_id, m.Team.name, ReviewCampaign.name)
    ).all()
    for team, team_name, campaign, seats, reviewer, last, unexplained in rows:
        if seats >= RUBBER_STAMP_MIN and unexplained == seats and reviewer == last:
            run.raise_alert(
                Rule.REVIEW_WITHOUT_REASONS,
                f"review_without_reasons:{campaign_id}:{team}",
                f"{reviewer} kept all {seats} seats of {team_name} without a reason",
                f"Access review {campaign!r} (#{campaign_id}); the last decision was {label}.",
                ("review_campaign", str(campaign_id)),
            )


def unseated_installs(run: Evaluation, days: int, today: dt.date, label: str) -> None:
    """Open installs on people's devices first seen more than ``days`` before ``today``, of a
    product neither the owner nor the device holds a seat of (after an inventory import)."""
    cutoff = today - dt.timedelta(days=days)
    found = _unseated(run.session, cutoff, today, true(), limit=CAP)
    for owner, product, name, vendor, title, first, devices in found:
        run.raise_alert(
            Rule.UNSEATED_INSTALLS,
            f"unseated:{owner}:{product}",
            f"{name} has had {vendor} {title} installed for over {days} days without a seat",
            f"Installed since {first} on {devices} of their devices, and neither they nor the "
            f"device holds a seat of it; found by {label}.",
            ("person", str(owner)),
        )
    # The alerts of earlier imports whose condition has ended (a seat now, or no such install).
    keys = list(
        run.session.scalars(
            select(Alert.dedupe_key)
            .where(
                Alert.dedupe_key >= "unseated:",
                Alert.dedupe_key < "unseated;",
                Alert.cleared_at.is_(None),
            )
            .limit(CAP)
        )
    )
    pairs = {(int(o), int(p)) for o, p in (k.split(":")[1:3] for k in keys)}
    if not pairs:
        return
    owners = sorted({o for o, _ in pairs})
    still = {
        (int(row[0]), int(row[1]))
        for row in _unseated(run.session, cutoff, today, m.Device.owner_id.in_(owners), limit=None)
    }
    run.clear([f"unseated:{o}:{p}" for o, p in sorted(pairs - still)])


def _unseated(
    session: Session, cutoff: dt.date, today: dt.date, where: Any, *, limit: int | None
) -> list[Any]:
    """(owner, product, name, vendor, product name, first seen, devices) of the open installs
    first seen before ``cutoff`` on people's devices, matching ``where``, without a seat."""
    seat = (
        select(m.SeatAssignment.id)
        .join(m.Entitlement, m.SeatAssignment.entitlement_id == m.Entitlement.id)
        .where(
            m.SeatAssignment.ended_at.is_(None),
            m.Entitlement.product_id == m.SoftwareTitle.product_id,
            or_(
                m.SeatAssignment.person_id == m.Device.owner_id,
                m.SeatAssignment.device_id == m.Installation.device_id,
            ),
        )
        .exists()
    )
    site = (
        select(m.Entitlement.id)
        .where(
            m.Entitlement.product_id == m.SoftwareTitle.product_id,
            m.Entitlement.metric == Metric.SITE.value,
            m.Entitlement.retired.is_(False),
            or_(m.Entitlement.term_start.is_(None), m.Entitlement.term_start <= today),
            or_(m.Entitlement.term_end.is_(None), m.Entitlement.term_end >= today),
        )
        .exists()
    )
    query = (
        select(
            m.Device.owner_id,
            m.SoftwareTitle.product_id,
            m.Person.name,
            m.Vendor.name,
            m.Product.name,
            func.min(m.Installation.first_seen),
            func.count(func.distinct(m.Installation.device_id)),
        )
        .select_from(m.Installation)
        .join(m.Device, m.Installation.device_id == m.Device.id)
        .join(m.SoftwareTitle, m.Installation.title_id == m.SoftwareTitle.id)
        .join(m.Person, m.Device.owner_id == m.Person.id)
        .join(m.Product, m.SoftwareTitle.product_id == m.Product.id)
        .join(m.Vendor, m.Product.vendor_id == m.Vendor.id)
        .where(
            where,
            m.Installation.removed_on.is_(None),
            m.Installation.first_seen < cutoff,
            ~seat,
            ~site,
        )
        .group_by(
            m.Device.owner_id,
            m.SoftwareTitle.product_id,
            m.Person.name,
            m.Vendor.name,
            m.Product.name,
        )
        .order_by(m.Device.owner_id, m.SoftwareTitle.product_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).all())
