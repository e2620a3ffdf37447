"""Checking the ledger's stored Merkle tree against its entries.

The tree is derived from the entries' chain hashes (see :mod:`seatledger.domain.merkle`), so an
intact chain implies the true tree; this check proves that the *stored* tree (each block's root
in ``ledger_block``, the right edge beside the head) is that tree, because reports prove their
entries with it.  It reads the hashes only, 32 bytes an entry.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from seatledger.domain.ledger import Failure, Problem
from seatledger.domain.merkle import BLOCK, Frontier, leaf_hash
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.models import LedgerBlock


def check_tree(
    db: Database, size: int, progress: Callable[[int], None] | None = None
) -> Failure | None:
    """The first entry whose block (or the right edge) differs from the stored tree, if any.

    Args:
        db: the open database.
        size: the recorded size whose chain has just verified.
        progress: told how many entries have been checked (it may raise Cancelled).
    """
    with db.read() as session:
        stored_edge = ledger_store.frontier(session, size)
        blocks = {
            int(index): bytes(root)
            for index, root in session.execute(select(LedgerBlock.idx, LedgerBlock.hash))
        }
    edge = Frontier()
    done = 0
    with db.engine.connect() as conn:
        for batch in ledger_store.hash_batches(conn, 0, size):
            for digest in batch:
                block = edge.append(leaf_hash(digest))
                if block is not None:
                    index = edge.size // BLOCK - 1
                    if blocks.pop(index, b"") != block:
                        first = index * BLOCK + 1
                        detail = f"the stored root of entries {first}-{first + BLOCK - 1} differs"
                        return Failure(first, Problem.TREE, detail)
            done += len(batch)
            if progress is not None:
                progress(done)
            conn.rollback()
    if blocks:
        index = min(blocks)
        detail = f"a root is stored for entries {index * BLOCK + 1}-{(index + 1) * BLOCK}"
        return Failure(index * BLOCK + 1, Problem.TREE, detail + ", which are not recorded")
    if edge != stored_edge:
        return Failure(size, Problem.TREE, "the right edge stored with the head differs")
    return None
