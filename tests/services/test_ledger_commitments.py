"""Names never enter the ledger in the clear: committed, shown to the organization, erasable,
and opened to a vendor one at a time by an auditor, with a reason, on the record (both engines)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import last_entry
from seatledger.domain.commitments import check_opening
from seatledger.domain.roles import Role
from seatledger.errors import NotFoundError, PermissionDenied, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.directory.service import PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.ledger import activity
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators.session import Services


def _stored_body(admin: Services, seq: int) -> bytes:
    with admin.db.engine.connect() as conn:
        body = conn.execute(text("SELECT body FROM ledger_entry WHERE seq = :s"), {"s": seq})
        return bytes(body.scalar_one())


def test_a_new_persons_name_is_a_commitment_the_organization_still_reads(
    admin: Services,
) -> None:
    person = admin.directory.add_person(PersonInput("E042", "Nia Murphy", "nia@example.com"))
    entry = last_entry(admin.db)
    seq = entry["seq"]
    stored = _stored_body(admin, seq)
    for clear in (b"Nia Murphy", b"nia@example.com", b"E042"):
        assert clear not in stored
    assert entry["after"]["name"]["commit"]
    # What the activity page and the entry dialog show: the names, opened from what is kept.
    row = activity.ActivityQuery(admin.ctx).rows([seq])[seq]
    assert "Nia Murphy" in row[-1]
    shown = activity.ledger_entry(admin.ctx, seq)
    assert shown["entry"]["what"]["after"]["email"] == "nia@example.com"
    assert len(shown["personal_fields_committed"]) == 3
    # Erasing the kept values (a person's right to erasure) leaves a verifying chain and
    # pseudonyms where the names were.
    with admin.db.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM ledger_commitment WHERE entity_type = 'person' AND entity_id = :i"),
            {"i": str(person)},
        )
    assert ledger.verify(admin.db).ok
    shown = activity.ledger_entry(admin.ctx, seq)
    assert shown["entry"]["what"]["after"]["name"].startswith("C-")


def test_an_auditor_opens_one_commitment_with_a_reason_and_it_is_recorded(
    admin: Services, as_role: Callable[[Role], Services]
) -> None:
    admin.directory.add_person(PersonInput("E042", "Nia Murphy", "nia@example.com"))
    after: dict[str, Any] = last_entry(admin.db)["after"]
    digest = after["name"]["commit"]
    auditor = as_role(Role.AUDITOR)
    revealed = auditor.ledger.reveal(digest, "Vendor dispute 2026-44: who holds seat 12")
    assert revealed.value == "Nia Murphy"
    assert check_opening(digest, revealed.salt, "Nia Murphy")
    # The salt opens this field only: the e-mail's commitment is not opened by it.
    assert not check_opening(after["email"]["commit"], revealed.salt, "nia@example.com")
    document = json.loads(revealed.as_json())
    assert document["value"] == "Nia Murphy"
    assert document["commitment"] == digest
    recorded = last_entry(admin.db)
    assert recorded["action"] == "ledger.reveal"
    assert recorded["operator"] == "op-auditor"
    assert recorded["reason"] == "Vendor dispute 2026-44: who holds seat 12"
    assert recorded["after"] == {
        "commitment": digest,
        "entity": recorded["after"]["entity"],
        "field": "name",
    }
    assert "Nia" not in json.dumps(recorded)

    with pytest.raises(PermissionDenied):
        as_role(Role.VIEWER).ledger.reveal(digest, "curious")
    with pytest.raises(ValidationError, match="reason"):
        auditor.ledger.reveal(digest, "  ")
    with pytest.raises(ValidationError, match="64 hexadecimal"):
        auditor.ledger.reveal("abc", "why")
    with pytest.raises(NotFoundError, match="not in this ledger"):
        auditor.ledger.reveal("0" * 64, "why")


def test_an_hr_import_records_the_rows_it_wrote_with_their_names_committed(
    admin: Services, tmp_path: Path
) -> None:
    hr = tmp_path / "hr.csv"
    hr.write_text(
        "Employee ID,Full name,Email\nE900,Zoe Quartermain,zoe.q@example.com\n", encoding="utf-8"
    )
    admin.imports.commit(hr, ImportOptions(Kind.PEOPLE))
    entry = last_entry(admin.db)
    assert entry["action"] == "import.people"
    stored = _stored_body(admin, entry["seq"])
    for clear in (b"Quartermain", b"zoe.q@example.com", b"E900"):
        assert clear not in stored
    [(person_id, row)] = entry["after"]["written"]["person"].items()
    assert row["name"]["commit"]
    # The same commitment as the person's own entries would write, and opened on screen.
    shown = activity.ledger_entry(admin.ctx, entry["seq"])["entry"]["what"]["after"]
    assert shown["written"]["person"][person_id]["name"] == "Zoe Quartermain"
    assert admin.ledger.verify_state().ok  # the replay compares the committed name


def test_salts_are_random_kept_per_field_and_erased_with_the_values(admin: Services) -> None:
    """No key in the database derives the salts: each field's is random, kept beside its value,
    reused by the person's later entries (the same name, the same commitment), and gone with the
    values when they are erased, after which the rows still verify (the field is sealed)."""
    person = admin.directory.add_person(PersonInput("E077", "Ola Berg", "ola@example.com"))
    first = last_entry(admin.db)["after"]
    admin.directory.add_person(PersonInput("E078", "Ola Berg", "ola@example.com"))
    other = last_entry(admin.db)["after"]
    assert first["name"] != other["name"]  # another person: another salt
    with admin.db.engine.connect() as conn:
        keys = conn.execute(text("SELECT key FROM setting")).scalars().all()
        salts = conn.execute(
            text(
                "SELECT field, salt FROM ledger_commitment WHERE entity_type = 'person' "
                "AND entity_id = :i"
            ),
            {"i": str(person)},
        ).all()
    assert "commitment_key" not in keys
    assert {field for field, _salt in salts} == {"name", "email", "employee_id"}
    assert len({bytes(s) for _field, s in salts}) == 3  # a salt of its own per field
    compared = admin.ledger.verify_state()
    assert compared.ok
    assert compared.sealed == 0  # every committed field compared with its kept salt
    with admin.db.engine.begin() as conn:  # someone renames the person outside SeatLedger
        conn.execute(text("UPDATE person SET name = 'Ola Borg' WHERE id = :i"), {"i": person})
    assert not admin.ledger.verify_state().ok
    with admin.db.engine.begin() as conn:
        conn.execute(text("UPDATE person SET name = 'Ola Berg' WHERE id = :i"), {"i": person})
        conn.execute(
            text("DELETE FROM ledger_commitment WHERE entity_type = 'person' AND entity_id = :i"),
            {"i": str(person)},
        )
    erased = admin.ledger.verify_state()
    assert erased.ok
    assert erased.sealed == 3  # the erased person's fields: sealed, not compared


def test_a_backup_from_before_salts_were_kept_is_restored_and_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Restoring checks the rows of an older backup as it is (schema 0018): its salts are
    derived from the key it still holds, so its committed fields are compared."""
    from seatledger import cli

    corpus = Path(__file__).parents[1] / "upgrade_corpus"
    [older] = corpus.glob("S19-0018-*.sqlite")
    backup = tmp_path / "older.sqlite"
    backup.write_bytes(older.read_bytes())
    restored = tmp_path / "restored.sqlite"
    assert cli.main(["restore", str(backup), "--db", str(restored)]) == 0
    assert "the ledger verifies" in capsys.readouterr().out
    with sqlite3.connect(restored) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0018",)
