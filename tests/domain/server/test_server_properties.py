"""What must hold for any topology, drawn by Hypothesis: adding a VM never lowers a requirement,
the cheapest choice is never dearer than either option alone, and hard partitions never count
more cores than their host has."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from seatledger.domain.server import ibm, microsoft, oracle, redhat
from seatledger.domain.server.microsoft import Edition
from seatledger.domain.server.tables import shipped_core_factors, shipped_pvu_table
from seatledger.domain.server.topology import VM, Host, Reach, Topology

FAST = settings(max_examples=200, deadline=None)
MODELS = ("Intel(R) Xeon(R) Silver 4310", "AMD EPYC 7313", "IBM POWER9", None)
ORACLE = shipped_core_factors()
PVU = shipped_pvu_table()

hosts = st.builds(
    Host,
    name=st.just("h"),
    sockets=st.integers(1, 8),
    cores_per_socket=st.integers(1, 64),
    processor_model=st.sampled_from(MODELS),
    max_sockets=st.sampled_from((None, 8)),
)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2)
vcpus = st.integers(1, 128)


@st.composite
def clusters(draw: st.DrawFn) -> tuple[Topology, list[VM], VM]:
    """A topology of 1-3 clusters and some standalone hosts, some VMs, and one more VM."""
    count = draw(st.integers(1, 6))
    drawn = [
        Host(
            f"h{i}",
            draw(st.integers(1, 4)),
            draw(st.integers(1, 32)),
            draw(st.sampled_from(MODELS)),
            draw(st.sampled_from((None, "c1", "c2", "c3"))),
        )
        for i in range(count)
    ]
    # Clusters c1 and c2 in one vCenter, c3 and standalone hosts in another.
    drawn = [
        dataclasses.replace(h, vcenter="vc1" if h.cluster in {"c1", "c2"} else "vc2") for h in drawn
    ]
    topology = Topology.of(drawn)

    def vm(i: int) -> VM:
        host = draw(st.sampled_from(drawn))
        pinned = draw(st.one_of(st.none(), st.integers(1, 64)))
        return VM(
            f"vm{i}",
            draw(vcpus),
            host.name,
            host.cluster if pinned is None else None,
            hard_partition_cores=pinned,
        )

    vms = [vm(i) for i in range(draw(st.integers(0, 8)))]
    return topology, vms, vm(len(vms))


@FAST
@given(hosts, st.integers(0, 60), prices, prices)
def test_one_more_windows_vm_never_lowers_the_requirement_or_its_cost(
    host: Host, oses: int, standard: Decimal, datacenter: Decimal
) -> None:
    for edition in Edition:
        before = microsoft.windows_edition_licenses(host, oses, edition)
        assert microsoft.windows_edition_licenses(host, oses + 1, edition) >= before
    before_cost = microsoft.cheapest_windows_edition(host, oses, standard, datacenter).cost
    after = microsoft.cheapest_windows_edition(host, oses + 1, standard, datacenter)
    assert after.cost >= before_cost


@FAST
@given(st.lists(hosts, min_size=1, max_size=5), st.integers(0, 40), prices, prices)
def test_the_cheapest_windows_choice_is_never_dearer_than_either_edition(
    members: list[Host], oses: int, standard: Decimal, datacenter: Decimal
) -> None:
    choice = microsoft.cheapest_windows_for_cluster(members, oses, standard, datacenter)
    assert choice.cost <= choice.standard_cost
    assert choice.cost <= choice.datacenter_cost
    for host_choice in choice.hosts:
        assert host_choice.cost == min(host_choice.standard_cost, host_choice.datacenter_cost)


@FAST
@given(hosts, st.lists(vcpus, max_size=12), vcpus, st.booleans())
def test_one_more_sql_vm_never_lowers_the_requirement_and_the_choice_is_the_least(
    host: Host, before: list[int], added: int, enterprise_with_sa: bool
) -> None:
    old = microsoft.sql_server_per_core(host, before, enterprise_with_sa=enterprise_with_sa)
    new = microsoft.sql_server_per_core(
        host, [*before, added], enterprise_with_sa=enterprise_with_sa
    )
    assert new.licenses >= old.licenses
    assert new.licenses <= new.per_vm
    if new.per_host is not None:
        assert new.licenses <= new.per_host


@FAST
@given(clusters())
def test_one_more_oracle_vm_never_lowers_the_processors(
    drawn: tuple[Topology, list[VM], VM],
) -> None:
    topology, vms, added = drawn
    before = oracle.oracle_requirement(vms, topology, ORACLE).processors
    assert oracle.oracle_requirement([*vms, added], topology, ORACLE).processors >= before


@FAST
@given(clusters())
def test_a_wider_reach_never_lowers_the_oracle_processors(
    drawn: tuple[Topology, list[VM], VM],
) -> None:
    topology, vms, added = drawn
    counted = [
        oracle.oracle_requirement([*vms, added], topology, ORACLE, scope).processors
        for scope in (Reach.CLUSTER, Reach.VCENTER, Reach.EVERYWHERE)
    ]
    assert counted == sorted(counted)


@FAST
@given(clusters())
def test_hard_partitions_never_count_more_cores_than_their_host_has(
    drawn: tuple[Topology, list[VM], VM],
) -> None:
    topology, vms, added = drawn
    pinned = [vm for vm in [*vms, added] if vm.hard_partition_cores is not None]
    need = oracle.oracle_requirement(pinned, topology, ORACLE)
    for label, cores, _ in need.cores:
        host = topology.hosts[label.rsplit(" on ", 1)[1]]
        assert cores <= host.cores
    full = oracle.oracle_requirement(
        [VM("all", 1, name) for name in {vm.host for vm in pinned if vm.host}], topology, ORACLE
    )
    assert need.processors <= full.processors


@FAST
@given(hosts, st.lists(vcpus, max_size=10), vcpus)
def test_one_more_ibm_vm_never_lowers_the_pvus_nor_passes_full_capacity(
    host: Host, before: list[int], added: int
) -> None:
    old = ibm.pvu_sub_capacity(host, [VM(f"v{i}", n, "h") for i, n in enumerate(before)], PVU)
    vms = [VM(f"v{i}", n, "h") for i, n in enumerate([*before, added])]
    new = ibm.pvu_sub_capacity(host, vms, PVU)
    full = ibm.pvu_full_capacity(host, PVU)
    assert new.cores >= old.cores
    assert new.cores <= host.cores
    if new.pvus is not None:
        assert old.pvus is not None
        assert full.pvus is not None
        assert old.pvus <= new.pvus <= full.pvus


@FAST
@given(hosts, st.integers(0, 40), prices, prices)
def test_one_more_red_hat_guest_never_lowers_the_cost_and_the_choice_is_the_least(
    host: Host, guests: int, pair_price: Decimal, datacenter_price: Decimal
) -> None:
    old = redhat.cheapest_guest_subscriptions(host, guests, pair_price, datacenter_price)
    new = redhat.cheapest_guest_subscriptions(host, guests + 1, pair_price, datacenter_price)
    assert new.cost >= old.cost
    assert new.cost <= new.per_guest_pair_cost
    assert new.cost <= new.virtual_datacenter_cost
