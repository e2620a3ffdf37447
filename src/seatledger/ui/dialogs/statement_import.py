"""Importing a vendor statement as evidence: a Microsoft License Statement (XLSX) or an ILMT
audit snapshot (zip).  Choose the file, see the preview (its date, its product lines and every
problem by file, sheet, line and column), import it whole; its differences from the purchases
and the computed requirement then show as findings on the Servers page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

from seatledger.services.operators.session import Services
from seatledger.services.servers.statements import StatementKind, StatementPreview
from seatledger.ui.dialogs.topology_import import FileImportDialog


class StatementImportDialog(FileImportDialog):
    """Choose a vendor statement, preview it, import it whole."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(
            services,
            parent,
            title="Import a vendor statement",
            name="statementImport",
            kind=(
                "statementKind",
                "&Statement:",
                [(kind.label, kind.value) for kind in StatementKind],
            ),
            files=("File:", "&Choose file…", "No file chosen."),
            note="A statement is evidence of what the vendor believes: it changes no purchase. "
            "Each difference from the purchases recorded and the computed requirement becomes "
            "a finding.",
        )
        self._path: Path | None = None
        self.kind, self.file_label = self.kind_combo, self.chosen_label

    @property
    def chosen_kind(self) -> StatementKind:
        """Which vendor's statement the file is."""
        return StatementKind(self.kind_combo.currentData())

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
        self.chosen_label.setText(path.name)
        kind = StatementKind.ILMT if path.suffix.casefold() == ".zip" else StatementKind.MLS
        if kind is not self.chosen_kind:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind.value))  # previews
        else:
            self._preview_again()

    def _preview_work(self) -> Callable[[], Any] | None:
        if self._path is None:
            return None
        path, kind, service = self._path, self.chosen_kind, self._services.servers
        return lambda: service.preview_statement(path, kind)

    def _import_work(self) -> Callable[[], Any] | None:
        if self._path is None:
            return None
        path, kind, service = self._path, self.chosen_kind, self._services.servers
        return lambda: service.import_statement(path, kind)

    def _lines(self, preview: StatementPreview) -> list[str]:
        lines = list(preview.notes)
        if preview.already_imported is not None:
            lines.append(
                f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}; nothing changes."
            )
        if preview.newer_stored is not None:
            lines.append(
                f"Refused: one of {preview.newer_stored:%Y-%m-%d} is stored already; the newer "
                "one is the evidence."
            )
        return lines

    def _importable(self, preview: StatementPreview) -> bool:
        return preview.ok and preview.already_imported is None
