"""``seatledger operator add``: a new operator and their role; ``operator password``: a new
password, one's own or (administrators) another's."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import signed_in
from seatledger.domain.roles import Role
from seatledger.errors import KnownError, NotFoundError
from seatledger.services.operators.session import Services


def cmd_operator(args: argparse.Namespace) -> int:
    """Add an operator, or set a password."""

    services = signed_in(args)
    if args.op_command == "password":
        return _password(services, args.target)
    password = os.environ.get("SEATLEDGER_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise KnownError("Set SEATLEDGER_NEW_PASSWORD for the new operator's password.")
        password = getpass.getpass(f"Password for the new operator {args.name}: ")
    services.operators.create(args.name, args.full_name, Role(args.role), password)
    say(f"Added operator {args.name} ({args.role}).")
    return EXIT_OK


def _password(services: Services, target: str) -> int:
    """Change one's own password, or (administrators) reset another operator's."""
    name = target or services.actor.name
    found = [o for o in services.operators.list() if o.name == name]
    if not found:
        raise NotFoundError(f"No operator is named {name!r}.")
    password = os.environ.get("SEATLEDGER_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise KnownError("Set SEATLEDGER_NEW_PASSWORD for the new password.")
        password = getpass.getpass(f"New password for {name}: ")
        if getpass.getpass("The same again: ") != password:
            raise KnownError("The two passwords differ; nothing was changed.")
    services.operators.set_password(found[0].id, password)
    whose = "Your password" if name == services.actor.name else f"{name}'s password"
    say(f"{whose} is changed; failed sign-ins counted so far are forgotten.")
    return EXIT_OK
