"""The password policy wherever a password is set, and the wait after repeated failed sign-ins."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from conftest import PASSWORD, ledger_size
from seatledger.domain import passwords
from seatledger.domain.roles import Role
from seatledger.errors import AuthenticationError, SignInDelayed, ValidationError
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.store.db import Database
from seatledger.store.models import LedgerEntry, Operator

GOOD = "trellis harbor quiet 42"


class Clock:
    """A clock a test moves by hand (UTC)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def refusal(action: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        action()
    assert info.value.field == "Password"
    return info.value


# ------------------------------------------------------------------------------------- policy


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1234", "The password has 4 characters and needs at least 12."),
        ("aaaaaaaaaaaaaaaa", 'The password is too easy to guess. Repeats like "aaa"'),
        ("password1234", "The password is too easy to guess. This is a very common password."),
        ("qwertyuiopasdf", "The password is too easy to guess."),
        ("Jane.Smith-Jones", "The password is the full name with trivial changes"),
        ("janesmithjones1984", "The password is the full name with trivial changes"),
        ("Administrator", "The password is the operator name with trivial changes"),
        ("ROTARTSINIMDA", "The password is the operator name with trivial changes"),
        ("administrator2026!", "The password is the operator name with trivial changes"),
    ],
)
def test_a_new_operator_with_a_weak_password_is_refused(
    admin: Services, password: str, why: str
) -> None:
    before = ledger_size(admin.db)
    error = refusal(
        lambda: admin.operators.create(
            "administrator", "Jane Smith-Jones", Role.ADMINISTRATOR, password
        )
    )
    assert str(error).startswith(why)
    # It says what would pass, too (zxcvbn's suggestions, or ours).
    assert "word" in str(error)
    assert [o.name for o in admin.operators.list()] == ["admin"]
    assert ledger_size(admin.db) == before


def test_a_password_of_unrelated_words_is_accepted(admin: Services) -> None:
    new = admin.operators.create("jsmith", "Jane Smith", Role.VIEWER, GOOD)
    assert operators.sign_in(admin.db, "jsmith", GOOD).id == new


def test_the_first_administrator_and_every_reset_follow_the_policy(database: Database) -> None:
    refusal(lambda: operators.create_first_administrator(database, "admin", "", "admin1234567"))
    assert not operators.has_operators(database)
    actor = operators.create_first_administrator(database, "admin", "Ada Admin", PASSWORD)
    admin = Services.for_actor(database, actor)
    viewer = admin.operators.create("vic", "Vic Viewer", Role.VIEWER, GOOD)
    # An administrator's reset, and one's own change.
    error = refusal(lambda: admin.operators.set_password(viewer, "Vic Viewer 2026"))
    assert "full name" in str(error)
    assert "needs at least 12" in str(
        refusal(lambda: admin.operators.set_password(actor.id, "1234"))
    )
    vic = Services.for_actor(database, operators.sign_in(database, "vic", GOOD))
    refusal(lambda: vic.operators.set_password(viewer, "aaaaaaaaaaaaaaaa"))
    vic.operators.set_password(viewer, "amber kettle wander 9")
    assert operators.sign_in(database, "vic", "amber kettle wander 9").name == "vic"


def test_a_password_set_before_the_policy_still_signs_in_with_a_note(admin: Services) -> None:
    with admin.db.write() as session:  # as an older SeatLedger stored it
        session.execute(update(Operator).values(password_hash=operators.hash_password("1234")))
    actor = operators.sign_in(admin.db, "admin", "1234")
    assert actor.role is Role.ADMINISTRATOR
    note = operators.outdated_password(admin.db, actor, "1234")
    assert note.startswith("The password has 4 characters and needs at least 12.")
    assert operators.outdated_password(admin.db, actor, PASSWORD) == ""


def test_the_window_tells_who_signs_in_with_an_outdated_password(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path / "old.sqlite")
    workspace.create_administrator("admin", "", PASSWORD)
    workspace.sign_in("admin", PASSWORD)
    assert workspace.password_note == ""
    workspace.close()
    db, _ = Database.open(tmp_path / "old.sqlite")
    with db.write() as session:
        session.execute(update(Operator).values(password_hash=operators.hash_password("demo")))
    db.dispose()
    workspace = Workspace.open(tmp_path / "old.sqlite")
    workspace.sign_in("admin", "demo")
    assert "needs at least 12" in workspace.password_note
    workspace.close()


# -------------------------------------------------------------------------------------- delay


def failed_entries(db: Database) -> list[dict[str, Any]]:
    """The 'after' of every failed sign-in in the ledger, oldest first."""
    with db.read() as session:
        bodies = session.scalars(
            select(LedgerEntry.body)
            .where(LedgerEntry.action == "operator.sign_in_failed")
            .order_by(LedgerEntry.seq)
        ).all()
    return [json.loads(bytes(body))["what"]["after"] for body in bodies]


def attempt(db: Database, password: str, clock: Clock, program: str = operators.WINDOW) -> str:
    """Sign in as admin; what was said ('' when signed in)."""
    try:
        operators.sign_in(db, "admin", password, program=program, clock=clock)
    except AuthenticationError as exc:
        return str(exc)
    return ""


WRONG = "Wrong operator name or password for 'admin'."


def test_repeated_failures_wait_longer_each_time_and_a_success_resets(admin: Services) -> None:
    clock, db = Clock(), admin.db
    start = ledger_size(db)
    for _ in range(passwords.FREE_FAILURES):
        assert attempt(db, "wrong guess", clock) == WRONG
        clock.advance(0.1)
    # The 4th waits a second from the 3rd, and is refused unchecked: the right password too.
    assert attempt(db, PASSWORD, clock) == (
        "Too many failed sign-ins for 'admin'; try again in 1 s."
    )
    assert attempt(db, "other guess", clock).startswith("Too many failed sign-ins")
    with pytest.raises(SignInDelayed) as info:
        operators.sign_in(db, "admin", PASSWORD, clock=clock)
    assert info.value.seconds == 1
    # Past the wait the password is checked again; another failure doubles the wait.
    clock.advance(1)
    assert attempt(db, "wrong guess", clock) == WRONG
    clock.advance(1.5)
    assert attempt(db, PASSWORD, clock) == (
        "Too many failed sign-ins for 'admin'; try again in 1 s."
    )
    clock.advance(0.5)
    assert attempt(db, "wrong guess", clock) == WRONG
    assert [o.failed_sign_ins for o in admin.operators.list()] == [5]
    clock.advance(4)
    assert attempt(db, PASSWORD, clock, operators.COMMAND_LINE) == ""
    assert [o.failed_sign_ins for o in admin.operators.list()] == [0]
    # After the success the count starts again: a failure costs nothing more than the first.
    assert attempt(db, "wrong guess", clock) == WRONG
    assert attempt(db, PASSWORD, clock) == ""

    # Every checked failure is in the ledger with its program; the refused attempts are not.
    assert failed_entries(db) == [
        {"name": "admin", "program": "window", "failures": 1, "next_wait_s": 0},
        {"name": "admin", "program": "window", "failures": 2, "next_wait_s": 0},
        {"name": "admin", "program": "window", "failures": 3, "next_wait_s": 1},
        {"name": "admin", "program": "window", "failures": 4, "next_wait_s": 2},
        {"name": "admin", "program": "window", "failures": 5, "next_wait_s": 4},
        {"name": "admin", "program": "window", "failures": 1, "next_wait_s": 0},
    ]
    with db.read() as session:
        rows = session.execute(
            select(LedgerEntry.operator, LedgerEntry.action, LedgerEntry.ts)
            .where(LedgerEntry.seq > start)
            .order_by(LedgerEntry.seq)
        ).all()
    assert [(operator, action) for operator, action, _ in rows] == [
        *[("admin", "operator.sign_in_failed")] * 5,
        ("admin", "operator.sign_in"),  # the success that ended the series
        ("admin", "operator.sign_in_failed"),
        ("admin", "operator.sign_in"),
    ]
    assert rows[0].ts == "2026-12-07T09:00:00.000000Z"


def test_the_last_administrator_gets_back_in_after_the_longest_wait(admin: Services) -> None:
    clock, db = Clock(), admin.db
    waits = []
    for _ in range(30):  # a guesser who waits out every delay
        assert attempt(db, "wrong guess", clock) == WRONG
        waits.append(int(passwords.delay(len(waits) + 1).total_seconds()))
        clock.advance(waits[-1])
    assert waits[:12] == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert set(waits[11:]) == {300}  # capped at five minutes, never a lockout
    assert attempt(db, PASSWORD, clock) == ""
    # 30 guesses in about two hours, one ledger entry each.
    assert len(failed_entries(db)) == 30


def test_an_administrator_reset_ends_the_wait(admin: Services) -> None:
    clock = Clock()
    bob = admin.operators.create("bob", "", Role.LICENSE_MANAGER, GOOD)
    for _ in range(6):
        with pytest.raises(AuthenticationError):
            operators.sign_in(admin.db, "bob", "wrong guess", clock=clock)
    with pytest.raises(SignInDelayed):
        operators.sign_in(admin.db, "bob", GOOD, clock=clock)
    admin.operators.set_password(bob, "amber kettle wander 9")
    assert operators.sign_in(admin.db, "bob", "amber kettle wander 9", clock=clock).id == bob


def test_unknown_names_never_wait_nor_grow_the_ledger(admin: Services) -> None:
    clock, before = Clock(), ledger_size(admin.db)
    for _ in range(10):
        with pytest.raises(AuthenticationError) as info:
            operators.sign_in(admin.db, "mallory", "guess", clock=clock)
        assert not isinstance(info.value, SignInDelayed)
    assert ledger_size(admin.db) == before


def test_the_delay_lives_in_the_database(admin: Services, db_url: str) -> None:
    """A second program (here a second connection) sees the first one's failures."""
    clock = Clock()
    for _ in range(passwords.FREE_FAILURES):
        attempt(admin.db, "wrong guess", clock, operators.COMMAND_LINE)
    other, _ = Database.open(db_url)
    try:
        with pytest.raises(SignInDelayed, match="try again in 1 s"):
            operators.sign_in(other, "admin", PASSWORD, clock=clock)
    finally:
        other.dispose()
