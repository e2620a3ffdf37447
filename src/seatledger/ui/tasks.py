"""One API for background work: run a function off the GUI thread, get the result by signal.

Work runs on a :class:`QThreadPool` (a one-worker pool by default, which serializes database work
the way anki's executor does).  Results, failures and progress reach the GUI thread as queued
signals; a worker never touches a widget.  Tests swap in :class:`SyncRunner` to run work inline.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from seatledger.errors import Cancelled, KnownError

Progress = Callable[[int, int], bool]
"""Called by the work with (done, total); returns False once the user has cancelled."""


class Task(QObject):
    """A unit of background work and its outcome.

    Signals:
        progressed(int, int): done and total so far.
        succeeded(object): the work's return value.
        failed(str, str): a message for the user and the details (a traceback for bugs).
        cancelled(): the user cancelled and the work stopped.
        finished(): after any of the three outcomes.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, work: Callable[[Progress], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        """Whether cancel was asked."""
        return self._cancel.is_set()

    def _progress(self, done: int, total: int) -> bool:
        self.progressed.emit(done, total)
        return not self._cancel.is_set()

    def run(self) -> None:
        """Run the work in the calling thread and emit the outcome."""
        try:
            result = self._work(self._progress)
        except Cancelled:
            self.cancelled.emit()
        except KnownError as exc:
            self.failed.emit(str(exc), "")
        except Exception as exc:  # a bug: show it with details, never lose it
            self.failed.emit(f"Unexpected error: {exc}", traceback.format_exc())
        else:
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        self.finished.emit()


class _Runnable(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task
        self.setAutoDelete(True)

    def run(self) -> None:
        self._task.run()


class Runner:
    """Starts tasks on a thread pool."""

    def __init__(self, pool: QThreadPool | None = None) -> None:
        if pool is None:
            pool = QThreadPool()
            pool.setMaxThreadCount(1)
        self._pool = pool
        self._running: set[Task] = set()

    def start(self, task: Task) -> Task:
        """Run ``task`` in the background; keep it alive until it finishes."""
        self._running.add(task)
        task.finished.connect(lambda: self._running.discard(task))
        self._pool.start(_Runnable(task))
        return task

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every task is done (for shutdown and tests)."""
        return self._pool.waitForDone(msecs)


class SyncRunner(Runner):
    """Runs tasks inline on the calling thread (for tests)."""

    def __init__(self) -> None:
        super().__init__(QThreadPool())

    def start(self, task: Task) -> Task:
        """Run ``task`` now."""
        task.run()
        return task
