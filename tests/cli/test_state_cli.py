"""``seatledger ledger verify`` compares the rows with the ledger after the chain: a clean demo
verifies, a row changed with raw SQL is named and exits 1, and ``audit run`` refuses to sign it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from seatledger import cli
from seatledger.services.audits import signing


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    assert cli.main(["demo", "--db", str(path), "--size", "small"]) == cli.EXIT_OK
    return path


def _copy(demo_file: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(demo_file.read_bytes())
    return copy


def _sql(path: Path, statement: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(statement)


def test_a_clean_demo_verifies_row_by_row(
    demo_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert cli.main(["ledger", "verify", "--db", str(demo_file)]) == cli.EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Ledger intact: ")
    assert out[1].startswith("State verified: ")
    assert "rows are what the ledger's" in out[1]
    not_compared = [line for line in out if "not compared" in line]
    assert not_compared == [  # the demo records every field but one
        "  operator.full_name: 1 row not compared (no entry recorded this field)"
    ]
    assert any(line.startswith("  not covered: installs") for line in out)


def test_a_row_changed_with_raw_sql_is_named_and_exits_1(
    demo_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _copy(demo_file, tmp_path)
    _sql(db, "UPDATE entitlement SET quantity = quantity + 500 WHERE id = 22")
    _sql(db, "UPDATE device SET cores = 96 WHERE id = 3")
    capsys.readouterr()
    assert cli.main(["ledger", "verify", "--db", str(db)]) == cli.EXIT_FAILED
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Ledger intact: ")
    assert out[1].startswith(
        "State BROKEN: 2 differences between the database and the ledger "
        "(1 in device, 1 in entitlement)"
    )
    assert out[2].startswith("  entitlement 22: quantity is ")
    assert out[2].endswith(" in the database, the ledger says " + str(_quantity(db) - 500))
    assert out[3].startswith("  device 3: cores is 96 in the database, the ledger says ")


def _quantity(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT quantity FROM entitlement WHERE id = 22").fetchone()[0])


def test_audit_run_refuses_to_sign_a_changed_state(
    demo_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(signing, "DEFAULT_KDF", signing.TEST_KDF)
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "demo")
    monkeypatch.setenv(signing.PASSPHRASE_ENV, "a long enough passphrase")
    db = _copy(demo_file, tmp_path)
    with sqlite3.connect(db) as conn:
        vendor, entitlement = conn.execute(
            "SELECT v.name, e.id FROM entitlement e JOIN product p ON p.id = e.product_id "
            "JOIN vendor v ON v.id = p.vendor_id ORDER BY e.id LIMIT 1"
        ).fetchone()
    _sql(db, f"UPDATE entitlement SET quantity = quantity + 500 WHERE id = {entitlement}")
    out = tmp_path / "out"
    capsys.readouterr()
    code = cli.main(
        [
            "audit", "run", "--db", str(db), "--operator", "admin", "--vendor", vendor,
            "--attest", "Complete to my knowledge.", "--out", str(out), "--charts", "0",
        ]
    )  # fmt: skip
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "1 row in the scope of this audit is not what the activity ledger says" in err
    assert f"entitlement {entitlement}: quantity is " in err
    assert not out.exists() or not any(out.iterdir())  # nothing signed
