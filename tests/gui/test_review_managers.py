"""Access reviews by each team's manager: the person most of a team reports to reviews its seats
where an operator account that may review is theirs; every other team is said, with why.

Finance: Fay and Finn report to Mia (an operator named mia@example.com, a reviewer); Sales: Sam
reports to Zed, who has no operator account; Support: nobody's manager is recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.lookups import NamedItem
from seatledger.services.operators.session import Services
from seatledger.services.reviews.managers import managers_as_reviewers
from seatledger.ui.dialogs.reviews import NewCampaignDialog

PASSWORD = "secret words"
ADMIN_PASSWORD = "correct horse"  # the admin fixture's (tests/conftest.py)
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen cannot size dialogs


@dataclass
class Org:
    finance: int
    sales: int
    support: int
    mia: int  # the operator


@pytest.fixture
def org(admin: Services) -> Org:
    vendor = admin.catalog.add_vendor("Contoso Software")
    product = admin.catalog.add_product(vendor, "PDF Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    teams = {name: admin.directory.add_team(name) for name in ("Finance", "Sales", "Support")}
    people: dict[str, int] = {}
    for n, (name, team) in enumerate(
        [
            ("Mia", "Finance"),
            ("Fay", "Finance"),
            ("Finn", "Finance"),
            ("Zed", "Sales"),
            ("Sam", "Sales"),
            ("Sol", "Support"),
        ]
    ):
        email = f"{name.lower()}@example.com"
        people[name] = admin.directory.add_person(PersonInput(f"E{n}", name, email, teams[team]))
        if name not in {"Mia", "Zed"}:
            admin.seats.assign(license_id, people=[people[name]])
    for name, manager in (("Fay", "Mia"), ("Finn", "Mia"), ("Sam", "Zed")):
        admin.directory.set_organization(people[name], people[manager], "")
    mia = admin.operators.create("mia@example.com", "Mia", Role.REVIEWER, PASSWORD)
    return Org(teams["Finance"], teams["Sales"], teams["Support"], mia)


def test_each_team_gets_its_manager_where_an_account_may_review(admin: Services, org: Org) -> None:
    choices = admin.reviews.choices()
    found = managers_as_reviewers(admin.directory.team_managers(), choices.teams, choices.reviewers)
    assert found.chosen == {org.finance: org.mia}
    assert found.missing == [
        "Sales: Zed has no operator account",
        "Support: no manager recorded (HR import or People ▸ Manager…)",
    ]
    # An account that exists but may not review is said as such.
    assert managers_as_reviewers(
        admin.directory.team_managers(), [NamedItem(org.finance, "Finance")], []
    ).missing == ["Finance: Mia's account mia@example.com may not review"]


def test_the_new_campaign_dialog_fills_in_each_teams_manager(
    qtbot: QtBot, admin: Services, org: Org
) -> None:
    dialog = NewCampaignDialog(admin)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.chosen_reviewers() == {}
    qtbot.mouseClick(dialog.by_managers, Qt.MouseButton.LeftButton)
    assert dialog.chosen_reviewers() == {org.finance: org.mia}
    assert dialog.managers_note.isVisible()
    assert dialog.managers_note.text() == (
        "1 team given their manager. Left to administrators (choose someone above): Sales: Zed "
        "has no operator account; Support: no manager recorded (HR import or People ▸ Manager…)"
    )
    qtbot.keyClicks(dialog.name, "PDF Studio, Q1")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.campaign_id is not None
    reviewers = admin.reviews.reviewers(dialog.campaign_id)
    assert [(r.team, r.operator) for r in reviewers] == [("Finance", "mia@example.com")]


def test_review_start_with_managers_on_the_command_line(
    admin: Services,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SEATLEDGER_PASSWORD", ADMIN_PASSWORD)
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    url = admin.db.engine.url.render_as_string(hide_password=False)
    args = ["review", "start", "Q1", "--due", due, "--managers", "--db", url]
    assert cli.main([*args, "--operator", "admin"]) == 0
    out = capsys.readouterr().out
    assert "Sales: Zed has no operator account: administrators decide its seats" in out
    assert "Campaign 1 started" in out
    assert [(r.team, r.operator) for r in admin.reviews.reviewers(1)] == [
        ("Finance", "mia@example.com")
    ]
