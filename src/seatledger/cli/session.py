"""What commands share to reach a database: opening ``--db``, the password and passphrase
prompts, and signing in as ``--operator``.

Every database opened here is kept in a list that :func:`seatledger.cli.main` closes when the
command ends, whatever way it ends.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from seatledger.cli.output import err
from seatledger.errors import KnownError
from seatledger.paths import default_database, private_folder
from seatledger.services.operators.accounts import outdated_password, sign_in
from seatledger.services.operators.session import DEMO_KEY, Services, read_setting
from seatledger.services.operators.workspace import describe_upgrade, upgrade_database
from seatledger.store.db import Database, OpenResult

_opened: list[Database] = []  # databases the command opened, closed by main() when it ends


def close_opened() -> None:
    """Close every database the command opened."""
    while _opened:
        _opened.pop().dispose()


def database_of(
    args: argparse.Namespace, *, create: bool = False, upgrade: bool = True
) -> Database:
    """``--db`` opened (see :func:`open_database`)."""
    return open_database(args, create=create, upgrade=upgrade)[0]


def open_database(
    args: argparse.Namespace, *, create: bool = False, upgrade: bool = True
) -> tuple[Database, OpenResult]:
    """Open ``--db``; with ``upgrade``, an older schema is left for a signed-in upgrade."""
    target = args.db or default_database()
    is_file = "://" not in target
    if is_file and create and not args.db:
        private_folder(Path(target).parent)
    if is_file and not create and not Path(target).exists():
        raise KnownError(f"{target} does not exist. Create it with 'seatledger init' or the app.")
    database, opened = Database.open(target, create=create, upgrade=upgrade)
    _opened.append(database)
    return database, opened


def reader(args: argparse.Namespace) -> Services:
    """Services over ``--db`` for a read-only command (an older schema is never upgraded)."""
    return Services.reader(database_of(args, upgrade=False))


def ask_password(prompt: str) -> str:
    """The operator's password: ``SEATLEDGER_PASSWORD`` or a prompt on a terminal."""
    env = os.environ.get("SEATLEDGER_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise KnownError("No password: set SEATLEDGER_PASSWORD or run in a terminal.")
    return getpass.getpass(prompt)


def operator_name(args: argparse.Namespace) -> str:
    """The operator to act as: ``--operator`` or ``SEATLEDGER_OPERATOR``."""
    name = args.operator or os.environ.get("SEATLEDGER_OPERATOR")
    if not name:
        raise KnownError("Name the operator with --operator or SEATLEDGER_OPERATOR.")
    return str(name)


def signed_in(args: argparse.Namespace) -> Services:
    """Sign in; a database written by an older SeatLedger is upgraded first, as that operator."""
    db, opened = open_database(args)
    name = operator_name(args)
    password = ask_password(f"Password for {name}: ")
    actor = sign_in(db, name, password)
    if opened.pending_upgrade is not None:
        # On standard error, so that the command's own output stays as scripts expect it.
        err(describe_upgrade(upgrade_database(db, actor), db.display_name))
    if read_setting(db, DEMO_KEY) != "1":  # the demo's password is published: no advice
        problem = outdated_password(db, actor, password)
        if problem:
            err(
                "Your password predates the password policy and would be refused if set today; "
                f"an administrator can reset it. {problem}"
            )
    return Services.for_actor(db, actor)


def key_passphrase(*, new: bool = False) -> str:
    """The signing key's passphrase: ``SEATLEDGER_KEY_PASSPHRASE`` or a prompt (twice if new).

    A new key's passphrase comes from ``SEATLEDGER_NEW_KEY_PASSPHRASE`` when that is set (a
    rotation needs both the current one and the new one).
    """
    from seatledger.services.audits.signing import (  # noqa: PLC0415
        NEW_PASSPHRASE_ENV,
        PASSPHRASE_ENV,
    )

    env = os.environ.get(NEW_PASSPHRASE_ENV) if new else None
    env = env if env is not None else os.environ.get(PASSPHRASE_ENV)
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise KnownError(f"No signing-key passphrase: set {PASSPHRASE_ENV} or run in a terminal.")
    first = getpass.getpass("New signing-key passphrase: " if new else "Signing-key passphrase: ")
    if new and getpass.getpass("Repeat it: ") != first:
        raise KnownError("The two passphrases differ; nothing was created.")
    return first
