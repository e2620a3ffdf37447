"""Checks for the packaging metadata, the icon set and the resource lookup."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import seatledger
from seatledger import resources
from seatledger.resources import (
    ICON_SIZES,
    app_icon_path,
    find_resources_dir,
    icon_png_paths,
    resource_path,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
DESKTOP_FILE = PACKAGING / f"{seatledger.APP_ID}.desktop"
METAINFO_FILE = PACKAGING / f"{seatledger.APP_ID}.metainfo.xml"
SPEC_FILE = PACKAGING / "seatledger.spec"
ENTRY_SCRIPT = PACKAGING / "pyinstaller_entry.py"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _require_tool(name: str, package: str) -> str:
    """The tool's path; skip without it, unless SEATLEDGER_REQUIRE_TOOLS=1 (.ci/run sets it)."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} not found on PATH; install the '{package}' package (CI installs it)"
        if os.environ.get("SEATLEDGER_REQUIRE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lowered = output.lower()
    assert "warning" not in lowered, output
    assert "error" not in lowered, output


def _png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as handle:
        header = handle.read(24)
    assert header[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    assert header[12:16] == b"IHDR", f"{path} has no IHDR chunk first"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


# --- desktop entry and AppStream metadata -----------------------------------------------


def test_desktop_file_validates() -> None:
    tool = _require_tool("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([tool, str(DESKTOP_FILE)], check=False, capture_output=True, text=True)
    _assert_clean(result)


def test_desktop_file_matches_package() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP_FILE, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Name"] == seatledger.APP_NAME
    assert entry["Icon"] == seatledger.APP_ID
    assert entry["Exec"].split()[0] == "seatledger"


def test_metainfo_validates() -> None:
    tool = _require_tool("appstreamcli", "appstream")
    result = subprocess.run(
        [tool, "validate", "--no-net", str(METAINFO_FILE)],
        check=False,
        capture_output=True,
        text=True,
    )
    _assert_clean(result)


def test_metainfo_matches_package() -> None:
    root = ET.parse(METAINFO_FILE).getroot()
    assert root.findtext("id") == seatledger.APP_ID
    assert root.findtext("name") == seatledger.APP_NAME
    assert root.findtext("launchable") == DESKTOP_FILE.name
    versions = [release.get("version") for release in root.iter("release")]
    assert seatledger.__version__ in versions


# --- icons and resource lookup -----------------------------------------------------------


def test_app_icon_is_found() -> None:
    svg = app_icon_path()
    assert svg.is_file()
    assert svg == resource_path("icons", "seatledger.svg")
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256"


def test_resources_dir_is_the_checkout_folder() -> None:
    assert find_resources_dir() == ROOT / "resources"


def test_scalable_icon_matches_source_svg() -> None:
    scalable = resource_path("icons", "hicolor", "scalable", "apps", f"{seatledger.APP_ID}.svg")
    assert scalable.read_bytes() == app_icon_path().read_bytes()


@pytest.mark.parametrize("size", ICON_SIZES)
def test_hicolor_png_has_right_size(size: int) -> None:
    png = resource_path("icons", "hicolor", f"{size}x{size}", "apps", f"{seatledger.APP_ID}.png")
    assert png.is_file(), png
    assert _png_size(png) == (size, size)


def test_large_png_has_right_size() -> None:
    assert _png_size(resource_path("icons", "seatledger-256.png")) == (256, 256)


def test_icon_png_paths_lists_every_size_in_order() -> None:
    paths = icon_png_paths()
    assert [_png_size(path)[0] for path in paths] == list(ICON_SIZES)


@pytest.mark.parametrize("bad", ["/etc/passwd", "../pyproject.toml", "icons/../../x"])
def test_resource_path_rejects_escapes(bad: str) -> None:
    with pytest.raises(ValueError, match="relative"):
        resource_path(bad)


def test_resource_path_prefers_pyinstaller_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "resources"
    (bundled / "icons").mkdir(parents=True)
    (bundled / "icons" / "seatledger.svg").write_text("<svg/>", encoding="utf-8")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert find_resources_dir() == bundled
    assert app_icon_path() == bundled / "icons" / "seatledger.svg"
    assert icon_png_paths() == []


def test_resource_path_falls_back_when_nothing_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_module = tmp_path / "site-packages" / "seatledger" / "resources.py"
    monkeypatch.setattr(resources, "__file__", str(fake_module))
    assert find_resources_dir() is None
    path = resource_path("icons", "seatledger.svg")
    assert not path.exists()
    assert icon_png_paths() == []


def test_resource_path_uses_folder_next_to_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package_dir = tmp_path / "site-packages" / "seatledger"
    (package_dir / "resources" / "icons").mkdir(parents=True)
    (package_dir / "resources" / "icons" / "seatledger.svg").write_text("<svg/>", "utf-8")
    monkeypatch.setattr(resources, "__file__", str(package_dir / "resources.py"))
    assert find_resources_dir() == package_dir / "resources"


# --- PyInstaller spec ----------------------------------------------------------------------


def test_spec_parses_and_bundles_migrations() -> None:
    source = SPEC_FILE.read_text(encoding="utf-8")
    ast.parse(source, filename=str(SPEC_FILE))
    assert "store" in source
    assert '"migrations"' in source
    assert "seatledger/store/migrations" in source
    assert "pyinstaller_entry.py" in source
    assert "console=False" in source


def test_entry_script_parses_and_calls_cli_main() -> None:
    source = ENTRY_SCRIPT.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(ENTRY_SCRIPT))
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert any(
        node.module == "seatledger.cli" and [a.name for a in node.names] == ["main"]
        for node in imports
    )
    assert "raise SystemExit(main())" in source


@pytest.mark.slow
def test_the_frozen_build_runs_without_python_and_opens_the_sign_in_window() -> None:
    """What `make package` built runs on its own: packaging/smoke.py's version, demo build,
    ledger verification, audit run and bundle verification, sign-in window and main window all
    pass on it."""
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed: `make package` installs it ('.[package]')")
    program = ROOT / "dist" / "seatledger" / "seatledger"
    if not program.is_file():
        pytest.skip("no frozen build in dist/seatledger: `make package` builds one")
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "smoke.py"), str(program)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok  verify: ok    manifest signature: Ed25519, the pinned key" in done.stdout
    assert "ok  sign-in window painted" in done.stdout
    assert "ok  main window painted" in done.stdout


def test_ci_builds_and_smoke_tests_the_frozen_program_after_the_suite() -> None:
    """CI (.ci/run, under `set -e`) runs `make package`, whose smoke test runs the frozen program,
    after `make test`, with objdump installed for PyInstaller."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    assert [line for line in script.splitlines() if line.startswith("make ")] == [
        "make test",
        "make package",
    ]
    assert "binutils" in script.split("apt-get install", 1)[1].split(">/dev/null", 1)[0]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "packaging/smoke.py dist/seatledger/seatledger" in makefile.split("\npackage:", 1)[1]


def test_the_release_archive_holds_the_program_and_the_desktop_files(tmp_path: Path) -> None:
    """packaging/archive.py on a stand-in one-folder build: the layout install.sh expects."""
    spec = importlib.util.spec_from_file_location("archive", PACKAGING / "archive.py")
    assert spec is not None
    assert spec.loader is not None
    archive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(archive)
    app = tmp_path / "dist" / "seatledger"
    (app / "_internal").mkdir(parents=True)
    (app / "seatledger").write_text("#!/bin/sh\n")
    target = archive.build(app)
    top = f"seatledger-{seatledger.__version__}"
    with tarfile.open(target) as packed:
        names = set(packed.getnames())
    assert f"{top}/seatledger/seatledger" in names
    assert f"{top}/install.sh" in names
    assert f"{top}/share/applications/{seatledger.APP_ID}.desktop" in names
    assert f"{top}/share/metainfo/{seatledger.APP_ID}.metainfo.xml" in names
    assert f"{top}/share/icons/hicolor/scalable/apps/{seatledger.APP_ID}.svg" in names
    assert f"{top}/share/icons/hicolor/48x48/apps/{seatledger.APP_ID}.png" in names
