"""What the user chose for one file: shared by the import service and the writers it calls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from seatledger.ingest.formats import Kind
from seatledger.ingest.values import DateOrder


@dataclass(frozen=True)
class ImportOptions:
    """What the user chose for one file."""

    kind: Kind
    mapping: dict[str, str] | None = None  # field key -> header, from the mapping step
    mapping_name: str = ""
    date_order: DateOrder | None = None
    full_export: bool = False  # people: everyone active who is not in the file is flagged
    host: str = ""  # inventory or devices: the one machine a file without host names lists
    # Grants: the license server (PORT@HOST) or license file 'lmstat -i' read; its output names
    # neither, and a newer import of the same one replaces its grants.
    server: str = ""
    # Usage snapshots that print no time (LM-X, lsmon, DSLS): when it was taken, as the user knows
    # it (the license server's time); without it, the latest time the file shows dates it.
    taken_at: dt.datetime | None = None
    # Commit the valid rows; the refused ones go, with their line and reason, to ``rejects``
    # (the default is all or nothing).
    skip_invalid: bool = False
    rejects: Path | None = None
