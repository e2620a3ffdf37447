"""The one progress widget: an inline strip (what is happening, a bar, a Cancel button).

It follows one :class:`~seatledger.ui.tasks.Task` at a time and sits inside the page, wizard or
dialog whose work it shows; it is never modal and never pumps events, so the window stays
responsive and the work's outcome arrives by signal like any other.  Work that cannot be
cancelled (signing in, assigning seats) uses it without the button, as a busy state.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from seatledger.ui.tasks import Runner, Task


class ProgressStrip(QWidget):
    """A label, a progress bar and (optionally) a Cancel button following one task.

    The strip is hidden while idle; it shows itself when it starts following a task and hides
    when that task finishes, whatever the outcome.  Following a newer task replaces the older
    one (whose reports are then ignored).

    Signals:
        busy_changed(bool): it started following a task (True) or that task finished (False).
    """

    busy_changed = Signal(bool)

    def __init__(
        self,
        cancel_text: str = "Cancel",
        parent: QWidget | None = None,
        *,
        cancellable: bool = True,
    ) -> None:
        super().__init__(parent)
        self.task: Task[Any] | None = None
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(False)
        self.bar.setMinimumWidth(120)
        self.cancel_button = QPushButton(cancel_text, self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel)
        self._cancellable = cancellable
        self.cancel_button.setVisible(cancellable)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self.hide()

    @property
    def busy(self) -> bool:
        """Whether the strip follows a task that has not finished."""
        return self.task is not None

    def follow(
        self, task: Task[Any], text: str, *, focus: bool = False, cancellable: bool | None = None
    ) -> None:
        """Show ``task``'s progress under ``text`` until it finishes.

        Args:
            task: the task (started before or after this call).
            text: what the work does, e.g. "Reading people.csv…".
            focus: give the Cancel button the keyboard focus (so Space or Enter cancels).
            cancellable: show the Cancel button (default: as the strip was built).
        """
        was_busy = self.busy
        self.task = task
        self.label.setText(text)
        self.bar.setRange(0, 0)  # until the first report: busy, length unknown
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(self._cancellable if cancellable is None else cancellable)
        task.progressed.connect(lambda done, total: self._progressed(task, done, total))
        task.staged.connect(lambda name: self._staged(task, name))
        task.finished.connect(lambda: self._finished(task))
        self.show()
        if focus and self.cancel_button.isVisible():
            self.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)
        if not was_busy:
            self.busy_changed.emit(True)

    def run(self, runner: Runner, task: Task[Any], text: str) -> None:
        """Follow ``task`` with the Cancel button focused, and start it on ``runner``."""
        self.follow(task, text, focus=True)
        runner.start(task)

    def cancel(self) -> None:
        """Ask the task to stop at its next progress report (if it may be cancelled)."""
        if self.task is not None and self.cancel_button.isVisibleTo(self):
            self.task.cancel()
            self.label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _progressed(self, task: Task[Any], done: int, total: int) -> None:
        if task is not self.task:
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)

    def _staged(self, task: Task[Any], name: str) -> None:
        if task is self.task and not task.is_cancelled:
            self.label.setText(name)

    def _finished(self, task: Task[Any]) -> None:
        if task is not self.task:
            return
        self.task = None
        self.hide()
        self.busy_changed.emit(False)
