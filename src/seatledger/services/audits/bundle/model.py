"""The typed input of an audit report bundle and what writing one returns.

The audit workflow builds a :class:`ReportInput` from its records (scope, trigger, findings and
their resolutions, acknowledgements, attestation) and hands it to
:func:`seatledger.services.audits.bundle.write_bundle`; nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from seatledger.services.position.engine import Finding, PositionRow

if TYPE_CHECKING:
    from seatledger.services.audits.servers import ServerSection


class Trigger(StrEnum):
    """Why an audit was started."""

    SCHEDULED = "scheduled"
    SUSPICION = "suspicion"
    VENDOR_REQUEST = "vendor_request"

    @property
    def label(self) -> str:
        """The trigger as shown."""
        return {
            Trigger.SCHEDULED: "Scheduled",
            Trigger.SUSPICION: "On suspicion",
            Trigger.VENDOR_REQUEST: "Vendor request",
        }[self]


class Decision(StrEnum):
    """How a finding was resolved in the audit."""

    ACCEPT = "accept"
    REMEDIATE = "remediate"
    DISPUTE = "dispute"
    OPEN = "open"

    @property
    def label(self) -> str:
        """The decision as shown."""
        return {
            Decision.ACCEPT: "Accepted",
            Decision.REMEDIATE: "To remediate",
            Decision.DISPUTE: "Disputed",
            Decision.OPEN: "Open",
        }[self]


@dataclass(frozen=True, slots=True)
class Scope:
    """What the audit covers, by name (names are unique in SeatLedger).

    ``products`` empty means every product of the vendor; ``teams`` empty means everyone.
    """

    vendor: str
    products: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    """The decision taken on one finding; ``decision`` OPEN when the audit left it open."""

    decision: Decision = Decision.OPEN
    explanation: str = ""
    owner: str = ""  # who remediates (REMEDIATE)
    due: dt.date | None = None  # by when (REMEDIATE)
    decided_by: str = ""  # operator name
    decided_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportFinding:
    """A finding of the position and its resolution."""

    finding: Finding
    resolution: Resolution = field(default_factory=Resolution)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A data-freshness warning and who acknowledged it (e.g. inventory 40 days old).

    A warning nobody acknowledged is passed with ``acknowledged_by`` empty and
    ``acknowledged_at`` None: the report lists it as NOT acknowledged.
    """

    topic: str  # "inventory", "usage", "unmatched titles", ...
    warning: str
    acknowledged_by: str
    acknowledged_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Attestation:
    """The named sign-off, with an optional second approver."""

    operator: str
    full_name: str
    statement: str
    at: dt.datetime
    approver: str = ""
    approver_full_name: str = ""
    approved_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    """A PNG chart to place in the report, with its caption."""

    path: Path
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A ledger checkpoint: the number of entries, the hash of the last one and the Merkle root
    of them all (hex; empty for a checkpoint recorded before the ledger kept a tree)."""

    size: int
    head: str  # 64 lowercase hex digits
    root: str = ""

    def as_json(self) -> dict[str, int | str]:
        """The checkpoint as it appears in manifest.json and report.json."""
        if not self.root:
            return {"size": self.size, "head": self.head}
        return {"size": self.size, "head": self.head, "root": self.root}


@dataclass(frozen=True, slots=True)
class ReportInput:
    """Everything a report says besides what the bundle reads from the database itself.

    The bundle reads the entitlements, deployments and seat assignments in ``scope`` and the
    ledger up to the checkpoint it takes when writing; the rest comes from here.
    """

    organization: str
    audit_id: int
    title: str
    scope: Scope
    as_of: dt.date
    trigger: Trigger
    trigger_reason: str
    method: str
    positions: Sequence[PositionRow]
    findings: Sequence[ReportFinding]
    acknowledgements: Sequence[Acknowledgement]
    attestation: Attestation
    charts: Sequence[Chart] = ()
    pseudonymize: bool = True
    previous: Checkpoint | None = None  # the last report's checkpoint for this vendor
    shelf_days: int = 90
    created_at: dt.datetime | None = None  # default: now
    servers: ServerSection | None = None  # the vendor's server lines (Microsoft, Oracle, ...)
    # (vendor and product, what its concurrent-use figure rests on: snapshots or a log)
    concurrency_basis: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class Seal:
    """The last check of the whole ledger an export made: every entry up to ``checkpoint``
    verified at ``checked_at`` (recorded with that export's ``audit.sign`` entry).

    A later export within :data:`SEAL_DAYS` checks the entries after it whole, and the entries
    it discloses (with their blocks) again, instead of re-hashing every entry.
    """

    checkpoint: Checkpoint
    checked_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        """How report.json and the ``audit.sign`` entry state it."""
        return {
            "whole_ledger_checked_at": when_iso(self.checked_at),
            "through": self.checkpoint.size,
        }


SEAL_DAYS = 7  # a whole check older than this is made again


def when_iso(moment: dt.datetime) -> str:
    """A moment as report.json writes it: UTC to the second, with a Z (naive is UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat("T", "seconds") + "Z"


@dataclass(frozen=True, slots=True)
class BundleResult:
    """What :func:`write_bundle` wrote."""

    folder: Path
    zip_path: Path
    checkpoint: Checkpoint
    manifest_sha256: str  # hex SHA-256 of the exact manifest.json bytes
    ed25519_fingerprint: str  # hex SHA-256 of the raw Ed25519 public key
    certificate_fingerprint: str  # hex SHA-256 of the DER certificate
    # The whole-ledger check the export rests on: its own (None: it re-hashed every entry),
    # or an earlier export's, from which it checked the newer and the disclosed entries.
    sealed_by: Seal | None = None


class _Signer(Protocol):
    @property
    def ed25519_fingerprint(self) -> str: ...

    @property
    def certificate_fingerprint(self) -> str: ...


def bundle_result(
    out_dir: Path,
    name: str,
    checkpoint: Checkpoint,
    manifest: bytes,
    signer: _Signer,
    *,
    sealed_by: Seal | None = None,
) -> BundleResult:
    """The result of a bundle written as ``out_dir/name`` (and its zip), whose manifest.json
    is ``manifest``, signed by ``signer``."""
    return BundleResult(
        folder=out_dir / name,
        zip_path=out_dir / f"{name}.zip",
        checkpoint=checkpoint,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        ed25519_fingerprint=signer.ed25519_fingerprint,
        certificate_fingerprint=signer.certificate_fingerprint,
        sealed_by=sealed_by,
    )


def json_bytes(value: Any) -> bytes:
    """A bundle's JSON file: indented, UTF-8, keys in the order given, a final newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def manifest_proofs(
    scope: str,
    disclosed: int,
    withheld: int,
    identity: _Signer,
    files: Mapping[str, tuple[str, int]],
) -> dict[str, Any]:
    """The manifest's ``ledger``, ``signing`` and ``files`` sections, the same in every bundle
    (a vendor audit's, an access review campaign's): what the verifier checks and how."""
    # The verifier tries cryptography on import: loaded when a bundle is written, not at start.
    from seatledger.services.audits.bundle import verify_bundle as vb  # noqa: PLC0415

    return {
        "ledger": {
            "file": vb.LEDGER,
            "hash": "sha256",
            "domain_tag": "seatledger/ledger/v1\\0",
            "scope": scope,
            "disclosed": disclosed,
            "withheld": withheld,
            "tree": "RFC 9162 (leaf = SHA-256(0x00 || entry hash), node = SHA-256(0x01 || l || r))",
            "proof": vb.PROOF,
        },
        "signing": {
            "algorithm": "Ed25519",
            "ed25519_public_key_sha256": identity.ed25519_fingerprint,
            "certificate_sha256": identity.certificate_fingerprint,
        },
        "files": [
            {"path": name, "sha256": sha, "size": size}
            for name, (sha, size) in sorted(files.items())
        ],
    }
