"""Data settings (administrators): the license-server snapshot interval and when an import is old.

The dialog also shows, per source kind, the newest import and its age, so an administrator sees
what a change to the warning age means before saving it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from seatledger.services.operators.session import Services
from seatledger.services.settings.service import DataSettings
from seatledger.text import plural
from seatledger.ui.dialogs.common import FormDialog, count_box

_SOURCE_LABELS = {
    "people": "HR (people)",
    "devices": "Devices",
    "inventory": "Inventory",
    "usage": "License-server usage",
    "entitlements": "Purchases",
}


class DataSettingsDialog(FormDialog):
    """Edits :class:`~seatledger.services.settings.service.DataSettings`; saving is a ledger
    entry."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__("Data settings", "&Save", parent)
        self.setObjectName("data_settings")
        self._services = services
        current = services.settings.data()
        self.set_intro(
            "These settings are the organization's: everyone using this database works with "
            "them, and a change is recorded in the ledger."
        )
        self.sampling = count_box(
            1,
            720,
            current.sampling_hours,
            " hours",
            tip="How often lmstat snapshots of a license server are taken. A checkout that no "
            "snapshot has shown for longer than this ended at its last sighting.",
            parent=self,
        )
        self.add_row("&Snapshot interval", self.sampling, names=["Snapshot interval"])
        self.freshness = count_box(
            1,
            3650,
            current.freshness_days,
            " days",
            tip="An import older than this is a warning on the reconciliation page and in an "
            "audit's freshness step.",
            parent=self,
        )
        self.add_row("&Warn when imports are older than", self.freshness, names=["Import age"])
        lines = []
        for source in services.settings.sources(services.seats.today()):
            label = _SOURCE_LABELS.get(source.kind, source.kind)
            if source.newest is None:
                lines.append(f"{label}: never imported")
            else:
                lines.append(
                    f"{label}: {source.newest.astimezone():%Y-%m-%d %H:%M}, "
                    f"{plural(source.age_days or 0, 'day')} old"
                )
        self.sources = QLabel("\n".join(lines), self)
        self.sources.setObjectName("sources")
        self.add_row("Newest imports", self.sources)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("optional, e.g. snapshots now every 4 hours")
        self.add_row("&Reason", self.reason, names=["Reason"])
        self.finish()

    def settings(self) -> DataSettings:
        """The settings as entered."""
        return DataSettings(self.sampling.value(), self.freshness.value())

    def save(self) -> None:
        """Store the settings (administrators only)."""
        self._services.settings.save_data(self.settings(), self.reason.text())
