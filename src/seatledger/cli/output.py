"""What commands print: results on standard output, errors and progress on standard error, and
the exit statuses.

Results alone go to standard output, so that scripts read them as they always have; a progress
line appears only on a terminal (a log file, say a scheduled run's, gets only results).
"""

from __future__ import annotations

import os
import sys

from seatledger.progress import Progress, Reporter

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and the answer is "no" (a refused file, a broken ledger)
EXIT_ERROR = 2  # bad input, cannot open, not allowed
EXIT_BROKEN_PIPE = 141  # stopped by a reader that went away, as a shell reports SIGPIPE


def say(text: str = "") -> None:
    """Print one line of the command's result; a reader that stopped reading stops nothing.

    ``seatledger import ... | head -1`` still imports (or refuses) the whole file and exits
    with what the import did, not with success because the pipe closed.
    """
    try:
        sys.stdout.write(text + "\n")
    except BrokenPipeError:
        silence_stdout()


def ensure_streams() -> None:
    """Give a standard stream that was closed before the command started (``>&-``, ``2>&-``)
    somewhere to go: nothing it would print is wanted, and the command's status must say what
    it did, not that printing failed."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the process's own stream)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115


def silence_stdout() -> None:
    """Send what is still to be printed nowhere: the reader of standard output went away."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def err(text: str) -> None:
    """Print an error or a note on standard error, named as ours."""
    sys.stderr.write(f"seatledger: {text}\n")


def progress_line(stage: str) -> Progress:
    """A progress line on a terminal, named ``stage`` until the work names its own stages; it
    never cancels."""
    shown = [stage]

    def report(done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{shown[0]}: {done:,}/{total:,}".ljust(60))
            sys.stderr.flush()

    def staged(name: str) -> None:
        shown[0] = name

    return Reporter(report, staged)


def clear_progress_line() -> None:
    """Wipe the progress line, so what is printed next starts on a clean line."""
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 60 + "\r")
        sys.stderr.flush()
