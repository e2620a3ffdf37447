"""The command line, in-process through ``cli.main`` and as a real ``python -m seatledger``."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import func, select, update

import seatledger
from seatledger import cli
from seatledger.domain.passwords import FREE_FAILURES
from seatledger.services.operators import accounts as operators
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.models import Entitlement, Operator, SeatAssignment, Vendor

ADMIN_PASSWORD = "s3cret-pass-word"
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
ENV_KEYS = ("SEATLEDGER_OPERATOR", "SEATLEDGER_PASSWORD", "SEATLEDGER_NEW_PASSWORD")


@dataclass
class Run:
    code: int
    out: str
    err: str


class Invoke(Protocol):
    def __call__(self, *argv: str) -> Run: ...


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No operator or password in the environment; the default database is a path in tmp."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    default = tmp_path / "default.sqlite"
    monkeypatch.setenv("SEATLEDGER_DB", str(default))
    return default


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], cli_env: Path) -> Invoke:
    """Run ``seatledger ARGV`` in-process; returns the exit status and what it printed."""

    def invoke(*argv: str) -> Run:
        capsys.readouterr()
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return invoke


def _signed_in(
    monkeypatch: pytest.MonkeyPatch, name: str = "admin", password: str = ADMIN_PASSWORD
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", name)
    monkeypatch.setenv("SEATLEDGER_PASSWORD", password)


@pytest.fixture
def team_db(run: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A SQLite database made by ``seatledger init``; the admin is signed in through the env."""
    path = tmp_path / "team.sqlite"
    _signed_in(monkeypatch)
    result = run("init", "--db", str(path), "--full-name", "Ada Admin")
    assert result.code == 0, result.err
    return str(path)


def _ledger_size(db: str) -> int:
    database, _ = Database.open(db, create=False)
    try:
        with database.read() as session:
            return ledger_store.head(session)[0]
    finally:
        database.dispose()


def _count(db: str, model: type) -> int:
    database, _ = Database.open(db, create=False)
    try:
        with database.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        database.dispose()


def _license_line(output: str, license_id: int) -> list[str]:
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] == str(license_id):
            return fields
    raise AssertionError(f"license {license_id} not listed:\n{output}")


# ------------------------------------------------------------------------------------- basics


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"seatledger {seatledger.__version__}\n"


def test_init_creates_database_with_administrator(team_db: str) -> None:
    assert Path(team_db).exists()
    database, _ = Database.open(team_db, create=False)
    try:
        actor = operators.sign_in(database, "admin", ADMIN_PASSWORD)
        assert actor.role.value == "administrator"
        with database.read() as session:
            stored = session.scalar(select(Operator.password_hash))
            full_name = session.scalar(select(Operator.full_name))
        assert stored is not None
        assert stored.startswith("$argon2id$")
        assert full_name == "Ada Admin"
    finally:
        database.dispose()
    assert _ledger_size(team_db) == 1


def test_init_prints_what_it_created(
    run: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _signed_in(monkeypatch, "root")
    path = tmp_path / "fresh.sqlite"
    result = run("init", "--db", str(path))
    assert result.code == 0
    assert result.out == f"Created {path} with administrator root.\n"


def test_init_twice_is_refused(run: Invoke, team_db: str) -> None:
    result = run("init", "--db", team_db)
    assert result.code == 2
    assert "already has operators; sign in instead" in result.err
    assert _ledger_size(team_db) == 1


def test_init_without_operator_creates_no_administrator(run: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    result = run("init", "--db", str(path))
    assert result.code == 2
    assert result.err == "seatledger: Name the operator with --operator or SEATLEDGER_OPERATOR.\n"
    if path.exists():
        assert _count(str(path), Operator) == 0


def test_default_database_comes_from_seatledger_db(
    run: Invoke, monkeypatch: pytest.MonkeyPatch, cli_env: Path
) -> None:
    _signed_in(monkeypatch)
    result = run("init")
    assert result.code == 0, result.err
    assert cli_env.exists()
    assert run("vendor", "add", "Contoso").code == 0
    assert _count(str(cli_env), Vendor) == 1


def test_top_level_db_option_is_honoured(
    run: Invoke, team_db: str, cli_env: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.sqlite"
    created = run("--db", str(other), "init")
    assert (created.code, created.out) == (0, f"Created {other} with administrator admin.\n")
    result = run("--db", team_db, "vendor", "add", "Contoso")
    assert result.code == 0, result.err
    assert _count(team_db, Vendor) == 1
    assert not cli_env.exists()
    listing = run("--db", team_db, "ledger", "verify")
    assert listing.code == 0, listing.err
    assert "Ledger intact: 2 entries" in listing.out


# --------------------------------------------------------------------------- signing in


CHANGING_COMMANDS = [
    ("vendor", "add", "Contoso"),
    ("product", "add", "--vendor", "Contoso", "PDF Studio"),
    (
        "entitlement",
        "add",
        "--vendor",
        "Contoso",
        "--product",
        "PDF Studio",
        "--metric",
        "named_user",
        "--quantity",
        "5",
    ),
    ("person", "add", "E9", "Eve"),
    ("seat", "assign", "1", "--person", "E1"),
    ("seat", "release", "1"),
    ("seat", "release-departed"),
    ("operator", "add", "bob", "--role", "viewer"),
]


def test_changing_commands_need_an_operator(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEATLEDGER_OPERATOR")
    for argv in CHANGING_COMMANDS:
        result = run(*argv, "--db", team_db)
        assert result.code == 2, argv
        assert result.err == (
            "seatledger: Name the operator with --operator or SEATLEDGER_OPERATOR.\n"
        ), argv
    assert _ledger_size(team_db) == 1


def test_changing_commands_refuse_a_wrong_password(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "wrong password")
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "bob lantern harbor")
    monkeypatch.setattr(operators, "utc_now", lambda: NOW)  # the runs follow at once
    for n, argv in enumerate(CHANGING_COMMANDS):
        result = run(*argv, "--db", team_db)
        assert result.code == 2, argv
        if n < FREE_FAILURES:
            assert result.err == "seatledger: Wrong operator name or password for 'admin'.\n"
        else:  # refused unchecked: the password was not even compared
            assert result.err == (
                "seatledger: Too many failed sign-ins for 'admin'; try again in 1 s.\n"
            ), argv
        assert result.out == "", argv
    # The first administrator, then one entry per checked failure; nothing else changed.
    assert _ledger_size(team_db) == 1 + FREE_FAILURES


def test_the_wait_after_failures_holds_from_one_run_to_the_next(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [NOW]
    monkeypatch.setattr(operators, "utc_now", lambda: now[0])
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "wrong password")
    for _ in range(FREE_FAILURES):
        assert run("vendor", "add", "Contoso", "--db", team_db).code == 2
    # Each run is a new process's worth of state: only the database remembers the failures.
    monkeypatch.setenv("SEATLEDGER_PASSWORD", ADMIN_PASSWORD)
    delayed = run("vendor", "add", "Contoso", "--db", team_db)
    assert (delayed.code, delayed.err) == (
        2,
        "seatledger: Too many failed sign-ins for 'admin'; try again in 1 s.\n",
    )
    now[0] += dt.timedelta(seconds=1)
    assert run("vendor", "add", "Contoso", "--db", team_db).code == 0
    assert _count(team_db, Vendor) == 1
    listing = run("ledger", "tail", "--db", team_db)
    failed = [line for line in listing.out.splitlines() if "operator.sign_in_failed" in line]
    assert len(failed) == FREE_FAILURES
    assert all("program: command line" in line for line in failed)


def test_operator_add_and_init_refuse_a_weak_password(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "bob12345")
    result = run("operator", "add", "bob", "--role", "viewer", "--db", team_db)
    assert result.code == 2
    assert result.err.startswith("seatledger: The password has 8 characters and needs at least 12.")
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "bobbobbobbob")
    result = run("operator", "add", "bob", "--role", "viewer", "--db", team_db)
    assert result.err.startswith("seatledger: The password is too easy to guess.")
    assert _count(team_db, Operator) == 1

    path = tmp_path / "weak.sqlite"
    _signed_in(monkeypatch, "administrator", "Administrator2026")
    result = run("init", "--db", str(path))
    assert result.code == 2
    assert result.err.startswith(
        "seatledger: The password is the operator name with trivial changes"
    )
    assert not path.exists()
    _signed_in(monkeypatch, "ada", "aaaaaaaaaaaaaaaaaaaa")
    result = run("init", "--db", str(path), "--full-name", "Ada Admin")
    assert result.err.startswith("seatledger: The password is too easy to guess. Repeats")
    assert not path.exists()


def test_an_operator_changes_their_own_password_and_an_administrator_resets_another(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "violet-harbour-quietly-47")
    assert run("operator", "add", "bob", "--role", "viewer", "--db", team_db).code == 0
    # Bob, a viewer, changes his own password; the policy applies; the old one stops working.
    _signed_in(monkeypatch, "bob", "violet-harbour-quietly-47")
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "short")
    result = run("operator", "password", "--db", team_db)
    assert result.code == 2
    assert "needs at least 12" in result.err
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "copper-lantern-river-2031")
    result = run("operator", "password", "--db", team_db)
    assert result.code == 0, result.err
    assert "Your password is changed" in result.out
    assert run("licenses", "--db", team_db).code == 0  # reads need no password
    assert run("operator", "password", "--db", team_db).code != 0  # the old one is refused
    # A viewer may not reset someone else's; the administrator may.
    _signed_in(monkeypatch, "bob", "copper-lantern-river-2031")
    result = run("operator", "password", "--for", "admin", "--db", team_db)
    assert result.code != 0
    assert "password" in result.err
    _signed_in(monkeypatch)
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "amber-meadow-signal-8842")
    result = run("operator", "password", "--for", "bob", "--db", team_db)
    assert result.code == 0, result.err
    assert "bob's password is changed" in result.out
    result = run("operator", "password", "--for", "nobody", "--db", team_db)
    assert "No operator is named 'nobody'" in result.err


def test_a_password_from_before_the_policy_signs_in_with_a_note(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, _ = Database.open(team_db, create=False)
    try:
        with database.write() as session:
            session.execute(update(Operator).values(password_hash=operators.hash_password("admin")))
    finally:
        database.dispose()
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "admin")
    result = run("vendor", "add", "Contoso", "--db", team_db)
    assert result.code == 0
    assert result.err.startswith(
        "seatledger: Your password predates the password policy and would be refused if set "
        "today; an administrator can reset it. The password has 5 characters"
    )


def test_unknown_operator_gets_the_same_refusal(run: Invoke, team_db: str) -> None:
    result = run("vendor", "add", "Contoso", "--db", team_db, "--operator", "mallory")
    assert result.code == 2
    assert result.err == "seatledger: Wrong operator name or password for 'mallory'.\n"
    assert _count(team_db, Vendor) == 0


def test_missing_password_without_a_terminal(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEATLEDGER_PASSWORD")
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal
    result = run("vendor", "add", "Contoso", "--db", team_db)
    assert result.code == 2
    assert "No password: set SEATLEDGER_PASSWORD or run in a terminal" in result.err
    assert _count(team_db, Vendor) == 0


def test_operator_flag_overrides_the_environment(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "viewer lantern harbor")
    assert run("operator", "add", "vera", "--role", "viewer", "--db", team_db).code == 0
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "viewer lantern harbor")
    result = run("vendor", "add", "Contoso", "--db", team_db, "--operator", "vera")
    assert result.code == 2
    assert result.err == "seatledger: vera is a viewer and may not edit licenses.\n"
    assert _count(team_db, Vendor) == 0


# ------------------------------------------------------------------------------- round trip


def _catalog(run: Invoke, db: str) -> None:
    steps = [
        (("vendor", "add", "Contoso"), "Added vendor 1."),
        (("product", "add", "--vendor", "contoso", "PDF Studio"), "Added product 1."),
        (
            (
                "entitlement", "add", "--vendor", "Contoso", "--product", "PDF Studio",
                "--metric", "named_user", "--quantity", "2", "--start", "2020-01-01",
                "--end", "2099-12-31", "--unit-cost", "12.50", "--currency", "usd", "--po", "PO-77",
            ),
            "Added entitlement 1.",
        ),
        (("person", "add", "E1", "Ada Lovelace", "--email", "ada@example.com"), "Added person 1."),
        (("person", "add", "E2", "Grace Hopper"), "Added person 2."),
        (("person", "add", "E3", "Alan Turing"), "Added person 3."),
    ]  # fmt: skip
    for argv, expected in steps:
        result = run(*argv, "--db", db)
        assert result.code == 0, (argv, result.err)
        assert result.out == expected + "\n"


def test_round_trip_on_both_engines(
    run: Invoke, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signed_in(monkeypatch)
    assert run("init", "--db", db_url).code == 0
    _catalog(run, db_url)

    result = run("seat", "assign", "1", "--person", "E1", "--person", "E2", "--db", db_url)
    assert (result.code, result.out) == (0, "Assigned 2 seats (2 units).\n"), result.err

    listing = run("licenses", "--db", db_url)
    assert listing.code == 0
    assert "Contoso PDF Studio" in listing.out
    fields = _license_line(listing.out, 1)
    assert fields[-4:] == ["2", "2", "0", "2099-12-31"]

    refused = run("seat", "assign", "1", "--person", "E3", "--db", db_url)
    assert refused.code == 2
    assert "allows 2 seats: 2 used, 0 free, 1 needed." in refused.err

    released = run("seat", "release", "1", "--reason", "left the project", "--db", db_url)
    assert (released.code, released.out) == (0, "Released 1 seat.\n"), released.err
    again = run("seat", "release", "1", "--db", db_url)
    assert again.code == 2
    assert "Seat 1 is already released or does not exist." in again.err

    fields = _license_line(run("licenses", "--db", db_url).out, 1)
    assert fields[-4:] == ["2", "1", "1", "2099-12-31"]

    tail = run("ledger", "tail", "-n", "3", "--db", db_url)
    lines = tail.out.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[0] == "9"
    assert "seat.release" in lines[0]
    assert "left the project" in lines[0]
    assert "seat.bulk_assign" in lines[1]
    assert "person.create" in lines[2]

    verify = run("ledger", "verify", "--db", db_url)
    assert verify.code == 0
    assert "Ledger intact: 9 entries" in verify.out


def test_entitlement_input_errors(run: Invoke, team_db: str) -> None:
    _catalog(run, team_db)
    base = ("entitlement", "add", "--vendor", "Contoso", "--product", "PDF Studio", "--db", team_db)
    unknown = run(*base, "--metric", "per_seat", "--quantity", "1")
    assert unknown.code == 2
    assert "Unknown metric 'per_seat'; use one of named_user, per_device" in unknown.err
    bad_quantity = run(*base, "--metric", "named_user", "--quantity", "lots")
    assert bad_quantity.code == 2
    assert "Quantity must be a whole number, not 'lots'." in bad_quantity.err
    bad_date = run(*base, "--metric", "named_user", "--quantity", "1", "--end", "31/12/2026")
    assert bad_date.code == 2
    assert "End must be a date as YYYY-MM-DD" in bad_date.err
    backwards = run(
        *base,
        "--metric",
        "named_user",
        "--quantity",
        "1",
        "--start",
        "2026-02-01",
        "--end",
        "2026-01-01",
    )
    assert backwards.code == 2
    assert "Term end 2026-01-01 is before term start 2026-02-01" in backwards.err
    no_vendor = run("product", "add", "--vendor", "Nobody", "X", "--db", team_db)
    assert (no_vendor.code, no_vendor.err) == (2, "seatledger: No vendor named 'Nobody'.\n")
    assert _ledger_size(team_db) == 7


def test_a_per_core_purchase_takes_its_factor_and_minimum(run: Invoke, team_db: str) -> None:
    _catalog(run, team_db)
    base = ("entitlement", "add", "--vendor", "Contoso", "--product", "PDF Studio", "--db", team_db)
    core = ("--metric", "per_core", "--quantity", "32")
    half = run(*base, *core, "--core-factor", "0.5", "--min-cores", "16")
    assert (half.code, half.out) == (0, "Added entitlement 2.\n"), half.err
    database, _ = Database.open(team_db, create=False)
    try:
        with database.read() as session:
            stored = session.get(Entitlement, 2)
            assert stored is not None
            assert (stored.core_factor, stored.min_cores_per_processor) == (Decimal("0.5"), 16)
    finally:
        database.dispose()
    wrong = run(*base, *core, "--core-factor", "0")
    assert wrong.code == 2
    assert "Core factor must be from 0.01 to 100, not '0'." in wrong.err
    assert _ledger_size(team_db) == 8  # the refused one wrote nothing


def test_over_commit_is_listed_as_over(
    run: Invoke, team_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _catalog(run, team_db)
    assert run("seat", "assign", "1", "--person", "E1", "--person", "E2", "--db", team_db).code == 0

    no_reason = run("seat", "assign", "1", "--person", "E3", "--over-commit", "--db", team_db)
    assert no_reason.code == 2
    assert "An over-commit needs a reason." in no_reason.err

    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", "manager-pass")
    assert run("operator", "add", "max", "--role", "license_manager", "--db", team_db).code == 0
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "manager-pass")
    manager = run(
        "seat", "assign", "1", "--person", "E3", "--over-commit", "--reason", "x",
        "--db", team_db, "--operator", "max",
    )  # fmt: skip
    assert manager.code == 2
    assert "Only an administrator may assign beyond the purchased limit." in manager.err
    monkeypatch.setenv("SEATLEDGER_PASSWORD", ADMIN_PASSWORD)

    over = run(
        "seat",
        "assign",
        "1",
        "--person",
        "E3",
        "--over-commit",
        "--reason",
        "audit pending",
        "--db",
        team_db,
    )
    assert over.code == 0, over.err
    assert over.out.splitlines()[1] == (
        "Recorded as an over-commit exception: "
        "Contoso PDF Studio allows 2 seats: 2 used, 0 free, 1 needed."
    )

    listing = run("licenses", "--db", team_db)
    fields = _license_line(listing.out, 1)
    assert fields[-5:] == ["2", "3", "-1", "2099-12-31", "OVER"]
    assert _count(team_db, SeatAssignment) == 3


def test_release_departed_with_nobody_departed(run: Invoke, team_db: str) -> None:
    result = run("seat", "release-departed", "--db", team_db)
    assert (result.code, result.err) == (2, "seatledger: No one who left holds a seat.\n")


def test_ledger_tail_on_a_new_database(run: Invoke, team_db: str) -> None:
    result = run("ledger", "tail", "--db", team_db)
    assert result.code == 0
    lines = result.out.splitlines()
    assert len(lines) == 1
    assert "admin" in lines[0]
    assert "operator.create" in lines[0]


# ---------------------------------------------------------------------------- bad databases


READ_COMMANDS = [("licenses",), ("ledger", "verify"), ("ledger", "tail")]


@pytest.mark.parametrize("argv", [*READ_COMMANDS, ("vendor", "add", "Contoso")], ids=" ".join)
def test_db_that_is_not_sqlite(
    run: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    _signed_in(monkeypatch)
    path = tmp_path / "holiday.png"
    content = b"\x89PNG\r\n\x1a\n" + bytes(64)
    path.write_bytes(content)
    result = run(*argv, "--db", str(path))
    assert result.code == 2
    assert result.err.startswith(f"seatledger: {path} is not a SQLite database")
    assert path.read_bytes() == content


@pytest.mark.parametrize("argv", READ_COMMANDS, ids=" ".join)
def test_read_commands_on_a_missing_file(
    run: Invoke, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    path = tmp_path / "typo.sqlite"
    result = run(*argv, "--db", str(path))
    assert result.code == 2
    assert result.err == (
        f"seatledger: {path} does not exist. Create it with 'seatledger init' or the app.\n"
    )
    assert not path.exists()


def test_init_in_a_missing_folder(
    run: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signed_in(monkeypatch)
    target = tmp_path / "nowhere" / "team.sqlite"
    result = run("init", "--db", str(target))
    assert result.code == 2
    assert result.err == f"seatledger: The folder {target.parent} does not exist.\n"
    assert not target.parent.exists()


# -------------------------------------------------------------------------- real processes


def _python_m(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seatledger", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_python_m_seatledger(team_db: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    verified = _python_m("ledger", "verify", "--db", team_db, env=env)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Ledger intact: 1 entry, head ")
    assert verified.stderr == ""


def test_signing_rotate_on_the_command_line_needs_both_passphrases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "org.sqlite")
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", "correct horse battery")
    assert cli.main(["init", "--db", db]) == cli.EXIT_OK
    monkeypatch.setenv("SEATLEDGER_KEY_PASSPHRASE", "the current long passphrase")
    assert cli.main(["signing", "create", "--db", db, "--organization", "Example"]) == cli.EXIT_OK
    monkeypatch.setenv("SEATLEDGER_NEW_KEY_PASSPHRASE", "the next long passphrase")
    assert cli.main(["signing", "rotate", "--db", db, "--reason", "yearly"]) == cli.EXIT_OK
    capsys.readouterr()
    # The next rotation must open the now current identity with its own passphrase.
    assert cli.main(["signing", "rotate", "--db", db, "--reason", "again"]) == cli.EXIT_ERROR
    assert "passphrase" in capsys.readouterr().err.lower()
