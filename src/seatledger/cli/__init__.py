"""Command line: ``seatledger`` opens the app; sub-commands build demos, verify and change data.

Commands that change data sign in like the app does: ``--operator NAME`` (or SEATLEDGER_OPERATOR)
and the password from SEATLEDGER_PASSWORD or a prompt.  This module parses and dispatches only;
each command lives in the module of its family, imported when that command runs, so opening the
window imports neither the database layer nor the services before its first frame is painted.

- :mod:`~seatledger.cli.parser`: the argument tree (:func:`build_parser`)
- :mod:`~seatledger.cli.output`: printing, progress lines, exit statuses
- :mod:`~seatledger.cli.session`: opening ``--db``, passwords, signing in (and the upgrade it does)
- :mod:`~seatledger.cli.gui`: ``seatledger`` alone, the window
- one module per family of commands: :mod:`~seatledger.cli.database` (init, demo, upgrade),
  :mod:`~seatledger.cli.ledger`, :mod:`~seatledger.cli.catalog` (licenses, vendor, product,
  entitlement, person), :mod:`~seatledger.cli.seats`, :mod:`~seatledger.cli.alerts`,
  :mod:`~seatledger.cli.operators`, :mod:`~seatledger.cli.imports`,
  :mod:`~seatledger.cli.reports` (reconcile, chart, verify), :mod:`~seatledger.cli.signing` and
  :mod:`~seatledger.cli.audit`
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from seatledger.cli.output import (
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_OK,
    ensure_streams,
    err,
    silence_stdout,
)
from seatledger.cli.parser import build_parser
from seatledger.errors import KnownError

__all__ = ["COMMANDS", "EXIT_ERROR", "EXIT_FAILED", "EXIT_OK", "build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]

COMMANDS: dict[str | None, str] = {
    None: "gui:cmd_gui",
    "init": "database:cmd_init",
    "demo": "database:cmd_demo",
    "upgrade": "database:cmd_upgrade",
    "backup": "database:cmd_backup",
    "restore": "database:cmd_restore",
    "settings": "database:cmd_settings",
    "ledger": "ledger:cmd_ledger",
    "licenses": "catalog:cmd_licenses",
    "renewals": "catalog:cmd_renewals",
    "alerts": "alerts:cmd_alerts",
    "operator": "operators:cmd_operator",
    "vendor": "catalog:cmd_catalog",
    "product": "catalog:cmd_catalog",
    "entitlement": "catalog:cmd_catalog",
    "person": "catalog:cmd_catalog",
    "seat": "seats:cmd_seat",
    "import": "imports:cmd_import",
    "reconcile": "reports:cmd_reconcile",
    "servers": "servers:cmd_servers",
    "partition": "servers:cmd_partition",
    "chart": "reports:cmd_chart",
    "verify": "reports:cmd_verify",
    "signing": "signing:cmd_signing",
    "audit": "audit:cmd_audit",
    "review": "reviews:cmd_review",
    "reclaim": "reclaim:cmd_reclaim",
}
"""Each command's ``module:function`` in this package; ``None`` is no command, the window."""


def _command(name: str | None) -> Handler:
    """The command's function, importing its module (and what it needs) only now."""
    module, function = COMMANDS[name].split(":")
    handler: Handler = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    ensure_streams()
    args = build_parser().parse_args(argv)
    try:
        status = _command(args.command)(args)
    except KnownError as exc:
        err(str(exc))
        status = EXIT_ERROR
    except KeyboardInterrupt:
        err("interrupted; nothing was half-written.")
        status = 130
    except BrokenPipeError:  # a write outside say() met a closed reader: the command stopped
        silence_stdout()
        status = EXIT_BROKEN_PIPE
    except OSError as exc:  # a file or folder named on the command line that cannot be used
        err(_os_error(exc))
        status = EXIT_ERROR
    finally:
        _close_opened()
    # Results a closed reader (| head, | true) never took do not change what the command did:
    # its status stands, and the last buffered lines go nowhere instead of failing at exit.
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    return status


def _os_error(exc: OSError) -> str:
    """The file and the system's reason, the name cut short when it is long: "…: File name
    too long" rather than a traceback."""
    name = str(exc.filename) if exc.filename is not None else ""
    if len(name) > 120:
        name = f"{name[:60]}…{name[-40:]} ({len(name):,} characters)"
    reason = exc.strerror or str(exc)
    return f"{name}: {reason}; nothing was written." if name else f"{reason}; nothing was written."


def _close_opened() -> None:
    """Close the databases the command opened (none when it never reached the database layer)."""
    session = sys.modules.get(f"{__name__}.session")
    if session is not None:
        session.close_opened()
