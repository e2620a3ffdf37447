"""``seatledger alerts``: list alerts, or acknowledge one with a note (``alerts ack``)."""

from __future__ import annotations

import argparse

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import reader, signed_in


def cmd_alerts(args: argparse.Namespace) -> int:
    """List the open alerts (or every alert), or acknowledge one with a note."""
    if getattr(args, "alerts_command", None) == "ack":
        signed_in(args).alerts.acknowledge(args.alert, args.note)
        say(f"Alert {args.alert} acknowledged.")
        return EXIT_OK
    rows = reader(args).alerts.alerts(include_acknowledged=args.all)
    if not rows:
        say("No alerts." if args.all else "No open alerts.")
        return EXIT_OK
    say(f"{'ID':>6}  {'Raised (UTC)':<16}  {'Severity':<8}  {'Rule':<28}  Subject")
    for a in rows:
        state = "open" if a.open else f"acknowledged by {a.acknowledged_by}: {a.note}"
        caused = f"by {a.operator or '—'}, ledger entry {a.ledger_seq or '—'}"
        say(
            f"{a.id:>6}  {a.raised_at:%Y-%m-%d %H:%M}  {a.severity.label:<8}  "
            f"{a.rule.label:<28}  {a.subject}  [{caused}; {state}]"
        )
    return EXIT_OK
