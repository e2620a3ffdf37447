"""vInfo read a block of rows at a time, column by column, must read exactly as row by row.

``rvtools._Reader._vm_block`` reads a block of well-formed rows in C and gives up (reading
nothing) at any sign of a problem, for ``_vm`` to read the block row by row and name it.  Here
random vInfo sheets, mostly well formed with a sprinkling of every kind of bad, odd or spaced
cell, short rows and missing optional columns, are read both ways: the VMs, their lines, the
problems and the notes must be the same.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seatledger.ingest import rvtools
from seatledger.ingest.tabular import Problem

HOSTS = (
    ("esx01.corp.example", "Prod"),
    ("esx02.corp.example", "Prod"),
    ("esx-dmz01.corp.example", ""),
)
COLUMNS = (
    "VM",
    "Powerstate",
    "Template",
    "SRM Placeholder",
    "CPUs",
    "Cluster",
    "Host",
    "OS according to the configuration file",
    "OS according to the VMware Tools",
    "VM UUID",
)
OPTIONAL = ("SRM Placeholder", "OS according to the VMware Tools", "VM UUID", "Template")


def _cell(good: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """Mostly a good value, now and then an odd one."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(odd))


ROW = st.fixed_dictionaries(
    {
        "VM": _cell(["app01", "app02", "db01", "web01"], ["", " app01 ", "x"]),
        "Powerstate": _cell(
            ["poweredOn", "poweredOff", "suspended"], ["POWEREDON", " poweredOn", "on", ""]
        ),
        "Template": _cell(["False", ""], ["True", "TRUE", "yes", "1", "false ", "maybe", "0"]),
        "SRM Placeholder": _cell(["False", ""], ["True", "No", "perhaps"]),
        "CPUs": _cell(["1", "2", "4", "8"], ["0", "4.0", " 2", "x", "", "100001", "1,024"]),
        "Host": _cell([h for h, _ in HOSTS], ["esx99.corp.example", "", " esx01.corp.example"]),
        "Cluster": _cell(["Prod", ""], ["Other", " Prod"]),
        "OS according to the configuration file": _cell(
            ["Microsoft Windows Server 2022 (64-bit)", "Red Hat Enterprise Linux 9 (64-bit)"],
            ["", " Ubuntu Linux (64-bit) "],
        ),
        "OS according to the VMware Tools": _cell(["", "Other (64-bit)"], [" x "]),
        "VM UUID": _cell(["4210-a", "4210-b", "4210-c", "4210-D", ""], [" 4210-e", "4210-A"]),
    }
)


def _sheet(rows: list[dict[str, str]], dropped: set[str], short: set[int]) -> list[list[str]]:
    header = [c for c in COLUMNS if c not in dropped]
    body = []
    for n, row in enumerate(rows):
        cells = [row[c] for c in header]
        # The VM names and UUIDs drawn repeat: most rows get their own, some share one.
        if n % 3:
            cells[0] = f"{cells[0]}-{n}" if cells[0].strip() else cells[0]
            if "VM UUID" in header and cells[-1].strip():
                cells[-1] = f"{cells[-1]}-{n}"
        body.append(cells[:3] if n in short else cells)
    return [header, *body]


def _read(folder: Path, sheet: list[list[str]], whole_blocks: bool) -> tuple[object, ...]:
    with (folder / "RVTools_tabvInfo.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(sheet)
    with (folder / "RVTools_tabvHost.csv").open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Host", "Cluster", "# CPU", "Cores per CPU"])
        out.writerows([name, cluster, "2", "16"] for name, cluster in HOSTS)
    paths = [folder / "RVTools_tabvInfo.csv", folder / "RVTools_tabvHost.csv"]
    problems: list[Problem] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rvtools, "_BLOCK", 4)  # several blocks, some good, some not
        if not whole_blocks:
            patch.setattr(rvtools._Reader, "_vm_block", lambda *_: False)
        export = rvtools.read_rvtools(paths, problems)
    return export.rows, export.identities, problems, export.notes


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(ROW, min_size=1, max_size=14),
    dropped=st.sets(st.sampled_from(OPTIONAL)),
    short=st.sets(st.integers(0, 13), max_size=1),
)
def test_blocks_read_as_rows_do(
    rows: list[dict[str, str]], dropped: set[str], short: set[int]
) -> None:
    sheet = _sheet(rows, dropped, short)
    with tempfile.TemporaryDirectory() as folder:
        assert _read(Path(folder), sheet, True) == _read(Path(folder), sheet, False)


def test_a_well_formed_block_is_read_whole(tmp_path: Path) -> None:
    """The bench's kind of sheet goes through the blocks (not row by row): a template and a
    placeholder among plain VMs, cells as RVTools writes them."""
    rows = [
        ["VM", "Powerstate", "Template", "SRM Placeholder", "CPUs", "Cluster", "Host", "VM UUID"],
        ["app1", "poweredOn", "False", "False", "4", "Prod", HOSTS[0][0], "4210-A"],
        ["tpl", "poweredOff", "True", "False", "2", "Prod", HOSTS[1][0], "4210-B"],
        ["srm", "poweredOff", "False", "True", "2", "Prod", HOSTS[1][0], "4210-C"],
        ["dmz1", "suspended", "False", "False", "1", "", HOSTS[2][0], ""],
    ]
    rows_read: list[bool] = []
    block = rvtools._Reader._vm_block

    def counted(reader: rvtools._Reader, *args: object) -> bool:
        rows_read.append(block(reader, *args))  # type: ignore[arg-type]
        return rows_read[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rvtools._Reader, "_vm_block", counted)
        vms, identities, problems, notes = _read(tmp_path, rows, True)
    assert rows_read == [True]
    assert problems == []
    assert vms == [
        ("uuid:4210-a", "app1", 4, HOSTS[0][0], "Prod", "poweredOn", ""),
        ("name:dmz1", "dmz1", 1, HOSTS[2][0], None, "suspended", ""),
    ]
    assert identities == ("uuid:4210-a", "name:dmz1")
    assert notes == [
        "1 template and 1 SRM placeholder left out: not running operating system environments."
    ]
