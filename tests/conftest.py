"""Shared fixtures: databases on both engines, signed-in services for each role."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.context import Actor
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database

PG_ENV = "SEATLEDGER_TEST_PG"
PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def _private_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's data, config or cache folders."""
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.delenv("SEATLEDGER_DB", raising=False)
    monkeypatch.delenv("SEATLEDGER_OPERATOR", raising=False)
    monkeypatch.delenv("SEATLEDGER_PASSWORD", raising=False)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with tiny parameters: a sign-in costs microseconds instead of ~0.2 s."""
    monkeypatch.setattr(
        operators, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _base_postgres_url() -> str:
    """The test PostgreSQL URL; CI must have one, a developer may go without."""
    url = os.environ.get(PG_ENV, "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set: .ci/run must start PostgreSQL for the suite")
        pytest.skip(f"{PG_ENV} not set (bash .ci/run starts a local PostgreSQL)")
    return url


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """A database of this run's own beside the one named by the URL, dropped at the end.

    Runs on one machine may share the server; each works in its own database so one run's
    schema resets never wipe another's tables.
    """
    base = make_url(_base_postgres_url())
    name = f"{base.database}_{os.getpid()}_{secrets.token_hex(3)}"
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'seatledger.sqlite'}"
    url: str = request.getfixturevalue("postgres_session_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """An open, migrated database on each engine."""
    db, _ = Database.open(db_url)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """An open, migrated SQLite database (for SQLite-only behaviour)."""
    db, _ = Database.open(tmp_path / "seatledger.sqlite")
    yield db
    db.dispose()


@pytest.fixture
def admin(database: Database) -> Services:
    """Services signed in as the database's first administrator."""
    actor = operators.create_first_administrator(database, "admin", "Ada Admin", PASSWORD)
    return Services.for_actor(database, actor)


@pytest.fixture
def as_role(admin: Services) -> Callable[[Role], Services]:
    """Make an operator with a role and return services signed in as them."""
    made: dict[Role, Services] = {Role.ADMINISTRATOR: admin}

    def factory(role: Role) -> Services:
        if role not in made:
            name = f"op-{role.value}"
            admin.operators.create(name, name.title(), role, PASSWORD)
            actor = operators.sign_in(admin.db, name, PASSWORD)
            made[role] = Services.for_actor(admin.db, actor)
        return made[role]

    return factory


class Org:
    """A tiny organization: ids of what :func:`org` created."""

    vendor: int
    acrobat: int
    sql_server: int
    people: list[int]
    devices: list[int]
    team: int


@pytest.fixture
def org(admin: Services) -> Org:
    """Two licenses (3 named-user seats; 16 cores per-core), five people, two devices."""
    result = Org()
    result.vendor = admin.catalog.add_vendor("Contoso Software")
    acrobat = admin.catalog.add_product(result.vendor, "PDF Studio")
    sql = admin.catalog.add_product(result.vendor, "Database Server")
    today = dt.date.today()
    result.acrobat = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=acrobat,
            metric=Metric.PER_USER,
            quantity=3,
            term_start=today - dt.timedelta(days=30),
            term_end=today + dt.timedelta(days=335),
        )
    )
    result.sql_server = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=sql, metric=Metric.PER_CORE, quantity=16, min_cores_per_processor=4
        )
    )
    result.team = admin.directory.add_team("Finance", "CC-100")
    result.people = [
        admin.directory.add_person(
            PersonInput(f"E{n:03}", f"Person {n}", f"p{n}@example.com", result.team)
        )
        for n in range(1, 6)
    ]
    result.devices = [
        admin.directory.add_device(DeviceInput("db-01", "SN1", None, 2, 8)),
        admin.directory.add_device(DeviceInput("db-02", "SN2", None, 1, 2)),
    ]
    return result


def actor_of(services: Services) -> Actor:
    """The operator a services object acts as."""
    return services.actor
