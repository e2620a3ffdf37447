"""Audit bundle figures on the large demo: signing a report, and exporting a vendor's bundle.

``bench/run.py`` calls :func:`audit_rows` with its work copy of the large demo; alone,
``python bench/audit.py DB`` prints the same figures.  Each figure runs in a child process (its
own peak RSS) beside a raw baseline from the same run:

- signing: the PAdES signature of report.pdf plus the Ed25519 signature of manifest.json,
  against SHA-256 of the same PDF bytes;
- export: write_bundle for the vendor with the most seats (the whole ledger streamed into
  ledger.jsonl and verified, CSVs, report.json, the PDF, the zip), against plain sqlite3 copying
  every ledger body into a file and hashing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PASSPHRASE = "benchmark passphrase"


def _busiest_vendor(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT v.name FROM seat_assignment s JOIN entitlement e ON e.id = s.entitlement_id "
            "JOIN product p ON p.id = e.product_id JOIN vendor v ON v.id = p.vendor_id "
            "GROUP BY v.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return str(row[0])


def _child(db: str, vendor: str) -> dict[str, Any]:
    """In the child: unlock (or create) the identity, export the bundle, time the signing."""
    from seatledger.services.audits.bundle import (
        Attestation,
        ReportFinding,
        ReportInput,
        Scope,
        Trigger,
        write_bundle,
    )
    from seatledger.services.audits.bundle.pdf import render_report, sign_report
    from seatledger.services.audits.signing import SigningService
    from seatledger.services.operators import accounts as operators
    from seatledger.services.operators.session import Services
    from seatledger.services.position.engine import PositionService
    from seatledger.store.db import Database

    database, _ = Database.open(db)
    services = Services.for_actor(database, operators.sign_in(database, "admin", "demo"))
    signing = SigningService(services.ctx)
    started = time.perf_counter()
    identity = signing.unlock_or_create(PASSPHRASE, "Fabrikam Engineering")
    unlock = time.perf_counter() - started
    today = dt.date.today()
    position = PositionService(services.ctx).position(today)
    now = dt.datetime.now(dt.UTC)
    report = ReportInput(
        organization="Fabrikam Engineering",
        audit_id=1,
        title=f"{vendor} audit",
        scope=Scope(vendor),
        as_of=today,
        trigger=Trigger.VENDOR_REQUEST,
        trigger_reason="benchmark",
        method="Computed by SeatLedger.",
        positions=[r for r in position.rows if r.vendor == vendor],
        findings=[ReportFinding(f) for f in position.findings if f.vendor == vendor],
        acknowledgements=[],
        attestation=Attestation("admin", "Ada Admin", "Our records.", now),
    )
    out = Path(tempfile.mkdtemp(prefix="seatledger-audit-bench-"))
    try:
        started = time.perf_counter()
        result = write_bundle(services.ctx, report, identity, out)
        export = time.perf_counter() - started
        document = json.loads((result.folder / "report.json").read_bytes())
        pdf = render_report(report, document)  # unsigned, as write_bundle signs it
        manifest = (result.folder / "manifest.json").read_bytes()
        ledger_bytes = (result.folder / "ledger.jsonl").stat().st_size
        zip_bytes = result.zip_path.stat().st_size
        signing_times = []
        for _ in range(5):
            started = time.perf_counter()
            sign_report(pdf, identity)
            identity.sign(manifest)
            signing_times.append(time.perf_counter() - started)
        hash_times = []
        for _ in range(5):
            started = time.perf_counter()
            hashlib.sha256(pdf).digest()
            hash_times.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        database.dispose()
    return {
        "vendor": vendor,
        "entries": result.checkpoint.size,
        "unlock": unlock,
        "export": export,
        "signing": statistics.median(signing_times),
        "pdf_sha256": statistics.median(hash_times),
        "pdf_bytes": len(pdf),
        "ledger_bytes": ledger_bytes,
        "zip_bytes": zip_bytes,
        "max_rss_mib": _peak_mib(),
    }


def _peak_mib() -> float:
    """This process's own peak RSS (VmHWM: ru_maxrss carries the parent's peak across fork
    and exec on Linux, and the bench parent may have built the demo)."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _raw_ledger_copy(db: Path) -> float:
    """Plain sqlite3: every ledger body into a file, hashed (what the export cannot beat)."""
    conn = sqlite3.connect(db)
    sha = hashlib.sha256()
    with tempfile.TemporaryFile() as handle:
        started = time.perf_counter()
        cursor = conn.execute("SELECT body FROM ledger_entry ORDER BY seq")
        while rows := cursor.fetchmany(20_000):
            data = b"\n".join(r[0] for r in rows)
            handle.write(data)
            sha.update(data)
        seconds = time.perf_counter() - started
    conn.close()
    return seconds


def audit_rows(db: Path, row: Callable[..., Any]) -> list[Any]:
    """The audit figures as ``row(figure, measured, baseline, ratio, budget)`` lines."""
    vendor = _busiest_vendor(db)
    print(f"Exporting the audit bundle of {vendor} ...", file=sys.stderr, flush=True)
    run = subprocess.run(
        [sys.executable, __file__, "--child", str(db), vendor],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        return [row("audit bundle export", f"FAILED: {run.stderr[-300:]}", "-", "-", "<= 10 s")]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    raw = _raw_ledger_copy(db)
    mib = 1024 * 1024
    return [
        row(
            "report signing: PAdES report.pdf + Ed25519 manifest",
            f"{found['signing'] * 1000:.0f} ms ({found['pdf_bytes'] / 1024:.0f} KiB PDF)",
            f"SHA-256 of the same PDF: {found['pdf_sha256'] * 1000:.2f} ms",
            f"{found['signing'] / max(found['pdf_sha256'], 1e-9):.0f}x",
            "<= 0.5 s",
        ),
        row(
            "signing key unlock (Argon2id t=3, 64 MiB, p=4; once per export)",
            f"{found['unlock'] * 1000:.0f} ms",
            "-",
            "-",
            "-",
        ),
        row(
            f"audit bundle export, {found['vendor']}: {found['entries']:,} ledger entries "
            f"({found['ledger_bytes'] / mib:.0f} MiB jsonl, "
            f"{found['zip_bytes'] / mib:.0f} MiB zip)",
            f"{found['export']:.1f} s, peak RSS {found['max_rss_mib']:.0f} MiB",
            f"sqlite3 copy of every ledger body into a file, hashed: {raw:.1f} s",
            f"{found['export'] / raw:.1f}x",
            "<= 10 s, <= 500 MB",
        ),
    ]


def main(argv: list[str]) -> int:
    """``audit.py DB`` prints the figures; ``audit.py --child DB VENDOR`` measures them."""
    if argv[:1] == ["--child"]:
        print(json.dumps(_child(argv[1], argv[2])))
        return 0
    for line in audit_rows(Path(argv[0]), lambda *cells: " | ".join(cells)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
