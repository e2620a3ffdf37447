"""A person's manager and cost centre from HR exports, with the days they held them.

Hand-made files (every figure below is read off them):

- ``hr1.csv``: M1 (Finance, no manager, CC-100), P1 (Finance, manager m1@example.com by e-mail,
  CC-100), P2 (Sales, manager "m1" by employee number in another case, CC-200).
- ``hr2.csv``, effective 2026-03-01: P1 now reports to M2 (a person this same file adds, on a
  later line) in cost centre CC-300; P2's row is as before; P3 names a manager nobody is.
- ``hr3.csv``: no manager or cost centre column, P1's team unchanged: nothing moves.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import last_entry, ledger_size
from seatledger.domain.roles import Role
from seatledger.errors import ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.directory.queries import PeopleColumn, PeopleQuery
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.service import ImportRejected
from seatledger.services.operators.session import Services
from seatledger.store.models import Person, PersonTeam, Team

HR1 = """Employee ID,Full name,Email,Department,Manager,Cost Center
M1,Mia Manager,m1@example.com,Finance,,CC-100
P1,Pat One,p1@example.com,Finance,m1@example.com,CC-100
P2,Pia Two,p2@example.com,Sales,M1,CC-200
"""

HR2 = """Employee ID,Full name,Email,Department,Manager,Cost Center,Effective date
M1,Mia Manager,m1@example.com,Finance,,CC-100,2026-03-01
P1,Pat One,p1@example.com,Finance,M2,CC-300,2026-03-01
P2,Pia Two,p2@example.com,Sales,M1,CC-200,2026-03-01
P3,Pru Three,p3@example.com,Sales,nobody@example.com,CC-200,2026-03-01
M2,Max Manager,m2@example.com,Finance,m1@example.com,CC-100,2026-03-01
"""

HR3 = """Employee ID,Full name,Email,Department
P1,Pat One,p1@example.com,Finance
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _periods(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """employee id -> [(team, manager's employee id, cost centre, from, to)] in date order."""
    manager = Person.__table__.alias("manager")
    with services.db.read() as session:
        rows = session.execute(
            select(
                Person.employee_id,
                Team.name,
                manager.c.employee_id,
                PersonTeam.cost_centre,
                PersonTeam.valid_from,
                PersonTeam.valid_to,
            )
            .select_from(PersonTeam)
            .join(Person, Person.id == PersonTeam.person_id)
            .join(Team, Team.id == PersonTeam.team_id)
            .outerjoin(manager, manager.c.id == PersonTeam.manager_id)
            .order_by(Person.employee_id, PersonTeam.id)
        ).all()
    found: dict[str, list[tuple[Any, ...]]] = {}
    for employee, *period in rows:
        found.setdefault(employee, []).append(tuple(period))
    return found


def test_managers_and_cost_centres_are_kept_with_the_days_they_held(
    admin: Services, tmp_path: Path
) -> None:
    admin.imports.commit(_write(tmp_path, "hr1.csv", HR1), ImportOptions(Kind.PEOPLE))
    assert _periods(admin) == {
        "M1": [("Finance", None, "CC-100", None, None)],
        "P1": [("Finance", "M1", "CC-100", None, None)],
        "P2": [("Sales", "M1", "CC-200", None, None)],
    }

    result = admin.imports.commit(_write(tmp_path, "hr2.csv", HR2), ImportOptions(Kind.PEOPLE))
    # P1's row is as it was but its manager and cost centre changed: updated, not unchanged.
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (5, 2, 1, 2)
    march = dt.date(2026, 3, 1)
    assert _periods(admin) == {
        "M1": [("Finance", None, "CC-100", None, None)],
        "M2": [("Finance", "M1", "CC-100", march, None)],
        "P1": [
            ("Finance", "M1", "CC-100", None, march),
            ("Finance", "M2", "CC-300", march, None),
        ],
        "P2": [("Sales", "M1", "CC-200", None, None)],
        "P3": [("Sales", None, "CC-200", march, None)],
    }
    assert (
        "1 manager matched no person's employee number or e-mail (line 5); their people keep "
        "the manager they had."
    ) in result.notes
    # The import's ledger entry records each period it opened: P1's new one, M2's and P3's.
    with admin.db.read() as session:
        ids = dict(session.execute(select(Person.employee_id, Person.id)).all())
        teams = dict(session.execute(select(Team.name, Team.id)).all())
    recorded = last_entry(admin.db)["after"]["organization"]
    assert sorted(recorded) == sorted(
        [
            [ids["P1"], teams["Finance"], ids["M2"], "CC-300", "2026-03-01"],
            [ids["P3"], teams["Sales"], None, "CC-200", "2026-03-01"],
            [ids["M2"], teams["Finance"], ids["M1"], "CC-100", "2026-03-01"],
        ]
    )
    assert "3 people now with another team, manager or cost centre" in " ".join(result.notes)

    # A file without those columns leaves manager and cost centre as they were.
    admin.imports.commit(_write(tmp_path, "hr3.csv", HR3), ImportOptions(Kind.PEOPLE))
    assert _periods(admin)["P1"][-1] == ("Finance", "M2", "CC-300", march, None)
    assert "organization" not in last_entry(admin.db)["after"]
    report = admin.ledger.verify_state()
    assert report.ok, [d.message() for d in report.differences]


def test_the_people_list_shows_and_sorts_by_manager_and_cost_centre_now(
    admin: Services, tmp_path: Path
) -> None:
    admin.imports.commit(_write(tmp_path, "hr1.csv", HR1), ImportOptions(Kind.PEOPLE))
    admin.imports.commit(_write(tmp_path, "hr2.csv", HR2), ImportOptions(Kind.PEOPLE))
    query = PeopleQuery(admin.ctx, sort_column=PeopleColumn.MANAGER)
    keys = list(query.keys())
    rows = query.rows(keys)
    shown = [
        (
            rows[k][PeopleColumn.NAME],
            rows[k][PeopleColumn.MANAGER],
            rows[k][PeopleColumn.COST_CENTRE],
        )
        for k in keys
    ]
    # No manager first (ascending), then by the manager's name; ties by id.
    assert shown == [
        ("Mia Manager", None, "CC-100"),
        ("Pru Three", None, "CC-200"),
        ("Pat One", "Max Manager", "CC-300"),
        ("Pia Two", "Mia Manager", "CC-200"),
        ("Max Manager", "Mia Manager", "CC-100"),
    ]
    by_cost = PeopleQuery(admin.ctx, sort_column=PeopleColumn.COST_CENTRE, descending=True)
    first, *_ = by_cost.keys()
    assert rows[first][PeopleColumn.COST_CENTRE] == "CC-300"


def test_a_person_cannot_be_their_own_manager(admin: Services, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "self.csv",
        "Employee ID,Full name,Email,Department,Manager\nP1,Pat One,p1@example.com,Finance,P1\n",
    )
    with pytest.raises(ImportRejected, match=r"line 2, Manager: is the person themselves"):
        admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert _periods(admin) == {}


def test_an_edit_gives_a_manager_and_cost_centre_from_a_day_in_one_entry(
    admin: Services, tmp_path: Path
) -> None:
    admin.imports.commit(_write(tmp_path, "hr1.csv", HR1), ImportOptions(Kind.PEOPLE))
    with admin.db.read() as session:
        ids = dict(session.execute(select(Person.employee_id, Person.id)).all())
    before = ledger_size(admin.db)
    june = dt.date(2026, 6, 1)
    admin.directory.set_organization(ids["P2"], ids["P1"], " CC-900 ", june, "reorganized")
    assert ledger_size(admin.db) == before + 1
    entry = last_entry(admin.db)
    assert (entry["action"], entry["reason"]) == ("person.organization", "reorganized")
    assert entry["before"] == {"manager_id": ids["M1"], "cost_centre": "CC-200"}
    assert entry["after"] == {
        "manager_id": ids["P1"],
        "cost_centre": "CC-900",
        "from": "2026-06-01",
    }
    assert _periods(admin)["P2"] == [
        ("Sales", "M1", "CC-200", None, june),
        ("Sales", "P1", "CC-900", june, None),
    ]
    now = admin.directory.organization(ids["P2"])
    assert (now.manager, now.cost_centre, now.since) == ("Pat One", "CC-900", june)

    with pytest.raises(ValidationError, match="Nothing changed"):
        admin.directory.set_organization(ids["P2"], ids["P1"], "CC-900", june)
    with pytest.raises(ValidationError, match="cannot be their own manager"):
        admin.directory.set_organization(ids["P2"], ids["P2"], "CC-900")
    assert ledger_size(admin.db) == before + 1
    report = admin.ledger.verify_state()
    assert report.ok, [d.message() for d in report.differences]


def test_each_teams_manager_is_the_one_most_of_its_members_report_to(
    admin: Services, tmp_path: Path
) -> None:
    admin.imports.commit(_write(tmp_path, "hr1.csv", HR1), ImportOptions(Kind.PEOPLE))
    admin.imports.commit(_write(tmp_path, "hr2.csv", HR2), ImportOptions(Kind.PEOPLE))
    with admin.db.read() as session:
        ids = dict(session.execute(select(Person.employee_id, Person.id)).all())
        teams = dict(session.execute(select(Team.name, Team.id)).all())
    # Finance: P1 reports to M2 and M2 to M1 (a tie: the lower id, M1); Sales: P2 to M1.
    mia = admin.operators.create("M1@example.com", "Mia", Role.REVIEWER, "a long password 1")
    found = admin.directory.team_managers()
    assert {t: (m.person_id, m.reports, m.operator_id) for t, m in found.items()} == {
        teams["Finance"]: (ids["M1"], 1, mia),
        teams["Sales"]: (ids["M1"], 1, mia),
    }
    # P3 now reports to M2 too: Sales' manager is the one most of it reports to, with no account.
    admin.directory.set_organization(ids["P3"], ids["M2"], "CC-200")
    admin.directory.set_organization(ids["P2"], ids["M2"], "CC-200")
    sales = admin.directory.team_managers()[teams["Sales"]]
    assert (sales.name, sales.reports, sales.operator_id, sales.operator) == (
        "Max Manager",
        2,
        None,
        "",
    )
