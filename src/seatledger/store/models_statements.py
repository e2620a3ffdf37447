"""Vendor statements: what a vendor's own report says the organization owns, line by line.

Evidence, not purchases: a Microsoft License Statement (MLS) is Microsoft's record of the
licenses it believes were bought.  Each imported statement keeps its import batch, the file's
SHA-256, the day the vendor calculated it and every line read, so the reconciliation against the
recorded purchases and the computed server requirement can name the file, sheet and line behind
each figure.  Rows are written by statement imports only, each one ledger entry
(``import.statement``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seatledger.store.base import Base

__all__ = ["Base", "VendorStatement", "VendorStatementLine"]


class VendorStatement(Base):
    """One imported statement: which file, what kind, the day its vendor calculated it."""

    __tablename__ = "vendor_statement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # "mls"
    import_id: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    sheet: Mapped[str] = mapped_column(String(100))
    calculated_on: Mapped[dt.date] = mapped_column(Date)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class VendorStatementLine(Base):
    """One line of a statement: a product as the vendor names it, and its quantity."""

    __tablename__ = "vendor_statement_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("vendor_statement.id", ondelete="CASCADE"), index=True
    )
    line: Mapped[int] = mapped_column(Integer)  # the sheet's row
    pool: Mapped[str] = mapped_column(String(100), default="")
    family: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(100), default="")
    quantity: Mapped[int] = mapped_column(Integer)
