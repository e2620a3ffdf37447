"""Background work across real threads: a real :class:`Runner` (not the synchronous one the other
GUI tests use) delivers results, progress, failures and cancels on the GUI thread, and a newer
task with the same key supersedes an older one.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot

from seatledger.domain.licensing import Metric
from seatledger.errors import Cancelled, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.progress import Progress
from seatledger.services.alerts.dashboard import DashboardFigures
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.lookups import counts
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.dialogs.sign_in import SignInDialog
from seatledger.ui.pages.dashboard import DashboardPage
from seatledger.ui.tasks import Runner, Task, use_shared_runner

from .conftest import PASSWORD

WAIT = 10_000  # ms: generous, the machine is shared


@pytest.fixture
def runner() -> Runner:
    """A real runner: a one-worker pool of its own (the thread check waits on it)."""
    return Runner()


def on_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_the_result_comes_back_typed_on_the_gui_thread(qtbot: QtBot, runner: Runner) -> None:
    def work(progress: Progress) -> tuple[str, bool]:
        progress.stage("Counting")
        progress(1, 2)
        progress(2, 2)
        return threading.current_thread().name, on_gui_thread()

    delivered: list[tuple[tuple[str, bool], bool]] = []
    reports: list[tuple[int, int, bool]] = []
    stages: list[str] = []
    task = Task(work).on_done(lambda result: delivered.append((result, on_gui_thread())))
    task.progressed.connect(lambda done, total: reports.append((done, total, on_gui_thread())))
    task.staged.connect(stages.append)
    with qtbot.waitSignal(task.finished, timeout=WAIT):
        runner.start(task)

    [((worker, worker_was_gui), callback_on_gui)] = delivered
    assert not worker_was_gui  # the work ran on the runner's thread...
    assert worker != threading.main_thread().name
    assert callback_on_gui  # ...and its result was handed over on the GUI thread
    assert reports == [(1, 2, True), (2, 2, True)]
    assert stages == ["Counting"]


def test_a_failure_comes_back_with_its_error(qtbot: QtBot, runner: Runner) -> None:
    def work(_progress: Progress) -> int:
        raise ValidationError("No such seat.", "Seat")

    task = Task(work).on_done(lambda _result: pytest.fail("a failed task has no result"))
    with qtbot.waitSignal(task.failed, timeout=WAIT) as failed:
        runner.start(task)
    assert failed.args == ["No such seat.", ""]
    assert isinstance(task.error, ValidationError)
    assert task.error.field == "Seat"


def test_cancel_raises_cancelled_in_the_work(qtbot: QtBot, runner: Runner) -> None:
    reported = threading.Event()
    raised: list[BaseException] = []

    def work(progress: Progress) -> str:
        try:
            progress(1, 3)  # raises here already if the GUI thread was quick to cancel
            reported.wait(WAIT / 1000)  # until the GUI thread has cancelled
            progress(2, 3)
        except Cancelled as exc:
            raised.append(exc)
            raise
        return "never"

    task = Task(work).on_done(lambda _result: pytest.fail("a cancelled task has no result"))
    task.progressed.connect(lambda _done, _total: (task.cancel(), reported.set()))
    with qtbot.waitSignal(task.cancelled, timeout=WAIT):
        runner.start(task)
    assert len(raised) == 1
    assert task.is_cancelled


def test_the_latest_task_with_a_key_wins(qtbot: QtBot, runner: Runner) -> None:
    release = threading.Event()
    shown: list[str] = []

    def slow(_progress: Progress) -> str:
        release.wait(WAIT / 1000)
        return "older"

    older = Task(slow).on_done(shown.append)
    newer = Task(lambda _progress: "newer").on_done(shown.append)
    runner.start(older, key="figures")
    runner.start(newer, key="figures")  # queued behind the older one on the one worker
    assert older.superseded
    assert older.is_cancelled
    release.set()  # the older one finishes its work after the newer was asked for
    with qtbot.waitSignals([older.finished, newer.finished], timeout=WAIT):
        pass
    assert shown == ["newer"]
    assert not runner.busy("figures")


def test_a_result_already_computed_is_dropped_once_superseded(qtbot: QtBot, runner: Runner) -> None:
    shown: list[str] = []
    older = Task(lambda _progress: "older").on_done(shown.append)
    runner.start(older, key="series")
    assert runner.wait(WAIT)  # done on its thread; its result waits in the GUI thread's queue
    newer = Task(lambda _progress: "newer").on_done(shown.append)
    runner.start(newer, key="series")
    with qtbot.waitSignals([older.finished, newer.finished], timeout=WAIT):
        pass
    assert shown == ["newer"]  # never the older result after the newer one was asked for


def test_a_task_superseded_before_it_ran_never_starts(qtbot: QtBot, runner: Runner) -> None:
    release = threading.Event()
    ran: list[str] = []

    def blocker(_progress: Progress) -> None:
        release.wait(WAIT / 1000)

    def record(name: str) -> Task[None]:
        return Task(lambda _progress: ran.append(name))

    first, second, third = Task(blocker), record("second"), record("third")
    runner.start(first)
    runner.start(second, key="usage")
    runner.start(third, key="usage")
    release.set()
    with qtbot.waitSignals([first.finished, second.finished, third.finished], timeout=WAIT):
        pass
    assert ran == ["third"]


def test_a_cancelled_import_writes_nothing(
    qtbot: QtBot, runner: Runner, admin: Services, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    body = "".join(f"E{n},Person {n}\n" for n in range(20_000))
    path.write_text("Employee ID,Full Name\n" + body, encoding="utf-8")
    before = counts(admin.ctx)
    cancelled_seen = threading.Event()
    imports = admin.imports

    class Gated:
        """Passes reports on, and after the first waits until the GUI thread has cancelled."""

        def __init__(self, progress: Progress) -> None:
            self.progress = progress

        def __call__(self, done: int, total: int, /) -> None:
            self.progress(done, total)
            cancelled_seen.wait(WAIT / 1000)
            self.progress(done, total)  # raises Cancelled: the rows read so far roll back

        def stage(self, name: str, /) -> None:
            self.progress.stage(name)

    def work(progress: Progress) -> object:
        return imports.commit(path, ImportOptions(Kind.PEOPLE), progress=Gated(progress))

    task = Task(work).on_done(lambda _result: pytest.fail("the import was cancelled"))

    def cancel_once(_done: int, _total: int) -> None:
        task.cancel()
        cancelled_seen.set()

    task.progressed.connect(cancel_once)
    with qtbot.waitSignal(task.cancelled, timeout=WAIT):
        runner.start(task)
    assert counts(admin.ctx) == before  # no person and no ledger entry was written


def test_a_refresh_asked_for_while_one_runs_still_runs(
    qtbot: QtBot, runner: Runner, admin: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard used to drop it and keep showing the figures from before the change."""
    holder = QWidget()
    holder.runner = runner  # type: ignore[attr-defined]  # as the main window holds it
    qtbot.addWidget(holder)
    page = DashboardPage(admin, holder)
    counted = threading.Event()
    go_on = threading.Event()
    real = admin.dashboard.figures
    before = real().licenses

    def figures() -> DashboardFigures:
        result = real()
        if not counted.is_set():  # the first count is slow: a change lands meanwhile
            counted.set()
            go_on.wait(WAIT / 1000)
        return result

    monkeypatch.setattr(admin.dashboard, "figures", figures)
    shown: list[int] = []
    show = page._show

    def recorded(loaded: Any) -> None:
        shown.append(loaded.figures.licenses)
        show(loaded)

    monkeypatch.setattr(page, "_show", recorded)

    page.refresh()
    assert counted.wait(WAIT / 1000)
    vendor = admin.catalog.add_vendor("Fabrikam")
    product = admin.catalog.add_product(vendor, "Drawing Board")
    admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=5)
    )
    page.refresh()  # asked for while the first count runs
    go_on.set()
    qtbot.waitUntil(lambda: bool(shown) and not runner.busy((page, "figures")), timeout=WAIT)
    assert runner.wait(WAIT)
    assert shown == [before + 1]  # the figures after the change; the older count never shows
    assert page.figures is not None
    assert page.figures.licenses == before + 1


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform cannot size dialogs
def test_sign_in_hashes_off_the_gui_thread_and_shows_it_is_busy(
    qtbot: QtBot, runner: Runner, workspace: Workspace, admin: Services
) -> None:
    use_shared_runner(runner)  # the dialog has no window: it uses the shared runner
    dialog = SignInDialog(workspace)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.name_edit, "admin")
    qtbot.keyClicks(dialog.password_edit, PASSWORD)
    busy_seen: list[bool] = []
    dialog.busy.busy_changed.connect(busy_seen.append)
    ok = dialog.ok_button
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton, pos=QPoint(ok.width() // 2, ok.height() // 2))
    assert dialog.busy.isVisible()  # Argon2 runs on the worker: the dialog says it is busy
    assert not dialog.password_edit.isEnabled()
    assert not ok.isEnabled()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=WAIT)
    assert dialog.services is not None
    assert dialog.services.actor.name == "admin"
    assert busy_seen[0] is True
