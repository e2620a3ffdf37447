"""Reading Hyper-V's PowerShell exports as the topology server licensing counts.

Hyper-V's own cmdlets do not say how many sockets and cores a host has: ``Get-VMHost`` gives
``LogicalProcessorCount``, which counts hyper-threads.  The cores come from the processors
themselves, so an export is read from these ``Export-Csv`` files (told apart by their headers):

- ``Get-CimInstance Win32_Processor -ComputerName HV01,HV02 | Export-Csv`` (required): one row
  per socket: ``SystemName`` (the host), ``DeviceID`` (``CPU0``…), ``Name`` (the processor
  model), ``NumberOfCores``, ``NumberOfLogicalProcessors``.  The sockets of one host must agree
  on their model and cores (a host is counted as sockets × cores per socket).
- ``Get-VM -ComputerName HV01,HV02 | Export-Csv`` (required): one row per VM: ``Name``,
  ``VMId``, ``State``, ``ComputerName`` (its host), ``ProcessorCount`` (its virtual
  processors), ``IsClustered``.
- ``Get-VMHost -ComputerName … | Export-Csv`` (optional): each host's
  ``LogicalProcessorCount`` must equal the logical processors of its sockets, and every host it
  lists must have processor rows.
- ``Get-ClusterNode -Cluster … | Export-Csv`` (optional): ``Cluster`` and ``Name`` of each node.
  A VM with ``IsClustered`` True can fail over to every node of its host's cluster; without
  this file its cluster is unknown and the VM is refused, never counted on one host only.

Windows compares computer names without regard to case; so does this reader.  Hyper-V's
processor compatibility and affinity settings are not hard partitioning under Oracle's policy,
so no VM read here is a hard partition.  Every problem names the line, the column and the file.
Pure: no storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from seatledger.domain.server.topology import VM, Host, PowerState, Topology
from seatledger.ingest.sheet_files import SheetFiles
from seatledger.ingest.sheets import Cells, Layout, Sheet, recognize
from seatledger.ingest.tabular import ImportFileError, Problem
from seatledger.text import agree, plural

FORMAT_NAME = "Hyper-V PowerShell exports"

# Told apart in this order: a Get-VM row also has a Name, a State and a ComputerName.
_LAYOUTS = {
    "Get-VM": Layout(
        {
            "name": ("Name", "VMName"),
            "id": ("VMId", "Id"),
            "state": ("State",),
            "host": ("ComputerName",),
            "vcpus": ("ProcessorCount",),
            "clustered": ("IsClustered",),
        },
        ("name", "state", "host", "vcpus"),
    ),
    "Win32_Processor": Layout(
        {
            "host": ("SystemName",),
            "device": ("DeviceID",),
            "model": ("Name",),
            "cores": ("NumberOfCores",),
            "logical": ("NumberOfLogicalProcessors",),
        },
        ("host", "device", "model", "cores"),
    ),
    "Get-VMHost": Layout(
        {"host": ("ComputerName", "Name"), "logical": ("LogicalProcessorCount",)},
        ("host", "logical"),
    ),
    "Get-ClusterNode": Layout(
        {"cluster": ("Cluster",), "node": ("Name", "NodeName")}, ("cluster", "node")
    ),
}
REQUIRED = ("Win32_Processor", "Get-VM")
# Get-VM's State: running, or passing between states while it runs, is on.
_STATES = {
    "running": PowerState.ON,
    "starting": PowerState.ON,
    "stopping": PowerState.ON,
    "saving": PowerState.ON,
    "pausing": PowerState.ON,
    "resuming": PowerState.ON,
    "off": PowerState.OFF,
    "saved": PowerState.SUSPENDED,
    "paused": PowerState.SUSPENDED,
}


def table_of(header: list[str]) -> str | None:
    """Which of the four exports a header row is, or None."""
    return recognize(header, _LAYOUTS)


@dataclass
class HyperVExport:
    """What the files say: their topology, notes for the preview, and which file was which."""

    topology: Topology
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    identities: tuple[str, ...] = ()  # per VM of ``topology.vms``: ``vmid:…`` or ``name:HOST/…``
    digests: tuple[str, ...] = ()  # each file's SHA-256, in the order given


def read_hyperv(paths: Sequence[Path], problems: list[Problem]) -> HyperVExport:
    """Hosts, clusters and VMs from Hyper-V's PowerShell exports.

    Problems (appended to ``problems``) name the line, the column and the file; the topology
    holds only the rows without problems.

    Raises:
        ImportFileError: a file is none of the four exports, two files are the same export, or
            the Win32_Processor or Get-VM export is missing.
    """
    with SheetFiles() as opened:
        sheets = opened.sheets
        for path, facts in opened.files(paths):
            sheet = opened.open_table(
                path,
                facts,
                problems,
                kind_of=table_of,
                layouts=_LAYOUTS,
                refused="is none of the Hyper-V exports read here (Get-VM, Get-VMHost, "
                "Get-ClusterNode, or Get-CimInstance Win32_Processor, each piped to Export-Csv).",
            )
            kind = sheet.kind
            if kind in sheets:
                sheet.table.close()
                raise ImportFileError(
                    f"{path.name} and {sheets[kind].source} are both {kind} exports; give each "
                    "once (one export may list many hosts)."
                )
            sheets[kind] = sheet
        missing = [kind for kind in REQUIRED if kind not in sheets]
        if missing:
            raise ImportFileError(
                f"Hyper-V's topology needs the {' and '.join(missing)} "
                f"{agree(len(missing), 'export')} too: "
                + "; ".join(_HOW[kind] for kind in missing)
                + "."
            )
    export = _Reader(sheets, problems).read()
    export.digests = opened.digests
    return export


_HOW = {
    "Win32_Processor": "'Get-CimInstance Win32_Processor -ComputerName HOSTS | Export-Csv FILE' "
    "gives each host's sockets and cores, which Get-VMHost does not",
    "Get-VM": "'Get-VM -ComputerName HOSTS | Export-Csv FILE' gives the VMs",
}


@dataclass
class _Socket:
    line: int
    device: str
    model: str
    cores: int
    logical: int | None


@dataclass
class _Reader:
    sheets: dict[str, Sheet]
    problems: list[Problem]
    hosts: dict[str, Host] = field(default_factory=dict)  # upper-cased name -> host
    clusters: dict[str, str] = field(default_factory=dict)  # upper-cased node -> cluster
    nodes: dict[str, tuple[int, str]] = field(default_factory=dict)  # upper -> (line, name)
    sockets: dict[str, list[_Socket]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cells: Cells = field(init=False)

    def __post_init__(self) -> None:
        self.cells = Cells(self.problems)

    def read(self) -> HyperVExport:
        if "Get-ClusterNode" in self.sheets:
            self._nodes(self.sheets["Get-ClusterNode"])
        self._processors(self.sheets["Win32_Processor"])
        if "Get-ClusterNode" in self.sheets:
            self._nodes_known(self.sheets["Get-ClusterNode"])
        if "Get-VMHost" in self.sheets:
            self._vmhosts(self.sheets["Get-VMHost"])
        vms = self._vms(self.sheets["Get-VM"])
        sources = {kind: sheet.source for kind, sheet in self.sheets.items()}
        topology = Topology.of(self.hosts.values(), (vm for _, vm in vms))
        return HyperVExport(topology, self.notes, sources, tuple(i for i, _ in vms))

    def _nodes(self, sheet: Sheet) -> None:
        seen: dict[str, int] = {}
        for line, cells in sheet.rows:
            node = sheet.cell(cells, "node")
            cluster = sheet.cell(cells, "cluster")
            if not node or not cluster:
                key = "node" if not node else "cluster"
                self.cells.bad(sheet, line, key, "", "is empty")
                continue
            if node.upper() in seen:
                self.cells.bad(
                    sheet, line, "node", node, f"is listed twice (line {seen[node.upper()]})"
                )
                continue
            seen[node.upper()] = line
            self.clusters[node.upper()] = cluster
            self.nodes[node.upper()] = (line, node)

    def _nodes_known(self, sheet: Sheet) -> None:
        """Every node of a cluster must be a host with its cores: a VM may fail over to any."""
        for key, (line, node) in self.nodes.items():
            if key not in self.hosts and not self.sockets.get(key):
                self.cells.bad(
                    sheet,
                    line,
                    "node",
                    node,
                    f"has no Win32_Processor rows: the cores of cluster {self.clusters[key]} are "
                    "not all known; export the processors of every node",
                )

    def _processors(self, sheet: Sheet) -> None:
        names: dict[str, str] = {}
        for line, cells in sheet.rows:
            host = sheet.cell(cells, "host")
            if not host:
                self.cells.bad(sheet, line, "host", "", "is empty; every row names its computer")
                continue
            device = sheet.cell(cells, "device")
            cores = self.cells.whole(sheet, line, cells, "cores")
            logical = (
                self.cells.whole(sheet, line, cells, "logical")
                if sheet.cell(cells, "logical")
                else None
            )
            known = self.sockets.setdefault(host.upper(), [])
            names.setdefault(host.upper(), host)
            twice = next((s for s in known if s.device.upper() == device.upper()), None)
            if twice is not None:
                self.cells.bad(
                    sheet, line, "device", device, f"is listed twice (line {twice.line})"
                )
                continue
            if cores is None:
                continue
            known.append(_Socket(line, device, sheet.cell(cells, "model"), cores, logical))
        for key, sockets in self.sockets.items():
            if not sockets:
                continue
            first = sockets[0]
            odd = next(
                (s for s in sockets if (s.model, s.cores) != (first.model, first.cores)), None
            )
            if odd is not None:
                self.cells.bad(
                    sheet,
                    odd.line,
                    "cores" if odd.cores != first.cores else "model",
                    str(odd.cores) if odd.cores != first.cores else odd.model,
                    f"differs from {first.device} of {names[key]} (line {first.line}): a host "
                    "whose sockets differ cannot be counted as sockets × cores per socket",
                )
                continue
            self.hosts[key] = Host(
                names[key],
                len(sockets),
                first.cores,
                first.model or None,
                self.clusters.get(key),
            )

    def _vmhosts(self, sheet: Sheet) -> None:
        for line, cells in sheet.rows:
            name = sheet.cell(cells, "host")
            logical = self.cells.whole(sheet, line, cells, "logical")
            sockets = self.sockets.get(name.upper())
            if not sockets:
                self.cells.bad(
                    sheet,
                    line,
                    "host",
                    name,
                    "has no Win32_Processor rows: its sockets and cores are not known; export "
                    "its processors too",
                )
                continue
            counted = [s.logical for s in sockets]
            if logical is None or None in counted:
                continue
            total = sum(n for n in counted if n is not None)
            if logical != total:
                self.cells.bad(
                    sheet,
                    line,
                    "logical",
                    str(logical),
                    f"is not the {plural(total, 'logical processor')} of its Win32_Processor "
                    "rows: the files are from different moments or hosts",
                )

    def _vms(self, sheet: Sheet) -> list[tuple[str, VM]]:
        vms: list[tuple[str, VM]] = []
        seen: dict[str, int] = {}
        for line, cells in sheet.rows:
            before = len(self.problems)
            name = sheet.cell(cells, "name")
            if not name:
                self.cells.bad(sheet, line, "name", "", "is empty; every row names its VM")
                continue
            state_text = sheet.cell(cells, "state")
            state = _STATES.get(state_text.lower())
            if state is None:
                self.cells.bad(
                    sheet,
                    line,
                    "state",
                    state_text,
                    "is not a state Get-VM writes (Running, Off, Saved, Paused, or one of "
                    "Starting, Stopping, Saving, Pausing, Resuming)",
                )
            vcpus = self.cells.whole(sheet, line, cells, "vcpus", maximum=2048)
            host_name = sheet.cell(cells, "host")
            host = self.hosts.get(host_name.upper())
            if host is None:
                self.cells.bad(
                    sheet,
                    line,
                    "host",
                    host_name,
                    "has processor rows with problems: the VM's host is not counted"
                    if self.sockets.get(host_name.upper())
                    else "has no Win32_Processor rows: the VM's host and its cores are not known",
                )
            clustered = self.cells.flag(sheet, line, cells, "clustered")
            if clustered and host is not None and host.cluster is None:
                self.cells.bad(
                    sheet,
                    line,
                    "clustered",
                    sheet.cell(cells, "clustered"),
                    f"is True, but no Get-ClusterNode export names the cluster of {host.name}: "
                    "export 'Get-ClusterNode | Export-Csv' too, or the hosts the VM can fail "
                    "over to are not known",
                )
            identity = sheet.cell(cells, "id").lower() or f"{host_name.upper()}/{name}"
            if identity in seen:
                self.cells.bad(
                    sheet, line, "name", name, f"is listed twice (line {seen[identity]})"
                )
            if len(self.problems) > before or state is None or vcpus is None or host is None:
                continue
            seen[identity] = line
            cluster = host.cluster if clustered else None
            vm_id = sheet.cell(cells, "id").lower()
            key = f"vmid:{vm_id}" if vm_id else f"name:{host.name.upper()}/{name}"
            vms.append((key, VM(name, vcpus, host.name, cluster, state)))
        return vms
