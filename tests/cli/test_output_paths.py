"""What the program writes replaces the file named, whole, and never writes through a link."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seatledger import cli
from seatledger.paths import replaced

CORPUS = Path(__file__).parents[1] / "upgrade_corpus"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    newest = sorted(CORPUS.glob("S*.sqlite"), key=lambda p: int(p.name[1:].split("-")[0]))[-1]
    target = tmp_path / "demo.sqlite"
    shutil.copyfile(newest, target)
    return target


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_a_chart_written_over_a_symbolic_link_replaces_the_link_not_its_target(
    demo: Path, tmp_path: Path
) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("do not overwrite me")
    link = tmp_path / "chart.png"
    link.symlink_to(precious)
    assert cli.main(["chart", "--db", str(demo), "--out", str(link)]) == cli.EXIT_OK
    assert precious.read_text() == "do not overwrite me"
    assert not link.is_symlink()
    assert link.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chart.png",
        "demo.sqlite",
        "precious.txt",
    ]


def test_a_failed_write_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("old")

    def write_half_then_fail() -> None:
        with replaced(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        write_half_then_fail()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_the_public_key_export_replaces_a_link_too(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "demo")
    monkeypatch.setenv("SEATLEDGER_KEY_PASSPHRASE", "a long enough passphrase")
    args = ["audit", "run", "--db", str(demo), "--operator", "auditor", "--vendor", "Tableau"]
    out = tmp_path / "out"
    assert cli.main([*args, "--attest", "Done.", "--out", str(out), "--charts", "0"]) == 0
    precious = tmp_path / "precious.pem"
    precious.write_text("mine")
    link = tmp_path / "key.pem"
    link.symlink_to(precious)
    assert cli.main(["signing", "show", "--db", str(demo), "--pubkey-out", str(link)]) == 0
    assert precious.read_text() == "mine"
    assert link.read_text().startswith("-----BEGIN PUBLIC KEY-----")
