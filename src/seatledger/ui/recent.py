"""The databases opened lately, newest first, as the File menu and the start dialog list them."""

from __future__ import annotations

from PySide6.QtCore import QSettings

_KEY = "recent/databases"
LIMIT = 8


def recent_databases(settings: QSettings) -> list[str]:
    """Remembered database locations, newest first (file paths, server URLs without passwords)."""
    value = settings.value(_KEY, [])
    if isinstance(value, str):  # QSettings gives a one-item list back as its item
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if str(v).strip()][:LIMIT]


def remember_database(settings: QSettings, location: str) -> None:
    """Put ``location`` first in the list (once), keeping the newest :data:`LIMIT`."""
    kept = [location, *(v for v in recent_databases(settings) if v != location)]
    settings.setValue(_KEY, kept[:LIMIT])
    settings.sync()


def forget_databases(settings: QSettings) -> None:
    """Empty the list."""
    settings.remove(_KEY)
    settings.sync()
