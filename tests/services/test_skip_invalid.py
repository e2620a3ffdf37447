"""All or nothing stays the default; an explicit choice commits the valid rows while the refused
ones go to a rejects file (the same columns, then line and reason) named in the ledger entry.

Hand count for HR_WITH_TWO_BAD_ROWS (five data rows, lines 2-6):
- line 3 has no name, line 5 an e-mail that is not one: refused;
- lines 2, 4 and 6 are people: 3 new.  3 + 2 = 5 rows, all accounted for.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, last_entry
from seatledger import cli
from seatledger.errors import ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.service import ImportRejected
from seatledger.services.operators.session import Services
from seatledger.store.models import Person

HR_WITH_TWO_BAD_ROWS = (
    "Employee ID,Full Name,Email Address\r\n"
    "E1,Ann Lee,ann@example.com\r\n"
    "E2,,bob@example.com\r\n"
    "E3,Cy Núñez,cy@example.com\r\n"
    "E4,=Dee Ray,not an address\r\n"
    "E5,Eve Moss,eve@example.com\r\n"
)


def _people(admin: Services) -> list[str]:
    with admin.db.read() as session:
        return sorted(session.scalars(select(Person.employee_id)))


def _hr(tmp_path: Path) -> Path:
    path = tmp_path / "hr.csv"
    path.write_text(HR_WITH_TWO_BAD_ROWS, encoding="utf-8")
    return path


def test_all_or_nothing_is_still_the_default(admin: Services, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as caught:
        admin.imports.commit(_hr(tmp_path), ImportOptions(Kind.PEOPLE))
    assert caught.value.total == 2
    assert _people(admin) == []


def test_skip_invalid_commits_the_valid_rows_and_writes_the_refused_ones(
    admin: Services, tmp_path: Path
) -> None:
    rejects = tmp_path / "out" / "hr.rejects.csv"
    rejects.parent.mkdir()
    options = ImportOptions(Kind.PEOPLE, skip_invalid=True, rejects=rejects)
    preview = admin.imports.preview(_hr(tmp_path), options)
    assert (preview.skippable, preview.refused_rows, preview.records) == (True, 2, 3)
    result = admin.imports.commit(_hr(tmp_path), options)

    assert _people(admin) == ["E1", "E3", "E5"]
    assert (result.rows, result.inserted, result.rejected) == (5, 3, 2)
    assert result.summary() == (
        "hr.csv: 5 rows, 3 new, 0 updated, 0 unchanged, 2 refused (written to hr.rejects.csv)."
    )
    data = rejects.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as Excel reads accents
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["Employee ID", "Full Name", "Email Address", "Line", "Reason"]
    assert [r[:4] for r in rows[1:]] == [
        ["E2", "", "bob@example.com", "3"],
        ["E4", "'=Dee Ray", "not an address", "5"],  # a formula stays text
    ]
    assert "Name" in rows[1][4]
    assert "Email" in rows[2][4]
    entry = last_entry(admin.db)
    assert entry["action"] == "import.people"
    assert entry["after"]["rejected"] == {
        "rows": 2,
        "file": "hr.rejects.csv",
        "sha256": hashlib.sha256(data).hexdigest(),
        "lines": [3, 5],
    }


def test_what_cannot_be_skipped_is_refused(admin: Services, tmp_path: Path) -> None:
    rejects = tmp_path / "r.csv"
    inventory = tmp_path / "apps.csv"
    inventory.write_text("Computer Name,Application Title\nPC1,Draw\nPC2,\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="inventory: a refused row would read as software"):
        admin.imports.commit(
            inventory, ImportOptions(Kind.INVENTORY, skip_invalid=True, rejects=rejects)
        )
    with pytest.raises(ValidationError, match="a full HR export flags everyone"):
        admin.imports.commit(
            _hr(tmp_path),
            ImportOptions(Kind.PEOPLE, full_export=True, skip_invalid=True, rejects=rejects),
        )
    no_id = tmp_path / "names.csv"  # no column gives the employee ID: the whole file is wrong
    no_id.write_text("Full Name\nAnn Lee\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="no column feeds"):
        admin.imports.commit(no_id, ImportOptions(Kind.PEOPLE, skip_invalid=True, rejects=rejects))
    assert not rejects.exists()
    with admin.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_the_command_line_skips_invalid_rows_when_asked(
    admin: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    path = _hr(tmp_path)
    url = admin.db.url
    assert cli.main(["import", "people", str(path), "--rejects", "x.csv", "--db", url]) == 2
    assert "give both" in capsys.readouterr().err
    assert (
        cli.main(["import", "people", str(path), "--dry-run", "--skip-invalid", "--db", url]) == 0
    )
    out = capsys.readouterr().out
    assert "2 problems; 2 rows will be refused and written to" in out
    assert "Valid rows: 3 records would be imported, 2 refused (dry run)." in out
    assert not (tmp_path / "hr.rejects.csv").exists()
    assert cli.main(["import", "people", str(path), "--skip-invalid", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "3 new, 0 updated, 0 unchanged, 2 refused (written to hr.rejects.csv)." in out
    assert (tmp_path / "hr.rejects.csv").exists()
    assert _people(admin) == ["E1", "E3", "E5"]
