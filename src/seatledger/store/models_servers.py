"""Server topology: hosts, VMs and where each VM ran, as the hypervisor exports said them.

What server licensing counts (``seatledger.domain.server``).  ``server_host`` and ``server_vm``
hold the newest export's word on each host and VM (a later export of the same hosts replaces
it); ``server_placement`` keeps the history: one row per stretch of time a running VM was seen on
one host with the same virtual CPUs, opened by the export that first showed it there and closed
by the first that did not.  The history is what the 90-day reassignment rule and IBM's peak over
a period are computed from.  Rows are written by topology imports only, each one ledger entry
(``import.topology``) with the file's SHA-256 and counts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seatledger.store.base import Base

__all__ = ["HOST_FIELDS", "VM_FIELDS", "Base", "ServerHost", "ServerPlacement", "ServerVm"]

# The fields a topology import writes of a host (after its name) and of a VM (after its
# identity), in the order its ledger entry records them (``after["server_rows"]``) and the
# ledger's replay reads them back.
HOST_FIELDS = (
    "sockets",
    "cores_per_socket",
    "processor_model",
    "cluster",
    "max_sockets",
    "vcenter",
)
VM_FIELDS = ("name", "vcpus", "host", "cluster", "power", "os")


class ServerHost(Base):
    """A physical server: sockets × cores per socket, its processor model and cluster."""

    __tablename__ = "server_host"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    sockets: Mapped[int] = mapped_column(Integer)
    cores_per_socket: Mapped[int] = mapped_column(Integer)
    processor_model: Mapped[str | None] = mapped_column(String(200))
    cluster: Mapped[str | None] = mapped_column(String(255), index=True)
    max_sockets: Mapped[int | None] = mapped_column(Integer)  # the server model's, where known
    vcenter: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))  # rvtools or hyperv
    import_id: Mapped[int] = mapped_column(Integer)  # the last import that listed it
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ServerVm(Base):
    """A virtual machine as the newest export that listed it said (running or not)."""

    __tablename__ = "server_vm"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(300), unique=True)  # uuid:… or name:…
    name: Mapped[str] = mapped_column(String(255), index=True)
    vcpus: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255), index=True)
    cluster: Mapped[str | None] = mapped_column(String(255))
    power: Mapped[str] = mapped_column(String(16))
    os: Mapped[str] = mapped_column(String(300), default="")
    hard_partition_cores: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ServerPlacement(Base):
    """One stretch of time a running VM was seen on one host; ``ended`` None while it still is."""

    __tablename__ = "server_placement"
    __table_args__ = (
        Index("ix_server_placement_vm", "vm_identity", "started"),
        Index("ix_server_placement_span", "started", "ended"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vm_identity: Mapped[str] = mapped_column(String(300))
    vm_name: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    vcpus: Mapped[int] = mapped_column(Integer)
    started: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    import_id: Mapped[int] = mapped_column(Integer)  # the import that opened it
