"""Red Hat-style subscriptions: per socket pair, per two VMs, or unlimited VMs per host.

Sources (``docs/server-licensing.md`` quotes each rule and its worked example):

- Red Hat Subscription Management, "Stacking subscriptions": "Red Hat Enterprise Linux
  subscriptions commonly cover a socket pair. If there are four sockets on a system, then the
  system requires two subscriptions"; a system with one or three sockets rounds up.
- Red Hat Enterprise Linux subscription guide: a RHEL Server subscription covers a physical
  host's socket pair or two virtual guests; RHEL for Virtual Datacenters covers a host's socket
  pair with unlimited guests on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from seatledger.domain.server.topology import Host
from seatledger.text import plural

SOCKETS_PER_SUBSCRIPTION = 2
GUESTS_PER_SUBSCRIPTION = 2


def socket_pair_subscriptions(host: Host) -> int:
    """Subscriptions for a physical host: one per socket pair, rounded up."""
    return math.ceil(host.sockets / SOCKETS_PER_SUBSCRIPTION)


def guest_pair_subscriptions(guests: int) -> int:
    """Subscriptions for ``guests`` VMs under per-two-guests subscriptions, rounded up."""
    if guests < 0:
        raise ValueError(f"a host runs 0 or more guests ({guests})")
    return math.ceil(guests / GUESTS_PER_SUBSCRIPTION)


def virtual_datacenter_subscriptions(hosts: Sequence[Host]) -> int:
    """Virtual datacenter subscriptions for ``hosts``: each host's socket pairs, whatever the
    number of guests on it."""
    return sum(socket_pair_subscriptions(host) for host in hosts)


@dataclass(frozen=True, slots=True)
class GuestChoice:
    """The cheaper way to subscribe one host's guests, and why."""

    per_guest_pair: int
    virtual_datacenter: int
    per_guest_pair_cost: Decimal
    virtual_datacenter_cost: Decimal
    virtual_datacenter_chosen: bool
    reason: str

    @property
    def cost(self) -> Decimal:
        """The chosen option's cost."""
        if self.virtual_datacenter_chosen:
            return self.virtual_datacenter_cost
        return self.per_guest_pair_cost


def cheapest_guest_subscriptions(
    host: Host, guests: int, guest_pair_price: Decimal, datacenter_price: Decimal
) -> GuestChoice:
    """Per two guests or unlimited guests (virtual datacenter) for ``host``, whichever costs
    less; on equal cost the virtual datacenter, which covers guests added later."""
    pairs = guest_pair_subscriptions(guests)
    datacenter = socket_pair_subscriptions(host) if guests else 0
    pairs_cost = pairs * guest_pair_price
    datacenter_cost = datacenter * datacenter_price
    chosen = guests > 0 and datacenter_cost <= pairs_cost
    reason = (
        f"{host.name}: {plural(guests, 'guest')} {'needs' if guests == 1 else 'need'} "
        f"{plural(pairs, 'subscription')} per two "
        f"guests at {guest_pair_price:,.2f} = {pairs_cost:,.2f}, or "
        f"{plural(datacenter, 'virtual datacenter subscription')} for its "
        f"{plural(host.sockets, 'socket')} at {datacenter_price:,.2f} = {datacenter_cost:,.2f}; "
        + ("virtual datacenter" if chosen else "per two guests")
        + " is chosen."
    )
    return GuestChoice(pairs, datacenter, pairs_cost, datacenter_cost, chosen, reason)
