"""Importing a vendor statement as evidence: a Microsoft License Statement (XLSX) or an ILMT
audit snapshot (zip).  Choose the file, see the preview (its date, its product lines and every
problem by file, sheet, line and column), import it whole; its differences from the purchases
and the computed requirement then show as findings on the Servers page.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from seatledger.services.operators.session import Services
from seatledger.services.servers.statements import (
    StatementKind,
    StatementPreview,
    StatementResult,
)
from seatledger.text import plural
from seatledger.ui.tasks import Task, runner_for


class StatementImportDialog(QDialog):
    """Choose a vendor statement, preview it, import it whole.

    Signals:
        imported(str): the import's summary, once it committed.
    """

    imported = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a vendor statement")
        self.setObjectName("statementImport")
        self._services = services
        self._path: Path | None = None
        self._preview: StatementPreview | None = None
        self.kind = QComboBox(self)
        self.kind.setObjectName("statementKind")
        for kind in StatementKind:
            self.kind.addItem(kind.label, kind.value)
        self.kind.currentIndexChanged.connect(self._preview_again)
        self.file_label = QLabel("No file chosen.", self)
        self.file_label.setWordWrap(True)
        choose = QPushButton("&Choose file…", self)
        choose.clicked.connect(self._choose)
        self.report = QTextBrowser(self)
        self.report.setObjectName("statementReport")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("&Import")
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self._import)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Statement:", self.kind)
        row = QHBoxLayout()
        row.addWidget(self.file_label, 1)
        row.addWidget(choose)
        form.addRow("File:", row)
        note = QLabel(
            "A statement is evidence of what the vendor believes: it changes no purchase. "
            "Each difference from the purchases recorded and the computed requirement becomes "
            "a finding.",
            self,
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 420)

    @property
    def chosen_kind(self) -> StatementKind:
        """Which vendor's statement the file is."""
        return StatementKind(self.kind.currentData())

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self,
            "Choose the statement",
            "",
            "Statements (*.xlsx *.zip);;All files (*)",
        )
        if name:
            self.set_file(Path(name))

    def set_file(self, path: Path) -> None:
        """Preview this file (the file dialog's choice, or a test's); the kind follows its
        extension."""
        self._path = path
        self.file_label.setText(path.name)
        kind = StatementKind.ILMT if path.suffix.casefold() == ".zip" else StatementKind.MLS
        if kind is not self.chosen_kind:
            self.kind.setCurrentIndex(self.kind.findData(kind.value))  # previews again
        else:
            self._preview_again()

    def _preview_again(self) -> None:
        self.ok.setEnabled(False)
        self._preview = None
        if self._path is None:
            return
        path, kind, service = self._path, self.chosen_kind, self._services.servers
        self.report.setPlainText("Reading…")
        task = Task(lambda _progress: service.preview_statement(path, kind), self)
        task.on_done(self._previewed)
        task.failed.connect(lambda message, _details: self.report.setPlainText(message))
        runner_for(self).start(task, key=(self, "work"))

    def _previewed(self, preview: StatementPreview) -> None:
        self._preview = preview
        lines = [preview.summary() + "."]
        lines += list(preview.notes)
        if preview.already_imported is not None:
            lines.append(
                f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}; nothing changes."
            )
        if preview.newer_stored is not None:
            lines.append(
                f"Refused: one of {preview.newer_stored:%Y-%m-%d} is stored already; the newer "
                "one is the evidence."
            )
        if preview.problems:
            lines.append(f"{plural(len(preview.problems), 'problem')}; nothing can be imported:")
            lines += [f"  {problem}" for problem in preview.problems[:200]]
        self.report.setPlainText("\n".join(lines))
        self.ok.setEnabled(preview.ok and preview.already_imported is None)

    def _import(self) -> None:
        if self._path is None or self._preview is None or not self._preview.ok:
            return
        path, kind, service = self._path, self.chosen_kind, self._services.servers
        self.ok.setEnabled(False)
        self.report.append("Importing…")
        task = Task(lambda _progress: service.import_statement(path, kind), self)
        task.on_done(self._imported)
        task.failed.connect(lambda message, _details: self.report.setPlainText(message))
        runner_for(self).start(task, key=(self, "work"))

    def _imported(self, result: StatementResult) -> None:
        self.imported.emit(result.summary())
        self.accept()
