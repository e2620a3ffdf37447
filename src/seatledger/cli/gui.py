"""``seatledger`` with no command: open the main window.

The one module of the command line that imports :mod:`seatledger.ui` (import-linter names it).
It is imported only when no command is given, so a command never loads Qt's widgets.
"""

from __future__ import annotations

import argparse

from seatledger.ui.app import run


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the main window."""
    return run(args.db)
