"""A closed access review campaign's signed report: a bundle an internal auditor verifies offline.

The same machinery as a vendor audit's bundle (:mod:`seatledger.services.audits.bundle`), and the
same verifier (``seatledger verify``, or the ``verify_bundle.py`` the bundle ships):

- ``report.csv``: every seat of the campaign with its evidence, decision, reviewer, outcome and,
  for a move, the person chosen and the seat they were given (:mod:`.report`);
- ``report.json``: the campaign (scope, reviewers, counts, dates) and the checkpoint;
- ``report.pdf``: a one-page cover saying the same, signed PAdES with the identity's PDF key;
- ``ledger.jsonl`` and ``ledger.proof``: the campaign's own entries (its start, every decision, its
  close, which carries out and names the moves), the releases its close made through the seat
  service, and the signing identities' entries, each with its exact hashed body, and their Merkle
  multiproof to the signed checkpoint.  As in a vendor bundle, an entry whose content names a
  person (a reason typed with a colleague's name), a person's device or an operator's full name is
  disclosed by its hash alone, and proved the same way.  The helper that writes the file checks
  the whole ledger first: a broken ledger is never signed;
- ``SHA256SUMS``, ``VERIFY.txt``, the public key and certificate, ``verify_bundle.py``, and
  ``manifest.json`` (kind ``access-review``) with ``manifest.sig``, its Ed25519 signature.

The CSV names the holders: an internal auditor checks who kept what.  :class:`ReviewReports`
(``Services.review_reports``) checks the role and the campaign, then :func:`write` writes it.
Writing reads only (the identity's creation on first signing aside) and leaves nothing behind
when cancelled or refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from seatledger.domain.ledger import Failure, Problem
from seatledger.domain.reviews import CampaignStatus, Outcome
from seatledger.domain.roles import Permission
from seatledger.errors import KnownError, LedgerIntegrityError, ValidationError
from seatledger.progress import Progress
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.bundle.model import (
    BundleResult,
    Checkpoint,
    bundle_result,
    json_bytes,
    manifest_proofs,
)
from seatledger.services.audits.bundle.tables import when
from seatledger.services.core.context import Context
from seatledger.services.reviews.report import write_csv
from seatledger.services.reviews.service import (
    SIGN,
    CampaignInfo,
    Reviewer,
    ReviewRow,
    ReviewService,
)
from seatledger.store import ledger_store
from seatledger.store.models import Device, LedgerEntry, Operator, Person
from seatledger.store.models_reviews import ReviewCampaign

if TYPE_CHECKING:
    from seatledger.services.audits.bundle.ledger_file import Producer
    from seatledger.services.audits.signing import KdfCost, SigningIdentity

KIND = "access-review"
REPORT_CSV = "report.csv"
REPORT_JSON = "report.json"
VERIFIER = "verify_bundle.py"
_RELEASES = ("seat.release", "seat.bulk_release")


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """What the bundle says of the campaign, read by the review service."""

    campaign: CampaignInfo
    reviewers: Sequence[Reviewer]
    rows: Sequence[ReviewRow]
    closed_on: str  # ISO date
    outcomes: dict[str, int]


class ReviewReports:
    """Closed access review campaigns' signed reports (``Services.review_reports``)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def check(self, campaign_id: int) -> CampaignInfo:
        """The campaign, if the operator may sign its report now (before a passphrase is asked).

        Raises:
            PermissionDenied: the operator is not an administrator.
            ValidationError: the campaign is still open.
            NotFoundError: there is no such campaign.
        """
        self._ctx.require(Permission.MANAGE_REVIEWS, SIGN)
        info = ReviewService(self._ctx).campaign(campaign_id)
        if info.status is not CampaignStatus.CLOSED:
            raise ValidationError(
                f"Campaign {info.name!r} is open; close it before its report is signed."
            )
        return info

    def sign(
        self,
        campaign_id: int,
        *,
        passphrase: str,
        out_dir: Path,
        organization: str = "",
        progress: Progress | None = None,
        kdf: KdfCost | None = None,
    ) -> BundleResult:
        """Write a closed campaign's signed report bundle into ``out_dir`` (administrators).

        Unlocks the signing identity with ``passphrase``, creating it (a ledger entry of its
        own) on first signing.  Writing reads only, off the GUI thread; cancelled or refused,
        it leaves nothing behind.  ``seatledger verify`` verifies the bundle.

        Raises:
            PermissionDenied: the operator is not an administrator (nothing is written).
            ValidationError: the campaign is still open.
            WrongPassphrase: the passphrase does not open the identity.
            Cancelled: ``progress`` was cancelled.
            LedgerIntegrityError: the ledger does not verify (names the first bad entry).
        """
        from seatledger.services.audits.signing import (  # noqa: PLC0415 (cryptography)
            DEFAULT_KDF,
            SigningService,
        )

        info = self.check(campaign_id)
        reviews = ReviewService(self._ctx)
        with self._ctx.read() as session:
            closed_at = session.scalar(
                select(ReviewCampaign.closed_at).where(ReviewCampaign.id == campaign_id)
            )
        rows = reviews.items(campaign_id)
        outcomes: dict[str, int] = {}
        for row in rows:
            key = row.outcome.value if row.outcome else Outcome.UNDECIDED.value
            outcomes[key] = outcomes.get(key, 0) + 1
        if closed_at is not None and closed_at.tzinfo is None:
            closed_at = closed_at.replace(tzinfo=dt.UTC)  # stored without a zone: UTC
        closed_on = closed_at.astimezone().date().isoformat() if closed_at is not None else ""
        identity = SigningService(self._ctx, kdf or DEFAULT_KDF).unlock_or_create(
            passphrase, organization or "SeatLedger"
        )
        report = CampaignReport(info, reviews.reviewers(campaign_id), rows, closed_on, outcomes)
        return write(self._ctx, report, identity, out_dir, progress)


def bundle_name(campaign_id: int, closed_on: str) -> str:
    """``access-review-<id>-<closed on>``."""
    return f"access-review-{campaign_id}-{closed_on}"


def write(
    ctx: Context,
    report: CampaignReport,
    identity: SigningIdentity,
    out_dir: Path,
    progress: Progress | None = None,
) -> BundleResult:
    """Write the campaign's signed bundle (a folder and its zip) into ``out_dir``.

    Raises:
        Cancelled: ``progress`` was cancelled; nothing is left behind.
        LedgerIntegrityError: the ledger does not verify (nothing is signed).
        KnownError: the folder cannot be written, or the bundle exists already.
    """
    from seatledger.services.audits.bundle.ledger_file import Job, Producer  # noqa: PLC0415
    from seatledger.services.audits.bundle.writer import verifier_source  # noqa: PLC0415

    campaign = report.campaign
    name = bundle_name(campaign.id, report.closed_on)
    if (out_dir / name).exists() or (out_dir / f"{name}.zip").exists():
        raise KnownError(f"{out_dir / name} exists already; choose another folder.")
    try:
        staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{name}."))
    except OSError as exc:
        raise KnownError(f"Cannot write in {out_dir}: {exc.strerror}.") from None
    producer: Producer | None = None
    try:
        folder = staging / name
        folder.mkdir()
        with ctx.read() as session:
            size, head, root = ledger_store.checkpoint(session)
            seqs = _disclosed(session, campaign.id, size)
            phrases = _phrases(session)
        checkpoint = Checkpoint(size, head.hex(), root.hex())
        proof = staging / "ledger.proof.part"
        producer = Producer(
            Job(
                ctx.db.url,
                str(folder / vb.LEDGER),
                size,
                checkpoint.head,
                checkpoint.root,
                seqs,
                phrases,
                str(proof),
            )
        )
        withheld = _await(producer, size, progress)
        (folder / vb.PROOF).write_bytes(proof.read_bytes() if size else b"")
        proof.unlink(missing_ok=True)
        write_csv(report.rows, folder / REPORT_CSV)
        document = _document(
            report, identity, checkpoint, disclosed=len(seqs), withheld=withheld, now=ctx.clock()
        )
        (folder / REPORT_JSON).write_bytes(json_bytes(document))
        from seatledger.services.audits.bundle.pdf import sign_report  # noqa: PLC0415

        (folder / vb.REPORT_PDF).write_bytes(sign_report(_cover(document), identity))
        (folder / vb.PUBLIC_KEY).write_bytes(identity.public_key_pem)
        (folder / vb.CERTIFICATE).write_bytes(identity.certificate_pem)
        (folder / VERIFIER).write_bytes(verifier_source())
        (folder / vb.VERIFY_TXT).write_bytes(_verify_text(checkpoint).encode())
        files = {
            path.name: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
            for path in sorted(folder.iterdir())
        }
        sums = "".join(f"{sha}  {n}\n" for n, (sha, _size) in sorted(files.items())).encode()
        (folder / vb.SUMS).write_bytes(sums)
        files[vb.SUMS] = (hashlib.sha256(sums).hexdigest(), len(sums))
        manifest = _manifest(document, identity, checkpoint, files)
        (folder / vb.MANIFEST).write_bytes(manifest)
        (folder / vb.SIGNATURE).write_bytes(identity.sign(manifest))
        if progress is not None:
            progress(size + 1, size + 1)
        with zipfile.ZipFile(staging / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, f"{name}/{path.name}")
        folder.rename(out_dir / name)
        (staging / f"{name}.zip").rename(out_dir / f"{name}.zip")
    finally:
        if producer is not None:
            producer.stop()
        shutil.rmtree(staging, ignore_errors=True)
    return bundle_result(out_dir, name, checkpoint, manifest, identity)


def _await(producer: Producer, size: int, progress: Progress | None) -> int:
    """Wait for the helper's verdict on the ledger; returns how many entries it withheld."""
    while True:
        message = producer.receive()
        kind = message[0]
        if kind == "progress":
            if progress is not None:
                progress(int(message[1]), size + 1)
            continue
        if kind == "done":
            return int(message[3])
        if kind == "failed":
            failure = Failure(int(message[1]), Problem[str(message[2])], str(message[3]))
            raise LedgerIntegrityError(
                "The activity ledger does not verify, so no report is signed: "
                f"{failure.message()}. Run 'seatledger ledger verify'.",
                failure.seq,
            )
        raise KnownError(f"Cannot write {vb.LEDGER}: {message[1]}")


def _disclosed(session: Any, campaign_id: int, size: int) -> list[int]:
    """The campaign's entries, the releases its close made, and the signing identities'."""
    own = list(
        session.execute(
            select(LedgerEntry.seq, LedgerEntry.action).where(
                LedgerEntry.entity_type == "review_campaign",
                LedgerEntry.entity_id == str(campaign_id),
                LedgerEntry.seq <= size,
            )
        ).all()
    )
    seqs = {int(seq) for seq, _action in own}
    closed = [int(seq) for seq, action in own if action == "review.close"]
    if seqs and closed:
        # The close's releases: between its start and its close, with the reason it gives them.
        prefix = f"Access review #{campaign_id} "
        for seq, body in session.execute(
            select(LedgerEntry.seq, LedgerEntry.body).where(
                LedgerEntry.action.in_(_RELEASES),
                LedgerEntry.seq > min(seqs),
                LedgerEntry.seq < max(closed),
            )
        ):
            try:
                reason = str(json.loads(bytes(body)).get("what", {}).get("reason", ""))
            except (ValueError, AttributeError):
                continue
            if reason.startswith(prefix):
                seqs.add(int(seq))
    seqs.update(
        int(seq)
        for seq in session.scalars(
            select(LedgerEntry.seq).where(
                LedgerEntry.entity_type == "signing_identity", LedgerEntry.seq <= size
            )
        )
    )
    return sorted(seqs)


def _phrases(session: Any) -> list[str]:
    """What withholds an entry's content, as in a vendor bundle: people's names, e-mail
    addresses and employee numbers, their devices' host names, operators' full names."""
    found: list[str] = []
    for row in session.execute(select(Person.name, Person.email, Person.employee_id)):
        found.extend(value for value in row if value)
    found.extend(session.scalars(select(Device.hostname).where(Device.owner_id.is_not(None))))
    found.extend(name for name in session.scalars(select(Operator.full_name)) if name)
    return found


def _document(
    report: CampaignReport,
    identity: SigningIdentity,
    checkpoint: Checkpoint,
    *,
    disclosed: int,
    withheld: int,
    now: dt.datetime,
) -> dict[str, Any]:
    campaign = report.campaign
    return {
        "schema": "seatledger-access-review/1",
        "kind": KIND,
        "organization": identity.organization,
        "campaign": {
            "id": campaign.id,
            "name": campaign.name,
            "due_on": campaign.due_on.isoformat(),
            "recurrence": campaign.recurrence.value,
            "created_by": campaign.created_by,
            "closed_by": campaign.closed_by,
            "closed_on": report.closed_on,
        },
        "reviewers": [{"team": r.team, "operator": r.operator} for r in report.reviewers],
        "seats": len(report.rows),
        "outcomes": report.outcomes,
        "created_at": when(now),
        "checkpoint": checkpoint.as_json(),
        "ledger": {"disclosed": disclosed, "withheld": withheld},
    }


def _manifest(
    document: dict[str, Any],
    identity: SigningIdentity,
    checkpoint: Checkpoint,
    files: dict[str, tuple[str, int]],
) -> bytes:
    campaign = document["campaign"]
    return json_bytes(
        {
            "format": vb.FORMAT,
            "kind": KIND,
            "organization": identity.organization,
            "campaign_id": campaign["id"],
            "title": f"Access review #{campaign['id']}: {campaign['name']}",
            "as_of": campaign["closed_on"],
            "created_at": document["created_at"],
            "checkpoint": checkpoint.as_json(),
            "previous_checkpoint": None,
            **manifest_proofs(
                "the campaign's entries, the releases its close made, the signing identities "
                "(see VERIFY.txt)",
                document["ledger"]["disclosed"],
                document["ledger"]["withheld"],
                identity,
                files,
            ),
        }
    )


def _cover(document: dict[str, Any]) -> bytes:
    """The one-page PDF cover: the campaign, its outcome counts and the checkpoint."""
    import io  # noqa: PLC0415

    from reportlab.platypus import Paragraph, Spacer  # noqa: PLC0415

    from seatledger.services.audits.bundle.pdf import (  # noqa: PLC0415
        _pairs,
        _Styles,
        document_template,
    )

    s = _Styles()
    campaign = document["campaign"]
    outcomes = document["outcomes"]
    buffer = io.BytesIO()
    title = f"Access review #{campaign['id']}: {campaign['name']}"
    template = document_template(buffer, title, author=document["organization"])
    rows: list[tuple[str, Any]] = [
        ("Organization", document["organization"]),
        ("Due on", campaign["due_on"]),
        ("Started by", campaign["created_by"]),
        ("Closed by", f"{campaign['closed_by']} on {campaign['closed_on']}"),
        ("Seats reviewed", f"{document['seats']:,}"),
    ]
    rows += [(key.capitalize(), f"{outcomes[key]:,}") for key in sorted(outcomes)]
    rows += [(f"Reviewer of {r['team']}", r["operator"]) for r in document["reviewers"]]
    checkpoint = document["checkpoint"]
    rows += [
        ("Ledger checkpoint", f"{checkpoint['size']:,} entries"),
        ("Merkle root", checkpoint.get("root", "")),
        (
            "Entries disclosed",
            f"{document['ledger']['disclosed']:,} ({document['ledger']['withheld']:,} by their "
            "hash only)",
        ),
    ]
    story = [
        Paragraph(title.replace("&", "&amp;").replace("<", "&lt;"), s.title),
        Paragraph("Signed access review campaign report", s.subtitle),
        _pairs(rows, s),
        Spacer(1, 12),
        Paragraph(
            "Every seat with its decision, reviewer and outcome is in report.csv; the campaign's "
            "ledger entries, with their Merkle proof to the signed checkpoint, in ledger.jsonl "
            "and ledger.proof. Verify the bundle with 'seatledger verify' or verify_bundle.py "
            "(VERIFY.txt).",
            s.body,
        ),
    ]
    template.build(story)
    return buffer.getvalue()


def _verify_text(checkpoint: Checkpoint) -> str:
    return f"""\
How to verify this access review report
=======================================

1. Everything at once: seatledger verify BUNDLE --pubkey KEY.pem
   or, on any machine with Python 3:  python3 verify_bundle.py . --pubkey KEY.pem

   KEY.pem is the organization's Ed25519 public key; without --pubkey the verdict is
   "INTACT, KEY NOT PINNED" (exit 3).

2. With stock tools:
   openssl pkeyutl -verify -pubin -inkey KEY.pem -rawin -in manifest.json -sigfile manifest.sig
   sha256sum -c SHA256SUMS
   pdfsig report.pdf

3. What the ledger proves.  ledger.jsonl discloses the campaign's entries (its start, every
   decision, its close, which carries out and names the moves), the releases its close made and
   the signing identities' entries.  Each entry's hash is recomputed from its exact body, and
   ledger.proof (a Merkle multiproof, RFC 9162 hashing) shows that every disclosed entry sits at
   its place among the {checkpoint.size} entries of the signed checkpoint, whose Merkle root is
   {checkpoint.root}.
   An entry marked "withheld" names a person or an operator: only its hash is disclosed.
"""


def describe(manifest: dict[str, Any]) -> str:
    """What a verified bundle is, for the verifier's first line ("" for a vendor audit's)."""
    if manifest.get("kind") != KIND:
        return ""
    return f"Access review campaign report: {manifest.get('title', '')} (closed on " + (
        f"{manifest.get('as_of', '')}, {manifest.get('organization', '')})"
    )
