"""Single-record reads for edit dialogs and detail panes."""

from __future__ import annotations

from sqlalchemy import select

from seatledger.domain.licensing import Metric, stored_factor
from seatledger.errors import NotFoundError
from seatledger.services.catalog.queries import EntitlementQuery, EntitlementRow
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.context import Context
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.store.models import Device, Entitlement, Person, Product


def entitlement(ctx: Context, entitlement_id: int) -> tuple[EntitlementInput, int]:
    """An entitlement's editable fields and its vendor id."""
    with ctx.read() as session:
        e = session.get(Entitlement, entitlement_id)
        if e is None:
            raise NotFoundError(f"License {entitlement_id} does not exist.")
        vendor_id = session.scalar(select(Product.vendor_id).where(Product.id == e.product_id))
        data = EntitlementInput(
            product_id=e.product_id,
            metric=Metric(e.metric),
            quantity=e.quantity,
            name=e.name,
            term_start=e.term_start,
            term_end=e.term_end,
            unit_cost=e.unit_cost,
            currency=e.currency,
            po_reference=e.po_reference,
            reseller=e.reseller,
            notes=e.notes,
            min_cores_per_processor=e.min_cores_per_processor,
            core_factor=stored_factor(e.core_factor),
            unit_table=e.unit_table or "",
            notice_days=e.notice_days or "",
            cancel_by=e.cancel_by,
        )
        return data, int(vendor_id or 0)


def entitlement_row(ctx: Context, entitlement_id: int) -> EntitlementRow:
    """One license as listed (with seats used)."""
    rows = EntitlementQuery(ctx).entitlements([entitlement_id])
    if entitlement_id not in rows:
        raise NotFoundError(f"License {entitlement_id} does not exist.")
    return rows[entitlement_id]


def person(ctx: Context, person_id: int) -> tuple[PersonInput, str]:
    """A person's editable fields and status (``active`` or ``left``)."""
    with ctx.read() as session:
        p = session.get(Person, person_id)
        if p is None:
            raise NotFoundError(f"Person {person_id} does not exist.")
        return PersonInput(p.employee_id, p.name, p.email, p.team_id), p.status


def device(ctx: Context, device_id: int) -> DeviceInput:
    """A device's editable fields."""
    with ctx.read() as session:
        d = session.get(Device, device_id)
        if d is None:
            raise NotFoundError(f"Device {device_id} does not exist.")
        return DeviceInput(
            d.hostname, d.serial, d.owner_id, d.processors, d.cores, d.os, d.processor_model or ""
        )
