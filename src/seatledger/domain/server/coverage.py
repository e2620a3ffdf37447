"""What was bought against what hosts need, where a host is licensed one of two ways.

Windows Server (Standard per OSE pair, or Datacenter unlimited) and Red Hat (per two guests, or
a virtual datacenter subscription unlimited) license each host either with the per-VM kind,
whose count grows with the VMs, or with the unlimited kind, a fixed count per host.  Given how
many of each were bought, which hosts do the unlimited ones cover, and how many of the per-VM
kind do the others still need?  The unlimited licenses go first to the hosts where they save
the most per-VM licenses for each one spent (a host's per-VM need over its unlimited need).  The
hosts left take the per-VM kind where it is the cheaper one there; where the unlimited kind is
cheaper, per-VM licenses bought and left over license them while they suffice (the smallest
needs first), and the others need the unlimited kind: what is short of it is bought as it (a
host of 64 cores running 300 Windows VMs is short 64 Datacenter core licenses, not 9,600
Standard ones).  Pure: no storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class HostNeed:
    """One host's need under each kind (0 and 0: nothing of the product runs there)."""

    host: str
    per_vm: int
    unlimited: int
    unlimited_cheaper: bool = False  # the unlimited kind costs less here: bought as it if short
    unlimited_only: bool = False  # licensed with the unlimited kind whatever it costs (chosen)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which hosts the bought unlimited licenses cover and what the others need."""

    unlimited_hosts: tuple[str, ...]
    unlimited_used: int
    per_vm_hosts: tuple[str, ...]
    per_vm_needed: int
    per_vm_bought: int
    unlimited_bought: int
    unlimited_needed_hosts: tuple[str, ...] = ()  # uncovered, the unlimited kind cheaper there
    unlimited_needed: int = 0  # their unlimited need

    @property
    def per_vm_short(self) -> int:
        """Per-VM licenses the hosts licensed per VM need beyond those bought."""
        return max(self.per_vm_needed - self.per_vm_bought, 0)

    @property
    def unlimited_short(self) -> int:
        """Unlimited licenses the hosts that need them need beyond those left over."""
        return max(self.unlimited_needed - self.unlimited_spare, 0)

    @property
    def short(self) -> int:
        """Licenses short of either kind, each bought as the cheaper kind where it is needed."""
        return self.per_vm_short + self.unlimited_short

    @property
    def unlimited_spare(self) -> int:
        """Unlimited licenses bought and covering no host."""
        return self.unlimited_bought - self.unlimited_used


def cover(needs: Sequence[HostNeed], per_vm_bought: int, unlimited_bought: int) -> Coverage:
    """Spend the unlimited licenses where each saves most, the per-VM ones on the rest.

    A host is covered by unlimited licenses only whole (all its ``unlimited`` need).  Ties go
    by host name, so the answer does not depend on the order the hosts are given in.  A host
    that is ``unlimited_only`` takes the unlimited licenses bought first, and needs them where
    they are short, whatever per-VM licenses are left over.
    """
    wanted = [need for need in needs if need.per_vm or need.unlimited]
    order = sorted(
        wanted,
        key=lambda n: (not n.unlimited_only, -Fraction(n.per_vm, max(n.unlimited, 1)), n.host),
    )
    left = unlimited_bought
    covered: list[str] = []
    used = 0
    for need in order:
        if need.unlimited <= left and need.unlimited > 0:
            covered.append(need.host)
            left -= need.unlimited
            used += need.unlimited
    taken = set(covered)
    rest = [need for need in wanted if need.host not in taken]
    wants_unlimited = [need for need in rest if _wants_unlimited(need)]
    per_vm = [need for need in rest if not _wants_unlimited(need)]
    spare = per_vm_bought - sum(need.per_vm for need in per_vm)
    unlimited: list[HostNeed] = []
    for need in sorted(wants_unlimited, key=lambda n: (n.per_vm, n.host)):
        if not need.unlimited_only and need.per_vm <= spare:  # per-VM bought and left over do
            per_vm.append(need)
            spare -= need.per_vm
        else:
            unlimited.append(need)
    return Coverage(
        tuple(sorted(covered)),
        used,
        tuple(sorted(need.host for need in per_vm)),
        sum(need.per_vm for need in per_vm),
        per_vm_bought,
        unlimited_bought,
        tuple(sorted(need.host for need in unlimited)),
        sum(need.unlimited for need in unlimited),
    )


def _wants_unlimited(need: HostNeed) -> bool:
    """Whether a host not covered takes the unlimited kind where per-VM left over fall short."""
    return (need.unlimited_cheaper or need.unlimited_only) and need.unlimited > 0
