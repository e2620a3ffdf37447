"""Operators, roles and sign-in.  Passwords are hashed with Argon2id."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from seatledger.domain import validation
from seatledger.domain.roles import Permission, Role
from seatledger.errors import AuthenticationError, ValidationError
from seatledger.services.core import snapshots
from seatledger.services.core.context import Actor, Context, iso, utc_now
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.models import Operator

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
MIN_PASSWORD = 4
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


def hash_password(password: str) -> str:
    """Hash a new password, refusing one that is too short."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"The password must have at least {MIN_PASSWORD} characters.", "Password"
        )
    return _hasher.hash(password)


def has_operators(db: Database) -> bool:
    """Whether the database has any operator yet (a new database has none)."""
    with db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(Operator)))


def create_first_administrator(db: Database, name: str, full_name: str, password: str) -> Actor:
    """Create the first operator of a new database as its administrator, logging it first."""
    clean = validation.name(name, "Operator name", max_len=64)
    password_hash = hash_password(password)  # ~0.1 s: outside the write lock
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
        password_hash = hash_password(password)  # ~0.1 s: outside the write lock
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
        """Set a new password (administrators for anyone; anyone for themselves)."""
        own = operator_id == self._ctx.actor.id
        permission = Permission.READ if own else Permission.MANAGE_OPERATORS
        self._ctx.require(permission, "change other operators' passwords")
        password_hash = hash_password(password)
        with self._ctx.change(
            permission, "operator.password", "operator", "change other operators' passwords"
        ) as change:
            operator = change.get(Operator, operator_id, "Operator")
            operator.password_hash = password_hash
            change.entity_id = str(operator.id)
            change.after = {"name": operator.name, "password": "changed"}
