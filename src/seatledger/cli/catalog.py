"""``seatledger licenses`` lists licenses, ``renewals`` their renewal reminders; ``vendor``,
``product``, ``entitlement`` and ``person`` add to the catalog and the directory."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import reader, signed_in
from seatledger.domain import validation
from seatledger.domain.licensing import Metric
from seatledger.errors import KnownError
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.text import plural


def cmd_licenses(args: argparse.Namespace) -> int:
    """Print the licenses table."""
    query = reader(args).reads.entitlements(args.search)
    keys = query.keys()
    rows = query.entitlements(keys)
    today = dt.date.today()
    header = f"{'ID':>6}  {'License':<48} {'Metric':<18} {'Qty':>7} {'Used':>7} {'Free':>7}"
    say(header + "  Term end")
    for key in keys:
        r = rows[key]
        flag = " OVER" if r.over_limit else (" EXPIRED" if r.expired(today) else "")
        end = r.term_end.isoformat() if r.term_end else "—"
        free = "—" if r.metric.unlimited else str(r.free)
        say(
            f"{r.id:>6}  {r.title[:48]:<48} {r.metric.label:<18} {r.quantity:>7} {r.used:>7} "
            f"{free:>7}  {end}{flag}"
        )
    return EXIT_OK


def cmd_renewals(args: argparse.Namespace) -> int:
    """Print the renewal reminders due now and those of the next days; write a calendar."""
    renewals = reader(args).renewals
    if not 1 <= args.days <= 3650:
        raise KnownError(f"--days must be from 1 to 3650, not {args.days}.")
    due = renewals.due()
    say(f"Needs a decision now: {plural(len(due), 'license')}")
    for reminder in due:
        say(f"  {reminder.day.isoformat()}  {reminder.title}: {reminder.text}")
    upcoming = renewals.upcoming(args.days)
    say(f"Next {plural(args.days, 'day')}: {plural(len(upcoming), 'reminder')}")
    for reminder in upcoming:
        say(f"  {reminder.day.isoformat()}  {reminder.title}: {reminder.text}")
    if args.ics:
        written = renewals.write_calendar(Path(args.ics))
        say(f"Wrote {plural(written, 'event')} of the next two years to {args.ics}.")
    return EXIT_OK


def cmd_catalog(args: argparse.Namespace) -> int:
    """Add a vendor, product, entitlement or person."""

    services = signed_in(args)
    if args.command == "vendor":
        new_id = services.catalog.add_vendor(args.name)
    elif args.command == "product":
        vendor_id = _find(services.catalog.vendors(), args.vendor, "vendor")
        new_id = services.catalog.add_product(vendor_id, args.name)
    elif args.command == "entitlement":
        vendor_id = _find(services.catalog.vendors(), args.vendor, "vendor")
        products = services.catalog.products(vendor_id)
        vendor_name = next(v.name for v in services.catalog.vendors() if v.id == vendor_id)
        product_id = _find(products, f"{vendor_name} {args.product}", "product")
        try:
            metric = Metric(args.metric)
        except ValueError:
            choices = ", ".join(m.value for m in Metric)
            raise KnownError(f"Unknown metric '{args.metric}'; use one of {choices}.") from None
        new_id = services.catalog.add_entitlement(
            EntitlementInput(
                product_id=product_id,
                metric=metric,
                quantity=validation.count(args.quantity, "Quantity"),
                term_start=validation.date(args.start, "Start"),
                term_end=validation.date(args.end, "End"),
                unit_cost=validation.money(args.unit_cost, "Unit cost"),
                currency=args.currency,
                po_reference=args.po,
                min_cores_per_processor=validation.count(
                    args.min_cores, "Minimum cores per processor", maximum=1024
                ),
                core_factor=validation.core_factor(args.core_factor),
                unit_table=_unit_table(args.unit_table, metric),
                notice_days=args.notice_days,
                cancel_by=validation.date(args.cancel_by, "Cancel by"),
            )
        )
    else:
        new_id = services.directory.add_person(PersonInput(args.employee_id, args.name, args.email))
    say(f"Added {args.command} {new_id}.")
    return EXIT_OK


def _unit_table(text: str, metric: Metric) -> str:
    if text.strip() and metric is not Metric.PER_CORE:
        raise KnownError(
            f"--unit-table rates cores by processor: it applies to per_core licenses, not "
            f"{metric.value}."
        )
    return text


def _find(items: Sequence[object], name: str, what: str) -> int:
    for item in items:
        if getattr(item, "name", "").lower() == name.lower():
            return int(getattr(item, "id"))  # noqa: B009
    raise KnownError(f"No {what} named '{name}'.")
