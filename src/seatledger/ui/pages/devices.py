"""The devices page: machines that hold per-device, per-core and per-processor seats."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSettings
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from seatledger.domain.roles import Permission
from seatledger.services.directory.queries import DeviceColumn, DeviceQuery
from seatledger.services.operators.session import Services
from seatledger.text import plural
from seatledger.ui.pages import Page
from seatledger.ui.presenters import DevicePresenter
from seatledger.ui.table_model import KeyedTableModel
from seatledger.ui.widgets import DataTable, SearchBox


class DevicesPage(Page):
    """Devices with owner, processors, cores and seats held."""

    title = "Devices"
    settings_group = "devices"
    shows = frozenset({"device", "person", "entitlement", "seat", "import"})  # owners, seats

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(services, parent)
        self.search = SearchBox("Search host name or serial…  (Ctrl+F)", self)
        self.search.searched.connect(self._apply_filter)
        self._count = QLabel(self)
        self.new_button = QPushButton("New device…", self)
        self.new_button.clicked.connect(self.new_device)
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.clicked.connect(self.edit_device)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addSpacing(12)
        filters.addWidget(self._count)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.edit_button)

        self.table = DataTable(self)
        self.table.setObjectName("devices")
        query = self._current = services.reads.devices()
        self.model = KeyedTableModel(query, DevicePresenter(), self.table)
        self.table.attach(self.model, query.sort_column, query.descending)
        self.table.set_column_widths(
            {
                DeviceColumn.HOSTNAME: 24,
                DeviceColumn.SERIAL: 16,
                DeviceColumn.OWNER: 24,
                DeviceColumn.PROCESSORS: 10,
                DeviceColumn.CORES: 8,
                DeviceColumn.OS: 22,
                DeviceColumn.SEATS: 7,
            },
            stretch=DeviceColumn.OS,
        )
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.activated.connect(self._on_activated)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_after_query()
        self._update_buttons()

    def _query(self) -> DeviceQuery:
        return self._current

    def _apply_filter(self, *_args: object) -> None:
        current = self._query()
        previous = self.table.current_key()
        self._current = self.services.reads.devices(
            self.search.text(), current.sort_column, current.descending
        )
        self.model.set_query(self._current)
        self.table.keep_or_select_first(previous)
        self._update_after_query()
        self._update_buttons()
        self.selection_changed.emit()

    def refresh(self) -> None:
        """Reload the devices, keeping the selection."""
        super().refresh()
        self.table.reload()
        self._update_after_query()
        self._update_buttons()

    def _update_after_query(self) -> None:
        count = self.model.rowCount()
        self._count.setText(plural(count, "device"))
        if self._query().text:
            self.table.set_empty_hint(f"No device matches “{self._query().text}”.")
        else:
            self.table.set_empty_hint(
                "No devices yet — add one with Edit ▸ New device… or the New device… button."
            )

    def current_device(self) -> int | None:
        """The selected device."""
        return self.table.current_key()

    def _on_selection(self, *_args: object) -> None:
        self._update_buttons()
        self.selection_changed.emit()

    def _update_buttons(self) -> None:
        can_edit = self.may(Permission.EDIT_DIRECTORY)
        self.new_button.setEnabled(can_edit)
        self.edit_button.setEnabled(can_edit and self.current_device() is not None)

    def _on_activated(self, _index: QModelIndex) -> None:
        if self.may(Permission.EDIT_DIRECTORY):
            self.edit_device()

    def select_device(self, device_id: int) -> None:
        """Select a device, clearing a search that hides it."""
        if self.table.select_key(device_id):
            return
        self.search.clear()
        self.search.flush()
        self._apply_filter()
        self.table.select_key(device_id)

    def focus_search(self) -> None:
        """Focus the search box."""
        self.search.setFocus()
        self.search.selectAll()

    def new_device(self) -> None:
        """Add a device (DeviceDialog) and select it."""
        if not self.may(Permission.EDIT_DIRECTORY):
            return
        from seatledger.ui.dialogs.forms import DeviceDialog  # noqa: PLC0415

        dialog = DeviceDialog(self.services, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved_id is not None:
            self.select_device(dialog.saved_id)

    def edit_device(self) -> None:
        """Edit the selected device."""
        device_id = self.current_device()
        if device_id is None or not self.may(Permission.EDIT_DIRECTORY):
            return
        from seatledger.ui.dialogs.forms import DeviceDialog  # noqa: PLC0415

        DeviceDialog(self.services, self, device_id=device_id).exec()

    def save_state(self, settings: QSettings) -> None:
        """Remember the columns."""
        settings.setValue("devices/header", self.table.header_state())

    def restore_state(self, settings: QSettings) -> None:
        """Restore the columns."""
        self.table.restore_header_state(settings.value("devices/header"))
