"""What a database error means, from SQLite's result code or PostgreSQL's SQLSTATE, not its text.

Messages differ between SQLite versions, PostgreSQL locales and drivers; the codes do not.
SQLite's extended result codes (``sqlite3.Error.sqlite_errorcode``, Python 3.11+) keep the
primary code in their low byte; PostgreSQL's SQLSTATE (``psycopg.Error.sqlstate``) keeps the
class in its first two characters.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.exc import DBAPIError


class Fault(StrEnum):
    """The kinds of database failure SeatLedger explains to a user."""

    LOCKED = "locked"
    NOT_A_DATABASE = "not_a_database"
    CANNOT_OPEN = "cannot_open"
    CORRUPT = "corrupt"
    READ_ONLY = "read_only"
    FULL = "full"
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign_key"
    CHECK = "check"
    NOT_NULL = "not_null"
    CONNECTION = "connection"
    AUTHENTICATION = "authentication"
    NO_SUCH_DATABASE = "no_such_database"
    OTHER = "other"


# SQLite: extended result codes first, then primary codes (the low byte of an extended code).
_SQLITE = {
    2067: Fault.UNIQUE,  # SQLITE_CONSTRAINT_UNIQUE
    1555: Fault.UNIQUE,  # SQLITE_CONSTRAINT_PRIMARYKEY
    787: Fault.FOREIGN_KEY,  # SQLITE_CONSTRAINT_FOREIGNKEY
    275: Fault.CHECK,  # SQLITE_CONSTRAINT_CHECK
    1299: Fault.NOT_NULL,  # SQLITE_CONSTRAINT_NOTNULL
    5: Fault.LOCKED,  # SQLITE_BUSY
    6: Fault.LOCKED,  # SQLITE_LOCKED
    8: Fault.READ_ONLY,  # SQLITE_READONLY
    11: Fault.CORRUPT,  # SQLITE_CORRUPT
    13: Fault.FULL,  # SQLITE_FULL
    14: Fault.CANNOT_OPEN,  # SQLITE_CANTOPEN
    26: Fault.NOT_A_DATABASE,  # SQLITE_NOTADB
}
# PostgreSQL SQLSTATE: whole codes first, then classes (the first two characters).
_POSTGRES = {
    "23505": Fault.UNIQUE,
    "23503": Fault.FOREIGN_KEY,
    "23514": Fault.CHECK,
    "23502": Fault.NOT_NULL,
    "55P03": Fault.LOCKED,  # lock_not_available
    "40P01": Fault.LOCKED,  # deadlock_detected
    "28P01": Fault.AUTHENTICATION,  # invalid_password
    "28000": Fault.AUTHENTICATION,  # invalid_authorization_specification
    "3D000": Fault.NO_SUCH_DATABASE,  # invalid_catalog_name
    "25006": Fault.READ_ONLY,  # read_only_sql_transaction
    "53100": Fault.FULL,  # disk_full
    "08": Fault.CONNECTION,  # connection_exception (class)
}


def classify(exc: BaseException) -> Fault:
    """The kind of failure behind a driver error (wrapped by SQLAlchemy or not)."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE.get(code) or _SQLITE.get(code & 0xFF, Fault.OTHER)
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state:
        return _POSTGRES.get(state) or _POSTGRES.get(state[:2], Fault.OTHER)
    return Fault.OTHER
