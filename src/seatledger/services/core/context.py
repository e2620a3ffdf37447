"""The unit of work every service call runs in: one transaction, one ledger entry, one operator.

A service method opens ``ctx.change(...)``, does its writes on ``change.session``, and fills in
``change.entity_id``, ``change.before`` and ``change.after``; leaving the block appends the ledger
entry and commits, or rolls everything back.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seatledger.domain.roles import Permission, Role, allows
from seatledger.errors import NotFoundError, PermissionDenied, ValidationError
from seatledger.services.core import snapshots
from seatledger.services.core.selects import Counted
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.faults import Fault, classify
from seatledger.store.models import Operator
from seatledger.store.prepared import Sql
from seatledger.text import article

Clock = Callable[[], dt.datetime]
_log = logging.getLogger(__name__)

# Built once: every change runs it first (see Context._refresh_role).
_ROLE_AND_HEAD = ledger_store.with_head(Operator.role, Operator.active).where(
    Operator.id == bindparam("operator")
)


def utc_now() -> dt.datetime:
    """The current time in UTC (the default clock)."""
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """A UTC timestamp as stored in the ledger, to the microsecond."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in operator every change is attributed to."""

    id: int
    name: str
    role: Role


class _Stored(Protocol):
    @property
    def id(self) -> int: ...


_Row = TypeVar("_Row", bound=_Stored)
_T = TypeVar("_T")


@dataclass
class Change:
    """What a service records about the change it is making.

    ``sql`` runs prepared statements in the change's transaction (see
    :mod:`seatledger.store.prepared`); ``session`` is its ORM Session, which a direct change
    (``Context.change(direct=True)``) does without.
    """

    sql: Sql
    now: dt.datetime
    entity_id: str = ""
    before: Any = None
    after: Any = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    counted: list[Counted] | None = None
    """The entitlements whose count the change set, as it left them (a seat change has the
    rows in hand), so the observers need not read them again; None: not known."""
    orm: Session | None = None

    @property
    def session(self) -> Session:
        """The change's ORM Session (a direct change has none: it runs ``sql`` alone)."""
        if self.orm is None:
            raise RuntimeError("A direct change has no Session; run its statements on sql.")
        return self.orm

    def get(self, model: type[_T], entity_id: int, what: str) -> _T:
        """The ``model`` row ``entity_id``; a missing one is refused ("<what> <id> does not
        exist.")."""
        row = self.session.get(model, entity_id)
        if row is None:
            raise NotFoundError(f"{what} {entity_id} does not exist.")
        return row

    def stored(self, row: _Row, snapshot: Callable[[_Row], Any]) -> int:
        """Add ``row`` (new or not) and flush it as the change's entity: the entry names its id
        and ``snapshot(row)`` as what it is after; returns the id."""
        self.session.add(row)
        self.session.flush()
        self.entity_id = str(row.id)
        self.after = snapshot(row)
        return row.id

    def edited(self, entity_id: int, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Record an edit as the fields it changed; an edit that changes none is refused."""
        self.entity_id = str(entity_id)
        self.before, self.after = snapshots.diff(before, after)
        if not self.after:
            raise ValidationError("Nothing changed.")


@dataclass(frozen=True, slots=True)
class Appended:
    """The ledger entry a change has just appended, as told to observers."""

    seq: int
    action: str
    entity_type: str


Observer = Callable[[Change, Appended], None]
"""Called inside the change's transaction after its ledger entry (the alert rules are one)."""

Subscriber = Callable[[frozenset[str]], None]
"""Called after a transaction commits, with the entity types of the ledger entries it committed."""


@dataclass
class Context:
    """The database, the operator and the clock shared by the services of one signed-in session.

    ``observers`` run after every change's ledger entry, in the same transaction, so whatever
    they write commits (or rolls back) with the change and no entry point can skip them.

    Subscribers (see :meth:`subscribe`) hear about a change only once it has committed: they are
    told the entity types of the ledger entries it committed, once per transaction, on the thread
    that made the change; a change that rolls back tells them nothing.
    """

    db: Database
    actor: Actor
    clock: Clock = utc_now
    observers: list[Observer] = field(default_factory=list)
    _subscribers: list[Subscriber] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @classmethod
    def reader(cls, db: Database) -> Context:
        """A context for reading without signing in (read-only commands, first-run checks)."""
        return cls(db, Actor(0, "", Role.VIEWER))

    def require(self, permission: Permission, what: str) -> None:
        """Refuse unless the operator's role grants ``permission``."""
        if not allows(self.actor.role, permission):
            raise PermissionDenied(
                f"{self.actor.name} is {article(self.actor.role.label.lower())} and may not {what}."
            )

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Tell ``subscriber`` about every committed change; returns what unsubscribes it."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def _committed(self, entity_types: frozenset[str]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(entity_types)
            except Exception:
                # The change is committed: a failing listener must not make it look failed.
                _log.exception("A subscriber failed on a committed change of %s", entity_types)

    @contextmanager
    def change(
        self,
        permission: Permission,
        action: str,
        entity_type: str,
        what: str,
        reason: str = "",
        *,
        bulk: bool = False,
        direct: bool = False,
    ) -> Iterator[Change]:
        """Run one attributed change: check the role, open the write transaction, log, commit.

        ``bulk``: see :meth:`Database.write` (the caller vouches for the references it writes).
        ``direct``: the change runs prepared statements on ``change.sql`` alone, without a
        Session (:meth:`Database.direct`): a seat, whose few statements cost less than a
        Session's work around them.  Its entry may hold no personal fields.
        Once the transaction has committed, the subscribers are told (see :meth:`subscribe`).
        """
        appended: set[str] = set()  # this call's own: changes may run on several threads at once
        try:
            with self._transaction(bulk=bulk, direct=direct) as (sql, session):
                recorded = self._refresh_role(sql, permission, what)
                record = Change(sql=sql, now=self.clock(), reason=reason.strip(), orm=session)
                yield record
                if session is not None:
                    session.flush()
                seq = ledger_store.append_on(
                    sql,
                    recorded,
                    session=session,
                    ts=iso(record.now),
                    operator=self.actor.name,
                    role=self.actor.role.value,
                    action=action,
                    entity_type=entity_type,
                    entity_id=record.entity_id,
                    reason=record.reason,
                    before=record.before,
                    after=record.after,
                )
                appended.add(entity_type)
                if self.observers:
                    entry = Appended(seq, action, entity_type)
                    for observer in self.observers:
                        observer(record, entry)
        except IntegrityError as exc:
            raise _explain_integrity(exc, entity_type) from exc
        if appended:
            self._committed(frozenset(appended))

    @contextmanager
    def _transaction(self, *, bulk: bool, direct: bool) -> Iterator[tuple[Sql, Session | None]]:
        if direct:
            with self.db.direct() as sql:
                yield sql, None
        else:
            with self.db.write(bulk=bulk) as session:
                yield Sql.of(session.connection()), session

    def _refresh_role(self, sql: Sql, permission: Permission, what: str) -> ledger_store.Recorded:
        """Check the operator's role as stored now, inside the write transaction; returns the
        ledger's head record, read in the same statement for the change's entry.

        A session keeps the role it signed in with; an administrator may have changed or
        deactivated it since, and that must take effect on the next change, not the next sign-in.
        The transaction holds the write lock, so the head cannot move before the entry is
        appended (only :meth:`change` appends in it).
        """
        row = sql.first(_ROLE_AND_HEAD, {"operator": self.actor.id})
        if row is None or not row[1]:
            raise PermissionDenied(
                f"{self.actor.name} is no longer an active operator; ask an administrator."
            )
        role = Role(row[0])
        if role is not self.actor.role:
            self.actor = Actor(self.actor.id, self.actor.name, role)
        self.require(permission, what)
        return ledger_store.recorded_from(row)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction (any role may read)."""
        with self.db.read() as session:
            yield session


def _explain_integrity(exc: IntegrityError, entity_type: str) -> ValidationError:
    fault = classify(exc)
    if fault is Fault.UNIQUE:
        return ValidationError(f"That {entity_type} already exists.")
    if fault is Fault.FOREIGN_KEY:
        return ValidationError(f"The {entity_type} refers to something that does not exist.")
    return ValidationError(f"The {entity_type} breaks a database rule: {exc.orig}")
