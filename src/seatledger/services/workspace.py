"""An open database as the GUI sees it: open, create the first administrator, sign in.

The GUI never touches the storage layer; it opens a :class:`Workspace` and gets
:class:`~seatledger.services.session.Services` for the operator who signs in.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from seatledger.services import operators
from seatledger.services.context import Context
from seatledger.services.session import DEMO_KEY, Services, read_setting
from seatledger.store.db import Database, OpenResult


class Workspace:
    """One open database, before and after sign-in."""

    def __init__(self, db: Database, opened: OpenResult) -> None:
        self._db = db
        self.opened = opened

    @classmethod
    def open(cls, db: str | Path, *, create: bool = True) -> Workspace:
        """Open (creating or upgrading as needed) the database at a path or URL.

        Raises:
            DatabaseError: not a database, locked, unreachable, or from a newer SeatLedger.
        """
        database, result = Database.open(db, create=create)
        return cls(database, result)

    @property
    def display_name(self) -> str:
        """The database as shown in the status bar (never with a password)."""
        return self._db.display_name

    @cached_property
    def is_demo(self) -> bool:
        """Whether this is a demo database (read once: title, badge and sign-in all ask)."""
        return read_setting(self._db, DEMO_KEY) == "1"

    def needs_administrator(self) -> bool:
        """True for a new database: the first operator becomes its administrator."""
        return not operators.has_operators(self._db)

    def create_administrator(self, name: str, full_name: str, password: str) -> Services:
        """Create the first administrator and sign them in."""
        actor = operators.create_first_administrator(self._db, name, full_name, password)
        return Services.for_actor(self._db, actor)

    def sign_in(self, name: str, password: str) -> Services:
        """Sign an operator in.

        Raises:
            AuthenticationError: unknown operator or wrong password.
        """
        return Services.for_actor(self._db, operators.sign_in(self._db, name, password))

    def reader(self) -> Context:
        """A read-only context (for screens shown before sign-in)."""
        return Context.reader(self._db)

    def close(self) -> None:
        """Release the database's connections."""
        self._db.dispose()
