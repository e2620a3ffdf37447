"""The files of a several-table export (RVTools, Hyper-V): a file refused part-way closes every
table opened before it, and the import's record keeps each file's SHA-256 in the order given."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from seatledger.ingest import hyperv, rvtools, sheet_files
from seatledger.ingest.tabular import ImportFileError, Problem, Table

DATA = Path(__file__).parents[1] / "data"
HYPERV = [DATA / "hyperv" / f"{name}.csv" for name in ("Win32_Processor", "Get-VM", "Get-VMHost")]
RVTOOLS = [DATA / "rvtools" / f"RVTools_tab{name}.csv" for name in ("vInfo", "vCPU", "vHost")]


def _recording(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Table], list[Table]]:
    """Every table the readers open, and those closed."""
    opened: list[Table] = []
    closed: list[Table] = []
    read_table: Callable[..., Table] = sheet_files.read_table

    def recorded(*args: object) -> Table:
        table = read_table(*args)
        release = table.closer

        def close() -> None:
            closed.append(table)
            release()

        table.closer = close
        opened.append(table)
        return table

    monkeypatch.setattr(sheet_files, "read_table", recorded)
    return opened, closed


@pytest.mark.parametrize(
    ("read", "paths"),
    [(hyperv.read_hyperv, HYPERV), (rvtools.read_rvtools, RVTOOLS)],
    ids=["hyperv", "rvtools"],
)
def test_a_refused_file_closes_the_tables_opened_before_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    read: Callable[[Sequence[Path], list[Problem]], object],
    paths: list[Path],
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("Colour,Size\nred,3\n", encoding="utf-8")
    opened, closed = _recording(monkeypatch)
    with pytest.raises(ImportFileError, match=r"other\.csv"):
        read([*paths, other], [])
    assert len(opened) == len(paths) + 1
    assert {id(t) for t in closed} >= {id(t) for t in opened[:-1]}


def test_the_digests_are_the_files_in_the_order_given() -> None:
    paths = [*HYPERV, DATA / "hyperv" / "Get-ClusterNode.csv"][::-1]
    export = hyperv.read_hyperv(paths, [])
    assert export.digests == tuple(hashlib.sha256(p.read_bytes()).hexdigest() for p in paths)
    export = rvtools.read_rvtools(RVTOOLS[::-1], [])
    assert export.digests == tuple(
        hashlib.sha256(p.read_bytes()).hexdigest() for p in RVTOOLS[::-1]
    )
