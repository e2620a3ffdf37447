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


def test_a_host_where_datacenter_is_cheaper_is_short_datacenter_not_standard() -> None:
    # big: 64 cores running 300 Windows VMs: 64 × 150 = 9,600 Standard or 64 Datacenter (the
    # cheaper); small: 16 or 16, Standard cheaper. Nothing bought: 16 Standard and 64 Datacenter
    # short, 80 (not 9,616).
    needs = [HostNeed("big", 9_600, 64, unlimited_cheaper=True), HostNeed("small", 16, 16)]
    none = cover(needs, per_vm_bought=0, unlimited_bought=0)
    assert (none.per_vm_hosts, none.unlimited_needed_hosts) == (("small",), ("big",))
    assert (none.per_vm_short, none.unlimited_short, none.short) == (16, 64, 80)
    # 10,000 Standard bought and left over after small's 16 license big too: nothing short.
    plenty = cover(needs, per_vm_bought=10_000, unlimited_bought=0)
    assert (plenty.per_vm_hosts, plenty.short) == (("big", "small"), 0)
    # 40 Datacenter bought cover neither host whole (big needs 64): its 64 less the 40 left
    # over, 24 short; small's 16 Standard are short too.
    partial = cover(needs, per_vm_bought=0, unlimited_bought=40)
    assert partial.unlimited_hosts == ("small",)  # big (64) does not fit in 40, small (16) does
    assert (partial.unlimited_needed_hosts, partial.short) == (("big",), 64 - 24)


_cheaper = st.lists(
    st.tuples(st.integers(0, 200), st.integers(1, 64), st.booleans()), min_size=1, max_size=8
).map(lambda rows: [HostNeed(f"h{i}", a, b, c) for i, (a, b, c) in enumerate(rows)])


@given(_cheaper, st.integers(0, 300), st.integers(0, 300))
def test_what_is_short_never_exceeds_every_host_at_its_cheaper_kind(
    needs: list[HostNeed], per_vm: int, unlimited: int
) -> None:
    coverage = cover(needs, per_vm, unlimited)
    groups = (coverage.unlimited_hosts, coverage.per_vm_hosts, coverage.unlimited_needed_hosts)
    named = [host for group in groups for host in group]
    assert len(named) == len(set(named))  # each host once
    assert set(named) == {n.host for n in needs if n.per_vm or n.unlimited}
    cheaper = sum(
        n.unlimited if n.unlimited_cheaper else n.per_vm for n in needs if n.per_vm or n.unlimited
    )
    assert coverage.short <= cheaper
    assert coverage.unlimited_used <= unlimited


def test_a_host_licensed_with_the_unlimited_kind_by_choice_takes_it_first_and_needs_it() -> None:
    """a is to be licensed with Datacenter (a what-if): the 32 bought go to it, though b saves
    more per license (96/32 against 64/32); b takes 96 of the 200 Standard.  With no Datacenter
    bought, a needs its 32 Datacenter (short 32) although 200 Standard are left over."""
    needs = [HostNeed("a", 64, 32, unlimited_only=True), HostNeed("b", 96, 32)]
    coverage = cover(needs, per_vm_bought=200, unlimited_bought=32)
    assert coverage.unlimited_hosts == ("a",)
    assert (coverage.per_vm_hosts, coverage.per_vm_needed, coverage.short) == (("b",), 96, 0)
    none_bought = cover(needs, per_vm_bought=200, unlimited_bought=0)
    assert none_bought.unlimited_needed_hosts == ("a",)
    assert (none_bought.unlimited_short, none_bought.short) == (32, 32)
