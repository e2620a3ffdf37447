"""Writing an audit report bundle (see :mod:`seatledger.services.audits.bundle` for what it holds).

Every file is written once, into a hidden staging folder, hashed as it is written, and compressed
into the zip on a second thread (zlib releases the GIL).  The ledger, by far the largest file, is
written by a helper process (:mod:`.ledger_file`) while this one writes the CSVs and the report;
the zip thread compresses it as it grows.  The staging folder and zip are renamed into place only
once the manifest is signed, so a cancelled or failed export leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import queue
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from seatledger.domain.ledger import Failure, Problem
from seatledger.domain.merkle import StoredTree, leaf_hash
from seatledger.errors import Cancelled, KnownError, LedgerIntegrityError, NotFoundError
from seatledger.progress import Progress
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.audits.bundle.ledger_file import Job, Message, Producer
from seatledger.services.audits.bundle.model import (
    BundleResult,
    Checkpoint,
    ReportInput,
    Seal,
    bundle_result,
    json_bytes,
    manifest_proofs,
)
from seatledger.services.audits.bundle.tables import Csv as _Csv
from seatledger.services.audits.bundle.tables import Pseudonyms, when, write_tables
from seatledger.services.audits.bundle.tables import TableScope as _Scope
from seatledger.services.audits.bundle.tables import day as _day
from seatledger.services.audits.servers import SERVER_HEADERS, SERVERS_CSV, ServerSection
from seatledger.services.core.context import Context
from seatledger.services.position.export import finding_json, row_json
from seatledger.store import ledger_store
from seatledger.store.models import (
    Product,
    Team,
    Vendor,
)

if TYPE_CHECKING:
    from seatledger.services.audits.signing import SigningIdentity

REPORT_JSON = "report.json"
REPORT_SCHEMA = "seatledger-report/1"
FINDINGS_CSV = "findings.csv"
VERIFIER = "verify_bundle.py"
ZIP_LEVEL = 1  # deflate level: the ledger compresses ~6x at level 1, and 9 costs 5x the time
_CHUNK = 1 << 20

FINDING_HEADERS = (
    "Finding",
    "Vendor",
    "Product",
    "Entitlement id",
    "Count",
    "Detail",
    "Decision",
    "Explanation",
    "Owner",
    "Due",
    "Decided by",
    "Decided at",
)


# ---------------------------------------------------------------------------------- output


class _Zipper(threading.Thread):
    """Compresses into the zip on its own thread (zlib releases the GIL while it works)."""

    def __init__(self, path: Path, prefix: str) -> None:
        super().__init__(name="bundle-zip", daemon=True)
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL)
        self.prefix = prefix
        # Unbounded: besides the ledger, which this thread reads from its file itself, the
        # files are small (CSVs, the report), and the writer must not wait on the compressor.
        self.queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.ledger_done = threading.Event()
        self.ledger_entries = 0
        self.ledger_result: Message = ("error", "the ledger was not written")

    def run(self) -> None:
        handle: Any = None
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue
            kind, payload = item
            try:
                if kind == "tail":
                    self._tail(*payload)
                elif kind == "open":
                    handle = self.zip.open(self.prefix + payload, "w", force_zip64=True)
                elif kind == "data":
                    handle.write(payload)
                else:
                    handle.close()
                    handle = None
            except BaseException as exc:  # reported by finish()
                self.error = exc
        try:
            if handle is not None:  # an export that failed mid-file
                handle.close()
            self.zip.close()
        except BaseException as exc:
            self.error = self.error or exc
            if self.zip.fp is not None:
                self.zip.fp.close()

    def _tail(self, name: str, path: Path, producer: Producer) -> None:
        """Compress ``path`` into the zip as the ledger helper writes it."""
        source: Any = None
        try:
            with self.zip.open(self.prefix + name, "w", force_zip64=True) as member:
                while True:
                    message = producer.receive()
                    if message[0] not in {"progress", "done"}:
                        self.ledger_result = message
                        return
                    if source is None:  # the helper has created the file by now
                        source = path.open("rb")
                    if message[0] == "progress":
                        self.ledger_entries = message[1]
                    target = message[2]
                    while source.tell() < target:
                        chunk = source.read(min(_CHUNK, target - source.tell()))
                        if not chunk:
                            break
                        member.write(chunk)
                    if message[0] == "done":
                        self.ledger_result = message
                        return
        except BaseException as exc:
            self.ledger_result = ("error", f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if source is not None:
                source.close()
            self.ledger_done.set()

    def send(self, kind: str, payload: Any = None) -> None:
        """Queue one step."""
        self.queue.put((kind, payload))

    def finish(self) -> None:
        """Close the zip; raise what went wrong on the thread, if anything."""
        self.queue.put(None)
        self.join()
        if self.error is not None:
            raise KnownError(f"Cannot write the zip: {self.error}") from self.error


class _Output:
    """Files written into the staging folder and the zip at once, hashed as they are written."""

    def __init__(self, folder: Path, zipper: _Zipper) -> None:
        self.folder = folder
        self.zipper = zipper
        self.files: dict[str, tuple[str, int]] = {}

    @contextmanager
    def file(self, name: str) -> Iterator[Callable[[bytes], None]]:
        """A writer for one file; call it with chunks (about a megabyte each, ideally)."""
        sha = hashlib.sha256()
        size = 0
        self.zipper.send("open", name)
        try:
            with (self.folder / name).open("wb") as handle:

                def write(data: bytes) -> None:
                    nonlocal size
                    if data:
                        handle.write(data)
                        sha.update(data)
                        size += len(data)
                        self.zipper.send("data", data)

                yield write
        finally:
            self.zipper.send("close")
        self.files[name] = (sha.hexdigest(), size)

    def put(self, name: str, data: bytes) -> None:
        """Write a whole small file."""
        with self.file(name) as write:
            write(data)


# ---------------------------------------------------------------------------------- scope


def _resolve(session: Session, report: ReportInput) -> _Scope:
    scope = report.scope
    vendor_id = session.scalar(select(Vendor.id).where(Vendor.name == scope.vendor))
    if vendor_id is None:
        raise NotFoundError(f"No vendor is named {scope.vendor!r}.")
    query = select(Product.id, Product.name).where(Product.vendor_id == vendor_id)
    products = {name: pid for pid, name in session.execute(query)}
    if scope.products:
        unknown = sorted(set(scope.products) - set(products))
        if unknown:
            raise NotFoundError(f"{scope.vendor} has no product named {', '.join(unknown)}.")
        pids = tuple(sorted(products[name] for name in scope.products))
    else:
        pids = tuple(sorted(products.values()))
    teams: tuple[int, ...] = ()
    if scope.teams:
        # .all(): a Result has keys(), so dict() would take it for a mapping and fail.
        found = dict(
            session.execute(select(Team.name, Team.id).where(Team.name.in_(scope.teams))).all()
        )
        unknown = sorted(set(scope.teams) - set(found))
        if unknown:
            raise NotFoundError(f"No team is named {', '.join(unknown)}.")
        teams = tuple(sorted(found.values()))
    return _Scope(vendor_id, pids, teams)


# ---------------------------------------------------------------------------------- writing


def write_bundle(
    ctx: Context,
    report: ReportInput,
    identity: SigningIdentity,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    check: Callable[[], None] | None = None,
    seal: Seal | None = None,
) -> BundleResult:
    """Write the bundle for ``report`` into ``out_dir`` and return where and what it signed.

    ``check`` runs once the helper checking the whole ledger has started, before anything else
    is written (an audit's check of its own scope, on this process's core while the helper uses
    the other); what it raises stops the export, leaving nothing behind.

    ``seal``: an earlier export's whole check (see :class:`~.model.Seal`), which this one rests
    on when it still fits the ledger: the helper then checks the entries after it, and the
    blocks of the disclosed entries before it, instead of every entry.  report.json says which.

    Raises:
        Cancelled: ``progress`` was cancelled; nothing is left behind.
        KnownError: the folder cannot be written, the scope names something unknown, or the
            ledger's chain is broken (a deleted, reordered or truncated ledger is never signed).
    """
    report_now = report.created_at or ctx.clock()
    name = _free_name(out_dir, _bundle_name(report))
    _sweep_stale_staging(out_dir)
    try:
        staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{name}.{os.getpid()}."))
    except OSError as exc:
        raise KnownError(f"Cannot write in {out_dir}: {exc.strerror}.") from None
    folder = staging / name
    folder.mkdir()
    zipper = _Zipper(staging / f"{name}.zip", f"{name}/")
    producer: Producer | None = None
    out = _Output(folder, zipper)
    ok = False
    try:
        with ctx.read() as session:
            size, head, root = ledger_store.checkpoint(session)
            scope = _resolve(session, report)
        checkpoint = Checkpoint(size, head.hex(), root.hex())
        total = size + 7 * _STEP
        tick = _Ticker(progress, total, lambda: zipper.ledger_entries)
        # The helper first, while this process may still fork (no zip thread yet).
        proof_path = staging / f".{vb.PROOF}"
        if report.pseudonymize and not identity.pseudonym_key:
            raise KnownError("The signing identity holds no pseudonym key; unlock it again.")
        key = identity.pseudonym_key if report.pseudonymize else None
        # The helper plans what it discloses (disclosure.plan) as it starts: a few hundred
        # thousand entries for a large vendor, read on its core rather than before this one's
        # own work.
        job = Job(
            ctx.db.url,
            str(folder / vb.LEDGER),
            size,
            checkpoint.head,
            checkpoint.root,
            [],
            [],
            str(proof_path),
            scope.vendor_id,
            product_ids=list(scope.product_ids),
            audit_id=report.audit_id,
            topology=report.servers is not None,
        )
        if seal is not None and 0 < seal.checkpoint.size <= size and seal.checkpoint.root:
            job = dataclasses.replace(
                job,
                sealed_size=seal.checkpoint.size,
                sealed_head=seal.checkpoint.head,
                sealed_root=seal.checkpoint.root,
            )
        else:
            seal = None
        producer = Producer(job)
        zipper.start()
        zipper.send("tail", (vb.LEDGER, folder / vb.LEDGER, producer))
        if check is not None:
            check()
        tick.step()
        pseudonyms = Pseudonyms(key)
        if report.servers is not None and pseudonyms.active:  # hosts and VMs, as devices are
            servers = report.servers.pseudonymized(pseudonyms.name)
            report = dataclasses.replace(report, servers=servers)
        # The tables here, not in the helper: its check of the whole ledger is the longer work.
        with ctx.read() as session:
            counts = write_tables(session, out, scope, report.as_of, pseudonyms)
        tick.step()
        counts["findings"] = _write_findings(out, report)
        if report.servers is not None:
            counts["server_lines"] = _write_servers(out, report.servers)
        # The continuity proof is made while the helper checks the chain (and makes the
        # disclosed entries' proof), and used only once it has verified: a broken ledger's own
        # error is the one reported, never the proofs'.
        try:
            with ctx.db.engine.connect() as conn:
                tree = ledger_store.tree(conn, size)
                previous = _continuity(tree, report.previous, checkpoint)
            unproved: KnownError | None = None
        except KnownError as exc:
            unproved = exc
        except ValueError as exc:  # the stored tree does not fit the entries
            unproved = LedgerIntegrityError(
                f"The ledger's stored Merkle tree does not fit its entries ({exc}), so no report "
                "is signed. Run 'seatledger ledger verify'."
            )
        # The report says how many entries were withheld, which the helper knows at its end.
        sha, written, withheld, disclosed_entries = _await_ledger(zipper, tick)
        if unproved is not None:
            raise unproved
        counts["ledger_entries"] = size
        counts["disclosed_entries"] = disclosed_entries
        out.files[vb.LEDGER] = (sha, written)
        counts["withheld_entries"] = withheld
        out.put(vb.PROOF, proof_path.read_bytes() if size else b"")
        tick.step()
        document = report_document(
            report, identity, checkpoint, counts, report_now, previous=previous, seal=seal
        )
        out.put(REPORT_JSON, json_bytes(document))
        tick.step()
        from seatledger.services.audits.bundle.pdf import render_report, sign_report  # noqa: PLC0415

        pdf = render_report(report, document)
        tick.step()
        out.put(vb.REPORT_PDF, sign_report(pdf, identity))
        tick.step()
        out.put(vb.PUBLIC_KEY, identity.public_key_pem)
        out.put(vb.CERTIFICATE, identity.certificate_pem)
        out.put(VERIFIER, verifier_source())
        out.put(vb.VERIFY_TXT, verify_text(checkpoint))
        out.put(vb.SUMS, _sums(out.files))
        disclosed = {"entries": disclosed_entries, "withheld": withheld}
        manifest = _manifest(
            report,
            identity,
            checkpoint,
            previous=previous,
            disclosed=disclosed,
            files=out.files,
            now=report_now,
        )
        signature = identity.sign(manifest)
        out.put(vb.MANIFEST, manifest)
        out.put(vb.SIGNATURE, signature)
        zipper.finish()
        tick.step()
        folder.rename(out_dir / name)
        (staging / f"{name}.zip").rename(out_dir / f"{name}.zip")
        ok = True
    finally:
        if producer is not None:
            producer.stop()
        if not ok and zipper.is_alive():
            with suppress(KnownError):
                zipper.finish()
        shutil.rmtree(staging, ignore_errors=True)
    tick.finish()
    return bundle_result(out_dir, name, checkpoint, manifest, identity, sealed_by=seal)


_STEP = 1  # progress units per non-ledger step (the ledger counts one per entry)


class _Ticker:
    """Progress: one unit per ledger entry written (by the helper) and one per other step."""

    def __init__(self, progress: Progress | None, total: int, entries: Callable[[], int]) -> None:
        self.progress = progress
        self.total = max(total, 1)
        self.entries = entries
        self.steps = 0

    def report(self) -> None:
        """Tell the caller how far the export is.

        Raises:
            Cancelled: the caller cancelled.
        """
        done = min(self.entries() + self.steps * _STEP, self.total)
        if self.progress is not None:
            self.progress(done, self.total)

    def step(self) -> None:
        """One more step done.

        Raises:
            Cancelled: the caller cancelled.
        """
        self.steps += 1
        self.report()

    def finish(self) -> None:
        """Everything is done (and in place: a cancel arriving now comes too late to matter)."""
        if self.progress is not None:
            with suppress(Cancelled):
                self.progress(self.total, self.total)


def _bundle_name(report: ReportInput) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report.scope.vendor).strip("-").lower()[:40] or "vendor"
    return f"audit-{report.audit_id}-{slug}-{report.as_of.isoformat()}"


_STAGING = re.compile(r"^\.audit-.+\.(\d+)\.[^.]+$")


def _sweep_stale_staging(out_dir: Path) -> None:
    """Remove the hidden staging folders of exports killed outright (their process is gone).

    Each holds unsigned, partial files that no one can use; an export running now is left.
    """
    for entry in out_dir.iterdir():
        found = _STAGING.match(entry.name)
        if found is None or not entry.is_dir():
            continue
        try:
            os.kill(int(found.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            continue  # another user's export, still running


def discard_unrecorded(out_dir: Path, audit_id: int, fingerprints: Collection[str]) -> list[str]:
    """Remove the bundles of an unsigned audit that an export put in place but never recorded.

    An export killed after renaming its folder and zip into ``out_dir`` and before the audit's
    "signed" entry leaves a complete bundle the ledger does not know; signing the audit again
    replaces it.  Only a folder or zip named for this audit whose manifest names this audit and
    one of this database's keys (``fingerprints``) is removed: another database's audit of the
    same number, written into the same folder, is left.  Returns the names removed.
    """
    removed: list[str] = []
    if not out_dir.is_dir():
        return removed
    prefix = f"audit-{audit_id}-"
    for entry in sorted(out_dir.iterdir()):
        if not entry.name.startswith(prefix) or entry.is_symlink():
            continue
        if not entry.is_dir() and (entry.suffix != ".zip" or not entry.is_file()):
            continue
        manifest = _read_manifest(entry)
        if (
            manifest is None
            or manifest.get("audit_id") != audit_id
            or (manifest.get("signing") or {}).get("ed25519_public_key_sha256") not in fingerprints
        ):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


def _read_manifest(bundle: Path) -> dict[str, Any] | None:
    """The manifest of a bundle folder or zip, or None when it has none that reads."""
    try:
        if bundle.is_dir():
            data = (bundle / vb.MANIFEST).read_bytes()
        else:
            with zipfile.ZipFile(bundle) as archive:
                data = archive.read(f"{bundle.stem}/{vb.MANIFEST}")
        value = json.loads(data)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    return value if isinstance(value, dict) else None


def _free_name(out_dir: Path, name: str) -> str:
    if not out_dir.is_dir():
        raise KnownError(f"{out_dir} is not a folder.")
    candidate = name
    number = 1
    while (out_dir / candidate).exists() or (out_dir / f"{candidate}.zip").exists():
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def _continuity(
    tree: StoredTree, previous: Checkpoint | None, checkpoint: Checkpoint
) -> dict[str, Any] | None:
    """The previous report's checkpoint with the proofs that this ledger extends it: its root
    (recomputed: a checkpoint signed before the ledger kept a tree names none), the path of its
    head to that root and the RFC 9162 consistency proof from that root to this one.

    Raises:
        LedgerIntegrityError: the entry at the previous size no longer has the previous head
            (the history that report saw was rewritten), or the ledger is shorter now.
    """
    if previous is None:
        return None
    old = previous.size
    value: dict[str, Any] = dict(previous.as_json())
    if old == 0:
        return value
    if old > checkpoint.size:
        _refuse(Failure(old, Problem.TRUNCATED, f"the previous report saw {old} entries"))
    head_path = tree.inclusion_proof(old - 1, old)
    old_root = tree.root(old)
    leaf = leaf_hash(bytes.fromhex(previous.head))
    if not vb.verify_inclusion(old - 1, old, leaf, head_path, old_root):
        detail = "its hash is not the head the previous report signed"
        _refuse(Failure(old, Problem.EDITED, detail))
    if previous.root and previous.root != old_root.hex():
        detail = "the ledger's tree at that size is not the one the previous report signed"
        _refuse(Failure(old, Problem.TREE, detail))
    value["root"] = old_root.hex()
    value["head_path"] = [node.hex() for node in head_path]
    value["consistency"] = [node.hex() for node in tree.consistency_proof(old)]
    return value


def verify_text(checkpoint: Checkpoint) -> bytes:
    """VERIFY.txt: how to check the bundle with stock tools, and what each check proves."""
    return VERIFY_TXT.format(size=checkpoint.size, root=checkpoint.root).encode()


VERIFY_TXT = """\
How to verify this bundle
=========================

1. Everything at once, on any machine with Python 3 (no other software needed):

       python3 verify_bundle.py . --pubkey KEY.pem

   KEY.pem is the Ed25519 public key the organization gave you; without --pubkey the verdict is
   "INTACT, KEY NOT PINNED" (exit 3), because anyone can sign with a key they ship beside it.
   Add --previous OLD/manifest.json (with OLD/manifest.sig beside it) to prove that this ledger
   extends the one the previous report signed.

2. With stock tools, piece by piece:

   openssl pkeyutl -verify -pubin -inkey KEY.pem -rawin -in manifest.json -sigfile manifest.sig
       proves manifest.json is what the organization's key signed (OpenSSL 3).
   sha256sum -c SHA256SUMS
       proves every file is the one the signed manifest lists (compare SHA256SUMS with
       manifest.json's "files", or let verify_bundle.py do it).
   pdfsig report.pdf
       shows the PDF's own signature (ECDSA P-256; signing-cert.pem is its certificate).

3. What the ledger proves.  ledger.jsonl discloses only the entries about this vendor (its
   products, licenses, seats, the imports that fed them, this audit's steps, the data settings
   and the operators who wrote them).  Each entry's hash is recomputed from its exact body, and
   ledger.proof (a Merkle multiproof, RFC 9162 hashing) shows that every disclosed entry sits at
   its place among the {size} entries of the signed checkpoint, whose Merkle root is
   {root}.
   An entry marked "withheld" names a person, another vendor or a server: only its hash is
   disclosed, and it is proved the same way.  People, devices and servers appear in the CSVs as
   keyed-hash pseudonyms.
"""


def _await_ledger(zipper: _Zipper, tick: _Ticker) -> tuple[str, int, int, int]:
    """Wait for ledger.jsonl, reporting its progress; return its SHA-256, size, the number
    of entries whose content it withholds and the number of entries it discloses.

    Raises:
        Cancelled: the user cancelled meanwhile.
        LedgerIntegrityError: the ledger does not verify.
        KnownError: the helper failed.
    """
    while not zipper.ledger_done.wait(0.1):
        tick.report()
    result = zipper.ledger_result
    if result[0] == "done":
        return str(result[1]), int(result[2]), int(result[3]), int(result[4])
    if result[0] == "failed":
        _refuse(Failure(int(result[1]), Problem[result[2]], str(result[3])))
    raise KnownError(f"Cannot write ledger.jsonl: {result[1]}")


def _refuse(failure: Failure) -> NoReturn:
    raise LedgerIntegrityError(
        f"The activity ledger does not verify, so no report is signed: {failure.message()}. "
        "Run 'seatledger ledger verify'.",
        failure.seq,
    )


def _write_findings(out: _Output, report: ReportInput) -> int:
    with out.file(FINDINGS_CSV) as write:
        table = _Csv(write, FINDING_HEADERS)
        for item in report.findings:
            f, r = item.finding, item.resolution
            table.row(
                [
                    f.kind.label,
                    f.vendor,
                    f.product,
                    f.entitlement_id,
                    f.count,
                    f.text,
                    r.decision.label,
                    r.explanation,
                    r.owner,
                    r.due,
                    r.decided_by,
                    r.decided_at,
                ]
            )
        table.flush()
    return table.rows


def _write_servers(out: _Output, servers: ServerSection) -> int:
    with out.file(SERVERS_CSV) as write:
        table = _Csv(write, SERVER_HEADERS)
        for row in servers.rows():
            table.row(row)
        table.flush()
    return table.rows


def report_document(
    report: ReportInput,
    identity: SigningIdentity,
    checkpoint: Checkpoint,
    counts: dict[str, int],
    now: dt.datetime,
    *,
    previous: dict[str, Any] | None = None,
    seal: Seal | None = None,
) -> dict[str, Any]:
    """The content of report.json (schema ``seatledger-report/1``, docs/report-schema.md).

    ``previous`` is the previous checkpoint as the manifest states it (its root recomputed);
    without it, the one the report input names.  ``seal``: the earlier whole check of the
    ledger the export rested on (None: it checked every entry itself).
    """
    att = report.attestation
    return {
        "schema": REPORT_SCHEMA,
        "organization": report.organization,
        "generated_at": when(now),
        "audit": {
            "id": report.audit_id,
            "title": report.title,
            "trigger": report.trigger.value,
            "trigger_reason": report.trigger_reason,
            "as_of": report.as_of.isoformat(),
            "method": report.method,
            "shelf_days": report.shelf_days,
        },
        "scope": {
            "vendor": report.scope.vendor,
            "products": list(report.scope.products),
            "teams": list(report.scope.teams),
        },
        "pseudonymized": report.pseudonymize,
        "position": [row_json(r) for r in report.positions],
        "findings": [
            {
                **finding_json(item.finding),
                "resolution": {
                    "decision": item.resolution.decision.value,
                    "explanation": item.resolution.explanation,
                    "owner": item.resolution.owner,
                    "due": _day(item.resolution.due) or None,
                    "decided_by": item.resolution.decided_by,
                    "decided_at": when(item.resolution.decided_at) or None,
                },
            }
            for item in report.findings
        ],
        "acknowledgements": [
            {
                "topic": a.topic,
                "warning": a.warning,
                "acknowledged_by": a.acknowledged_by or None,
                "acknowledged_at": when(a.acknowledged_at) or None,
            }
            for a in report.acknowledgements
        ],
        "concurrency_basis": [
            {"product": product, "rests_on": text} for product, text in report.concurrency_basis
        ],
        "attestation": {
            "operator": att.operator,
            "full_name": att.full_name,
            "statement": att.statement,
            "at": when(att.at),
            "approver": att.approver or None,
            "approver_full_name": att.approver_full_name or None,
            "approved_at": when(att.approved_at) or None,
        },
        **({} if report.servers is None else {"servers": report.servers.as_json()}),
        "charts": [c.caption for c in report.charts],
        "counts": counts,
        "checkpoint": checkpoint.as_json(),
        "ledger_check": (
            {"whole_ledger_checked_at": when(now), "through": checkpoint.size}
            if seal is None
            else {**seal.as_json(), "newer_entries_checked_at": when(now)}
        ),
        "previous_checkpoint": (
            None
            if report.previous is None
            else report.previous.as_json()
            if previous is None
            else {key: previous[key] for key in ("size", "head", "root") if key in previous}
        ),
        "signing": {
            "ed25519_public_key_sha256": identity.ed25519_fingerprint,
            "certificate_sha256": identity.certificate_fingerprint,
            "certificate_subject": identity.certificate.subject.rfc4514_string(),
        },
    }


def _sums(files: dict[str, tuple[str, int]]) -> bytes:
    return "".join(f"{sha}  {name}\n" for name, (sha, _) in sorted(files.items())).encode()


def _manifest(
    report: ReportInput,
    identity: SigningIdentity,
    checkpoint: Checkpoint,
    *,
    previous: dict[str, Any] | None,
    disclosed: dict[str, int],
    files: dict[str, tuple[str, int]],
    now: dt.datetime,
) -> bytes:
    manifest = {
        "format": vb.FORMAT,
        "organization": report.organization,
        "audit_id": report.audit_id,
        "title": report.title,
        "vendor": report.scope.vendor,
        "as_of": report.as_of.isoformat(),
        "created_at": when(now),
        "checkpoint": checkpoint.as_json(),
        "previous_checkpoint": previous,
        **manifest_proofs(
            "the entries about this vendor (see VERIFY.txt)",
            disclosed["entries"],
            disclosed["withheld"],
            identity,
            files,
        ),
    }
    return json_bytes(manifest)


def verifier_source() -> bytes:
    """The standalone verifier's source, as shipped in every bundle."""
    return resources.files("seatledger.services.audits.bundle").joinpath(VERIFIER).read_bytes()
