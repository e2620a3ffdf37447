"""The frozen program `make package` built, beside the source install: size and start-up.

``frozen_rows(Row, times, env, db, runs)`` returns result rows for ``bench/run.py``: ``times``
runs a command and returns its seconds from process start to ``painted`` and ``usable`` (the
start-up figure's own method), ``env`` is that figure's environment (offscreen, signed in from
the environment, warm).  Measured, each beside the source install in the same run:

- the one-folder program ``dist/seatledger/`` and the release archive
  ``dist/seatledger-VERSION-linux-ARCH.tar.gz``, against the installed size of the packages a
  source install runs on (SeatLedger and its runtime dependencies in the virtual environment;
  the Python interpreter itself is not counted, the frozen folder carries its own);
- start to painted and to usable main window on ``db``, the frozen program against
  ``python -m seatledger``, runs interleaved so both meet the same machine load.

Without a build in ``dist/`` the rows say so instead of failing.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import statistics
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
PROGRAM = DIST / "seatledger" / "seatledger"
NOT_BUILT = "not built: run make package"
STARTS = (
    ("painted", "start to painted window (warm)", "<= 0.5 s", 0.5),
    ("usable", "start to usable main window (warm)", "<= 1.0 s", 1.0),
)


def _mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def _tree_size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(base, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def _requirements(name: str) -> Iterator[str]:
    """Distribution names ``name`` needs at run time (no extras), ``name`` first, recursively."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        wanted = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if wanted in seen:
            continue
        seen.add(wanted)
        try:
            dist = importlib.metadata.distribution(wanted)
        except importlib.metadata.PackageNotFoundError:
            continue
        yield wanted
        for requirement in dist.requires or []:
            spec, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue
            found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.strip())
            if found:
                todo.append(found[0])


def source_install_size() -> tuple[int, int]:
    """Bytes a source install's packages take, and how many distributions they are.

    SeatLedger is installed editable here: its share is the package folder and its resources.
    """
    total, count = 0, 0
    for name in _requirements("seatledger"):
        count += 1
        if name == "seatledger":
            total += _tree_size(ROOT / "src" / "seatledger") + _tree_size(ROOT / "resources")
            continue
        for file in importlib.metadata.distribution(name).files or []:
            path = Path(str(file.locate()))
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total, count


def _archive() -> Path | None:
    from seatledger import __version__

    found = sorted(DIST.glob(f"seatledger-{__version__}-linux-*.tar.gz"))
    return found[-1] if found else None


def frozen_rows(
    row: Callable[..., Any],
    times: Callable[[list[str], dict[str, str]], dict[str, float]],
    env: dict[str, str],
    db: Path,
    runs: int,
) -> list[Any]:
    """The frozen program's size and start-up rows, each beside the source install's."""
    folder_figure = "frozen program: dist/seatledger folder size"
    archive_figure = "frozen program: release .tar.gz size"
    start_figures = [f"frozen program: {figure}" for _word, figure, _budget, _goal in STARTS]
    archive = _archive()
    if not PROGRAM.is_file() or archive is None:
        missing = [folder_figure, archive_figure, *start_figures]
        return [row(figure, NOT_BUILT, "-", "-", "-") for figure in missing]

    installed, distributions = source_install_size()
    source_text = f"source install's packages ({distributions} distributions): {_mb(installed)}"
    folder, packed = _tree_size(PROGRAM.parent), archive.stat().st_size
    rows = [
        row(folder_figure, _mb(folder), source_text, f"{folder / installed:.1f}x", "(information)"),
        row(
            archive_figure, _mb(packed), source_text, f"{packed / installed:.1f}x", "(information)"
        ),
    ]

    # The frozen program gets none of the interpreter's variables, as on a machine without Python.
    frozen_env = {
        key: value for key, value in env.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))
    }
    source = [sys.executable, "-m", "seatledger", "--db", str(db)]
    frozen = [str(PROGRAM), "--db", str(db)]
    times(source, env)  # untimed: the bytecode, the page cache
    times(frozen, frozen_env)  # untimed: the page cache of the 300 MB folder
    measured: list[tuple[dict[str, float], dict[str, float]]] = []
    for _ in range(runs):
        measured.append((times(source, env), times(frozen, frozen_env)))
    for (word, _figure, budget, goal), figure in zip(STARTS, start_figures, strict=True):
        from_source = [s[word] for s, _f in measured if word in s]
        from_frozen = [f[word] for _s, f in measured if word in f]
        if len(from_frozen) < runs or len(from_source) < runs:
            rows.append(row(figure, "n/a (a start failed)", "-", "-", budget))
            continue
        median, baseline = statistics.median(from_frozen), statistics.median(from_source)
        rows.append(
            row(
                figure,
                f"{median:.3f} s",
                f"source install (python -m seatledger): {baseline:.3f} s",
                f"{median / baseline:.2f}x",
                budget,
                met=median <= goal,
            )
        )
    return rows
