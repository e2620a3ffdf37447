"""One API for background work: run a function off the GUI thread, get its typed result there.

A :class:`Task` wraps work that takes a :class:`~seatledger.progress.Progress`; a
:class:`Runner` runs it on its own thread pool (one worker by default, which serializes database
work the way anki's executor does).  The result, a failure or the cancellation reaches the GUI
thread as a queued signal and is handed to callbacks there; a worker never touches a widget.
Starting a task under a *key* supersedes the task started earlier under the same key: the older
one is cancelled and its outcome is dropped, so a page never shows a stale result after a newer
one.  Tests swap in :class:`SyncRunner` (see :func:`use_shared_runner`) to run work inline.

Usage::

    task = Task(lambda progress: service.position(as_of, shelf, progress))
    task.on_done(self._show)          # Callable[[Position], None], on the GUI thread
    task.failed.connect(self._failed)
    runner_for(self).start(task, key="position")
"""

from __future__ import annotations

import traceback
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from seatledger.errors import Cancelled, KnownError
from seatledger.progress import Progress, Reporter

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Done:
    result: object


@dataclass(frozen=True, slots=True)
class _Failed:
    error: Exception
    message: str
    details: str


class _Stopped:
    """The work was cancelled (or superseded before it ran)."""


class Task(QObject, Generic[T]):
    """A unit of background work returning ``T``, and its outcome.

    Every signal below is emitted on the thread the task was created on (the GUI thread), so
    anything may be connected to them; the work's result goes to the :meth:`on_done` callbacks.

    Signals:
        progressed(int, int): done and total so far (0 total: unknown).
        staged(str): the work started a named stage.
        failed(str, str): a message for the user and the details (a traceback for bugs);
            :attr:`error` holds the exception.
        cancelled(): the work stopped because it was cancelled.
        finished(): after any outcome, also of a superseded task (which gets no other).
    """

    progressed = Signal(int, int)
    staged = Signal(str)
    failed = Signal(str, str)
    cancelled = Signal()
    finished = Signal()
    # From the worker to this object: queued by Qt, so the public signals fire on its thread.
    _reported = Signal(int, int)
    _stage_started = Signal(str)
    _settled = Signal(object)

    def __init__(
        self,
        work: Callable[[Progress], T],
        parent: QObject | None = None,
        *,
        cancel_message: str = "The work was cancelled; nothing was changed.",
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._progress = Reporter(
            self._reported.emit, self._stage_started.emit, message=cancel_message
        )
        self._on_done: list[Callable[[T], None]] = []
        self._superseded = False
        self.error: Exception | None = None
        self._reported.connect(self._relay_progress)
        self._stage_started.connect(self._relay_stage)
        self._settled.connect(self._settle)

    def on_done(self, callback: Callable[[T], None]) -> Task[T]:
        """Call ``callback`` with the result on the GUI thread when the work succeeds."""
        self._on_done.append(callback)
        return self

    def cancel(self) -> None:
        """Ask the work to stop: its next progress report raises ``Cancelled``."""
        self._progress.cancel()

    @property
    def is_cancelled(self) -> bool:
        """Whether cancel was asked (by the user or by a newer task with the same key)."""
        return self._progress.is_cancelled

    @property
    def superseded(self) -> bool:
        """Whether a newer task with the same key replaced this one (its outcome is dropped)."""
        return self._superseded

    def supersede(self) -> None:
        """Cancel the work and drop its outcome: only :attr:`finished` will still be emitted."""
        self._superseded = True
        self._progress.cancel()

    def run(self) -> None:
        """Run the work in the calling thread; the outcome is delivered on the task's thread."""
        outcome: _Done | _Failed | _Stopped
        try:
            if self._progress.is_cancelled:
                raise Cancelled  # superseded or cancelled while queued: do not start
            result = self._work(self._progress)
        except Cancelled:
            outcome = _Stopped()
        except KnownError as exc:
            outcome = _Failed(exc, str(exc), "")
        except Exception as exc:  # a bug: show it with details, never lose it
            outcome = _Failed(exc, f"Unexpected error: {exc}", traceback.format_exc())
        else:
            outcome = _Stopped() if self._progress.is_cancelled else _Done(result)
        self._settled.emit(outcome)

    def _relay_progress(self, done: int, total: int) -> None:
        if not self._superseded:
            self.progressed.emit(done, total)

    def _relay_stage(self, name: str) -> None:
        if not self._superseded:
            self.staged.emit(name)

    def _settle(self, outcome: _Done | _Failed | _Stopped) -> None:
        if not self._superseded:
            if isinstance(outcome, _Done):
                # The work was declared to return T: the one place its result is trusted.
                result = cast("T", outcome.result)
                for callback in self._on_done:
                    callback(result)
            elif isinstance(outcome, _Failed):
                self.error = outcome.error
                self.failed.emit(outcome.message, outcome.details)
            else:
                self.cancelled.emit()
        self.finished.emit()


class _Runnable(QRunnable):
    def __init__(self, task: Task[Any]) -> None:
        super().__init__()
        self._task = task
        self.setAutoDelete(True)

    def run(self) -> None:
        self._task.run()


_RUNNERS: weakref.WeakSet[Runner] = weakref.WeakSet()


class Runner:
    """Starts tasks on a thread pool of its own and keeps them alive until they finish.

    Args:
        pool: the pool to run on; by default a new one-worker pool.
    """

    def __init__(self, pool: QThreadPool | None = None) -> None:
        if pool is None:
            pool = QThreadPool()
            pool.setMaxThreadCount(1)
        self.pool = pool
        self._running: set[Task[Any]] = set()
        self._latest: dict[Hashable, Task[Any]] = {}
        _RUNNERS.add(self)

    def start(self, task: Task[T], *, key: Hashable | None = None) -> Task[T]:
        """Run ``task`` in the background.

        Args:
            task: the work.
            key: when given, a task started earlier with the same key is superseded: it is
                cancelled, and its outcome is dropped even if it has already finished on its
                thread, so its result is never shown after this one's.
        """
        held: Task[Any] = task
        if key is not None:
            older = self._latest.get(key)
            if older is not None:
                older.supersede()
            self._latest[key] = held
        self._running.add(held)
        task.finished.connect(lambda: self._forget(held, key))
        self._submit(held)
        return task

    def supersede(self, key: Hashable) -> None:
        """Supersede the latest task started with ``key``, if any, without starting another."""
        older = self._latest.pop(key, None)
        if older is not None:
            older.supersede()

    def _submit(self, task: Task[Any]) -> None:
        self.pool.start(_Runnable(task))

    def _forget(self, task: Task[Any], key: Hashable | None) -> None:
        self._running.discard(task)
        if key is not None and self._latest.get(key) is task:
            del self._latest[key]

    def busy(self, key: Hashable) -> bool:
        """Whether the latest task started with ``key`` has not finished yet."""
        return key in self._latest

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until every task's work is done (for shutdown and tests)."""
        return self.pool.waitForDone(msecs)


class SyncRunner(Runner):
    """Runs tasks inline on the calling thread (for tests): outcomes arrive before start returns."""

    def __init__(self) -> None:
        super().__init__(QThreadPool())

    def _submit(self, task: Task[Any]) -> None:
        task.run()


def live_runners() -> list[Runner]:
    """Every runner still alive (for the tests' check that no thread is left running)."""
    return list(_RUNNERS)


_shared: list[Runner] = []


def shared_runner() -> Runner:
    """The runner of work started outside a main window (the start and sign-in dialogs)."""
    if not _shared:
        _shared.append(Runner())
    return _shared[0]


def use_shared_runner(runner: Runner | None) -> None:
    """Make ``runner`` the shared one (tests install a :class:`SyncRunner`); None: a new one."""
    _shared.clear()
    if runner is not None:
        _shared.append(runner)


def runner_for(widget: QObject | None) -> Runner:
    """The runner of the window holding ``widget`` (its ``runner``), else the shared one."""
    while widget is not None:
        found = getattr(widget, "__dict__", {}).get("runner")
        if isinstance(found, Runner):
            return found
        widget = widget.parent()
    return shared_runner()
