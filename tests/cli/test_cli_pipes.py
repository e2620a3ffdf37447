"""A reader that stops early (| head, | true) changes nothing about what a command did."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).parents[1] / "upgrade_corpus"


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    """The newest corpus database (a small demo at head): operators admin etc., password demo."""
    newest = sorted(CORPUS.glob("S*.sqlite"), key=lambda p: int(p.name[1:].split("-")[0]))[-1]
    target = tmp_path / "demo.sqlite"
    shutil.copyfile(newest, target)
    return target


def _piped(args: list[str], reader: list[str]) -> tuple[int, int]:
    """(the command's status, the reader's) with the command's stdout piped into the reader."""
    env = {**os.environ, "SEATLEDGER_OPERATOR": "admin", "SEATLEDGER_PASSWORD": "demo"}
    command = subprocess.Popen(
        [sys.executable, "-m", "seatledger", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert command.stdout is not None
    reading = subprocess.run(reader, stdin=command.stdout, capture_output=True, check=False)
    command.stdout.close()
    return command.wait(60), reading.returncode


@pytest.mark.parametrize("reader", [["true"], ["head", "-n", "1"]])
def test_a_refused_import_fails_whoever_reads_its_output(
    demo_file: Path, tmp_path: Path, reader: list[str]
) -> None:
    bad = tmp_path / "hr.csv"
    bad.write_text("Employee ID,Full name\nE1,Ann Lee\nE2,\n", encoding="utf-8")
    status, _ = _piped(["import", "people", str(bad), "--db", str(demo_file)], reader)
    assert status == 1


@pytest.mark.parametrize("reader", [["true"], ["head", "-n", "1"]])
def test_a_listing_cut_short_by_its_reader_is_still_a_success(
    demo_file: Path, reader: list[str]
) -> None:
    status, _ = _piped(["ledger", "tail", "-n", "3000", "--db", str(demo_file)], reader)
    assert status == 0
