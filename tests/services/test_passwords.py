"""The password policy wherever a password is set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from conftest import PASSWORD, ledger_size
from seatledger.domain.roles import Role
from seatledger.errors import ValidationError
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.store.db import Database
from seatledger.store.models import Operator

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
