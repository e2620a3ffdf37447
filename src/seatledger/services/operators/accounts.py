"""Operators, roles and sign-in.  Passwords are hashed with Argon2id.

A new password must pass :mod:`seatledger.domain.passwords`; one stored before that policy still
signs in.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from seatledger.domain import passwords, validation
from seatledger.domain.roles import Permission, Role
from seatledger.errors import AuthenticationError, NotFoundError, ValidationError
from seatledger.services.core import snapshots
from seatledger.services.core.context import Actor, Context, iso, utc_now
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.models import Operator

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
_dummy_hash = ""  # made on first use: hashing costs a quarter second at start-up


def _dummy() -> str:
    """A hash to verify against for unknown names, so they take as long as wrong passwords."""
    global _dummy_hash  # noqa: PLW0603
    if not _dummy_hash:
        _dummy_hash = _hasher.hash("not a real password")
    return _dummy_hash


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    """An operator as listed to administrators."""

    id: int
    name: str
    full_name: str
    role: Role
    active: bool


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


def sign_in(db: Database, name: str, password: str) -> Actor:
    """Check an operator's password and return who they are.

    Raises:
        AuthenticationError: unknown or inactive operator, or wrong password (one message for all,
            so names cannot be probed).
    """
    with db.read() as session:
        operator = session.scalar(select(Operator).where(Operator.name == name.strip()))
    stored = operator.password_hash if operator is not None else _dummy()
    try:
        _hasher.verify(stored, password)
        valid = operator is not None and operator.active
    except (VerificationError, InvalidHashError):
        valid = False
    if not valid or operator is None:
        raise AuthenticationError(f"Wrong operator name or password for '{name.strip()}'.")
    return Actor(operator.id, operator.name, Role(operator.role))


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
            return [OperatorInfo(o.id, o.name, o.full_name, Role(o.role), o.active) for o in rows]

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
        """Set a new password (administrators for anyone; anyone for themselves); it must pass
        the password policy."""
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
            change.entity_id = str(operator.id)
            change.after = {"name": operator.name, "password": "changed"}
