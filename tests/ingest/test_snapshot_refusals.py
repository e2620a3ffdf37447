"""What LM-X's and Sentinel RMS's readers refuse alike, in the same words: a feature block before
any server line, a line no block has, a file without a block (the cut last line is in each
reader's own tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from seatledger.ingest import lmx, sentinel
from seatledger.ingest.tabular import Problem, sniff

DATA = Path(__file__).parents[1] / "data"
LMX = (DATA / "lmx" / "v4_9_one_server.txt").read_text(encoding="utf-8")
LSMON = (DATA / "sentinel" / "v9_7_windows.txt").read_text(encoding="utf-8")
Edit = Callable[[str], str]


def _refused(tmp_path: Path, reader: str, text: str) -> list[tuple[int, str, str, str]]:
    path = tmp_path / "snapshot.txt"
    path.write_text(text, encoding="utf-8")
    problems: list[Problem] = []
    if reader == "lmx":
        lmx.read_licstat(sniff(path), problems)
    else:
        sentinel.read_lsmon(sniff(path), problems)
    return [(p.line, p.column, p.value, p.reason) for p in problems]


def _line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(start))


def test_a_block_before_any_server_line_is_refused(tmp_path: Path) -> None:
    text = LMX.replace("LM-X License Server on 6200@cae-lic01:\n", "", 1)
    got = _refused(tmp_path, "lmx", text)[0]
    first = "Feature: MeshTool Version: 2026.1 Vendor: CAEWORKS"
    assert got == (
        _line_of(text, first),
        "server",
        first,
        "follows no 'LM-X License Server on PORT@HOST:' line: the file was edited or is cut at "
        "its start; save the whole output of 'lmxendutil -licstat' again",
    )
    text = LSMON.replace(
        ' [Contacting Sentinel RMS Development Kit server on host "eng-lic03"]', ""
    )
    got = _refused(tmp_path, "lsmon", text)[0]
    assert got == (
        _line_of(text, " |- Feature Information"),
        "server",
        "|- Feature Information",
        "follows no '[Contacting … server on host \"HOST\"]' line: the file was edited or is cut "
        "at its start; save the whole output of 'lsmon' again",
    )


def test_a_line_no_block_has_is_refused(tmp_path: Path) -> None:
    text = LMX.replace("Login time: 2026-03-03 08:10", "Logged in: 2026-03-03 08:10", 1)
    (got,) = [p for p in _refused(tmp_path, "lmx", text) if p[1] == "checkout"]
    assert got[0] == _line_of(text, "    Logged in:")
    assert got[3] == (
        "is not a line of a checkout ('N license(s) used by user@host [address]', 'Login time: … "
        "Checkout time: …', 'Shared on …'); the file may be cut short or edited"
    )
    text = LSMON.replace("   |- Feature version ", "   Feature version ", 1)
    (got,) = [p for p in _refused(tmp_path, "lsmon", text) if p[1] == "line"]
    assert got[:2] == (_line_of(text, "   Feature version "), "line")
    assert got[3] == (
        "is not a line lsmon writes in a feature block ('|- Name : value'); the file may be cut "
        "short or edited"
    )


@pytest.mark.parametrize(
    ("reader", "text", "said"),
    [
        (
            "lmx",
            LMX[: LMX.index("Feature:")],
            "no 'Feature: NAME Version: V Vendor: V' block; is this the output of "
            "'lmxendutil -licstat'?",
        ),
        (
            "lsmon",
            LSMON[: LSMON.index(" |- Feature Information")],
            "no '|- Feature Information' block; is this the output of 'lsmon HOST'?",
        ),
    ],
)
def test_a_file_without_a_block_is_refused(
    tmp_path: Path, reader: str, text: str, said: str
) -> None:
    assert _refused(tmp_path, reader, text) == [(0, "", "", said)]
