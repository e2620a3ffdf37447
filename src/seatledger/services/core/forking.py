"""When a service may fork a helper process to use the machine's second core."""

from __future__ import annotations

import os
import sys


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
