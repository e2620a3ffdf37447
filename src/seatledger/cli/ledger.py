"""``seatledger ledger verify`` and ``ledger tail``: the activity ledger, read only (an older
database is never upgraded by reading it).

``ledger verify`` checks the chain, then compares the rows a report counts with what the
ledger says of them (table, row and field of each difference); either failing exits 1."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from seatledger.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    clear_progress_line,
    progress_line,
    say,
)
from seatledger.cli.session import reader, signed_in
from seatledger.paths import replaced
from seatledger.text import plural

SHOWN = 50  # differences printed; the count says how many more


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
    if verdict.failure is not None:
        say(f"Ledger BROKEN: {verdict.failure.message()}.")
        say(f"The {_entries(verdict.entries)} before it verify.")
        say("The rows were not compared with it: a broken ledger says nothing reliable of them.")
        return EXIT_FAILED
    size, _head, root = services.ledger.checkpoint()
    # The Merkle root is what a report for this ledger would sign (when nothing was appended
    # since the check, it is the root of exactly the entries verified).
    tree = f", Merkle root {root.hex()}" if size == verdict.entries else ""
    say(
        f"Ledger intact: {_entries(verdict.entries)}, head {verdict.head.hex()}{tree} "
        f"(verified in {seconds:.2f} s)."
    )
    started = dt.datetime.now()
    try:
        report = services.ledger.verify_state(progress_line("Replaying the ledger"))
    finally:
        clear_progress_line()
    seconds = (dt.datetime.now() - started).total_seconds()
    say(f"{report.summary()} (compared in {seconds:.2f} s).")
    for difference in report.differences[:SHOWN]:
        say(f"  {difference.message()}")
    if report.total > SHOWN:
        say(f"  ...and {report.total - SHOWN:,} more")
    for line in report.coverage():
        say(f"  {line}")
    return EXIT_OK if report.ok else EXIT_FAILED


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
