"""``seatledger review``: a campaign started, decided by a reviewer within their team, closed
and reported, all from the command line."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.services.audits import signing
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database

PASSWORD = "secret words"


@pytest.fixture
def company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Finance (Fay, Finn) and Sales (Sam) each hold a seat, Fred (Finance) and Sid (Sales)
    none; rita may review."""
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    path = tmp_path / "company.sqlite"
    db, _ = Database.open(path)
    try:
        admin = Services.for_actor(
            db, operators.create_first_administrator(db, "admin", "Ada Admin", PASSWORD)
        )
        admin.operators.create("rita", "Rita Reviewer", Role.REVIEWER, PASSWORD)
        vendor = admin.catalog.add_vendor("Contoso Software")
        product = admin.catalog.add_product(vendor, "PDF Studio")
        license_id = admin.catalog.add_entitlement(
            EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=5)
        )
        finance = admin.directory.add_team("Finance")
        sales = admin.directory.add_team("Sales")
        for n, (name, team) in enumerate([("Fay", finance), ("Finn", finance), ("Sam", sales)]):
            person = admin.directory.add_person(PersonInput(f"E{n}", name, "", team))
            admin.seats.assign(license_id, people=[person])
        admin.directory.add_person(PersonInput("E7", "Fred", "fred@example.com", finance))
        admin.directory.add_person(PersonInput("E8", "Sid", "sid@example.com", sales))
    finally:
        db.dispose()
    return path


def _review(db: Path, operator: str, *args: str) -> int:
    return cli.main(["review", args[0], "--db", str(db), "--operator", operator, *args[1:]])


def test_a_campaign_from_the_command_line(
    company: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    assert _review(company, "admin", "start", "Q1", "--due", due, "--reviewer", "finance=rita") == 0
    assert "Campaign 1 started: Q1, 0 of 3 seats decided" in capsys.readouterr().out
    assert _review(company, "rita", "show", "1") == 0
    shown = capsys.readouterr().out
    assert "Fay" in shown
    assert "Finn" in shown
    assert "Sam" not in shown  # Sales is not rita's
    # Sam's seat is item 3: refused to rita, in the services.
    assert _review(company, "rita", "decide", "1", "3", "--keep") == 2
    assert "rita does not review Sales" in capsys.readouterr().err
    assert _review(company, "rita", "decide", "1", "1", "--release") == 2
    assert "A release needs a reason" in capsys.readouterr().err
    assert _review(company, "rita", "decide", "1", "1", "--release", "--reason", "Unused") == 0
    assert _review(company, "rita", "decide", "1", "--team", "Finance", "--keep") == 0
    assert "1 seat kept" in capsys.readouterr().out
    assert _review(company, "rita", "close", "1") == 2
    assert _review(company, "admin", "close", "1") == 0
    assert "1 seat released, 1 kept, 1 undecided" in capsys.readouterr().out
    out = tmp_path / "q1.csv"
    assert _review(company, "admin", "report", "1", "--out", str(out)) == 0
    with out.open(encoding="utf-8") as handle:
        rows = {r["holder"]: r for r in csv.DictReader(handle)}
    assert (rows["Fay"]["decision"], rows["Fay"]["reviewer"], rows["Fay"]["outcome"]) == (
        "release",
        "rita",
        "released",
    )
    assert rows["Sam"]["outcome"] == "undecided"
    assert _review(company, "admin", "list") == 0
    assert "Closed" in capsys.readouterr().out


def test_a_seat_moved_from_the_command_line(
    company: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    assert _review(company, "admin", "start", "Q1", "--due", due, "--reviewer", "finance=rita") == 0
    capsys.readouterr()
    move = ("decide", "1", "1", "--move-to")
    assert _review(company, "rita", *move, "sid@example.com", "--reason", "x") == 2
    assert "Sid is in Sales, which rita does not review" in capsys.readouterr().err
    assert _review(company, "rita", *move, "nobody@example.com", "--reason", "x") == 2
    assert "Nobody has the employee number or e-mail" in capsys.readouterr().err
    assert _review(company, "rita", "decide", "1", "1", "2", "--move-to", "E7") == 2
    assert "Name one seat to move" in capsys.readouterr().err
    assert _review(company, "rita", *move, "E7") == 2
    assert "A move needs a reason" in capsys.readouterr().err
    assert _review(company, "rita", *move, "E7", "--reason", "Fay left for audit") == 0
    assert "moves to Fred when the campaign closes" in capsys.readouterr().out
    assert _review(company, "rita", "show", "1") == 0
    assert "Move by rita to Fred: Fay left for audit" in capsys.readouterr().out
    assert _review(company, "admin", "close", "1") == 0
    assert "1 moved to another person" in capsys.readouterr().out
    out = tmp_path / "q1.csv"
    assert _review(company, "admin", "report", "1", "--out", str(out)) == 0
    with out.open(encoding="utf-8") as handle:
        rows = {r["holder"]: r for r in csv.DictReader(handle)}
    assert (rows["Fay"]["outcome"], rows["Fay"]["move_to"]) == ("moved", "Fred")
    assert rows["Fay"]["new_seat"] == "4"  # the three seats before it, then Fred's

    # The closed campaign's signed report (the first signing creates the key), verified.
    monkeypatch.setattr(signing, "DEFAULT_KDF", signing.TEST_KDF)
    monkeypatch.setenv("SEATLEDGER_KEY_PASSPHRASE", "a long enough passphrase")
    signed = tmp_path / "signed"
    signed.mkdir()
    assert _review(company, "rita", "report", "1", "--out", str(signed), "--signed") == 2
    assert "may not sign access review reports" in capsys.readouterr().err
    assert list(signed.iterdir()) == []
    assert _review(company, "admin", "report", "1", "--out", str(signed), "--signed") == 0
    said = capsys.readouterr().out
    assert said.startswith("Signed the report of access review 1:")
    [bundle] = signed.glob("*.zip")
    key = bundle.with_suffix("") / "signing-key.pub.pem"  # the folder beside the zip
    assert cli.main(["verify", str(bundle), "--pubkey", str(key)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("Access review campaign report: Access review #1: Q1 (closed on")
    assert said.rstrip().endswith(
        "VERIFIED: the bundle is intact and signed with the key you pinned."
    )
