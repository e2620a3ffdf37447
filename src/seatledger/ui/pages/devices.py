"""The devices page: machines that hold per-device, per-core and per-processor seats."""

from __future__ import annotations

from seatledger.services.directory.queries import DeviceColumn, DeviceQuery
from seatledger.ui.pages.directory import DirectoryPage, RecordForm, SearchedQuery
from seatledger.ui.presenters import DevicePresenter
from seatledger.ui.table_model import Presenter


class DevicesPage(DirectoryPage):
    """Devices with owner, processors, cores and seats held."""

    title = "Devices"
    settings_group = "devices"
    shows = frozenset({"device", "person", "entitlement", "seat", "import"})  # owners, seats
    noun = "device"
    search_placeholder = "Search host name or serial…  (Ctrl+F)"
    empty_hint = "No devices yet — add one with Edit ▸ New device… or the New device… button."
    empty_title = "No devices yet"
    empty_text = (
        "Devices hold per-device, per-core and per-processor seats, and are where discovered "
        "software is installed. Import the device list your inventory or management tool "
        "exports, or add a device by hand."
    )
    import_label = "&Import devices…"
    import_kind = "devices"

    def _presenter(self) -> Presenter:
        return DevicePresenter()

    def _set_column_widths(self) -> None:
        # The operating system is read whole ("Windows 11 Enterprise 23H2"); the processor's
        # long model name takes what is left (it was the other way round, and at 1280 px the
        # system shrank to "Wi…").
        self.table.set_column_widths(
            {
                DeviceColumn.HOSTNAME: 16,
                DeviceColumn.SERIAL: 12,
                DeviceColumn.OWNER: 18,
                DeviceColumn.PROCESSORS: 10,
                DeviceColumn.CORES: 6,
                DeviceColumn.PROCESSOR_MODEL: 26,
                DeviceColumn.OS: 26,
                DeviceColumn.SEATS: 6,
            },
            stretch=DeviceColumn.PROCESSOR_MODEL,
        )

    def _run_query(self, current: SearchedQuery | None = None) -> DeviceQuery:
        if current is None:
            return self.services.reads.devices()
        return self.services.reads.devices(
            self.search.text(), current.sort_column, current.descending
        )

    def _filtered_hint(self) -> str:
        return f"No device matches “{self._current.text}”."

    def _form(self, key: int | None) -> RecordForm:
        from seatledger.ui.dialogs.forms import DeviceDialog  # noqa: PLC0415

        return DeviceDialog(self.services, self, device_id=key)

    def refresh(self) -> None:
        """Reload the devices, keeping the selection."""
        super().refresh()
        self._reload()
