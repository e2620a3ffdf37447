"""The select every feature package builds alike: entitlements with their product's and vendor's
names."""

from __future__ import annotations

from typing import Any

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
