"""Importing a server topology: the files of an RVTools or Hyper-V export, read together.

An export is several files (RVTools' sheets, Hyper-V's cmdlets) or one workbook, so it has its
own dialog rather than a kind of the import wizard (which reads one file): choose the files,
see the preview (hosts, clusters, VMs, and every problem by file, line and column), import it
whole.  The Servers page and the import wizard open it.
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
from seatledger.services.servers.importing import (
    TopologyPreview,
    TopologyResult,
    TopologySource,
)
from seatledger.text import plural
from seatledger.ui.tasks import Task, runner_for


class TopologyImportDialog(QDialog):
    """Choose the files of an RVTools or Hyper-V export, preview them, import them whole.

    Signals:
        imported(str): the import's summary, once it committed.
    """

    imported = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a server topology")
        self.setObjectName("topologyImport")
        self._services = services
        self._paths: list[Path] = []
        self._preview: TopologyPreview | None = None
        self.source = QComboBox(self)
        self.source.setObjectName("topologySource")
        for source in TopologySource:
            self.source.addItem(source.label, source.value)
        self.source.currentIndexChanged.connect(self._preview_again)
        self.files_label = QLabel("No files chosen.", self)
        self.files_label.setWordWrap(True)
        choose = QPushButton("&Choose files…", self)
        choose.clicked.connect(self._choose)
        self.report = QTextBrowser(self)
        self.report.setObjectName("topologyReport")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("&Import")
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self._import)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Export of:", self.source)
        files = QHBoxLayout()
        files.addWidget(self.files_label, 1)
        files.addWidget(choose)
        form.addRow("Files:", files)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 420)

    @property
    def chosen_source(self) -> TopologySource:
        """The hypervisor the files are an export of."""
        return TopologySource(self.source.currentData())

    def _choose(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Choose the export's files",
            "",
            "Exports (*.xlsx *.csv *.txt);;All files (*)",
        )
        if names:
            self.set_files([Path(name) for name in names])

    def set_files(self, paths: list[Path]) -> None:
        """Preview these files (the file dialog's choice, or a test's)."""
        self._paths = paths
        self.files_label.setText(", ".join(path.name for path in paths))
        self._preview_again()

    def _preview_again(self) -> None:
        self.ok.setEnabled(False)
        self._preview = None
        if not self._paths:
            return
        paths, source, service = list(self._paths), self.chosen_source, self._services.servers
        self.report.setPlainText("Reading…")
        task = Task(lambda _progress: service.preview_import(paths, source), self)
        task.on_done(self._previewed)
        task.failed.connect(lambda message, _details: self.report.setPlainText(message))
        runner_for(self).start(task, key=(self, "work"))

    def _previewed(self, preview: TopologyPreview) -> None:
        self._preview = preview
        lines = [preview.summary() + "."]
        lines += [f"{sheet}: {where}" for sheet, where in preview.sheets.items()]
        lines += list(preview.notes)
        if preview.already_imported is not None:
            lines.append(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}.")
        if preview.problems:
            lines.append(f"{plural(len(preview.problems), 'problem')}; nothing can be imported:")
            lines += [f"  {problem}" for problem in preview.problems[:200]]
        self.report.setPlainText("\n".join(lines))
        self.ok.setEnabled(preview.ok)

    def _import(self) -> None:
        if self._preview is None or not self._preview.ok:
            return
        paths, source, service = list(self._paths), self.chosen_source, self._services.servers
        self.ok.setEnabled(False)
        self.report.append("Importing…")
        task = Task(lambda _progress: service.import_topology(paths, source), self)
        task.on_done(self._imported)
        task.failed.connect(lambda message, _details: self.report.setPlainText(message))
        runner_for(self).start(task, key=(self, "work"))

    def _imported(self, result: TopologyResult) -> None:
        self.imported.emit(result.summary())
        self.accept()
