"""Reading Hyper-V's PowerShell exports (``tests/data/hyperv``; its README says what each file
reproduces): the topology counted by hand from the files, and every problem refused by line,
column and file, never guessed (hyper-threads are not cores; a clustered VM without its cluster
is not counted on one host)."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from seatledger.domain.server import microsoft, oracle
from seatledger.domain.server.tables import shipped_core_factors
from seatledger.domain.server.topology import PowerState
from seatledger.ingest import hyperv
from seatledger.ingest.tabular import ImportFileError, Problem

DATA = Path(__file__).parents[1] / "data" / "hyperv"
FILES = ("Win32_Processor", "Get-VM", "Get-VMHost", "Get-ClusterNode")


def _paths(folder: Path = DATA, files: tuple[str, ...] = FILES) -> list[Path]:
    return [folder / f"{name}.csv" for name in files]


def _read(paths: list[Path]) -> tuple[hyperv.HyperVExport, list[Problem]]:
    problems: list[Problem] = []
    return hyperv.read_hyperv(paths, problems), problems


def _edited(tmp_path: Path, name: str, *edits: tuple[int, str, str]) -> list[Path]:
    """The exports with cells of ``name``'s file changed: (line, column, value); line 1 is
    the #TYPE line, line 2 the header."""
    for source in _paths():
        shutil.copy(source, tmp_path / source.name)
    path = tmp_path / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    for line, column, value in edits:
        rows[line - 1][rows[1].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(rows[0][0] + "\r\n")
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows[1:])
    return _paths(tmp_path)


def test_the_exports_are_the_topology_counted_by_hand() -> None:
    export, problems = _read(_paths())
    assert problems == []
    topology = export.topology
    # Win32_Processor: HV01 and HV02 have two 20-core Gold 6248 sockets, HV03 one 8-core E-2278G;
    # the logical processors (40 a socket) are not cores.
    cores = {name: (h.sockets, h.cores_per_socket, h.cluster) for name, h in topology.hosts.items()}
    assert cores == {"HV01": (2, 20, "HVCL01"), "HV02": (2, 20, "HVCL01"), "HV03": (1, 8, None)}
    assert topology.hosts["HV03"].processor_model == "Intel(R) Xeon(R) E-2278G CPU @ 3.40GHz"
    assert topology.clusters["HVCL01"].hosts == ("HV01", "HV02")
    vms = {vm.name: (vm.vcpus, vm.host, vm.cluster, vm.power) for vm in topology.vms}
    assert vms == {
        "SQL01": (8, "HV01", "HVCL01", PowerState.ON),
        "APP01": (4, "HV01", "HVCL01", PowerState.ON),
        "DC01": (2, "HV01", None, PowerState.ON),
        "APP02": (4, "HV02", "HVCL01", PowerState.OFF),
        "RDS01": (6, "HV02", "HVCL01", PowerState.SUSPENDED),
        "TEST01": (2, "HV03", None, PowerState.ON),
        "TEST02": (1, "HV03", None, PowerState.SUSPENDED),
    }
    assert export.sources["Get-VM"] == "Get-VM.csv"


def test_the_rules_count_the_export() -> None:
    """By hand: Oracle in SQL01 (clustered: soft partitioning) counts both nodes, 2 × 40 cores ×
    0.5 = 40 processors; DC01 (not clustered) counts its host alone, 40 × 0.5 = 20.  Windows
    Server on HV03 (1 × 8 cores, two VMs): 16 core licenses at the minimums, Standard once."""
    topology = _read(_paths())[0].topology
    table = shipped_core_factors()
    by_name = {vm.name: vm for vm in topology.vms}
    assert oracle.oracle_requirement([by_name["SQL01"]], topology, table).processors == 40
    assert oracle.oracle_requirement([by_name["DC01"]], topology, table).processors == 20
    hv03 = microsoft.cheapest_windows_edition(
        topology.hosts["HV03"], 2, Decimal("66.875"), Decimal("387.5")
    )
    assert (hv03.standard_licenses, hv03.datacenter_licenses) == (16, 16)


def test_the_two_required_exports_suffice_without_clustered_vms(tmp_path: Path) -> None:
    paths = _edited(tmp_path, "Get-VM", *((line, "IsClustered", "False") for line in range(3, 10)))
    export, problems = _read(paths[:2])
    assert problems == []
    assert all(vm.cluster is None for vm in export.topology.vms)
    assert export.topology.clusters == {}


@pytest.mark.parametrize(
    ("name", "edit", "expected"),
    [
        (
            "Get-VM",
            (3, "State", "Hibernated"),
            "line 3, State (Get-VM.csv): is not a state Get-VM writes",
        ),
        (
            "Get-VM",
            (4, "ProcessorCount", "four"),
            "line 4, ProcessorCount (Get-VM.csv): not a whole number (value 'four')",
        ),
        (
            "Get-VM",
            (5, "ComputerName", "HV09"),
            "line 5, ComputerName (Get-VM.csv): has no Win32_Processor rows",
        ),
        (
            "Get-VM",
            (8, "IsClustered", "True"),
            "line 8, IsClustered (Get-VM.csv): is True, but no Get-ClusterNode export names the "
            "cluster of HV03",
        ),
        (
            "Get-VM",
            (4, "VMId", "3f2504e0-4f89-11d3-9a0c-0305e82c0001"),
            "line 4, Name (Get-VM.csv): is listed twice (line 3) (value 'APP01')",
        ),
        (
            "Win32_Processor",
            (4, "NumberOfCores", "16"),
            "line 4, NumberOfCores (Win32_Processor.csv): differs from CPU0 of HV01 (line 3)",
        ),
        (
            "Win32_Processor",
            (4, "NumberOfCores", "16"),
            "line 3, ComputerName (Get-VM.csv): has processor rows with problems: the VM's host "
            "is not counted (value 'HV01')",
        ),
        (
            "Win32_Processor",
            (4, "DeviceID", "CPU0"),
            "line 4, DeviceID (Win32_Processor.csv): is listed twice (line 3)",
        ),
        (
            "Win32_Processor",
            (7, "SystemName", "HV04"),
            "line 5, ComputerName (Get-VMHost.csv): has no Win32_Processor rows",
        ),
        (
            "Win32_Processor",
            (4, "NumberOfLogicalProcessors", "20"),
            "line 3, LogicalProcessorCount (Get-VMHost.csv): is not the 60 logical processors",
        ),
        (
            "Get-VMHost",
            (4, "LogicalProcessorCount", "40"),
            "line 4, LogicalProcessorCount (Get-VMHost.csv): is not the 80 logical processors",
        ),
        (
            "Get-ClusterNode",
            (4, "Name", "hv07"),
            "line 4, Name (Get-ClusterNode.csv): has no Win32_Processor rows: the cores of "
            "cluster HVCL01 are not all known",
        ),
    ],
)
def test_a_wrong_cell_is_refused_where_it_is(
    tmp_path: Path, name: str, edit: tuple[int, str, str], expected: str
) -> None:
    _, problems = _read(_edited(tmp_path, name, edit))
    assert [str(p) for p in problems if str(p).startswith(expected)], [str(p) for p in problems]


def test_missing_and_unknown_exports_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="needs the Win32_Processor export too"):
        _read(_paths(files=("Get-VM", "Get-VMHost")))
    with pytest.raises(ImportFileError, match="needs the Win32_Processor and Get-VM exports"):
        _read(_paths(files=("Get-ClusterNode",)))
    other = tmp_path / "people.csv"
    other.write_text("Name,Email\nAnn,ann@example.com\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"people\.csv is none of the Hyper-V exports"):
        _read([*_paths(), other])
    with pytest.raises(ImportFileError, match=r"are both Get-VM exports"):
        _read([*_paths(), DATA / "Get-VM.csv"])
    assert hyperv.table_of(["ComputerName", "LogicalProcessorCount"]) == "Get-VMHost"
    assert hyperv.table_of(["Name", "State", "ComputerName"]) is None
