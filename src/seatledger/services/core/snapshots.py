"""JSON-ready before/after snapshots of entities for ledger entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from seatledger.store.models import Device, Entitlement, Person, Product, Team, Vendor


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def vendor(v: Vendor) -> dict[str, Any]:
    """Snapshot of a vendor."""
    return {"name": v.name, "website": v.website, "notes": v.notes}


def product(p: Product) -> dict[str, Any]:
    """Snapshot of a product."""
    return {"vendor_id": p.vendor_id, "name": p.name, "notes": p.notes}


def entitlement(e: Entitlement) -> dict[str, Any]:
    """Snapshot of an entitlement (without the derived seat count)."""
    fields = (
        "product_id",
        "name",
        "metric",
        "quantity",
        "min_cores_per_processor",
        "term_start",
        "term_end",
        "unit_cost",
        "currency",
        "po_reference",
        "reseller",
        "notes",
        "retired",
    )
    return {name: _value(getattr(e, name)) for name in fields}


def team(t: Team) -> dict[str, Any]:
    """Snapshot of a team."""
    return {"name": t.name, "cost_centre": t.cost_centre}


def person(p: Person) -> dict[str, Any]:
    """Snapshot of a person."""
    fields = ("employee_id", "name", "email", "team_id", "status", "date_left")
    return {name: _value(getattr(p, name)) for name in fields}


def device(d: Device) -> dict[str, Any]:
    """Snapshot of a device."""
    fields = ("hostname", "serial", "owner_id", "processors", "cores", "os")
    return {name: _value(getattr(d, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
