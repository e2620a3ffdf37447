"""The lookups every screen and command shares: names for pickers, and natural keys to ids.

Vendors, products and teams are read here and nowhere else, each by one function with one return
type; the catalog, directory, audit and usage services hand these on (labelling products their
own way).  Person and device ids are resolved from employee ids and host names for the CLI and
imports, and :func:`counts` gives the row counts the navigation shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, select

from seatledger.errors import NotFoundError
from seatledger.services.core.context import Context
from seatledger.store.models import Device, Entitlement, LedgerHead, Person, Product, Team, Vendor


class NamedItem(NamedTuple):
    """An id and a display name, for pickers (it unpacks as ``id, name``)."""

    id: int
    name: str


class ProductItem(NamedTuple):
    """A product and its vendor's name, for pickers that label products their own way."""

    id: int
    vendor: str
    name: str


def vendors(ctx: Context) -> list[NamedItem]:
    """Every vendor, by name."""
    with ctx.read() as session:
        rows = session.execute(select(Vendor.id, Vendor.name).order_by(Vendor.name)).all()
    return [NamedItem(int(r[0]), str(r[1])) for r in rows]


def products(ctx: Context, vendor_id: int | None = None) -> list[ProductItem]:
    """Every product (or one vendor's), by vendor name and product name."""
    query = (
        select(Product.id, Vendor.name, Product.name)
        .join(Vendor, Product.vendor_id == Vendor.id)
        .order_by(Vendor.name, Product.name)
    )
    if vendor_id is not None:
        query = query.where(Product.vendor_id == vendor_id)
    with ctx.read() as session:
        rows = session.execute(query).all()
    return [ProductItem(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def teams(ctx: Context) -> list[NamedItem]:
    """Every team, by name."""
    with ctx.read() as session:
        rows = session.execute(select(Team.id, Team.name).order_by(Team.name)).all()
    return [NamedItem(int(r[0]), str(r[1])) for r in rows]


def person_ids(ctx: Context, employee_ids: Sequence[str]) -> list[int]:
    """Person ids for employee ids, in order; names the first unknown one."""
    if not employee_ids:
        return []
    with ctx.read() as session:
        found = dict(
            session.execute(
                select(Person.employee_id, Person.id).where(Person.employee_id.in_(employee_ids))
            ).all()
        )
    for key in employee_ids:
        if key not in found:
            raise NotFoundError(f"No person with employee ID '{key}'.")
    return [found[key] for key in employee_ids]


def device_ids(ctx: Context, hostnames: Sequence[str]) -> list[int]:
    """Device ids for host names (in any case), in order; names the first unknown one."""
    if not hostnames:
        return []
    wanted = [name.strip().lower() for name in hostnames]
    with ctx.read() as session:
        found: dict[str, int] = dict(
            session.execute(
                select(func.lower(Device.hostname), Device.id).where(
                    func.lower(Device.hostname).in_(wanted)
                )
            ).all()
        )
    for key, name in zip(wanted, hostnames, strict=True):
        if key not in found:
            raise NotFoundError(f"No device with host name '{name}'.")
    return [found[key] for key in wanted]


@dataclass(frozen=True, slots=True)
class Counts:
    """How many of each thing the navigation shows."""

    licenses: int
    people: int
    devices: int
    ledger: int


def counts(ctx: Context) -> Counts:
    """Row counts for the navigation, by ``COUNT(*)`` (the ledger's from its head record)."""
    with ctx.read() as session:
        licenses = session.scalar(
            select(func.count()).select_from(Entitlement).where(Entitlement.retired.is_(False))
        )
        people = session.scalar(select(func.count()).select_from(Person))
        devices = session.scalar(select(func.count()).select_from(Device))
        ledger = session.scalar(select(LedgerHead.size))
    return Counts(licenses or 0, people or 0, devices or 0, ledger or 0)
