"""The small demo's virtual infrastructure, imported as an administrator's RVTools export would be.

The demo's ESXi servers become hosts in three clusters, one a region, and its Windows and Linux
application and database servers run on them as virtual machines of the same names (the largest,
of 64 cores, stay physical servers), so the Servers page shows what Windows Server, SQL Server,
Oracle and Red Hat require on hosts whose VMs hold the demo's own installs.  The export is
written as RVTools' CSV files ("Export all to csv": vInfo, vHost and vCluster) into a temporary
folder and imported through the same service as a real one: one transaction, one ledger entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from seatledger.demo.inventory import after_last_entry
from seatledger.progress import Progress
from seatledger.services.core.context import Context
from seatledger.services.servers.importing import TopologySource
from seatledger.services.servers.service import ServerService
from seatledger.store.db import Database
from seatledger.store.models import Device

VCENTER = "vc01.corp.example"
DATACENTER = "DC-Main"
# A site's region: the cluster its hosts form and its servers run in.
REGIONS = {
    "ams": "EU-Prod",
    "ber": "EU-Prod",
    "lon": "EU-Prod",
    "muc": "EU-Prod",
    "par": "EU-Prod",
    "nyc": "US-Prod",
    "sfo": "US-Prod",
    "sin": "APAC-Prod",
    "syd": "APAC-Prod",
    "tyo": "APAC-Prod",
}
_GUESTS = ("app-", "db-")  # the demo's server name prefixes that run as VMs ...
BARE_METAL = 64  # ... but for the largest, which run on their own hardware
_VINFO = (
    "VM",
    "Powerstate",
    "Template",
    "SRM Placeholder",
    "CPUs",
    "Memory",
    "Datacenter",
    "Cluster",
    "Host",
    "OS according to the configuration file",
    "OS according to the VMware Tools",
    "VM UUID",
    "VI SDK Server",
)
_VHOST = (
    "Host",
    "Datacenter",
    "Cluster",
    "CPU Model",
    "# CPU",
    "Cores per CPU",
    "# Cores",
    "ESX Version",
    "VI SDK Server",
)
_VCLUSTER = ("Name", "NumHosts", "NumCpuCores", "VI SDK Server")


def _region(hostname: str) -> str | None:
    parts = hostname.split("-")
    return REGIONS.get(parts[1]) if len(parts) > 2 else None


def _guest_os(os: str) -> str:
    """The OS as vSphere names it in a VM's configuration."""
    if os.startswith("Windows Server"):
        return f"Microsoft {os.rsplit(' ', 1)[0]} (64-bit)"
    if os.startswith("Red Hat"):
        major = os.rsplit(maxsplit=1)[-1].split(".", maxsplit=1)[0]
        return f"Red Hat Enterprise Linux {major} (64-bit)"
    return os


def _write(path: Path, header: tuple[str, ...], rows: Sequence[tuple[object, ...]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def add_servers(database: Database, size: str, report: Progress) -> str:
    """Import the small demo's hosts, clusters and VMs; a summary ('' for other sizes, whose
    benchmark figures must not change)."""
    if size != "small":
        return ""
    admin, last = after_last_entry(database)
    # Right after the demo's last entry, as the inventory's imports are dated.
    taken = last + dt.timedelta(seconds=1)
    ctx = Context(database, admin, lambda: taken)
    with database.read() as session:
        servers = session.execute(
            select(
                Device.hostname, Device.processors, Device.cores, Device.os, Device.processor_model
            )
            .where(Device.owner_id.is_(None))
            .order_by(Device.hostname)
        ).all()
    hosts: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for name, sockets, cores, os, model in servers:
        cluster = _region(name)
        if name.startswith("esx-") and cluster and sockets and cores:
            host = f"{name}.corp.example"
            per = cores // sockets
            fitted = (host, DATACENTER, cluster, model or "", sockets, per, per * sockets)
            hosts[cluster].append((*fitted, os, VCENTER))
    rows: list[tuple[object, ...]] = []
    placed: dict[str, int] = defaultdict(int)
    for name, _sockets, cores, os, _model in servers:
        cluster = _region(name)
        if not name.startswith(_GUESTS) or cluster not in hosts or (cores or 0) >= BARE_METAL:
            continue
        members = hosts[cluster]
        runs_on = members[placed[cluster] % len(members)][0]  # round-robin, as DRS might leave them
        placed[cluster] += 1
        guest = _guest_os(os)
        number = len(rows) + 1
        uuid = f"4210{number:04d}-3c5e-7a9b-1d2f-8e6c5b4a{number:04d}"
        vcpus = min(cores or 4, 16)
        vm = (name, "poweredOn", "False", "False", vcpus, 16384, DATACENTER, cluster, runs_on)
        rows.append((*vm, guest, guest, uuid, VCENTER))
    clusters: list[tuple[object, ...]] = [
        (cluster, len(members), sum(int(str(row[6])) for row in members), VCENTER)
        for cluster, members in sorted(hosts.items())
    ]
    report.stage("Servers")
    report(0, 1)
    with tempfile.TemporaryDirectory(prefix="seatledger-demo-rvtools-") as folder:
        where = Path(folder)
        paths = [
            _write(where / "RVTools_tabvInfo.csv", _VINFO, rows),
            _write(where / "RVTools_tabvHost.csv", _VHOST, [r for m in hosts.values() for r in m]),
            _write(where / "RVTools_tabvCluster.csv", _VCLUSTER, clusters),
        ]
        ServerService(ctx).import_topology(paths, TopologySource.RVTOOLS, taken_at=taken)
    report(1, 1)
    count = sum(len(members) for members in hosts.values())
    return f"{count} hosts in {len(hosts)} clusters running {len(rows)} VMs"
