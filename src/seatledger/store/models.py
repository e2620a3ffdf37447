"""The relational schema: typed SQLAlchemy 2 ORM entities.

Schema changes go through Alembic migrations in ``store/migrations``; this module is what the
newest migration produces (a test compares them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from seatledger.store.base import Base


class Operator(Base):
    """A person using SeatLedger, with a role and an Argon2id password hash."""

    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Consecutive failed sign-ins since the last success, and when the last one was: what makes
    # the next attempt wait, in the database so that it holds across processes.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_failed_sign_in: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Vendor(Base):
    """A software publisher licenses are bought from."""

    __tablename__ = "vendor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    website: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    products: Mapped[list[Product]] = relationship(back_populates="vendor")


class Product(Base):
    """A licensable software title."""

    __tablename__ = "product"
    __table_args__ = (Index("uq_product_vendor_name", "vendor_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")

    vendor: Mapped[Vendor] = relationship(back_populates="products")


class Entitlement(Base):
    """A purchase: rights to a product under a metric, for a term.

    ``seats_used`` is the sum of units of open assignments, kept by the seat service in the same
    transaction as each assignment so lists can sort on it without aggregating a million seats.
    """

    __tablename__ = "entitlement"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonnegative"),
        CheckConstraint("seats_used >= 0", name="used_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    metric: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    min_cores_per_processor: Mapped[int] = mapped_column(Integer, default=0)
    term_start: Mapped[dt.date | None] = mapped_column(Date, index=True)
    term_end: Mapped[dt.date | None] = mapped_column(Date, index=True)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    po_reference: Mapped[str] = mapped_column(String(200), default="")
    reseller: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    seats_used: Mapped[int] = mapped_column(Integer, default=0, index=True)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    core_factor: Mapped[Decimal] = mapped_column(
        Numeric(6, 3), default=Decimal(1), server_default=text("1")
    )
    # Units per core by processor ("Xeon=0.5; POWER10=1"); None: the core factor for every core.
    unit_table: Mapped[str | None] = mapped_column(Text)
    # Days before the term ends that remind ("180, 90, 30"); None: the organization's.
    notice_days: Mapped[str | None] = mapped_column(String(64))
    cancel_by: Mapped[dt.date | None] = mapped_column(Date)  # the vendor's cancellation deadline
    # The import whose row made it or last changed it, and that row's line (0029); None: by hand
    # (its ledger entry says who), or imported before lines were kept.
    import_id: Mapped[int | None] = mapped_column(Integer)
    source_line: Mapped[int | None] = mapped_column(Integer)

    product: Mapped[Product] = relationship()


class Team(Base):
    """A team or cost centre people belong to."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    cost_centre: Mapped[str] = mapped_column(String(64), default="")


class Person(Base):
    """Someone seats are assigned to."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(320), default="", index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("team.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    date_left: Mapped[dt.date | None] = mapped_column(Date)
    date_joined: Mapped[dt.date | None] = mapped_column(Date)  # from HR; None: not given
    # The last HR import that listed this person; a full HR export that no longer does flags them.
    seen_import_id: Mapped[int | None] = mapped_column(Integer)
    # The import whose line last set the person's own fields, and the line (0029); None: set by
    # hand, or before lines were kept.
    source_import_id: Mapped[int | None] = mapped_column(Integer)
    source_line: Mapped[int | None] = mapped_column(Integer)
    # The directory's account state (0030): True disabled, False enabled, None no directory
    # import has said.  HR decides employment; an employed person whose account is disabled
    # and who holds seats is a finding of its own.  The import and line that first said the
    # state as it is now (a later import saying the same keeps them: "disabled since").
    account_disabled: Mapped[bool | None] = mapped_column(Boolean)
    account_import_id: Mapped[int | None] = mapped_column(Integer)
    account_line: Mapped[int | None] = mapped_column(Integer)

    team: Mapped[Team | None] = relationship()


class PersonTeam(Base):
    """A person's place in the organization from ``valid_from`` until the day before
    ``valid_to``: their team, and the manager and cost centre they had with it.

    A person's periods do not overlap; the one with no ``valid_to`` is their current team
    (``person.team_id``), manager and cost centre.  A NULL ``valid_from`` means "since before
    anything was recorded".  By-team figures for a day use the period valid on it, not today's.
    """

    __tablename__ = "person_team"
    __table_args__ = (
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_from < valid_to", name="valid_range"
        ),
        Index("ix_person_team_person", "person_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)  # None: always
    valid_to: Mapped[dt.date | None] = mapped_column(Date)  # None: still
    # None: no manager recorded (the HR export gave none, or predates migration 0024)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    cost_centre: Mapped[str] = mapped_column(String(100), default="", server_default=text("''"))


class Device(Base):
    """A computer seats can be assigned to."""

    __tablename__ = "device"
    __table_args__ = (
        CheckConstraint("processors >= 0", name="processors_nonnegative"),
        CheckConstraint("cores >= 0", name="cores_nonnegative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), unique=True)
    serial: Mapped[str] = mapped_column(String(128), default="", index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    # None: no file or person has said (never an invented figure).
    processors: Mapped[int | None] = mapped_column(Integer)
    cores: Mapped[int | None] = mapped_column(Integer)
    processor_model: Mapped[str | None] = mapped_column(String(200))  # None: not given
    os: Mapped[str] = mapped_column(String(100), default="")
    last_seen: Mapped[dt.date | None] = mapped_column(Date)
    # The import whose line last set the device's own fields, and the line (0029); None: set by
    # hand, or before lines were kept.
    source_import_id: Mapped[int | None] = mapped_column(Integer)
    source_line: Mapped[int | None] = mapped_column(Integer)

    owner: Mapped[Person | None] = relationship()


class SeatAssignment(Base):
    """One assignment of an entitlement's rights to a person or a device, from start to end."""

    __tablename__ = "seat_assignment"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (device_id IS NULL)", name="exactly_one_holder"),
        CheckConstraint("units >= 1", name="units_positive"),
        Index("ix_seat_open_person", "entitlement_id", "person_id", "ended_at"),
        Index("ix_seat_open_device", "entitlement_id", "device_id", "ended_at"),
        Index("ix_seat_person", "person_id"),
        Index("ix_seat_device", "device_id"),
        # Open seats of given people without reading the rows (the dashboard's count of seats
        # held by people who left: 263 ms cold -> 9 ms on the large demo); added by 0004.
        Index("ix_seat_person_open", "person_id", "ended_at", "entitlement_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entitlement_id: Mapped[int] = mapped_column(ForeignKey("entitlement.id", ondelete="RESTRICT"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="RESTRICT"))
    units: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by: Mapped[int] = mapped_column(ForeignKey("operator.id", ondelete="RESTRICT"))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("operator.id", ondelete="RESTRICT"))
    over_commit: Mapped[bool] = mapped_column(Boolean, default=False)
    over_commit_reason: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # The import whose row made the seat, and that row's line (0029); None: assigned by hand
    # (the ledger entry at ``started_at`` by ``assigned_by`` says so).
    import_id: Mapped[int | None] = mapped_column(Integer)
    source_line: Mapped[int | None] = mapped_column(Integer)


class LedgerEntry(Base):
    """One append-only, hash-chained activity record.  Triggers refuse UPDATE and DELETE."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_operator_seq", "operator", "seq"),
        Index("ix_ledger_action_seq", "action", "seq"),
        Index("ix_ledger_entity_seq", "entity_type", "seq"),
        Index("ix_ledger_entity_id_seq", "entity_type", "entity_id", "seq"),
        Index("ix_ledger_ts", "ts"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    ts: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The size and head hash recorded with every append, so a truncated tail is noticed."""

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, server_default=text("1"))
    size: Mapped[int] = mapped_column(BigInteger)
    head: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The Merkle tree's right edge at ``size`` (domain.merkle.Frontier.to_bytes): appending is
    # O(log n) and the root is read from it.  Null only in a ledger written before 0016.
    frontier: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class LedgerCommitment(Base):
    """What one committed personal field of the ledger hides (domain.commitments) and its salt:
    kept for the organization's own screens and for opening it to a vendor.  Deleting a field's
    rows erases the value and its salt from the readable history; the chain still verifies.
    ``salt`` is null only where an upgrade found no key to derive it from (0020)."""

    __tablename__ = "ledger_commitment"
    __table_args__ = (Index("ix_ledger_commitment_entity", "entity_type", "entity_id"),)

    commitment: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)  # canonical JSON of the value
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)


class LedgerBlock(Base):
    """The Merkle root of each complete block of 32 ledger entries (append-only, like the
    ledger): proofs over millions of entries are built from these and the entries themselves."""

    __tablename__ = "ledger_block"

    idx: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Setting(Base):
    """Database-wide settings (organization name, demo flag)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ImportBatch(Base):
    """One committed import: which file, by whom, and what it changed."""

    __tablename__ = "import_batch"
    __table_args__ = (Index("ix_import_batch_kind_sha", "kind", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    @classmethod
    def begun(
        cls,
        session: Session,
        *,
        kind: str,
        file_name: str,
        sha256: str,
        format: str,
        operator: str,
        at: dt.datetime,
        rows: int = 0,
    ) -> ImportBatch:
        """A new batch in ``session``, flushed so that its id can be referred to; its counts
        are zero but ``rows`` (those read, filled in as the import goes)."""
        batch = cls(
            kind=kind,
            file_name=file_name[:500],
            sha256=sha256,
            format=format[:64],
            rows=rows,
            inserted=rows,
            updated=0,
            unchanged=0,
            flagged=0,
            operator=operator,
            imported_at=at,
        )
        session.add(batch)
        session.flush()
        return batch


class ImportMapping(Base):
    """A saved column mapping for a file layout SeatLedger does not recognize by itself."""

    __tablename__ = "import_mapping"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    columns: Mapped[str] = mapped_column(Text)  # canonical JSON: field -> header


class SoftwareTitle(Base):
    """A distinct publisher, title and version as discovery tools report it, and its product.

    Inventories repeat the same few thousand titles over millions of installs, so installs point
    here and normalization rules only ever re-map these rows.
    """

    __tablename__ = "software_title"
    __table_args__ = (Index("uq_software_title_raw", "publisher", "title", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publisher: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(500))
    version: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("product.id", ondelete="SET NULL"), index=True
    )


class Installation(Base):
    """A software title found on a device, from the first import that saw it until removed."""

    __tablename__ = "installation"
    __table_args__ = (
        # One open install per device and title; removed ones stay as history.
        Index(
            "uq_installation_device_title",
            "device_id",
            "title_id",
            unique=True,
            sqlite_where=text("removed_on IS NULL"),
            postgresql_where=text("removed_on IS NULL"),
        ),
        Index("ix_installation_title", "title_id", "first_seen", "removed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="RESTRICT"))
    title_id: Mapped[int] = mapped_column(ForeignKey("software_title.id", ondelete="RESTRICT"))
    first_seen: Mapped[dt.date] = mapped_column(Date)
    removed_on: Mapped[dt.date | None] = mapped_column(Date)
    install_date: Mapped[dt.date | None] = mapped_column(Date)
    import_id: Mapped[int] = mapped_column(Integer)  # the import that first listed it
    # That import's line (the last row listing the pair); None: imported before 0026 recorded it.
    source_line: Mapped[int | None] = mapped_column(Integer)


class UsageSession(Base):
    """One license-server checkout (or a usage record): who used which feature, when."""

    __tablename__ = "usage_session"
    __table_args__ = (
        Index(
            "uq_usage_session",
            "feature",
            "user_name",
            "host",
            "checkout",
            "server",
            "handle",
            unique=True,
        ),
        Index("ix_usage_product_checkout", "product_id", "checkout"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feature: Mapped[str] = mapped_column(String(200))
    user_name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(255))
    checkout: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    checkin: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    units: Mapped[int] = mapped_column(Integer, default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    import_id: Mapped[int] = mapped_column(Integer)
    # A license server's "host/port" and its handle of the checkout ("" for usage files).
    server: Mapped[str] = mapped_column(String(255), default="", server_default=text("''"))
    handle: Mapped[str] = mapped_column(String(32), default="", server_default=text("''"))
    # The last snapshot that showed the checkout open (None for usage files, which date both ends).
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The line of ``import_id``'s file the checkout was read from (the last import that listed
    # it); None: imported before 0026 recorded it.
    source_line: Mapped[int | None] = mapped_column(Integer)


class UsageDenial(Base):
    """A checkout a license server refused, from its debug log (``DENIED:``).

    ``capacity`` is true where the pool was too small ("Licensed number of users already
    reached", -4): evidence that more people needed the feature at once than it allows.  Other
    refusals (an EXCLUDE list, an expired feature) are kept with their reason.  ``nth`` tells
    apart the same refusal logged twice in one second; ``line`` is the log's line.
    """

    __tablename__ = "usage_denial"
    __table_args__ = (
        Index(
            "uq_usage_denial",
            "feature",
            "user_name",
            "host",
            "denied_at",
            "server",
            "nth",
            unique=True,
        ),
        Index("ix_usage_denial_product", "product_id", "denied_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feature: Mapped[str] = mapped_column(String(200))
    user_name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(255))
    denied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    server: Mapped[str] = mapped_column(String(255), default="", server_default=text("''"))
    nth: Mapped[int] = mapped_column(Integer, default=1)
    capacity: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(500), default="", server_default=text("''"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    import_id: Mapped[int] = mapped_column(Integer)
    line: Mapped[int] = mapped_column(Integer)


class LicenseGrant(Base):
    """A FEATURE or INCREMENT line of a license file, as 'lmutil lmstat -i' listed it.

    Evidence of what a license server can issue, compared with the purchases: the newest import
    for a server replaces that server's grants (the output names no server; the import does).
    """

    __tablename__ = "license_grant"
    __table_args__ = (Index("ix_license_grant_server", "server"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(255))  # PORT@HOST, or the license file read
    vendor_daemon: Mapped[str] = mapped_column(String(200))
    feature: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    count: Mapped[int | None] = mapped_column(Integer)  # None: uncounted
    expires: Mapped[dt.date | None] = mapped_column(Date)  # None: permanent
    line: Mapped[int] = mapped_column(Integer)
    import_id: Mapped[int] = mapped_column(Integer)
    listed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # lmutil's


class NormalizationRule(Base):
    """Maps raw titles (exact, wildcard or regex; optional version range) to a product."""

    __tablename__ = "normalization_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    publisher: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(500))
    version_min: Mapped[str] = mapped_column(String(100), default="")
    version_max: Mapped[str] = mapped_column(String(100), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# The rest of the schema lives in modules of its own (one owner each); importing them here puts
# their tables into ``Base.metadata``.
from seatledger.store import (  # noqa: E402, F401
    models_alerts,
    models_audit,
    models_reviews,
    models_servers,
    models_signing,
    models_statements,
    models_usage,
)
