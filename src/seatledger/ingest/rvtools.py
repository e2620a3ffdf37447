"""Reading RVTools exports as the topology server licensing counts: hosts, clusters and VMs.

RVTools writes one sheet per kind of vSphere object to a workbook (vInfo, vCPU, vHost,
vCluster, … — "Export all to Excel"), or one CSV file per sheet (``RVTools_tabvInfo.csv``…,
"Export all to csv").  Its sheets carry headers in words ("VM", "Powerstate", "# CPU", "Cores
per CPU"); older versions and some CSV exports carry its internal names instead ("vInfoVMName",
"vHostNumCpu"); both are read, compared loosely (``formats.normal``).  What is read:

- **vHost**: one row per ESXi host: its name, cluster, processor model, sockets ("# CPU") and
  cores per socket; "# Cores", where present, must equal their product; its vCenter ("VI SDK
  Server"), how far cross-cluster vMotion may reach.
- **vInfo**: one row per VM: name, power state, vCPUs ("CPUs"), host and cluster; the VM's
  host must be a vHost row and its cluster that host's.  Templates and SRM placeholders are not
  running OSEs: they are left out and counted in the notes.
- **vCluster** (optional): one row per cluster; its hosts ("NumHosts") and cores
  ("NumCpuCores") must agree with the vHost rows naming it: two sheets from two runs are refused.
- **vCPU** (optional): one row per VM; its "CPUs" must equal sockets × "Cores p/s" and the
  vInfo row's CPUs.

A workbook is read from its sheets; CSV files are told apart by their headers.  vInfo and vHost
are required.  Every problem names the line, the column and the sheet or file; nothing is
guessed: an unknown power state, a VM on an unknown host, a count that is not a whole number are
refused.  VMware's CPU affinity is not hard partitioning under Oracle's policy, so no VM read
here is a hard partition.  Pure: no storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress, islice
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

from seatledger.domain.server.topology import Host, PowerState, Topology, VmRow, vm_of
from seatledger.ingest.formats import normal
from seatledger.ingest.sheet_files import SheetFiles
from seatledger.ingest.sheets import Cells, Layout, Sheet, open_sheet, recognize
from seatledger.ingest.tabular import ImportFileError, Problem, read_table, sheet_names
from seatledger.text import agree, plural

FORMAT_NAME = "RVTools export"
SHEETS = ("vInfo", "vCPU", "vHost", "vCluster")
REQUIRED_SHEETS = ("vInfo", "vHost")

# Per sheet: field -> the headers that mean it (RVTools' words, then its internal names).
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "vInfo": {
        "vm": ("VM", "vInfoVMName"),
        "power": ("Powerstate", "vInfoPowerstate"),
        "cpus": ("CPUs", "vInfoCPUs"),
        "host": ("Host", "vInfoHost"),
        "cluster": ("Cluster", "vInfoCluster"),
        "template": ("Template", "vInfoTemplate"),
        "srm": ("SRM Placeholder", "vInfoSRMPlaceHolder"),
        "os": ("OS according to the configuration file", "vInfoOS"),
        "os_tools": ("OS according to the VMware Tools", "vInfoOSTools"),
        "uuid": ("VM UUID", "vInfoUUID"),
    },
    "vCPU": {
        "vm": ("VM", "vCPUVMName"),
        "cpus": ("CPUs", "vCPUCPUs"),
        "sockets": ("Sockets", "vCPUSockets"),
        "cores_per_socket": ("Cores p/s", "vCPUCoresPerSocket"),
        "uuid": ("VM UUID", "vCPUUUID"),
    },
    "vHost": {
        "host": ("Host", "vHostName"),
        "cluster": ("Cluster", "vHostCluster"),
        "model": ("CPU Model", "vHostCpuModel"),
        "sockets": ("# CPU", "vHostNumCPU"),
        "cores_per_socket": ("Cores per CPU", "vHostCoresPerCPU"),
        "cores": ("# Cores", "vHostNumCpuCores"),
        "vcenter": ("VI SDK Server", "vHostVISDKServer"),
    },
    "vCluster": {
        "name": ("Name", "vClusterName"),
        "hosts": ("NumHosts", "vClusterNumHosts"),
        "cores": ("NumCpuCores", "vClusterNumCpuCores"),
    },
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "vInfo": ("vm", "power", "cpus", "host", "cluster"),
    "vCPU": ("vm", "cpus", "sockets", "cores_per_socket"),
    "vHost": ("host", "cluster", "sockets", "cores_per_socket"),
    "vCluster": ("name", "hosts"),
}
# vCPU before vInfo: a vCPU sheet has every column vInfo requires.
_LAYOUTS = {
    sheet: Layout(_COLUMNS[sheet], _REQUIRED[sheet])
    for sheet in ("vCPU", "vHost", "vCluster", "vInfo")
}
_POWER = {state.value.lower(): state for state in PowerState}
_POWER_VALUE = {text: state.value for text, state in _POWER.items()}
_VINFO = ("vm", "template", "srm", "power", "cpus", "host", "cluster", "uuid", "os", "os_tools")
_BLOCK = 4096  # vInfo rows read column by column at once
_MOST_CPUS = 100_000  # as Cells.whole_text reads a count
_T = TypeVar("_T")
# Flags as RVTools writes them unset: no problem, not set (Cells.flag_text would say the same).
_UNSET = frozenset({"False", "false", "FALSE", "No", "no", "0"})


def _count(text: str) -> int | None:
    """A CPUs cell written plainly (digits only) as ``Cells.whole_text`` reads it, or None for
    anything else (that reading names the problem, or reads "4.0")."""
    if text.isascii() and text.isdigit() and 1 <= int(text) <= _MOST_CPUS:
        return int(text)
    return None


def _flag(text: str) -> bool | None:
    """A stripped Template or SRM Placeholder cell as ``Cells.flag_text`` reads it: set, not
    set, or None where that would be a problem."""
    low = text.lower()
    if low in ("true", "yes", "1"):
        return True
    if low in ("false", "no", "0", ""):
        return False
    return None


def sheet_of(header: list[str]) -> str | None:
    """Which RVTools sheet a header row is, or None when it is none of the four read here.

    Each spelling is tried whole: RVTools' words, or its internal names."""
    for sheet, layout in _LAYOUTS.items():
        for spelling in (0, 1):
            words = Layout({k: (v[spelling],) for k, v in layout.columns.items()}, layout.required)
            if recognize(header, {sheet: words}):
                return sheet
    return None


@dataclass
class RvToolsExport:
    """What one export says: its hosts and VMs, notes for the preview, and where each sheet was
    read.

    ``rows`` are the VMs as an import stores them (:data:`VmRow`; ``uuid:…`` or ``name:…``
    identities); :attr:`topology` makes them VMs when asked (an import of tens of thousands of
    VMs writes the rows and needs none)."""

    hosts: dict[str, Host]
    rows: list[VmRow]
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    digests: tuple[str, ...] = ()  # each file's SHA-256, in the order given

    @cached_property
    def topology(self) -> Topology:
        """The hosts, their clusters and the VMs."""
        return Topology.of(self.hosts.values(), map(vm_of, self.rows))

    @property
    def identities(self) -> tuple[str, ...]:
        """Per VM of ``topology.vms``, its identity."""
        return tuple(row[0] for row in self.rows)


def read_rvtools(paths: Sequence[Path], problems: list[Problem]) -> RvToolsExport:
    """The hosts, clusters and VMs of an RVTools workbook or of its CSV files.

    Problems (appended to ``problems``) name the line, the column and the sheet or file; the
    topology holds only the rows without problems, so a caller imports nothing while there are
    any.

    Raises:
        ImportFileError: a file is neither a workbook with the vInfo and vHost sheets nor one of
            RVTools' CSV sheets, two files are the same sheet, or vInfo or vHost is missing.
    """
    with SheetFiles() as opened:
        sheets = opened.sheets
        for path, facts in opened.files(paths):
            if facts.kind == "xlsx":
                names = sheet_names(facts)
                for wanted in SHEETS:
                    spellings = {normal(wanted), f"tab{normal(wanted)}"}
                    name = next((n for n in names if normal(n) in spellings), None)
                    if name is not None:
                        table = read_table(facts, problems, name)
                        source = f"{path.name}, sheet {name}"
                        _add(sheets, open_sheet(wanted, source, table, _LAYOUTS[wanted]), path)
                continue
            sheet = opened.open_table(
                path,
                facts,
                problems,
                kind_of=sheet_of,
                layouts=_LAYOUTS,
                refused="is not one of RVTools' vInfo, vCPU, vHost or vCluster sheets (its "
                "header names none of their columns).",
            )
            _add(sheets, sheet, path)
        missing = [name for name in REQUIRED_SHEETS if name not in sheets]
        if missing:
            raise ImportFileError(
                f"An RVTools export needs its {' and '.join(missing)} "
                f"{agree(len(missing), 'sheet')} too (with "
                f"{', '.join(p.name for p in paths)}): export all sheets from one run of RVTools."
            )
    export = _Reader(sheets, problems).read()
    export.digests = opened.digests
    return export


def _add(sheets: dict[str, Sheet], sheet: Sheet, path: Path) -> None:
    if sheet.kind in sheets:
        sheet.table.close()
        raise ImportFileError(
            f"{path.name}: the {sheet.kind} sheet is given twice ({sheets[sheet.kind].source} "
            f"and {sheet.source}); give each sheet once."
        )
    sheets[sheet.kind] = sheet


@dataclass
class _Reader:
    sheets: dict[str, Sheet]
    problems: list[Problem]
    hosts: dict[str, Host] = field(default_factory=dict)
    host_lines: dict[str, int] = field(default_factory=dict)
    vms: dict[str, int] = field(default_factory=dict)  # identity -> its place in ``rows``
    rows: list[VmRow] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # per row: its vInfo line
    templates: int = 0
    placeholders: int = 0
    cluster_of: dict[str, str | None] = field(default_factory=dict)  # host -> its cluster
    cluster_text: dict[str, str] = field(default_factory=dict)  # host -> its cluster, or ""
    notes: list[str] = field(default_factory=list)
    cells: Cells = field(init=False)

    def __post_init__(self) -> None:
        self.cells = Cells(self.problems)

    def read(self) -> RvToolsExport:
        self._hosts(self.sheets["vHost"])
        if "vCluster" in self.sheets:
            self._clusters(self.sheets["vCluster"])
        self._vms(self.sheets["vInfo"])
        if "vCPU" in self.sheets:
            self._vcpus(self.sheets["vCPU"])
        sources = {name: sheet.source for name, sheet in self.sheets.items()}
        return RvToolsExport(self.hosts, self.rows, self.notes, sources)

    # -- vHost ----------------------------------------------------------------------------------

    def _hosts(self, sheet: Sheet) -> None:
        for line, cells in sheet.rows:
            name = sheet.cell(cells, "host")
            if not name:
                self.cells.bad(sheet, line, "host", "", "is empty; every vHost row names its host")
                continue
            if name in self.host_lines:
                self.cells.bad(
                    sheet, line, "host", name, f"is listed twice (line {self.host_lines[name]})"
                )
                continue
            sockets = self.cells.whole(sheet, line, cells, "sockets")
            per_socket = self.cells.whole(sheet, line, cells, "cores_per_socket")
            if sockets is None or per_socket is None:
                continue
            if sheet.has("cores") and sheet.cell(cells, "cores"):
                cores = self.cells.whole(sheet, line, cells, "cores")
                if cores is None:
                    continue
                if cores != sockets * per_socket:
                    self.cells.bad(
                        sheet,
                        line,
                        "cores",
                        str(cores),
                        f"is not # CPU × Cores per CPU ({sockets} × {per_socket} = "
                        f"{sockets * per_socket}); the row contradicts itself",
                    )
                    continue
            self.host_lines[name] = line
            self.hosts[name] = Host(
                name,
                sockets,
                per_socket,
                sheet.cell(cells, "model") or None,
                sheet.cell(cells, "cluster") or None,
                vcenter=sheet.cell(cells, "vcenter") or None,
            )

    # -- vCluster -------------------------------------------------------------------------------

    def _clusters(self, sheet: Sheet) -> None:
        listed: dict[str, int] = {}
        in_cluster: dict[str | None, list[Host]] = {}
        for host in self.hosts.values():
            in_cluster.setdefault(host.cluster, []).append(host)
        for line, cells in sheet.rows:
            name = sheet.cell(cells, "name")
            if not name:
                self.cells.bad(
                    sheet, line, "name", "", "is empty; every vCluster row names its cluster"
                )
                continue
            if name in listed:
                self.cells.bad(sheet, line, "name", name, f"is listed twice (line {listed[name]})")
                continue
            listed[name] = line
            members = in_cluster.get(name, [])
            count = self.cells.whole(sheet, line, cells, "hosts", minimum=0)
            if count is not None and count != len(members):
                self.cells.bad(
                    sheet,
                    line,
                    "hosts",
                    str(count),
                    f"is not the {plural(len(members), 'host')} vHost lists in {name}: the sheets "
                    "are from two runs; export all sheets from one run of RVTools",
                )
            if sheet.has("cores") and sheet.cell(cells, "cores"):
                cores = self.cells.whole(sheet, line, cells, "cores", minimum=0)
                counted = sum(h.cores for h in members)
                if cores is not None and count == len(members) and cores != counted:
                    self.cells.bad(
                        sheet,
                        line,
                        "cores",
                        str(cores),
                        f"is not the {plural(counted, 'core')} of the vHost rows of {name}",
                    )
        for host in self.hosts.values():
            if host.cluster and host.cluster not in listed:
                self.cells.bad(
                    self.sheets["vHost"],
                    self.host_lines[host.name],
                    "cluster",
                    host.cluster,
                    "is not a cluster the vCluster sheet lists",
                )

    # -- vInfo ----------------------------------------------------------------------------------

    def _vms(self, sheet: Sheet) -> None:
        self.cluster_of = {name: host.cluster for name, host in self.hosts.items()}
        self.cluster_text = {name: cluster or "" for name, cluster in self.cluster_of.items()}
        # Each row's cells read at once: vInfo is the sheet of tens of thousands of rows.
        read = sheet.reader(*_VINFO)
        rows = iter(sheet.rows)
        # A block of rows at a time, read column by column (in C) while every row is well
        # formed, row by row (naming each problem) in a block that is not; the rows of one
        # block only are held, whatever the sheet's length and width.
        while block := list(islice(rows, _BLOCK)):
            if not self._vm_block(sheet, block):
                for line, cells in block:
                    self._vm(sheet, line, read(cells))
        left_out = []
        if self.templates:
            left_out.append(f"{plural(self.templates, 'template')}")
        if self.placeholders:
            left_out.append(f"{plural(self.placeholders, 'SRM placeholder')}")
        if left_out:
            self.notes.append(
                f"{' and '.join(left_out)} left out: not running operating system environments."
            )

    def _vm(self, sheet: Sheet, line: int, texts: list[str]) -> None:
        """One vInfo row, every problem named."""
        (
            name,
            template,
            srm,
            power_text,
            cpus_text,
            host_name,
            cluster_text,
            uuid,
            os,
            os_tools,
        ) = texts
        checks, problems = self.cells, self.problems
        if not name:
            checks.bad(sheet, line, "vm", "", "is empty; every vInfo row names its VM")
            return
        before = len(problems)
        if (
            template
            and template not in _UNSET
            and checks.flag_text(sheet, line, "template", template)
        ):
            self.templates += 1
            return
        if srm and srm not in _UNSET and checks.flag_text(sheet, line, "srm", srm):
            self.placeholders += 1
            return
        power = _POWER.get(power_text.lower())
        if power is None:
            checks.bad(
                sheet,
                line,
                "power",
                power_text,
                "is not a power state RVTools writes (poweredOn, poweredOff, suspended)",
            )
        cpus = checks.whole_text(sheet, line, "cpus", cpus_text)
        cluster = cluster_text or None
        host = self.hosts.get(host_name)
        if not host_name:
            checks.bad(sheet, line, "host", "", "is empty; every VM runs on a host")
        elif host is None:
            checks.bad(sheet, line, "host", host_name, "is not a host the vHost sheet lists")
        elif cluster != host.cluster:
            checks.bad(
                sheet,
                line,
                "cluster",
                cluster or "",
                f"is not the cluster vHost puts {host_name} in "
                + (f"({host.cluster})" if host.cluster else "(none)"),
            )
        identity = f"uuid:{uuid.lower()}" if uuid else f"name:{name}"
        if identity in self.vms:
            checks.bad(
                sheet, line, "vm", name, f"is listed twice (line {self.lines[self.vms[identity]]})"
            )
        if len(problems) > before or power is None or cpus is None:
            return
        self.vms[identity] = len(self.rows)
        self.lines.append(line)
        self.rows.append((identity, name, cpus, host_name, cluster, power.value, os or os_tools))

    def _vm_block(self, sheet: Sheet, block: list[tuple[int, list[str]]]) -> bool:
        """The rows of ``block`` read column by column, as :meth:`_vm` reads each; False (and
        nothing kept) where any row is not plainly well formed, for :meth:`_vm` to say why.

        Cells that only need comparing (power state, CPUs, host, cluster, flags) are compared
        as written, each distinct value once: one with spaces around it is not plainly well
        formed.  The texts kept (name, UUID, OS) are stripped."""
        numbers, rows = zip(*block, strict=True)
        if min(map(len, rows)) <= max(sheet.columns[key] for key in _VINFO if sheet.has(key)):
            return False  # a short row: its missing cells are read as empty, one at a time

        def column(key: str) -> list[str]:
            place = sheet.columns.get(key)
            return [""] * len(rows) if place is None else list(map(itemgetter(place), rows))

        strip = str.strip
        all_names = list(map(strip, column("vm")))
        if not all(all_names):
            return False
        templates, placeholders = column("template"), column("srm")
        flags = {flag: _flag(flag) for flag in {*templates, *placeholders}}
        if None in flags.values():
            return False
        keep: list[bool] | None = None
        templates_here = placeholders_here = 0
        if any(flags.values()):
            is_template = list(map(flags.__getitem__, templates))
            is_placeholder = list(map(flags.__getitem__, placeholders))
            keep = [not (t or p) for t, p in zip(is_template, is_placeholder, strict=True)]
            templates_here = sum(map(bool, is_template))
            placeholders_here = sum(
                bool(p and not t) for t, p in zip(is_template, is_placeholder, strict=True)
            )

        def kept(values: list[_T]) -> list[_T]:
            """The values of the rows that are neither templates nor SRM placeholders."""
            return values if keep is None else list(compress(values, keep))

        lines, names = kept(list(numbers)), kept(all_names)
        power_texts = kept(column("power"))
        states = {text: _POWER_VALUE.get(text.lower()) for text in set(power_texts)}
        if None in states.values():
            return False
        # As RVTools writes them ("poweredOn"), the texts are the states' values already.
        powers = (
            power_texts
            if all(text == state for text, state in states.items())
            else list(map(states.__getitem__, power_texts))
        )
        cpu_texts = kept(column("cpus"))
        counts = {text: _count(text) for text in set(cpu_texts)}
        if None in counts.values():
            return False
        cpus = list(map(counts.__getitem__, cpu_texts))
        host_names = kept(column("host"))
        # A VM's host is a vHost row and its cluster that host's ("" for none).
        if list(map(self.cluster_text.get, host_names)) != kept(column("cluster")):
            return False
        clusters = list(map(self.cluster_of.__getitem__, host_names))
        uuids = list(map(strip, kept(column("uuid"))))
        if all(uuids):
            identities = list(map("uuid:".__add__, map(str.lower, uuids)))
        else:
            identities = [
                f"uuid:{uuid.lower()}" if uuid else f"name:{name}"
                for uuid, name in zip(uuids, names, strict=True)
            ]
        if len(set(identities)) != len(identities) or not self.vms.keys().isdisjoint(identities):
            return False
        oses = list(map(strip, kept(column("os"))))
        if not all(oses):
            tools = map(strip, kept(column("os_tools")))
            oses = [os or os_tools for os, os_tools in zip(oses, tools, strict=True)]
        self.templates += templates_here
        self.placeholders += placeholders_here
        first = len(self.rows)
        self.vms.update(zip(identities, range(first, first + len(identities)), strict=True))
        self.lines.extend(lines)
        self.rows.extend(
            zip(identities, names, cpus, host_names, clusters, powers, oses, strict=True)
        )
        return True

    # -- vCPU -----------------------------------------------------------------------------------

    def _vcpus(self, sheet: Sheet) -> None:
        for line, cells in sheet.rows:
            name = sheet.cell(cells, "vm")
            cpus = self.cells.whole(sheet, line, cells, "cpus")
            sockets = self.cells.whole(sheet, line, cells, "sockets")
            per_socket = self.cells.whole(sheet, line, cells, "cores_per_socket")
            if cpus is None or sockets is None or per_socket is None:
                continue
            if cpus != sockets * per_socket:
                self.cells.bad(
                    sheet,
                    line,
                    "cpus",
                    str(cpus),
                    f"is not Sockets × Cores p/s ({sockets} × {per_socket} = "
                    f"{sockets * per_socket})",
                )
                continue
            at = self.vms.get(self._identity(sheet, cells))
            known = None if at is None else (self.lines[at], self.rows[at][2])
            if known is not None and known[1] != cpus:
                self.cells.bad(
                    sheet,
                    line,
                    "cpus",
                    str(cpus),
                    f"is not the {plural(known[1], 'CPU')} vInfo gives {name} (line {known[0]})",
                )

    # -- cells ----------------------------------------------------------------------------------

    def _identity(self, sheet: Sheet, cells: list[str]) -> str:
        uuid = sheet.cell(cells, "uuid")
        return f"uuid:{uuid.lower()}" if uuid else f"name:{sheet.cell(cells, 'vm')}"
