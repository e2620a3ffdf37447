"""A machine without Qt's X11 libraries gets the packages to install, not an abort."""

from __future__ import annotations

import pytest

from seatledger.ui import app, preflight


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_the_check_runs_where_qt_opens_x11_windows(
    environ: dict[str, str], platform: str, expected: bool
) -> None:
    assert preflight.uses_xcb(environ, platform) is expected


def test_missing_libraries_are_named_with_their_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        preflight, "missing_libraries", lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    )
    problem = preflight.platform_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"})
    assert problem is not None
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in problem
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in problem
    assert "sudo dnf install xcb-util-keysyms xcb-util-wm" in problem


def test_every_library_the_check_loads_is_real_or_named() -> None:
    """On this machine the check agrees with the loader, library by library."""
    missing = preflight.missing_libraries()
    assert set(missing) <= set(preflight.XCB_LIBRARIES)
    assert "libnot-a-library.so.9" in preflight.missing_libraries({"libnot-a-library.so.9": ""})


def test_the_app_exits_with_the_message_instead_of_opening(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(app, "platform_problem", lambda: "SeatLedger cannot open its window: x")
    assert app.run(None) == app.EXIT_ERROR
    assert capsys.readouterr().err == "SeatLedger cannot open its window: x\n"
