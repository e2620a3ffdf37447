"""The Access reviews page end to end: an administrator starts a campaign, two reviewers each see
only their team's seats and decide them (one moves a seat to another person), the administrator
closes it, the seats go or move, and the campaign's signed report verifies."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.services.audits import signing
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.operators.session import Services
from seatledger.services.operators.workspace import Workspace
from seatledger.store.models import Person, SeatAssignment
from seatledger.ui.dialogs.reviews import (
    CloseCampaignDialog,
    DecideDialog,
    MoveDialog,
    NewCampaignDialog,
    SignedReportDialog,
)
from seatledger.ui.main_window import REVIEWS, MainWindow
from seatledger.ui.pages.reviews import ReviewsPage

PASSWORD = "correct horse"
LEFT = Qt.MouseButton.LeftButton
MakeWindow = Callable[[Services], MainWindow]
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen cannot size dialogs


@dataclass
class Company:
    finance: int
    sales: int
    seats: dict[str, int]
    alice: Services
    bob: Services


@pytest.fixture
def company(admin: Services, workspace: Workspace) -> Company:
    vendor = admin.catalog.add_vendor("Contoso Software")
    product = admin.catalog.add_product(vendor, "PDF Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    finance = admin.directory.add_team("Finance")
    sales = admin.directory.add_team("Sales")
    seats = {}
    for n, (name, team) in enumerate(
        [("Fay", finance), ("Finn", finance), ("Sam", sales), ("Sue", sales)]
    ):
        person = admin.directory.add_person(PersonInput(f"E{n}", name, "", team))
        seats[name] = admin.seats.assign(license_id, people=[person]).assignment_ids[0]
    # Without a seat: Sid in Sales (Bob may move a Sales seat to him), Fred in Finance.
    admin.directory.add_person(PersonInput("E8", "Sid", "sid@example.com", sales))
    admin.directory.add_person(PersonInput("E9", "Fred", "fred@example.com", finance))
    for name in ("alice", "bob"):
        admin.operators.create(name, name.title(), Role.REVIEWER, PASSWORD)
    return Company(
        finance,
        sales,
        seats,
        workspace.sign_in("alice", PASSWORD),
        workspace.sign_in("bob", PASSWORD),
    )


def _page(window: MainWindow) -> ReviewsPage:
    window.nav.setCurrentRow(REVIEWS)
    page = window.page(REVIEWS)
    assert isinstance(page, ReviewsPage)
    return page


def _holders(page: ReviewsPage) -> list[str]:
    return [row.holder for row in page.model.rows]


def _select(qtbot: QtBot, page: ReviewsPage, holder: str) -> None:
    row = _holders(page).index(holder)
    rect = page.table.visualRect(page.model.index(row, 1))
    qtbot.mouseClick(page.table.viewport(), LEFT, pos=rect.center())


def _answer(qtbot: QtBot, kind: type, fill: Callable[[object], None] = lambda _d: None) -> None:
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, kind)
        fill(dialog)
        assert dialog.ok_button.isEnabled()  # type: ignore[attr-defined]
        qtbot.mouseClick(dialog.ok_button, LEFT)  # type: ignore[attr-defined]

    QTimer.singleShot(0, answer)


def test_a_campaign_from_start_to_close(
    qtbot: QtBot,
    make_window: MakeWindow,
    admin: Services,
    company: Company,
    *,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(signing, "DEFAULT_KDF", signing.TEST_KDF)
    page = _page(make_window(admin))
    assert page.empty_state is not None

    def start(dialog: object) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        qtbot.keyClicks(dialog.name, "PDF Studio, Q1")
        for team, reviewer in ((company.finance, company.alice), (company.sales, company.bob)):
            combo = dialog.reviewer_choice(team)
            combo.setCurrentIndex(combo.findData(reviewer.actor.id))

    _answer(qtbot, NewCampaignDialog, start)
    qtbot.mouseClick(page.empty_state.buttons[0], LEFT)
    assert page.campaign_combo.count() == 1
    assert page.progress_label.text().startswith("0 of 4 seats decided (0 to release); open")
    assert sorted(_holders(page)) == ["Fay", "Finn", "Sam", "Sue"]

    # Alice sees Finance only, releases Fay's seat with a reason and keeps the rest of Finance.
    alice = _page(make_window(company.alice))
    assert _holders(alice) == ["Fay", "Finn"]
    assert not alice.new_button.isEnabled()
    assert not alice.close_button.isEnabled()
    _select(qtbot, alice, "Fay")

    def release(dialog: object) -> None:
        assert isinstance(dialog, DecideDialog)
        assert not dialog.ok_button.isEnabled()  # a release needs a reason
        qtbot.keyClicks(dialog.reason, "No use since March")

    _answer(qtbot, DecideDialog, release)
    qtbot.mouseClick(alice.release_button, LEFT)
    assert [r.decision and r.decision.value for r in alice.model.rows] == ["release", None]
    assert not alice.keep_team_button.isEnabled()  # no team chosen
    alice.team_combo.setCurrentIndex(alice.team_combo.findText("Finance"))
    _answer(qtbot, DecideDialog)
    qtbot.mouseClick(alice.keep_team_button, LEFT)
    assert [r.decided_by for r in alice.model.rows] == ["alice", "alice"]
    assert alice.progress_label.text().startswith("2 of 2 seats decided (1 to release)")

    # Bob sees Sales only and moves Sam's seat to Sid, picked by a search that offers only
    # the people of Sales without a seat (not Fred of Finance); Sue's stays undecided.
    bob = _page(make_window(company.bob))
    assert _holders(bob) == ["Sam", "Sue"]
    assert not bob.move_button.isEnabled()
    _select(qtbot, bob, "Sam")
    assert bob.move_button.isEnabled()

    def move(dialog: object) -> None:
        assert isinstance(dialog, MoveDialog)
        assert [dialog.people.item(i).text() for i in range(dialog.people.count())] == [
            "Sid (E8, sid@example.com), Sales"
        ]
        qtbot.keyClicks(dialog.search, "fred")
        qtbot.waitUntil(lambda: dialog.people.count() == 0)
        assert dialog.found.text() == "Nobody the seat may move to matches the search."
        dialog.search.clear()
        qtbot.keyClicks(dialog.search, "si")
        qtbot.waitUntil(lambda: dialog.people.count() == 1)
        dialog.people.setCurrentRow(0)
        assert not dialog.ok_button.isEnabled()  # a move needs a reason
        qtbot.keyClicks(dialog.reason, "Sam moved to support; Sid took his accounts")

    _answer(qtbot, MoveDialog, move)
    qtbot.mouseClick(bob.move_button, LEFT)
    decisions = {
        r.holder: bob.model.data(bob.model.index(i, 7)) for i, r in enumerate(bob.model.rows)
    }
    assert decisions == {"Sam": "Move to Sid", "Sue": "Undecided"}

    # The administrator closes it: Fay's seat is released, Sam's moved to Sid on the close
    # date, Sue's reported undecided.
    page.refresh()
    assert page.progress_label.text().startswith("3 of 4 seats decided (1 to release, 1 to move)")
    _answer(qtbot, CloseCampaignDialog)
    qtbot.mouseClick(page.close_button, LEFT)
    outcomes = {r.holder: r.outcome and r.outcome.value for r in page.model.rows}
    assert outcomes == {"Fay": "released", "Finn": "kept", "Sam": "moved", "Sue": "undecided"}
    with admin.db.read() as session:
        sam = session.get(SeatAssignment, company.seats["Sam"])
        sid = session.scalars(
            select(SeatAssignment)
            .join(Person, SeatAssignment.person_id == Person.id)
            .where(Person.name == "Sid", SeatAssignment.ended_at.is_(None))
        ).one()
        assert sam is not None
        assert sam.ended_at == sid.started_at
        assert sid.entitlement_id == sam.entitlement_id
    assert not page.close_button.isEnabled()
    with admin.db.read() as session:
        fay = session.get(SeatAssignment, company.seats["Fay"])
        finn = session.get(SeatAssignment, company.seats["Finn"])
        assert fay is not None
        assert fay.ended_at is not None
        assert finn is not None
        assert finn.ended_at is None
    written = page.export_report(tmp_path / "q1.csv")
    assert written is not None
    assert "No use since March" in written.read_text(encoding="utf-8")

    # The closed campaign's signed report, written under the progress strip (the first signing
    # creates the key: the passphrase twice), is what `seatledger verify` verifies.
    assert page.signed_button.isEnabled()

    def sign(dialog: object) -> None:
        assert isinstance(dialog, SignedReportDialog)
        assert dialog.busy.cancel_button.text() == "Cancel"
        qtbot.keyClicks(dialog.passphrase, "a long enough passphrase")
        assert not dialog.ok_button.isEnabled()  # a new key's passphrase is typed twice
        qtbot.keyClicks(dialog.repeat, "a long enough passphrase")

    _answer(qtbot, SignedReportDialog, sign)
    bundle = page.export_signed(tmp_path / "signed")
    assert bundle is not None
    assert bundle.name.startswith(f"access-review-{page.campaigns[0].id}-")
    assert cli.main(["verify", str(bundle)]) == 3  # intact; no key pinned
    said = capsys.readouterr().out
    assert "Access review campaign report: Access review #1: PDF Studio, Q1" in said
    assert "INTACT, KEY NOT PINNED" in said
    with zipfile.ZipFile(bundle) as archive:
        csv_text = archive.read(f"{bundle.stem}/report.csv").decode("utf-8")
    assert "Sid" in csv_text
    assert "moved" in csv_text


def test_an_overdue_campaign_is_said(
    qtbot: QtBot, make_window: MakeWindow, admin: Services, company: Company
) -> None:
    campaign = admin.reviews.start(
        "Q1", admin.reviews.today(), reviewers={company.finance: company.alice.actor.id}
    )
    later = company.alice.reviews.today() + dt.timedelta(days=3)
    company.alice.ctx.clock = lambda: dt.datetime.combine(later, dt.time(12), dt.UTC)
    window = make_window(company.alice)
    assert window.reviews_label.isVisible()
    assert window.reviews_label.text() == "Access reviews overdue: 1"
    page = _page(window)
    assert page.overdue_label.isVisible()
    assert "Q1 (due" in page.overdue_label.text()
    assert "2 seats undecided" in page.overdue_label.text()
    assert page.campaign_combo.currentData() == campaign
