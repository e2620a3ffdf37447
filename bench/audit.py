"""Audit bundle figures on the large demo: signing a report, and exporting a vendor's bundle.

``bench/run.py`` calls :func:`audit_rows` with its work copy of the large demo; alone,
``python bench/audit.py DB`` prints the same figures.  Each figure runs in a child process (its
own peak RSS) beside a raw baseline from the same run:

- signing: the PAdES signature of report.pdf plus the Ed25519 signature of manifest.json,
  against SHA-256 of the same PDF bytes;
- export: write_bundle for the vendor with the most seats (a helper process checks the whole
  ledger as ``ledger verify`` does while writing the vendor's entries into ledger.jsonl and
  their multiproof; beside it, the CSVs, report.json, the PDF, the zip), against plain sqlite3
  copying every ledger body into a file and hashing it;
- the headless ``seatledger audit run`` of that vendor, start to signed bundle, as a scheduled
  job runs it (its own check reads the audit's scope only, beside the export's helper), with
  the vendor's position (what the run reads for it) against the whole organization's position
  computed in the same child.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
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


def _signed_in(db: str) -> tuple[Any, Any, Any, float]:
    """The database, the administrator's services, the signing identity (unlocked, or created
    on first use) and the seconds its unlock took."""
    from seatledger.services.audits.signing import SigningService
    from seatledger.services.operators import accounts as operators
    from seatledger.services.operators.session import Services
    from seatledger.store.db import Database

    database, _ = Database.open(db)
    services = Services.for_actor(database, operators.sign_in(database, "admin", "demo"))
    started = time.perf_counter()
    identity = SigningService(services.ctx).unlock_or_create(PASSPHRASE, "Fabrikam Engineering")
    return database, services, identity, time.perf_counter() - started


def _report_input(vendor: str, rows: list[Any], findings: list[Any]) -> Any:
    """The report of a benchmark audit of ``vendor`` as of today, from its position."""
    from seatledger.services.audits.bundle import (
        Attestation,
        ReportFinding,
        ReportInput,
        Scope,
        Trigger,
    )

    now = dt.datetime.now(dt.UTC)
    return ReportInput(
        organization="Fabrikam Engineering",
        audit_id=1,
        title=f"{vendor} audit",
        scope=Scope(vendor),
        as_of=now.date(),
        trigger=Trigger.VENDOR_REQUEST,
        trigger_reason="benchmark",
        method="Computed by SeatLedger.",
        positions=rows,
        findings=[ReportFinding(f) for f in findings],
        acknowledgements=[],
        attestation=Attestation("admin", "Ada Admin", "Our records.", now),
    )


def _child(db: str, vendor: str) -> dict[str, Any]:
    """In the child: unlock (or create) the identity, export the bundle, time the signing."""
    from seatledger.services.audits.bundle import write_bundle
    from seatledger.services.audits.bundle.pdf import render_report, sign_report
    from seatledger.services.position.engine import PositionService

    database, services, identity, unlock = _signed_in(db)
    position = PositionService(services.ctx).position(dt.date.today())
    report = _report_input(
        vendor,
        [r for r in position.rows if r.vendor == vendor],
        [f for f in position.findings if f.vendor == vendor],
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


def _positions(db: str, vendor: str) -> dict[str, Any]:
    """In the child: the vendor's position (as an audit reads it) and the whole one."""
    from seatledger.services.core.context import Context
    from seatledger.services.position.engine import PositionScope, PositionService
    from seatledger.store.db import Database

    conn = sqlite3.connect(db)
    try:
        vendor_id = int(
            conn.execute("SELECT id FROM vendor WHERE name = ?", (vendor,)).fetchone()[0]
        )
    finally:
        conn.close()
    database, _ = Database.open(db, create=False, upgrade=False)
    service = PositionService(Context.reader(database))
    today = dt.date.today()
    try:
        started = time.perf_counter()
        scoped = service.position(today, scope=PositionScope(vendor_id=vendor_id))
        vendor_seconds = time.perf_counter() - started
        vendor_mib = _peak_mib()
        started = time.perf_counter()
        whole = service.position(today)
        whole_seconds = time.perf_counter() - started
    finally:
        database.dispose()
    return {
        "vendor_seconds": vendor_seconds,
        "vendor_rows": len(scoped.rows),
        "vendor_installs": scoped.facts["installs"],
        "vendor_seats": scoped.facts["seats"],
        "vendor_max_rss_mib": vendor_mib,
        "whole_seconds": whole_seconds,
        "whole_rows": len(whole.rows),
    }


# The command line as a scheduled job runs it, reporting its own peak RSS as it exits.
_CLI = r"""
import runpy, sys
from pathlib import Path
sys.argv = ["seatledger", *sys.argv[1:]]
try:
    runpy.run_module("seatledger", run_name="__main__")
finally:
    peak = Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]
    sys.stderr.write(f"\npeak-kib {peak}\n")
"""


def _audit_run(db: Path, vendor: str) -> tuple[float, float, float, str]:
    """``seatledger audit run`` of ``vendor`` in a child process: its wall time, its CPU time
    (with its helper's: on a shared machine the wall time says more of the load than of the
    run), its peak RSS (MiB) and the tail of its output when it failed ("" when it signed)."""
    out = Path(tempfile.mkdtemp(prefix="seatledger-audit-run-"))
    env = os.environ | {
        "SEATLEDGER_PASSWORD": "demo",
        "SEATLEDGER_KEY_PASSPHRASE": PASSPHRASE,
        "SEATLEDGER_NEW_KEY_PASSPHRASE": PASSPHRASE,
    }
    command = [sys.executable, "-c", _CLI, "audit", "run", "--db", str(db), "--operator"]
    command += ["admin", "--vendor", vendor, "--attest", "Our records.", "--out", str(out)]
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = run.stderr.rsplit("peak-kib ", 1)
    mib = int(peak[1].split()[0]) / 1024 if len(peak) == 2 else 0.0
    return seconds, cpu, mib, "" if run.returncode == 0 else (run.stdout + run.stderr)[-300:]


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
    print(f"Running the audit of {vendor} from the command line ...", file=sys.stderr, flush=True)
    audit_seconds, audit_cpu, audit_mib, failed = _audit_run(db, vendor)
    print(f"Computing {vendor}'s position and the whole one ...", file=sys.stderr, flush=True)
    positions = subprocess.run(
        [sys.executable, __file__, "--positions", str(db), vendor],
        capture_output=True,
        text=True,
        check=False,
    )
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
    scoped: list[Any] = []
    if failed:
        scoped.append(row("audit run, one vendor", f"FAILED: {failed}", "-", "-", "<= 10 s"))
    else:
        scoped.append(
            row(
                f"headless 'seatledger audit run' of {vendor}, start to signed bundle",
                f"{audit_seconds:.1f} s (CPU {audit_cpu:.1f} s with its helper), "
                f"peak RSS {audit_mib:.0f} MiB",
                f"its bundle export alone (below): {found['export']:.1f} s",
                f"{audit_seconds / max(found['export'], 1e-9):.1f}x",
                "<= 10 s",
            )
        )
    if positions.returncode != 0:
        scoped.append(
            row("position of one vendor", f"FAILED: {positions.stderr[-300:]}", "-", "-", "-")
        )
    else:
        got = json.loads(positions.stdout.strip().splitlines()[-1])
        scoped.append(
            row(
                f"position of {vendor} alone (as its audit reads it): {got['vendor_rows']} rows, "
                f"{got['vendor_installs']:,} installs, {got['vendor_seats']:,} seats",
                f"{got['vendor_seconds']:.2f} s, peak RSS {got['vendor_max_rss_mib']:.0f} MiB",
                f"the whole organization's ({got['whole_rows']:,} rows): "
                f"{got['whole_seconds']:.1f} s",
                f"{got['vendor_seconds'] / max(got['whole_seconds'], 1e-9):.2f}x",
                "scoped before it is computed",
            )
        )
    return [
        *scoped,
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


def _typical_vendor(db: Path) -> tuple[int, str]:
    """The vendor with the median count of seats (a typical one-vendor audit)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT v.id, v.name FROM seat_assignment s "
            "JOIN entitlement e ON e.id = s.entitlement_id "
            "JOIN product p ON p.id = e.product_id JOIN vendor v ON v.id = p.vendor_id "
            "GROUP BY v.id ORDER BY count(*), v.id"
        ).fetchall()
    finally:
        conn.close()
    vendor_id, name = rows[len(rows) // 2]
    return int(vendor_id), str(name)


def _bundle_child(db: str, vendor_id: int, seal: str) -> dict[str, Any]:
    """In the child: one vendor's bundle (its position alone), resting on ``seal`` (a
    checkpoint as JSON, whole-checked now) or checking the whole ledger itself."""
    from seatledger.services.audits.bundle import Checkpoint, write_bundle
    from seatledger.services.audits.bundle.model import Seal
    from seatledger.services.position.engine import PositionScope, PositionService

    database, services, identity, _ = _signed_in(db)
    started = time.perf_counter()
    position = PositionService(services.ctx).position(
        dt.date.today(), scope=PositionScope(vendor_id=vendor_id)
    )
    vendor = position.rows[0].vendor if position.rows else ""
    report = _report_input(vendor, list(position.rows), list(position.findings))
    position_seconds = time.perf_counter() - started
    sealed = Seal(Checkpoint(**json.loads(seal)), dt.datetime.now(dt.UTC)) if seal else None
    out = Path(tempfile.mkdtemp(prefix="seatledger-bundle-bench-"))
    try:
        started = time.perf_counter()
        result = write_bundle(services.ctx, report, identity, out, seal=sealed)
        export = time.perf_counter() - started
        seqs = [json.loads(line)["seq"] for line in (result.folder / "ledger.jsonl").open("rb")]
        conn = sqlite3.connect(db)
        try:
            started = time.perf_counter()
            bodies = 0
            digest = hashlib.sha256()
            for start in range(0, len(seqs), 500):
                chunk = seqs[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for (body,) in conn.execute(
                    f"SELECT body FROM ledger_entry WHERE seq IN ({marks})", chunk
                ):
                    bodies += len(body)
                    digest.update(body)
            raw = time.perf_counter() - started
        finally:
            conn.close()
        sizes = {path.name: path.stat().st_size for path in result.folder.iterdir()}
        zipped = result.zip_path.stat().st_size
    finally:
        shutil.rmtree(out, ignore_errors=True)
        database.dispose()
    return {
        "vendor": vendor,
        "entries": result.checkpoint.size,
        "checkpoint": result.checkpoint.as_json(),
        "sealed": result.sealed_by is not None,
        "position": position_seconds,
        "export": export,
        "disclosed": len(seqs),
        "bodies": bodies,
        "raw": raw,
        "evidence": sizes.get("ledger.jsonl", 0) + sizes.get("ledger.proof", 0),
        "folder": sum(sizes.values()),
        "zip": zipped,
        "max_rss_mib": _peak_mib(),
    }


def bundle_rows(db: Path, row: Callable[..., Any]) -> list[Any]:
    """A typical vendor's bundle twice: checking the whole ledger itself, then resting on that
    whole check (as the next export within a week does), each in a child of its own."""
    vendor_id, name = _typical_vendor(db)
    rows: list[Any] = []
    seal = ""
    for how in ("checking every entry itself", "resting on that whole check"):
        print(f"Exporting {name}'s bundle, {how} ...", file=sys.stderr, flush=True)
        run = subprocess.run(
            [sys.executable, __file__, "--bundle", str(db), str(vendor_id), seal],
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            rows.append(row(f"bundle, {how}", f"FAILED: {run.stderr[-300:]}", "-", "-", "-"))
            return rows
        got = json.loads(run.stdout.strip().splitlines()[-1])
        seal = json.dumps(got["checkpoint"])
        mib = 1024 * 1024
        met = (
            got["export"] <= 10
            and got["max_rss_mib"] <= 500 / 1.048576  # 500 MB
            and got["zip"] <= 2 * got["bodies"]
        )
        rows.append(
            row(
                f"one-vendor bundle of {got['vendor']} from {got['entries']:,} entries, {how} "
                f"({got['disclosed']:,} entries disclosed, their bodies {got['bodies'] / mib:.1f} "
                f"MiB; the bundle's zip {got['zip'] / mib:.1f} MiB = "
                f"{got['zip'] / max(got['bodies'], 1):.2f}x; ledger.jsonl + ledger.proof "
                f"unzipped {got['evidence'] / max(got['bodies'], 1):.2f}x)",
                f"{got['export']:.1f} s, peak RSS {got['max_rss_mib']:.0f} MiB "
                f"(its position before: {got['position']:.1f} s)",
                f"sqlite3 read of the disclosed bodies, hashed: {got['raw']:.2f} s",
                f"{got['export'] / max(got['raw'], 1e-9):.0f}x",
                "<= 10 s, <= 500 MB, zip <= 2x bodies" + (" met" if met else " NOT met"),
            )
        )
    return rows


def main(argv: list[str]) -> int:
    """``audit.py DB`` prints the figures; ``audit.py --child DB VENDOR`` and ``audit.py
    --positions DB VENDOR`` measure them."""
    if argv[:1] == ["--child"]:
        print(json.dumps(_child(argv[1], argv[2])))
        return 0
    if argv[:1] == ["--bundle"]:
        seal = argv[3] if len(argv) > 3 else ""
        print(json.dumps(_bundle_child(argv[1], int(argv[2]), seal)))
        return 0
    if argv[:1] == ["--positions"]:
        print(json.dumps(_positions(argv[1], argv[2])))
        return 0
    for line in audit_rows(Path(argv[0]), lambda *cells: " | ".join(cells)):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
