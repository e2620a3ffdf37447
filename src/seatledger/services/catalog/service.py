"""Vendors, products and entitlements: what was bought."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from seatledger.domain import validation
from seatledger.domain.licensing import Metric, stored_factor
from seatledger.domain.roles import Permission
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services import lookups
from seatledger.services.core import snapshots
from seatledger.services.core.context import Context
from seatledger.services.lookups import NamedItem
from seatledger.store.models import Entitlement, Product, Vendor

EDIT = "edit licenses"


@dataclass(frozen=True, slots=True)
class EntitlementInput:
    """The fields of an entitlement as entered in a dialog, the CLI or an import."""

    product_id: int
    metric: Metric
    quantity: int
    name: str = ""
    term_start: dt.date | None = None
    term_end: dt.date | None = None
    unit_cost: Decimal | None = None
    currency: str = "EUR"
    po_reference: str = ""
    reseller: str = ""
    notes: str = ""
    min_cores_per_processor: int = 0
    core_factor: Decimal = Decimal(1)
    unit_table: str = ""  # per core: units per core by processor ("Xeon=0.5; POWER10=1")
    notice_days: str = ""  # days before the end that remind ("180, 90, 30"); "": the default
    cancel_by: dt.date | None = None  # the vendor's last day to cancel before it renews


class CatalogService:
    """Creates and edits vendors, products and entitlements."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def vendors(self) -> list[NamedItem]:
        """All vendors by name."""
        return lookups.vendors(self._ctx)

    def products(self, vendor_id: int | None = None) -> list[NamedItem]:
        """Products (of one vendor, or all) as 'Vendor Product'."""
        return [
            NamedItem(p.id, f"{p.vendor} {p.name}") for p in lookups.products(self._ctx, vendor_id)
        ]

    def add_vendor(self, name: str, website: str = "", notes: str = "") -> int:
        """Add a vendor; names are unique (case-insensitively)."""
        clean = validation.name(name, "Vendor name")
        with self._ctx.change(Permission.EDIT_LICENSES, "vendor.create", "vendor", EDIT) as change:
            exists = change.session.scalar(
                select(Vendor.id).where(func.lower(Vendor.name) == clean.lower())
            )
            if exists:
                raise ValidationError(f"A vendor named '{clean}' already exists.", "Vendor name")
            vendor = Vendor(
                name=clean,
                website=validation.optional_text(website, "Website", max_len=500),
                notes=validation.optional_text(notes, "Notes"),
            )
            return change.stored(vendor, snapshots.vendor)

    def add_product(self, vendor_id: int, name: str, notes: str = "") -> int:
        """Add a product of a vendor; names are unique per vendor."""
        clean = validation.name(name, "Product name")
        with self._ctx.change(
            Permission.EDIT_LICENSES, "product.create", "product", EDIT
        ) as change:
            if change.session.get(Vendor, vendor_id) is None:
                raise NotFoundError(f"Vendor {vendor_id} does not exist.")
            exists = change.session.scalar(
                select(Product.id).where(
                    Product.vendor_id == vendor_id, func.lower(Product.name) == clean.lower()
                )
            )
            if exists:
                raise ValidationError(
                    f"This vendor already has a product named '{clean}'.", "Product name"
                )
            product = Product(
                vendor_id=vendor_id, name=clean, notes=validation.optional_text(notes, "Notes")
            )
            return change.stored(product, snapshots.product)

    def add_entitlement(self, data: EntitlementInput) -> int:
        """Record a purchase."""
        with self._ctx.change(
            Permission.EDIT_LICENSES, "entitlement.create", "entitlement", EDIT
        ) as change:
            if change.session.get(Product, data.product_id) is None:
                raise NotFoundError(f"Product {data.product_id} does not exist.")
            entitlement = Entitlement(seats_used=0, retired=False)
            _apply(entitlement, data)
            return change.stored(entitlement, snapshots.entitlement)

    def update_entitlement(
        self, entitlement_id: int, data: EntitlementInput, reason: str = ""
    ) -> None:
        """Edit a purchase (renewal, true-up, correction); lowering below use is refused."""
        with self._ctx.change(
            Permission.EDIT_LICENSES, "entitlement.update", "entitlement", EDIT, reason
        ) as change:
            entitlement = change.get(Entitlement, entitlement_id, "Entitlement")
            before = snapshots.entitlement(entitlement)
            if data.metric.value != entitlement.metric and entitlement.seats_used:
                raise ValidationError(
                    "The metric cannot change while seats are assigned; release them first.",
                    "Metric",
                )
            if entitlement.seats_used and _units_change(entitlement, data):
                raise ValidationError(
                    "The core factor and minimum cores per processor decide what each assigned "
                    "seat counts; release the seats before changing them.",
                    "Core factor",
                )
            if data.quantity < entitlement.seats_used and not Metric(data.metric).unlimited:
                raise ValidationError(
                    f"Quantity {data.quantity} is below the {entitlement.seats_used} in use; "
                    "release seats first.",
                    "Quantity",
                )
            _apply(entitlement, data)
            change.edited(entitlement.id, before, snapshots.entitlement(entitlement))
            # Its terms are now the operator's (this entry), no longer an import line's.
            entitlement.import_id = entitlement.source_line = None


_FACTOR_PLACES = Decimal("0.001")


def _units_change(entitlement: Entitlement, data: EntitlementInput) -> bool:
    """Whether an edit changes what a per-core seat counts (its units are fixed when assigned)."""
    if Metric(data.metric) is not Metric.PER_CORE:
        return False
    factor = validation.core_factor(data.core_factor)
    return bool(
        data.min_cores_per_processor != entitlement.min_cores_per_processor
        or factor != stored_factor(entitlement.core_factor)
        or validation.unit_table(data.unit_table) != entitlement.unit_table
    )


def _apply(entitlement: Entitlement, data: EntitlementInput) -> None:
    validation.term(data.term_start, data.term_end)
    entitlement.product_id = data.product_id
    entitlement.name = validation.optional_text(data.name, "Name", max_len=200)
    entitlement.metric = Metric(data.metric).value
    entitlement.quantity = validation.count(data.quantity, "Quantity")
    entitlement.min_cores_per_processor = validation.count(
        data.min_cores_per_processor, "Minimum cores per processor", maximum=1024
    )
    entitlement.core_factor = (
        validation.core_factor(data.core_factor)
        if Metric(data.metric) is Metric.PER_CORE
        else Decimal(1)
    ).quantize(_FACTOR_PLACES)  # as the column reads back, so before and after compare equal
    entitlement.unit_table = (
        validation.unit_table(data.unit_table) if Metric(data.metric) is Metric.PER_CORE else None
    )
    entitlement.term_start = data.term_start
    entitlement.term_end = data.term_end
    entitlement.notice_days = validation.notice_days(data.notice_days)
    if data.cancel_by is not None and data.term_end is not None and data.cancel_by > data.term_end:
        raise ValidationError(
            f"The cancel-by date {data.cancel_by.isoformat()} is after the term ends "
            f"({data.term_end.isoformat()}).",
            "Cancel by",
        )
    entitlement.cancel_by = data.cancel_by
    entitlement.unit_cost = validation.money(data.unit_cost, "Unit cost")
    entitlement.currency = validation.currency(data.currency)
    entitlement.po_reference = validation.optional_text(
        data.po_reference, "PO reference", max_len=200
    )
    entitlement.reseller = validation.optional_text(data.reseller, "Reseller", max_len=200)
    entitlement.notes = validation.optional_text(data.notes, "Notes")
