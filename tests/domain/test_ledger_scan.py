"""The fast batch check of the ledger and the tree's block check against the plain ones: a batch
the fast check vouches for passes :func:`verify_chain`, and whatever it cannot vouch for is left
to it (None), never waved through."""

from __future__ import annotations

import random

import pytest

from seatledger.domain.ledger import (
    GENESIS_HASH,
    LocatedRow,
    ScanRow,
    StoredEntry,
    chain,
    column_prefix,
    intact_batch,
    intact_located,
    make_body,
    prefix_pieces,
    verify_chain,
)
from seatledger.domain.merkle import BLOCK, BlockCheck, Frontier, block_root, edge_of, leaf_hash

ODD_COLUMNS = [
    {"entity_id": 'a"b'},
    {"entity_id": "a\\b"},
    {"operator": "ad\nmin"},
    {"ts": "2026\x002"},
    {"action": 'seat."assign'},
    {"entity_id": "Zoë"},  # no escape needed: vouched for
]
"""Columns of honest entries that JSON escapes, and one it need not."""


def _entries(count: int, **odd: str) -> list[StoredEntry]:
    """``count`` chained entries; ``odd`` replaces a column of entry 3 (body and column alike)."""
    unchained = []
    for seq in range(1, count + 1):
        values = {
            "ts": f"2026-01-01T00:00:{seq % 60:02d}.000000Z",
            "operator": "admin",
            "action": "seat.assign",
            "entity_type": "entitlement",
            "entity_id": str(seq),
        }
        if seq == 3:
            values.update(odd)
        body = make_body(
            seq=seq,
            role="administrator",
            reason="",
            before=None,
            after={"n": seq},
            ts=values["ts"],
            operator=values["operator"],
            action=values["action"],
            entity_type=values["entity_type"],
            entity_id=values["entity_id"],
        )
        unchained.append(
            (
                seq,
                values["ts"],
                values["operator"],
                values["action"],
                values["entity_type"],
                values["entity_id"],
                body,
            )
        )
    return [StoredEntry(*row) for row in chain(unchained, GENESIS_HASH)]


def _scan_rows(entries: list[StoredEntry]) -> list[ScanRow]:
    """What storage reads for the fast check: the prefix is the columns concatenated as
    prefix_pieces says, without any JSON escaping."""
    rows = []
    for entry in entries:
        prefix = "".join(
            text if column is None else str(getattr(entry, column))
            for text, column in prefix_pieces()
        )
        rows.append((entry.body, entry.prev_hash, entry.hash, prefix.encode()))
    return rows


def _located_rows(entries: list[StoredEntry]) -> list[LocatedRow]:
    """What storage reads for the quickest check: where the body holds the concatenated prefix,
    counted from 1 as SQL's instr() and position() count (0: nowhere)."""
    return [
        # A body stored as text: say it was found, the worst storage could say.
        (body, prev, digest, body.find(prefix) + 1 if isinstance(body, bytes) else 1)
        for (body, prev, digest, prefix) in _scan_rows(entries)
    ]


def test_the_concatenated_prefix_is_the_body_prefix_for_plain_columns() -> None:
    entry = _entries(1)[0]
    expected = column_prefix(
        entry.seq,
        entry.ts,
        entry.operator,
        entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
    )
    assert _scan_rows([entry])[0][3] == expected
    assert entry.body.startswith(expected)


def test_an_intact_batch_is_vouched_for_with_its_hashes() -> None:
    entries = _entries(40)
    rows = _scan_rows(entries)
    assert intact_batch(rows, 1, GENESIS_HASH) == tuple(e.hash for e in entries)
    assert intact_batch(rows[10:], 11, entries[9].hash) == tuple(e.hash for e in entries[10:])
    assert intact_batch([], 41, entries[-1].hash) == ()
    assert verify_chain(entries).ok


@pytest.mark.parametrize("odd", ODD_COLUMNS)
def test_columns_that_json_escapes_are_left_to_the_exact_check(odd: dict[str, str]) -> None:
    entries = _entries(8, **odd)
    assert verify_chain(entries).ok  # honest entries, whatever their columns hold
    vouched = intact_batch(_scan_rows(entries), 1, GENESIS_HASH)
    if "Zoë" in odd.values():
        assert vouched == tuple(e.hash for e in entries)
    else:
        assert vouched is None


def _tampered(entries: list[StoredEntry], kind: str) -> list[StoredEntry]:
    victim = entries[4]
    if kind == "body":
        entries[4] = victim._replace(body=victim.body.replace(b'"n":5', b'"n":6'))
    elif kind == "column":
        entries[4] = victim._replace(entity_id="999")
    elif kind == "hash":
        entries[4] = victim._replace(hash=bytes(32))
    elif kind == "link":
        entries[4] = victim._replace(prev_hash=bytes(32))
    elif kind == "text body":
        entries[4] = victim._replace(body=victim.body.decode())  # type: ignore[arg-type]
    return entries


@pytest.mark.parametrize("kind", ["body", "column", "hash", "link", "text body"])
def test_a_tampered_batch_is_not_vouched_for_and_the_exact_check_names_it(kind: str) -> None:
    entries = _tampered(_entries(12), kind)
    assert intact_batch(_scan_rows(entries), 1, GENESIS_HASH) is None
    verdict = verify_chain(entries)
    assert verdict.failure is not None
    assert verdict.failure.seq in {5, 6}  # a broken link shows at the entry after an edit


def test_an_intact_located_batch_is_vouched_for_with_its_hashes() -> None:
    entries = _entries(40)
    rows = _located_rows(entries)
    assert intact_located(rows, 1, GENESIS_HASH) == tuple(e.hash for e in entries)
    assert intact_located(rows[10:], 11, entries[9].hash) == tuple(e.hash for e in entries[10:])
    assert intact_located([], 41, entries[-1].hash) == ()


@pytest.mark.parametrize("odd", ODD_COLUMNS)
def test_a_body_with_an_escape_is_left_to_the_prefix_check(odd: dict[str, str]) -> None:
    # Honest entries whose columns need JSON escapes have a backslash in the body: the located
    # check decides nothing there, and intact_batch or the exact check does.
    entries = _entries(8, **odd)
    vouched = intact_located(_located_rows(entries), 1, GENESIS_HASH)
    if "Zoë" in odd.values():
        assert vouched == tuple(e.hash for e in entries)
    else:
        assert vouched is None


@pytest.mark.parametrize("kind", ["body", "column", "hash", "link", "text body"])
def test_a_tampered_located_batch_is_not_vouched_for(kind: str) -> None:
    entries = _tampered(_entries(12), kind)
    assert intact_located(_located_rows(entries), 1, GENESIS_HASH) is None


def test_a_column_holding_its_body_text_escaped_is_not_vouched_for() -> None:
    # The body holds a\\b (JSON for a\b): a column edited to the escaped text makes the same
    # prefix, so only the backslash in the body stops the located check from vouching.
    entries = _entries(6, entity_id="a\\b")
    assert b"a\\\\b" in entries[2].body
    forged = list(entries)
    forged[2] = entries[2]._replace(entity_id="a\\\\b")
    rows = _located_rows(forged)
    assert rows[2][3] == 1  # the forged prefix does start the body
    assert intact_located(rows, 1, GENESIS_HASH) is None
    assert verify_chain(forged).failure is not None


def test_no_edit_of_the_indexed_columns_is_vouched_for_by_where_the_prefix_is_found() -> None:
    # The located check trusts "the body starts with the columns' prefix" alone (backslash-free
    # bodies): columns that shift text between them, or add quotes, separators or escapes, must
    # never start the body the same way.  Thousands of edits, many built from the body's own
    # text, and each is either refused or leaves every column as it was.
    rng = random.Random(20261208)
    entries = _entries(6)
    columns = ["action", "entity_type", "entity_id", "operator", "ts"]
    pieces = ['"', ",", ":", '","', '":"', "\\", "a", "entity", "\n", "Zoë"]
    refused = 0
    for _ in range(4000):
        victim = entries[3]
        edited: dict[str, str] = {}
        for column in rng.sample(columns, rng.randint(1, 3)):
            value = str(getattr(victim, column))
            cut = rng.randint(0, len(value))
            if rng.random() < 0.5:  # move text across the boundary with the next column
                body = victim.body.decode()
                start = body.index(value) if value in body else 0
                value = body[start : start + cut + rng.randint(0, 30)]
            else:
                value = value[:cut] + rng.choice(pieces) + value[cut + rng.randint(0, 2) :]
            edited[column] = value
        tampered = list(entries)
        tampered[3] = victim._replace(**edited)
        vouched = intact_located(_located_rows(tampered), 1, GENESIS_HASH)
        if vouched is None:
            refused += 1
        else:
            assert all(getattr(tampered[3], c) == getattr(victim, c) for c in columns), edited
    assert refused > 3500


def test_a_batch_that_does_not_follow_the_previous_hash_is_not_vouched_for() -> None:
    entries = _entries(5)
    assert intact_batch(_scan_rows(entries[1:]), 2, GENESIS_HASH) is None
    assert intact_batch(_scan_rows(entries[1:]), 3, entries[0].hash) is None  # seq shifted


def _frontier_of(leaves: list[bytes]) -> Frontier:
    edge = Frontier()
    for leaf in leaves:
        edge.append(leaf)
    return edge


@pytest.mark.parametrize("size", [0, 1, 31, 32, 33, 64, 95, 96, 200, 1000, 32 * 37 + 5])
def test_the_edge_from_block_roots_is_the_edge_of_every_leaf(size: int) -> None:
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(size)]
    blocks = [block_root(leaves[i : i + BLOCK]) for i in range(0, size - size % BLOCK, BLOCK)]
    edge = edge_of(blocks, leaves[size - size % BLOCK :])
    assert edge == _frontier_of(leaves)
    assert edge.root() == _frontier_of(leaves).root()


def test_the_block_check_finds_the_first_stored_root_that_differs() -> None:
    rng = random.Random(7)
    hashes = [rng.randbytes(32) for _ in range(10 * BLOCK + 9)]
    leaves = [leaf_hash(h) for h in hashes]
    stored = {i: block_root(leaves[i * BLOCK : (i + 1) * BLOCK]) for i in range(10)}

    intact = BlockCheck(0, stored)
    for start in range(0, len(hashes), 45):  # batches that cut blocks anywhere
        intact.add(hashes[start : start + 45])
    assert intact.differs is None
    assert intact.tail == leaves[10 * BLOCK :]

    second_half = BlockCheck(4, stored)
    second_half.add(hashes[4 * BLOCK :])
    assert second_half.differs is None

    forged = {**stored, 6: bytes(32)}
    del forged[8]  # missing too, but later: the first is named
    check = BlockCheck(0, forged)
    for start in range(0, len(hashes), 100):
        check.add(hashes[start : start + 100])
    assert check.differs == 6
