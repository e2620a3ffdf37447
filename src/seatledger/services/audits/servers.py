"""The server lines of a vendor's audit: what its server products require on the hosts and VMs.

An audit of Microsoft, Oracle, IBM or Red Hat asks first about servers (FIELD.md): the lines of
the server position (:mod:`seatledger.services.servers.position`) that are the audited vendor's
go into the wizard's position step, the signed PDF, report.json and ``servers.csv`` of the
bundle, each with the hosts and VMs behind its figure.  Microsoft's lines are Windows Server and
SQL Server (with the 90-day reassignment findings and the Microsoft License Statement's
differences), Oracle's and IBM's one per product of theirs found installed (IBM's with the ILMT
audit snapshot's differences), Red Hat's Red Hat Enterprise Linux; an audit naming products
keeps the lines of those products.  Nothing of another vendor's servers goes in: a line's
details are the hosts and VMs behind its own figure.

In the bundle the host, VM, cluster and vCenter names are keyed-hash pseudonyms, as device names
are everywhere in it (:meth:`ServerSection.pseudonymized`): a host is ``H-…``, a cluster ``K-…``
and a VM has the pseudonym of the device inventory found for it (its ``D-…`` in deployments.csv,
so a vendor can tie an install to the VM and host it runs on) or, without one, of its own name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from seatledger.services.core.context import Context
from seatledger.services.servers import position as servers
from seatledger.services.servers.position import (
    RULES,
    Detail,
    ServerLine,
    families_of,
    in_scope,
)
from seatledger.store.models import Product

SERVERS_CSV = "servers.csv"
SERVER_HEADERS = servers.TABLE_HEADERS  # the same columns as `seatledger servers --format csv`

Names = Mapping[str, tuple[str, str]]
"""A name of the topology -> (pseudonym kind, what the pseudonym is made of)."""


@dataclass(frozen=True, slots=True)
class ServerSection:
    """The audited vendor's server lines on the audit date, and what they rest on."""

    as_of: dt.date
    families: tuple[str, ...]
    lines: tuple[ServerLine, ...]
    findings: tuple[str, ...] = ()
    # Every host, VM, cluster and vCenter name that may appear in the lines, for pseudonyms.
    names: Names = field(default_factory=dict)
    pseudonymized_names: bool = False

    @property
    def hosts(self) -> int:
        """The hosts and partitions behind the lines' figures."""
        return len({d.subject for line in self.lines for d in line.details})

    @property
    def short(self) -> tuple[ServerLine, ...]:
        """The lines short of what was bought."""
        return tuple(line for line in self.lines if line.short > 0)

    def rows(self) -> list[tuple[Any, ...]]:
        """servers.csv's rows (:data:`SERVER_HEADERS`): one per host, partition or server
        behind each figure, one for a line with nothing behind it."""
        rows: list[tuple[Any, ...]] = []
        for line in self.lines:
            rule = RULES.get(line.family, line.family)
            head = (rule, line.product, line.unit, line.required, line.purchased, line.short)
            if not line.details:
                rows.append((*head, "", None, "", line.reason))
            for detail in line.details:
                vms = ", ".join(detail.vms)
                rows.append((*head, detail.subject, detail.figure, vms, detail.reason))
        return rows

    def as_json(self) -> dict[str, Any]:
        """The section as report.json holds it (``servers``)."""
        return {
            "as_of": self.as_of.isoformat(),
            "rules": [RULES.get(family, family) for family in self.families],
            "lines": [{**line.as_json(), "rule": RULES.get(line.family)} for line in self.lines],
            "findings": list(self.findings),
        }

    def pseudonymized(self, pseudonym: Callable[[str, str], str]) -> ServerSection:
        """The section with every host, VM, physical server, cluster and vCenter name replaced
        by its pseudonym (``pseudonym(kind, value)``), in the subjects, the VM lists, the servers
        of unknown cores and the reasons' words."""
        rename = _Renamer(self.names, pseudonym)
        lines = tuple(
            replace(
                line,
                reason=rename.text(line.reason),
                unknown=tuple(rename.name(server) for server in line.unknown),
                details=tuple(
                    Detail(
                        rename.text(d.subject),
                        d.figure,
                        rename.text(d.reason),
                        tuple(rename.name(vm) for vm in d.vms),
                    )
                    for d in line.details
                ),
            )
            for line in self.lines
        )
        findings = tuple(rename.text(f) for f in self.findings)
        return replace(self, lines=lines, findings=findings, names={}, pseudonymized_names=True)


class _Renamer:
    """Names replaced by pseudonyms in one pass over a text, never inside a pseudonym."""

    # A name as words see it: letters, digits and the . - _ inside a host name; a name with
    # spaces in it (a VM called "SQL Server 01") is matched whole first.
    _TOKEN = re.compile(r"\w[\w.\-]*\w|\w")

    def __init__(self, names: Names, pseudonym: Callable[[str, str], str]) -> None:
        self._names = names
        self._pseudonym = pseudonym
        spaced = sorted((n for n in names if " " in n), key=len, reverse=True)
        self._spaced = re.compile("|".join(re.escape(n) for n in spaced)) if spaced else None

    def name(self, value: str) -> str:
        """The pseudonym of one name (a name the topology does not hold is kept)."""
        found = self._names.get(value)
        return value if found is None else self._pseudonym(*found)

    def text(self, value: str) -> str:
        """``value`` with each name in it replaced."""
        if self._spaced is not None:
            value = self._spaced.sub(lambda m: self.name(m.group(0)), value)
        return self._TOKEN.sub(lambda m: self.name(m.group(0)), value)


def server_section(
    ctx: Context,
    vendor_id: int,
    vendor: str,
    products: Sequence[str],
    as_of: dt.date,
) -> ServerSection | None:
    """The server lines of an audit of ``vendor`` (its ``products``, none meaning all) on
    ``as_of``; None when the vendor has no server rule or there are no servers (no host or VM
    of a hypervisor export, no physical server in the device inventory)."""
    families = families_of(vendor)
    if not families:
        return None
    with ctx.read() as session:
        state = servers.load_state(session, as_of)
        if not state.holds_servers:
            return None
        own = list(session.scalars(select(Product.name).where(Product.vendor_id == vendor_id)))
    computed = servers.compute(state)
    lines = in_scope(computed.lines, families, own, products)
    findings = computed.findings_of(families, lines)
    names: dict[str, tuple[str, str]] = {}
    for host in state.topology.hosts.values():
        names[host.name] = ("host", host.name)
        if host.cluster:
            names.setdefault(host.cluster, ("cluster", host.cluster))
        if host.vcenter:
            names.setdefault(host.vcenter, ("host", host.vcenter))
    for vm in state.topology.vms:
        names[vm.name] = ("device", state.machines.get(vm.name, vm.name))
    for server in state.physical:  # servers on their own OS: devices of the inventory
        names.setdefault(server.name, ("device", server.name))
    for stint in state.history:  # the reassignment findings name where VMs ran before
        names.setdefault(stint.host, ("host", stint.host))
        names.setdefault(stint.vm, ("device", stint.vm))
    return ServerSection(as_of, families, lines, tuple(findings), names)
