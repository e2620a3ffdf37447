"""Edge cases a careful administrator will hit: forged appends, foreign files, read-only opens."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from seatledger import cli
from seatledger.domain import validation
from seatledger.domain.ledger import GENESIS_HASH, Problem, entry_hash, make_body
from seatledger.errors import LedgerIntegrityError, ValidationError
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators.session import Services
from seatledger.store import ledger_store
from seatledger.store.db import Database


def _forge_entry_beyond_head(db: Database) -> int:
    with db.read() as session:
        size, prev = ledger_store.head(session)
    seq = size + 1
    body = make_body(
        seq=seq,
        ts="2026-01-01T00:00:00.000000Z",
        operator="mallory",
        role="administrator",
        action="vendor.create",
        entity_type="vendor",
        entity_id="99",
        reason="",
        before=None,
        after={"name": "Forged"},
    )
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entry (seq, ts, operator, action, entity_type, entity_id,"
                " body, prev_hash, hash) VALUES (:s, :t, 'mallory', 'vendor.create', 'vendor',"
                " '99', :b, :p, :h)"
            ),
            {
                "s": seq,
                "t": "2026-01-01T00:00:00.000000Z",
                "b": body,
                "p": prev,
                "h": entry_hash(seq, prev, body),
            },
        )
    return seq


def test_an_entry_appended_behind_seatledgers_back_is_named(admin: Services, org: Any) -> None:
    seq = _forge_entry_beyond_head(admin.db)
    verdict = ledger.verify(admin.db)
    assert verdict.failure is not None
    assert verdict.failure.seq == seq
    assert verdict.failure.problem is Problem.UNRECORDED
    # Every later write is refused with a message about the ledger, not a misleading one.
    with pytest.raises(LedgerIntegrityError, match="beyond its recorded head"):
        admin.catalog.add_vendor("Fabrikam")
    assert "Fabrikam" not in [v.name for v in admin.catalog.vendors()]


def test_another_programs_sqlite_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(Exception, match="not a SeatLedger database"):
        Database.open(path)
    assert path.read_bytes() == before  # still in rollback-journal mode, nothing migrated
    assert sorted(os.listdir(tmp_path)) == ["other.sqlite"]


def test_init_with_a_weak_password_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new.sqlite"
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "x")
    assert cli.main(["init", "--db", str(target)]) == cli.EXIT_ERROR
    assert "at least" in capsys.readouterr().err
    assert not target.exists()


def test_reading_an_older_database_does_not_upgrade_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.sqlite"
    Database.open(path)[0].dispose()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0001'")
    conn.commit()
    conn.close()
    assert cli.main(["licenses", "--db", str(path)]) == cli.EXIT_ERROR
    assert "needs an upgrade" in capsys.readouterr().err
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    conn.close()
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == ["old.sqlite"]  # no backup


@pytest.mark.parametrize("text_value", ["1_000", "1e3", "٣", " 12 apples"])
def test_quantities_are_plain_whole_numbers(text_value: str) -> None:
    with pytest.raises(ValidationError, match="whole number"):
        validation.count(text_value, "Quantity")


def test_names_refuse_the_delete_control_character() -> None:
    with pytest.raises(ValidationError, match="control characters"):
        validation.name("Acro\x7fbat", "Product name")


def test_first_entry_chains_to_the_genesis_hash(admin: Services) -> None:
    with admin.db.engine.connect() as conn:
        rows = list(ledger_store.stream(conn, upto=1))
    assert rows[0][7] == GENESIS_HASH


@pytest.mark.parametrize("victim", ["first half", "boundary", "second half"])
def test_verification_in_two_halves_names_the_same_entry(
    admin: Services, org: Any, monkeypatch: pytest.MonkeyPatch, victim: str
) -> None:
    for number in range(30):
        admin.catalog.add_vendor(f"Vendor {number}")
    db = admin.db
    size = ledger.verify(db).entries
    split = size // 2
    monkeypatch.setattr(ledger, "PARALLEL_FROM", 10)
    monkeypatch.setattr(ledger, "can_fork", lambda: True)
    assert ledger.verify(db).ok
    assert ledger.verify(db).entries == size
    seq = {"first half": 3, "boundary": split, "second half": size - 2}[victim]
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("DROP TRIGGER ledger_no_update"))
        else:
            conn.execute(text("DROP TRIGGER ledger_no_update ON ledger_entry"))
        body = conn.execute(
            text("SELECT body FROM ledger_entry WHERE seq = :s"), {"s": seq}
        ).scalar_one()
        conn.execute(
            text("UPDATE ledger_entry SET body = :b WHERE seq = :s"),
            {"b": bytes(body).replace(b'"v":1', b'"v":2'), "s": seq},
        )
    verdict = ledger.verify(db)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (seq, Problem.EDITED)
    monkeypatch.setattr(ledger, "PARALLEL_FROM", 10**9)
    one_pass = ledger.verify(db)
    assert one_pass.failure == verdict.failure


def test_a_body_rewritten_as_text_is_reported_not_a_crash(sqlite_db: Database) -> None:
    from seatledger.services.operators import accounts as operators

    operators.create_first_administrator(sqlite_db, "admin", "Ada", "secret lantern harbor")
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_no_update"))
        conn.execute(text("UPDATE ledger_entry SET body = CAST(body AS TEXT) WHERE seq = 1"))
    verdict = ledger.verify(sqlite_db)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (1, Problem.EDITED)


def test_a_demoted_or_deactivated_operator_loses_rights_at_once(
    admin: Services, as_role: Any
) -> None:
    from seatledger.domain.roles import Role
    from seatledger.errors import PermissionDenied

    manager = as_role(Role.LICENSE_MANAGER)  # signed in, window open
    manager.catalog.add_vendor("Before demotion")
    admin.operators.set_role(manager.actor.id, Role.VIEWER, active=True, reason="moved team")
    with pytest.raises(PermissionDenied, match="viewer"):
        manager.catalog.add_vendor("After demotion")
    admin.operators.set_role(manager.actor.id, Role.LICENSE_MANAGER, active=False)
    with pytest.raises(PermissionDenied, match="no longer an active operator"):
        manager.catalog.add_vendor("After deactivation")
    names = [v.name for v in admin.catalog.vendors()]
    assert "Before demotion" in names
    assert "After demotion" not in names
    assert "After deactivation" not in names


def test_cli_finds_devices_by_host_name_in_any_case(admin: Services) -> None:
    from seatledger.services.directory.service import DeviceInput
    from seatledger.services.lookups import device_ids

    device = admin.directory.add_device(DeviceInput("WS-01"))
    assert device_ids(admin.ctx, ["ws-01", "WS-01 "]) == [device, device]


def test_a_url_that_does_not_parse_is_refused_without_echoing_it() -> None:
    from seatledger.errors import DatabaseError

    with pytest.raises(DatabaseError) as info:
        Database.open("postgresql+psycopg://sam:s3cret@db:port/x")
    assert "s3cret" not in str(info.value)
    assert "neither a file path nor a valid database URL" in str(info.value)
