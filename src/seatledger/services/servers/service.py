"""The server licensing service: topology imports, the server position and its what-if."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from seatledger.services.core.context import Context
from seatledger.services.servers import importing
from seatledger.services.servers.importing import TopologyPreview, TopologyResult, TopologySource


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
