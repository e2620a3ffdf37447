"""``seatledger ledger verify`` and ``ledger tail``: the activity ledger, read only (an older
database is never upgraded by reading it)."""

from __future__ import annotations

import argparse
import datetime as dt

from seatledger.cli.output import EXIT_FAILED, EXIT_OK, say
from seatledger.cli.session import reader
from seatledger.text import plural


def cmd_ledger(args: argparse.Namespace) -> int:
    """Verify or show the ledger (never upgrades: reading must not change the file)."""
    services = reader(args)
    if args.ledger_command == "tail":
        query = services.reads.activity()
        keys = list(query.keys()[: args.n])
        rows = query.rows(keys)
        for key in keys:
            seq, ts, operator, action, entity, reason, summary = rows[key]
            say(f"{seq:>8}  {ts}  {operator:<12} {action:<22} {entity:<16} {reason}  {summary}")
        return EXIT_OK
    started = dt.datetime.now()
    verdict = services.ledger.verify()
    seconds = (dt.datetime.now() - started).total_seconds()
    if verdict.failure is None:
        say(
            f"Ledger intact: {_entries(verdict.entries)}, head {verdict.head.hex()} "
            f"(verified in {seconds:.2f} s)."
        )
        return EXIT_OK
    say(f"Ledger BROKEN: {verdict.failure.message()}.")
    say(f"The {_entries(verdict.entries)} before it verify.")
    return EXIT_FAILED


def _entries(count: int) -> str:
    return plural(count, "entry")
