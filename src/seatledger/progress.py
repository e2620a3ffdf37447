"""How long work reports how far it has got, and learns that it must stop.

One protocol for every layer: the services, the file readers, the command line and the window.
Work calls ``progress(done, total)`` as it goes and ``progress.stage(name)`` when it starts a
named stage (``total`` 0 means "unknown").  Either call raises
:class:`~seatledger.errors.Cancelled` once the caller has cancelled; the work lets it propagate,
so a transaction rolls back and a half-written file is removed on the way out: cancelled work
leaves nothing behind.  No Qt here: the window adapts a :class:`Reporter` to signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from seatledger.errors import Cancelled


class Progress(Protocol):
    """What long work is given to report progress; both calls raise ``Cancelled`` to stop it."""

    def __call__(self, done: int, total: int, /) -> None:
        """``done`` units of ``total`` are done (0 total: unknown)."""

    def stage(self, name: str, /) -> None:
        """The work starts the stage called ``name``."""


class Reporter:
    """A :class:`Progress` that forwards to callbacks and can be cancelled from any thread.

    Args:
        step: called with ``(done, total)`` on each report.
        stage: called with the stage name when a stage starts.
        message: the text of the :class:`~seatledger.errors.Cancelled` raised after
            :meth:`cancel`.
    """

    def __init__(
        self,
        step: Callable[[int, int], object] | None = None,
        stage: Callable[[str], object] | None = None,
        *,
        message: str = "The work was cancelled; nothing was changed.",
    ) -> None:
        self._step = step
        self._stage = stage
        self._message = message
        self._cancelled = threading.Event()

    def __call__(self, done: int, total: int, /) -> None:
        """Report ``(done, total)``.

        Raises:
            Cancelled: :meth:`cancel` was called.
        """
        if self._step is not None:
            self._step(done, total)
        self.check()  # after the report: a cancel it prompted stops the work at once

    def stage(self, name: str, /) -> None:
        """Report the start of a stage.

        Raises:
            Cancelled: :meth:`cancel` was called.
        """
        if self._stage is not None:
            self._stage(name)
        self.check()

    def cancel(self) -> None:
        """Make the next report raise ``Cancelled`` (safe from any thread)."""
        self._cancelled.set()

    @property
    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise ``Cancelled`` if the caller cancelled (for work between two reports)."""
        if self._cancelled.is_set():
            raise Cancelled(self._message)


class _Silent:
    """Reports nowhere and never cancels."""

    def __call__(self, done: int, total: int, /) -> None:
        """Ignore the report."""

    def stage(self, name: str, /) -> None:
        """Ignore the stage."""


SILENT: Progress = _Silent()
"""The progress of work nobody follows (the default of every ``progress`` argument)."""
