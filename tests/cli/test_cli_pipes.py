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


def _closed(args: list[str]) -> tuple[int, str]:
    """(status, standard error) of the command run with its standard output closed (``>&-``)."""
    env = {**os.environ, "SEATLEDGER_OPERATOR": "admin", "SEATLEDGER_PASSWORD": "demo"}
    command = [sys.executable, "-m", "seatledger", *args]
    done = subprocess.run(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        check=False,
        preexec_fn=lambda: os.close(1),  # the child's standard output, closed before it starts
    )
    return done.returncode, done.stderr.decode()


def test_with_standard_output_closed_the_status_still_says_what_was_done(
    demo_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "hr.csv"
    bad.write_text("Employee ID,Full name\nE1,Ann Lee\nE2,\n", encoding="utf-8")
    status, err = _closed(["import", "people", str(bad), "--db", str(demo_file)])
    assert (status, "Traceback" in err) == (1, False)
    good = tmp_path / "hr-good.csv"
    good.write_text("Employee ID,Full name\nE901,Ann Lee\nE902,Bo Chen\n", encoding="utf-8")
    status, err = _closed(["import", "people", str(good), "--db", str(demo_file)])
    assert (status, "Traceback" in err) == (0, False), err
    status, err = _closed(["ledger", "tail", "-n", "5", "--db", str(demo_file)])
    assert (status, "Traceback" in err) == (0, False), err


def test_a_file_refused_whole_exits_1_like_one_with_problems(
    demo_file: Path, tmp_path: Path
) -> None:
    twice = tmp_path / "lmstat.txt"
    run = (
        "lmutil - Copyright (c) 1989-2019 Flexera. All Rights Reserved.\n"
        "Flexible License Manager status on Mon 3/2/2026 10:00\n"
    )
    twice.write_text(run + "\n" + run, encoding="utf-8")
    status, _ = _piped(["import", "usage", str(twice), "--db", str(demo_file)], ["true"])
    assert status == 1
