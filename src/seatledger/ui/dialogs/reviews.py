"""Access review dialogs: starting a campaign, deciding seats, moving one to another person,
closing a campaign, exporting a closed campaign's signed report."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.reviews import Decision, Recurrence
from seatledger.progress import Progress
from seatledger.services.audits.bundle.model import BundleResult
from seatledger.services.lookups import NamedItem
from seatledger.services.operators.session import ORGANIZATION_KEY, Services, read_setting
from seatledger.services.reviews.managers import managers_as_reviewers
from seatledger.services.reviews.service import CampaignInfo, CloseResult, ReviewRow
from seatledger.text import plural
from seatledger.ui.dialogs.common import FormDialog
from seatledger.ui.dialogs.common import row as form_row
from seatledger.ui.dialogs.forms import date_edit
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.tasks import Task
from seatledger.ui.widgets import SearchBox, accessible, from_qdate, to_qdate

_ADMINISTRATORS = "Administrators"
_CHECKED = Qt.CheckState.Checked


def _checklist(items: Sequence[tuple[int, str]], name: str) -> QListWidget:
    """A list of check boxes (none checked: all of them)."""
    widget = QListWidget()
    widget.setObjectName(name)
    widget.setMaximumHeight(96)
    for item_id, text in items:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        item.setData(Qt.ItemDataRole.UserRole, item_id)
        widget.addItem(item)
    return widget


def _checked(widget: QListWidget) -> list[int]:
    return [
        int(widget.item(i).data(Qt.ItemDataRole.UserRole))
        for i in range(widget.count())
        if widget.item(i).checkState() == _CHECKED
    ]


class NewCampaignDialog(FormDialog):
    """Starts a campaign: name, due date, recurrence, scope, and a reviewer per team.

    :attr:`campaign_id` is the new campaign once it has started.
    """

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__("New access review", "Start campaign", parent)
        self.setMinimumWidth(640)
        self.services = services
        self.campaign_id: int | None = None
        choices = services.reviews.choices()
        self.set_intro(
            "Reviewers confirm, seat by seat, that each holder still needs what they hold. "
            "The open seats in scope are taken now; each team's reviewer sees and decides only "
            "that team's seats. Nothing is released before you close the campaign."
        )
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Adobe and Autodesk, Q1 2027")
        self.due = date_edit()
        self.due.setDate(to_qdate(services.reviews.today() + dt.timedelta(days=14)))
        self.recurrence = QComboBox()
        for recurrence in Recurrence:
            self.recurrence.addItem(recurrence.label, recurrence.value)
        self.vendors = _checklist(choices.vendors, "review_vendors")
        accessible(self.vendors, "Vendors", "None checked: every vendor")
        self.products = _checklist(
            [(p.id, f"{p.vendor} {p.name}") for p in choices.products], "review_products"
        )
        accessible(self.products, "Products", "None checked: every product")
        self.teams = _checklist(choices.teams, "review_teams")
        accessible(self.teams, "Teams", "None checked: every team, and people in none")
        self.reviewer_names: list[NamedItem] = choices.reviewers
        self.reviewers = QTableWidget(len(choices.teams), 2)
        self.reviewers.setObjectName("review_reviewers")
        self.reviewers.setHorizontalHeaderLabels(["Team", "Reviewer"])
        self.reviewers.verticalHeader().setVisible(False)
        self.reviewers.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.reviewers.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.reviewers.setColumnWidth(1, 220)
        self.reviewers.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        self.reviewers.setMinimumHeight(150)
        accessible(self.reviewers, "Reviewers", "Who reviews each team's seats")
        self.team_ids: list[int] = []
        for row, (team_id, team) in enumerate(choices.teams):
            self.team_ids.append(team_id)
            self.reviewers.setItem(row, 0, QTableWidgetItem(team))
            combo = QComboBox()
            combo.addItem(_ADMINISTRATORS, 0)
            for operator_id, operator in choices.reviewers:
                combo.addItem(operator, operator_id)
            self.reviewers.setCellWidget(row, 1, combo)
        self.add_row("&Name:", self.name, names=("Name",))
        self.add_row("&Due:", self.due, names=("Due",))
        self.add_row("&Recurs:", self.recurrence)
        self.add_row("&Vendors:", self.vendors)
        self.add_row("&Products:", self.products)
        self.add_row("&Teams:", self.teams)
        self.by_managers = QPushButton("Each team's &manager")
        self.by_managers.setToolTip(
            "Give each team the person most of its members report to, where an operator account "
            "that may review is theirs (named by their e-mail or employee number)"
        )
        self.by_managers.clicked.connect(self.choose_managers)
        self.managers_note = QLabel()
        self.managers_note.setWordWrap(True)
        self.managers_note.setVisible(False)
        reviewers = QVBoxLayout()
        reviewers.setContentsMargins(0, 0, 0, 0)
        reviewers.addWidget(self.reviewers)
        reviewers.addLayout(form_row(self.by_managers, 0))
        reviewers.addWidget(self.managers_note)
        self.add_row("Re&viewers:", reviewers, names=("Reviewers",), buddy=self.reviewers)
        self._choices = choices
        if not choices.reviewers:
            self.add_note(
                "No operator may review yet: add operators with the Reviewer role (Admin ▸ "
                "Operators…), or administrators decide every seat.",
                "warning",
            )
        self.finish()

    def choose_managers(self) -> None:
        """Set each team's reviewer to its manager's operator account, where one may review;
        say which teams are left to administrators, and why."""
        found = managers_as_reviewers(
            self.services.directory.team_managers(), self._choices.teams, self._choices.reviewers
        )
        for team_id, operator_id in found.chosen.items():
            combo = self.reviewer_choice(team_id)
            combo.setCurrentIndex(combo.findData(operator_id))
        lines = [f"{plural(len(found.chosen), 'team')} given their manager."]
        if found.missing:
            lines.append(
                "Left to administrators (choose someone above): " + "; ".join(found.missing)
            )
        self.managers_note.setText(" ".join(lines))
        self.managers_note.setVisible(True)

    def reviewer_choice(self, team_id: int) -> QComboBox:
        """The reviewer picker of one team."""
        widget = self.reviewers.cellWidget(self.team_ids.index(team_id), 1)
        assert isinstance(widget, QComboBox)
        return widget

    def chosen_reviewers(self) -> dict[int, int]:
        """Team id -> operator id, for the teams given a reviewer."""
        chosen = {}
        for row, team_id in enumerate(self.team_ids):
            widget = self.reviewers.cellWidget(row, 1)
            assert isinstance(widget, QComboBox)
            operator_id = int(widget.currentData())
            if operator_id:
                chosen[team_id] = operator_id
        return chosen

    def complete(self) -> bool:
        """A name is given."""
        return bool(self.name.text().strip())

    def save(self) -> None:
        """Start the campaign."""
        self.campaign_id = self.services.reviews.start(
            self.name.text(),
            from_qdate(self.due.date()),
            reviewers=self.chosen_reviewers(),
            vendors=_checked(self.vendors),
            products=_checked(self.products),
            teams=_checked(self.teams),
            recurrence=Recurrence(self.recurrence.currentData()),
        )


class DecideDialog(FormDialog):
    """Keeps or releases seats (or a whole team's undecided seats) with a reason.

    A release needs one; :attr:`decided` counts the seats once saved.
    """

    def __init__(
        self,
        services: Services,
        campaign_id: int,
        decision: Decision,
        *,
        items: Sequence[int] = (),
        team: tuple[int, str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        verb = "Release" if decision is Decision.RELEASE else "Keep"
        super().__init__(f"{verb} seats", verb, parent)
        self.services = services
        self.campaign_id = campaign_id
        self.decision = decision
        self.items = list(items)
        self.team = team
        self.decided = 0
        what = (
            f"every undecided seat of <b>{html.escape(team[1])}</b>"
            if team is not None
            else f"<b>{plural(len(self.items), 'seat')}</b>"
        )
        if decision is Decision.RELEASE:
            self.set_intro(
                f"Release {what} when the campaign closes? The holders lose the seats then; "
                "the reason is recorded with your name."
            )
        else:
            self.set_intro(f"Keep {what}? The reason, if any, is recorded with your name.")
        self.reason = QLineEdit()
        self.reason.setMinimumWidth(320)
        self.reason.setPlaceholderText(
            "required, e.g. not used since March"
            if decision is Decision.RELEASE
            else "optional, e.g. needed for month-end close"
        )
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self.finish()

    def complete(self) -> bool:
        """A release has a reason; there is something to decide."""
        if self.team is None and not self.items:
            return False
        return self.decision is Decision.KEEP or bool(self.reason.text().strip())

    def save(self) -> None:
        """Record the decision."""
        if self.team is not None:
            self.decided = self.services.reviews.decide_team(
                self.campaign_id, self.team[0], self.decision, self.reason.text()
            )
        else:
            self.decided = self.services.reviews.decide(
                self.campaign_id, self.items, self.decision, self.reason.text()
            )


class CloseCampaignDialog(FormDialog):
    """Confirms closing a campaign: what will be released and what stays undecided.

    :attr:`outcome` is what closing did.
    """

    def __init__(
        self, services: Services, campaign: CampaignInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__("Close access review", "Close and release", parent)
        self.services = services
        self.campaign = campaign
        self.outcome: CloseResult | None = None
        undecided = (
            f" {plural(campaign.undecided, 'seat')} nobody decided stay as they are and are "
            "reported as undecided."
            if campaign.undecided
            else ""
        )
        follows = (
            f" The campaign recurs ({campaign.recurrence.label.lower()}): the next one starts now."
            if campaign.recurrence is not Recurrence.NONE
            else ""
        )
        moves = (
            f" {plural(campaign.to_move, 'seat')} the reviewers decided to move "
            f"{'goes' if campaign.to_move == 1 else 'go'} to the people they chose today, in the "
            "closing entry."
            if campaign.to_move
            else ""
        )
        self.set_intro(
            f"<b>Close {html.escape(campaign.name)}?</b><br>"
            f"{plural(campaign.to_release, 'seat')} the reviewers decided to release "
            f"{'is' if campaign.to_release == 1 else 'are'} released now, each reviewer's in "
            f"one ledger entry naming the campaign and the reviewer.{moves}{undecided}{follows}"
        )
        self.finish()

    def save_in_background(self) -> Task[CloseResult]:
        """Close off the GUI thread (thousands of releases take a few seconds)."""
        reviews, campaign_id = self.services.reviews, self.campaign.id
        return Task(lambda _progress: reviews.close(campaign_id)).on_done(self._closed)

    def _closed(self, result: CloseResult) -> None:
        self.outcome = result


class MoveDialog(FormDialog):
    """Moves one seat under review to another person when the campaign closes, with a reason.

    The person is picked from a search the service runs as one types (a page of matches: the
    people the seat may move to, in the reviewer's teams), never a list of the whole directory.
    :attr:`moved_to` is the person's name once the decision is recorded.
    """

    SHOWN = 50  # matches listed at a time; typing narrows them

    def __init__(
        self,
        services: Services,
        campaign_id: int,
        row: ReviewRow,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Move seat to another person", "Move", parent)
        self.setMinimumWidth(560)
        self.services = services
        self.campaign_id = campaign_id
        self.row = row
        self.moved_to = ""
        self.set_intro(
            f"Move <b>{html.escape(row.holder)}</b>'s seat of <b>{html.escape(row.license)}</b> "
            "to another person when the campaign closes? The holder's seat ends and the "
            "person's begins on the close date; the reason is recorded with your name."
        )
        self.search = SearchBox("Search people by name, employee number or e-mail", name="Person")
        self.people = accessible(
            QListWidget(), "People", "The people the seat may move to; choose one"
        )
        self.people.setObjectName("move_people")
        self.people.setMinimumHeight(160)
        self.found = QLabel()
        self.found.setObjectName("move_found")
        picker = QVBoxLayout()
        picker.setContentsMargins(0, 0, 0, 0)
        picker.addWidget(self.search)
        picker.addWidget(self.people)
        picker.addWidget(self.found)
        self.add_row("&Person:", picker, names=("Person",), buddy=self.search)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("required, e.g. Fay moved to treasury; Fred took over")
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self.search.searched.connect(self.search_people)
        self.people.currentRowChanged.connect(lambda _row: self.update_state())
        self.finish()
        self.search_people("")

    def search_people(self, text: str) -> None:
        """List the first matches of ``text`` (the service searches)."""
        matches = self.services.reviews.move_candidates(
            self.campaign_id, self.row.id, text, limit=self.SHOWN + 1
        )
        self.people.clear()
        for person in matches[: self.SHOWN]:
            item = QListWidgetItem(person.label)
            item.setData(Qt.ItemDataRole.UserRole, person.id)
            self.people.addItem(item)
        if not matches:
            self.found.setText("Nobody the seat may move to matches the search.")
        elif len(matches) > self.SHOWN:
            self.found.setText(f"The first {self.SHOWN} matches; type more to narrow them.")
        else:
            self.found.setText(plural(len(matches), "match") + ".")
        self.update_state()

    def chosen(self) -> int | None:
        """The person picked (None: nobody yet)."""
        item = self.people.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def complete(self) -> bool:
        """A person is picked and the move has a reason."""
        return self.chosen() is not None and bool(self.reason.text().strip())

    def save(self) -> None:
        """Record the move."""
        person = self.chosen()
        if person is not None:
            self.moved_to = self.services.reviews.move(
                self.campaign_id, self.row.id, person, self.reason.text()
            )


class SignedReportDialog(FormDialog):
    """Exports a closed campaign's signed report (a folder and its zip) for internal auditors.

    The bundle is written off the GUI thread under a progress strip with Cancel (the export's
    helper checks the whole ledger first); a cancelled or refused export leaves nothing behind.
    :attr:`written` is what was written.
    """

    def __init__(
        self,
        services: Services,
        campaign: CampaignInfo,
        parent: QWidget | None = None,
        *,
        folder: Path | None = None,
    ) -> None:
        super().__init__("Export signed access review report", "Export", parent)
        self.setMinimumWidth(560)
        self.services = services
        self.campaign = campaign
        self.written: BundleResult | None = None
        self.new_key = services.signing.current() is None
        self.set_intro(
            f"Write the signed report of <b>{html.escape(campaign.name)}</b>: every seat with its "
            "decision, reviewer and outcome, the campaign's ledger entries with their proof to a "
            "signed checkpoint, signed with the organization's key. An internal auditor checks "
            "it with <i>seatledger verify</i>."
            + (
                " There is no signing key yet: this creates it, protected by the passphrase."
                if self.new_key
                else ""
            )
        )
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_row("Key &passphrase:", self.passphrase, names=("Passphrase",))
        self.repeat = QLineEdit()
        self.repeat.setObjectName("repeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_row("&Repeat it:", self.repeat)
        self.set_row_visible(self.repeat, self.new_key)
        self.folder = QLineEdit(str(folder or Path.home() / "SeatLedger access reviews"))
        self.folder.setObjectName("folder")
        browse = QPushButton("&Browse…")
        browse.setAutoDefault(False)
        browse.clicked.connect(self._browse)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.folder, 1)
        line.addWidget(browse)
        self.add_row("&Folder:", line, names=("Folder",), buddy=self.folder)
        # The export may be cancelled: the strip under the form gets a Cancel button.
        strip = ProgressStrip("Cancel", self)
        layout = self.layout()
        assert layout is not None
        layout.replaceWidget(self.busy, strip)
        self.busy.deleteLater()
        self.busy = strip
        self.finish()

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the report", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def complete(self) -> bool:
        """A passphrase (twice, alike, for a new key) and a folder."""
        if not self.passphrase.text() or not self.folder.text().strip():
            return False
        return not self.new_key or self.repeat.text() == self.passphrase.text()

    def save_in_background(self) -> Task[BundleResult]:
        """Write and sign the bundle off the GUI thread (Cancel stops it)."""
        reports, campaign_id = self.services.review_reports, self.campaign.id
        passphrase, folder = self.passphrase.text(), Path(self.folder.text().strip())
        organization = read_setting(self.services.db, ORGANIZATION_KEY) or "SeatLedger"

        def work(progress: Progress) -> BundleResult:
            folder.mkdir(parents=True, exist_ok=True)
            return reports.sign(
                campaign_id,
                passphrase=passphrase,
                out_dir=folder,
                organization=organization,
                progress=progress,
            )

        task = Task(work).on_done(self._written)
        task.cancelled.connect(
            lambda: self.message.show_message("The export was cancelled; nothing was written.")
        )
        return task

    def _written(self, result: BundleResult) -> None:
        self.written = result
        self.passphrase.clear()
        self.repeat.clear()
