"""Pausing Python's cycle collector while work allocates many small objects without cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for the duration of the block.

    Streaming work (a ledger verification: 20,000 rows a batch, each a tuple) allocates enough
    containers to set off a collection every 700 of them, and every hundredth or so walks every
    object the program holds: on the large demo, a quarter of a verification's CPU time (13
    full passes for 1.26M entries; the forked helper makes its own).
    None of those objects forms a cycle, so reference counting frees them all; the collector
    runs again when the block ends, as it would have.  A block inside another (or run while the
    collector is already off) leaves it as it found it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
