"""Writing an audit report bundle (see :mod:`seatledger.services.bundle` for what it holds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from seatledger.services.bundle.model import BundleResult, Progress, ReportInput
from seatledger.services.context import Context

if TYPE_CHECKING:
    from seatledger.services.signing import SigningIdentity


def write_bundle(
    ctx: Context,
    report: ReportInput,
    identity: SigningIdentity,
    out_dir: Path,
    progress: Progress | None = None,
) -> BundleResult:
    """Write the bundle for ``report`` into ``out_dir`` and return where and what it signed.

    Raises:
        Cancelled: ``progress`` returned False; nothing is left behind.
        KnownError: the folder cannot be written, or the ledger does not verify.
    """
    raise NotImplementedError("the bundle writer lands next")
