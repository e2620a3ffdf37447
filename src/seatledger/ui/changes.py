"""Committed changes as a Qt signal: how pages learn that what they show has changed.

The services tell their subscribers, once per committed transaction, the entity types of the
ledger entries it committed (:meth:`~seatledger.services.operators.session.Services.subscribe`), on
whichever thread made the change.  :class:`CommittedChanges` turns that into a
signal of an object living on the GUI thread: a change made on the GUI thread reaches its slots at
once, one made by background work is queued to the GUI thread, so no slot runs on a worker.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from seatledger.services.operators.session import Services


class CommittedChanges(QObject):
    """The changes one session commits, delivered on the thread this object lives in.

    Signals:
        committed(object): a transaction committed; carries the ``frozenset[str]`` of the entity
            types of its ledger entries (``{"entitlement"}``, ``{"person"}``…).
    """

    committed = Signal(object)

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = services.subscribe(self._relay)
        unsubscribe = self._unsubscribe  # not self: the slot runs as the object is destroyed
        self.destroyed.connect(lambda *_: unsubscribe())

    def _relay(self, entity_types: frozenset[str]) -> None:
        # Called on the committing thread; Qt queues the emission to receivers on other threads.
        self.committed.emit(entity_types)

    def close(self) -> None:
        """Stop listening (the window closes; the session may outlive it)."""
        self._unsubscribe()
