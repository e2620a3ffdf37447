"""Oracle's processor metric on physical and virtual servers, and Named User Plus minimums.

Sources (``docs/server-licensing.md`` quotes each rule and its worked example):

- Oracle's definition of Processor (Oracle License and Services Agreement, the Technology price
  list) and the Processor Core Factor Table: "the number of required licenses shall be
  determined by multiplying the total number of cores of the processor by a core processor
  licensing factor … All cores on all multicore chips for each licensed program are to be
  aggregated before multiplying by the appropriate core processor licensing factor and all
  fractions of a number are to be rounded up to the next whole number."  Cores are summed per
  factor, each sum multiplied by its factor and rounded up, as IBM's and HCL's inventory tools
  read it ("Oracle Processor Core" metric, example 1).
- Oracle Partitioning Policy: soft partitioning (VMware, Hyper-V, OS resource managers) does not
  limit the count: every core of every host the VM can run on is licensed, so the whole cluster;
  approved hard partitioning (LPARs, capped Solaris zones, Oracle VM / KVM guests pinned to
  cores) counts only the cores the partition is assigned.
- Named User Plus: at least 25 users per processor for Enterprise Edition (Technology price
  list, "Named User Plus minimums").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from seatledger.domain.server.tables import CoreFactorTable
from seatledger.domain.server.topology import VM, Host, Reach, Topology
from seatledger.text import plural

NUP_PER_PROCESSOR_ENTERPRISE = 25
_SCOPE_WORDS = {
    Reach.CLUSTER: "by their cluster",
    Reach.VCENTER: "by their vCenter",
    Reach.EVERYWHERE: "on every host",
}


def oracle_processors(cores_by_factor: Iterable[tuple[int, Decimal]]) -> int:
    """Processor licenses for ``(cores, core factor)`` pairs: cores summed per factor, each sum
    times its factor rounded up to a whole number, and the results added."""
    totals: dict[Decimal, int] = {}
    for cores, factor in cores_by_factor:
        if cores < 0 or factor <= 0:
            raise ValueError(f"cores are 0 or more and a core factor above 0 ({cores}, {factor})")
        totals[factor] = totals.get(factor, 0) + cores
    return sum(math.ceil(cores * factor) for factor, cores in totals.items())


@dataclass(frozen=True, slots=True)
class OracleRequirement:
    """Processor licenses for a set of Oracle VMs, the cores behind them, and what is uncounted.

    ``cores`` names each host counted whole (soft partitioning) and each hard partition with the
    cores it counts; ``unrated`` names hosts whose processor the core factor table does not rate
    (counted apart, never at a guessed factor).
    """

    processors: int
    cores: tuple[tuple[str, int, Decimal], ...]  # (host or "VM on host", cores, factor)
    unrated: tuple[str, ...]
    reason: str


def oracle_requirement(
    vms: Iterable[VM],
    topology: Topology,
    table: CoreFactorTable,
    scope: Reach = Reach.CLUSTER,
    physical: Iterable[Host] = (),
) -> OracleRequirement:
    """Processor licenses for Oracle running in ``vms`` (Partitioning Policy).

    A VM in soft partitioning counts every core of every host it can run on, each host once
    however many Oracle VMs it may run: its cluster (or its host where it has none), or, where
    vMotion reaches across clusters or vCenters, every host of its vCenter or every host
    (``scope``: which one an organization's vSphere allows is a fact about its installation, the
    caller's to state; SAM tools such as OpTISAM model the same three).  A VM in an
    approved hard partition counts the cores it is pinned to, never more than its host has, and
    a host's hard partitions together never more than the host has; a host counted whole for a
    soft-partitioned VM adds nothing for hard partitions on it.  A ``physical`` server (Oracle
    on its own OS, no hypervisor) counts all its cores, as the processor definition does.
    """
    whole: dict[str, Host] = {}
    pinned: dict[str, int] = {}
    pinned_vms: dict[str, list[str]] = {}
    for vm in vms:
        if vm.hard_partition_cores is not None and vm.host is not None:
            host = topology.hosts[vm.host]
            pinned[host.name] = min(pinned.get(host.name, 0) + vm.hard_partition_cores, host.cores)
            pinned_vms.setdefault(host.name, []).append(vm.name)
        else:
            for host in topology.reach(vm, scope):
                whole[host.name] = host
    counted: list[tuple[str, int, Decimal]] = []
    unrated: list[str] = []
    for name in sorted(whole):
        host = whole[name]
        factor = table.factor_for(host.processor_model)
        if factor is None:
            unrated.append(name)
        else:
            counted.append((name, host.cores, factor))
    for server in sorted({host.name: host for host in physical}.values(), key=lambda h: h.name):
        if server.name in whole:
            continue
        factor = table.factor_for(server.processor_model)
        label = f"{server.name} (physical)"
        if factor is None:
            unrated.append(label)
        else:
            counted.append((label, server.cores, factor))
    for name in sorted(pinned):
        if name in whole:
            continue
        host = topology.hosts[name]
        factor = table.factor_for(host.processor_model)
        label = f"{', '.join(pinned_vms[name])} on {name}"
        if factor is None:
            unrated.append(label)
        else:
            counted.append((label, pinned[name], factor))
    processors = oracle_processors((cores, factor) for _, cores, factor in counted)
    parts = [f"{label}: {plural(cores, 'core')} × {factor:f}" for label, cores, factor in counted]
    reason = (
        f"{plural(processors, 'processor license')} by the {table.info.cited}, soft partitions "
        f"counted {_SCOPE_WORDS[scope]}: "
        + ("; ".join(parts) if parts else "no rated core")
        + " (summed per factor, rounded up)"
    )
    if unrated:
        reason += (
            f"; not counted, their processor not in the table: {', '.join(unrated)} (add its"
            " factor to count it)"
        )
    return OracleRequirement(processors, tuple(counted), tuple(unrated), reason + ".")


def named_user_plus_minimum(
    processors: int, users: int, per_processor: int = NUP_PER_PROCESSOR_ENTERPRISE
) -> int:
    """Named User Plus licenses: the users, but at least ``per_processor`` (25 for Enterprise
    Edition) per processor license the same servers would need."""
    if min(processors, users, per_processor) < 0:
        raise ValueError("processors, users and the minimum are 0 or more")
    return max(users, processors * per_processor)
