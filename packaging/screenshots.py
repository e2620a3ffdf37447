"""Screenshots of the main window's pages, light and dark, for the README and the AppStream data.

    .venv/bin/python packaging/screenshots.py [--out docs/screenshots] [--size 1280x800]

Builds the small demo in a temporary folder, signs in as its administrator and grabs each main
page at the size given, once in the light palette and once in the dark one, as
``<page>-light.png`` and ``<page>-dark.png``; then a new, empty database's dashboard
(``new-database-light.png``, ``new-database-dark.png``).  Runs without a display (Qt's
offscreen platform unless QT_QPA_PLATFORM says otherwise; under Xvfb the grabs are the same).
The user's settings are never read or written: the window gets settings of its own in the
temporary folder.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from seatledger.demo.builder import build_demo
from seatledger.services.operators.workspace import Workspace
from seatledger.ui.main_window import PAGE_TYPES, MainWindow
from seatledger.ui.tasks import SyncRunner
from seatledger.ui.theme import Theme, theme_keeper

PAGES = tuple(page.settings_group for page in PAGE_TYPES)  # every main page, in the list's order
ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Build the demo, grab every page in both palettes; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the application starts
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("SeatLedger")
    args.out.mkdir(parents=True, exist_ok=True)
    numbers = {page.settings_group: number for number, page in enumerate(PAGE_TYPES)}
    with tempfile.TemporaryDirectory(prefix="seatledger-screens-") as folder:
        database = Path(folder) / "demo.sqlite"
        build_demo(str(database), "small")
        workspace = Workspace.open(database, create=False)
        try:
            services = workspace.sign_in("admin", "demo")
            for theme in (Theme.LIGHT, Theme.DARK):
                theme_keeper().apply(theme)
                settings = QSettings(
                    str(Path(folder) / f"{theme.value}.ini"), QSettings.Format.IniFormat
                )
                settings.setValue("view/theme", theme.value)
                window = MainWindow(services, workspace, runner=SyncRunner(), settings=settings)
                window.resize(width, height)
                window.show()
                for name in PAGES:
                    window.nav.setCurrentRow(numbers[name])
                    _settle(app)
                    if name == "licenses":
                        window.licenses.table.selectRow(0)  # its seats in the detail pane
                        _settle(app)
                    path = args.out / f"{name}-{theme.value}.png"
                    if not window.grab().save(str(path), "PNG"):
                        sys.stderr.write(f"Could not write {path}\n")
                        return 1
                    sys.stdout.write(
                        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}\n"
                    )
                window.close()
                window.deleteLater()
                _settle(app)
        finally:
            workspace.close()
        # A new database's dashboard: what it says before there is anything to count.
        fresh = Workspace.open(Path(folder) / "new.sqlite")
        try:
            services = fresh.create_administrator("admin", "Ada Admin", secrets.token_urlsafe(24))
            for theme in (Theme.LIGHT, Theme.DARK):
                theme_keeper().apply(theme)
                settings = QSettings(
                    str(Path(folder) / f"new-{theme.value}.ini"), QSettings.Format.IniFormat
                )
                settings.setValue("view/theme", theme.value)
                window = MainWindow(services, fresh, runner=SyncRunner(), settings=settings)
                window.resize(width, height)
                window.show()
                window.nav.setCurrentRow(numbers["dashboard"])
                _settle(app)
                path = args.out / f"new-database-{theme.value}.png"
                if not window.grab().save(str(path), "PNG"):
                    sys.stderr.write(f"Could not write {path}\n")
                    return 1
                _said(path)
                window.close()
                window.deleteLater()
                _settle(app)
        finally:
            fresh.close()
    return 0


def _said(path: Path) -> None:
    sys.stdout.write(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}\n")


def _settle(app: QApplication) -> None:
    """Let posted events (layouts, palette changes, repaints) run; work itself is inline."""
    for _ in range(5):
        app.processEvents()


if __name__ == "__main__":
    sys.exit(main())
