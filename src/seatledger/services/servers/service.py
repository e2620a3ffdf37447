"""The server licensing service: topology imports, the server position and its what-if."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from seatledger.services.core.context import Context
from seatledger.services.servers import importing, position
from seatledger.services.servers.importing import TopologyPreview, TopologyResult, TopologySource
from seatledger.services.servers.position import ServerPosition, ServerState, WhatIf


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

    def position(
        self, as_of: dt.date | None = None, whatif: WhatIf | None = None
    ) -> ServerPosition:
        """The server position on ``as_of`` (today), after ``whatif`` where one is given; the
        what-if is computed, never written.

        Raises:
            ValueError: the what-if names a VM or host that does not exist, or cannot be done.
        """
        return position.compute(self.state(as_of), whatif)

    def state(self, as_of: dt.date | None = None) -> ServerState:
        """What the position is computed from (one read), for screens that try many what-ifs."""
        day = as_of or self._ctx.clock().date()
        with self._ctx.read() as session:
            return position.load_state(session, day)
