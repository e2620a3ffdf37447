"""The select every feature package builds alike: entitlements with their product's and vendor's
names."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Select, select

from seatledger.store.models import Entitlement, Product, Vendor


def titled(*columns: Any) -> Select[Any]:
    """``select(*columns)`` over entitlements joined to their product and its vendor (so the
    columns may name either)."""
    return (
        select(*columns)
        .join(Product, Entitlement.product_id == Product.id)
        .join(Vendor, Product.vendor_id == Vendor.id)
    )


def entitlement_titles(*more: Any) -> Select[Any]:
    """Each entitlement's ``id``, ``vendor`` and ``product`` names and ``name``, then ``more``."""
    return titled(
        Entitlement.id,
        Vendor.name.label("vendor"),
        Product.name.label("product"),
        Entitlement.name,
        *more,
    )


class Counted(NamedTuple):
    """An entitlement's count as a change leaves it, with its names: what the limit and
    warning rules read (:data:`COUNTED` selects it), or take from the change that has it in
    hand (:attr:`~seatledger.services.core.context.Change.counted`)."""

    id: int
    metric: str
    quantity: int
    seats_used: int
    retired: bool
    vendor: str
    product: str
    name: str


COUNTED = (
    Entitlement.id,
    Entitlement.metric,
    Entitlement.quantity,
    Entitlement.seats_used,
    Entitlement.retired,
    Vendor.name,
    Product.name,
    Entitlement.name,
)
"""The columns of :class:`Counted`, in its order, for :func:`titled`."""
