"""The server position: what each server product requires under its vendor's rule, against what
was bought, with the reason in words; and the same for a what-if that changes nothing stored.

Which VMs run what: Windows Server and Red Hat Enterprise Linux by the VM's guest OS (the
export's, else the OS the device inventory gives the machine of the VM's name); SQL Server,
Oracle and IBM products by the installs the inventory found on that machine (a device whose
host name is the VM's name, or starts with it and a dot).  What was bought: the purchases in
term on the day, matched by product (Windows Server, SQL Server and Red Hat by name; Oracle and
IBM per product).  The rules are ``seatledger.domain.server``'s; this module only gathers their
inputs (:func:`load_state`, one read) and applies them (:func:`compute`, pure).

Prices choose the cheaper licensing of a host (Windows Server's editions, Red Hat's two
subscriptions): a purchase's unit cost where one is recorded, else the reference prices below,
which the reason then names as such.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from seatledger.domain.server import ibm, microsoft, oracle, redhat
from seatledger.domain.server.coverage import Coverage, HostNeed, cover
from seatledger.domain.server.microsoft import Edition
from seatledger.domain.server.tables import shipped_core_factors, shipped_pvu_table
from seatledger.domain.server.topology import (
    VM,
    Host,
    PhysicalServer,
    Placement,
    PowerState,
    Reach,
    Topology,
)
from seatledger.domain.usage import product_title
from seatledger.services.position.engine import in_term
from seatledger.services.servers import statements
from seatledger.services.servers.statements import Evidence
from seatledger.store.models import (
    Device,
    Entitlement,
    Installation,
    Product,
    SoftwareTitle,
    Vendor,
)
from seatledger.store.models_servers import ServerHost, ServerPlacement, ServerVm
from seatledger.text import agree, plural

WINDOWS = "Windows Server"
SQL = "SQL Server"
RHEL = "Red Hat Enterprise Linux"
ORACLE = "Oracle"
IBM = "IBM"
FAMILIES = (WINDOWS, SQL, ORACLE, IBM, RHEL)
RULES = {
    WINDOWS: "Windows Server per core: Standard 2 OSEs per full licensing, Datacenter unlimited",
    SQL: "SQL Server per core: each VM's virtual cores (at least 4), a physical server's cores",
    ORACLE: "Oracle processors: cores × core factor, soft partitions whole",
    IBM: "IBM PVUs: sub-capacity, the peak of the period",
    RHEL: "Red Hat: per socket pair or two guests, or virtual datacenter",
}
"""Each family's rule in a few words (the reasons say the rest)."""

# Reference prices, used where no purchase records a unit cost: a 16-core Windows Server 2022
# licence at about 1,070 (Standard) and 6,200 (Datacenter), as the reseller guide quoted in
# docs/server-licensing.md gives them, per core license; Red Hat's list prices of a RHEL Server
# Standard subscription (a socket pair or two guests) and of RHEL for Virtual Datacenters.
REFERENCE = {
    "windows_standard": Decimal(1070) / 16,
    "windows_datacenter": Decimal(6200) / 16,
    "rhel_pair": Decimal(799),
    "rhel_vdc": Decimal(2499),
}
IBM_PERIOD_DAYS = 365

# The audited vendor's name (folded) starts with one of these: its server rules.
_VENDOR_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("microsoft", (WINDOWS, SQL)),
    ("oracle", (ORACLE,)),
    ("ibm", (IBM,)),
    ("international business machines", (IBM,)),
    ("red hat", (RHEL,)),
)
# A family ruled per product name (Oracle, IBM) or per words in the audit's product names.
_FAMILY_WORDS = {
    WINDOWS: ("windows server",),
    SQL: ("sql server",),
    RHEL: ("red hat enterprise linux", "rhel"),
}


def families_of(vendor: str) -> tuple[str, ...]:
    """The server rules an audit of ``vendor`` covers (none for a vendor without any)."""
    folded = vendor.casefold().strip()
    for prefix, families in _VENDOR_FAMILIES:
        if folded.startswith(prefix):
            return families
    return ()


def in_scope(
    lines: Sequence[ServerLine],
    families: Sequence[str],
    vendor_products: Sequence[str],
    chosen: Sequence[str],
) -> tuple[ServerLine, ...]:
    """The ``lines`` of the audited vendor: its ``families``, and of those the lines of its
    products (``vendor_products``, all of them; ``chosen``, the audit's, none meaning all)."""
    picked = []
    for line in lines:
        if line.family not in families:
            continue
        if line.family in (ORACLE, IBM):
            keep = line.product in (chosen or vendor_products)
        else:
            words = _FAMILY_WORDS.get(line.family, ())
            keep = not chosen or any(w in name.casefold() for name in chosen for w in words)
        if keep:
            picked.append(line)
    return tuple(picked)


@dataclass(frozen=True, slots=True)
class Purchase:
    """A purchase in term on the day, with what its product is called."""

    entitlement_id: int
    product_id: int
    vendor: str
    product: str
    name: str
    metric: str
    quantity: int
    unit_cost: Decimal | None

    @property
    def words(self) -> str:
        """Product and purchase name, folded, for matching editions."""
        return f"{self.product} {self.name}".casefold()


@dataclass(frozen=True, slots=True)
class Stint:
    """One stored placement: a VM on a host with its vCPUs, from ``start`` until ``end``."""

    vm: str
    host: str
    vcpus: int
    start: dt.datetime
    end: dt.datetime | None


@dataclass(frozen=True)
class ServerState:
    """Everything the position needs, read at once: topology, installs, purchases, history."""

    as_of: dt.date
    topology: Topology
    products: dict[str, frozenset[tuple[str, str, int]]]  # VM -> {(vendor, product, id)}
    purchases: tuple[Purchase, ...]
    history: tuple[Stint, ...]
    machines: dict[str, str] = field(default_factory=dict)  # VM -> its device's host name
    evidence: tuple[Evidence, ...] = ()  # the newest vendor statement of each kind stored
    physical: tuple[PhysicalServer, ...] = ()  # servers on their own OS, no hypervisor
    physical_products: dict[str, frozenset[tuple[str, str, int]]] = field(
        default_factory=dict
    )  # physical server -> {(vendor, product, id)}

    @property
    def holds_servers(self) -> bool:
        """Whether there is anything to count: a host or VM of a hypervisor export, or a
        physical server of the device inventory (a device with a server OS)."""
        return bool(self.topology.hosts or self.topology.vms or self.physical)


@dataclass(frozen=True)
class WhatIf:
    """Changes to try without writing them: VMs moved, hard-partitioned or switched off, hosts
    taken out, SQL Server Enterprise with Software Assurance, how far Oracle's soft partitions
    reach, and hosts, clusters or physical servers licensed with a Windows Server edition
    (``editions``, by name) instead of the cheaper one."""

    moves: dict[str, str] = field(default_factory=dict)  # VM -> host
    hard_partitions: dict[str, int] = field(default_factory=dict)  # VM -> cores pinned
    powered_off: frozenset[str] = frozenset()
    removed_hosts: frozenset[str] = frozenset()
    sql_enterprise_sa: bool = False
    oracle_reach: Reach = Reach.CLUSTER
    editions: dict[str, Edition] = field(default_factory=dict)  # host or cluster -> edition

    @property
    def empty(self) -> bool:
        """Whether it changes nothing."""
        return self == WhatIf()

    def describe(self) -> list[str]:
        """Each change in words."""
        words = [f"{vm} moved to {host}" for vm, host in sorted(self.moves.items())]
        words += [
            f"{vm} in a hard partition of {plural(cores, 'core')}"
            for vm, cores in sorted(self.hard_partitions.items())
        ]
        words += [f"{vm} powered off" for vm in sorted(self.powered_off)]
        words += [f"{host} taken out" for host in sorted(self.removed_hosts)]
        if self.sql_enterprise_sa:
            words.append("SQL Server Enterprise with Software Assurance")
        if self.oracle_reach is not Reach.CLUSTER:
            words.append(f"Oracle soft partitions reach {self.oracle_reach.value}")
        words += [
            f"{name} licensed with Windows Server {edition.value}"
            for name, edition in sorted(self.editions.items())
        ]
        return words


@dataclass(frozen=True, slots=True)
class Detail:
    """One figure behind a line: a host, cluster or VM, what it counts and why."""

    subject: str
    figure: int
    reason: str
    vms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServerLine:
    """One product's requirement under its rule against what was bought."""

    family: str
    product: str
    unit: str
    required: int
    purchased: int
    short: int
    reason: str
    details: tuple[Detail, ...] = ()
    cost: Decimal | None = None  # what the requirement costs at the prices the reason names
    unknown: tuple[str, ...] = ()  # physical servers running it whose cores are unknown
    # Where fewer than ``required`` cover it: the unlimited kind bought ("Datacenter", "virtual
    # datacenter") licenses hosts whole that the requirement counts per VM.
    covered_by: str = ""

    @property
    def title(self) -> str:
        """The product as a table shows it: an Oracle or IBM product with its vendor's name
        ("Oracle Database Enterprise Edition", "IBM Db2"), the others as they are."""
        if self.family in (ORACLE, IBM):
            return product_title(self.family, self.product)
        return self.product

    @property
    def standing(self) -> str:
        """The status in words for a table: "Short", "Covered", "Covered by fewer (Datacenter)",
        "Cores unknown" or "Nothing runs"."""
        if self.covered_by and not self.short:
            return f"Covered by fewer ({self.covered_by})"
        return self.status.capitalize()

    @property
    def status(self) -> str:
        """ "short", "covered", "cores unknown" or "nothing runs"."""
        if self.short > 0:
            return "short"
        if self.required or self.purchased:
            return "covered"
        return "cores unknown" if self.unknown else "nothing runs"

    def as_json(self) -> dict[str, object]:
        """The line for ``--format json`` and an audit's report.json (whose schema holds these
        keys; the position's JSON adds the cost and the servers with unknown cores)."""
        return {
            "family": self.family,
            "product": self.product,
            "unit": self.unit,
            "required": self.required,
            "purchased": self.purchased,
            "short": self.short,
            "status": self.status,
            "reason": self.reason,
            "details": [
                {"subject": d.subject, "figure": d.figure, "reason": d.reason, "vms": list(d.vms)}
                for d in self.details
            ],
        }


# The columns of the server table (CSV, XLSX and an audit's servers.csv): one row per host,
# partition or server behind each product's figure.
TABLE_HEADERS = (
    "Rule",
    "Product",
    "Counts",
    "Required",
    "Bought",
    "Short",
    "Host or partition",
    "Its figure",
    "VMs",
    "Why",
)


@dataclass(frozen=True)
class ServerPosition:
    """The position on a day: one line per product, and the findings beside them."""

    as_of: dt.date
    hosts: int
    clusters: int
    vms: int
    running: int
    lines: tuple[ServerLine, ...]
    findings: tuple[str, ...]
    whatif: tuple[str, ...] = ()
    ibm_findings: tuple[str, ...] = ()  # those of ``findings`` an ILMT snapshot raised
    physical: int = 0  # physical servers (no hypervisor) with a server OS, counted or not
    unknown_cores: tuple[str, ...] = ()  # of those, the ones whose cores are unknown

    @property
    def estate(self) -> str:
        """What the position counts, in words: the hypervisors' hosts, clusters and VMs (where
        an export was imported) and the physical servers (where the inventory has any)."""
        parts = []
        if self.hosts or self.vms:
            parts.append(
                f"{plural(self.hosts, 'host')}, {plural(self.clusters, 'cluster')}, "
                f"{plural(self.vms, 'VM')} ({self.running:,} running)"
            )
        if self.physical:
            parts.append(
                plural(self.physical, "physical server")
                + (
                    f" ({len(self.unknown_cores):,} with unknown cores, not counted)"
                    if self.unknown_cores
                    else ""
                )
            )
        return ", ".join(parts) or "no hosts, VMs or physical servers"

    def findings_of(self, families: Sequence[str], lines: Sequence[ServerLine]) -> tuple[str, ...]:
        """The findings an audit of a vendor with these rule ``families`` and server ``lines``
        carries: Microsoft's (the 90-day reassignments, the License Statement's differences)
        where its lines are Windows Server or SQL Server, IBM's (the ILMT snapshot's) where its
        families hold IBM."""
        ibm = set(self.ibm_findings)
        microsoft = any(line.family in (WINDOWS, SQL) for line in lines)
        found = [f for f in self.findings if f not in ibm] if microsoft else []
        if IBM in families:
            found += self.ibm_findings
        return tuple(found)

    def line(self, family: str, product: str | None = None) -> ServerLine | None:
        """The line of a family (and product), if there is one."""
        return next(
            (
                ln
                for ln in self.lines
                if ln.family == family and (product is None or ln.product == product)
            ),
            None,
        )

    def table(self) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
        """Headers and rows for a CSV or XLSX: one row per host, partition or server behind each
        product's figure (the Microsoft per-host summary, the Oracle server worksheet), a row
        per product where nothing stands behind it."""
        headers = TABLE_HEADERS
        rows: list[tuple[object, ...]] = []
        for line in self.lines:
            head = (line.family, line.product, line.unit, line.required, line.purchased, line.short)
            if not line.details:
                rows.append((*head, "", None, "", line.reason))
            for detail in line.details:
                rows.append(
                    (*head, detail.subject, detail.figure, ", ".join(detail.vms), detail.reason)
                )
        return headers, rows

    def as_json(self) -> dict[str, object]:
        """The position for ``--format json``."""
        return {
            "as_of": self.as_of.isoformat(),
            "hosts": self.hosts,
            "clusters": self.clusters,
            "vms": self.vms,
            "running": self.running,
            "physical_servers": self.physical,
            "unknown_cores": list(self.unknown_cores),
            "whatif": list(self.whatif),
            "lines": [
                {
                    **line.as_json(),
                    "cost": None if line.cost is None else f"{line.cost:.2f}",
                    "unknown_cores": list(line.unknown),
                }
                for line in self.lines
            ],
            "findings": list(self.findings),
        }


# -- reading --------------------------------------------------------------------------------------


def load_state(session: Session, as_of: dt.date) -> ServerState:
    """The stored topology, the installs on its VMs, the purchases in term and the history."""
    hosts = [
        Host(*row)
        for row in session.execute(
            select(
                ServerHost.name,
                ServerHost.sockets,
                ServerHost.cores_per_socket,
                ServerHost.processor_model,
                ServerHost.cluster,
                ServerHost.max_sockets,
                ServerHost.vcenter,
            ).order_by(ServerHost.name)
        )
    ]
    vm_names = list(session.scalars(select(ServerVm.name)))
    # VM name -> (device id, device OS, host name); the physical servers with their device ids
    machines, physical = _machines(session, vm_names, [host.name for host in hosts])
    device_os = {name: os for name, (_, os, _) in machines.items() if os}
    owner = {device: name for name, (device, _, _) in machines.items()}
    physical_owner = {device: server.name for device, server in physical}
    products: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    physical_products: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    counted = _counted_products(session)
    if counted and (owner or physical_owner):
        # One read of the installs of the products the rules count (by their titles' index),
        # whatever device they are on; those on neither a VM's machine nor a physical server
        # are dropped here.  Reading every install of the servers instead, whatever its
        # product, took 16 s on the large demo's 14,500 physical servers (bench/server_state.py).
        installed = (
            select(Installation.device_id, SoftwareTitle.product_id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
            .where(
                SoftwareTitle.product_id.in_(sorted(counted)),
                Installation.first_seen <= as_of,
                or_(Installation.removed_on.is_(None), Installation.removed_on > as_of),
            )
        )
        for device_id, product_id in session.execute(installed):
            found = counted[product_id or 0]  # never None: the titles are those of ``counted``
            if device_id in owner:
                products[owner[device_id]].add(found)
            elif device_id in physical_owner:
                physical_products[physical_owner[device_id]].add(found)
    powers = {state.value: state for state in PowerState}
    vms = [
        VM(name, vcpus, host, cluster, powers[power], os or device_os.get(name, ""), pinned)
        for name, vcpus, host, cluster, power, os, pinned in session.execute(
            select(
                ServerVm.name,
                ServerVm.vcpus,
                ServerVm.host,
                ServerVm.cluster,
                ServerVm.power,
                ServerVm.os,
                ServerVm.hard_partition_cores,
            ).order_by(ServerVm.name)
        )
    ]
    purchases = tuple(
        Purchase(*row)
        for row in session.execute(
            select(
                Entitlement.id,
                Product.id,
                Vendor.name,
                Product.name,
                Entitlement.name,
                Entitlement.metric,
                Entitlement.quantity,
                Entitlement.unit_cost,
            )
            .join(Product, Product.id == Entitlement.product_id)
            .join(Vendor, Vendor.id == Product.vendor_id)
            .where(in_term(as_of))
            .order_by(Entitlement.id)
        )
    )
    end = dt.datetime.combine(as_of, dt.time.max, tzinfo=dt.UTC)
    since = end - dt.timedelta(days=IBM_PERIOD_DAYS)
    history = tuple(
        Stint(vm, host, vcpus, _utc(started), _utc_or_none(ended))
        for vm, host, vcpus, started, ended in session.execute(
            select(
                ServerPlacement.vm_name,
                ServerPlacement.host,
                ServerPlacement.vcpus,
                ServerPlacement.started,
                ServerPlacement.ended,
            )
            .where(
                ServerPlacement.started <= end,
                or_(ServerPlacement.ended.is_(None), ServerPlacement.ended > since),
            )
            .order_by(ServerPlacement.vm_name, ServerPlacement.started)
        )
    )
    return ServerState(
        as_of,
        Topology.of(hosts, vms),
        {name: frozenset(found) for name, found in products.items()},
        purchases,
        history,
        {name: hostname for name, (_, _, hostname) in machines.items()},
        statements.load_evidence(session),
        tuple(server for _, server in physical),
        {name: frozenset(found) for name, found in physical_products.items()},
    )


def counts(vendor: str, product: str) -> bool:
    """Whether the server rules count installs of this product (of this vendor): SQL Server
    (Microsoft's), every product of Oracle's and IBM's.  Windows Server and Red Hat Enterprise
    Linux go by the machine's OS, not by installs."""
    folded = vendor.casefold()
    return (
        folded.startswith("microsoft") and "sql server" in product.casefold()
    ) or folded.startswith(("oracle", "ibm"))


def _counted_products(session: Session) -> dict[int, tuple[str, str, int]]:
    """The products whose installs the rules count (:func:`counts`), by id: (vendor, product,
    id)."""
    return {
        product_id: (vendor, product, product_id)
        for product_id, product, vendor in session.execute(
            select(Product.id, Product.name, Vendor.name).join(
                Vendor, Vendor.id == Product.vendor_id
            )
        )
        if counts(vendor, product)
    }


def _machines(
    session: Session, vm_names: Sequence[str], host_names: Sequence[str]
) -> tuple[dict[str, tuple[int, str, str]], list[tuple[int, PhysicalServer]]]:
    """The device of each VM's name, and the physical servers with their device ids.

    A VM's device: its host name is the VM's name, or starts with it and a dot (``sql01`` and
    ``sql01.corp.example``), compared without regard to case; the exact name first.  A physical
    server: a device with a server OS (:func:`is_server_os`) whose name (its first label) is
    neither a VM's nor a hypervisor host's.  Matched in memory: a join on those conditions
    compares every device with every VM."""
    wanted = {name.casefold(): name for name in vm_names}
    virtual = {name.split(".", 1)[0] for name in wanted}
    hypervisors = {name.casefold().split(".", 1)[0] for name in host_names}
    exact: dict[str, tuple[int, str, str]] = {}
    dotted: dict[str, tuple[int, str, str]] = {}
    physical: list[tuple[int, PhysicalServer]] = []
    for device_id, hostname, os, processors, cores, model in session.execute(
        select(
            Device.id,
            Device.hostname,
            Device.os,
            Device.processors,
            Device.cores,
            Device.processor_model,
        ).order_by(Device.id)
    ):
        folded = hostname.casefold()
        first = folded.split(".", 1)[0]
        if folded in wanted:
            exact.setdefault(wanted[folded], (device_id, os, hostname))
        if first != folded and first in wanted:
            dotted.setdefault(wanted[first], (device_id, os, hostname))
        if first in virtual or first in hypervisors or not is_server_os(os):
            continue
        physical.append((device_id, PhysicalServer(hostname, os, processors, cores, model or None)))
    return {**dotted, **exact}, physical


def is_server_os(os: str) -> bool:
    """Whether an inventory's OS name is a server's: Windows Server, Red Hat Enterprise Linux,
    or any other that says "server" (SUSE Linux Enterprise Server, Oracle Linux Server)."""
    folded = os.casefold()
    return "server" in folded or "red hat enterprise linux" in folded or folded.startswith("rhel")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _utc_or_none(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else _utc(moment)


# -- the what-if ----------------------------------------------------------------------------------


def apply(state: ServerState, whatif: WhatIf) -> ServerState:
    """The state as it would be after ``whatif``; nothing is written.

    Raises:
        ValueError: it names a VM or host the topology does not hold, moves a VM to a host taken
            out, or pins a VM to more cores than its host has.
    """
    if whatif.empty:
        return state
    topology = state.topology
    names = {vm.name for vm in topology.vms}
    for vm_name in (*whatif.moves, *whatif.hard_partitions, *whatif.powered_off):
        if vm_name not in names:
            raise ValueError(f"There is no VM named {vm_name}.")
    for host_name in (*whatif.moves.values(), *whatif.removed_hosts):
        if host_name not in topology.hosts:
            raise ValueError(f"There is no host named {host_name}.")
    licensable = {*topology.hosts, *topology.clusters, *(s.name for s in state.physical)}
    for name in whatif.editions:
        if name not in licensable:
            raise ValueError(f"There is no host, cluster or physical server named {name}.")
    hosts = [h for h in topology.hosts.values() if h.name not in whatif.removed_hosts]
    vms: list[VM] = []
    for vm in topology.vms:
        host = whatif.moves.get(vm.name, vm.host)
        if host in whatif.removed_hosts:
            if vm.name in whatif.moves:
                raise ValueError(f"{vm.name} cannot move to {host}, which is taken out.")
            survivors = [
                h.name for h in hosts if vm.cluster is not None and h.cluster == vm.cluster
            ]
            if not survivors:  # its host is gone and no host of its cluster remains
                continue
            host = survivors[0]
        cluster = topology.hosts[host].cluster if host is not None else None
        power = PowerState.OFF if vm.name in whatif.powered_off else vm.power
        pinned = whatif.hard_partitions.get(vm.name, vm.hard_partition_cores)
        if pinned is not None and host is not None and pinned > topology.hosts[host].cores:
            raise ValueError(
                f"{vm.name} cannot be pinned to {plural(pinned, 'core')}: {host} has "
                f"{topology.hosts[host].cores}."
            )
        vms.append(
            dataclasses.replace(
                vm, host=host, cluster=cluster, power=power, hard_partition_cores=pinned
            )
        )
    return dataclasses.replace(state, topology=Topology.of(hosts, vms))


# -- the rules applied ----------------------------------------------------------------------------


def compute(state: ServerState, whatif: WhatIf | None = None) -> ServerPosition:
    """The server position of ``state``, after ``whatif`` where one is given."""
    whatif = whatif or WhatIf()
    state = apply(state, whatif)
    topology = state.topology
    running = [vm for vm in topology.vms if vm.power is PowerState.ON and vm.host]
    lines = [
        _windows(state, running, whatif.editions),
        _sql(state, running, enterprise_sa=whatif.sql_enterprise_sa),
        *_oracle(state, whatif.oracle_reach),
        *_ibm(state, running),
        _rhel(state, running),
    ]
    findings = _reassignments(state)
    ibm_findings: list[str] = []
    for evidence in state.evidence:
        if evidence.kind is statements.StatementKind.ILMT:
            ibm_findings += statements.ilmt_findings(
                evidence,
                [
                    statements.Computed(
                        line.product,
                        line.required,
                        line.purchased,
                        tuple((d.subject, d.figure) for d in line.details),
                    )
                    for line in lines
                    if line.family == IBM
                ],
                tuple(topology.hosts),
            )
            continue
        findings += statements.findings(
            evidence,
            [
                statements.Bought(p.entitlement_id, p.vendor, p.words, p.quantity)
                for p in state.purchases
            ],
            [
                statements.Required(line.family, line.family.casefold(), line.required)
                for line in lines
                if line.family in (WINDOWS, SQL) and line.required
            ],
        )
    return ServerPosition(
        state.as_of,
        len(topology.hosts),
        len(topology.clusters),
        len(topology.vms),
        len(running),
        tuple(line for line in lines if line.required or line.purchased or line.unknown),
        (*findings, *ibm_findings),
        tuple(whatif.describe()),
        tuple(ibm_findings),
        len(state.physical),
        tuple(server.name for server in state.physical if not server.known),
    )


def _runs_windows(vm: VM | PhysicalServer) -> bool:
    return "windows server" in vm.os.casefold()


def _runs_rhel(vm: VM | PhysicalServer) -> bool:
    os = vm.os.casefold()
    return "red hat enterprise linux" in os or os.startswith("rhel")


def _has(state: ServerState, vm: VM, vendor_prefix: str, product_words: str = "") -> bool:
    return _installed(state.products.get(vm.name, ()), vendor_prefix, product_words)


def _installed(
    found: Iterable[tuple[str, str, int]], vendor_prefix: str, product_words: str = ""
) -> bool:
    return any(
        vendor.casefold().startswith(vendor_prefix) and product_words in product.casefold()
        for vendor, product, _ in found
    )


def _physical(
    state: ServerState, runs: Callable[[PhysicalServer], bool]
) -> tuple[list[tuple[PhysicalServer, Host]], list[str]]:
    """The physical servers that run something (``runs``): those whose cores are known, each
    with the host the rules count, and the names of those whose cores are unknown."""
    counted: list[tuple[PhysicalServer, Host]] = []
    unknown: list[str] = []
    for server in state.physical:
        if not runs(server):
            continue
        host = server.host
        if host is None:
            unknown.append(server.name)
        else:
            counted.append((server, host))
    return counted, unknown


def _physical_words(counted: Sequence[str], unknown: Sequence[str]) -> str:
    """The physical servers behind a line, and those not counted, in words ("" for none)."""
    words = ""
    if counted:
        words += f" Physical servers (no hypervisor), each counted whole: {_names(counted)}."
    if unknown:
        words += (
            f" Not counted, {plural(len(unknown), 'server')} with unknown cores (the inventory "
            f"gives no processors or cores): {_names(unknown)}."
        )
    return words


def _names(names: Sequence[str], most: int = 10) -> str:
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most:,} more"


def _fewer_cover(required: int, coverage: Coverage) -> bool:
    """Whether what was bought covers every host although it is fewer than ``required``."""
    bought = coverage.unlimited_bought + coverage.per_vm_bought
    return not coverage.short and bought < required and bool(coverage.unlimited_hosts)


def _covered_with_fewer(
    required: int, coverage: Coverage, what: str, unlimited: str, per_vm: str
) -> str:
    """Where what was bought covers every host although it is fewer than ``required`` (the
    unlimited kind, bought, licenses hosts that the cheaper kind would count per VM), that in
    words, to lead the reason; else ""."""
    if not _fewer_cover(required, coverage):
        return ""
    hosts = coverage.unlimited_hosts
    return (
        f"Covered: the {required:,} required is {what}, as if nothing were bought; the "
        f"{coverage.unlimited_bought:,} {unlimited} bought license "
        + (f"{hosts[0]}" if len(hosts) == 1 else f"{len(hosts):,} of them ({_names(hosts, 3)})")
        + f" for unlimited guests, {coverage.unlimited_used:,} used"
        + (
            f", and the {coverage.per_vm_bought:,} {per_vm} bought cover the "
            f"{coverage.per_vm_needed:,} the others need. "
            if coverage.per_vm_hosts
            else ". "
        )
    )


def _need(name: str, choice: microsoft.WindowsChoice, forced: Edition | None) -> HostNeed:
    """A host's Windows Server need for coverage: either edition, or the one it is licensed
    with by choice."""
    if forced is Edition.STANDARD:
        return HostNeed(name, choice.standard_licenses, 0)
    return HostNeed(
        name,
        choice.standard_licenses,
        choice.datacenter_licenses,
        choice.edition is Edition.DATACENTER,
        unlimited_only=forced is Edition.DATACENTER,
    )


def _price(purchases: Iterable[Purchase], reference: str) -> tuple[Decimal, bool]:
    """The average unit cost of the purchases that record one, else the reference price."""
    costed = [(p.unit_cost, p.quantity) for p in purchases if p.unit_cost is not None]
    units = sum(q for _, q in costed)
    if not units:
        return REFERENCE[reference], False
    return sum((c * q for c, q in costed), Decimal(0)) / units, True


def _hosts_for(topology: Topology, vms: Sequence[VM]) -> list[tuple[Host, int, list[str]]]:
    """Each host, cluster by cluster, with the ``vms`` that may run on it: its cluster's, and
    those that run on it alone (a VM outside the cluster on one of its nodes, as Hyper-V
    allows)."""
    by_cluster: dict[str, list[str]] = defaultdict(list)
    by_host: dict[str, list[str]] = defaultdict(list)
    for vm in vms:
        if vm.cluster:
            by_cluster[vm.cluster].append(vm.name)
        elif vm.host:
            by_host[vm.host].append(vm.name)
    found = []
    for name in sorted(topology.clusters):
        for host_name in sorted(topology.clusters[name].hosts):
            names = sorted(by_cluster[name] + by_host[host_name])
            found.append((topology.hosts[host_name], len(names), names))
    for host in sorted(topology.hosts.values(), key=lambda h: h.name):
        if not host.cluster:
            names = sorted(by_host[host.name])
            found.append((host, len(names), names))
    return found


def _windows(state: ServerState, running: Sequence[VM], editions: dict[str, Edition]) -> ServerLine:
    windows = [vm for vm in running if _runs_windows(vm)]
    bought = [p for p in state.purchases if "windows server" in p.words]
    datacenter = [p for p in bought if "datacenter" in p.words]
    standard = [p for p in bought if "datacenter" not in p.words]
    standard_price, costed_s = _price(standard, "windows_standard")
    datacenter_price, costed_d = _price(datacenter, "windows_datacenter")
    details: list[Detail] = []
    needs: list[HostNeed] = []
    required = 0
    cost = Decimal(0)
    for host, oses, names in _hosts_for(state.topology, windows):
        if not oses:
            continue
        forced = editions.get(host.name) or (editions.get(host.cluster) if host.cluster else None)
        choice = microsoft.cheapest_windows_edition(
            host, oses, standard_price, datacenter_price, edition=forced
        )
        required += choice.licenses
        cost += choice.cost
        needs.append(_need(host.name, choice, forced))
        details.append(Detail(host.name, choice.licenses, choice.reason, tuple(names)))
    physical, unknown = _physical(state, _runs_windows)
    datacenter_os: set[str] = set()
    for server, host in physical:
        forced = editions.get(server.name)
        choice = microsoft.cheapest_windows_edition(
            host, 1, standard_price, datacenter_price, edition=forced
        )
        required += choice.licenses
        cost += choice.cost
        needs.append(_need(host.name, choice, forced))
        reason = (
            f"{server.name}: a physical server running {server.os}, one OSE, licensed once: "
            + choice.reason.removeprefix(f"{server.name}: ")
        )
        if "datacenter" in server.os.casefold() and choice.edition is Edition.STANDARD:
            datacenter_os.add(server.name)
        details.append(Detail(server.name, choice.licenses, reason))
    bought_s = sum(p.quantity for p in standard)
    bought_d = sum(p.quantity for p in datacenter)
    coverage = cover(needs, bought_s, bought_d)
    for at, detail in enumerate(details):  # the Datacenter OS where Standard is the cheaper
        if detail.subject in datacenter_os:
            details[at] = dataclasses.replace(
                detail,
                reason=detail.reason
                + (
                    " It runs the Datacenter edition: the Datacenter bought covers it."
                    if detail.subject in coverage.unlimited_hosts
                    else " It runs the Datacenter edition, which Standard licenses do not "
                    "cover: run Standard there, or license it with Datacenter."
                ),
            )
    prices = (
        "at the unit costs recorded"
        if costed_s and costed_d
        else "at reference prices where no unit cost is recorded "
        f"(Standard {standard_price:,.2f}, Datacenter {datacenter_price:,.2f} a core license)"
    )
    chosen = (
        "the cheaper edition, or the one chosen for "
        + ", ".join(f"{name} ({edition.value})" for name, edition in sorted(editions.items()))
        if editions
        else "the cheaper edition"
    )
    vms = (
        f"{plural(len(windows), 'running Windows Server VM')}; every host licensed for each one "
        "that may run on it (its cluster's)"
        if windows
        else "No Windows Server VM runs on a hypervisor host; each server licensed"
    )
    reason = (
        f"{vms}, at {chosen} {prices}: {plural(required, 'core license')} costing {cost:,.2f}."
        + _physical_words([server.name for server, _ in physical], unknown)
    )
    if needs:
        reason += (
            f" With what was bought ({bought_s:,} Standard, {bought_d:,} Datacenter): "
            + (
                f"Datacenter covers {_names(coverage.unlimited_hosts)}; "
                if coverage.unlimited_hosts
                else ""
            )
            + (
                f"{_names(coverage.per_vm_hosts)} "
                f"{agree(len(coverage.per_vm_hosts), 'needs')} "
                f"{plural(coverage.per_vm_needed, 'Standard core license')}, "
                f"{coverage.per_vm_short:,} short"
                if coverage.per_vm_hosts
                else "no host needs Standard"
            )
            + (
                f"; {_names(coverage.unlimited_needed_hosts)} "
                f"{agree(len(coverage.unlimited_needed_hosts), 'needs')} "
                f"{plural(coverage.unlimited_needed, 'more Datacenter core license')} ("
                + ("the edition chosen or " if editions else "")
                + f"the cheaper edition there), {coverage.unlimited_short:,} short."
                if coverage.unlimited_needed_hosts
                else "."
            )
        )
        reason = (
            _covered_with_fewer(
                required,
                coverage,
                "the cheaper edition of each host and server",
                "Datacenter core licenses",
                "Standard",
            )
            + reason
        )
    short = coverage.short if needs else 0
    return ServerLine(
        WINDOWS,
        WINDOWS,
        "core licenses",
        required,
        bought_s + bought_d,
        short,
        reason,
        tuple(details),
        cost,
        tuple(unknown),
        "Datacenter" if needs and _fewer_cover(required, coverage) else "",
    )


def _sql(state: ServerState, running: Sequence[VM], *, enterprise_sa: bool) -> ServerLine:
    sql = [vm for vm in running if _has(state, vm, "microsoft", "sql server")]
    by_host: dict[str, list[VM]] = defaultdict(list)
    for vm in sql:
        assert vm.host is not None
        by_host[vm.host].append(vm)
    details = []
    required = 0
    for name in sorted(by_host):
        choice = microsoft.sql_server_per_core(
            state.topology.hosts[name],
            [vm.vcpus for vm in by_host[name]],
            enterprise_with_sa=enterprise_sa,
        )
        required += choice.licenses
        details.append(
            Detail(name, choice.licenses, choice.reason, tuple(vm.name for vm in by_host[name]))
        )
    physical, unknown = _physical(
        state,
        lambda server: _installed(
            state.physical_products.get(server.name, ()), "microsoft", "sql server"
        ),
    )
    for server, host in physical:
        licenses = microsoft.sql_physical_core_licenses(host)
        required += licenses
        details.append(
            Detail(
                server.name,
                licenses,
                f"{server.name}: a physical server, all its {plural(host.cores, 'core')} "
                f"({plural(host.sockets, 'processor')}, at least 4 cores each): "
                f"{licenses:,} core licenses.",
            )
        )
    bought = sum(
        p.quantity for p in state.purchases if "sql server" in p.words and p.metric == "per_core"
    )
    vms = (
        f"{plural(len(sql), 'running VM')} with SQL Server installed"
        if sql
        else "No running VM has SQL Server installed"
    )
    reason = (
        f"{vms}, per core: {plural(required, 'core license')}; {bought:,} bought"
        + (", Enterprise with Software Assurance" if enterprise_sa else "")
        + "."
        + _physical_words([server.name for server, _ in physical], unknown)
    )
    return ServerLine(
        SQL,
        SQL,
        "core licenses",
        required,
        bought,
        max(required - bought, 0),
        reason,
        tuple(details),
        unknown=tuple(unknown),
    )


def _oracle(state: ServerState, reach: Reach) -> list[ServerLine]:
    table = shipped_core_factors()
    per_product: dict[tuple[str, int], list[VM]] = defaultdict(list)
    for vm in state.topology.vms:  # installed counts, running or not (Oracle's word)
        for vendor, product, product_id in state.products.get(vm.name, ()):
            if vendor.casefold().startswith("oracle"):
                per_product[(product, product_id)].append(vm)
    on_physical = _physical_by_product(state, "oracle")
    lines = []
    for product, product_id in sorted({*per_product, *on_physical}):
        vms = per_product.get((product, product_id), [])
        physical, unknown = on_physical.get((product, product_id), ([], []))
        try:
            requirement = oracle.oracle_requirement(
                vms, state.topology, table, reach, [host for _, host in physical]
            )
        except ValueError as exc:  # the vCenter of a host is not recorded
            lines.append(ServerLine(ORACLE, product, "processors", 0, 0, 0, str(exc)))
            continue
        bought = sum(
            p.quantity
            for p in state.purchases
            if p.product_id == product_id and p.metric in {"per_processor", "per_core"}
        )  # per core purchases of Oracle carry the core factor: their quantity is processors
        behind = _oracle_vms(vms, state.topology)
        details = tuple(
            Detail(
                label,
                cores,
                f"{plural(cores, 'core')} × {factor:f} = {(cores * factor).normalize():f} "
                "processors (before the sum is rounded up)",
                behind(label),
            )
            for label, cores, factor in requirement.cores
        )
        where = sorted([*(vm.name for vm in vms), *(server.name for server, _ in physical)])
        reason = (
            f"{product_title(ORACLE, product)} installed on "
            f"{_names(where) or 'no server whose cores are known'}: "
            f"{requirement.reason} {bought:,} bought."
            + _physical_words([server.name for server, _ in physical], unknown)
        )
        lines.append(
            ServerLine(
                ORACLE,
                product,
                "processors",
                requirement.processors,
                bought,
                max(requirement.processors - bought, 0),
                reason,
                details,
                unknown=tuple(unknown),
            )
        )
    return lines


def _oracle_vms(vms: Sequence[VM], topology: Topology) -> Callable[[str], tuple[str, ...]]:
    """The Oracle VMs behind a host counted whole (those of its cluster, or on it alone), by the
    host's name; a hard partition's label names its VMs, a physical server has none.  Indexed
    once: a cluster of many hosts and VMs is not scanned per host."""
    by_cluster: dict[str, list[str]] = defaultdict(list)
    by_host: dict[str, list[str]] = defaultdict(list)
    for vm in vms:
        if vm.cluster is not None:
            by_cluster[vm.cluster].append(vm.name)
        elif vm.host is not None:
            by_host[vm.host].append(vm.name)

    def behind(label: str) -> tuple[str, ...]:
        host = topology.hosts.get(label)
        if host is None:
            return ()
        found = {
            *by_host.get(label, ()),
            *(by_cluster.get(host.cluster, ()) if host.cluster else ()),
        }
        return tuple(sorted(found))

    return behind


def _physical_by_product(
    state: ServerState, vendor_prefix: str
) -> dict[tuple[str, int], tuple[list[tuple[PhysicalServer, Host]], list[str]]]:
    """Per product of a vendor, the physical servers it is installed on: those whose cores are
    known, with the host the rules count, and the names of the others."""
    found: dict[tuple[str, int], tuple[list[tuple[PhysicalServer, Host]], list[str]]] = {}
    for server in state.physical:
        for vendor, product, product_id in state.physical_products.get(server.name, ()):
            if not vendor.casefold().startswith(vendor_prefix):
                continue
            counted, unknown = found.setdefault((product, product_id), ([], []))
            host = server.host
            if host is None:
                unknown.append(server.name)
            else:
                counted.append((server, host))
    return found


def _ibm(state: ServerState, running: Sequence[VM]) -> list[ServerLine]:
    table = shipped_pvu_table()
    topology = state.topology
    per_product: dict[tuple[str, int], set[str]] = defaultdict(set)
    for vm_name, found in state.products.items():
        for vendor, product, product_id in found:
            if vendor.casefold().startswith("ibm"):
                per_product[(product, product_id)].add(vm_name)
    on_physical = _physical_by_product(state, "ibm")
    moments = sorted({stint.start for stint in state.history})
    now = dt.datetime.combine(state.as_of, dt.time.max, tzinfo=dt.UTC)
    lines = []
    for product, product_id in sorted({*per_product, *on_physical}):
        names = per_product.get((product, product_id), set())
        physical, unknown = on_physical.get((product, product_id), ([], []))
        samples = []
        for moment in moments:
            pairs = tuple(
                (VM(s.vm, s.vcpus, s.host), topology.hosts[s.host])
                for s in state.history
                if s.vm in names
                and s.host in topology.hosts
                and s.start <= moment
                and (s.end is None or s.end > moment)
            )
            samples.append(ibm.Sample(moment, pairs))
        current = tuple(
            (vm, topology.hosts[vm.host])
            for vm in running
            if vm.name in names and vm.host is not None
        )
        samples.append(ibm.Sample(now, current))
        peak = ibm.pvu_peak(samples, table)
        # A physical server counts full capacity at every moment: it adds to every sample alike.
        full = [ibm.pvu_full_capacity(host, table) for _, host in physical]
        pvus = peak.pvus + sum(count.pvus or 0 for count in full)
        unrated = [*peak.unrated, *(count.host for count in full if count.pvus is None)]
        bought = sum(p.quantity for p in state.purchases if p.product_id == product_id)
        when = (
            f"on {peak.at:%Y-%m-%d}"
            if peak.at is not None and peak.at != now and peak.pvus
            else "now"
        )
        title = product_title(IBM, product)
        reason = (
            (
                f"{title} on {plural(len(names), 'VM')}: sub-capacity peak of the last "
                f"{IBM_PERIOD_DAYS} days {peak.pvus:,} PVUs ({when}, by the {table.info.cited})"
                if names
                else f"{title} on no VM (by the {table.info.cited})"
            )
            + (
                f"; {plural(len(full), 'physical server')} at full capacity "
                f"{pvus - peak.pvus:,} PVUs; {pvus:,} PVUs in all"
                if full
                else ""
            )
            + f"; {bought:,} bought."
        )
        if unrated:
            reason += f" Not counted, processor not rated: {', '.join(unrated)}."
        reason += _physical_words([], unknown)
        details = tuple(
            Detail(count.host, count.pvus or 0, count.reason) for count in (*peak.servers, *full)
        )
        lines.append(
            ServerLine(
                IBM,
                product,
                "PVUs",
                pvus,
                bought,
                max(pvus - bought, 0),
                reason,
                details,
                unknown=tuple(unknown),
            )
        )
    return lines


def _rhel(state: ServerState, running: Sequence[VM]) -> ServerLine:
    rhel = [vm for vm in running if _runs_rhel(vm)]
    bought = [p for p in state.purchases if "red hat enterprise linux" in p.words]
    vdc = [p for p in bought if "virtual datacenter" in p.words]
    pairs = [p for p in bought if "virtual datacenter" not in p.words]
    pair_price, _ = _price(pairs, "rhel_pair")
    vdc_price, _ = _price(vdc, "rhel_vdc")
    by_host: dict[str, list[str]] = defaultdict(list)
    for vm in rhel:
        assert vm.host is not None
        by_host[vm.host].append(vm.name)
    needs = []
    details = []
    required = 0
    cost = Decimal(0)
    for name in sorted(by_host):
        host = state.topology.hosts[name]
        choice = redhat.cheapest_guest_subscriptions(
            host, len(by_host[name]), pair_price, vdc_price
        )
        count = (
            choice.virtual_datacenter if choice.virtual_datacenter_chosen else choice.per_guest_pair
        )
        required += count
        cost += choice.cost
        needs.append(
            HostNeed(
                name,
                choice.per_guest_pair,
                choice.virtual_datacenter,
                choice.virtual_datacenter_chosen,
            )
        )
        details.append(Detail(name, count, choice.reason, tuple(sorted(by_host[name]))))
    physical, unknown = _physical(state, _runs_rhel)
    for server, host in physical:
        count = redhat.socket_pair_subscriptions(host)
        required += count
        cost += count * pair_price
        needs.append(HostNeed(server.name, count, 0))
        details.append(
            Detail(
                server.name,
                count,
                f"{server.name}: a physical server running {server.os}, "
                f"{plural(host.sockets, 'socket')}: {plural(count, 'subscription')}, one per "
                "socket pair (virtual datacenter subscriptions cover guests, not it).",
            )
        )
    coverage = cover(needs, sum(p.quantity for p in pairs), sum(p.quantity for p in vdc))
    vms = (
        f"{plural(len(rhel), 'running RHEL VM')}: {plural(required, 'subscription')} at the "
        "cheaper kind per host"
        if rhel
        else f"No RHEL VM runs on a hypervisor host: {plural(required, 'subscription')}"
    )
    reason = (
        _covered_with_fewer(
            required,
            coverage,
            "the cheaper kind of subscription on each host and server",
            "virtual datacenter subscriptions",
            "per-two-guests subscriptions",
        )
        + f"{vms}; with what was bought ({coverage.per_vm_bought:,} per two guests, "
        f"{coverage.unlimited_bought:,} virtual datacenter), {coverage.short:,} short"
        + (
            f" ({coverage.unlimited_short:,} of them virtual datacenter, the cheaper kind on "
            f"{plural(len(coverage.unlimited_needed_hosts), 'host')})."
            if coverage.unlimited_short
            else "."
        )
        + _physical_words([server.name for server, _ in physical], unknown)
    )
    return ServerLine(
        RHEL,
        RHEL,
        "subscriptions",
        required,
        coverage.per_vm_bought + coverage.unlimited_bought,
        coverage.short if needs else 0,
        reason,
        tuple(details),
        cost,
        tuple(unknown),
        "virtual datacenter" if needs and _fewer_cover(required, coverage) else "",
    )


def _reassignments(state: ServerState) -> list[str]:
    """Microsoft's 90-day rule over the stored history of Windows Server and SQL Server VMs."""
    licensed = {
        vm.name
        for vm in state.topology.vms
        if _runs_windows(vm) or _has(state, vm, "microsoft", "sql server")
    }
    stints: dict[str, int] = defaultdict(int)
    for stint in state.history:
        stints[stint.vm] += 1
    history = [  # a VM seen in one placement has not moved
        Placement(s.vm, s.host, s.start, s.end)
        for s in state.history
        if stints[s.vm] > 1 and s.vm in licensed
    ]
    return [found.reason for found in microsoft.reassignments_too_soon(history)]
