"""Spending bought unlimited licenses (Datacenter, virtual datacenter) on the hosts where each
saves the most per-VM ones, the rest on per-VM licenses; figures by hand in each test."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from seatledger.domain.server.coverage import HostNeed, cover


def test_datacenter_goes_where_it_saves_the_most_standard() -> None:
    # a: 64 Standard or 32 Datacenter (saves 2 a license); b: 16 or 16 (saves 1); c: 96 or 32
    # (saves 3). 32 Datacenter bought: c takes it; a and b need 64 + 16 = 80 Standard, 50
    # bought: 30 short.
    needs = [HostNeed("a", 64, 32), HostNeed("b", 16, 16), HostNeed("c", 96, 32)]
    coverage = cover(needs, per_vm_bought=50, unlimited_bought=32)
    assert coverage.unlimited_hosts == ("c",)
    assert coverage.per_vm_hosts == ("a", "b")
    assert (coverage.per_vm_needed, coverage.per_vm_short, coverage.unlimited_spare) == (80, 30, 0)


def test_hosts_running_nothing_need_nothing_and_spare_licenses_are_said() -> None:
    coverage = cover([HostNeed("idle", 0, 0)], per_vm_bought=0, unlimited_bought=16)
    assert (coverage.per_vm_needed, coverage.per_vm_short, coverage.unlimited_spare) == (0, 0, 16)


_needs = st.lists(st.tuples(st.integers(0, 200), st.integers(1, 64)), min_size=1, max_size=8).map(
    lambda pairs: [HostNeed(f"h{i}", a, b) for i, (a, b) in enumerate(pairs)]
)


@given(_needs, st.integers(0, 300), st.integers(0, 300))
def test_coverage_spends_no_more_than_bought_and_counts_each_host_once(
    needs: list[HostNeed], per_vm: int, unlimited: int
) -> None:
    fewer = cover(needs, per_vm, unlimited)
    assert fewer.unlimited_used <= unlimited
    assert fewer.per_vm_short <= sum(n.per_vm for n in needs)
    assert set(fewer.unlimited_hosts).isdisjoint(fewer.per_vm_hosts)
    counted = {*fewer.unlimited_hosts, *fewer.per_vm_hosts}
    assert counted == {n.host for n in needs if n.per_vm or n.unlimited}
