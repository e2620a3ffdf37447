"""What was bought against what hosts need, where a host is licensed one of two ways.

Windows Server (Standard per OSE pair, or Datacenter unlimited) and Red Hat (per two guests, or
a virtual datacenter subscription unlimited) license each host either with the per-VM kind,
whose count grows with the VMs, or with the unlimited kind, a fixed count per host.  Given how
many of each were bought, which hosts do the unlimited ones cover, and how many of the per-VM
kind do the others still need?  The unlimited licenses go first to the hosts where they save
the most per-VM licenses for each one spent (a host's per-VM need over its unlimited need), then
the rest of the hosts take the per-VM kind.  Pure: no storage.
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


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which hosts the bought unlimited licenses cover and what the others need."""

    unlimited_hosts: tuple[str, ...]
    unlimited_used: int
    per_vm_hosts: tuple[str, ...]
    per_vm_needed: int
    per_vm_bought: int
    unlimited_bought: int

    @property
    def per_vm_short(self) -> int:
        """Per-VM licenses the uncovered hosts need beyond those bought."""
        return max(self.per_vm_needed - self.per_vm_bought, 0)

    @property
    def unlimited_spare(self) -> int:
        """Unlimited licenses bought and covering no host."""
        return self.unlimited_bought - self.unlimited_used


def cover(needs: Sequence[HostNeed], per_vm_bought: int, unlimited_bought: int) -> Coverage:
    """Spend the unlimited licenses where each saves most, the per-VM ones on the rest.

    A host is covered by unlimited licenses only whole (all its ``unlimited`` need).  Ties go
    by host name, so the answer does not depend on the order the hosts are given in.
    """
    wanted = [need for need in needs if need.per_vm or need.unlimited]
    order = sorted(
        wanted,
        key=lambda n: (-Fraction(n.per_vm, max(n.unlimited, 1)), n.host),
    )
    left = unlimited_bought
    covered: list[str] = []
    used = 0
    for need in order:
        if need.unlimited <= left and need.unlimited > 0:
            covered.append(need.host)
            left -= need.unlimited
            used += need.unlimited
    rest = [need for need in wanted if need.host not in set(covered)]
    return Coverage(
        tuple(sorted(covered)),
        used,
        tuple(sorted(need.host for need in rest)),
        sum(need.per_vm for need in rest),
        per_vm_bought,
        unlimited_bought,
    )
