"""Proofs from the stored tree: the window of blocks read ahead gives the proofs a block at a
time gives (both engines)."""

from __future__ import annotations

from seatledger.domain.merkle import leaf_hash, multiproof
from seatledger.services.audits.bundle import verify_bundle as vb
from seatledger.services.operators.session import Services
from seatledger.store import ledger_store


def test_proofs_read_a_window_of_blocks_as_one_block_at_a_time(admin: Services) -> None:
    for n in range(140):  # five blocks of 32 entries and a tail
        admin.directory.add_team(f"Team {n}")
    with admin.db.read() as session:
        size, _head, root = ledger_store.checkpoint(session)
    wanted = [0, 3, 40, 41, 63, 64, 100, 130, size - 1]
    with admin.db.engine.connect() as conn:
        alone = multiproof(ledger_store.tree(conn, size), wanted)
        ahead = multiproof(ledger_store.tree(conn, size, wanted), wanted)
    with admin.db.read() as session:
        hashes = {index: ledger_store.stored_hash(session, index + 1) for index in wanted}
    assert ahead == alone
    leaves = [(index, leaf_hash(hashes[index] or b"")) for index in wanted]
    assert vb.multiproof_root(size, leaves, ahead) == root
