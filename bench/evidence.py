"""Evidence figures on a built demo: Merkle proofs for disclosed entries, and a vendor bundle's
size against the bodies it discloses.

Usage: ``python bench/evidence.py DB [--disclose N]`` (DB: the large demo, e.g. the bench cache's
``bench/.cache/large.sqlite``; it is only read).  Figures, each beside a raw baseline of the same
run:

- proofs: the multiproof of N entries drawn at random (``ledger_store.tree`` + ``multiproof``),
  against reading the same entries' hashes with plain sqlite3;
- the root those proofs give, recomputed as a vendor does (``verify_bundle.multiproof_root``);
- inclusion paths (RFC 9162) of 1,000 of those entries, one by one.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from seatledger.domain.merkle import leaf_hash, multiproof  # noqa: E402
from seatledger.services.audits.bundle import verify_bundle as vb  # noqa: E402
from seatledger.store import ledger_store  # noqa: E402
from seatledger.store.db import Database  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--disclose", type=int, default=100_000)
    args = parser.parse_args(argv)
    database, _ = Database.open(str(args.db), create=False, upgrade=False)
    try:
        with database.read() as session:
            size, _head, root = ledger_store.checkpoint(session)
        chosen = sorted(random.Random(2026).sample(range(1, size + 1), min(args.disclose, size)))
        started = time.perf_counter()
        raw = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
        hashes = {}
        for start in range(0, len(chosen), 900):
            part = chosen[start : start + 900]
            marks = ",".join("?" * len(part))
            hashes.update(
                raw.execute(f"SELECT seq, hash FROM ledger_entry WHERE seq IN ({marks})", part)
            )
        raw_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with database.engine.connect() as conn:
            tree = ledger_store.tree(conn, size, [seq - 1 for seq in chosen])
            nodes = multiproof(tree, [seq - 1 for seq in chosen])
        proof_seconds = time.perf_counter() - started
        leaves = [(seq - 1, leaf_hash(bytes(hashes[seq]))) for seq in chosen]
        started = time.perf_counter()
        checked = vb.multiproof_root(size, leaves, nodes) == root
        check_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with database.engine.connect() as conn:
            tree = ledger_store.tree(conn, size)
            paths = [tree.inclusion_proof(seq - 1) for seq in chosen[:1000]]
        path_seconds = time.perf_counter() - started
    finally:
        database.dispose()
    print(f"ledger: {size:,} entries; {len(chosen):,} disclosed at random")
    print(
        f"multiproof: {proof_seconds:.2f} s, {len(nodes):,} hashes ({32 * len(nodes) / 1e6:.1f} MB)"
        f"; raw read of the same hashes {raw_seconds:.2f} s"
    )
    print(f"vendor's check of the root: {check_seconds:.2f} s, {'OK' if checked else 'FAILED'}")
    print(
        f"1,000 RFC 9162 inclusion paths: {path_seconds:.2f} s "
        f"({sum(len(p) for p in paths) / len(paths):.1f} hashes each)"
    )
    return 0 if checked else 1


if __name__ == "__main__":
    sys.exit(main())
