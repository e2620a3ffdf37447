"""Assigning seats of a license to people or devices, one or thousands at once, and releasing them.

The dialog previews the purchased-limit rule as the selection changes (the same domain rule the
service applies), so the operator sees before clicking whether the rights suffice; the service
still decides.  Going over the limit is possible only for an administrator, with a reason, and is
recorded as an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from seatledger.domain.licensing import LimitState, Metric, check_assignment
from seatledger.domain.roles import Permission, allows
from seatledger.errors import ValidationError
from seatledger.progress import Progress
from seatledger.services.catalog.queries import EntitlementRow
from seatledger.services.directory.queries import (
    DeviceColumn,
    DeviceQuery,
    PeopleColumn,
    PeopleQuery,
)
from seatledger.services.operators.session import Services
from seatledger.services.seats.service import AssignResult
from seatledger.text import agree, plural
from seatledger.ui.dialogs.common import (
    FormDialog,
    InlineMessage,
    PickerTable,
    helper_button,
    make_form,
    ok_cancel,
    set_invalid,
)
from seatledger.ui.dialogs.errors import show_error
from seatledger.ui.presenters import DevicePresenter
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.tasks import Task, runner_for
from seatledger.ui.widgets import accessible

ALL_TEAMS = -1


def _unit_word(row: EntitlementRow, rated: bool = False) -> str:
    if rated and row.metric is Metric.PER_CORE:
        return "unit"  # cores rated by processor: PVUs, or core factor licenses
    units = {"per_core": "core", "per_processor": "processor"}
    return units.get(row.metric.value, "seat")


class AssignDialog(QDialog):
    """Assigns seats of one license to the people or devices selected in a searchable table.

    After Accepted, :attr:`result` is the service's :class:`AssignResult`.
    """

    # The contract names the outcome ``result``; QDialog.result() is never called on this class.
    result: AssignResult | None  # type: ignore[assignment]

    def __init__(
        self, services: Services, entitlement_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.entitlement_id = entitlement_id
        self.result = None
        self.license = services.reads.entitlement_row(entitlement_id)
        counted = services.reads.entitlement(entitlement_id)[0]
        self.min_cores = counted.min_cores_per_processor
        self.unit_table = counted.unit_table  # rates by processor; "" when none
        self.to_devices = self.license.metric.assigns_to_device
        self.may_over_commit = allows(services.actor.role, Permission.OVER_COMMIT)
        self._units: dict[int, int | None] = {}  # None: the device's hardware is unknown
        self._needed = 0
        self._unknown = 0  # selected devices whose cores (or processors) are unknown
        self.setWindowTitle(f"Assign seats — {self.license.title}")
        self.setMinimumSize(800, 560)

        self.title = QLabel(self.license.title)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setWordWrap(True)

        self.team_combo = QComboBox()
        self.team_combo.setMinimumWidth(180)
        accessible(self.team_combo, "Team filter")
        if self.to_devices:
            self.picker = PickerTable(
                self._device_query,
                sort_column=DeviceColumn.HOSTNAME,
                multi=True,
                presenter=DevicePresenter(),
                hidden_columns=(DeviceColumn.SEATS,),
                widths={
                    DeviceColumn.HOSTNAME: 16,
                    DeviceColumn.SERIAL: 11,
                    DeviceColumn.OWNER: 18,
                    DeviceColumn.PROCESSORS: 9,
                    DeviceColumn.CORES: 8,
                    DeviceColumn.PROCESSOR_MODEL: 22,
                },
                stretch=DeviceColumn.OS,
                empty_hint="No device matches the search.",
                name="Devices",
                placeholder="Search devices by host name or serial",
            )
        else:
            self.team_combo.addItem("All teams", ALL_TEAMS)
            for team in services.directory.teams():
                self.team_combo.addItem(team.name, team.id)
            self.team_combo.currentIndexChanged.connect(lambda _i: self.picker.refilter())
            self.picker = PickerTable(
                self._people_query,
                sort_column=PeopleColumn.NAME,
                multi=True,
                hidden_columns=(
                    PeopleColumn.MANAGER,
                    PeopleColumn.COST_CENTRE,
                    PeopleColumn.STATUS,
                    PeopleColumn.SEATS,
                ),
                widths={
                    PeopleColumn.EMPLOYEE_ID: 10,
                    PeopleColumn.NAME: 22,
                    PeopleColumn.EMAIL: 26,
                },
                stretch=PeopleColumn.TEAM,
                empty_hint="No active person matches the search and team.",
                placeholder="Search people by name, employee ID or email",
                name="People",
            )
        self.picker.filters.addWidget(self.team_combo)
        self.team_combo.setVisible(not self.to_devices)
        self.select_all = helper_button("Select &all shown")
        self.select_all.clicked.connect(self.picker.view.selectAll)
        self.picker.filters.addWidget(self.select_all)
        self.picker.selection_changed.connect(self._selection_changed)

        self.summary = QLabel()
        self.note = QLineEdit()
        self.note.setPlaceholderText("optional, stored with each seat, e.g. ticket INC-20931")
        self.over_commit = QCheckBox("&Over-commit (recorded as an exception)")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("required: why the licenses may be exceeded")
        self.over_commit.toggled.connect(self._over_commit_toggled)
        self.reason.textChanged.connect(self._reason_edited)
        self.message = InlineMessage()
        self.buttons, self.ok_button = ok_cancel(self, self._submit)

        search_label = QLabel("&Find:")
        search_label.setBuddy(self.picker.search)
        self.picker.filters.insertWidget(0, search_label)
        form = make_form()
        note_label = QLabel("&Note:")
        note_label.setBuddy(self.note)
        form.addRow(note_label, self.note)
        form.addRow("", self.over_commit)
        self.reason_label = QLabel("&Reason:")
        self.reason_label.setBuddy(self.reason)
        form.addRow(self.reason_label, self.reason)
        self._form = form
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.picker, 1)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.message)
        self.busy = ProgressStrip(parent=self, cancellable=False)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does the dialog remember it as its default.
        self.ok_button.setDefault(True)
        for first, second in (
            (self.picker.search, self.team_combo),
            (self.team_combo, self.select_all),
            (self.select_all, self.picker.view),
            (self.picker.view, self.note),
            (self.note, self.over_commit),
            (self.over_commit, self.reason),
            (self.reason, self.ok_button),
        ):
            QWidget.setTabOrder(first, second)
        self._show_facts()
        self._selection_changed()
        self.picker.search.setFocus()

    # ------------------------------------------------------------------ queries
    def _people_query(self, text: str, column: int, descending: bool) -> PeopleQuery:
        team = self.team_combo.currentData()
        return self.services.reads.people(
            text,
            column,
            descending,
            team_id=None if team in (None, ALL_TEAMS) else int(team),
            status="active",
            without_seat_of=self.entitlement_id,
        )

    def _device_query(self, text: str, column: int, descending: bool) -> DeviceQuery:
        return self.services.reads.devices(
            text, column, descending, without_seat_of=self.entitlement_id
        )

    # ------------------------------------------------------------------ state
    def _show_facts(self) -> None:
        lic = self.license
        unit = _unit_word(lic, bool(self.unit_table))
        parts = [lic.metric.label]
        if self.min_cores and lic.metric is Metric.PER_CORE:
            parts.append(f"at least {self.min_cores} cores per processor")
        if self.unit_table and lic.metric is Metric.PER_CORE:
            parts.append(f"units per core by processor: {self.unit_table}")
        if lic.metric.unlimited:
            parts.append(f"{plural(lic.used, unit)} assigned, no limit (site license)")
        else:
            parts.append(f"{lic.used:,} of {plural(lic.quantity, unit)} used")
            parts.append(f"{max(lic.free, 0):,} free")
        if lic.term_start or lic.term_end:
            start = lic.term_start.isoformat() if lic.term_start else "open"
            end = lic.term_end.isoformat() if lic.term_end else "open"
            parts.append(f"term {start} – {end}")
        self.facts.setText("  ·  ".join(parts))

    def selected_keys(self) -> list[int]:
        """The selected people or devices."""
        return self.picker.selected_keys()

    def _units_for(self, keys: Sequence[int]) -> int:
        if not self.to_devices:
            return len(keys)
        missing = [k for k in keys if k not in self._units]
        if missing:  # the service counts them as the assignment will
            self._units.update(self.services.seats.units_for_devices(self.entitlement_id, missing))
        self._unknown = sum(k in self._units and self._units[k] is None for k in keys)
        return sum(self._units.get(k) or 0 if k in self._units else 1 for k in keys)

    def _state(self) -> LimitState:
        lic = self.license
        return LimitState(
            lic.title, lic.metric, lic.quantity, lic.used, lic.term_start, lic.term_end
        )

    def _selection_changed(self) -> None:
        keys = self.selected_keys()
        self._needed = self._units_for(keys)
        lic = self.license
        selected = plural(len(keys), "device" if self.to_devices else "person")
        if not keys:
            self.summary.setText(
                f"Select the {'devices' if self.to_devices else 'people'} to give a seat."
            )
        elif lic.metric.unlimited:
            self.summary.setText(f"{selected} selected · site license, no limit")
        else:
            unit = _unit_word(lic, bool(self.unit_table))
            self.summary.setText(
                f"{selected} selected · needs {plural(self._needed, unit)}"
                f" · {max(lic.free, 0):,} free"
            )
        count = len(keys)
        self.ok_button.setText(f"Assign {plural(count, 'seat')}" if count else "Assign")
        self._update()

    def over_limit(self) -> bool:
        """Whether the selection needs more rights than are free."""
        lic = self.license
        return not lic.metric.unlimited and lic.used + self._needed > lic.quantity

    def _update(self) -> None:
        today = self.services.seats.today()  # the session's clock, as the service decides
        term = check_assignment(self._state(), 0, today, override=True)
        over = self.over_limit() and term.allowed
        offer = over and self.may_over_commit
        self.over_commit.setVisible(offer)
        self._form.setRowVisible(self.reason, offer)
        if not offer and self.over_commit.isChecked():
            self.over_commit.setChecked(False)
        ready = bool(self._needed)
        if not term.allowed:
            self.message.show_message(term.message, "error")
            ready = False
        elif self._unknown and self.unit_table and self.license.metric is Metric.PER_CORE:
            self.message.show_message(
                f"{plural(self._unknown, 'selected device')} {agree(self._unknown, 'has')} "
                "unknown cores or a processor this license has no rate for (or none "
                "recorded), so their seats cannot be counted; record the device's processor "
                "model (Devices, Edit) or add a rate to the license.",
                "error",
            )
            ready = False
        elif self._unknown:
            lacking = "processors" if self.license.metric is Metric.PER_PROCESSOR else "cores"
            self.message.show_message(
                f"The {lacking} of {plural(self._unknown, 'selected device')} are unknown, so "
                f"their seats cannot be counted; record them on the device first (Devices, "
                "Edit).",
                "error",
            )
            ready = False
        elif over:
            limit = check_assignment(self._state(), self._needed, today, override=False).message
            if self.may_over_commit:
                self.message.show_message(
                    f"{limit} To assign anyway, tick Over-commit and give the reason; it is "
                    "recorded as an exception under your name.",
                    "warning",
                )
                ready = ready and self.over_commit.isChecked() and bool(self.reason.text().strip())
            else:
                self.message.show_message(
                    f"{limit} Only an administrator may assign beyond the purchased limit; "
                    "select fewer or ask for more licenses.",
                    "error",
                )
                ready = False
        else:
            self.message.clear_message()
        self.ok_button.setEnabled(ready)

    def _over_commit_toggled(self, checked: bool) -> None:
        self.reason.setEnabled(checked)
        if checked:
            self.reason.setFocus()
        self._update()

    def _reason_edited(self) -> None:
        set_invalid(self.reason, False, self.reason_label)
        self._update()

    # ------------------------------------------------------------------ assigning
    def _submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        keys = self.selected_keys()
        over = self.over_commit.isVisible() and self.over_commit.isChecked()
        seats, entitlement_id = self.services.seats, self.entitlement_id
        people, devices = ((), keys) if self.to_devices else (keys, ())
        reason, note = (self.reason.text() if over else ""), self.note.text()

        def work(_progress: Progress) -> AssignResult:
            return seats.assign(
                entitlement_id,
                people=people,
                devices=devices,
                reason=reason,
                over_commit=over,
                note=note,
            )

        # Checking the limit and writing a thousand seats takes a while: off the GUI thread.
        task = Task(work).on_done(self._assigned)
        task.failed.connect(lambda text, details: self._failed(task, text, details))
        task.finished.connect(lambda: self._set_busy(False))
        self._set_busy(True)
        self.busy.follow(task, f"{self.ok_button.text()}…")
        runner_for(self).start(task)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.picker, self.team_combo, self.select_all, self.note):
            widget.setEnabled(not busy)
        self.over_commit.setEnabled(not busy)
        self.reason.setEnabled(not busy and self.over_commit.isChecked())
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not busy)
        if busy:
            self.ok_button.setEnabled(False)

    def _assigned(self, outcome: AssignResult) -> None:
        self.result = outcome
        self.accept()

    def _failed(self, task: Task[AssignResult], text: str, details: str) -> None:
        error = task.error
        if isinstance(error, ValidationError) and error.field == "Reason":
            set_invalid(self.reason, True, self.reason_label)
        self._set_busy(False)
        self._refused(text)
        if details:
            show_error(self, text, details)

    def reject(self) -> None:
        """Close, unless the seats are being assigned (that cannot be taken back halfway)."""
        if not self.busy.busy:
            super().reject()

    def _refused(self, text: str) -> None:
        # Someone may have used seats meanwhile: show the figures the refusal was based on.
        self.license = self.services.reads.entitlement_row(self.entitlement_id)
        self._show_facts()
        self._selection_changed()
        self.message.show_message(text, "error")
        self.ok_button.setEnabled(False)


# ------------------------------------------------------------------------------ releasing


class ReleaseDialog(FormDialog):
    """Confirms releasing seats, with an optional reason; :attr:`released` counts them."""

    def __init__(
        self, services: Services, assignment_ids: Sequence[int], parent: QWidget | None = None
    ) -> None:
        count = len(assignment_ids)
        super().__init__("Release seats", "Release", parent)
        self.services = services
        self.assignment_ids = list(assignment_ids)
        self.released = 0
        self.set_intro(
            f"<b>Release {plural(count, 'seat')}?</b><br>The rights return to their license; "
            "the assignments stay in the history."
        )
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("optional, e.g. moved to another team")
        self.reason.setMinimumWidth(300)
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self.finish()

    def complete(self) -> bool:
        """There is something to release."""
        return bool(self.assignment_ids)

    def save(self) -> None:
        """Release the seats."""
        self.released = self.services.seats.release(self.assignment_ids, self.reason.text())


def confirm_release(
    parent: QWidget | None, services: Services, assignment_ids: Sequence[int]
) -> bool:
    """Ask "Release N seats?" and release them; True when they were released."""
    return ReleaseDialog(services, assignment_ids, parent).exec() == QDialog.DialogCode.Accepted


class ReleaseDepartedDialog(FormDialog):
    """Confirms releasing every seat held by people who left; :attr:`released` counts them."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__("Release seats of people who left", "Release", parent)
        self.services = services
        self.released: int | None = None
        self.people, self.seats = services.seats.departed_holdings()
        if self.seats:
            self.set_intro(
                f"<b>Release {plural(self.seats, 'seat')} held by "
                f"{plural(self.people, 'person')} who left "
                "the organization?</b><br>The rights return to their licenses; the "
                "assignments stay in the history."
            )
        else:
            self.set_intro("No one who left the organization holds a seat.")
        self.reason = QLineEdit("People who left the organization")
        self.reason.setMinimumWidth(300)
        self.add_row("&Reason:", self.reason, names=("Reason",))
        self.finish()

    def complete(self) -> bool:
        """There are seats to release and a reason."""
        return bool(self.seats and self.reason.text().strip())

    def save(self) -> None:
        """Release the seats."""
        self.released = self.services.seats.release_departed(self.reason.text())


def confirm_release_departed(parent: QWidget | None, services: Services) -> int | None:
    """Ask to release the seats of people who left and do it; the number released, or None."""
    dialog = ReleaseDepartedDialog(services, parent)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return dialog.released
    return None
