"""Importing a server topology: the files of an RVTools or Hyper-V export, read together.

An export is several files (RVTools' sheets, Hyper-V's cmdlets) or one workbook, so it has its
own dialog rather than a kind of the import wizard (which reads one file): choose the files,
see the preview (hosts, clusters, VMs, and every problem by file, line and column), import it
whole.  The Servers page and the import wizard open it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
from seatledger.services.servers.importing import TopologyPreview, TopologySource
from seatledger.text import plural
from seatledger.ui.tasks import Task, runner_for


class FileImportDialog(QDialog):
    """Choose files, preview them off the GUI thread (every problem by file, line and column),
    import them whole: the frame of the topology and vendor statement dialogs.

    A subclass says what the files are (:meth:`_choose`), how to preview and import them
    (:meth:`_preview_work`, :meth:`_import_work`) and what the preview says (:meth:`_lines`).

    Signals:
        imported(str): the import's summary, once it committed.
    """

    imported = Signal(str)

    def __init__(
        self,
        services: Services,
        parent: QWidget | None,
        *,
        title: str,
        name: str,
        kind: tuple[str, str, list[tuple[str, str]]],
        files: tuple[str, str, str],
        note: str = "",
    ) -> None:
        """``kind``: the combo's name, form label and (label, value) items; ``files``: the
        form label, the button's text and what is said before any file is chosen."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(name)
        self._services = services
        self._preview: Any = None
        combo_name, combo_label, items = kind
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName(combo_name)
        for label, value in items:
            self.kind_combo.addItem(label, value)
        self.kind_combo.currentIndexChanged.connect(self._preview_again)
        files_label, choose_text, none_chosen = files
        self.chosen_label = QLabel(none_chosen, self)
        self.chosen_label.setWordWrap(True)
        choose = QPushButton(choose_text, self)
        choose.clicked.connect(self._choose)
        self.report = QTextBrowser(self)
        self.report.setObjectName(name.removesuffix("Import") + "Report")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("&Import")
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self._import)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(combo_label, self.kind_combo)
        chosen = QHBoxLayout()
        chosen.addWidget(self.chosen_label, 1)
        chosen.addWidget(choose)
        form.addRow(files_label, chosen)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        if note:
            explained = QLabel(note, self)
            explained.setWordWrap(True)
            layout.addWidget(explained)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 420)

    # -- what a subclass says ---------------------------------------------------------------
    def _choose(self) -> None:
        raise NotImplementedError

    def _preview_work(self) -> Callable[[], Any] | None:
        """The preview of the files chosen, as work for another thread; None: none chosen."""
        raise NotImplementedError

    def _import_work(self) -> Callable[[], Any] | None:
        raise NotImplementedError

    def _lines(self, preview: Any) -> list[str]:
        """What the preview says, after its summary and before its problems."""
        return list(preview.notes)

    def _importable(self, preview: Any) -> bool:
        return bool(preview.ok)

    # -- the frame ----------------------------------------------------------------------------
    def _preview_again(self) -> None:
        self.ok.setEnabled(False)
        self._preview = None
        work = self._preview_work()
        if work is None:
            return
        self.report.setPlainText("Reading…")
        self._run(work, self._previewed)

    def _previewed(self, preview: Any) -> None:
        self._preview = preview
        lines = [preview.summary() + ".", *self._lines(preview)]
        if preview.problems:
            lines.append(f"{plural(len(preview.problems), 'problem')}; nothing can be imported:")
            lines += [f"  {problem}" for problem in preview.problems[:200]]
        self.report.setPlainText("\n".join(lines))
        self.ok.setEnabled(self._importable(preview))

    def _import(self) -> None:
        work = self._import_work()
        if work is None or self._preview is None or not self._importable(self._preview):
            return
        self.ok.setEnabled(False)
        self.report.append("Importing…")
        self._run(work, self._imported)

    def _run(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        task = Task(lambda _progress: work(), self)
        task.on_done(done)
        task.failed.connect(lambda message, _details: self.report.setPlainText(message))
        runner_for(self).start(task, key=(self, "work"))

    def _imported(self, result: Any) -> None:
        self.imported.emit(result.summary())
        self.accept()


class TopologyImportDialog(FileImportDialog):
    """Choose the files of an RVTools or Hyper-V export, preview them, import them whole."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(
            services,
            parent,
            title="Import a server topology",
            name="topologyImport",
            kind=(
                "topologySource",
                "&Export of:",
                [(source.label, source.value) for source in TopologySource],
            ),
            files=("Files:", "&Choose files…", "No files chosen."),
        )
        self._paths: list[Path] = []
        self.source, self.files_label = self.kind_combo, self.chosen_label

    @property
    def chosen_source(self) -> TopologySource:
        """The hypervisor the files are an export of."""
        return TopologySource(self.kind_combo.currentData())

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
        self.chosen_label.setText(", ".join(path.name for path in paths))
        self._preview_again()

    def _preview_work(self) -> Callable[[], Any] | None:
        if not self._paths:
            return None
        paths, source, service = list(self._paths), self.chosen_source, self._services.servers
        return lambda: service.preview_import(paths, source)

    def _import_work(self) -> Callable[[], Any] | None:
        paths, source, service = list(self._paths), self.chosen_source, self._services.servers
        return lambda: service.import_topology(paths, source)

    def _lines(self, preview: TopologyPreview) -> list[str]:
        lines = [f"{sheet}: {where}" for sheet, where in preview.sheets.items()]
        lines += list(preview.notes)
        if preview.already_imported is not None:
            lines.append(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}.")
        return lines
