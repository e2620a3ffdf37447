"""One change's evaluation by the alert rules: raising (deduplicated) and clearing alerts in the
change's own transaction, through statements prepared once.  What every rule is handed, those of
:mod:`.service` and of :mod:`.misuse` alike."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from seatledger.domain.alerts import Rule
from seatledger.services.core.context import Change
from seatledger.store.models_alerts import Alert

# Built once: an assignment must stay within milliseconds, and building a statement costs more
# than running it.
UNCLEARED = (
    select(Alert.id)
    .where(Alert.dedupe_key == bindparam("key"), Alert.cleared_at.is_(None))
    .limit(1)
)
_INSERT = insert(Alert)
_CLEAR = (
    update(Alert)
    .where(Alert.dedupe_key.in_(bindparam("keys", expanding=True)), Alert.cleared_at.is_(None))
    .values(cleared_at=bindparam("now"))
)


class Evaluation:
    """One change's evaluation: raising (deduplicated) and clearing alerts in its transaction.

    The statements every change may run are prepared ones on ``sql``; the rules of imports and
    people's changes read through ``session`` (a seat change, which runs without one, never
    gets to them).
    """

    def __init__(self, change: Change, now: dt.datetime, operator: str, seq: int) -> None:
        self.sql = change.sql
        self._session = change.orm
        self.now = now
        self.operator = operator
        self.seq = seq
        self.raised: list[str] = []

    @property
    def session(self) -> Session:
        """The change's Session (a direct change has none)."""
        if self._session is None:
            raise RuntimeError("A direct change has no Session for the alert rules.")
        return self._session

    @session.setter
    def session(self, session: Session) -> None:
        self._session = session

    def raise_alert(
        self,
        rule: Rule,
        key: str,
        subject: str,
        detail: str = "",
        entity: tuple[str, str] = ("", ""),
        *,
        uncleared: bool | None = None,
    ) -> bool:
        """Raise an alert unless one with the same key is still uncleared (``uncleared``: that
        is known already, read in this transaction)."""
        key = key[:200]
        if uncleared is None:
            uncleared = self.sql.first(UNCLEARED, {"key": key}) is not None
        if uncleared:
            return False
        self.sql.run(
            _INSERT,
            {
                "rule": rule.value,
                "severity": rule.severity.value,
                "subject": subject[:300],
                "detail": detail,
                "entity_type": entity[0],
                "entity_id": entity[1],
                "dedupe_key": key,
                "operator": self.operator,
                "ledger_seq": self.seq,
                "raised_at": self.now,
                "cleared_at": None,
                "acknowledged_at": None,
                "acknowledged_by": "",
                "note": "",
            },
        )
        self.raised.append(key)
        return True

    def clear(self, keys: list[str]) -> None:
        """The conditions named by ``keys`` ended."""
        if keys:
            self.sql.run(_CLEAR, {"keys": keys, "now": self.now})
