"""What start-up relies on: the migration head constant, navigation counts, one ledger entry."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from seatledger.errors import NotFoundError
from seatledger.services.ledger.activity import ledger_entry
from seatledger.services.lookups import counts
from seatledger.services.operators.session import Services
from seatledger.store.db import HEAD_REVISION, head_revision


def test_head_constant_matches_alembic() -> None:
    # Opening an up-to-date database trusts this constant instead of importing Alembic.
    assert head_revision() == HEAD_REVISION


def test_opening_an_up_to_date_database_does_not_import_alembic(tmp_path: object) -> None:
    path = f"{tmp_path}/db.sqlite"
    code = (
        "import sys\n"
        "from seatledger.store.db import Database\n"
        f"Database.open({path!r})[0].dispose()\n"  # creates: Alembic runs
        "for name in [m for m in sys.modules if m.startswith('alembic')]:\n"
        "    del sys.modules[name]\n"
        f"Database.open({path!r})[0].dispose()\n"
        "print(any(m.startswith('alembic') for m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_the_main_window_and_services_load_without_the_heavy_libraries() -> None:
    """Start-up (1.5 s budget) imports what the first page needs; numpy, the charts, the PDF
    and signing stack and the file readers come with the first page or action that uses them."""
    heavy = ["numpy", "pyqtgraph", "reportlab", "pyhanko", "cryptography", "openpyxl"]
    heavy += ["seatledger.ingest", "seatledger.services.audits.bundle.writer"]
    code = (
        "import sys\n"
        "import seatledger.services.operators.workspace, seatledger.ui.main_window, "
        "seatledger.ui.app\n"
        f"print(sorted(h for h in {heavy!r} if h in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_services_load_the_importers_on_first_use(admin: Services) -> None:
    assert admin.imports is admin.imports  # one service per session, made when first asked


def test_counts_match_what_was_created(admin: Services, org: Any) -> None:
    found = counts(admin.ctx)
    assert (found.licenses, found.people, found.devices) == (2, 5, 2)
    admin.seats.assign(org.acrobat, people=org.people[:2])
    assert counts(admin.ctx).ledger == found.ledger + 1


def test_ledger_entry_returns_the_hashed_body(admin: Services, org: Any) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:1], reason="new starter")
    size = counts(admin.ctx).ledger
    entry = ledger_entry(admin.ctx, size)
    assert entry["entry"]["action"] == "seat.assign"
    assert entry["entry"]["what"]["reason"] == "new starter"
    assert entry["entry"]["seq"] == size
    assert len(entry["hash"]) == 64
    assert entry["prev_hash"] == ledger_entry(admin.ctx, size - 1)["hash"]
    with pytest.raises(NotFoundError):
        ledger_entry(admin.ctx, size + 1)


def test_the_start_frame_never_shows_a_password() -> None:
    from seatledger.paths import shown_target

    assert shown_target("postgresql+psycopg://sam:s3cret@db.example:5432/sam") == (
        "postgresql+psycopg://sam:***@db.example:5432/sam"
    )
    assert shown_target("/home/sam/seatledger.sqlite") == "/home/sam/seatledger.sqlite"
