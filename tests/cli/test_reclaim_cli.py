"""``seatledger reclaim``: a rule, a run, its notices, a keep and the release, from the command
line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database

PASSWORD = "secret words"


@pytest.fixture
def company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Ann and Ben hold PDF Studio seats assigned a year ago and never used."""
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    path = tmp_path / "company.sqlite"
    db, _ = Database.open(path)
    try:
        admin = Services.for_actor(
            db, operators.create_first_administrator(db, "admin", "Ada Admin", PASSWORD)
        )
        vendor = admin.catalog.add_vendor("Contoso Software")
        product = admin.catalog.add_product(vendor, "PDF Studio")
        license_id = admin.catalog.add_entitlement(
            EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=5)
        )
        for n, name in enumerate(("Ann", "Ben")):
            person = admin.directory.add_person(
                PersonInput(f"E{n}", name, f"{name.lower()}@example.com", None)
            )
            admin.seats.assign(license_id, people=[person])
        with db.engine.begin() as conn:  # as if assigned a year ago
            conn.execute(text("UPDATE seat_assignment SET started_at = '2025-01-02 09:00:00'"))
    finally:
        db.dispose()
    return path


def _reclaim(db: Path, *args: str) -> int:
    return cli.main(["reclaim", args[0], "--db", str(db), "--operator", "admin", *args[1:]])


def test_reclaim_from_the_command_line(
    company: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _reclaim(company, "rule", "PDF Studio", "--idle-days", "60", "--grace-days", "0") == 0
    assert _reclaim(company, "run") == 0
    listed = capsys.readouterr().out
    assert "Reclaim run 1: 2 idle seats." in listed
    assert "Ann" in listed
    assert "Ben" in listed
    out = tmp_path / "notices"
    assert _reclaim(company, "notices", "1", "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "notice-0001.eml",
        "notice-0002.eml",
        "notices.csv",
    ]
    assert _reclaim(company, "keep", "1", "2", "--reason", "Ben's manager asked") == 0
    assert _reclaim(company, "finish", "1") == 0
    assert "1 released" in capsys.readouterr().out
    assert cli.main(["reclaim", "list", "--db", str(company)]) == 0
    shown = capsys.readouterr().out
    assert "Run 1 (finished" in shown
    assert "2 candidates, 1 kept, 1 released" in shown
