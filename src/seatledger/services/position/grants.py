"""License files against purchases: what the servers can issue beside what was bought.

A license file ('lmutil lmstat -i', imported as grants) says how many licenses of each feature a
server can issue and until when.  Features map to products by the normalization rules, as the
usage of 'lmstat -a' does.  Per product, on the as-of date, the grants in force (permanent, or
expiring on the date or later; the newest import of each server) are compared with the purchases
in term:

- the files grant more than was bought: an auditor counts what a server can issue;
- they grant fewer: paid for, but not issued (ask the vendor for the license file);
- they run until another date than the purchases (the latest expiry against the latest term end;
  permanent and no end are alike).

Uncounted grants (node-locked, unlimited on their host) and unlimited purchases (site) are not
compared by count.  A product no license file names is not compared at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from seatledger.domain.licensing import Metric
from seatledger.domain.normalization import RawTitle
from seatledger.services.imports.rules import load_normalizer
from seatledger.store.models import Entitlement, LicenseGrant, Product, Vendor

# The finding kinds (the position engine's FindingKind values; this module is below it).
OVER = "license_file_over"
UNDER = "license_file_under"
EXPIRY = "license_file_expiry"


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A product whose license files and purchases disagree: one finding of the position."""

    kind: str  # OVER, UNDER or EXPIRY
    product_id: int
    vendor: str
    product: str
    count: int
    text: str


@dataclass(frozen=True, slots=True)
class Row:
    """A row behind a disagreement: a grant line or a purchase (the position's Holder)."""

    kind: str  # "grant" or "entitlement"
    id: int
    name: str
    detail: str
    since: str


class _Grant(NamedTuple):
    """A stored grant as the comparison reads it (plain rows: a position reads them all)."""

    id: int
    server: str
    vendor_daemon: str
    feature: str
    version: str
    licenses: int | None  # None: uncounted
    expires: dt.date | None
    line: int
    listed_at: dt.datetime | None


@dataclass
class _Compared:
    """One product's grants and purchases on the date."""

    grants: list[_Grant] = field(default_factory=list)  # every stored one
    in_force: list[_Grant] = field(default_factory=list)
    purchases: list[Entitlement] = field(default_factory=list)  # in term

    @property
    def granted(self) -> int:
        return sum(g.licenses or 0 for g in self.in_force)

    @property
    def uncounted(self) -> bool:
        return any(g.licenses is None for g in self.in_force)

    @property
    def bought(self) -> int:
        return sum(e.quantity for e in self.purchases if not Metric(e.metric).unlimited)

    @property
    def unlimited(self) -> bool:
        return any(Metric(e.metric).unlimited for e in self.purchases)

    @property
    def granted_until(self) -> dt.date | None:
        """The latest expiry in force (None: a grant never expires)."""
        ends = [g.expires for g in self.in_force]
        return None if None in ends else max(e for e in ends if e is not None)

    @property
    def bought_until(self) -> dt.date | None:
        """The latest term end in term (None: a purchase has no end)."""
        ends = [e.term_end for e in self.purchases]
        return None if None in ends else max(e for e in ends if e is not None)


def disagreements(session: Session, day: dt.date) -> list[Disagreement]:
    """The products whose license files and purchases disagree on ``day``."""
    compared = _compare(session, day)
    if not compared:
        return []
    names = {
        pid: (vendor, product)
        for pid, vendor, product in session.execute(
            select(Product.id, Vendor.name, Product.name)
            .join(Vendor, Vendor.id == Product.vendor_id)
            .where(Product.id.in_(sorted(compared)))
        )
    }
    found: list[Disagreement] = []
    for pid, side in sorted(compared.items()):
        vendor, product = names.get(pid, ("", ""))

        def finding(kind: str, count: int, text: str) -> Disagreement:
            return Disagreement(kind, pid, vendor, product, count, text)  # noqa: B023

        granted, bought = side.granted, side.bought
        if not side.uncounted and not side.unlimited and granted != bought:
            said = (
                f"the license files grant {granted:,} on the date, the purchases in term "
                f"{bought:,}: "
            )
            if granted > bought:
                found.append(
                    finding(
                        OVER,
                        granted - bought,
                        said + f"{granted - bought:,} more can be issued than were bought",
                    )
                )
            else:
                found.append(
                    finding(
                        UNDER,
                        bought - granted,
                        said + f"{bought - granted:,} paid for but not issued",
                    )
                )
        if side.in_force and side.purchases and side.granted_until != side.bought_until:
            differ = sum(1 for g in side.in_force if g.expires != side.bought_until)
            found.append(
                finding(
                    EXPIRY,
                    differ,
                    f"the license files run until {_until(side.granted_until)}, the purchases "
                    f"in term until {_until(side.bought_until)}",
                )
            )
    return found


def rows(session: Session, product_id: int, day: dt.date) -> list[Row]:
    """The rows behind a disagreement: the product's grant lines, then its purchases in term."""
    side = _compare(session, day, product_id).get(product_id, _Compared())
    force = {g.id for g in side.in_force}
    found = [
        Row(
            "grant",
            g.id,
            f"{g.feature} {g.version}",
            f"{'uncounted' if g.licenses is None else f'{g.licenses:,} licenses'}, "
            + ("permanent" if g.expires is None else f"expires {g.expires.isoformat()}")
            + ("" if g.id in force else " (expired on the date)")
            + f"; {g.vendor_daemon} on {g.server}, line {g.line}",
            "" if g.listed_at is None else g.listed_at.date().isoformat(),
        )
        for g in sorted(side.grants, key=lambda g: (g.server.lower(), g.line))
    ]
    found += [
        Row(
            "entitlement",
            e.id,
            e.name,
            f"{e.quantity:,} {Metric(e.metric).label}, term until {_until(e.term_end)}",
            "" if e.term_start is None else e.term_start.isoformat(),
        )
        for e in side.purchases
    ]
    return found


def _in_term(day: dt.date) -> ColumnElement[bool]:
    """Purchases whose term covers ``day`` (as the position counts them)."""
    return and_(
        or_(Entitlement.term_start.is_(None), Entitlement.term_start <= day),
        or_(Entitlement.term_end.is_(None), Entitlement.term_end >= day),
        Entitlement.retired.is_(False),
    )


def _until(day: dt.date | None) -> str:
    return "no end (permanent)" if day is None else day.isoformat()


def _compare(session: Session, day: dt.date, only: int | None = None) -> dict[int, _Compared]:
    """Per product a license file names, its grants and its purchases in term on ``day``."""
    query = select(
        LicenseGrant.id,
        LicenseGrant.server,
        LicenseGrant.vendor_daemon,
        LicenseGrant.feature,
        LicenseGrant.version,
        LicenseGrant.count,
        LicenseGrant.expires,
        LicenseGrant.line,
        LicenseGrant.listed_at,
    ).order_by(LicenseGrant.id)
    grants = [_Grant(*row) for row in session.execute(query)]
    if not grants:
        return {}
    normalizer = load_normalizer(session)
    products: dict[str, int | None] = {}
    compared: dict[int, _Compared] = defaultdict(_Compared)
    for grant in grants:
        if grant.feature not in products:
            products[grant.feature] = normalizer.product_of(RawTitle("", grant.feature))
        pid = products[grant.feature]
        if pid is None or (only is not None and pid != only):
            continue
        side = compared[pid]
        side.grants.append(grant)
        if grant.expires is None or grant.expires >= day:
            side.in_force.append(grant)
    if compared:
        for entitlement in session.scalars(
            select(Entitlement)
            .where(Entitlement.product_id.in_(sorted(compared)), _in_term(day))
            .order_by(Entitlement.id)
        ):
            compared[entitlement.product_id].purchases.append(entitlement)
    return dict(compared)
