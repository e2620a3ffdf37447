"""JSON-ready before/after snapshots of entities for ledger entries.

Each entity's snapshot is named by one field list; the services take it from a row they have just
written (``vendor(v)``), and the demo, which writes rows in bulk, from the plain values it planned
(``values(VENDOR, name, website, notes)``).  Either way an entry holds the same fields, converted
the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from seatledger.store.models import Device, Entitlement, Person, Product, Team, Vendor

VENDOR = ("name", "website", "notes")
PRODUCT = ("vendor_id", "name", "notes")
# Without the derived seat count.
ENTITLEMENT = (
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
    "core_factor",
    "unit_table",
    "notice_days",
    "cancel_by",
)
TEAM = ("name", "cost_centre")
# The first day counts in positions (no seat is needed before it); only HR imports set it.
PERSON = ("employee_id", "name", "email", "team_id", "status", "date_left", "date_joined")
DEVICE = ("hostname", "serial", "owner_id", "processors", "cores", "processor_model", "os")
OPERATOR = ("name", "full_name", "role")
# The operator that creates a database, without their full name: bundles disclose it as it is.
FIRST_ADMINISTRATOR = ("name", "role")


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def values(fields: tuple[str, ...], *given: Any) -> dict[str, Any]:
    """The snapshot of an entity given as plain values, in the order of ``fields``."""
    return {name: _value(value) for name, value in zip(fields, given, strict=True)}


def _of(fields: tuple[str, ...], row: Any) -> dict[str, Any]:
    return {name: _value(getattr(row, name)) for name in fields}


def vendor(v: Vendor) -> dict[str, Any]:
    """Snapshot of a vendor."""
    return _of(VENDOR, v)


def product(p: Product) -> dict[str, Any]:
    """Snapshot of a product."""
    return _of(PRODUCT, p)


def entitlement(e: Entitlement) -> dict[str, Any]:
    """Snapshot of an entitlement (without the derived seat count)."""
    return _of(ENTITLEMENT, e)


def team(t: Team) -> dict[str, Any]:
    """Snapshot of a team."""
    return _of(TEAM, t)


def person(p: Person) -> dict[str, Any]:
    """Snapshot of a person."""
    return _of(PERSON, p)


def device(d: Device) -> dict[str, Any]:
    """Snapshot of a device."""
    return _of(DEVICE, d)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
