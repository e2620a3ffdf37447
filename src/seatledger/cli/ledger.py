"""``seatledger ledger verify`` and ``ledger tail``: the activity ledger, read only (an older
database is never upgraded by reading it)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from seatledger.cli.output import EXIT_FAILED, EXIT_OK, say
from seatledger.cli.session import reader, signed_in
from seatledger.paths import replaced
from seatledger.text import plural


def cmd_ledger(args: argparse.Namespace) -> int:
    """Verify or show the ledger (never upgrades: reading must not change the file), or open
    one commitment (an auditor's recorded act)."""
    if args.ledger_command == "reveal":
        return _reveal(args)
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


def _reveal(args: argparse.Namespace) -> int:
    services = signed_in(args)
    revealed = services.ledger.reveal(args.commitment, args.reason)
    target = Path(args.out)
    with replaced(target) as temporary:
        temporary.write_bytes(revealed.as_json())
    say(
        f"Opened commitment {revealed.commitment[:16]}… ({revealed.entity_type} "
        f"{revealed.entity_id}, {revealed.field}) into {target}; the opening is recorded in the "
        "ledger. The vendor checks it with: python3 verify_bundle.py BUNDLE --opening "
        f"{target.name}"
    )
    return EXIT_OK


def _entries(count: int) -> str:
    return plural(count, "entry")
