"""The Access reviews page: a campaign's seats with their evidence of use, and the decisions.

A reviewer sees the campaigns they review and, in each, the seats of their teams only (the
service decides what they see); they keep or release the selected seats, or a whole team's
undecided seats at once, or move one seat to another person (a search the service runs).
Administrators start campaigns, see every seat, and close a campaign to carry its decisions out.
Overdue campaigns are said in a notice above the table.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from seatledger.domain.reviews import CampaignStatus, Decision
from seatledger.domain.roles import Permission
from seatledger.services.operators.session import Services
from seatledger.services.reviews.report import write_csv
from seatledger.services.reviews.service import CampaignInfo, ReviewRow
from seatledger.text import plural
from seatledger.ui.list_model import ListColumn, ListTableModel
from seatledger.ui.pages import Page
from seatledger.ui.theme import keep_notice_styled
from seatledger.ui.widgets import EmptyState, Stateful, accessible, list_table

SHOWN = 500  # seats listed at first (each with its evidence); Show more lists as many again


def _columns(page: ReviewsPage) -> list[ListColumn[ReviewRow]]:
    def day(value: object) -> object:
        return value.isoformat() if value is not None and hasattr(value, "isoformat") else None

    return [
        ListColumn("Team", lambda r: r.team or None),
        ListColumn("Holder", lambda r: r.holder),
        ListColumn("License", lambda r: r.license),
        ListColumn(
            "Held (days)",
            lambda r: r.age_days(page.today),
            numeric=True,
            tip="Days since the seat was assigned",
        ),
        ListColumn(
            "Last install",
            lambda r: day(r.last_install),
            tip="The last inventory that saw the product on the holder's (or the seat's) device",
        ),
        ListColumn(
            "Last checkout",
            lambda r: day(r.last_checkout),
            tip="The holder's last license-server checkout of the product",
        ),
        ListColumn(
            "Last activity",
            lambda r: day(r.last_activity),
            tip="The holder's last activity in a usage or SaaS report (Microsoft 365...)",
        ),
        ListColumn(
            "Decision",
            lambda r: (
                f"Move to {r.move_to}"
                if r.decision is Decision.MOVE
                else r.decision.label
                if r.decision
                else "Undecided"
            ),
            bad=lambda r: r.decision is Decision.RELEASE,
        ),
        ListColumn("Reason", lambda r: r.reason or None),
        ListColumn("Reviewer", lambda r: r.decided_by or None),
        ListColumn("Outcome", lambda r: r.outcome.value.capitalize() if r.outcome else None),
    ]


class ReviewsPage(Page):
    """Access review campaigns: the chosen campaign's seats and what was decided."""

    title = "Access reviews"
    settings_group = "reviews"
    shows = frozenset({"review_campaign", "seat"})

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.today = services.reviews.today()
        self.campaigns: list[CampaignInfo] = []
        self.overdue_label = QLabel(self)
        self.overdue_label.setObjectName("reviewsOverdue")
        self.overdue_label.setWordWrap(True)
        self.campaign_combo = accessible(QComboBox(self), "Campaign")
        self.campaign_combo.setObjectName("review_campaign")
        self.campaign_combo.setMinimumContentsLength(40)
        self.campaign_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.progress_label = QLabel(self)
        self.progress_label.setObjectName("review_progress")
        self.new_button = QPushButton("&New campaign…", self)
        self.new_button.setObjectName("new_review")
        self.close_button = QPushButton("&Close campaign…", self)
        self.close_button.setObjectName("close_review")
        self.export_button = QPushButton("E&xport report…", self)
        self.export_button.setObjectName("export_review")
        self.signed_button = QPushButton("Export &signed report…", self)
        self.signed_button.setObjectName("export_signed_review")
        self.signed_button.setToolTip(
            "A closed campaign's report signed with the organization's key, for internal auditors"
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("Campaign:", self))
        top.addWidget(self.campaign_combo)
        top.addStretch(1)
        for button in (self.new_button, self.close_button, self.export_button, self.signed_button):
            top.addWidget(button)

        self.team_combo = accessible(QComboBox(self), "Team", "Show one team's seats")
        self.team_combo.setObjectName("review_team")
        self.undecided_box = QCheckBox("&Undecided only", self)
        self.keep_button = QPushButton("&Keep…", self)
        self.keep_button.setObjectName("keep_seats")
        self.release_button = QPushButton("&Release…", self)
        self.release_button.setObjectName("release_seats")
        self.move_button = QPushButton("&Move to…", self)
        self.move_button.setObjectName("move_seat")
        self.move_button.setToolTip(
            "Move the selected seat to another person when the campaign closes"
        )
        self.keep_team_button = QPushButton("Keep &whole team…", self)
        self.keep_team_button.setObjectName("keep_team")
        self.release_team_button = QPushButton("Release whole &team…", self)
        self.release_team_button.setObjectName("release_team")
        second = QHBoxLayout()
        second.addWidget(QLabel("Team:", self))
        second.addWidget(self.team_combo)
        second.addWidget(self.undecided_box)
        second.addStretch(1)
        for button in (
            self.keep_button,
            self.release_button,
            self.move_button,
            self.keep_team_button,
            self.release_team_button,
        ):
            second.addWidget(button)

        self.model: ListTableModel[ReviewRow] = ListTableModel(_columns(self), self)
        self.table = list_table(self, self.model, QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setObjectName("review_items")
        accessible(self.table, "Seats under review", "Select seats, then Keep or Release")
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.shown_label = QLabel(self)
        self.shown_label.setObjectName("review_shown")
        self.more_button = QPushButton("Show &more", self)
        self.more_button.setObjectName("review_more")
        self.more_button.clicked.connect(self.show_more)
        self.listed = SHOWN

        layout = self.body_layout()
        layout.addWidget(self.overdue_label)
        layout.addLayout(top)
        layout.addWidget(self.progress_label)
        layout.addLayout(second)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.shown_label, 1)
        bottom.addWidget(self.more_button)
        layout.addLayout(bottom)
        may_start = self.may(Permission.MANAGE_REVIEWS)
        empty = EmptyState(
            "No access reviews yet",
            "An access review asks each team's reviewer to confirm, seat by seat, that its "
            "holder still needs it (ISO/IEC 27001's review of access rights, SOX IT general "
            "controls). Reviewers see the evidence of use beside each seat, keep or release it "
            "with a reason, and closing the campaign releases what they decided."
            if may_start
            else "No campaign gives you seats to review. An administrator starts access "
            "reviews and names the reviewer of each team.",
            self,
        )
        empty.add_action(
            "&New campaign…",
            self.new_campaign,
            enabled=may_start,
            tip="" if may_start else "Administrators start access reviews.",
        )
        self.set_empty_state(empty)

        self.campaign_combo.currentIndexChanged.connect(lambda _i: self._campaign_changed())
        self.team_combo.currentIndexChanged.connect(lambda _i: self.load_items(reset=True))
        self.undecided_box.toggled.connect(lambda _on: self.load_items(reset=True))
        self.new_button.clicked.connect(self.new_campaign)
        self.close_button.clicked.connect(self.close_campaign)
        self.export_button.clicked.connect(self.export_report)
        self.signed_button.clicked.connect(self.export_signed)
        self.keep_button.clicked.connect(lambda: self.decide(Decision.KEEP))
        self.release_button.clicked.connect(lambda: self.decide(Decision.RELEASE))
        self.move_button.clicked.connect(self.move_seat)
        self.keep_team_button.clicked.connect(lambda: self.decide_team(Decision.KEEP))
        self.release_team_button.clicked.connect(lambda: self.decide_team(Decision.RELEASE))
        self.refresh()

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Re-read the campaigns (keeping the chosen one) and its seats."""
        super().refresh()
        self.today = self.services.reviews.today()
        keep = self.current_campaign()
        self.campaigns = self.services.reviews.campaigns()
        self.campaign_combo.blockSignals(True)
        self.campaign_combo.clear()
        for c in self.campaigns:
            state = "" if c.status is CampaignStatus.OPEN else " (closed)"
            self.campaign_combo.addItem(f"#{c.id} {c.name}, due {c.due_on}{state}", c.id)
        target = next(
            (i for i, c in enumerate(self.campaigns) if keep is not None and c.id == keep.id), 0
        )
        self.campaign_combo.setCurrentIndex(target if self.campaigns else -1)
        self.campaign_combo.blockSignals(False)
        self._show_overdue()
        self.show_empty(not self.campaigns)
        self._campaign_changed(keep_team=keep is not None and self.current_campaign() == keep)

    def current_campaign(self) -> CampaignInfo | None:
        """The campaign chosen in the combo."""
        index = self.campaign_combo.currentIndex()
        return self.campaigns[index] if 0 <= index < len(self.campaigns) else None

    def _campaign_changed(self, *, keep_team: bool = False) -> None:
        campaign = self.current_campaign()
        team = self.team_combo.currentData() if keep_team else None
        self.team_combo.blockSignals(True)
        self.team_combo.clear()
        self.team_combo.addItem("All my teams" if not self._decides_all() else "All teams", None)
        if campaign is not None:
            for team_id, name in self.services.reviews.my_teams(campaign.id):
                self.team_combo.addItem(name, team_id)
        found = self.team_combo.findData(team)
        self.team_combo.setCurrentIndex(max(found, 0))
        self.team_combo.blockSignals(False)
        self.load_items(reset=not keep_team)

    def load_items(self, *, reset: bool = False) -> None:
        """Show the chosen campaign's seats (of the chosen team; undecided only if asked):
        the first :data:`SHOWN`, or as many as Show more has listed."""
        if reset:
            self.listed = SHOWN
        campaign = self.current_campaign()
        rows: list[ReviewRow] = []
        if campaign is not None:
            team = self.team_combo.currentData()
            rows = self.services.reviews.items(
                campaign.id,
                team_id=int(team) if team is not None else None,
                undecided_only=self.undecided_box.isChecked(),
                limit=self.listed + 1,
            )
            self.progress_label.setText(
                f"{campaign.progress}; {campaign.status.label.lower()}, due {campaign.due_on}"
                + (" — overdue" if campaign.overdue else "")
            )
        else:
            self.progress_label.setText("")
        more = len(rows) > self.listed
        self.model.set_rows(rows[: self.listed])
        self.more_button.setVisible(more)
        self.shown_label.setText(
            f"The first {self.listed:,} seats are listed (team by team); Show more lists "
            "more, or choose a team or Undecided only."
            if more
            else plural(len(rows), "seat") + " listed."
        )
        self.table.resizeColumnsToContents()
        for column in range(self.model.columnCount()):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column) + 12, 360))
        self._update_buttons()

    def show_more(self) -> None:
        """List as many seats again."""
        self.listed += SHOWN
        self.load_items()

    def _show_overdue(self) -> None:
        late = [c for c in self.campaigns if c.overdue and c.undecided]
        self.overdue_label.setVisible(bool(late))
        if not late:
            return
        self.overdue_label.setText(
            "<b>Overdue:</b> "
            + " · ".join(
                f"{c.name} (due {c.due_on}, {plural(c.undecided, 'seat')} undecided)" for c in late
            )
        )
        keep_notice_styled(self.overdue_label, "warning")

    def selected_rows(self) -> list[ReviewRow]:
        """The seats selected in the table."""
        return [self.model.row(index.row()) for index in self.table.selectionModel().selectedRows()]

    def _decides_all(self) -> bool:
        return self.may(Permission.MANAGE_REVIEWS)

    def _update_buttons(self) -> None:
        campaign = self.current_campaign()
        is_open = campaign is not None and campaign.status is CampaignStatus.OPEN
        may_decide = is_open and self.may(Permission.REVIEW_ACCESS)
        selected = bool(self.selected_rows())
        one_team = self.team_combo.currentData() is not None
        self.new_button.setEnabled(self._decides_all())
        self.close_button.setEnabled(is_open and self._decides_all())
        self.export_button.setEnabled(campaign is not None)
        closed = campaign is not None and campaign.status is CampaignStatus.CLOSED
        self.signed_button.setEnabled(closed and self._decides_all())
        self.signed_button.setToolTip(
            "Write the closed campaign's report, signed with the organization's key"
            if closed
            else "Close the campaign first: its signed report says how it ended"
        )
        self.keep_button.setEnabled(may_decide and selected)
        self.release_button.setEnabled(may_decide and selected)
        self.move_button.setEnabled(may_decide and len(self.selected_rows()) == 1)
        self.keep_team_button.setEnabled(may_decide and one_team)
        self.release_team_button.setEnabled(may_decide and one_team)
        tip = "" if one_team else "Choose a team first"
        self.keep_team_button.setToolTip(tip)
        self.release_team_button.setToolTip(tip)

    # ------------------------------------------------------------------ actions
    def new_campaign(self) -> int | None:
        """Start a campaign (the dialog); returns its id once started."""
        from seatledger.ui.dialogs.reviews import NewCampaignDialog  # noqa: PLC0415

        dialog = NewCampaignDialog(self.services, self)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.campaign_id is None:
            return None
        self.refresh()
        self.select_campaign(dialog.campaign_id)
        self.status_message.emit(f"Access review #{dialog.campaign_id} started.")
        return dialog.campaign_id

    def select_campaign(self, campaign_id: int) -> None:
        """Show one campaign."""
        index = self.campaign_combo.findData(campaign_id)
        if index >= 0:
            self.campaign_combo.setCurrentIndex(index)

    def decide(self, decision: Decision) -> int:
        """Keep or release the selected seats (asks for the reason); returns how many."""
        campaign = self.current_campaign()
        rows = self.selected_rows()
        if campaign is None or not rows:
            return 0
        from seatledger.ui.dialogs.reviews import DecideDialog  # noqa: PLC0415

        dialog = DecideDialog(
            self.services, campaign.id, decision, items=[r.id for r in rows], parent=self
        )
        return self._decided(dialog)

    def move_seat(self) -> str:
        """Move the one selected seat to another person (the picker dialog); returns the
        person's name once decided ("" otherwise)."""
        campaign = self.current_campaign()
        rows = self.selected_rows()
        if campaign is None or len(rows) != 1:
            return ""
        from seatledger.ui.dialogs.reviews import MoveDialog  # noqa: PLC0415

        dialog = MoveDialog(self.services, campaign.id, rows[0], self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return ""
        self.status_message.emit(
            f"{rows[0].holder}'s seat moves to {dialog.moved_to} when the campaign closes."
        )
        return dialog.moved_to

    def decide_team(self, decision: Decision) -> int:
        """Keep or release every undecided seat of the chosen team; returns how many."""
        campaign = self.current_campaign()
        team = self.team_combo.currentData()
        if campaign is None or team is None:
            return 0
        from seatledger.ui.dialogs.reviews import DecideDialog  # noqa: PLC0415

        dialog = DecideDialog(
            self.services,
            campaign.id,
            decision,
            team=(int(team), self.team_combo.currentText()),
            parent=self,
        )
        return self._decided(dialog)

    def _decided(self, dialog: QDialog) -> int:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return 0
        count = int(getattr(dialog, "decided", 0))
        self.status_message.emit(f"{plural(count, 'seat')} decided.")
        return count

    def close_campaign(self) -> None:
        """Carry out the chosen campaign's decisions and close it (the dialog)."""
        campaign = self.current_campaign()
        if campaign is None:
            return
        from seatledger.ui.dialogs.reviews import CloseCampaignDialog  # noqa: PLC0415

        dialog = CloseCampaignDialog(self.services, campaign, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.outcome is not None:
            self.status_message.emit(
                f"{campaign.name} closed: {dialog.outcome.message} Export signed report… writes "
                "the report internal auditors verify."
            )
            self.signed_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def export_signed(self, folder: Path | None = None) -> Path | None:
        """Write the chosen closed campaign's signed report (the dialog); returns its zip."""
        campaign = self.current_campaign()
        if campaign is None or campaign.status is not CampaignStatus.CLOSED:
            return None
        from seatledger.ui.dialogs.reviews import SignedReportDialog  # noqa: PLC0415

        dialog = SignedReportDialog(self.services, campaign, self, folder=folder)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.written is None:
            return None
        self.status_message.emit(
            f"Signed report of {campaign.name} written to {dialog.written.zip_path}."
        )
        return dialog.written.zip_path

    def export_report(self, path: Path | None = None) -> Path | None:
        """Write the chosen campaign's seats, decisions and outcomes to a CSV file."""
        campaign = self.current_campaign()
        if campaign is None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self,
                "Export access review",
                f"access-review-{campaign.id}.csv",
                "CSV files (*.csv)",
            )
            if not name:
                return None
            path = Path(name)
        written = write_csv(self.services.reviews.items(campaign.id), path)
        self.status_message.emit(f"Access review written to {written}.")
        return written

    # ------------------------------------------------------------------ state
    def layouts(self) -> dict[str, Stateful]:
        """The column widths."""
        return {"reviews/header": self.table.horizontalHeader()}
