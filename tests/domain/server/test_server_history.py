"""Successive exports as history: the placements they show (for the 90-day reassignment rule)
and the samples IBM's peak is taken over, counted by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from seatledger.domain.server import ibm, microsoft
from seatledger.domain.server.tables import shipped_pvu_table
from seatledger.domain.server.topology import (
    VM,
    Host,
    Placement,
    PowerState,
    Topology,
    placements_from_snapshots,
)

XEON = "Intel(R) Xeon(R) Gold 6338 CPU"
HOSTS = [Host("h1", 2, 8, XEON, "c", max_sockets=2), Host("h2", 2, 8, XEON, "c", max_sockets=2)]
T0 = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def export(*vms: VM) -> Topology:
    return Topology.of(HOSTS, vms)


def snapshots() -> list[tuple[dt.datetime, Topology]]:
    """Five daily exports: 'mq' on h1, h1, h2, off, h1; 'web' on h2 throughout, 2 then 8 vCPUs."""
    off = PowerState.OFF
    return [
        (day(0), export(VM("mq", 4, "h1", "c"), VM("web", 2, "h2", "c"))),
        (day(1), export(VM("mq", 4, "h1", "c"), VM("web", 2, "h2", "c"))),
        (day(2), export(VM("mq", 4, "h2", "c"), VM("web", 8, "h2", "c"))),
        (day(3), export(VM("mq", 4, "h2", "c", off), VM("web", 2, "h2", "c"))),
        (day(4), export(VM("mq", 4, "h1", "c"), VM("web", 2, "h2", "c"))),
    ]


def test_exports_become_placements() -> None:
    assert placements_from_snapshots(snapshots()) == [
        Placement("mq", "h1", day(0), day(2)),
        Placement("mq", "h2", day(2), day(3)),  # off on day 3: no longer running there
        Placement("mq", "h1", day(4)),
        Placement("web", "h2", day(0)),
    ]


def test_the_placements_feed_the_90_day_rule() -> None:
    """mq moved to h2 on day 2 and back to h1 on day 4: two days apart, a finding."""
    found = microsoft.reassignments_too_soon(placements_from_snapshots(snapshots()))
    assert [(r.vm, r.from_host, r.to_host, r.days) for r in found] == [("mq", "h2", "h1", 2)]


def test_the_exports_feed_the_ibm_peak() -> None:
    """MQ on 'mq' and 'web' (70 PVUs a core): day 0 and 1, 4 + 2 = 6 cores (420); day 2 both on
    h2, 4 + 8 = 12 (840); day 3 only web, 2 (140); day 4, 4 + 2 (420).  The peak is 840, day 2."""
    samples = ibm.samples_from_snapshots(snapshots(), lambda vm: vm.name in {"mq", "web"})
    assert [len(s.placements) for s in samples] == [2, 2, 2, 1, 2]
    peak = ibm.pvu_peak(samples, shipped_pvu_table())
    assert (peak.pvus, peak.at) == (840, day(2))


def test_exports_out_of_order_or_naming_a_vm_twice_are_refused() -> None:
    with pytest.raises(ValueError, match="exports out of order"):
        placements_from_snapshots([(day(1), export()), (day(0), export())])
    twice = export(VM("mq", 4, "h1", "c"), VM("mq", 2, "h2", "c"))
    with pytest.raises(ValueError, match="names mq twice"):
        placements_from_snapshots([(day(0), twice)])
