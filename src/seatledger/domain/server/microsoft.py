"""Microsoft's server rules: Windows Server and SQL Server on physical and virtual machines.

Sources (``docs/server-licensing.md`` quotes each rule and its worked example):

- Windows Server 2016–2025 licensing guides and datasheets, "Core-based licensing": every
  physical core of the server is licensed, at least 8 core licenses per processor and 16 per
  server; Standard grants two operating system environments (OSEs, i.e. VMs) each time all the
  server's cores are licensed, and is stacked (every core licensed again) for two more;
  Datacenter grants unlimited OSEs.
- Microsoft Product Terms, "License assignment and reassignment": a license may be reassigned to
  another server once in 90 days, except under License Mobility through Software Assurance.
- SQL Server 2022 licensing guide, "Licensing SQL Server in physical environments" and
  "Licensing individual virtual machines / for maximum virtualization": per core, all physical
  cores with at least 4 per processor; or per VM, its virtual cores with at least 4 per VM;
  Enterprise cores with Software Assurance covering all physical cores grant unlimited VMs;
  Server + CAL: one server license per OSE and a CAL per user or device.

Amounts are Decimal (prices of one core license); counts are core licenses.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from seatledger.domain.server.topology import Host, Placement
from seatledger.text import plural

WINDOWS_MIN_CORES_PER_PROCESSOR = 8
WINDOWS_MIN_CORES_PER_SERVER = 16
WINDOWS_STANDARD_OSES_PER_LICENSING = 2
REASSIGNMENT_DAYS = 90
SQL_MIN_CORES_PER_PROCESSOR = 4
SQL_MIN_CORES_PER_VM = 4


class Edition(StrEnum):
    """Windows Server editions licensed per core."""

    STANDARD = "Standard"
    DATACENTER = "Datacenter"


def windows_core_licenses(host: Host) -> int:
    """Core licenses that license every physical core of ``host`` once.

    Each processor counts at least 8 cores and the server at least 16 (Windows Server licensing
    guide, "Core-based licensing"): 1 processor of 4 cores needs 16, 4 processors of 4 cores 32.
    """
    per_processor = host.sockets * max(host.cores_per_socket, WINDOWS_MIN_CORES_PER_PROCESSOR)
    return max(per_processor, WINDOWS_MIN_CORES_PER_SERVER)


def windows_standard_licensings(oses: int) -> int:
    """How many times Standard licenses all the host's cores to run ``oses`` Windows VMs.

    Standard grants 2 OSEs per full licensing of the server and is stacked for 2 more
    (licensing guide, "Standard edition"); a host running no Windows VM but Windows itself (a
    Hyper-V host) is licensed once: pass ``oses`` 1 for it.
    """
    if oses < 0:
        raise ValueError(f"a host runs 0 or more OSEs ({oses})")
    return math.ceil(oses / WINDOWS_STANDARD_OSES_PER_LICENSING)


def windows_edition_licenses(host: Host, oses: int, edition: Edition) -> int:
    """Core licenses of ``edition`` that ``host`` needs to run ``oses`` Windows Server OSEs."""
    if oses < 0:
        raise ValueError(f"a host runs 0 or more OSEs ({oses})")
    if oses == 0:
        return 0
    if edition is Edition.DATACENTER:
        return windows_core_licenses(host)
    return windows_core_licenses(host) * windows_standard_licensings(oses)


@dataclass(frozen=True, slots=True)
class WindowsChoice:
    """The edition that licenses a host (or a cluster's hosts) for least, and why."""

    edition: Edition | None  # None: no Windows Server runs there, nothing to license
    standard_licenses: int
    datacenter_licenses: int
    standard_cost: Decimal
    datacenter_cost: Decimal
    reason: str

    @property
    def licenses(self) -> int:
        """Core licenses of the chosen edition."""
        if self.edition is Edition.DATACENTER:
            return self.datacenter_licenses
        if self.edition is Edition.STANDARD:
            return self.standard_licenses
        return 0

    @property
    def cost(self) -> Decimal:
        """The chosen edition's cost."""
        if self.edition is Edition.DATACENTER:
            return self.datacenter_cost
        if self.edition is Edition.STANDARD:
            return self.standard_cost
        return Decimal(0)


def cheapest_windows_edition(
    host: Host,
    oses: int,
    standard_price: Decimal,
    datacenter_price: Decimal,
    *,
    edition: Edition | None = None,
) -> WindowsChoice:
    """The cheaper edition for ``host`` running ``oses`` Windows Server OSEs, with the reason.

    ``standard_price`` and ``datacenter_price`` are what one core license of each costs.  On
    equal cost Datacenter is chosen: it covers VMs added later at no further cost.  Commercial
    SAM suites (Snow's server reports) make the same per-host choice.  ``edition`` licenses the
    host with that edition instead (what an organization decided, or a what-if), and the reason
    says what the cheaper one would cost.
    """
    standard = windows_edition_licenses(host, oses, Edition.STANDARD)
    datacenter = windows_edition_licenses(host, oses, Edition.DATACENTER)
    standard_cost = standard * standard_price
    datacenter_cost = datacenter * datacenter_price
    if oses == 0:
        return WindowsChoice(
            None, 0, 0, Decimal(0), Decimal(0), f"{host.name} runs no Windows Server."
        )
    cores = windows_core_licenses(host)
    stacks = windows_standard_licensings(oses)
    counted = _counted(host, cores)
    standard_words = (
        f"Standard: {plural(cores, 'core license')}{counted} × {stacks} for "
        f"{plural(oses, 'Windows Server OSE')} (2 per full licensing) = {standard:,} at "
        f"{standard_price:,.2f} = {standard_cost:,.2f}"
    )
    datacenter_words = (
        f"Datacenter: {plural(cores, 'core license')}{counted}, unlimited OSEs, at "
        f"{datacenter_price:,.2f} = {datacenter_cost:,.2f}"
    )
    if standard_cost < datacenter_cost:
        cheaper = Edition.STANDARD
        verdict = f"Standard is cheaper by {datacenter_cost - standard_cost:,.2f}"
    elif datacenter_cost < standard_cost:
        cheaper = Edition.DATACENTER
        verdict = f"Datacenter is cheaper by {standard_cost - datacenter_cost:,.2f}"
    else:
        cheaper = Edition.DATACENTER
        verdict = "both cost the same: Datacenter, which covers VMs added later"
    if edition is not None and edition is not cheaper and standard_cost != datacenter_cost:
        verdict += f"; licensed with {edition.value} as chosen instead"
    reason = f"{host.name}: {standard_words}; {datacenter_words}; {verdict}."
    chosen = cheaper if edition is None else edition
    return WindowsChoice(chosen, standard, datacenter, standard_cost, datacenter_cost, reason)


@dataclass(frozen=True, slots=True)
class ClusterWindowsChoice:
    """Each host's cheapest edition for the Windows VMs that may run on it, and the total."""

    hosts: tuple[WindowsChoice, ...]

    @property
    def cost(self) -> Decimal:
        """What the cluster's Windows Server licenses cost, each host at its cheaper edition."""
        return sum((choice.cost for choice in self.hosts), Decimal(0))

    @property
    def standard_cost(self) -> Decimal:
        """What licensing every host with Standard would cost."""
        return sum((choice.standard_cost for choice in self.hosts), Decimal(0))

    @property
    def datacenter_cost(self) -> Decimal:
        """What licensing every host with Datacenter would cost."""
        return sum((choice.datacenter_cost for choice in self.hosts), Decimal(0))

    @property
    def reason(self) -> str:
        """Each host's reason, one a line."""
        return "\n".join(choice.reason for choice in self.hosts)


def cheapest_windows_for_cluster(
    hosts: Sequence[Host], oses: int, standard_price: Decimal, datacenter_price: Decimal
) -> ClusterWindowsChoice:
    """Each host of a cluster licensed for every Windows Server VM that may run on it.

    Without License Mobility through Software Assurance a license stays with its server for 90
    days, so a host must already be licensed for every VM live migration or DRS may bring to it:
    with VMs free to move anywhere in the cluster, that is all ``oses`` of the cluster's
    Windows Server VMs, on every host.  Each host then takes its cheaper edition.
    """
    return ClusterWindowsChoice(
        tuple(
            cheapest_windows_edition(host, oses, standard_price, datacenter_price) for host in hosts
        )
    )


@dataclass(frozen=True, slots=True)
class Reassignment:
    """A VM that moved to another host sooner than 90 days after its previous move."""

    vm: str
    from_host: str
    to_host: str
    moved: dt.datetime
    previous_move: dt.datetime

    @property
    def days(self) -> int:
        """Whole days between the two moves."""
        return (self.moved - self.previous_move).days

    @property
    def reason(self) -> str:
        """The finding in words."""
        return (
            f"{self.vm} moved from {self.from_host} to {self.to_host} on "
            f"{self.moved.date().isoformat()}, {plural(self.days, 'day')} after its move on "
            f"{self.previous_move.date().isoformat()}: without License Mobility through "
            f"Software Assurance a license moves to another server once in {REASSIGNMENT_DAYS} "
            f"days, so {self.to_host} must already be licensed for it."
        )


def reassignments_too_soon(
    history: Iterable[Placement], *, mobility: bool = False
) -> list[Reassignment]:
    """Moves of a VM to another host within 90 days of its previous move (Product Terms,
    "License assignment and reassignment"), oldest first; none under License Mobility.

    A VM's first placement is not a move; a placement on the host it was already on is not one
    either.  A move counts from the day the VM started on its new host.
    """
    if mobility:
        return []
    by_vm: dict[str, list[Placement]] = {}
    for placement in history:
        by_vm.setdefault(placement.vm, []).append(placement)
    found: list[Reassignment] = []
    window = dt.timedelta(days=REASSIGNMENT_DAYS)
    for vm, placements in by_vm.items():
        placements.sort(key=lambda p: p.start)
        last_move: dt.datetime | None = None
        for before, after in itertools.pairwise(placements):
            if before.host == after.host:
                continue
            if last_move is not None and after.start - last_move < window:
                found.append(Reassignment(vm, before.host, after.host, after.start, last_move))
            last_move = after.start
    found.sort(key=lambda r: (r.moved, r.vm))
    return found


def vms_within_reassignment_window(
    history: Iterable[Placement], host: str, as_of: dt.datetime
) -> tuple[str, ...]:
    """The VMs ``host`` must be licensed for on ``as_of``: every VM that ran on it within the
    last 90 days, since a license that followed a VM away stays assigned to the host that long
    (Product Terms, "License assignment and reassignment"), sorted by name."""
    since = as_of - dt.timedelta(days=REASSIGNMENT_DAYS)
    return tuple(
        sorted(
            {
                p.vm
                for p in history
                if p.host == host and p.start <= as_of and (p.end is None or p.end > since)
            }
        )
    )


def two_core_packs(core_licenses: int) -> int:
    """2-core packs that hold ``core_licenses`` (Windows Server and SQL Server core licenses
    are sold in packs of two)."""
    return math.ceil(core_licenses / 2)


def sql_physical_core_licenses(host: Host) -> int:
    """SQL Server core licenses for ``host``'s physical cores: all of them, at least 4 per
    processor (SQL Server licensing guide, "Licensing SQL Server in physical environments")."""
    return host.sockets * max(host.cores_per_socket, SQL_MIN_CORES_PER_PROCESSOR)


def sql_vm_core_licenses(vcpus: int) -> int:
    """SQL Server core licenses for one VM: its virtual cores, at least 4 per VM (licensing
    guide, "Licensing individual virtual machines")."""
    if vcpus < 1:
        raise ValueError(f"a VM has 1 virtual core or more ({vcpus})")
    return max(vcpus, SQL_MIN_CORES_PER_VM)


@dataclass(frozen=True, slots=True)
class SqlChoice:
    """How a host's SQL Server VMs are licensed per core for least, and why."""

    per_vm: int
    per_host: int | None  # None: the host cannot be licensed for unlimited VMs
    licenses: int
    reason: str


def sql_server_per_core(
    host: Host, vm_vcpus: Sequence[int], *, enterprise_with_sa: bool
) -> SqlChoice:
    """Core licenses for the SQL Server VMs on ``host``: each VM apart, or, for Enterprise with
    Software Assurance, every physical core of the host, which covers unlimited VMs ("Licensing
    for maximum virtualization"), whichever needs fewer core licenses.
    """
    per_vm = sum(sql_vm_core_licenses(vcpus) for vcpus in vm_vcpus)
    vms = plural(len(vm_vcpus), "SQL Server VM")
    per_vm_words = f"per VM: {per_vm:,} core licenses for {vms} (virtual cores, at least 4 each)"
    if not enterprise_with_sa:
        return SqlChoice(
            per_vm,
            None,
            per_vm,
            f"{host.name}: {per_vm_words}; unlimited virtualization needs Enterprise with "
            "Software Assurance.",
        )
    per_host = sql_physical_core_licenses(host)
    host_words = (
        f"Enterprise with Software Assurance on all {plural(host.cores, 'physical core')}: "
        f"{per_host:,} core licenses, unlimited VMs"
    )
    if per_host < per_vm:
        return SqlChoice(
            per_vm, per_host, per_host, f"{host.name}: {host_words} is fewer than {per_vm_words}."
        )
    return SqlChoice(
        per_vm, per_host, per_vm, f"{host.name}: {per_vm_words} is no more than {host_words}."
    )


@dataclass(frozen=True, slots=True)
class ServerCal:
    """SQL Server under the Server + CAL model: server licenses and client access licenses."""

    servers: int
    cals: int


def sql_server_plus_cal(oses: int, users: int, devices: int = 0) -> ServerCal:
    """One server license per OSE running SQL Server, and a CAL for every user or device that
    reaches it (licensing guide, "Server + CAL licensing"): ``users`` licensed per user plus
    ``devices`` licensed per device (a device used by many people, a user with many devices)."""
    if min(oses, users, devices) < 0:
        raise ValueError("OSEs, users and devices are 0 or more")
    return ServerCal(oses, users + devices)


def _counted(host: Host, licenses: int) -> str:
    if licenses == host.cores:
        return ""
    return f" (its {plural(host.cores, 'core')} counted at the minimum)"
