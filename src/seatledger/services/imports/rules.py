"""Normalization rules: which product a raw inventory title is, edited by people, in the ledger.

Installs point at distinct software titles, so applying the rules after an edit re-maps a few
thousand title rows, never the millions of installs behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seatledger.domain.normalization import MatchKind, Normalizer, RawTitle, Rule, RuleFields
from seatledger.domain.roles import Permission
from seatledger.errors import ValidationError
from seatledger.services.core.context import Context
from seatledger.store.bulk import Bulk
from seatledger.store.models import (
    Installation,
    NormalizationRule,
    Product,
    SoftwareTitle,
    UsageDenial,
    UsageSession,
    Vendor,
)

EDIT = "edit normalization rules"


RuleInput = RuleFields
"""A rule as entered: :meth:`RulesService.add` checks and compiles it."""


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A stored rule with its product and how many titles it maps now."""

    id: int
    product: str
    vendor: str
    kind: MatchKind
    publisher: str
    title: str
    version_min: str
    version_max: str
    priority: int
    created_by: str


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A raw publisher and title no rule maps, with its spread."""

    publisher: str
    title: str
    versions: int
    installs: int  # installs, or checkouts for a license-server feature
    source: str = "inventory"  # or "license server"


_LIMITS = (("Title", 500), ("Publisher", 300), ("Version from", 100), ("Version below", 100))


def _check_lengths(*values: str) -> None:
    """Refuse patterns longer than their columns hold (PostgreSQL would fail on them)."""
    for (field, limit), value in zip(_LIMITS, values, strict=False):
        if len(value.strip()) > limit:
            raise ValidationError(
                f"{field} is {len(value.strip()):,} characters long; the limit is {limit}.", field
            )


def _domain_rule(row: NormalizationRule) -> Rule:
    return Rule(
        product_id=row.product_id,
        title=row.title,
        publisher=row.publisher,
        kind=MatchKind(row.kind),
        version_min=row.version_min,
        version_max=row.version_max,
        priority=row.priority,
    )


def load_normalizer(session: Session) -> Normalizer:
    """The stored rules, in the order they were added."""
    rows = session.scalars(select(NormalizationRule).order_by(NormalizationRule.id))
    return Normalizer(_domain_rule(row) for row in rows)


def remap(session: Session) -> int:
    """Apply the rules to every stored title and usage feature; how many titles changed."""
    normalizer = load_normalizer(session)
    bulk = Bulk(session.connection())
    changes = [
        (found, title_id)
        for title_id, publisher, title, version, product in session.execute(
            select(
                SoftwareTitle.id,
                SoftwareTitle.publisher,
                SoftwareTitle.title,
                SoftwareTitle.version,
                SoftwareTitle.product_id,
            )
        )
        if (found := normalizer.product_of(RawTitle(publisher, title, version))) != product
    ]
    bulk.many("UPDATE software_title SET product_id = ? WHERE id = ?", changes)
    # License-server features: the checkouts and the refused checkouts, by feature alone.
    for table, model in (("usage_session", UsageSession), ("usage_denial", UsageDenial)):
        features = [
            (found, feature)
            for feature, low, high in session.execute(
                select(
                    model.feature, func.min(model.product_id), func.max(model.product_id)
                ).group_by(model.feature)
            )
            # min and max: some rows of a feature may be mapped and others not.
            if (found := normalizer.product_of(RawTitle("", feature))) != low or found != high
        ]
        bulk.many(f"UPDATE {table} SET product_id = ? WHERE feature = ?", features)
    return len(changes)


class RuleService:
    """Lists, adds and removes normalization rules; each change re-maps titles at once."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def rules(self) -> list[RuleRow]:
        """Every rule, most specific first as they are applied."""
        with self._ctx.read() as session:
            rows = session.execute(
                select(NormalizationRule, Product.name, Vendor.name)
                .join(Product, Product.id == NormalizationRule.product_id)
                .join(Vendor, Vendor.id == Product.vendor_id)
                .order_by(NormalizationRule.priority.desc(), NormalizationRule.id)
            ).all()
            return [
                RuleRow(
                    r.id,
                    product,
                    vendor,
                    MatchKind(r.kind),
                    r.publisher,
                    r.title,
                    r.version_min,
                    r.version_max,
                    r.priority,
                    r.created_by,
                )
                for r, product, vendor in rows
            ]

    def unmatched(self, limit: int = 5000) -> list[Unmatched]:
        """Titles installed now, and license-server features, that no rule maps; most first."""
        with self._ctx.read() as session:
            rows = session.execute(
                select(
                    SoftwareTitle.publisher,
                    SoftwareTitle.title,
                    func.count(func.distinct(SoftwareTitle.version)),
                    func.count(Installation.id),
                )
                .join(Installation, Installation.title_id == SoftwareTitle.id)
                .where(SoftwareTitle.product_id.is_(None), Installation.removed_on.is_(None))
                .group_by(SoftwareTitle.publisher, SoftwareTitle.title)
                .order_by(func.count(Installation.id).desc(), SoftwareTitle.title)
                .limit(limit)
            ).all()
            found = [Unmatched(str(p), str(t), int(v), int(n)) for p, t, v, n in rows]
            features = session.execute(
                select(UsageSession.feature, func.count(UsageSession.id))
                .where(UsageSession.product_id.is_(None))
                .group_by(UsageSession.feature)
                .order_by(func.count(UsageSession.id).desc())
                .limit(limit)
            ).all()
            found += [Unmatched("", str(f), 0, int(n), "license server") for f, n in features]
            found.sort(key=lambda u: (-u.installs, u.title.lower()))
            return found[:limit]

    def add(self, data: RuleInput) -> tuple[int, int]:
        """Add a rule and apply it; returns the rule id and how many titles it re-mapped."""
        _check_lengths(data.title, data.publisher, data.version_min, data.version_max)
        rule = Rule(
            product_id=data.product_id,
            title=data.title,
            publisher=data.publisher,
            kind=data.kind,
            version_min=data.version_min.strip(),
            version_max=data.version_max.strip(),
            priority=data.priority,
        )
        with self._ctx.change(
            Permission.EDIT_LICENSES, "rule.create", "normalization_rule", EDIT
        ) as change:
            if change.session.get(Product, data.product_id) is None:
                raise ValidationError("Choose the product the titles are.", "Product")
            row = NormalizationRule(
                product_id=rule.product_id,
                kind=rule.kind.value,
                publisher=rule.publisher.strip(),
                title=rule.title.strip(),
                version_min=rule.version_min,
                version_max=rule.version_max,
                priority=rule.priority,
                created_by=self._ctx.actor.name,
                created_at=change.now,
            )
            change.session.add(row)
            change.session.flush()
            mapped = remap(change.session)
            change.entity_id = str(row.id)
            change.after = {**_snapshot(row), "titles_remapped": mapped}
            return row.id, mapped

    def add_many(self, product_id: int, titles: list[tuple[str, str]]) -> int:
        """Map several unmatched (publisher, title) pairs to one product: one rule each, one
        ledger entry.  Returns how many titles were re-mapped."""
        if not titles:
            raise ValidationError("Choose at least one title to map.")
        for publisher, title in titles:
            _check_lengths(title, publisher)
        with self._ctx.change(
            Permission.EDIT_LICENSES, "rule.create", "normalization_rule", EDIT
        ) as change:
            if change.session.get(Product, product_id) is None:
                raise ValidationError("Choose the product the titles are.", "Product")
            rows = [
                NormalizationRule(
                    product_id=product_id,
                    kind=MatchKind.EXACT.value,
                    publisher=publisher,
                    title=title,
                    version_min="",
                    version_max="",
                    priority=0,
                    created_by=self._ctx.actor.name,
                    created_at=change.now,
                )
                for publisher, title in titles
            ]
            for row in rows:
                Rule(product_id, row.title, row.publisher)  # validates
            change.session.add_all(rows)
            change.session.flush()
            mapped = remap(change.session)
            change.entity_id = ",".join(str(r.id) for r in rows)[:64]
            change.after = {"rules": [_snapshot(r) for r in rows], "titles_remapped": mapped}
            return mapped

    def delete(self, rule_id: int, reason: str = "") -> int:
        """Remove a rule and re-map; returns how many titles changed product."""
        with self._ctx.change(
            Permission.EDIT_LICENSES, "rule.delete", "normalization_rule", EDIT, reason
        ) as change:
            row = change.get(NormalizationRule, rule_id, "Rule")
            change.entity_id = str(rule_id)
            change.before = _snapshot(row)
            change.session.delete(row)
            change.session.flush()
            mapped = remap(change.session)
            change.after = {"titles_remapped": mapped}
            return mapped


def _snapshot(row: NormalizationRule) -> dict[str, Any]:
    return {
        "product_id": row.product_id,
        "kind": row.kind,
        "publisher": row.publisher,
        "title": row.title,
        "version_min": row.version_min,
        "version_max": row.version_max,
        "priority": row.priority,
    }
