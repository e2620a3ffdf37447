"""IBM's Processor Value Units at full capacity and sub-capacity (virtualization capacity).

Sources (``docs/server-licensing.md`` quotes each rule and its worked example):

- IBM Passport Advantage, "Processor Value Unit [PVU] licensing for Distributed Software":
  a processor is a core; each core counts the PVUs the PVU table gives its processor (by vendor,
  brand, type, model and the sockets the server model takes).  Full capacity: every core of the
  server.
- IBM Passport Advantage, "Virtualization Capacity License Counting Rules": "you may license to
  the lower of PVUs for the maximum number of virtual cores in the virtual machines available
  to the Eligible Product at any given time, or PVUs for the maximum number of physical cores
  in the server available to the Eligible Product at any given time": a VM counts its virtual
  cores but never more than its host's physical cores, and a server never more than its own.
- IBM License Metric Tool: the requirement is the highest value (the peak) over the reporting
  period, as its audit snapshot reports it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from seatledger.domain.server.tables import PvuTable
from seatledger.domain.server.topology import VM, Host, PowerState, Topology
from seatledger.text import plural


@dataclass(frozen=True, slots=True)
class PvuCount:
    """PVUs of one server, or None with the reason where its processor is not rated."""

    host: str
    cores: int  # the cores counted (virtual capped at physical)
    pvus: int | None
    reason: str


def pvu_full_capacity(host: Host, table: PvuTable) -> PvuCount:
    """PVUs for every core of ``host`` (full capacity)."""
    return _priced(host, host.cores, table, f"all {plural(host.cores, 'core')}")


def pvu_sub_capacity(host: Host, vms: Iterable[VM], table: PvuTable) -> PvuCount:
    """PVUs for the VMs running the product on ``host`` at one moment: each VM's virtual cores
    capped at the host's physical cores, their sum capped at the host's physical cores (the
    counting rules' "lower of" virtual and physical capacity)."""
    capped = [min(vm.vcpus, host.cores) for vm in vms]
    cores = min(sum(capped), host.cores)
    words = f"{plural(len(capped), 'VM')} with {plural(sum(capped), 'virtual core')}"
    if sum(capped) > host.cores:
        words += f", capped at the host's {plural(host.cores, 'physical core')}"
    return _priced(host, cores, table, words)


@dataclass(frozen=True, slots=True)
class Sample:
    """Where the VMs running an IBM product were at one moment: (VM, host) pairs."""

    at: dt.datetime
    placements: tuple[tuple[VM, Host], ...]


@dataclass(frozen=True, slots=True)
class Peak:
    """The highest sub-capacity PVUs over a period, when it was first reached, and its servers."""

    pvus: int
    at: dt.datetime | None
    servers: tuple[PvuCount, ...]
    unrated: tuple[str, ...]  # hosts whose processor the table does not rate (counted apart)


def samples_from_snapshots(
    snapshots: Iterable[tuple[dt.datetime, Topology]], runs_product: Callable[[VM], bool]
) -> list[Sample]:
    """One sample per export: the running VMs that run the product (``runs_product``, e.g. the
    VMs an inventory shows it installed on) on their hosts at the export's moment."""
    return [
        Sample(
            moment,
            tuple(
                (vm, topology.hosts[vm.host])
                for vm in topology.vms
                if vm.power is PowerState.ON and vm.host is not None and runs_product(vm)
            ),
        )
        for moment, topology in snapshots
    ]


def pvu_peak(samples: Sequence[Sample], table: PvuTable) -> Peak:
    """The requirement over a period: the highest total of the samples' sub-capacity PVUs.

    Each sample sums the servers' sub-capacity PVUs at that moment; hosts whose processor the
    table does not rate are named apart in every sample and add nothing (never a guessed rate).
    """
    best = Peak(0, None, (), ())
    for sample in samples:
        by_host: dict[str, tuple[Host, list[VM]]] = {}
        for vm, host in sample.placements:
            by_host.setdefault(host.name, (host, []))[1].append(vm)
        servers = tuple(pvu_sub_capacity(host, vms, table) for host, vms in by_host.values())
        total = sum(count.pvus or 0 for count in servers)
        unrated = tuple(sorted(count.host for count in servers if count.pvus is None))
        if best.at is None or total > best.pvus:
            best = Peak(total, sample.at, servers, unrated)
    return best


def _priced(host: Host, cores: int, table: PvuTable, words: str) -> PvuCount:
    rate, note = table.rate_for(host.processor_model, host.max_sockets)
    if rate is None:
        return PvuCount(
            host.name,
            cores,
            None,
            f"{host.name}: the {table.info.cited} does not rate its processor "
            f"({host.processor_model or 'model not recorded'}); counted apart",
        )
    pvus = math.ceil(cores * rate)
    reason = f"{host.name}: {words} × {rate:f} PVUs per core = {pvus:,} PVUs"
    if note:
        reason += f" ({note})"
    return PvuCount(host.name, cores, pvus, reason)
