"""Locate bundled, non-Python resources such as the application icons.

The project keeps its resources in a top-level ``resources/`` folder. Where that
folder ends up depends on how SeatLedger is being run, so every lookup goes
through :func:`resource_path`, which checks these places in order:

1. A PyInstaller build: ``sys._MEIPASS / "resources"`` (the spec bundles the
   folder under that name).
2. A source checkout or editable install: ``<repo>/resources``, found two levels
   above the package directory (``src/seatledger/../../resources``).
3. A ``resources`` directory next to the package, for installs that ship one.

A place only counts if it really holds SeatLedger resources (it must contain the
application icon). If no place does, for example in a wheel built without the
resources, paths point into the source-checkout location and won't exist. So
callers should handle missing files gracefully (a missing icon is cosmetic).

This module doesn't import Qt, so any layer can use it.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = [
    "APP_ICON_NAME",
    "ICON_SIZES",
    "app_icon_path",
    "find_resources_dir",
    "icon_png_paths",
    "resource_path",
]

#: File name of the scalable application icon inside ``resources/icons``.
APP_ICON_NAME = "seatledger.svg"

#: Pixel sizes for which a rendered PNG exists under ``resources/icons/hicolor``.
ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256)

_ICON_FILE_STEM = "org.seatledger.SeatLedger"


def _candidate_dirs() -> list[Path]:
    """Return the places where the resources folder may live, most specific first.

    Returns:
        Candidate ``resources`` directories; they may not exist.
    """
    candidates: list[Path] = []
    meipass = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and isinstance(meipass, str):
        candidates.append(Path(meipass) / "resources")
    package_dir = Path(__file__).resolve().parent
    candidates.append(package_dir.parents[1] / "resources")
    candidates.append(package_dir / "resources")
    return candidates


def _is_resources_dir(path: Path) -> bool:
    """Tell whether ``path`` holds SeatLedger's resources.

    Args:
        path: Directory to check.

    Returns:
        True if the directory contains the application icon.
    """
    return (path / "icons" / APP_ICON_NAME).is_file()


def find_resources_dir() -> Path | None:
    """Find the directory that holds SeatLedger's resources.

    Returns:
        The first candidate directory that holds the resources, or ``None`` if no
        candidate does.
    """
    for candidate in _candidate_dirs():
        if _is_resources_dir(candidate):
            return candidate
    return None


def resource_path(*parts: str) -> Path:
    """Build the path of a file or directory under the ``resources/`` folder.

    Args:
        *parts: Path components relative to ``resources/``, for example
            ``("icons", "seatledger.svg")``.

    Returns:
        The path of the requested resource. It may not exist if the
        resources aren't installed; check with :meth:`pathlib.Path.exists` when
        that matters.

    Raises:
        ValueError: If a component is absolute or tries to leave the resources
            folder with ``..``.
    """
    for part in parts:
        relative = Path(part)
        if relative.is_absolute() or ".." in relative.parts:
            msg = f"resource path components must be relative and stay inside resources/: {part!r}"
            raise ValueError(msg)
    base = find_resources_dir()
    if base is None:
        base = _candidate_dirs()[-2]  # the source-checkout location
    return base.joinpath(*parts)


def app_icon_path() -> Path:
    """Return the path of the scalable (SVG) application icon.

    Returns:
        Path to ``resources/icons/seatledger.svg``.
    """
    return resource_path("icons", APP_ICON_NAME)


def icon_png_paths() -> list[Path]:
    """Return the rendered PNG application icons that exist, smallest first.

    These are meant for building a multi-size window icon (for example, one
    ``QIcon.addFile`` call per path).

    Returns:
        Paths of the existing ``hicolor/<N>x<N>/apps/org.seatledger.SeatLedger.png``
        files, ordered by increasing size. The list is empty if the resources
        aren't installed.
    """
    paths = [
        resource_path("icons", "hicolor", f"{size}x{size}", "apps", f"{_ICON_FILE_STEM}.png")
        for size in ICON_SIZES
    ]
    return [path for path in paths if path.is_file()]
