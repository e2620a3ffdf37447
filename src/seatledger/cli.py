"""Command line: ``seatledger`` opens the app; sub-commands build demos, verify and change data.

Commands that change data sign in like the app does: ``--operator NAME`` (or SEATLEDGER_OPERATOR)
and the password from SEATLEDGER_PASSWORD or a prompt.  Qt is imported only to open the window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from seatledger import __version__
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

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and the answer is "no" (ledger does not verify)
EXIT_ERROR = 2  # bad input, refused, cannot open

_opened: list[Database] = []  # closed by main() when the command ends


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _entries(count: int) -> str:
    return f"{count:,} entr{'y' if count == 1 else 'ies'}"


def _err(text: str) -> None:
    sys.stderr.write(f"seatledger: {text}\n")


def _db_arg(parser: argparse.ArgumentParser, default: str | None = argparse.SUPPRESS) -> None:
    # Sub-commands SUPPRESS the default, else their None would overwrite a --db given before them.
    parser.add_argument(
        "--db",
        default=default,
        help="database file path or SQLAlchemy URL (default: SEATLEDGER_DB or the data folder)",
    )


def _auth_args(parser: argparse.ArgumentParser) -> None:
    _db_arg(parser)
    parser.add_argument(
        "--operator", help="operator to act as (default: SEATLEDGER_OPERATOR)", default=None
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the README's CLI reference and tests)."""
    parser = argparse.ArgumentParser(
        prog="seatledger",
        description="Software licenses and seats with a tamper-evident ledger.",
    )
    parser.add_argument("--version", action="version", version=f"seatledger {__version__}")
    _db_arg(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = sub.add_parser("init", help="create a new database and its first administrator")
    _auth_args(init)
    init.add_argument("--full-name", default="")

    demo = sub.add_parser("demo", help="build a demo database")
    demo.add_argument("--db", required=True, help="file to create (must not exist)")
    demo.add_argument("--size", choices=("small", "large"), default="small")
    demo.add_argument("--seed", type=int, default=2026)

    ledger = sub.add_parser("ledger", help="the activity ledger")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    verify = ledger_sub.add_parser("verify", help="verify the hash chain; exit 1 if broken")
    _db_arg(verify)
    tail = ledger_sub.add_parser("tail", help="print the newest entries")
    _db_arg(tail)
    tail.add_argument("-n", type=int, default=20)

    licenses = sub.add_parser("licenses", help="list licenses with seats used and free")
    _db_arg(licenses)
    licenses.add_argument("--search", default="")

    operator = sub.add_parser("operator", help="manage operators (administrators)")
    op_sub = operator.add_subparsers(dest="op_command", metavar="ACTION", required=True)
    op_add = op_sub.add_parser("add", help="add an operator; asks for their password")
    _auth_args(op_add)
    op_add.add_argument("name")
    op_add.add_argument(
        "--role", choices=("administrator", "license_manager", "auditor", "viewer"), required=True
    )
    op_add.add_argument("--full-name", default="")

    vendor = sub.add_parser("vendor", help="add a vendor")
    vendor.add_argument("action", choices=("add",))
    _auth_args(vendor)
    vendor.add_argument("name")

    product = sub.add_parser("product", help="add a product")
    product.add_argument("action", choices=("add",))
    _auth_args(product)
    product.add_argument("--vendor", required=True, help="vendor name")
    product.add_argument("name")

    ent = sub.add_parser("entitlement", help="record a purchase")
    ent.add_argument("action", choices=("add",))
    _auth_args(ent)
    ent.add_argument("--vendor", required=True)
    ent.add_argument("--product", required=True)
    ent.add_argument("--metric", required=True, help="named_user, per_device, per_core, ...")
    ent.add_argument("--quantity", required=True)
    ent.add_argument("--start", default="")
    ent.add_argument("--end", default="")
    ent.add_argument("--unit-cost", default="")
    ent.add_argument("--currency", default="EUR")
    ent.add_argument("--po", default="")

    person = sub.add_parser("person", help="add a person")
    person.add_argument("action", choices=("add",))
    _auth_args(person)
    person.add_argument("employee_id")
    person.add_argument("name")
    person.add_argument("--email", default="")

    seat = sub.add_parser("seat", help="assign or release seats")
    seat_sub = seat.add_subparsers(dest="seat_command", metavar="ACTION", required=True)
    assign = seat_sub.add_parser("assign", help="assign seats of a license to people or devices")
    _auth_args(assign)
    assign.add_argument("license", type=int, help="license (entitlement) id")
    assign.add_argument("--person", action="append", default=[], help="employee id (repeatable)")
    assign.add_argument("--device", action="append", default=[], help="host name (repeatable)")
    assign.add_argument("--reason", default="")
    assign.add_argument("--over-commit", action="store_true", help="administrators, with --reason")
    release = seat_sub.add_parser("release", help="release seats by assignment id")
    _auth_args(release)
    release.add_argument("assignment", type=int, nargs="+")
    release.add_argument("--reason", default="")
    departed = seat_sub.add_parser("release-departed", help="release every seat of people who left")
    _auth_args(departed)
    departed.add_argument("--reason", default="People who left the organization")
    return parser


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


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the main window."""
    from seatledger.ui.app import run  # noqa: PLC0415 (Qt only for the window)

    return run(args.db)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_gui,
    "init": cmd_init,
    "demo": cmd_demo,
    "ledger": cmd_ledger,
    "licenses": cmd_licenses,
    "operator": cmd_operator,
    "vendor": cmd_catalog,
    "product": cmd_catalog,
    "entitlement": cmd_catalog,
    "person": cmd_catalog,
    "seat": cmd_seat,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KnownError as exc:
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted; nothing was half-written.")
        return 130
    finally:
        while _opened:
            _opened.pop().dispose()


if __name__ == "__main__":
    raise SystemExit(main())
