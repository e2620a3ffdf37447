"""``seatledger operator add``: a new operator and their role."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import signed_in
from seatledger.domain.roles import Role
from seatledger.errors import KnownError


def cmd_operator(args: argparse.Namespace) -> int:
    """Add an operator."""

    services = signed_in(args)
    password = os.environ.get("SEATLEDGER_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise KnownError("Set SEATLEDGER_NEW_PASSWORD for the new operator's password.")
        password = getpass.getpass(f"Password for the new operator {args.name}: ")
    services.operators.create(args.name, args.full_name, Role(args.role), password)
    say(f"Added operator {args.name} ({args.role}).")
    return EXIT_OK
