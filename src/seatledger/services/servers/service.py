"""The server licensing service: topology imports, the server position and its what-if."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from seatledger.domain.roles import Permission
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services.core.context import Context
from seatledger.services.servers import importing, position, statements
from seatledger.services.servers.importing import TopologyPreview, TopologyResult, TopologySource
from seatledger.services.servers.position import ServerLine, ServerPosition, ServerState, WhatIf
from seatledger.services.servers.statements import (
    StatementKind,
    StatementPreview,
    StatementResult,
)
from seatledger.store.models import Product, Vendor
from seatledger.store.models_servers import ServerHost, ServerVm


class ServerService:
    """Imports hypervisor exports and reads the server position."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def preview_import(self, paths: Sequence[Path], source: TopologySource) -> TopologyPreview:
        """Read an export whole and name every problem; write nothing (the dry run)."""
        return importing.preview_topology(self._ctx, paths, source)

    def import_topology(
        self,
        paths: Sequence[Path],
        source: TopologySource,
        *,
        taken_at: dt.datetime | None = None,
    ) -> TopologyResult:
        """Store an export: one transaction, one ledger entry, or nothing when it has problems."""
        return importing.import_topology(self._ctx, paths, source, taken_at=taken_at)

    def preview_statement(
        self, path: Path, kind: StatementKind = StatementKind.MLS
    ) -> StatementPreview:
        """Read a vendor statement (a Microsoft License Statement, an ILMT audit snapshot)
        whole and name every problem; write nothing."""
        return statements.preview_statement(self._ctx, path, kind)

    def import_statement(
        self, path: Path, kind: StatementKind = StatementKind.MLS
    ) -> StatementResult:
        """Store a vendor statement as evidence (no purchase changes): one transaction, one
        ledger entry, or nothing when it has problems or is older than the newest of its kind
        stored.  Its differences from the purchases and the computed server requirement are
        findings of the server position."""
        return statements.import_statement(self._ctx, path, kind)

    def position(
        self, as_of: dt.date | None = None, whatif: WhatIf | None = None
    ) -> ServerPosition:
        """The server position on ``as_of`` (today), after ``whatif`` where one is given; the
        what-if is computed, never written.

        Raises:
            ValueError: the what-if names a VM or host that does not exist, or cannot be done.
        """
        return position.compute(self.state(as_of), whatif)

    def lines_of(
        self, as_of: dt.date, vendor_id: int | None = None
    ) -> tuple[tuple[ServerLine, ...], tuple[str, ...]] | None:
        """The server lines (and findings) on ``as_of`` of one vendor, or of every vendor: what
        the Reconciliation page shows beside the desktop position.  None when the vendor has no
        server rule (Microsoft, Oracle, IBM and Red Hat do), or there are no servers: no host
        or VM of a hypervisor export, and no physical server in the device inventory."""
        vendor = ""
        own: list[str] = []
        with self._ctx.read() as session:
            if vendor_id is not None:
                vendor = session.scalar(select(Vendor.name).where(Vendor.id == vendor_id)) or ""
                if not position.families_of(vendor):
                    return None
                own = list(
                    session.scalars(select(Product.name).where(Product.vendor_id == vendor_id))
                )
            state = position.load_state(session, as_of)
        if not state.holds_servers:
            return None
        computed = position.compute(state)
        if vendor_id is None:
            return computed.lines, computed.findings
        families = position.families_of(vendor)
        lines = position.in_scope(computed.lines, families, own, [])
        return lines, computed.findings_of(families, lines)

    def state(self, as_of: dt.date | None = None) -> ServerState:
        """What the position is computed from (one read), for screens that try many what-ifs."""
        day = as_of or self._ctx.clock().date()
        with self._ctx.read() as session:
            return position.load_state(session, day)

    def set_hard_partition(self, vm: str, cores: int | None, reason: str) -> None:
        """Record that ``vm`` runs in an approved hard partition pinned to ``cores`` physical
        cores (None: it does not), with the reason (the partitioning technology, the evidence);
        one ledger entry.  The hypervisor exports never say it (VMware's and Hyper-V's CPU
        affinity is not hard partitioning), so it is recorded by hand, and later imports keep it.

        Raises:
            NotFoundError: no VM has that name.
            ValidationError: no reason, fewer than 1 core, or more cores than its host has.
        """
        if not reason.strip():
            raise ValidationError("Say why (the partitioning technology and its evidence).")
        if cores is not None and cores < 1:
            raise ValidationError("A hard partition is pinned to 1 core or more.")
        with self._ctx.change(
            Permission.EDIT_DIRECTORY,
            "server.hard_partition",
            "server_vm",
            "record hard partitions",
            reason,
        ) as change:
            rows = list(change.session.scalars(select(ServerVm).where(ServerVm.name == vm)))
            if not rows:
                raise NotFoundError(f"There is no VM named {vm}.")
            if len(rows) > 1:
                raise ValidationError(f"{len(rows)} VMs are named {vm}; rename one first.")
            row = rows[0]
            host = change.session.scalar(select(ServerHost).where(ServerHost.name == row.host))
            if cores is not None and host is not None:
                total = host.sockets * host.cores_per_socket
                if cores > total:
                    raise ValidationError(
                        f"{vm} cannot be pinned to {cores} cores: {row.host} has {total}."
                    )
            change.entity_id = str(row.id)
            change.before = {"vm": vm, "hard_partition_cores": row.hard_partition_cores}
            row.hard_partition_cores = cores
            change.after = {
                "vm": vm,
                "identity": row.identity,
                "host": row.host,
                "hard_partition_cores": cores,
            }
