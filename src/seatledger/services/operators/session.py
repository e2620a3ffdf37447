"""One signed-in operator's services over one database: the only door to writing data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from seatledger.domain.roles import Permission
from seatledger.services.alerts.dashboard import DashboardService
from seatledger.services.alerts.service import AlertService
from seatledger.services.audits.service import AuditService, count_due
from seatledger.services.catalog.renewals import RenewalService
from seatledger.services.catalog.service import CatalogService
from seatledger.services.core.context import Actor, Clock, Context, utc_now
from seatledger.services.directory.service import DirectoryService
from seatledger.services.imports.rules import RuleService
from seatledger.services.ledger.verify import LedgerService
from seatledger.services.operators.accounts import OperatorService
from seatledger.services.reads import Reads
from seatledger.services.reclaim.service import ReclaimService, count_reclaimed
from seatledger.services.reviews.service import ReviewService, count_open
from seatledger.services.seats.service import SeatService
from seatledger.services.settings.service import SettingsService
from seatledger.store.db import Database
from seatledger.store.models import Setting

if TYPE_CHECKING:
    from seatledger.services.audits.signing import SigningService
    from seatledger.services.imports.service import ImportService
    from seatledger.services.position.engine import PositionService
    from seatledger.services.reviews.signed import ReviewReports
    from seatledger.services.servers.service import ServerService
    from seatledger.services.usage.history import UsageHistoryService

DEMO_KEY = "demo"
ORGANIZATION_KEY = "organization"


@dataclass
class Services:
    """The services of one session; build with :meth:`for_actor` (or :meth:`reader`).

    The one object the window and the command line hold: every service and read they need is
    an attribute, and :meth:`subscribe` tells them about committed changes.  ``ctx`` is for the
    services themselves (and tests), not for the layers above.
    """

    ctx: Context
    catalog: CatalogService = field(init=False)
    directory: DirectoryService = field(init=False)
    seats: SeatService = field(init=False)
    operators: OperatorService = field(init=False)
    rules: RuleService = field(init=False)
    audits: AuditService = field(init=False)
    dashboard: DashboardService = field(init=False)
    alerts: AlertService = field(init=False)
    reads: Reads = field(init=False)
    ledger: LedgerService = field(init=False)
    settings: SettingsService = field(init=False)
    renewals: RenewalService = field(init=False)
    reviews: ReviewService = field(init=False)
    reclaim: ReclaimService = field(init=False)
    _imports: ImportService | None = field(init=False, default=None, repr=False)
    _position: PositionService | None = field(init=False, default=None, repr=False)
    _usage_history: UsageHistoryService | None = field(init=False, default=None, repr=False)
    _signing: SigningService | None = field(init=False, default=None, repr=False)
    _servers: ServerService | None = field(init=False, default=None, repr=False)
    _review_reports: ReviewReports | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.catalog = CatalogService(self.ctx)
        self.directory = DirectoryService(self.ctx)
        self.seats = SeatService(self.ctx)
        self.operators = OperatorService(self.ctx)
        self.rules = RuleService(self.ctx)
        self.audits = AuditService(self.ctx)
        self.dashboard = DashboardService(self.ctx)
        self.dashboard.audits_due = count_due
        self.dashboard.reviews_open = count_open
        self.dashboard.reclaimed = count_reclaimed
        self.alerts = AlertService(self.ctx)  # runs the alert rules after every change
        self.reads = Reads(self.ctx)
        self.ledger = LedgerService(self.ctx.db, self.ctx)
        self.settings = SettingsService(self.ctx)
        self.renewals = RenewalService(self.ctx)
        self.reviews = ReviewService(self.ctx, self.seats)
        self.reclaim = ReclaimService(self.ctx, self.seats)

    @property
    def imports(self) -> ImportService:
        """Imports; the file readers they use are loaded on first use, not at start-up."""
        if self._imports is None:
            from seatledger.services.imports.service import ImportService  # noqa: PLC0415

            self._imports = ImportService(self.ctx)
        return self._imports

    @property
    def position(self) -> PositionService:
        """The license position and its findings (loaded on first use)."""
        if self._position is None:
            from seatledger.services.position.engine import PositionService  # noqa: PLC0415

            self._position = PositionService(self.ctx)
        return self._position

    @property
    def usage_history(self) -> UsageHistoryService:
        """Seats and usage over time (loaded on first use)."""
        if self._usage_history is None:
            from seatledger.services.usage.history import UsageHistoryService  # noqa: PLC0415

            self._usage_history = UsageHistoryService(self.ctx)
        return self._usage_history

    @property
    def review_reports(self) -> ReviewReports:
        """Closed access review campaigns' signed reports (loaded on first use)."""
        if self._review_reports is None:
            from seatledger.services.reviews.signed import ReviewReports  # noqa: PLC0415

            self._review_reports = ReviewReports(self.ctx)
        return self._review_reports

    @property
    def signing(self) -> SigningService:
        """The organization's signing key (loaded on first use: it brings in the cryptography)."""
        if self._signing is None:
            from seatledger.services.audits.signing import SigningService  # noqa: PLC0415

            self._signing = SigningService(self.ctx)
        return self._signing

    @property
    def servers(self) -> ServerService:
        """Server topology imports and the server position (loaded on first use)."""
        if self._servers is None:
            from seatledger.services.servers.service import ServerService  # noqa: PLC0415

            self._servers = ServerService(self.ctx)
        return self._servers

    def backup(self, target: Path) -> str:
        """Copy the whole database to ``target`` (administrators), recorded in the ledger.

        The copy holds everything (operators' password hashes and the sealed keys included), so
        taking one is an administrator's action and a ledger entry: file name and SHA-256, which
        is returned.  The entry comes after the copy, which therefore does not hold it.

        Raises:
            PermissionDenied: the operator is not an administrator.
            DatabaseError: the copy cannot be written.
        """
        self.ctx.require(Permission.MANAGE_SETTINGS, "back up the database")
        digest = self.db.copy_to(target)
        with self.ctx.change(
            Permission.MANAGE_SETTINGS, "database.backup", "database", "back up the database"
        ) as change:
            change.entity_id = "backup"
            change.after = {"file": target.name, "sha256": digest}
        return digest

    def subscribe(self, subscriber: Callable[[frozenset[str]], None]) -> Callable[[], None]:
        """Hear about every change this session commits; returns what unsubscribes.

        ``subscriber`` is called once per committed transaction with the entity types of the
        ledger entries it committed (``{"entitlement"}``, ``{"person"}``…), on the thread that
        made the change; nothing is told about a change that rolled back.
        """
        return self.ctx.subscribe(subscriber)

    @classmethod
    def for_actor(cls, db: Database, actor: Actor, clock: Clock = utc_now) -> Services:
        """Services acting as ``actor``."""
        return cls(Context(db, actor, clock))

    @classmethod
    def reader(cls, db: Database) -> Services:
        """Services for reading without signing in (read-only commands, first-run checks)."""
        return cls(Context.reader(db))

    @property
    def actor(self) -> Actor:
        """Who is signed in."""
        return self.ctx.actor

    @property
    def db(self) -> Database:
        """The open database."""
        return self.ctx.db


def read_setting(db: Database, key: str, default: str = "") -> str:
    """A database-wide setting, read without signing in."""
    with db.read() as session:
        value = session.scalar(select(Setting.value).where(Setting.key == key))
    return default if value is None else value
