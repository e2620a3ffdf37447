"""The ledger's Merkle tree against RFC 9162: roots, inclusion and consistency proofs, each
checked by the verifier every bundle ships (``verify_bundle.py``)."""

from __future__ import annotations

import hashlib
import importlib
import random

import pytest

from seatledger.domain.merkle import (
    BLOCK,
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    StoredTree,
    _one_block_sha256,
    block_root,
    leaf_hash,
    leaf_hashes,
    multiproof,
    node_hash,
)
from seatledger.services.audits.bundle.verify_bundle import (
    multiproof_root,
    verify_consistency,
    verify_inclusion,
)


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH as RFC 9162 section 2.1.1 writes it, recursively over the leaf hashes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def leaves_of(count: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(count)]


def test_hashes_separate_leaves_from_nodes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


def test_leaf_hashes_are_sha256_of_a_zero_byte_and_each_item() -> None:
    # leaf_hashes takes Python's own SHA-256 where it has one (faster for one block): the value
    # must be SHA-256's for every length, a chain hash's 32 bytes and any other.
    items = [b"", b"\x00", bytes(31), bytes(range(32)), b"\xff" * 55, b"\xfe" * 56, b"x" * 200]
    expected = [hashlib.sha256(b"\x00" + item).digest() for item in items]
    assert leaf_hashes(items) == expected
    assert leaf_hashes(iter(items)) == expected
    assert [leaf_hash(item) for item in items] == expected
    with pytest.raises(TypeError):
        leaf_hashes(["text"])  # type: ignore[list-item]


def test_without_pythons_own_sha256_leaves_hash_with_openssls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> object:
        raise ImportError(name)

    found, _digest = _one_block_sha256()
    assert found is not hashlib.sha256  # this Python has its own, else the test proves nothing
    monkeypatch.setattr(importlib, "import_module", missing)
    sha256, digest = _one_block_sha256()
    assert sha256 is hashlib.sha256
    assert digest(sha256(b"\x00abc")) == leaf_hash(b"abc")


def test_every_root_inclusion_and_consistency_proof_up_to_64() -> None:
    leaves = leaves_of(64)
    tree = MerkleTree(leaves)
    frontier = Frontier()
    for size in range(65):
        root = reference_root(leaves[:size])
        assert tree.root(size) == root
        assert frontier.root() == root
        if size < 64:
            frontier.append(leaves[size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(index, size, leaves[index], proof, root)
            # The same proof for another leaf, index or size fails.
            assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
            if size < 64:  # the root of another size (a checkpoint binds size and root)
                assert not verify_inclusion(index, size, leaves[index], proof, tree.root(size + 1))
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, leaves[index], proof, root)
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            old_root = reference_root(leaves[:old])
            assert verify_consistency(old, size, old_root, root, proof)
            if old < size:
                assert not verify_consistency(old, size, leaf_hash(b"x"), root, proof)
                assert not verify_consistency(old, size, old_root, leaf_hash(b"x"), proof)
                assert not verify_consistency(old, size, old_root, root, proof[:-1])


def test_a_tampered_proof_hash_fails() -> None:
    leaves = leaves_of(37)
    tree = MerkleTree(leaves)
    root = tree.root()
    proof = tree.inclusion_proof(21)
    for position in range(len(proof)):
        bad = list(proof)
        bad[position] = leaf_hash(b"tampered")
        assert not verify_inclusion(21, 37, leaves[21], bad, root)
    consistency = tree.consistency_proof(13)
    for position in range(len(consistency)):
        bad = list(consistency)
        bad[position] = leaf_hash(b"tampered")
        assert not verify_consistency(13, 37, tree.root(13), root, bad)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sizes_up_to_a_million(seed: int) -> None:
    chance = random.Random(seed)
    size = chance.randint(100_000, 1_000_000)
    leaves = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size)]
    tree = MerkleTree(leaves)
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    root = tree.root()
    assert frontier.root() == root
    for _ in range(20):
        index = chance.randrange(size)
        proof = tree.inclusion_proof(index)
        assert len(proof) <= size.bit_length()
        assert verify_inclusion(index, size, leaves[index], proof, root)
        old = chance.randint(1, size)
        assert verify_consistency(old, size, tree.root(old), root, tree.consistency_proof(old))


# The known answers of the Certificate Transparency reference implementation (the leaves and
# tree heads its tests and RFC 6962 implementations share).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def test_the_certificate_transparency_known_answers() -> None:
    tree = MerkleTree([leaf_hash(data) for data in CT_LEAVES])
    assert [tree.root(size).hex() for size in range(1, 9)] == CT_ROOTS
    # PATH(0, D[8]) is the first three hashes of the (1, 8) consistency proof.
    assert [h.hex() for h in tree.inclusion_proof(0, 8)] == CT_CONSISTENCY[1, 8]
    for (old, new), expected in CT_CONSISTENCY.items():
        proof = tree.consistency_proof(old, new)
        assert [h.hex() for h in proof] == expected
        assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)


def test_the_frontier_hands_out_each_block_root_as_it_completes() -> None:
    leaves = leaves_of(5 * BLOCK + 7)
    frontier = Frontier()
    blocks = [block for leaf in leaves if (block := frontier.append(leaf)) is not None]
    assert blocks == [block_root(leaves[i : i + BLOCK]) for i in range(0, 5 * BLOCK, BLOCK)]
    assert frontier.root() == MerkleTree(leaves).root()
    again = Frontier.from_bytes(frontier.size, frontier.to_bytes())
    assert again == frontier
    with pytest.raises(ValueError, match="edge nodes"):
        Frontier.from_bytes(frontier.size + 1, frontier.to_bytes())


@pytest.mark.parametrize("size", [1, 2, 31, 32, 33, 63, 64, 65, 100, 1000, 1024, 1025])
def test_a_stored_tree_proves_what_the_whole_tree_proves(size: int) -> None:
    leaves = leaves_of(size)
    whole = MerkleTree(leaves)
    asked: list[int] = []

    def block_leaves(index: int) -> list[bytes]:
        asked.append(index)
        return leaves[index * BLOCK : (index + 1) * BLOCK]

    blocks = [block_root(leaves[i : i + BLOCK]) for i in range(0, size - size % BLOCK, BLOCK)]
    stored = StoredTree(size, blocks, block_leaves)
    assert stored.root() == whole.root()
    indexes = sorted({0, size - 1, size // 2, size // 3})
    for index in indexes:
        proof = stored.inclusion_proof(index)
        assert proof == whole.inclusion_proof(index)
        assert verify_inclusion(index, size, leaves[index], proof, stored.root())
    for old in sorted({1, size // 2 or 1, size - 1 or 1, size}):
        assert stored.consistency_proof(old) == whole.consistency_proof(old)
    # Only the blocks a proof reaches into were read, each once.
    assert len(asked) == len(set(asked))
    assert len(asked) <= len(indexes) + 3 + 2 * size.bit_length()


def test_a_stored_tree_refuses_blocks_that_do_not_fit() -> None:
    leaves = leaves_of(70)
    with pytest.raises(ValueError, match="2 blocks, not 1"):
        StoredTree(70, [block_root(leaves[:32])], lambda i: leaves[i * 32 : i * 32 + 32])
    short = StoredTree(70, [block_root(leaves[:32]), block_root(leaves[32:64])], lambda i: [])
    with pytest.raises(ValueError, match="block 2 has 0 leaves, not 6"):
        short.inclusion_proof(69)


@pytest.mark.parametrize("size", [1, 2, 3, 31, 32, 33, 64, 100, 1025])
def test_a_multiproof_gives_the_root_from_the_disclosed_leaves_alone(size: int) -> None:
    leaves = leaves_of(size)
    whole = MerkleTree(leaves)
    rng = random.Random(size)
    for count in sorted({0, 1, min(2, size), size // 3, size}):
        chosen = sorted(rng.sample(range(size), count))
        nodes = whole_nodes = multiproof(whole, chosen)
        disclosed = [(i, leaves[i]) for i in chosen]
        assert multiproof_root(size, disclosed, nodes) == whole.root()
        # Fewer hashes than inclusion paths as soon as two leaves share a path.
        assert len(whole_nodes) <= sum(len(whole.inclusion_proof(i)) for i in chosen) or count < 2
        if count:
            forged = [(chosen[0], leaf_hash(b"forged")), *disclosed[1:]]
            assert multiproof_root(size, forged, nodes) != whole.root()
        if nodes:
            assert multiproof_root(size, disclosed, nodes[:-1]) is None
        assert multiproof_root(size, disclosed, [*nodes, bytes(32)]) is None
    # A stored tree gives the same multiproof.
    blocks = [block_root(leaves[i : i + BLOCK]) for i in range(0, size - size % BLOCK, BLOCK)]
    stored = StoredTree(size, blocks, lambda b: leaves[b * BLOCK : (b + 1) * BLOCK])
    chosen = sorted(rng.sample(range(size), max(1, size // 7)))
    assert multiproof(stored, chosen) == multiproof(whole, chosen)
