"""Audit report bundles: a signed folder (and a zip of it) a vendor verifies offline.

API used by the audit workflow::

    from seatledger.services.audits.bundle import ReportInput, write_bundle
    from seatledger.services.audits.signing import SigningService

    identity = SigningService(ctx).unlock_or_create(passphrase, organization)
    result = write_bundle(ctx, report, identity, out_dir, progress)
    # result.folder, result.zip_path, result.checkpoint (size, head), result.manifest_sha256

``write_bundle(ctx, report, identity, out_dir, progress=None) -> BundleResult`` writes
``out_dir/<name>/`` and ``out_dir/<name>.zip`` where ``<name>`` is
``audit-<id>-<vendor>-<as-of>``, and returns the checkpoint it took (store it with the audit:
the next report for the same vendor passes it as ``ReportInput.previous``).  It reads only; it
never appends to the ledger (the caller records "report signed" with the checkpoint afterwards,
in its own change).  ``progress(done, total)`` (a :class:`~seatledger.progress.Progress`) is
called along the way; cancelling it raises :class:`~seatledger.errors.Cancelled` and leaves no
partial bundle.  Run it off the GUI thread (``ui.tasks``).

The bundle holds:

- ``report.pdf``: the human report, signed PAdES with the identity's ECDSA P-256 key;
- ``report.json``: the same, machine-readable (``docs/report-schema.md``, versioned);
- ``entitlements.csv``, ``deployments.csv``, ``seat-assignments.csv``, ``findings.csv``;
- ``sources.csv``: per product, the imports its figures rest on (file, SHA-256) and their lines;
- ``ledger.jsonl``: the ledger entries about the vendor (see :mod:`.disclosure`), bodies as the
  exact hashed bytes; ``ledger.proof``: their Merkle multiproof against the checkpoint's root;
- ``SHA256SUMS``: the files' hashes in ``sha256sum -c`` format; ``VERIFY.txt``: how to check the
  bundle with stock tools;
- ``manifest.json``: SHA-256 and size of every other file, the checkpoint (size, head, Merkle
  root), the previous checkpoint with the consistency proof from it, and the identity's
  fingerprints; ``manifest.sig``: the raw Ed25519 signature of
  manifest.json's exact bytes; ``signing-key.pub.pem``: the Ed25519 public key;
  ``signing-cert.pem``: the PDF signing certificate;
- ``verify_bundle.py``: a standalone verifier (the standard library alone; ``cryptography``
  where installed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seatledger.services.audits.bundle.model import (
    Acknowledgement,
    Attestation,
    BundleResult,
    Chart,
    Checkpoint,
    Decision,
    ReportFinding,
    ReportInput,
    Resolution,
    Scope,
    Trigger,
)

if TYPE_CHECKING:
    from seatledger.services.audits.bundle.writer import write_bundle


def __getattr__(name: str) -> Any:
    """``write_bundle`` imported on first use: the writer pulls in cryptography, reportlab
    and pyHanko, which start-up (and every page but the audit wizard) does without."""
    if name == "write_bundle":
        from seatledger.services.audits.bundle.writer import write_bundle  # noqa: PLC0415

        return write_bundle
    raise AttributeError(name)


__all__ = [
    "Acknowledgement",
    "Attestation",
    "BundleResult",
    "Chart",
    "Checkpoint",
    "Decision",
    "ReportFinding",
    "ReportInput",
    "Resolution",
    "Scope",
    "Trigger",
    "write_bundle",
]
