"""Opening a SeatLedger database: SQLite file or PostgreSQL URL, checked, upgraded, tuned.

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL``.  Write transactions start
with ``BEGIN IMMEDIATE`` on SQLite and take an advisory lock on PostgreSQL, so writers queue instead
of failing half-way and the ledger's sequence numbers never race.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from seatledger.errors import DatabaseError, UpgradeError
from seatledger.paths import data_dir, expanded, private_file, private_folder, replaced
from seatledger.store.faults import Fault, classify
from seatledger.store.prepared import Sql
from seatledger.text import plural

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration.  Opening an up-to-date database compares against this constant and never
# imports Alembic (a third of a second at start-up); a test keeps it equal to Alembic's head.
HEAD_REVISION = "0031"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_MAGIC = b"SQLite format 3\x00"
WRITE_LOCK_KEY = 0x5EA7_1ED6  # PostgreSQL advisory lock serializing writers
BUSY_TIMEOUT_MS = 5000


def to_url(db: str | Path) -> str:
    """Turn a ``--db`` argument (file path or SQLAlchemy URL) into a URL."""
    text = str(db)
    if "://" in text:
        if text.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
            text = "postgresql+psycopg://" + text.split("://", 1)[1]
        return text
    return "sqlite:///" + str(expanded(text).resolve())


def _alembic_config() -> Config:
    from alembic.config import Config  # noqa: PLC0415 (only when migrating)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of SeatLedger knows."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    return {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def _stored_revision(conn: Connection) -> tuple[str | None, set[str]]:
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables:
        return None, tables
    revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return (str(revision) if revision is not None else None), tables


_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive or an Office document",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xd0\xcf\x11\xe0": "an old-style Office document",
}


def _looks_like(magic: bytes) -> str:
    for signature, kind in _SIGNATURES.items():
        if magic.startswith(signature):
            return f" (it looks like {kind})"
    if magic[:1] in (b"{", b"[") or magic.isascii():
        return " (it looks like a text file)"
    return ""


def _check_sqlite_file(path: Path) -> None:
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a SeatLedger database file.")
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseError(f"{path} cannot be read: {exc.strerror}.") from exc
    if magic != SQLITE_MAGIC:
        raise DatabaseError(
            f"{path} is not a SQLite database{_looks_like(magic)}. "
            "Choose a SeatLedger database file or a new file name."
        )
    _refuse_foreign_sqlite(path)


def _refuse_foreign_sqlite(path: Path) -> None:
    """Refuse another program's SQLite file before any connection switches it to WAL mode."""
    try:
        probe = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master")}
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        if classify(exc) is Fault.LOCKED:
            raise DatabaseError(
                f"{path} is locked by {_holders_of(path)}. Let it finish or close it, then try "
                "again."
            ) from exc
        raise DatabaseError(
            f"{path} is not a SQLite database SeatLedger can read ({exc})."
        ) from exc
    if tables and "alembic_version" not in tables:
        raise DatabaseError(
            f"{path} already holds tables but is not a SeatLedger database "
            "(it belongs to another program and was left as it was)."
        )


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own handling defers it).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.close()
    if mode and str(mode[0]).lower() not in {"wal", "memory"}:
        raise DatabaseError(f"the database could not switch to WAL mode (it is in {mode[0]}).")


BULK_CACHE_KIB = 131_072  # SQLite's page cache in a bulk write (the default is 2 MiB)


def _on_sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("seatledger_bulk", False):
        # SQLite reads the foreign-keys pragma only outside a transaction.  Random inserts into
        # an index thrash the 2 MiB default page cache (a million installs: 11.7 s -> 5.8 s).
        # Both are put back when the connection returns to the pool (_on_sqlite_checkin).
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        conn.connection.info["reset_pragmas"] = True
    immediate = options.get("seatledger_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _on_sqlite_checkin(dbapi_conn: Any, record: Any) -> None:
    if record.info.pop("reset_pragmas", False) and dbapi_conn is not None:
        # Back to the defaults after a bulk load or an upgrade, committed or failed (threads:
        # see Bulk.restore_indexes).
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        dbapi_conn.execute("PRAGMA cache_size = -2000")
        dbapi_conn.execute("PRAGMA threads = 0")


def _on_postgres_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("seatledger_write", False):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def _holders_of(path: Path) -> str:
    """Who else has the database file open, as a user would name them (Linux; best effort).

    "another SeatLedger (process 4242: seatledger import inventory ...)" tells the user what to
    wait for or close; where the processes cannot be seen, "another program".
    """
    try:
        target = path.resolve()
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                if not any(Path(os.readlink(fd)) == target for fd in (proc / "fd").iterdir()):
                    continue
                words = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            # Paths by their last part: "python seatledger import inventory big.csv".
            command = " ".join(
                Path(w.decode(errors="replace")).name or w.decode(errors="replace")
                for w in words
                if w
            )
            who = "another SeatLedger" if "seatledger" in command.lower() else "another program"
            shown = command if len(command) <= 80 else command[:77] + "..."
            found.append(f"{who} (process {proc.name}: {shown})")
    except OSError:
        return "another program"
    return " and ".join(found[:3]) if found else "another program"


def describe_operational_error(exc: Exception, where: str) -> DatabaseError:
    """Turn a driver error (wrapped by SQLAlchemy or not) into a message the user can act on
    (by its code, not its text)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    text = str(orig) if orig is not None else str(exc)
    fault = classify(exc)
    if fault is Fault.LOCKED:
        return DatabaseError(
            f"{where} is locked by {_holders_of(Path(where))} (a write has held it for over "
            f"{BUSY_TIMEOUT_MS // 1000} s). Let it finish or close it, then try again."
        )
    if fault is Fault.NOT_A_DATABASE:
        return DatabaseError(f"{where} is not a SQLite database.")
    if fault is Fault.CANNOT_OPEN:
        return DatabaseError(
            f"{where} cannot be opened: check that the folder exists and is writable."
        )
    if fault is Fault.READ_ONLY:
        return DatabaseError(f"{where} is read-only: SeatLedger needs to write to it.")
    if fault is Fault.FULL:
        return DatabaseError(f"{where}: the disk is full; free some space and try again.")
    return DatabaseError(f"{where}: {text.strip().splitlines()[0] if text.strip() else exc}")


def _row_counts(conn: Connection) -> dict[str, int]:
    names = sorted(set(inspect(conn).get_table_names()) - {"alembic_version"})
    quote = conn.dialect.identifier_preparer.quote
    return {
        name: int(conn.exec_driver_sql(f"SELECT count(*) FROM {quote(name)}").scalar() or 0)
        for name in names
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_BUILDING = ".building-"


@contextmanager
def building(target: Path) -> Iterator[Path]:
    """A hidden file beside ``target`` to build a new SQLite database in; ``target`` only when done.

    The file takes ``target``'s name once the block ends without error (never replacing a file
    that appeared meanwhile); a failed or cancelled build removes it.  A build killed outright
    leaves only the hidden file, which the next build beside it removes, so it never stands in
    the way as a half-built database would.

    Raises:
        DatabaseError: ``target`` appeared while the database was being built.
    """
    _sweep_stale_builds(target)
    temp = target.with_name(f".{target.name}{_BUILDING}{os.getpid()}")
    try:
        yield temp
        _settle(temp)
        try:
            os.link(temp, target)
        except FileExistsError:
            raise DatabaseError(
                f"{target} appeared while the database was being built; it was left as it was."
            ) from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{temp}{suffix}").unlink(missing_ok=True)


def _pg_tool(tool: str, url: str, *args: str) -> None:
    """Run a PostgreSQL client tool on the database at ``url`` (the password by environment)."""
    import shutil  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    program = shutil.which(tool)
    if program is None:
        raise DatabaseError(
            f"{tool} is not installed; install PostgreSQL's client tools (Debian: "
            "postgresql-client) and try again."
        )
    parsed = make_url(url)
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    libpq = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    ).render_as_string()  # the password goes by PGPASSWORD, not the process list
    done = subprocess.run(  # noqa: S603 (our own arguments, no shell)
        [program, f"--dbname={libpq}", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise DatabaseError(f"{tool} failed: {said[-1] if said else done.returncode}.")


def _settle(path: Path) -> None:
    """Fold the write-ahead log into the file, so the file alone holds the database."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _sweep_stale_builds(target: Path) -> None:
    """Remove what builds of ``target`` killed outright left behind (their process is gone)."""
    for leftover in target.parent.glob(f".{target.name}{_BUILDING}*"):
        pid_text = leftover.name.rsplit(_BUILDING, 1)[-1].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except PermissionError:
            continue  # another user's build, still running


@dataclass(frozen=True)
class OpenResult:
    """What happened when a database was opened.

    ``pending_upgrade``: the schema revision of a database written by an older SeatLedger; it
    stays as it is until :meth:`Database.upgrade` runs (after an operator has signed in, so the
    upgrade is attributed to them).
    """

    created: bool
    pending_upgrade: str | None = None


@dataclass(frozen=True)
class UpgradeReport:
    """What an upgrade did (or, with ``dry_run``, would do) to a database."""

    from_revision: str
    to_revision: str
    backup: Path | None
    backup_sha256: str | None
    ledger_seq: int | None
    rows: dict[str, tuple[int | None, int]]
    """Rows of every table before and after (None before: the upgrade created the table)."""
    dry_run: bool


class Database:
    """An open SeatLedger database: engines, sessions and schema management.

    Use :meth:`open` to get one; it checks the file, applies migrations and refuses a database
    written by a newer SeatLedger.
    """

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._write_engine = engine.execution_options(seatledger_write=True)
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        self._writer = sessionmaker(bind=self._write_engine, expire_on_commit=False)
        self._bulk_writer = sessionmaker(
            bind=engine.execution_options(seatledger_write=True, seatledger_bulk=True),
            expire_on_commit=False,
        )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def display_name(self) -> str:
        """The database as shown in the status bar (never with a password)."""
        return self.display_name_of(self.url)

    @staticmethod
    def location_of(db: str | Path) -> str:
        """A ``--db`` argument as it may be kept to open again (a recent-databases list): a
        SQLite file's path, a server URL without its password (PGPASSWORD or ~/.pgpass give
        it when it is opened)."""
        url = make_url(to_url(db))
        if url.get_backend_name() == "sqlite":
            return url.database or ":memory:"
        kept = URL.create(
            url.drivername, url.username, None, url.host, url.port, url.database, url.query
        )
        return kept.render_as_string(hide_password=False)

    @staticmethod
    def display_name_of(db: str | Path) -> str:
        """A ``--db`` argument as it may be shown or logged (never with a password)."""
        url = make_url(to_url(db))
        if url.get_backend_name() == "sqlite":
            return url.database or ":memory:"
        return url.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path | None:
        """The file behind a SQLite database, else None."""
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or not url.database:
            return None
        return Path(url.database)

    @classmethod
    def open(
        cls, db: str | Path, *, create: bool = True, upgrade: bool = True
    ) -> tuple[Database, OpenResult]:
        """Open (and if needed create or upgrade) the database named by a path or URL.

        Raises:
            DatabaseError: not a database, locked, unreachable, or written by a newer SeatLedger.
        """
        url = to_url(db)
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError) as exc:
            shown = str(db) if "://" not in str(db) else "The database URL"  # may hold a password
            raise DatabaseError(
                f"{shown} is neither a file path nor a valid database URL."
            ) from exc
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            path = Path(parsed.database or "")
            if parsed.database:
                _check_sqlite_file(path)
                if not path.exists() and not create:
                    raise DatabaseError(f"{path} does not exist.")
                if not path.parent.exists():
                    raise DatabaseError(f"The folder {path.parent} does not exist.")
                if not path.exists():
                    private_file(path)  # before SQLite creates it with the umask's mode
            engine = create_engine(url)
            event.listen(engine, "connect", _on_sqlite_connect)
            event.listen(engine, "begin", _on_sqlite_begin)
            event.listen(engine, "checkin", _on_sqlite_checkin)
        elif backend == "postgresql":
            try:
                engine = create_engine(url, pool_pre_ping=True)
            except ModuleNotFoundError as exc:
                raise DatabaseError(f"The PostgreSQL driver is missing: {exc}.") from exc
            event.listen(engine, "begin", _on_postgres_begin)
        else:
            raise DatabaseError(
                f"Unsupported database '{backend}'; use a SQLite file or a "
                "postgresql+psycopg:// URL."
            )
        database = cls(url, engine)
        try:
            result = database._migrate(upgrade=upgrade)
        except DBAPIError as exc:  # OperationalError, or DatabaseError for a corrupt file
            engine.dispose()
            raise describe_operational_error(exc, database.display_name) from exc
        except sqlite3.DatabaseError as exc:
            engine.dispose()
            raise DatabaseError(
                f"{database.display_name} is not a usable SQLite database: {exc}."
            ) from exc
        except DatabaseError:
            engine.dispose()
            raise
        return database, result

    def current_revision(self) -> str | None:
        """The schema revision stored in the database, or None when it is empty."""
        with self.engine.connect() as conn:
            return _stored_revision(conn)[0]

    def _migrate(self, *, upgrade: bool) -> OpenResult:
        with self.engine.connect() as conn:
            current, tables = _stored_revision(conn)
        if current == HEAD_REVISION:
            return OpenResult(created=False)
        head = head_revision()
        if current is None:
            if tables - {"alembic_version"}:
                raise DatabaseError(
                    f"{self.display_name} already holds tables but is not a SeatLedger database."
                )
            with self._write_engine.connect() as conn:
                self._begin_schema_change(conn)
                self._migrate_to_head(conn)
                conn.commit()
            return OpenResult(created=True)
        if current == head:
            return OpenResult(created=False)
        if current not in _known_revisions():
            raise DatabaseError(
                f"{self.display_name} was written by a newer SeatLedger (schema {current}; this "
                f"version knows up to {head}). Update SeatLedger to open it; nothing was changed."
            )
        if not upgrade:
            raise DatabaseError(
                f"{self.display_name} was written by an older SeatLedger (schema {current}) and "
                f"needs an upgrade to schema {head} before this command can read it. Run "
                "'seatledger upgrade' (it makes a backup copy first), or open it in the app and "
                "sign in; nothing was changed."
            )
        return OpenResult(created=False, pending_upgrade=current)

    def upgrade(
        self, *, operator: str, role: str, ts: str, reason: str, dry_run: bool = False
    ) -> UpgradeReport:
        """Upgrade an older schema to this version's, as one transaction and one ledger entry.

        SQLite first gets a backup copy beside the file (its SHA-256 goes into the ledger entry).
        Tables are rebuilt with foreign-key enforcement off, as SQLite prescribes for schema
        changes, and ``PRAGMA foreign_key_check`` must find nothing before the commit.  With
        ``dry_run`` the migration runs on a copy in a temporary folder (SQLite) or is rolled
        back (PostgreSQL), and the database is left as it was.

        Raises:
            UpgradeError: the upgrade failed; the database is unchanged (the message says so and
                names the backup).
            DatabaseError: the schema is current already, or newer than this version's.
        """
        with self.engine.connect() as conn:
            current, _tables = _stored_revision(conn)
        head = head_revision()
        if current is None or current == head:
            raise DatabaseError(f"{self.display_name} is at schema {head} already.")
        if current not in _known_revisions():
            raise DatabaseError(
                f"{self.display_name} was written by a newer SeatLedger (schema {current})."
            )
        entry = {"operator": operator, "role": role, "ts": ts, "reason": reason}
        if dry_run and self.sqlite_path is not None:
            return self._dry_run_on_copy(current, head, entry)
        backup = None if dry_run else self.backup(f"before-upgrade-from-{current}")
        digest = None if backup is None else _sha256(backup)
        return self._attempt(current, head, entry, backup=backup, digest=digest, commit=not dry_run)

    def _attempt(
        self,
        current: str,
        head: str,
        entry: dict[str, str],
        *,
        backup: Path | None,
        digest: str | None,
        commit: bool,
    ) -> UpgradeReport:
        try:
            with self._write_engine.connect() as conn:
                report = self._upgrade_on(conn, current, head, entry, backup=backup, digest=digest)
                if commit:
                    conn.commit()
                    return report
                conn.rollback()
                return replace(report, dry_run=True, ledger_seq=None)
        except Exception as exc:
            cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            kept = f" A backup copy made before the attempt is at {backup}." if backup else ""
            raise UpgradeError(
                f"Upgrading {self.display_name} from schema {current} to {head} failed: "
                f"{str(cause).rstrip('.')}. Nothing was changed: the database is still at "
                f"schema {current} and opens in the SeatLedger that wrote it.{kept}",
                backup=backup,
            ) from exc

    def _dry_run_on_copy(self, current: str, head: str, entry: dict[str, str]) -> UpgradeReport:
        """Upgrade a copy in a temporary folder and roll back: the file itself is never written."""
        import tempfile  # noqa: PLC0415

        assert self.sqlite_path is not None
        with tempfile.TemporaryDirectory(prefix="seatledger-dry-run-") as folder:
            copy = Path(folder) / self.sqlite_path.name
            self._copy_to(copy)
            trial, _ = Database.open(copy, create=False)
            try:
                return trial._attempt(current, head, entry, backup=None, digest=None, commit=False)
            except UpgradeError as exc:
                raise UpgradeError(
                    f"A dry run of the upgrade of {self.display_name} from schema {current} "
                    f"to {head} failed: {str(exc.__cause__).rstrip('.')}. The database was not "
                    "touched (the dry run worked on a copy)."
                ) from exc
            finally:
                trial.dispose()

    def _upgrade_on(
        self,
        conn: Connection,
        current: str,
        head: str,
        entry: dict[str, str],
        *,
        backup: Path | None,
        digest: str | None,
    ) -> UpgradeReport:
        self._begin_schema_change(conn)
        before = _row_counts(conn)
        self._migrate_to_head(conn)
        after = _row_counts(conn)
        rows = {table: (before.get(table), count) for table, count in after.items()}
        from seatledger.store import ledger_store  # noqa: PLC0415 (imports the ORM models)

        with Session(bind=conn) as session:
            seq = ledger_store.append(
                session,
                ts=entry["ts"],
                operator=entry["operator"],
                role=entry["role"],
                action="database.upgrade",
                entity_type="database",
                entity_id="schema",
                reason=entry["reason"],
                before={"schema": current},
                after={
                    "schema": head,
                    "backup": backup.name if backup is not None else None,
                    "backup_sha256": digest,
                },
            )
            session.flush()
        return UpgradeReport(current, head, backup, digest, seq, rows, dry_run=False)

    def _begin_schema_change(self, conn: Connection) -> None:
        """Begin the one transaction a schema change runs in (the caller commits).

        On SQLite, foreign-key enforcement is turned off first, as SQLite prescribes for
        rebuilding tables (it reads the pragma only outside a transaction); it is back on when
        the connection is checked in, and :meth:`_migrate_to_head` runs ``foreign_key_check``.
        """
        if self.dialect == "sqlite":
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
            conn.connection.info["reset_pragmas"] = True
        conn.begin()  # before Alembic looks, so every revision runs in this one transaction

    def _migrate_to_head(self, conn: Connection) -> None:
        from alembic import command  # noqa: PLC0415

        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if self.dialect == "sqlite":
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                table, rowid, parent, _ = broken[0]
                raise DatabaseError(
                    f"{plural(len(broken), 'row')} would refer to rows that do not exist "
                    "(the first: "
                    f"{table} row {rowid} refers to a missing {parent})"
                )

    def _copy_to(self, target: Path) -> None:
        assert self.sqlite_path is not None
        private_file(target)  # a backup holds what the database holds
        source = sqlite3.connect(self.sqlite_path)
        try:
            dest = sqlite3.connect(target)
            try:
                source.backup(dest)
            finally:
                dest.close()
        finally:
            source.close()

    def backup(self, label: str) -> Path | None:
        """Copy the database before a change: a SQLite file beside itself (SQLite's online
        backup); a PostgreSQL database with ``pg_dump`` into the data folder's ``backups/``
        (None where pg_dump is not installed)."""
        path = self.sqlite_path
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        if path is None:
            import shutil  # noqa: PLC0415

            if self.dialect != "postgresql" or shutil.which("pg_dump") is None:
                return None
            folder = private_folder(data_dir() / "backups")
            name = make_url(self.url).database or "seatledger"
            target = folder / f"{name}.{label}.{stamp}.dump"
            self.copy_to(target)
            return target
        target = path.with_name(f"{path.stem}.{label}.{stamp}{path.suffix or '.sqlite'}")
        self._copy_to(target)
        return target

    def check_integrity(self) -> str:
        """What is wrong with a SQLite file's pages or references ("" when nothing is)."""
        if self.dialect != "sqlite":
            return ""
        with self.engine.connect() as conn:
            pages = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if pages != ["ok"]:
                return "; ".join(pages[:3])
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            table, rowid, parent, _ = broken[0]
            return f"{len(broken)} broken reference(s), the first {table} row {rowid} -> {parent}"
        return ""

    def copy_to(self, target: Path) -> str:
        """Write a copy of the whole database to ``target``, replacing it whole; its SHA-256.

        SQLite: SQLite's online backup (the file a restore opens); PostgreSQL: ``pg_dump``'s
        custom format (what ``pg_restore`` reads).

        Raises:
            DatabaseError: the copy cannot be written, or pg_dump is missing or failed.
        """
        try:
            with replaced(target) as temporary:
                if self.sqlite_path is not None:
                    self._copy_to(temporary)
                else:
                    _pg_tool("pg_dump", self.url, "--format=custom", f"--file={temporary}")
        except OSError as exc:
            raise DatabaseError(f"Cannot write {target}: {exc.strerror}.") from None
        return _sha256(target)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work."""
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def write(self, *, bulk: bool = False) -> Iterator[Session]:
        """A write unit of work: writers are serialized; commits on success, rolls back on error.

        ``bulk``: a bulk load whose every reference the writer made itself from rows it read
        or added in this same transaction (which writers hold alone), such as an inventory
        import's installs.  On SQLite it runs without the per-row foreign-key lookups (a
        quarter of a million-row insert) and with a 128 MiB page cache; the tests run
        ``foreign_key_check`` after such imports.  PostgreSQL checks as always.
        """
        writer = self._bulk_writer if bulk else self._writer
        try:
            with writer() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise describe_operational_error(exc, self.display_name) from exc

    @contextmanager
    def direct(self) -> Iterator[Sql]:
        """A write transaction on a pooled connection's driver, without a Session.

        For a change of a few fixed statements (a seat), where a Session's work would cost
        more than the statements: they run prepared (:class:`~seatledger.store.prepared.Sql`).
        Writers queue as in :meth:`write` (``BEGIN IMMEDIATE`` on SQLite, the advisory lock on
        PostgreSQL).  Commits on success, rolls back on error.
        """
        pooled = self.engine.raw_connection()
        try:
            raw = pooled.driver_connection
            assert raw is not None
            sql = Sql(raw, self.engine.dialect)
            try:
                if self.dialect == "sqlite":
                    sql.execute_text("BEGIN IMMEDIATE")
                else:
                    sql.execute_text(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
                yield sql
                raw.commit()
            except BaseException as exc:
                try:
                    raw.rollback()
                except Exception:  # a lost connection: the pool gets a new one
                    pooled.invalidate(exc if isinstance(exc, Exception) else None)
                raise
        except OperationalError as exc:
            raise describe_operational_error(exc, self.display_name) from exc
        except self.engine.dialect.loaded_dbapi.OperationalError as exc:  # at COMMIT
            raise describe_operational_error(exc, self.display_name) from exc
        finally:
            pooled.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
