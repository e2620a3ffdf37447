"""``seatledger seat assign``, ``seat release`` and ``seat release-departed``."""

from __future__ import annotations

import argparse

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import signed_in
from seatledger.text import plural


def cmd_seat(args: argparse.Namespace) -> int:
    """Assign or release seats."""

    services = signed_in(args)
    if args.seat_command == "assign":
        people = services.reads.person_ids(args.person)
        devices = services.reads.device_ids(args.device)
        result = services.seats.assign(
            args.license,
            people=people,
            devices=devices,
            reason=args.reason,
            over_commit=args.over_commit,
        )
        say(
            f"Assigned {plural(len(result.assignment_ids), 'seat')} "
            f"({plural(result.units, 'unit')})."
        )
        if result.over_commit:
            say(f"Recorded as an over-commit exception: {result.message}")
    elif args.seat_command == "release":
        count = services.seats.release(args.assignment, args.reason)
        say(f"Released {plural(count, 'seat')}.")
    else:
        count = services.seats.release_departed(args.reason)
        say(f"Released {plural(count, 'seat')} held by people who left.")
    return EXIT_OK
