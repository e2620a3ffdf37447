"""The command-line commands that work on a database (see :mod:`seatledger.cli`)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from seatledger.cli import EXIT_FAILED, EXIT_OK, _entries, _opened, _print
from seatledger.domain import validation
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.errors import KnownError
from seatledger.paths import default_database
from seatledger.services import ledger
from seatledger.services.catalog import EntitlementInput
from seatledger.services.context import Context
from seatledger.services.directory import PersonInput
from seatledger.services.lookups import device_ids, person_ids
from seatledger.services.operators import (
    create_first_administrator,
    has_operators,
    hash_password,
    sign_in,
)
from seatledger.services.queries import ActivityQuery, LicenseQuery
from seatledger.services.session import Services
from seatledger.store.db import Database


def _database(args: argparse.Namespace, *, create: bool = False, upgrade: bool = True) -> Database:
    target = args.db or default_database()
    is_file = "://" not in target
    if is_file and create and not args.db:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    if is_file and not create and not Path(target).exists():
        raise KnownError(f"{target} does not exist. Create it with 'seatledger init' or the app.")
    database, _ = Database.open(target, create=create, upgrade=upgrade)
    _opened.append(database)
    return database


def _password(prompt: str) -> str:
    env = os.environ.get("SEATLEDGER_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise KnownError("No password: set SEATLEDGER_PASSWORD or run in a terminal.")
    return getpass.getpass(prompt)


def _operator_name(args: argparse.Namespace) -> str:
    name = args.operator or os.environ.get("SEATLEDGER_OPERATOR")
    if not name:
        raise KnownError("Name the operator with --operator or SEATLEDGER_OPERATOR.")
    return str(name)


def _services(args: argparse.Namespace) -> Services:
    db = _database(args)
    name = _operator_name(args)
    actor = sign_in(db, name, _password(f"Password for {name}: "))
    return Services.for_actor(db, actor)


def cmd_init(args: argparse.Namespace) -> int:
    """Create a database and its administrator."""

    name = validation.name(_operator_name(args), "Operator name", max_len=64)
    password = _password(f"New password for {name}: ")
    hash_password(password)  # refuse a weak password before anything is created
    db = _database(args, create=True)
    if has_operators(db):
        raise KnownError(f"{db.display_name} already has operators; sign in instead.")
    create_first_administrator(db, name, args.full_name, password)
    _print(f"Created {db.display_name} with administrator {name}.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Build a demo database."""
    from seatledger.services.demo import build_demo  # noqa: PLC0415

    def progress(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r{stage}: {done:,}/{total:,}".ljust(60))
        sys.stderr.flush()

    started = dt.datetime.now()
    summary = build_demo(args.db, args.size, seed=args.seed, progress=progress)
    seconds = (dt.datetime.now() - started).total_seconds()
    sys.stderr.write("\n")
    shown = Database.display_name_of(args.db)
    _print(f"Built {args.size} demo {shown} in {seconds:.1f} s: {summary}")
    _print("Operators admin, manager, auditor and viewer; password 'demo'.")
    return EXIT_OK


def cmd_ledger(args: argparse.Namespace) -> int:
    """Verify or show the ledger (never upgrades: reading must not change the file)."""
    db = _database(args, upgrade=False)
    if args.ledger_command == "tail":
        query = ActivityQuery(Context.reader(db))
        keys = list(query.keys()[: args.n])
        rows = query.rows(keys)
        for key in keys:
            seq, ts, operator, action, entity, reason, summary = rows[key]
            _print(f"{seq:>8}  {ts}  {operator:<12} {action:<22} {entity:<16} {reason}  {summary}")
        return EXIT_OK
    started = dt.datetime.now()
    verdict = ledger.verify(db)
    seconds = (dt.datetime.now() - started).total_seconds()
    if verdict.failure is None:
        _print(
            f"Ledger intact: {_entries(verdict.entries)}, head {verdict.head.hex()} "
            f"(verified in {seconds:.2f} s)."
        )
        return EXIT_OK
    _print(f"Ledger BROKEN: {verdict.failure.message()}.")
    _print(f"The {_entries(verdict.entries)} before it verify.")
    return EXIT_FAILED


def cmd_licenses(args: argparse.Namespace) -> int:
    """Print the licenses table."""
    db = _database(args, upgrade=False)
    query = LicenseQuery(Context.reader(db), args.search)
    keys = query.keys()
    rows = query.licenses(keys)
    today = dt.date.today()
    header = f"{'ID':>6}  {'License':<48} {'Metric':<18} {'Qty':>7} {'Used':>7} {'Free':>7}"
    _print(header + "  Term end")
    for key in keys:
        r = rows[key]
        flag = " OVER" if r.over_limit else (" EXPIRED" if r.expired(today) else "")
        end = r.term_end.isoformat() if r.term_end else "—"
        free = "—" if r.metric.unlimited else str(r.free)
        _print(
            f"{r.id:>6}  {r.title[:48]:<48} {r.metric.label:<18} {r.quantity:>7} {r.used:>7} "
            f"{free:>7}  {end}{flag}"
        )
    return EXIT_OK


def cmd_operator(args: argparse.Namespace) -> int:
    """Add an operator."""

    services = _services(args)
    password = os.environ.get("SEATLEDGER_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise KnownError("Set SEATLEDGER_NEW_PASSWORD for the new operator's password.")
        password = getpass.getpass(f"Password for the new operator {args.name}: ")
    services.operators.create(args.name, args.full_name, Role(args.role), password)
    _print(f"Added operator {args.name} ({args.role}).")
    return EXIT_OK


def _find(items: Sequence[object], name: str, what: str) -> int:
    for item in items:
        if getattr(item, "name", "").lower() == name.lower():
            return int(getattr(item, "id"))  # noqa: B009
    raise KnownError(f"No {what} named '{name}'.")


def cmd_catalog(args: argparse.Namespace) -> int:
    """Add a vendor, product, entitlement or person."""

    services = _services(args)
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
            )
        )
    else:
        new_id = services.directory.add_person(PersonInput(args.employee_id, args.name, args.email))
    _print(f"Added {args.command} {new_id}.")
    return EXIT_OK


def cmd_seat(args: argparse.Namespace) -> int:
    """Assign or release seats."""

    services = _services(args)
    if args.seat_command == "assign":
        people = person_ids(services.ctx, args.person)
        devices = device_ids(services.ctx, args.device)
        result = services.seats.assign(
            args.license,
            people=people,
            devices=devices,
            reason=args.reason,
            over_commit=args.over_commit,
        )
        _print(f"Assigned {len(result.assignment_ids)} seat(s) ({result.units} units).")
        if result.over_commit:
            _print(f"Recorded as an over-commit exception: {result.message}")
    elif args.seat_command == "release":
        count = services.seats.release(args.assignment, args.reason)
        _print(f"Released {count} seat(s).")
    else:
        count = services.seats.release_departed(args.reason)
        _print(f"Released {count} seat(s) held by people who left.")
    return EXIT_OK
