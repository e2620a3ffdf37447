"""The import wizard: choose a file, check its preview, then import it whole or not at all.

Page one names the kind and the file (and a saved column mapping, and for people whether the file
is a full HR export).  Page two shows what the preview found: format, encoding, delimiter, the
first rows as they will be read, and every problem by line, column and value; the import stays
disabled until there are none, and the date order and the column mapping can be fixed in place.
Page three imports in one transaction and shows what changed.  Preview and import run off the GUI
thread through the window's :class:`~seatledger.ui.tasks.Runner`, each with a progress bar and a
Cancel button; a cancelled import has written nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from seatledger.ingest import m365
from seatledger.ingest.formats import FIELDS, FORMATS, Kind, detect
from seatledger.ingest.snapshot_text import TAKEN_AT_FORMAT, taken_at_of
from seatledger.ingest.tabular import Problem
from seatledger.ingest.values import DateOrder
from seatledger.paths import expanded
from seatledger.progress import Progress
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.service import ImportRejected, ImportResult, Preview, record_fields
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.dialogs.common import (
    FormDialog,
    InlineMessage,
    helper_button,
    invalid_text_sheet,
    make_form,
    row,
    set_invalid,
    wait_cursor,
    wide,
)
from seatledger.ui.dialogs.errors import show_error
from seatledger.ui.dialogs.topology_import import TopologyImportDialog
from seatledger.ui.progress_strip import ProgressStrip
from seatledger.ui.table_model import (
    ALIGN,
    DISPLAY,
    ENABLED_SELECTABLE,
    HORIZONTAL,
    KEY_ROLE,
    LEFT,
    NO_FLAGS,
    RIGHT,
    TOOLTIP,
    AnyIndex,
    plain,
)
from seatledger.ui.tasks import Runner, Task
from seatledger.ui.theme import colors, keep_styled
from seatledger.ui.widgets import DataTable, accessible, name_by_labels

FILE_FILTER = (
    "Exports and spreadsheets (*.csv *.txt *.xlsx);;CSV files (*.csv);;Text files (*.txt);;"
    "Excel workbooks (*.xlsx);;All files (*)"
)
NO_MAPPING = "None"
NOT_IN_FILE = "(not in this file)"
SHA_SHOWN = 12
# The reason the preview gives slash dates whose day and month cannot be told apart.
AMBIGUOUS_DATE = "choose the date order"
LONG_CELL = 40
MIN_SECTION = 56  # pixels: a column fitted to a short header still reads as a column
MAX_SECTION = 320  # pixels: no column fitted to its contents grows beyond this


def problems_headline(total: int, shown: int) -> str:
    """The line above the problem table."""
    if not total:
        return "No problems found"
    text = f"{plural(total, 'problem')} — nothing can be imported until they are fixed"
    if shown < total:
        text += f" (the first {shown:,} are listed)"
    return text


def known_layouts(kind: Kind) -> str:
    """What page one says about the layouts of ``kind`` recognized without help."""
    names = [f.name for f in FORMATS if f.kind is kind]
    if kind is Kind.USAGE:
        names[:0] = [
            "FlexNet lmstat -a output",
            "Reprise RLM rlmstat -a output",
            "X-Formation LM-X lmxendutil -licstat output",
            "Sentinel RMS lsmon output",
            "Dassault DSLS getLicenseUsage output",
            f"the {m365.FORMAT_NAME} report",
        ]
    if kind is Kind.GRANTS:
        return (
            "The output of 'lmutil lmstat -i' (or 'lmstat -i -c license.dat'): the features a "
            "license file grants, with their counts and expiry dates, compared with the "
            "purchases on the Reconciliation page. Name the server it was read from: a newer "
            "import of the same server replaces its grants."
        )
    known = f"Recognized as they are: {', '.join(names)}. " if names else ""
    return (
        f"{known}Other files are matched by their column names; a field still without a column "
        "can be mapped on the next page, and the mapping saved for next time."
    )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


def _local(moment: dt.datetime) -> str:
    return plain(moment.astimezone() if moment.tzinfo is not None else moment)


# ------------------------------------------------------------------------------------- models


def _show_failure(page: QWidget, message: InlineMessage, text: str, details: str) -> None:
    """Say in the page why reading the file failed; the details, if any, in an error dialog."""
    message.show_message(text, "error")
    if details:
        show_error(page, text, details)


class LinesModel(QAbstractTableModel):
    """Rows of text under fixed headers, the first column the file's line number.

    A preview holds at most a few hundred rows, so the model keeps them all; :data:`KEY_ROLE`
    gives a row's line number (0 for the file as a whole).
    """

    COL_LINE = 0

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._lines: list[int] = []
        self._rows: list[list[str]] = []

    def set_rows(self, headers: Sequence[str], rows: Sequence[tuple[int, Sequence[str]]]) -> None:
        """Show ``rows`` of (line, cells) under ``headers`` (the first of which is the line's)."""
        width = len(headers) - 1
        self.beginResetModel()
        self._headers = list(headers)
        self._lines = [line for line, _ in rows]
        self._rows = [
            [str(line) if line else "—", *(list(cells) + [""] * width)[:width]]
            for line, cells in rows
        ]
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of rows (0 under a valid parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        """Number of headers."""
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        """Column titles; rows are not numbered (the line column says where each came from)."""
        if orientation != HORIZONTAL or not 0 <= section < len(self._headers):
            return None
        if role == DISPLAY:
            return self._headers[section]
        if role == ALIGN:
            return RIGHT if section == self.COL_LINE else LEFT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        """Selectable (to copy from), never editable."""
        return ENABLED_SELECTABLE if index.isValid() else NO_FLAGS

    def data(self, index: AnyIndex, role: int = DISPLAY) -> Any:
        """Cell text, its alignment, the full text of long cells, and the line number."""
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        column = index.column()
        if role == DISPLAY:
            return self._rows[index.row()][column]
        if role == ALIGN:
            return RIGHT if column == self.COL_LINE else LEFT
        if role == KEY_ROLE:
            return self._lines[index.row()]
        if role == TOOLTIP:
            if column == self.COL_LINE and not self._lines[index.row()]:
                return "The file as a whole"
            text = self._rows[index.row()][column]
            return text if len(text) > LONG_CELL else None
        return None


class SampleModel(LinesModel):
    """The first rows of a file as the import will read them, one column per field."""

    def set_sample(self, kind: Kind, sample: Sequence[tuple[int, Sequence[str]]]) -> None:
        """Show a preview's sample rows."""
        self.set_rows(("Line", *record_fields(kind)), sample)


class ProblemModel(LinesModel):
    """The problems a preview or an import found: line, column, value and why."""

    COL_COLUMN, COL_VALUE, COL_REASON = 1, 2, 3
    HEADERS = ("Line", "Column", "Value", "Reason")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.set_problems([])

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Show ``problems``, first first."""
        self.set_rows(self.HEADERS, [(p.line, (p.column, p.value, p.reason)) for p in problems])


def _table(model: LinesModel, empty_hint: str = "") -> DataTable:
    view = DataTable()
    view.setModel(model)
    view.horizontalHeader().setSectionsMovable(False)
    view.set_empty_hint(empty_hint)
    return view


def _fit_columns(view: DataTable) -> None:
    """Size the columns to their contents, within reason; the last takes the spare width."""
    header = view.horizontalHeader()
    view.resizeColumnsToContents()
    for column in range(header.count()):
        header.resizeSection(column, max(MIN_SECTION, min(header.sectionSize(column), MAX_SECTION)))
    header.setStretchLastSection(True)


# ---------------------------------------------------------------------------- column mapping


class MapColumnsDialog(FormDialog):
    """Pick, for every field of a kind, the file's column that feeds it; optionally save it.

    After it is accepted, :attr:`columns` maps field keys to headers and :attr:`saved_name` is the
    name the mapping was saved under ('' when it was not saved).
    """

    def __init__(
        self,
        services: Services,
        kind: Kind,
        *,
        header: Sequence[str],
        current: Mapping[str, str],
        name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Map columns", "&Use these columns", parent)
        self.setObjectName("mapColumnsDialog")
        self.services = services
        self.kind = kind
        self.columns: dict[str, str] = {}
        self.saved_name = ""
        either = (
            " A full name may also come from a first and a last name."
            if kind is Kind.PEOPLE
            else ""
        )
        self.set_intro(
            "Choose the column of the file that holds each field. Fields marked * are needed; "
            f"the others may stay empty.{either}"
        )
        self._header = list(header)
        headers = list(dict.fromkeys(h for h in header if h.strip()))
        self.combos: dict[str, QComboBox] = {}
        for spec in FIELDS[kind]:
            combo = QComboBox()
            combo.addItem(NOT_IN_FILE, "")
            for heading in headers:
                combo.addItem(heading, heading)
            chosen = combo.findData(current.get(spec.key, ""))
            combo.setCurrentIndex(max(chosen, 0))
            self.combos[spec.key] = combo
            self.add_row(f"{spec.label}{' *' if spec.required else ''}:", wide(combo))
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("optional: a name to reuse these columns next time")
        self.add_row("&Save as:", wide(self.name_edit), names=("Mapping name",))
        self.finish()

    def chosen(self) -> dict[str, str]:
        """Field key -> header, for the fields that have a column."""
        return {
            key: str(combo.currentData())
            for key, combo in self.combos.items()
            if combo.currentData()
        }

    def missing(self) -> list[str]:
        """Labels of the needed fields still without a column (as the import will judge)."""
        return [f.label for f in detect(self.kind, self._header, self.chosen()).missing]

    def complete(self) -> bool:
        """Every needed field has a column."""
        return not self.missing()

    def problems(self) -> list[tuple[str, QWidget | None]]:
        """Name the needed fields still without a column, so a disabled button explains itself."""
        missing = self.missing()
        if not missing:
            return []
        return [(f"Still without a column: {', '.join(missing)}.", None)]

    def save(self) -> None:
        """Keep the columns; save them under the name, if one was given."""
        columns = self.chosen()
        name = self.name_edit.text().strip()
        if name:
            self.services.imports.save_mapping(name, self.kind, columns)
        self.columns, self.saved_name = columns, name


# ------------------------------------------------------------------------------------- pages


def _heading(text: str = "") -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


class ChoosePage(QWizardPage):
    """The kind, the file, an optional saved mapping and the full-export flag.

    Next runs the preview in the background; the wizard moves on when it is ready.
    """

    def __init__(self, wizard: ImportWizard, path: Path | None, kind: Kind | None) -> None:
        super().__init__()
        self._wizard = wizard
        self._advance = False
        self._in_validate = False
        self.setTitle("Choose the file")
        self.setSubTitle(
            "What the file holds and where it is. The next page shows what would be imported; "
            "nothing is written before you confirm."
        )
        self.setButtonText(QWizard.WizardButton.NextButton, "&Preview >")

        self.kind_combo = QComboBox()
        for each in Kind:
            self.kind_combo.addItem(each.label, each.value)
        if kind is not None:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind.value))
        self.path_edit = QLineEdit("" if path is None else str(path))
        self.path_edit.setPlaceholderText("A CSV, TXT or XLSX export")
        self.browse_button = helper_button("&Browse…")
        self.mapping_combo = QComboBox()
        self.full_export = QCheckBox("This is a full &HR export (flag people not in it)")
        self.full_export.setToolTip(
            "Everyone active in SeatLedger who is missing from the file is flagged for review."
        )
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("only for the export of one machine, which names none")
        self.host_edit.setToolTip(
            "A registry or Win32_Product listing run on one machine has no host column: "
            "name the machine it lists."
        )
        self.server_edit = QLineEdit()
        self.server_edit.setPlaceholderText("PORT@HOST, as in 27000@lic01, or the license file")
        self.server_edit.setToolTip(
            "The output of 'lmstat -i' names no server: name the one it was read from. A newer "
            "import of the same server replaces its grants."
        )
        self.taken_edit = QLineEdit()
        self.taken_edit.setPlaceholderText(
            f"{TAKEN_AT_FORMAT}, only for LM-X, lsmon and DSLS output (they print no time)"
        )
        self.taken_edit.setToolTip(
            "lmxendutil, lsmon and DSLicSrv do not say when they ran: give the license server's "
            "time, or leave it empty to date the snapshot by the latest time it shows."
        )
        self.layouts = QLabel()
        self.layouts.setWordWrap(True)
        self.layouts.setObjectName("knownLayouts")
        self.message = InlineMessage()
        self.strip = ProgressStrip("Cancel preview")

        form = make_form()
        kind_label = QLabel("&Kind:")
        kind_label.setBuddy(self.kind_combo)
        form.addRow(kind_label, wide(self.kind_combo))
        file_label = QLabel("&File:")
        file_label.setBuddy(self.path_edit)
        form.addRow(file_label, row(self.path_edit, self.browse_button))
        mapping_label = QLabel("Saved &mapping:")
        mapping_label.setBuddy(self.mapping_combo)
        form.addRow(mapping_label, wide(self.mapping_combo))
        form.addRow("", self.full_export)
        host_label = QLabel("&Host name:")
        host_label.setBuddy(self.host_edit)
        form.addRow(host_label, wide(self.host_edit))
        server_label = QLabel("License &server:")
        server_label.setBuddy(self.server_edit)
        form.addRow(server_label, wide(self.server_edit))
        taken_label = QLabel("Snapshot &taken at:")
        taken_label.setBuddy(self.taken_edit)
        form.addRow(taken_label, wide(self.taken_edit))
        self._taken_label = taken_label
        self._form = form

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addWidget(self.layouts)
        layout.addWidget(self.message)
        self.topology_button = helper_button("Server topolog&y (RVTools, Hyper-V)…")
        self.topology_button.setObjectName("importTopology")
        self.topology_button.setToolTip(
            "An export of several files read together: hosts, clusters and VMs for the Servers page"
        )
        self.topology_button.clicked.connect(self._topology)
        layout.addWidget(self.topology_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        layout.addWidget(self.strip)

        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.path_edit.textChanged.connect(self._edited)
        self.mapping_combo.currentIndexChanged.connect(self._edited)
        self.full_export.toggled.connect(self._edited)
        self.host_edit.textChanged.connect(self._edited)
        self.server_edit.textChanged.connect(self._edited)
        self.taken_edit.textChanged.connect(self._edited)
        self.browse_button.clicked.connect(self._browse)
        self.strip.busy_changed.connect(self._busy_changed)
        self._kind_changed()

    @property
    def kind(self) -> Kind:
        """The kind chosen."""
        return Kind(self.kind_combo.currentData())

    @property
    def path(self) -> Path:
        """The file named."""
        return expanded(self.path_edit.text().strip())

    def reload_mappings(self, select: str = "") -> None:
        """Refill the kind's saved mappings; select ``select``, else keep the current choice."""
        keep = select or self.mapping_combo.currentData()
        names = self._wizard.services.imports.mappings(self.kind)
        self.mapping_combo.blockSignals(True)
        self.mapping_combo.clear()
        self.mapping_combo.addItem(NO_MAPPING, "")
        for name in names:
            self.mapping_combo.addItem(name, name)
        self.mapping_combo.setCurrentIndex(max(self.mapping_combo.findData(keep), 0))
        self.mapping_combo.blockSignals(False)

    def isComplete(self) -> bool:
        """A file is named and no preview is running."""
        return bool(self.path_edit.text().strip()) and not self.strip.busy

    def validatePage(self) -> bool:
        """Start the preview; move on once it is ready (at once when the runner is synchronous)."""
        if self._take_advance():
            return True
        if self.strip.busy:
            return False
        self._in_validate = True
        try:
            self._start_preview()
        finally:
            self._in_validate = False
        return self._take_advance()

    # ------------------------------------------------------------------ internals
    def _topology(self) -> None:
        """A hypervisor export is several files read together: its own dialog imports it."""
        dialog = TopologyImportDialog(self._wizard.services, self)

        def imported(summary: str) -> None:
            self._wizard.result_summary = summary
            self._wizard.accept()

        dialog.imported.connect(imported)
        dialog.open()

    def _take_advance(self) -> bool:
        advance, self._advance = self._advance, False
        return advance

    def _kind_changed(self) -> None:
        self._form.setRowVisible(self.full_export, self.kind is Kind.PEOPLE)
        self._form.setRowVisible(self.host_edit, self.kind is Kind.INVENTORY)
        self._form.setRowVisible(self.server_edit, self.kind is Kind.GRANTS)
        self._form.setRowVisible(self.taken_edit, self.kind is Kind.USAGE)
        self.layouts.setText(known_layouts(self.kind))
        self.reload_mappings()
        self._edited()

    def _edited(self) -> None:
        self.message.clear_message()
        set_invalid(self.taken_edit, False, self._taken_label)
        self.completeChanged.emit()

    def _browse(self) -> None:
        current = self.path_edit.text().strip()
        start = str(expanded(current).parent) if current else str(Path.home())
        chosen, _filter = QFileDialog.getOpenFileName(
            self, "Choose the file to import", start, FILE_FILTER
        )
        if chosen:
            self.path_edit.setText(chosen)

    def _options(self) -> ImportOptions:
        kind, path = self.kind, self.path
        mapping_name = str(self.mapping_combo.currentData() or "")
        options = ImportOptions(
            kind,
            mapping_name=mapping_name,
            full_export=self.full_export.isChecked() and kind is Kind.PEOPLE,
            host=self.host_edit.text().strip() if kind is Kind.INVENTORY else "",
            server=self.server_edit.text().strip() if kind is Kind.GRANTS else "",
            taken_at=self._taken_at() if kind is Kind.USAGE else None,
        )
        previous = self._wizard.import_options
        if previous is None or previous.kind is not kind or self._wizard.path != path:
            return options
        # Same file again: keep what was settled on the preview page.
        options = dataclasses.replace(options, date_order=previous.date_order)
        if not mapping_name and previous.mapping is not None and not previous.mapping_name:
            options = dataclasses.replace(options, mapping=previous.mapping)
        return options

    def _taken_at(self) -> dt.datetime | None:
        text = self.taken_edit.text().strip()
        return taken_at_of(text) if text else None

    def _start_preview(self) -> None:
        if self.kind is Kind.USAGE and self.taken_edit.text().strip() and self._taken_at() is None:
            set_invalid(self.taken_edit, True, self._taken_label)
            self.message.show_message(
                f"'{self.taken_edit.text().strip()}' is not a time: give {TAKEN_AT_FORMAT} (the "
                "license server's time when the snapshot was taken), or leave it empty."
            )
            return
        path, base = self.path, self._options()
        imports = self._wizard.services.imports

        def work(progress: Progress) -> tuple[ImportOptions, Preview]:
            options = base
            if base.mapping_name:
                _kind, columns = imports.mapping(base.mapping_name)
                options = dataclasses.replace(base, mapping=columns)
            return options, imports.preview(path, options, progress)

        self.message.clear_message()
        task = Task(work).on_done(self._previewed)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        self.strip.run(self._wizard.runner, task, f"Reading {path.name}…")

    def _previewed(self, outcome: tuple[ImportOptions, Preview]) -> None:
        options, preview = outcome
        self._wizard.set_preview(self.path, options, preview)
        self._advance = True

    def _failed(self, text: str, details: str) -> None:
        _show_failure(self, self.message, text, details)

    def _cancelled(self) -> None:
        self.message.show_message(
            "The preview was cancelled. Choose Preview to read the file again.", "info"
        )

    def _busy_changed(self, busy: bool) -> None:
        for widget in (self.kind_combo, self.path_edit, self.browse_button, self.mapping_combo):
            widget.setEnabled(not busy)
        self.full_export.setEnabled(not busy)
        self.host_edit.setEnabled(not busy)
        self.server_edit.setEnabled(not busy)
        self.taken_edit.setEnabled(not busy)
        self.completeChanged.emit()
        if not busy:
            if self._advance and not self._in_validate:
                self._wizard.next()
            elif not self._advance:
                self.path_edit.setFocus(Qt.FocusReason.OtherFocusReason)


class PreviewPage(QWizardPage):
    """What the preview found; the import button stays disabled while there are problems."""

    SUMMARY = ("File", "Format", "Encoding", "Delimiter", "Rows", "Size", "SHA-256", "Dates")

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.mapping_dialog: MapColumnsDialog | None = None
        self.setTitle("Check the preview")
        self.setSubTitle(
            "The whole file was read; nothing has been written. Fix every problem (in the file, "
            "or with the date order and the columns below) before importing."
        )
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Import")

        self.summary: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        half = (len(self.SUMMARY) + 1) // 2
        for number, name in enumerate(self.SUMMARY):
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            value.setWordWrap(True)  # long format names wrap instead of being cut off
            label = QLabel(f"{name}:")
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            line, pair = number % half, number // half
            grid.addWidget(label, line, pair * 2)
            grid.addWidget(value, line, pair * 2 + 1)
            self.summary[name] = value
        grid.setColumnMinimumWidth(1, 300)
        grid.setColumnMinimumWidth(3, 340)
        grid.setColumnStretch(4, 1)

        self.warning = InlineMessage()
        self.notes = InlineMessage()
        self.missing = InlineMessage()
        self.date_label = QLabel("&Date order:")
        self.date_combo = QComboBox()
        self.date_combo.setPlaceholderText("Choose…")
        for order in DateOrder:
            self.date_combo.addItem(order.label[0].upper() + order.label[1:], order.value)
        self.date_label.setBuddy(self.date_combo)
        self.map_button = helper_button("Map &columns…")
        self.map_button.setToolTip("Choose which column of the file feeds each field")
        controls = row(self.date_label, self.date_combo, 0, self.map_button)

        self.sample_model = SampleModel(self)
        self.sample_view = _table(
            self.sample_model, "No rows are read until every needed field has a column."
        )
        self.problem_model = ProblemModel(self)
        self.problem_view = accessible(_table(self.problem_model), "Problems found")
        accessible(self.sample_view, "First rows, as they will be read")
        self.problem_count = _heading()
        self.problem_count.setObjectName("problemCount")
        sample_label = _heading("First rows, as they will be read")
        sample_label.setBuddy(self.sample_view)

        self.skip_invalid = QCheckBox()
        self.skip_invalid.setToolTip(
            "Commit the rows without problems; the refused rows go to a CSV file beside the "
            "imported one (the same columns, then line and reason), named in the ledger entry."
        )
        self.skip_invalid.setText("&Skip the refused rows")  # says how many once previewed
        self.skip_invalid.hide()
        self.message = InlineMessage()
        self.strip = ProgressStrip("Cancel preview")

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addLayout(grid)
        layout.addWidget(self.warning)
        layout.addWidget(self.notes)
        layout.addWidget(self.missing)
        layout.addLayout(controls)
        layout.addSpacing(4)
        layout.addWidget(sample_label)
        layout.addWidget(self.sample_view, 3)
        layout.addSpacing(4)
        layout.addWidget(self.problem_count)
        layout.addWidget(self.problem_view, 2)
        layout.addWidget(self.skip_invalid)
        layout.addWidget(self.message)
        layout.addWidget(self.strip)

        self.date_combo.activated.connect(self._date_chosen)
        self.skip_invalid.toggled.connect(self._skip_toggled)
        self.map_button.clicked.connect(self._map_columns)
        self.strip.busy_changed.connect(self._busy_changed)

    def initializePage(self) -> None:
        """Show the preview page one ran."""
        self.message.clear_message()
        self.show_preview()

    def cleanupPage(self) -> None:
        """Going back stops a preview that is running."""
        self.strip.cancel()

    def isComplete(self) -> bool:
        """The preview found nothing wrong (or the refused rows are to be skipped) and nothing
        is running."""
        preview = self._wizard.preview
        if preview is None or self.strip.busy:
            return False
        return preview.ok or (self.skip_invalid.isChecked() and preview.skippable)

    def rejects_path(self) -> Path | None:
        """Where refused rows go when the user chose to skip them (beside the imported file)."""
        path = self._wizard.path
        if path is None or not self.skip_invalid.isChecked():
            return None
        return path.with_name(f"{path.stem}.rejects.csv")

    def _skip_toggled(self) -> None:
        preview = self._wizard.preview
        if preview is not None and preview.problem_count:
            headline = problems_headline(preview.problem_count, len(preview.problems))
            if self.skip_invalid.isChecked():
                headline = (
                    f"{plural(preview.problem_count, 'problem')} — the rows they are on will be "
                    "refused and written out; the others imported"
                )
            self.problem_count.setText(headline)
        self.completeChanged.emit()

    @property
    def ambiguous_dates(self) -> bool:
        """Whether the preview found slash dates it cannot read without a date order."""
        preview = self._wizard.preview
        return preview is not None and any(AMBIGUOUS_DATE in p.reason for p in preview.problems)

    def show_preview(self) -> None:
        """Fill the page from the wizard's preview."""
        preview, options = self._wizard.preview, self._wizard.import_options
        if preview is None or options is None:
            return
        facts = preview.facts
        records = f"{preview.rows:,}"
        if preview.records != preview.rows:
            records += f" ({preview.records:,} records)"
        date_text = preview.date_note or (
            "Ambiguous: choose the date order below" if self.ambiguous_dates else "—"
        )
        values = {
            "File": facts.path.name,
            "Format": preview.format_name,
            "Encoding": facts.encoding_label,
            "Delimiter": preview.delimiter.capitalize() or "—",
            "Rows": records,
            "Size": _size(facts.size),
            "SHA-256": f"{facts.sha256[:SHA_SHOWN]}…",
            "Dates": date_text,
        }
        for name, text in values.items():
            self.summary[name].setText(text)
            self.summary[name].setToolTip(text)
        self.summary["File"].setToolTip(str(facts.path))
        self.summary["SHA-256"].setToolTip(facts.sha256)

        if preview.already_imported is not None:
            self.warning.show_message(
                f"This file was already imported on {_local(preview.already_imported)}; "
                "importing it again changes nothing.",
                "warning",
            )
        else:
            self.warning.clear_message()
        if preview.notes:
            self.notes.show_message("\n".join(preview.notes), "info")
        else:
            self.notes.clear_message()
        detection = preview.detection
        if detection is not None and detection.missing:
            fields = ", ".join(f.label for f in detection.missing)
            self.missing.show_message(
                f"No column of the file feeds {fields}. Choose Map columns… to pick the column "
                "from the file's headers, or go back and choose a saved mapping.",
                "error",
            )
        else:
            self.missing.clear_message()

        show_dates = self.ambiguous_dates or options.date_order is not None
        self.date_label.setVisible(show_dates)
        self.date_combo.setVisible(show_dates)
        self.date_combo.setCurrentIndex(
            -1 if options.date_order is None else self.date_combo.findData(options.date_order.value)
        )
        set_invalid(
            self.date_combo, self.ambiguous_dates and options.date_order is None, self.date_label
        )
        self.map_button.setVisible(detection is not None)

        self.sample_model.set_sample(preview.kind, preview.sample)
        _fit_columns(self.sample_view)
        self.problem_model.set_problems(preview.problems)
        _fit_columns(self.problem_view)
        self.problem_count.setText(problems_headline(preview.problem_count, len(preview.problems)))
        keep_styled(
            self.problem_count,
            invalid_text_sheet if preview.problem_count else lambda: f"color:{colors().good};",
        )
        self.problem_view.setVisible(bool(preview.problems))
        can_skip = bool(preview.problem_count) and preview.skippable
        if can_skip and self._wizard.path is not None:
            rows = plural(preview.refused_rows, "row")
            if preview.problem_count > len(preview.problems):
                rows = f"the {rows} shown and any others with problems"
            self.skip_invalid.setText(
                f"&Skip the refused rows: import the others and write {rows} to "
                f"{self._wizard.path.stem}.rejects.csv beside the file"
            )
        else:
            self.skip_invalid.setChecked(False)
        self.skip_invalid.setVisible(can_skip)
        self.completeChanged.emit()
        if detection is not None and detection.missing:
            self.map_button.setFocus(Qt.FocusReason.OtherFocusReason)
        elif show_dates and options.date_order is None:
            self.date_combo.setFocus(Qt.FocusReason.OtherFocusReason)
        elif can_skip:
            self.skip_invalid.setFocus(Qt.FocusReason.OtherFocusReason)
        else:  # nothing to decide: Return imports (the focus was left on Cancel)
            QTimer.singleShot(0, self._focus_import)

    def _focus_import(self) -> None:
        button = self._wizard.button(QWizard.WizardButton.CommitButton)
        if self.isVisible() and button.isEnabled():
            button.setFocus(Qt.FocusReason.OtherFocusReason)

    # ------------------------------------------------------------------ re-running
    def rerun(self, options: ImportOptions) -> None:
        """Preview the same file again with other options."""
        path = self._wizard.path
        if path is None:
            return
        imports = self._wizard.services.imports

        def work(progress: Progress) -> Preview:
            return imports.preview(path, options, progress)

        def previewed(preview: Preview) -> None:
            self._wizard.set_preview(path, options, preview)
            self.show_preview()

        self.message.clear_message()
        task = Task(work).on_done(previewed)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        self.strip.run(self._wizard.runner, task, f"Reading {path.name} again…")

    def _date_chosen(self, index: int) -> None:
        options = self._wizard.import_options
        if options is None or index < 0:
            return
        order = DateOrder(self.date_combo.itemData(index))
        if order is not options.date_order:
            self.rerun(dataclasses.replace(options, date_order=order))

    def _map_columns(self) -> None:
        preview, options = self._wizard.preview, self._wizard.import_options
        if preview is None or options is None or preview.detection is None:
            return
        header = preview.header
        current = {
            key: header[index]
            for key, index in preview.detection.columns.items()
            if 0 <= index < len(header)
        }
        dialog = MapColumnsDialog(
            self._wizard.services,
            options.kind,
            header=header,
            current=current,
            name=options.mapping_name,
            parent=self,
        )
        dialog.accepted.connect(lambda: self._mapped(dialog))
        self.mapping_dialog = dialog
        dialog.open()

    def _mapped(self, dialog: MapColumnsDialog) -> None:
        options = self._wizard.import_options
        if options is None:
            return
        choose_page = self._wizard.choose_page
        if dialog.saved_name:
            with wait_cursor():
                choose_page.reload_mappings(select=dialog.saved_name)
        else:  # columns chosen for this file only: going back must not bring a saved one back
            choose_page.mapping_combo.setCurrentIndex(0)
        self.rerun(
            dataclasses.replace(options, mapping=dialog.columns, mapping_name=dialog.saved_name)
        )

    def _failed(self, text: str, details: str) -> None:
        _show_failure(self, self.message, text, details)

    def _cancelled(self) -> None:
        self.message.show_message(
            "Reading the file again was cancelled; the preview shown is the earlier one.", "info"
        )
        self.show_preview()

    def _busy_changed(self, busy: bool) -> None:
        self.date_combo.setEnabled(not busy)
        self.map_button.setEnabled(not busy)
        self.completeChanged.emit()


class CommitPage(QWizardPage):
    """Imports the previewed file in one transaction and shows what changed."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._done = False
        self._written: ImportResult | None = None
        self.setTitle("Import")
        self.setSubTitle("The file is written in one transaction: all of it, or nothing.")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Close")
        self.status = _heading()
        self.status.setWordWrap(True)
        self.message = InlineMessage()
        self.notes_label = _heading("Notes")
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_count = _heading()
        keep_styled(self.problem_count, invalid_text_sheet)
        self.problem_model = ProblemModel(self)
        self.problem_view = accessible(_table(self.problem_model), "Rows refused")
        self.retry_button = helper_button("&Run the import again")
        self.strip = ProgressStrip("Cancel import")
        layout = QVBoxLayout(self)
        self._layout = layout
        layout.setSpacing(8)
        layout.addWidget(self.status)
        layout.addWidget(self.strip)
        layout.addWidget(self.message)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.notes)
        layout.addWidget(self.problem_count)
        layout.addWidget(self.problem_view, 1)
        layout.addLayout(row(self.retry_button, 0))
        self._filler = layout.count()
        layout.addStretch(1)
        self.retry_button.clicked.connect(self.start)
        self.strip.busy_changed.connect(self._busy_changed)
        self._show_details(notes=(), problems=None)

    def initializePage(self) -> None:
        """Start the import as soon as the page shows."""
        self.start()

    def isComplete(self) -> bool:
        """Close is enabled once the import has ended, whatever the outcome."""
        return self._done and not self.strip.busy

    def start(self) -> None:
        """Run the import of the previewed file with the previewed options."""
        wizard = self._wizard
        path, options, preview = wizard.path, wizard.import_options, wizard.preview
        if path is None or options is None or preview is None:
            return
        rejects = wizard.preview_page.rejects_path()
        if rejects is not None and not preview.ok:
            options = dataclasses.replace(options, skip_invalid=True, rejects=rejects)
        imports = wizard.services.imports
        sha256 = preview.facts.sha256
        self._done = False
        self._written = None
        self.message.clear_message()
        self.retry_button.hide()
        self._show_details(notes=(), problems=None)
        self.status.setText(f"Importing {path.name}…")

        def work(progress: Progress) -> ImportResult | ImportRejected:
            try:
                result = imports.commit(
                    path,
                    options,
                    expected_sha256=sha256,
                    progress=progress,
                )
            except ImportRejected as exc:
                return exc
            # Read back if a cancel arrives after the transaction committed.
            self._written = result
            return result

        task = Task(work).on_done(self._succeeded)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        self.strip.run(self._wizard.runner, task, "Writing…")

    def _succeeded(self, outcome: ImportResult | ImportRejected) -> None:
        name = self._name()
        if isinstance(outcome, ImportRejected):
            self.status.setText(f"{name} was not imported.")
            self.message.show_message(
                f"{plural(outcome.total, 'problem')} found while "
                "importing; nothing was written. Fix the file and import it again.",
                "error",
            )
            self._show_details(notes=(), problems=outcome)
            self._wizard.result_summary = (
                f"{name}: {plural(outcome.total, 'problem')}; nothing was imported."
            )
            return
        self._wizard.imported = outcome
        self._wizard.result_summary = outcome.summary()
        self.status.setText(
            f"{name} was already imported." if outcome.already_imported else f"Imported {name}."
        )
        self.message.show_message(outcome.summary(), "info")
        self._show_details(notes=outcome.notes, problems=None)

    def _failed(self, text: str, details: str) -> None:
        name = self._name()
        self.status.setText(f"{name} was not imported.")
        self.message.show_message(f"{text}\nNothing was written.", "error")
        self._wizard.result_summary = f"The import of {name} failed; nothing was written."
        self.retry_button.show()
        if details:
            show_error(self, text, details)

    def _cancelled(self) -> None:
        if self._written is not None:
            self._succeeded(self._written)
            self.message.show_message(
                f"{self._written.summary()}\nThe import had finished before it could be cancelled.",
                "info",
            )
            return
        name = self._name()
        self.status.setText(f"{name} was not imported.")
        self.message.show_message("Import cancelled; nothing was written.", "info")
        self._wizard.result_summary = f"The import of {name} was cancelled; nothing was written."
        self.retry_button.show()

    def _show_details(self, notes: Sequence[str], problems: ImportRejected | None) -> None:
        self.notes.setText("\n".join(f"• {note}" for note in notes))
        self.notes_label.setVisible(bool(notes))
        self.notes.setVisible(bool(notes))
        self.problem_model.set_problems([] if problems is None else problems.problems)
        if problems is not None:
            _fit_columns(self.problem_view)
            self.problem_count.setText(problems_headline(problems.total, len(problems.problems)))
        self.problem_count.setVisible(problems is not None)
        self.problem_view.setVisible(problems is not None)
        self._layout.setStretch(self._filler, 0 if problems is not None else 1)

    def _name(self) -> str:
        path = self._wizard.path
        return "The file" if path is None else path.name

    def _busy_changed(self, busy: bool) -> None:
        self._done = not busy
        self.completeChanged.emit()
        if not busy:
            finish = self._wizard.button(QWizard.WizardButton.FinishButton)
            target: QWidget = self.retry_button if self.retry_button.isVisible() else finish
            target.setFocus(Qt.FocusReason.OtherFocusReason)


# ------------------------------------------------------------------------------------ wizard


class ImportWizard(QWizard):
    """Import one file: choose it, check the preview, import.

    After it closes, :attr:`imported` is what the import did (None if nothing was imported) and
    :attr:`result_summary` one line for the status bar ('' if the wizard closed before importing).
    """

    CHOOSE, PREVIEW, COMMIT = 0, 1, 2

    def __init__(
        self,
        services: Services,
        runner: Runner,
        parent: QWidget | None = None,
        path: Path | None = None,
        kind: Kind | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.path: Path | None = None
        self.import_options: ImportOptions | None = None
        self.preview: Preview | None = None
        self.imported: ImportResult | None = None
        self.result_summary = ""
        self.setWindowTitle("Import from a file")
        self.setMinimumSize(900, 600)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.choose_page = ChoosePage(self, path, kind)
        self.preview_page = PreviewPage(self)
        self.commit_page = CommitPage(self)
        self.setPage(self.CHOOSE, self.choose_page)
        self.setPage(self.PREVIEW, self.preview_page)
        self.setPage(self.COMMIT, self.commit_page)
        self.setStartId(self.CHOOSE)
        name_by_labels(self)
        for button in (QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton):
            # Return on a focused Back or Cancel would undo the preview or end the import.
            found = self.button(button)
            if isinstance(found, QPushButton):
                found.setAutoDefault(False)

    def set_preview(self, path: Path, options: ImportOptions, preview: Preview) -> None:
        """Keep the latest preview and the file and options it was made with."""
        self.path, self.import_options, self.preview = path, options, preview

    def reject(self) -> None:
        """Cancel running work first (the wizard stays open to say so); otherwise close."""
        for page in (self.choose_page, self.preview_page, self.commit_page):
            if page.strip.busy:
                page.strip.cancel()
                return
        super().reject()
