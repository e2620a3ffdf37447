"""Hosts, clusters, virtual machines and where each VM ran: what server licensing counts.

A **host** is a physical server: its sockets (processors), the cores of each and the processor
model the vendors' tables rate.  A **cluster** is the hosts a VM may be moved between (vMotion,
Hyper-V live migration); a **VM** has virtual CPUs (vCPUs, which Microsoft calls virtual cores),
the host it runs on, its cluster, its power state and its guest OS.  A VM in an approved hard
partition (an LPAR, a Solaris zone with capped CPUs, an Oracle VM or KVM guest pinned to cores)
says how many physical cores it is pinned to; VMware's and Hyper-V's CPU affinity are not hard
partitioning under Oracle's policy, so the hypervisor exports never set it.  A **placement**
is one stretch of time a VM ran on one host (its history, for the 90-day reassignment rule and
the IBM peak).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Reach(StrEnum):
    """How far a running VM may be moved: the hosts a soft partition counts."""

    CLUSTER = "cluster"  # the hosts of its cluster (or its own host, in none)
    VCENTER = "vcenter"  # every host its host's vCenter manages (cross-cluster vMotion)
    EVERYWHERE = "everywhere"  # every host of the topology (cross-vCenter vMotion)


class PowerState(StrEnum):
    """A VM's power state as the hypervisor reports it."""

    ON = "poweredOn"
    OFF = "poweredOff"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Host:
    """A physical server.

    ``max_sockets`` is how many processors the server model takes (not how many are fitted):
    IBM's PVU table rates some processors by it.  ``vcenter`` is the management server the host
    answers to (RVTools' "VI SDK Server"): live migration may reach beyond a cluster within it.
    None where no export says them.
    """

    name: str
    sockets: int
    cores_per_socket: int
    processor_model: str | None = None
    cluster: str | None = None
    max_sockets: int | None = None
    vcenter: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a host has a name")
        if self.sockets < 1 or self.cores_per_socket < 1:
            raise ValueError(
                f"host {self.name}: sockets and cores per socket are whole numbers from 1 "
                f"(given {self.sockets} and {self.cores_per_socket})"
            )
        if self.max_sockets is not None and self.max_sockets < self.sockets:
            raise ValueError(
                f"host {self.name}: the server model takes {self.max_sockets} processors, "
                f"fewer than the {self.sockets} fitted"
            )

    @property
    def cores(self) -> int:
        """Physical cores: sockets × cores per socket (hyper-threads are not cores)."""
        return self.sockets * self.cores_per_socket


@dataclass(frozen=True, slots=True)
class Cluster:
    """Hosts a VM may be moved between while it runs."""

    name: str
    hosts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VM:
    """A virtual machine (an operating system environment, OSE, in Microsoft's words).

    ``hard_partition_cores``: the physical cores an approved hard partition pins it to; None
    for a VM the hypervisor may run on any core of any host it can reach (soft partitioning).
    """

    name: str
    vcpus: int
    host: str | None
    cluster: str | None = None
    power: PowerState = PowerState.ON
    os: str = ""
    hard_partition_cores: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a VM has a name")
        if self.vcpus < 1:
            raise ValueError(f"VM {self.name}: vCPUs are a whole number from 1 ({self.vcpus})")
        if self.hard_partition_cores is not None and self.hard_partition_cores < 1:
            raise ValueError(f"VM {self.name}: a hard partition is pinned to 1 core or more")
        if self.hard_partition_cores is not None and self.host is None:
            raise ValueError(f"VM {self.name}: a hard partition is pinned to cores of a host")


@dataclass(frozen=True, slots=True)
class PhysicalServer:
    """A server that runs its operating system directly, with no hypervisor under it: a device
    of the hardware inventory (ConfigMgr, Intune, Lansweeper) with a server OS that is neither
    a VM of the topology nor one of its hosts.

    ``processors`` (sockets) and ``cores`` (all its physical cores) as the inventory gives them;
    None where it does not say, and then the server is counted apart, never at a guessed count.
    """

    name: str
    os: str
    processors: int | None
    cores: int | None
    processor_model: str | None = None

    @property
    def host(self) -> Host | None:
        """The server as the rules count it (its sockets and cores per socket), or None where
        its cores are unknown or do not divide evenly among its processors."""
        if not self.processors or not self.cores or self.cores % self.processors:
            return None
        return Host(self.name, self.processors, self.cores // self.processors, self.processor_model)

    @property
    def known(self) -> bool:
        """Whether its cores are known (it is counted)."""
        return self.host is not None


VmRow = tuple[str, str, int, str, str | None, str, str]
"""A VM as a topology import reads and stores it: its identity (``uuid:…``, ``vmid:…`` or
``name:…``), name, vCPUs, host ("" for none), cluster, power state (its value, "poweredOn") and
OS.  Plain tuples: an export of tens of thousands of VMs is read, checked and written as rows,
and made :class:`VM` objects only where a rule needs them."""


def vm_of(row: VmRow) -> VM:
    """The VM a row describes."""
    _, name, vcpus, host, cluster, power, os = row
    return VM(name, vcpus, host or None, cluster, PowerState(power), os)


def row_of(identity: str, vm: VM) -> VmRow:
    """The row :func:`vm_of` makes ``vm`` of, with its identity (soft partitions only)."""
    return (identity, vm.name, vm.vcpus, vm.host or "", vm.cluster, vm.power.value, vm.os)


@dataclass(frozen=True, slots=True)
class Placement:
    """One stretch of time ``vm`` ran on ``host``; ``end`` None while it still runs there."""

    vm: str
    host: str
    start: dt.datetime
    end: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Topology:
    """Hosts, clusters and VMs as one export (or several read together) describe them."""

    hosts: dict[str, Host] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    vms: tuple[VM, ...] = ()

    @classmethod
    def of(cls, hosts: Iterable[Host], vms: Iterable[VM] = ()) -> Topology:
        """The topology of ``hosts`` and ``vms``; clusters are the hosts' ``cluster`` names."""
        by_name = {host.name: host for host in hosts}
        members: dict[str, list[str]] = {}
        for host in by_name.values():
            if host.cluster:
                members.setdefault(host.cluster, []).append(host.name)
        clusters = {name: Cluster(name, tuple(names)) for name, names in members.items()}
        return cls(by_name, clusters, tuple(vms))

    def reach(self, vm: VM, scope: Reach = Reach.CLUSTER) -> tuple[Host, ...]:
        """The hosts ``vm`` can run on: its cluster's, or its own host where it has no cluster;
        with a wider ``scope``, every host its host's vCenter manages, or every host.

        Raises:
            KeyError: the VM names a host or cluster this topology does not hold.
            ValueError: the scope is the vCenter and its host's vCenter is not recorded.
        """
        if scope is Reach.EVERYWHERE:
            return tuple(self.hosts.values())
        if scope is Reach.VCENTER and vm.host is not None:
            vcenter = self.hosts[vm.host].vcenter
            if vcenter is None:
                raise ValueError(f"host {vm.host}: its vCenter is not recorded")
            return tuple(host for host in self.hosts.values() if host.vcenter == vcenter)
        if vm.cluster:
            cluster = self.clusters[vm.cluster]
            return tuple(self.hosts[name] for name in cluster.hosts)
        if vm.host is None:
            return ()
        return (self.hosts[vm.host],)


def placements_from_snapshots(snapshots: Sequence[tuple[dt.datetime, Topology]]) -> list[Placement]:
    """The placement history successive exports show (RVTools or Hyper-V, taken at moments).

    A running VM seen on one host in consecutive exports is one placement, from the first export
    that saw it there to the first that saw it elsewhere, or no longer running; the last export's
    placements are still open (``end`` None).  An export is a snapshot: a move happened somewhere
    between the export before and the one that first shows it, and is dated by the latter, so
    with daily exports the days between two moves are known to a day either way.  VMs are told
    apart by name.

    Raises:
        ValueError: the moments are not in order, or one export names a running VM twice.
    """
    placements: list[Placement] = []
    open_at: dict[str, Placement] = {}
    last: dt.datetime | None = None
    for moment, topology in snapshots:
        if last is not None and moment <= last:
            raise ValueError(f"exports out of order: {moment.isoformat()} after {last.isoformat()}")
        last = moment
        seen: dict[str, str] = {}
        for vm in topology.vms:
            if vm.power is not PowerState.ON or vm.host is None:
                continue
            if vm.name in seen:
                raise ValueError(f"the export of {moment.isoformat()} names {vm.name} twice")
            seen[vm.name] = vm.host
        for name in list(open_at):
            placement = open_at[name]
            if seen.get(name) != placement.host:
                placements.append(Placement(placement.vm, placement.host, placement.start, moment))
                del open_at[name]
        for name, host in seen.items():
            if name not in open_at:
                open_at[name] = Placement(name, host, moment)
    placements.extend(open_at.values())
    placements.sort(key=lambda p: (p.vm, p.start))
    return placements
