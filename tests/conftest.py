"""Shared fixtures: databases on both engines, signed-in services for each role."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.context import Actor
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store import ledger_store
from seatledger.store.db import MIGRATIONS, Database
from throwaway_postgres import ClusterUnavailable, server_binaries, throwaway_cluster

PG_ENV = "SEATLEDGER_TEST_PG"
PASSWORD = "correct horse"


def alembic_upgrade(url: str, revision: str) -> None:
    """Build a database at ``revision`` with Alembic alone (as an older SeatLedger left it)."""
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def pdf_text(path: Path) -> str:
    """The text of a PDF as poppler's ``pdftotext -layout`` lays it out (columns kept)."""
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# For a test on what does not depend on the engine: only the SQLite run of ``db_url``.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _keep_private(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Point the user's data, config and cache folders into ``home``; no database or operator."""
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.delenv("SEATLEDGER_DB", raising=False)
    monkeypatch.delenv("SEATLEDGER_OPERATOR", raising=False)
    monkeypatch.delenv("SEATLEDGER_PASSWORD", raising=False)


def _hash_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with tiny parameters: a sign-in costs microseconds instead of ~0.2 s."""
    monkeypatch.setattr(
        operators, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture(autouse=True)
def _private_user_folders(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's data, config or cache folders."""
    _keep_private(monkeypatch, tmp_path_factory.mktemp("home"))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with tiny parameters: a sign-in costs microseconds instead of ~0.2 s."""
    _hash_fast(monkeypatch)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The PostgreSQL server the suite's other half runs on.

    ``SEATLEDGER_TEST_PG``'s URL (CI must set it); without it, a throwaway cluster of this run's
    own where the server is installed (tests/throwaway_postgres.py), whether or not the
    machine's cluster runs; else the PostgreSQL tests skip.  ``SEATLEDGER_TEST_PG=off`` skips
    them on purpose (a SQLite-only run).
    """
    url = os.environ.get(PG_ENV, "")
    if url == "off":
        pytest.skip(f"{PG_ENV}=off: the SQLite half only")
    if url:
        yield url
        return
    if os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} is not set: .ci/run must start PostgreSQL for the suite")
    binaries = server_binaries()
    if binaries is None:
        pytest.skip(
            f"{PG_ENV} not set and no PostgreSQL server installed here (no initdb): install "
            "it (Debian: postgresql) for a throwaway cluster, or name a server's URL"
        )
    try:
        with throwaway_cluster(binaries) as started:
            yield started
    except ClusterUnavailable as exc:
        reason = f"{PG_ENV} not set and no throwaway cluster could start: {exc}"
        if os.environ.get("SEATLEDGER_REQUIRE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


# What makes a migrated PostgreSQL schema what it is, besides its rows: the tables, columns (in
# order), defaults, indexes, constraints, triggers (and whether they are enabled), functions, the
# Alembic revision, and whether any table has been analyzed.  A test that changed any of it
# gets a freshly migrated schema; one that only wrote rows gets its rows deleted.
_SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
  SELECT concat('rel:', relname, ':', relkind) FROM pg_class
   WHERE relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat('col:', attrelid::regclass, '.', attnum, ':', attname, ':',
                format_type(atttypid, atttypmod), ':', attnotnull)
    FROM pg_attribute
   WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
     AND attnum > 0 AND NOT attisdropped
  UNION ALL
  SELECT concat('default:', adrelid::regclass, ':', adnum, ':', pg_get_expr(adbin, adrelid))
    FROM pg_attrdef
   WHERE adrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL
  SELECT concat('index:', indexdef) FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL
  SELECT concat('constraint:', conrelid::regclass, ':', conname, ':', pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat('trigger:', tgrelid::regclass, ':', tgname, ':', tgenabled) FROM pg_trigger
   WHERE NOT tgisinternal
     AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
  UNION ALL
  SELECT concat('function:', proname, ':', md5(prosrc)) FROM pg_proc
   WHERE pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat('revision:', version_num) FROM alembic_version
  UNION ALL
  SELECT concat('analyzed:', count(*)) FROM pg_stats WHERE schemaname = 'public'
) AS schema(item)
"""
# Tables a bulk test filled: emptied by TRUNCATE, so the next test's tables are small files again.
_LARGE_TABLES = """
SELECT quote_ident(relname) FROM pg_class
 WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'alembic_version'
   AND pg_total_relation_size(oid) > 1048576
"""
# Every sequence a test advanced back at its start, not yet called, as a fresh migration leaves it.
_RESTART_SEQUENCES = """
SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)
  FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL
"""


class PostgresDatabase:
    """This run's own PostgreSQL database, put back between tests as each test needs it.

    Alembic runs once: later tests that need a migrated database get the same schema with every
    row deleted and every sequence back at its start, which is what a fresh migration leaves
    (unless the test changed the schema itself: then it is migrated again).  Deleting rows costs
    a fiftieth of a migration and a tenth of a TRUNCATE (which makes new files and syncs them);
    only tables a bulk test filled past a megabyte are truncated.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url, poolclass=NullPool)
        self._migrated: str | None = None  # the fingerprint of the schema Alembic made
        self._tables: list[str] = []  # referencing tables before the tables they reference
        self._guarded: list[str] = []  # tables with triggers of their own (the ledger's)

    def empty(self) -> None:
        """No tables at all: a database SeatLedger has never opened."""
        _reset_postgres(self.url)

    def migrated(self) -> None:
        """A freshly migrated database: the schema at head, every table empty."""
        if self._migrated is None or self._fingerprint() != self._migrated:
            self.empty()
            Database.open(self.url)[0].dispose()
            self._migrated = self._fingerprint()
            self._learn_tables()
            return
        with self._engine.begin() as conn:
            # The ledger refuses DELETE and TRUNCATE, as it should for everyone but this reset.
            for table in self._guarded:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            large = conn.execute(text(_LARGE_TABLES)).scalars().all()
            if large:
                conn.execute(text(f"TRUNCATE {', '.join(large)} CASCADE"))
            for table in self._tables:
                conn.execute(text(f"DELETE FROM {table}"))
            for table in self._guarded:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            conn.execute(text(_RESTART_SEQUENCES))

    def _learn_tables(self) -> None:
        metadata = MetaData()
        with self._engine.connect() as conn:
            metadata.reflect(conn)
            self._guarded = list(
                conn.execute(
                    text(
                        "SELECT DISTINCT quote_ident(relname) FROM pg_trigger"
                        " JOIN pg_class ON pg_class.oid = tgrelid"
                        " WHERE relnamespace = 'public'::regnamespace AND NOT tgisinternal"
                    )
                ).scalars()
            )
        quote = self._engine.dialect.identifier_preparer.quote
        self._tables = [
            quote(table.name)
            for table in reversed(metadata.sorted_tables)
            if table.name != "alembic_version"
        ]

    def _fingerprint(self) -> str | None:
        try:
            with self._engine.connect() as conn:
                return conn.execute(text(_SCHEMA_FINGERPRINT)).scalar()
        except DBAPIError:  # no alembic_version: emptied, or never migrated
            return None

    def dispose(self) -> None:
        """Close the connections the resets used."""
        self._engine.dispose()


@pytest.fixture(scope="session")
def postgres_session_url(postgres_server_url: str) -> Iterator[str]:
    """A database of this run's own beside the one named by the URL, dropped at the end.

    Runs on one machine may share the server; each works in its own database so one run's
    schema resets never wipe another's tables.
    """
    base = make_url(postgres_server_url)
    name = f"{base.database}_{os.getpid()}_{secrets.token_hex(3)}"
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture(scope="session")
def postgres_database(postgres_session_url: str) -> Iterator[PostgresDatabase]:
    """This run's PostgreSQL database with the resets the fixtures below use."""
    database = PostgresDatabase(postgres_session_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database created and migrated once per run, as ``Database.open`` makes one."""
    path = tmp_path_factory.mktemp("template") / "seatledger.sqlite"
    db, opened = Database.open(path)
    db.dispose()
    assert opened.created
    # The last connection closed checkpointed the write-ahead log: the file alone is the database.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


@pytest.fixture
def migrated_sqlite(migrated_sqlite_template: Path) -> Callable[[Path], Path]:
    """Put a freshly migrated SQLite database at a path (a copy of the run's template)."""

    def place(path: Path) -> Path:
        shutil.copyfile(migrated_sqlite_template, path)
        return path

    return place


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each engine.

    A test that also uses :func:`database` finds the migrated database there instead (that
    fixture puts it in place), so both name the same database.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'seatledger.sqlite'}"
    postgres: PostgresDatabase = request.getfixturevalue("postgres_database")
    if "database" not in request.fixturenames:
        postgres.empty()
    return postgres.url


@pytest.fixture
def database(
    request: pytest.FixtureRequest, db_url: str, migrated_sqlite: Callable[[Path], Path]
) -> Iterator[Database]:
    """An open, migrated database on each engine."""
    if db_url.startswith("sqlite"):
        migrated_sqlite(Path(str(make_url(db_url).database)))
    else:
        postgres: PostgresDatabase = request.getfixturevalue("postgres_database")
        postgres.migrated()
    db, _ = Database.open(db_url)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, migrated_sqlite: Callable[[Path], Path]) -> Iterator[Database]:
    """An open, migrated SQLite database (for SQLite-only behaviour)."""
    db, _ = Database.open(migrated_sqlite(tmp_path / "seatledger.sqlite"))
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


def _make_org(admin: Services) -> Org:
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


@pytest.fixture
def org(admin: Services) -> Org:
    """The tiny organization in the administrator's database (see :func:`_make_org`)."""
    return _make_org(admin)


@pytest.fixture(scope="module")
def module_admin(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_template: Path
) -> Iterator[Services]:
    """The first administrator of a SQLite database that one module's tests share.

    For what is costly and built once per module (a signed bundle): the tests must leave the
    database as they found it, and work on copies of what was built from it.
    """
    path = tmp_path_factory.mktemp("module") / "seatledger.sqlite"
    shutil.copyfile(migrated_sqlite_template, path)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _keep_private(monkeypatch, tmp_path_factory.mktemp("home"))
        _hash_fast(monkeypatch)
        db, _ = Database.open(path)
        actor = operators.create_first_administrator(db, "admin", "Ada Admin", PASSWORD)
        yield Services.for_actor(db, actor)
        db.dispose()


@pytest.fixture(scope="module")
def module_org(module_admin: Services) -> Org:
    """:func:`org`, made once in :func:`module_admin`'s database."""
    return _make_org(module_admin)


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The statements the database is sent meanwhile, but for opening the write transaction."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement != "BEGIN IMMEDIATE" and "pg_advisory_xact_lock" not in statement:
            sent.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(services.db.engine, "before_cursor_execute", record)


def ledger_size(db: Database) -> int:
    """How many entries the ledger holds."""
    with db.read() as session:
        return ledger_store.head(session)[0]


def last_entry(db: Database) -> dict[str, Any]:
    """The newest ledger entry's body, with the change (role, reason, before, after) flattened."""
    with db.engine.connect() as conn:
        raw = conn.execute(text("SELECT body FROM ledger_entry ORDER BY seq DESC LIMIT 1")).scalar()
    assert raw is not None
    body: dict[str, Any] = json.loads(bytes(raw))
    return body | body.pop("what")


def actor_of(services: Services) -> Actor:
    """The operator a services object acts as."""
    return services.actor
