"""When a service may fork a helper process to use the machine's second core."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def can_fork() -> bool:
    """Whether this process may fork a helper: Linux, not frozen, and single-threaded.

    Forking beside other threads (a GUI's, say) can deadlock, so callers fall back to doing the
    work in this process.
    """
    if not sys.platform.startswith("linux") or getattr(sys, "frozen", False):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def die_with_parent(parent: int | None = None) -> None:
    """Make this helper process end when the process that started it ends (Linux).

    A helper blocked on a pipe to a parent killed with ``kill -9`` would otherwise wait forever,
    holding its memory and the database open.  ``parent``: the pid that started this process;
    if it is already gone (killed before this ran), end now.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)
