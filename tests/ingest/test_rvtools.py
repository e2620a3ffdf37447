"""Reading RVTools exports (``tests/data/rvtools``; its README says what each file reproduces):
the CSV files, the workbook and the internal column names give the same topology, counted by
hand from the files; every problem is refused by line, column and sheet, never guessed."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from seatledger.domain.server import microsoft, oracle
from seatledger.domain.server.tables import shipped_core_factors
from seatledger.domain.server.topology import PowerState
from seatledger.ingest import rvtools
from seatledger.ingest.tabular import ImportFileError, Problem, read_table, sheet_names, sniff

DATA = Path(__file__).parents[1] / "data" / "rvtools"
SHEETS = ("vInfo", "vCPU", "vHost", "vCluster")


def _csvs(folder: Path = DATA) -> list[Path]:
    return [folder / f"RVTools_tab{sheet}.csv" for sheet in SHEETS]


def _read(paths: list[Path]) -> tuple[rvtools.RvToolsExport, list[Problem]]:
    problems: list[Problem] = []
    return rvtools.read_rvtools(paths, problems), problems


def _workbook(tmp_path: Path, sheets: tuple[str, ...] = SHEETS) -> Path:
    """The export as RVTools' "Export all to Excel" writes it: one sheet per tab, numbers as
    numbers, and sheets the reader does not need (vDisk) among them."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in sheets:
        page = book.create_sheet(sheet)
        with (DATA / f"RVTools_tab{sheet}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                page.append([int(cell) if cell.isdigit() else cell for cell in row])
    book.create_sheet("vDisk").append(["VM", "Disk", "Capacity MiB"])
    path = tmp_path / "RVTools_export_all.xlsx"
    book.save(path)
    return path


def _edited(tmp_path: Path, sheet: str, *edits: tuple[int, str, str]) -> list[Path]:
    """The CSV export with cells of ``sheet``'s file changed: (line, column, new value)."""
    for source in _csvs():
        shutil.copy(source, tmp_path / source.name)
    path = tmp_path / f"RVTools_tab{sheet}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for line, column, value in edits:
        rows[line - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return _csvs(tmp_path)


def test_the_csv_export_is_the_topology_counted_by_hand() -> None:
    export, problems = _read(_csvs())
    assert problems == []
    topology = export.topology
    # vHost: 6 hosts; Prod has esx01-03, Oracle esx11-12, the DMZ host is in no cluster.
    assert len(topology.hosts) == 6
    assert {name: c.hosts for name, c in topology.clusters.items()} == {
        "Prod": ("esx01.corp.example", "esx02.corp.example", "esx03.corp.example"),
        "Oracle": ("esx11.corp.example", "esx12.corp.example"),
    }
    esx01 = topology.hosts["esx01.corp.example"]
    assert (esx01.sockets, esx01.cores_per_socket, esx01.cores) == (2, 16, 32)
    assert esx01.processor_model == "Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz"
    assert esx01.vcenter == "vc01.corp.example"
    dmz = topology.hosts["esx-dmz01.corp.example"]
    assert (dmz.cluster, dmz.cores) == (None, 12)
    # vInfo: 9 rows, the template left out; power states as written.
    assert [vm.name for vm in topology.vms] == [
        "win-app01",
        "win-app02",
        "sql01",
        "lnx-web01",
        "ora-db01",
        "ora-db02",
        "dmz-web01",
        "dmz-proxy",
    ]
    power = {vm.name: vm.power for vm in topology.vms}
    assert power["ora-db02"] is PowerState.OFF
    assert power["dmz-proxy"] is PowerState.SUSPENDED
    sql01 = next(vm for vm in topology.vms if vm.name == "sql01")
    assert (sql01.vcpus, sql01.host, sql01.cluster) == (8, "esx03.corp.example", "Prod")
    assert sql01.os == "Microsoft Windows Server 2022 (64-bit)"
    assert all(vm.hard_partition_cores is None for vm in topology.vms)
    assert export.notes == ["1 template left out: not running operating system environments."]
    assert export.sources["vHost"] == "RVTools_tabvHost.csv"


def test_the_rules_count_the_export() -> None:
    """The export through the rules, by hand: Oracle in ora-db01 (VMware: soft partitioning)
    counts both hosts of cluster Oracle, 2 × 16 cores × 0.5 = 16 processors; Prod's 3 Windows
    VMs may run on each 2 × 16-core host: Standard 32 × 2 licensings = 64 core licenses a host,
    Datacenter 32."""
    topology = _read(_csvs())[0].topology
    ora = [vm for vm in topology.vms if vm.name == "ora-db01"]
    assert oracle.oracle_requirement(ora, topology, shipped_core_factors()).processors == 16
    prod = [topology.hosts[name] for name in topology.clusters["Prod"].hosts]
    windows = [vm for vm in topology.vms if vm.cluster == "Prod" and "Windows" in vm.os]
    choice = microsoft.cheapest_windows_for_cluster(
        prod, len(windows), Decimal("66.875"), Decimal("387.5")
    )
    assert [(c.standard_licenses, c.datacenter_licenses) for c in choice.hosts] == [(64, 32)] * 3


def test_the_workbook_reads_as_the_csv_files(tmp_path: Path) -> None:
    export, problems = _read([_workbook(tmp_path)])
    assert problems == []
    assert export.topology == _read(_csvs())[0].topology
    assert export.sources["vCluster"] == "RVTools_export_all.xlsx, sheet vCluster"


def test_internal_column_names_and_semicolons() -> None:
    export, problems = _read([DATA / "internal_names_vInfo.csv", DATA / "internal_names_vHost.csv"])
    assert problems == []
    topology = export.topology
    assert topology.clusters["Edge"].hosts == ("edge01.corp.example", "edge02.corp.example")
    assert [(vm.name, vm.vcpus, vm.host) for vm in topology.vms] == [
        ("app01", 4, "edge01.corp.example"),
        ("app02", 16, "edge02.corp.example"),
    ]
    assert topology.vms[1].os == "Microsoft Windows Server 2022 (64-bit)"


@pytest.mark.parametrize(
    ("sheet", "edit", "expected"),
    [
        (
            "vInfo",
            (3, "Powerstate", "running"),
            "line 3, Powerstate (RVTools_tabvInfo.csv): is not a power state RVTools writes",
        ),
        (
            "vInfo",
            (4, "CPUs", "eight"),
            "line 4, CPUs (RVTools_tabvInfo.csv): not a whole number (value 'eight')",
        ),
        ("vInfo", (2, "CPUs", "0"), "line 2, CPUs (RVTools_tabvInfo.csv): must be between 1"),
        (
            "vInfo",
            (2, "Host", "esx99.corp.example"),
            "line 2, Host (RVTools_tabvInfo.csv): is not a host the vHost sheet lists",
        ),
        (
            "vInfo",
            (7, "Cluster", "Prod"),
            "line 7, Cluster (RVTools_tabvInfo.csv): is not the cluster vHost puts "
            "esx11.corp.example in (Oracle) (value 'Prod')",
        ),
        (
            "vInfo",
            (3, "VM UUID", "42100001-3c5e-7a9b-1d2f-8e6c5b4a0001"),
            "line 3, VM (RVTools_tabvInfo.csv): is listed twice (line 2) (value 'win-app02')",
        ),
        (
            "vInfo",
            (6, "Template", "maybe"),
            "line 6, Template (RVTools_tabvInfo.csv): is not True or False",
        ),
        (
            "vHost",
            (2, "# Cores", "16"),
            "line 2, # Cores (RVTools_tabvHost.csv): is not # CPU × Cores per CPU (2 × 16 = 32)",
        ),
        ("vHost", (3, "# CPU", ""), "line 3, # CPU (RVTools_tabvHost.csv): is empty"),
        (
            "vCluster",
            (3, "NumHosts", "3"),
            "line 3, NumHosts (RVTools_tabvCluster.csv): is not the 2 hosts vHost lists in Oracle",
        ),
        (
            "vCluster",
            (2, "NumCpuCores", "64"),
            "line 2, NumCpuCores (RVTools_tabvCluster.csv): is not the 96 cores of the vHost "
            "rows of Prod",
        ),
        (
            "vCluster",
            (3, "Name", "Oracle-RAC"),
            "line 5, Cluster (RVTools_tabvHost.csv): is not a cluster the vCluster sheet lists",
        ),
        (
            "vCPU",
            (4, "Cores p/s", "4"),
            "line 4, CPUs (RVTools_tabvCPU.csv): is not Sockets × Cores p/s (1 × 4 = 4)",
        ),
        (
            "vCPU",
            (4, "CPUs", "4"),
            "line 4, CPUs (RVTools_tabvCPU.csv): is not Sockets × Cores p/s (1 × 8 = 8)",
        ),
    ],
)
def test_a_wrong_cell_is_refused_where_it_is(
    tmp_path: Path, sheet: str, edit: tuple[int, str, str], expected: str
) -> None:
    export, problems = _read(_edited(tmp_path, sheet, edit))
    assert [str(p) for p in problems if str(p).startswith(expected)], [str(p) for p in problems]
    # The row with a problem is not in the topology.
    if sheet == "vInfo" and edit[1] != "Template":
        assert len(export.topology.vms) < 8


def test_vcpu_disagreeing_with_vinfo_is_refused(tmp_path: Path) -> None:
    # sql01 as 2 × 8 = 16 vCPUs: consistent in itself, not with vInfo's 8.
    _, problems = _read(_edited(tmp_path, "vCPU", (4, "CPUs", "16"), (4, "Sockets", "2")))
    assert [str(p) for p in problems] == [
        "line 4, CPUs (RVTools_tabvCPU.csv): is not the 8 CPUs vInfo gives sql01 (line 4) "
        "(value '16')"
    ]


def test_missing_and_unknown_sheets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="needs its vHost sheet too"):
        _read([DATA / "RVTools_tabvInfo.csv"])
    with pytest.raises(ImportFileError, match="needs its vInfo and vHost sheets too"):
        _read([DATA / "RVTools_tabvCluster.csv"])
    other = tmp_path / "devices.csv"
    other.write_text("Device name,Serial\nws-01,ABC\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"devices\.csv is not one of RVTools' vInfo"):
        _read([DATA / "RVTools_tabvHost.csv", other])
    with pytest.raises(ImportFileError, match="the vHost sheet is given twice"):
        _read([*_csvs(), DATA / "internal_names_vHost.csv"])
    with pytest.raises(ImportFileError, match="needs its vHost sheet too"):
        _read([_workbook(tmp_path, ("vInfo", "vCluster"))])
    assert rvtools.sheet_of(["Host", "Cluster", "# CPU"]) is None
    assert rvtools.sheet_of(["Host", "Cluster", "# CPU", "Cores per CPU"]) == "vHost"


def test_a_sheet_without_a_column_it_needs_is_refused_by_name(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "vInfo"  # type: ignore[union-attr]
    book.active.append(["VM", "Powerstate", "CPUs", "Host", "Cluster"])  # type: ignore[union-attr]
    book.create_sheet("vHost").append(["Host", "Cluster", "# CPU", "# Cores"])
    path = tmp_path / "partial.xlsx"
    book.save(path)
    with pytest.raises(
        ImportFileError,
        match=r"^partial.xlsx, sheet vHost: the vHost table has no 'Cores per CPU' column\.$",
    ):
        _read([path])


def test_a_workbook_sheet_is_read_by_name(tmp_path: Path) -> None:
    path = _workbook(tmp_path, ("vHost",))
    assert sheet_names(sniff(path)) == ["vHost", "vDisk"]
    assert sheet_names(sniff(DATA / "RVTools_tabvHost.csv")) == []
    problems: list[Problem] = []
    table = read_table(sniff(path), problems, "vDisk")
    assert (table.sheet, table.header) == ("vDisk", ["VM", "Disk", "Capacity MiB"])
    assert list(table.rows) == []
    with pytest.raises(ImportFileError, match=r"has no sheet 'vNope' \(its sheets: vHost, vDisk\)"):
        read_table(sniff(path), problems, "vNope")
