"""What the table figures share: the cheapest model a view can paint, and a wait for a paint.

``bench/run.py`` (the licenses table) and ``bench/scale.py`` (the Activity page at 10M entries)
time a first paint against :class:`BareModel` in the same run, each with :class:`PaintWait`.
Imported only once a figure knows Qt is available.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QEventLoop,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import QTableView

_DISPLAY = Qt.ItemDataRole.DisplayRole


class BareModel(QAbstractTableModel):
    """``rows`` rows of ``columns`` cells computed on demand: the cheapest model a view can have."""

    def __init__(self, rows: int, columns: int) -> None:
        super().__init__()
        self._rows, self._columns = rows, columns

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self._columns

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        return f"{index.row()}:{index.column()}" if role == _DISPLAY else None


class PaintWait(QObject):
    """Runs an action and waits until the view has painted after it."""

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self.loop = QEventLoop()
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self.loop.quit)  # after the paint pass is flushed
        return False

    def wait(self, action: Callable[[], object]) -> float:
        """Seconds from ``action()`` to the end of the paint that follows it (5 s at most)."""
        started = time.perf_counter()
        action()
        QTimer.singleShot(5000, self.loop.quit)
        self.loop.exec()
        return time.perf_counter() - started
