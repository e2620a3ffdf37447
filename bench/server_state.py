"""The server position's read on the large demo (physical servers only), beside a raw SELECT.

``python bench/server_state.py [DB]`` (default ``bench/.cache/large.sqlite``, built by
``bench/run.py``; read, never written) prints, in the same run:

- ``load_state``: what the Servers page, the Reconciliation page's Servers tab and an audit's
  server section read (the topology, every device for the physical servers, the installs the
  server rules count on them, the purchases in term), and ``compute`` on it;
- a raw baseline: plain sqlite3 reading the same rows (every device; the installs of the
  products the server rules count; the purchases in term with their product and vendor);
- for comparison, plain sqlite3 reading every install on the servers (what reading the
  installs per device, whatever their product, costs).

``--audit VENDOR [VENDOR ...]`` also times ``seatledger audit run`` of each vendor on a work
copy of the database (start to signed bundle), as ``bench/audit.py`` runs it.

Machines are shared and noisy (PERF.md): read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
LARGE = HERE / ".cache" / "large.sqlite"
PASSPHRASE = "benchmark passphrase"

_SERVER_OS = "(d.os LIKE '%server%' OR d.os LIKE '%red hat enterprise linux%' OR d.os LIKE 'rhel%')"
_COUNTED = (
    "(v.name LIKE 'oracle%' OR v.name LIKE 'ibm%' "
    "OR (v.name LIKE 'microsoft%' AND p.name LIKE '%sql server%'))"
)


def _raw(db: Path, today: str) -> tuple[float, int, float, int]:
    """Plain sqlite3: every device, the counted products' installs and the purchases in term
    (seconds, rows); every install on a server (seconds, rows)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        rows = len(
            conn.execute(
                "SELECT id, hostname, os, processors, cores, processor_model FROM device"
            ).fetchall()
        )
        products = [
            row[0]
            for row in conn.execute(
                f"SELECT p.id FROM product p JOIN vendor v ON v.id = p.vendor_id WHERE {_COUNTED}"
            )
        ]
        marks = ", ".join("?" * len(products))
        rows += len(
            conn.execute(
                "SELECT i.device_id, t.product_id FROM installation i "
                "JOIN software_title t ON t.id = i.title_id "
                f"WHERE t.product_id IN ({marks}) AND i.first_seen <= ? "
                "AND (i.removed_on IS NULL OR i.removed_on > ?)",
                (*products, today, today),
            ).fetchall()
        )
        rows += len(
            conn.execute(
                "SELECT e.id, p.id, v.name, p.name, e.name, e.metric, e.quantity, e.unit_cost "
                "FROM entitlement e JOIN product p ON p.id = e.product_id "
                "JOIN vendor v ON v.id = p.vendor_id "
                "WHERE (e.term_start IS NULL OR e.term_start <= ?) "
                "AND (e.term_end IS NULL OR e.term_end >= ?) AND NOT e.retired ORDER BY e.id",
                (today, today),
            ).fetchall()
        )
        counted = time.perf_counter() - started
        started = time.perf_counter()
        every = len(
            conn.execute(
                "SELECT i.device_id, v.name, p.name, p.id FROM installation i "
                "JOIN device d ON d.id = i.device_id "
                "JOIN software_title t ON t.id = i.title_id "
                "JOIN product p ON p.id = t.product_id JOIN vendor v ON v.id = p.vendor_id "
                f"WHERE {_SERVER_OS} AND i.first_seen <= ? "
                "AND (i.removed_on IS NULL OR i.removed_on > ?)",
                (today, today),
            ).fetchall()
        )
        all_installs = time.perf_counter() - started
    finally:
        conn.close()
    return counted, rows, all_installs, every


def _load(db: Path, today: dt.date) -> tuple[float, float, int, int]:
    """``load_state`` and ``compute`` on ``db``: seconds of each, physical servers, lines."""
    from seatledger.services.servers import position
    from seatledger.store.db import Database

    database, _ = Database.open(db, create=False, upgrade=False)
    try:
        with database.read() as session:
            started = time.perf_counter()
            state = position.load_state(session, today)
            read = time.perf_counter() - started
        started = time.perf_counter()
        computed = position.compute(state)
        rules = time.perf_counter() - started
    finally:
        database.dispose()
    return read, rules, len(state.physical), len(computed.lines)


def _audit_run(db: Path, vendor: str) -> tuple[float, int, str]:
    """``seatledger audit run`` of ``vendor`` on a work copy: seconds, return code, tail."""
    work = Path(tempfile.mkdtemp(prefix="seatledger-server-bench-"))
    try:
        copy = work / "work.sqlite"
        shutil.copyfile(db, copy)
        env = os.environ | {
            "SEATLEDGER_PASSWORD": "demo",
            "SEATLEDGER_KEY_PASSPHRASE": PASSPHRASE,
            "SEATLEDGER_NEW_KEY_PASSPHRASE": PASSPHRASE,
        }
        command = [sys.executable, "-m", "seatledger", "audit", "run", "--db", str(copy)]
        command += ["--operator", "admin", "--vendor", vendor, "--attest", "Our records."]
        command += ["--out", str(work / "out")]
        started = time.perf_counter()
        run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return seconds, run.returncode, (run.stdout + run.stderr)[-400:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("db", nargs="?", type=Path, default=LARGE)
    parser.add_argument("--audit", nargs="*", default=[], metavar="VENDOR")
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"{args.db} does not exist: python bench/run.py builds it.", file=sys.stderr)
        return 2
    today = dt.date.today()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    read, rules, physical, lines = _load(args.db, today)
    raw, raw_rows, every, every_rows = _raw(args.db, today.isoformat())
    print(
        f"load_state {read:.2f} s ({physical:,} physical servers), compute {rules:.2f} s "
        f"({lines} lines)\n"
        f"  raw sqlite3 SELECT of the same rows ({raw_rows:,}: every device, the counted "
        f"products' installs, the purchases) {raw:.2f} s; load_state "
        f"{read / max(raw, 1e-9):.1f}x the raw read\n"
        f"  raw sqlite3 SELECT of every install on a server ({every_rows:,} rows) {every:.2f} s"
    )
    for vendor in args.audit:
        seconds, code, tail = _audit_run(args.db, vendor)
        state = "signed" if code == 0 else f"FAILED ({code}): {tail}"
        print(f"seatledger audit run --vendor {vendor!r}: {seconds:.1f} s, {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
