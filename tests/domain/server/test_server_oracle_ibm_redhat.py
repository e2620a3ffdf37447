"""Oracle's processor metric and partitioning, IBM's PVU sub-capacity and peak, and Red Hat's
socket-pair subscriptions, against the worked examples of the vendors' documents (and of the SAM
tools that restate them), computed by hand in each test; docs/server-licensing.md cites them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from seatledger.domain.server import ibm, oracle, redhat
from seatledger.domain.server.tables import shipped_core_factors, shipped_pvu_table
from seatledger.domain.server.topology import VM, Host, Reach, Topology

XEON = "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"
EPYC = "AMD EPYC 7543 32-Core Processor"
POWER9 = "IBM POWER9"
T0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


# -- Oracle -------------------------------------------------------------------------------------


def test_two_sixteen_core_xeons_are_sixteen_processors_and_400_named_users() -> None:
    """Oracle's processor definition with the core factor table (Intel Xeon 0.5), as a licensing
    firm's FAQ works it: two 16-core chips for Enterprise Edition are 2 × 16 × 0.5 = 16
    processors; Named User Plus is at least 25 per processor, 16 × 25 = 400, or the users if
    more."""
    table = shipped_core_factors()
    host = Host("db01", 2, 16, XEON)
    topology = Topology.of([host], [VM("orcl", 8, "db01")])
    need = oracle.oracle_requirement(topology.vms, topology, table)
    assert need.processors == 16
    assert need.cores == (("db01", 32, Decimal("0.5")),)
    assert oracle.named_user_plus_minimum(need.processors, 120) == 400
    assert oracle.named_user_plus_minimum(need.processors, 650) == 650


def test_cores_are_summed_per_factor_before_rounding_up() -> None:
    """HCL BigFix Inventory (formerly IBM's), "Oracle Processor Core" example 1: one server of 2
    cores and four of 1 core at factor 0.75 (6 cores: 4.5, rounded up to 5) and one of 1 core at
    0.5 (0.5, rounded up to 1): 6 processors."""
    pairs = [(2, Decimal("0.75"))] + [(1, Decimal("0.75"))] * 4 + [(1, Decimal("0.5"))]
    assert oracle.oracle_processors(pairs) == 6
    # Rounded per server instead, the same cores would be 2 + 4 × 1 + 1 = 7: the rule is not that.
    assert oracle.oracle_processors([(64, Decimal("0.5"))]) == 32  # 64 EPYC cores
    with pytest.raises(ValueError, match="core factor above 0"):
        oracle.oracle_processors([(4, Decimal(0))])


def test_the_table_rates_processor_families() -> None:
    """Processor Core Factor Table: Intel Xeon and AMD EPYC 0.5, IBM POWER9 1.0 (a 64-core EPYC
    server is 32 processors, a 64-core POWER9 one 64); other multicore chips 1.0."""
    table = shipped_core_factors()
    assert table.factor_for(XEON) == Decimal("0.5")
    assert table.factor_for(EPYC) == Decimal("0.5")
    assert table.factor_for(POWER9) == Decimal(1)
    assert table.factor_for("Some Future Chip 9000") == Decimal(1)
    assert table.factor_for(None) is None
    assert table.info.name == "Oracle Processor Core Factor Table"


def test_soft_partitioning_counts_the_whole_cluster() -> None:
    """Oracle Partitioning Policy: VMware is soft partitioning, so a 4-vCPU Oracle VM on a
    cluster of four 2 × 16-core Xeon hosts counts all 128 cores: 128 × 0.5 = 64 processors,
    not the 2 its vCPUs would suggest; a second Oracle VM in the same cluster adds nothing."""
    table = shipped_core_factors()
    hosts = [Host(f"esx0{i}", 2, 16, XEON, cluster="prod") for i in range(1, 5)]
    other = Host("esx09", 2, 16, XEON, cluster="test")
    vms = [VM("orcl1", 4, "esx01", cluster="prod"), VM("orcl2", 2, "esx03", cluster="prod")]
    topology = Topology.of([*hosts, other], vms)
    one = oracle.oracle_requirement(vms[:1], topology, table)
    both = oracle.oracle_requirement(vms, topology, table)
    assert one.processors == both.processors == 64
    assert [name for name, _, _ in both.cores] == ["esx01", "esx02", "esx03", "esx04"]
    assert "64 processor licenses by the Oracle Processor Core Factor Table" in both.reason


def test_vmotion_beyond_the_cluster_widens_what_a_soft_partition_counts() -> None:
    """Where vMotion reaches across clusters (one vCenter) or vCenters, the hosts a VM can run
    on are those (Partitioning Policy: every host it can run on; OpTISAM's cluster, vCenter and
    "whole park" cases).  vc1 has clusters A (2 × 8-core hosts) and B (1 × 16), vc2 cluster C
    (2 × 32): an Oracle VM in A counts 16 × 0.5 = 8 processors by its cluster, 32 × 0.5 = 16 by
    its vCenter, 96 × 0.5 = 48 everywhere."""
    table = shipped_core_factors()
    hosts = [
        Host("a1", 1, 8, XEON, "A", vcenter="vc1"),
        Host("a2", 1, 8, XEON, "A", vcenter="vc1"),
        Host("b1", 1, 16, XEON, "B", vcenter="vc1"),
        Host("c1", 1, 32, XEON, "C", vcenter="vc2"),
        Host("c2", 1, 32, XEON, "C", vcenter="vc2"),
    ]
    vm = VM("orcl", 4, "a1", cluster="A")
    topology = Topology.of(hosts, [vm])
    counted = [
        oracle.oracle_requirement([vm], topology, table, scope).processors for scope in Reach
    ]
    assert counted == [8, 16, 48]
    wide = oracle.oracle_requirement([vm], topology, table, Reach.VCENTER)
    assert "soft partitions counted by their vCenter" in wide.reason
    unmanaged = Topology.of([Host("x", 1, 8, XEON)], [VM("o", 2, "x")])
    with pytest.raises(ValueError, match="host x: its vCenter is not recorded"):
        oracle.oracle_requirement(unmanaged.vms, unmanaged, table, Reach.VCENTER)


def test_hard_partitioning_counts_only_the_assigned_cores() -> None:
    """Partitioning Policy, hard partitioning: "on a 32-core server with an 8-core partition,
    you licence 8 cores instead of 32" (a licensing firm's example): 8 × 0.5 = 4 processors
    instead of 32 × 0.5 = 16.  Partitions that together claim more than the host count the
    host's 32 cores, never more."""
    table = shipped_core_factors()
    host = Host("p01", 2, 16, XEON)
    lpar = VM("orcl", 16, "p01", hard_partition_cores=8)
    topology = Topology.of([host], [lpar])
    assert oracle.oracle_requirement([lpar], topology, table).processors == 4
    greedy = [VM(f"z{i}", 16, "p01", hard_partition_cores=12) for i in range(4)]  # 48 > 32
    need = oracle.oracle_requirement(greedy, Topology.of([host], greedy), table)
    assert need.cores == (("z0, z1, z2, z3 on p01", 32, Decimal("0.5")),)
    assert need.processors == 16


def test_a_host_without_a_known_processor_is_counted_apart() -> None:
    table = shipped_core_factors()
    hosts = [Host("esx01", 2, 8, XEON, "c"), Host("esx02", 2, 8, None, "c")]
    vm = VM("orcl", 4, "esx01", cluster="c")
    need = oracle.oracle_requirement([vm], Topology.of(hosts, [vm]), table)
    assert need.processors == 8
    assert need.unrated == ("esx02",)
    assert "not counted, their processor not in the table: esx02" in need.reason


# -- IBM -----------------------------------------------------------------------------------------


def test_full_and_sub_capacity_of_a_large_x86_host() -> None:
    """IBM's counting rules license "the lower of" virtual and physical capacity.  A licensing
    firm's example: a 128-core x86 ESXi host at 70 PVUs per core is 128 × 70 = 8,960 PVUs at
    full capacity; a 4-vCPU VM on it is 4 × 70 = 280 at sub-capacity."""
    table = shipped_pvu_table()
    host = Host("esx01", 2, 64, XEON, max_sockets=2)
    assert ibm.pvu_full_capacity(host, table).pvus == 8960
    sub = ibm.pvu_sub_capacity(host, [VM("was", 4, "esx01")], table)
    assert (sub.cores, sub.pvus) == (4, 280)
    assert "1 VM with 4 virtual cores × 70 PVUs per core = 280 PVUs" in sub.reason


@pytest.mark.parametrize(("vcpus", "pvus"), [(8, 560), (4, 280), (2, 140)])
def test_sub_capacity_table_of_a_64_core_host(vcpus: int, pvus: int) -> None:
    """A licensing glossary's table for a 64-core host at 70 PVUs per core: full capacity 4,480;
    VMs of 8, 4 and 2 vCPUs: 560, 280 and 140."""
    table = shipped_pvu_table()
    host = Host("esx01", 2, 32, XEON, max_sockets=2)
    assert ibm.pvu_full_capacity(host, table).pvus == 4480
    assert ibm.pvu_sub_capacity(host, [VM("vm", vcpus, "esx01")], table).pvus == pvus


def test_virtual_cores_are_capped_at_the_physical_ones() -> None:
    """ "Virtual capacity must be capped to physical capacity": on a 2 × 4-core host, VMs of 2, 4
    and 6 vCPUs are 12 virtual cores, counted as the host's 8 (8 × 70 = 560); a single 16-vCPU
    VM counts 8 too."""
    table = shipped_pvu_table()
    host = Host("esx01", 2, 4, XEON, max_sockets=2)
    vms = [VM(f"vm{n}", n, "esx01") for n in (2, 4, 6)]
    over = ibm.pvu_sub_capacity(host, vms, table)
    assert (over.cores, over.pvus) == (8, 560)
    assert "capped at the host's 8 physical cores" in over.reason
    assert ibm.pvu_sub_capacity(host, [VM("big", 16, "esx01")], table).pvus == 560


def test_rate_by_the_sockets_the_server_model_takes() -> None:
    """IBM, "PVU requirement for new Intel Xeon (Nehalem EX)": "For servers with a maximum of 2
    sockets per server possible, … 70 PVUs per processor core. For servers with a maximum of 4
    sockets per server, 100 … for servers with a maximum of 8 sockets per server, 120".  A 2 ×
    10-core host is 1,400, 2,000 or 2,400 PVUs by its model; unknown, the highest (License
    Metric Tool's default)."""
    table = shipped_pvu_table()
    rates = [
        ibm.pvu_full_capacity(Host("h", 2, 10, XEON, max_sockets=m), table).pvus for m in (2, 4, 8)
    ]
    assert rates == [1400, 2000, 2400]
    unknown = ibm.pvu_full_capacity(Host("h", 2, 10, XEON), table)
    assert unknown.pvus == 2400
    assert "the highest rate of its processor" in unknown.reason
    epyc = ibm.pvu_full_capacity(Host("h", 2, 10, EPYC, max_sockets=2), table)
    assert epyc.pvus is None
    assert "does not rate its processor" in epyc.reason


def test_the_requirement_is_the_peak_over_the_period() -> None:
    """License Metric Tool reports the highest value in the period.  Three moments on two
    2 × 8-core hosts (70 PVUs): 4 vCPUs (280), then 4 + 8 on one host and 6 on the other
    (12 × 70 + 6 × 70 = 1,260), then 10 (700): the peak is 1,260, at the second moment."""
    table = shipped_pvu_table()
    a = Host("esx01", 2, 8, XEON, max_sockets=2)
    b = Host("esx02", 2, 8, XEON, max_sockets=2)
    samples = [
        ibm.Sample(T0, ((VM("mq1", 4, "esx01"), a),)),
        ibm.Sample(
            T0 + dt.timedelta(days=1),
            ((VM("mq1", 4, "esx01"), a), (VM("mq2", 8, "esx01"), a), (VM("mq3", 6, "esx02"), b)),
        ),
        ibm.Sample(T0 + dt.timedelta(days=2), ((VM("mq1", 10, "esx02"), b),)),
    ]
    peak = ibm.pvu_peak(samples, table)
    assert (peak.pvus, peak.at) == (1260, T0 + dt.timedelta(days=1))
    assert sorted(c.pvus or 0 for c in peak.servers) == [420, 840]
    assert ibm.pvu_peak([], table).pvus == 0


# -- Red Hat -------------------------------------------------------------------------------------


def test_socket_pairs() -> None:
    """Red Hat Subscription Management, "Stacking subscriptions": four sockets need two
    subscriptions; one or three sockets round up (one, two); a 10-socket host needs 5."""
    pairs = [redhat.socket_pair_subscriptions(Host("h", s, 8)) for s in (1, 2, 3, 4, 10)]
    assert pairs == [1, 1, 2, 2, 5]


def test_guest_pairs_and_the_virtual_datacenter() -> None:
    """Six VMs need three per-two-guests subscriptions and one VM needs one; a virtual
    datacenter subscription covers a host's socket pair with unlimited guests, and a cluster
    sums its hosts' socket pairs whatever its VMs."""
    assert [redhat.guest_pair_subscriptions(n) for n in (0, 1, 6, 7)] == [0, 1, 3, 4]
    hosts = [Host("a", 2, 16), Host("b", 4, 16)]
    assert redhat.virtual_datacenter_subscriptions(hosts) == 3
    dense = redhat.cheapest_guest_subscriptions(hosts[0], 12, Decimal(800), Decimal(2500))
    assert (dense.per_guest_pair, dense.virtual_datacenter) == (6, 1)
    assert dense.virtual_datacenter_chosen
    assert dense.cost == Decimal(2500)
    sparse = redhat.cheapest_guest_subscriptions(hosts[0], 4, Decimal(800), Decimal(2500))
    assert not sparse.virtual_datacenter_chosen
    assert sparse.cost == Decimal(1600)
    assert "per two guests is chosen" in sparse.reason
