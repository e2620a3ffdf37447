"""Pack the frozen one-folder build into a .tar.gz an administrator unpacks anywhere.

Usage (``make package`` runs it after PyInstaller)::

    python packaging/archive.py dist/seatledger

writes ``dist/seatledger-VERSION-linux-ARCH.tar.gz`` holding::

    seatledger-VERSION/
        seatledger/                      the program (run seatledger/seatledger; no Python needed)
        share/applications/APP_ID.desktop
        share/metainfo/APP_ID.metainfo.xml
        share/icons/hicolor/SIZE/apps/APP_ID.png (and scalable/apps/APP_ID.svg)
        install.sh                       copies the above under ~/.local (or a PREFIX) and links
                                         bin/seatledger, so the desktop entry's Exec finds it

and prints the archive's path and size.
"""

from __future__ import annotations

import platform
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from seatledger import APP_ID, __version__  # noqa: E402

INSTALL = """#!/bin/sh
# Install SeatLedger for this user (or under PREFIX, e.g. PREFIX=/opt/seatledger sudo ./install.sh).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$PREFIX/share"
rm -rf "$PREFIX/lib/seatledger"
cp -R "$HERE/seatledger" "$PREFIX/lib/seatledger"
ln -sf "$PREFIX/lib/seatledger/seatledger" "$PREFIX/bin/seatledger"
cp -R "$HERE/share/." "$PREFIX/share/"
echo "Installed: $PREFIX/bin/seatledger (make sure $PREFIX/bin is on PATH)"
"""


def _add(archive: tarfile.TarFile, source: Path, name: str) -> None:
    archive.add(source, arcname=name, recursive=True)


def build(app_dir: Path) -> Path:
    """Write the archive beside ``app_dir`` and return its path."""
    if not (app_dir / "seatledger").is_file():
        raise SystemExit(f"{app_dir} holds no frozen seatledger program: run PyInstaller first")
    top = f"seatledger-{__version__}"
    target = app_dir.parent / f"{top}-linux-{platform.machine()}.tar.gz"
    install = app_dir.parent / "install.sh"
    install.write_text(INSTALL, encoding="utf-8")
    install.chmod(0o755)
    with tarfile.open(target, "w:gz") as archive:
        _add(archive, app_dir, f"{top}/seatledger")
        _add(archive, install, f"{top}/install.sh")
        share = f"{top}/share"
        _add(archive, HERE / f"{APP_ID}.desktop", f"{share}/applications/{APP_ID}.desktop")
        _add(archive, HERE / f"{APP_ID}.metainfo.xml", f"{share}/metainfo/{APP_ID}.metainfo.xml")
        _add(archive, ROOT / "resources" / "icons" / "hicolor", f"{share}/icons/hicolor")
    install.unlink()
    return target


def main(argv: list[str]) -> int:
    """Build the archive for the folder named on the command line."""
    if len(argv) != 1:
        raise SystemExit("usage: python packaging/archive.py dist/seatledger")
    target = build(Path(argv[0]))
    sys.stdout.write(f"{target} ({target.stat().st_size / 1e6:.0f} MB)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
