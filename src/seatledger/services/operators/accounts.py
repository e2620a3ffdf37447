"""Operators, roles and sign-in.  Passwords are hashed with Argon2id.

A new password must pass :mod:`seatledger.domain.passwords`; one stored before that policy still
signs in.  Consecutive failed sign-ins are counted per operator in the database: after a few, each
further attempt waits (see :func:`~seatledger.domain.passwords.delay`) and is refused unchecked
until the wait is over.  Each checked failure is a ledger entry (the refused ones are not, so the
ledger grows by at most one entry per wait), and so is the success that ends a series.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seatledger.domain import passwords, validation
from seatledger.domain.roles import Permission, Role
from seatledger.errors import (
    AuthenticationError,
    NotFoundError,
    SignInDelayed,
    ValidationError,
)
from seatledger.services.core import snapshots
from seatledger.services.core.context import Actor, Clock, Context, iso, utc_now
from seatledger.store import ledger_store
from seatledger.store.db import HEAD_REVISION, Database
from seatledger.store.models import Operator

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
_dummy_hash = ""  # made on first use: hashing costs a quarter second at start-up

WINDOW = "window"
COMMAND_LINE = "command line"
"""The programs a sign-in comes from, as its ledger entries name them."""


def _dummy() -> str:
    """A hash to verify against for unknown names, so they take as long as wrong passwords."""
    global _dummy_hash  # noqa: PLW0603
    if not _dummy_hash:
        _dummy_hash = _hasher.hash("not a real password")
    return _dummy_hash


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    """An operator as listed to administrators (``failed_sign_ins``: consecutive, since the
    last success)."""

    id: int
    name: str
    full_name: str
    role: Role
    active: bool
    failed_sign_ins: int = 0


def check_password(password: str, name: str, full_name: str = "") -> None:
    """Refuse a new password the policy does not allow for this operator.

    Raises:
        ValidationError: on the field "Password", saying why and what would pass.
    """
    problem = passwords.problem(password, name.strip(), full_name.strip())
    if problem:
        raise ValidationError(problem, "Password")


def hash_password(password: str) -> str:
    """Hash a password as it is (the policy is :func:`check_password`'s)."""
    return _hasher.hash(password)


def _new_hash(password: str, name: str, full_name: str) -> str:
    check_password(password, name, full_name)
    return hash_password(password)  # ~0.1 s: callers do this outside the write lock


def has_operators(db: Database) -> bool:
    """Whether the database has any operator yet (a new database has none)."""
    with db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(Operator)))


def create_first_administrator(db: Database, name: str, full_name: str, password: str) -> Actor:
    """Create the first operator of a new database as its administrator, logging it first."""
    clean = validation.name(name, "Operator name", max_len=64)
    password_hash = _new_hash(password, clean, full_name)
    with db.write() as session:
        if session.scalar(select(func.count()).select_from(Operator)):
            raise ValidationError("This database already has an administrator; sign in instead.")
        now = utc_now()
        operator = Operator(
            name=clean,
            full_name=validation.optional_text(full_name, "Full name", max_len=200),
            role=Role.ADMINISTRATOR.value,
            password_hash=password_hash,
            active=True,
            created_at=now,
        )
        session.add(operator)
        session.flush()
        ledger_store.append(
            session,
            ts=iso(now),
            operator=clean,
            role=Role.ADMINISTRATOR.value,
            action="operator.create",
            entity_type="operator",
            entity_id=str(operator.id),
            reason="first administrator of a new database",
            before=None,
            after=snapshots.values(snapshots.FIRST_ADMINISTRATOR, clean, Role.ADMINISTRATOR.value),
        )
        return Actor(operator.id, clean, Role.ADMINISTRATOR)


def sign_in(
    db: Database,
    name: str,
    password: str,
    *,
    program: str = COMMAND_LINE,
    clock: Clock | None = None,
) -> Actor:
    """Check an operator's password and return who they are.

    After :data:`~seatledger.domain.passwords.FREE_FAILURES` consecutive failures for one
    operator, an attempt before the wait is over is refused without checking the password.  A
    checked failure counts (and is a ledger entry naming ``program``); a success resets the count.
    A database still at an older schema (signing in upgrades it) has nowhere to count: it signs
    in as before.

    Raises:
        SignInDelayed: the operator's wait after repeated failures is not over.
        AuthenticationError: unknown or inactive operator, or wrong password (one message for all,
            so names cannot be probed by it; the wait, which only a known operator's failures
            start, does tell a guesser the name exists after a few tries, as the ledger every
            operator reads does anyway).
    """
    clean = name.strip()
    counted = db.current_revision() == HEAD_REVISION
    with db.read() as session:
        operator = session.execute(
            select(
                Operator.id,
                Operator.name,
                Operator.role,
                Operator.password_hash,
                Operator.active,
                *((Operator.failed_sign_ins, Operator.last_failed_sign_in) if counted else ()),
            ).where(Operator.name == clean)
        ).first()
    now = (clock or utc_now)()  # looked up now: a test may stand in for the command line's
    failures = int(operator.failed_sign_ins) if operator is not None and counted else 0
    if operator is not None and failures:
        ready = _utc(operator.last_failed_sign_in) + passwords.delay(failures)
        if now < ready:
            seconds = math.ceil((ready - now).total_seconds())
            raise SignInDelayed(
                f"Too many failed sign-ins for '{clean}'; try again in {seconds} s.", seconds
            )
    stored = operator.password_hash if operator is not None else _dummy()
    try:
        _hasher.verify(stored, password)
        valid = operator is not None and operator.active
    except (VerificationError, InvalidHashError):
        valid = False
    if operator is None:
        raise AuthenticationError(f"Wrong operator name or password for '{clean}'.")
    if not valid:
        if counted:
            _count_failure(db, operator.id, program, now)
        raise AuthenticationError(f"Wrong operator name or password for '{clean}'.")
    actor = Actor(operator.id, operator.name, Role(operator.role))
    if failures:
        _end_failures(db, actor, failures, program, now)
    return actor


def _utc(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)  # SQLite


def _count_failure(db: Database, operator_id: int, program: str, now: dt.datetime) -> None:
    """One more consecutive failure, and its ledger entry, in one transaction."""
    with db.write() as session:
        operator = session.get(Operator, operator_id)
        if operator is None:  # deleted meanwhile: nothing to count against
            return
        # Read inside the write lock: attempts checked at the same time all count.
        operator.failed_sign_ins += 1
        operator.last_failed_sign_in = now.astimezone(dt.UTC)
        wait = passwords.delay(operator.failed_sign_ins)
        _log_sign_in(
            session,
            operator,
            now,
            "operator.sign_in_failed",
            {
                "name": operator.name,
                "program": program,
                "failures": operator.failed_sign_ins,
                "next_wait_s": int(wait.total_seconds()),
            },
        )


def _end_failures(
    db: Database, actor: Actor, failures: int, program: str, now: dt.datetime
) -> None:
    """A success after failures: the count starts again, and the ledger says the series ended."""
    with db.write() as session:
        operator = session.get(Operator, actor.id)
        if operator is None:
            return
        operator.failed_sign_ins = 0
        operator.last_failed_sign_in = None
        _log_sign_in(
            session,
            operator,
            now,
            "operator.sign_in",
            {"name": operator.name, "program": program, "failures_before": failures},
        )


def _log_sign_in(
    session: Session, operator: Operator, now: dt.datetime, action: str, after: dict[str, Any]
) -> None:
    session.flush()
    ledger_store.append(
        session,
        ts=iso(now),
        operator=operator.name,
        role=operator.role,
        action=action,
        entity_type="operator",
        entity_id=str(operator.id),
        reason="",
        before=None,
        after=after,
    )


def outdated_password(db: Database, actor: Actor, password: str) -> str:
    """Why the password ``actor`` just signed in with would be refused if set today, or ''."""
    with db.read() as session:
        full_name = session.scalar(select(Operator.full_name).where(Operator.id == actor.id))
    return passwords.problem(password, actor.name, full_name or "")


class OperatorService:
    """Administrator-only management of operators."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def list(self) -> list[OperatorInfo]:
        """Every operator, by name."""
        with self._ctx.read() as session:
            rows = session.scalars(select(Operator).order_by(Operator.name)).all()
            return [
                OperatorInfo(o.id, o.name, o.full_name, Role(o.role), o.active, o.failed_sign_ins)
                for o in rows
            ]

    def create(self, name: str, full_name: str, role: Role, password: str) -> int:
        """Add an operator with a role."""
        clean = validation.name(name, "Operator name", max_len=64)
        self._ctx.require(Permission.MANAGE_OPERATORS, "manage operators")
        password_hash = _new_hash(password, clean, full_name)
        with self._ctx.change(
            Permission.MANAGE_OPERATORS, "operator.create", "operator", "manage operators"
        ) as change:
            if change.session.scalar(select(Operator.id).where(Operator.name == clean)):
                raise ValidationError(
                    f"An operator named '{clean}' already exists.", "Operator name"
                )
            operator = Operator(
                name=clean,
                full_name=validation.optional_text(full_name, "Full name", max_len=200),
                role=role.value,
                password_hash=password_hash,
                active=True,
                created_at=change.now,
            )
            change.session.add(operator)
            change.session.flush()
            change.entity_id = str(operator.id)
            change.after = snapshots.values(
                snapshots.OPERATOR, clean, operator.full_name, role.value
            )
            return operator.id

    def set_role(self, operator_id: int, role: Role, active: bool, reason: str = "") -> None:
        """Change an operator's role or deactivate them; the last active administrator stays."""
        with self._ctx.change(
            Permission.MANAGE_OPERATORS, "operator.update", "operator", "manage operators", reason
        ) as change:
            operator = change.get(Operator, operator_id, "Operator")
            # Only an active administrator counts: changing a deactivated one removes no one.
            demoting = (
                operator.role == Role.ADMINISTRATOR.value
                and operator.active
                and (role is not Role.ADMINISTRATOR or not active)
            )
            if demoting:
                admins = change.session.scalar(
                    select(func.count())
                    .select_from(Operator)
                    .where(Operator.role == Role.ADMINISTRATOR.value, Operator.active.is_(True))
                )
                if (admins or 0) <= 1:
                    raise ValidationError(
                        f"{operator.name} is the last active administrator; appoint another first."
                    )
            change.entity_id = str(operator.id)
            change.before = {
                "name": operator.name,
                "role": operator.role,
                "active": operator.active,
            }
            operator.role = role.value
            operator.active = active
            change.after = {"name": operator.name, "role": role.value, "active": active}

    def set_password(self, operator_id: int, password: str) -> None:
        """Set a new password (administrators for anyone; anyone for themselves).

        It must pass the password policy; failed sign-ins counted so far are forgotten (an
        administrator's reset ends the wait of someone who forgot theirs).
        """
        own = operator_id == self._ctx.actor.id
        permission = Permission.READ if own else Permission.MANAGE_OPERATORS
        self._ctx.require(permission, "change other operators' passwords")
        with self._ctx.read() as session:
            target = session.execute(
                select(Operator.name, Operator.full_name).where(Operator.id == operator_id)
            ).first()
        if target is None:
            raise NotFoundError(f"Operator {operator_id} does not exist.")
        password_hash = _new_hash(password, target.name, target.full_name)
        with self._ctx.change(
            permission, "operator.password", "operator", "change other operators' passwords"
        ) as change:
            operator = change.get(Operator, operator_id, "Operator")
            operator.password_hash = password_hash
            operator.failed_sign_ins = 0
            operator.last_failed_sign_in = None
            change.entity_id = str(operator.id)
            change.after = {"name": operator.name, "password": "changed"}
