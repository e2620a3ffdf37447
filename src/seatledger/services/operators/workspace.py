"""An open database as the GUI sees it: open, create the first administrator, sign in.

The GUI never touches the storage layer; it opens a :class:`Workspace` and gets
:class:`~seatledger.services.operators.session.Services` for the operator who signs in.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from seatledger import __version__
from seatledger.domain.roles import Role
from seatledger.errors import DatabaseError
from seatledger.services.core.context import Actor, Clock, Context, iso, utc_now
from seatledger.services.ledger.verify import verify as verify_ledger
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import DEMO_KEY, Services, read_setting
from seatledger.store.db import Database, OpenResult, UpgradeReport, building, head_revision


def upgrade_database(
    db: Database, actor: Actor, *, dry_run: bool = False, clock: Clock = utc_now
) -> UpgradeReport:
    """Upgrade a database written by an older SeatLedger, attributed to a signed-in operator.

    One transaction and one ledger entry (``database.upgrade``: from and to revision, the
    backup file and its SHA-256); see :meth:`Database.upgrade`.

    Raises:
        UpgradeError: it failed and nothing was changed (the message names the backup).
    """
    return db.upgrade(
        operator=actor.name,
        role=actor.role.value,
        ts=iso(clock()),
        reason=f"schema upgrade by SeatLedger {__version__}",
        dry_run=dry_run,
    )


def restore_database(backup: Path, target: str) -> Database:
    """A new SQLite database at ``target`` made from a backup, verified before it is used.

    Raises:
        DatabaseError: ``target`` exists, the backup is not a SeatLedger database, or its copy
            does not verify (integrity, references or the ledger); nothing is left at ``target``.
    """
    path = Path(target)
    if path.exists():
        raise DatabaseError(f"{path} exists; a backup is restored into a new file only.")
    source, _ = Database.open(backup, create=False, upgrade=True)
    try:
        with building(path) as temporary:
            source.copy_to(temporary)
            copy, _ = Database.open(temporary, create=False, upgrade=True)
            try:
                problem = copy.check_integrity()
                verdict = verify_ledger(copy)
            finally:
                copy.dispose()
            if problem:
                raise DatabaseError(f"The copy of {backup.name} is damaged: {problem}.")
            if verdict.failure is not None:
                raise DatabaseError(
                    f"The ledger in {backup.name} does not verify: {verdict.failure.message()}."
                )
    finally:
        source.dispose()
    restored, _ = Database.open(path, create=False, upgrade=True)
    return restored


def describe_upgrade(report: UpgradeReport, display_name: str, *, short: bool = False) -> str:
    """What an upgrade did, for a terminal (the paths in full) or a status bar (``short``)."""
    if report.dry_run:
        return (
            f"Dry run: {display_name} upgrades from schema {report.from_revision} to "
            f"{report.to_revision} without error; nothing was changed."
        )
    text = (
        f"Upgraded {'the database' if short else display_name} from schema "
        f"{report.from_revision} to {report.to_revision} (ledger entry {report.ledger_seq})."
    )
    if report.backup is not None:
        kept = report.backup.name if short else str(report.backup)
        text += f" The database as it was is kept as {kept}."
    return text


class Workspace:
    """One open database, before and after sign-in."""

    def __init__(self, db: Database, opened: OpenResult, clock: Clock | None = None) -> None:
        self._db = db
        self.opened = opened
        self.clock = clock
        self.upgraded: UpgradeReport | None = None
        self.password_note = ""
        """Set by :meth:`sign_in`: why the password signed in with would be refused if set
        today (it predates the policy), or ''."""

    @classmethod
    def open(cls, db: str | Path, *, create: bool = True) -> Workspace:
        """Open (creating it if needed) the database at a path or URL.

        A database written by an older SeatLedger is upgraded when an operator signs in (see
        :attr:`pending_upgrade`), so the upgrade is attributed to them.

        Raises:
            DatabaseError: not a database, locked, unreachable, or from a newer SeatLedger.
        """
        database, result = Database.open(db, create=create)
        return cls(database, result)

    @property
    def display_name(self) -> str:
        """The database as shown in the status bar (never with a password)."""
        return self._db.display_name

    @property
    def location(self) -> str:
        """The database as it may be remembered and opened again (never with a password)."""
        return Database.location_of(self._db.url)

    @property
    def pending_upgrade(self) -> tuple[str, str] | None:
        """(stored, newest) schema revisions of a database that signing in will upgrade."""
        if self.opened.pending_upgrade is None or self.upgraded is not None:
            return None
        return self.opened.pending_upgrade, head_revision()

    @cached_property
    def is_demo(self) -> bool:
        """Whether this is a demo database (read once: title, badge and sign-in all ask)."""
        return read_setting(self._db, DEMO_KEY) == "1"

    def needs_administrator(self) -> bool:
        """True for a new database: the first operator becomes its administrator."""
        return not operators.has_operators(self._db)

    def create_administrator(self, name: str, full_name: str, password: str) -> Services:
        """Create the first administrator and sign them in."""
        if self.pending_upgrade is not None:
            self._upgrade(Actor(0, name.strip(), Role.ADMINISTRATOR))
        actor = operators.create_first_administrator(self._db, name, full_name, password)
        return Services.for_actor(self._db, actor)

    def sign_in(self, name: str, password: str) -> Services:
        """Sign an operator in.

        A database written by an older SeatLedger is upgraded first, attributed to them.

        Raises:
            SignInDelayed: repeated failures: the wait before the next attempt is not over.
            AuthenticationError: unknown operator or wrong password.
            UpgradeError: the upgrade failed; nothing was changed (the message says more).
        """
        actor = operators.sign_in(
            self._db, name, password, program=operators.WINDOW, clock=self.clock
        )
        if self.pending_upgrade is not None:
            self._upgrade(actor)
        # The demo's password is published in the README: there is nothing to advise.
        if not self.is_demo:
            self.password_note = operators.outdated_password(self._db, actor, password)
        return Services.for_actor(self._db, actor, self.clock or utc_now)

    def _upgrade(self, actor: Actor) -> None:
        self.upgraded = upgrade_database(self._db, actor)

    def reader(self) -> Context:
        """A read-only context (for screens shown before sign-in)."""
        return Context.reader(self._db)

    def close(self) -> None:
        """Release the database's connections."""
        self._db.dispose()
