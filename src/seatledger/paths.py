"""Where SeatLedger keeps its data by default (platformdirs), overridable by SEATLEDGER_DB."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path

from seatledger import APP_NAME, ORG_NAME


def data_dir() -> Path:
    """The per-user data folder (created on demand)."""
    return user_data_path(APP_NAME, ORG_NAME, ensure_exists=False)


def default_database() -> str:
    """The database opened when no ``--db`` is given."""
    return os.environ.get("SEATLEDGER_DB") or str(data_dir() / "seatledger.sqlite")
