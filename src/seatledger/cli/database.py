"""``seatledger init``, ``demo`` and ``upgrade``: creating, building and upgrading a database."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt

from seatledger.cli.output import EXIT_OK, clear_progress_line, progress_line, say
from seatledger.cli.session import (
    ask_password,
    database_of,
    open_database,
    operator_name,
    reader,
    signed_in,
)
from seatledger.domain import validation
from seatledger.errors import KnownError
from seatledger.paths import expanded
from seatledger.services.operators.accounts import (
    check_password,
    create_first_administrator,
    has_operators,
    sign_in,
)
from seatledger.services.operators.workspace import (
    describe_upgrade,
    restore_database,
    upgrade_database,
)
from seatledger.store.db import HEAD_REVISION, Database
from seatledger.text import plural


def cmd_init(args: argparse.Namespace) -> int:
    """Create a database and its administrator."""

    name = validation.name(operator_name(args), "Operator name", max_len=64)
    password = ask_password(f"New password for {name}: ")
    check_password(password, name, args.full_name)  # refused before anything is created
    db = database_of(args, create=True)
    if has_operators(db):
        raise KnownError(f"{db.display_name} already has operators; sign in instead.")
    create_first_administrator(db, name, args.full_name, password)
    say(f"Created {db.display_name} with administrator {name}.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Build a demo database."""
    from seatledger.demo.builder import build_demo  # noqa: PLC0415

    started = dt.datetime.now()
    summary = build_demo(args.db, args.size, seed=args.seed, progress=progress_line("Planning"))
    seconds = (dt.datetime.now() - started).total_seconds()
    clear_progress_line()
    shown = Database.display_name_of(args.db)
    say(f"Built {args.size} demo {shown} in {seconds:.1f} s: {summary}")
    say("Operators admin, manager, auditor and viewer; password 'demo'.")
    return EXIT_OK


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Upgrade a database written by an older SeatLedger, or try it on a copy (--dry-run)."""
    db, opened = open_database(args)
    if opened.pending_upgrade is None:
        say(f"{db.display_name} is at schema {HEAD_REVISION} already; nothing to do.")
        return EXIT_OK
    name = operator_name(args)
    actor = sign_in(db, name, ask_password(f"Password for {name}: "))
    report = upgrade_database(db, actor, dry_run=args.dry_run)
    say(describe_upgrade(report, db.display_name))
    if report.backup_sha256 is not None:
        say(f"Backup SHA-256: {report.backup_sha256}")
    say("Rows per table (before -> after):")
    for table, (before, after) in report.rows.items():
        shown = "new table" if before is None else f"{before:,}"
        say(f"  {table:<22} {shown:>12} -> {after:,}")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    """Copy the whole database to a file (SQLite's online backup; pg_dump for PostgreSQL)."""
    services = signed_in(args)
    target = expanded(args.out)
    digest = services.backup(target)
    say(f"Wrote {target} (SHA-256 {digest}); the ledger records who took it.")
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    """Show the data settings and the age of each source; ``set`` changes them."""
    if args.action == "set":
        if args.sampling_hours is None and args.freshness_days is None:
            raise KnownError("Give --sampling-hours and/or --freshness-days to set.")
        services = signed_in(args)
        current = services.settings.data()
        services.settings.save_data(
            dataclasses.replace(
                current,
                sampling_hours=(
                    current.sampling_hours if args.sampling_hours is None else args.sampling_hours
                ),
                freshness_days=(
                    current.freshness_days if args.freshness_days is None else args.freshness_days
                ),
            ),
            args.reason,
        )
    else:
        services = reader(args)
    data = services.settings.data()
    say(f"Snapshot interval: {plural(data.sampling_hours, 'hour')}")
    say(f"Import age warning: after {plural(data.freshness_days, 'day')}")
    for source in services.settings.sources(services.seats.today()):
        if source.newest is None:
            say(f"  {source.kind:<13} never imported")
        else:
            mark = "  (older than allowed)" if source.stale else ""
            say(
                f"  {source.kind:<13} newest {source.newest:%Y-%m-%d %H:%M} UTC, "
                f"{plural(source.age_days or 0, 'day')} old{mark}"
            )
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """Make a new SQLite database from a backup, verified before it is used."""
    restored = restore_database(expanded(args.backup), args.db)
    try:
        say(f"Restored {restored.display_name} from {args.backup}: the ledger verifies.")
    finally:
        restored.dispose()
    return EXIT_OK
