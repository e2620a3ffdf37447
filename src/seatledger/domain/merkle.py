"""A Merkle tree over the ledger, as RFC 9162 (Certificate Transparency 2.0) defines it.

The hash chain proves an unbroken sequence but can only be checked whole.  A Merkle tree over
the same entries lets a vendor check that a few disclosed entries belong to a signed checkpoint
(an *inclusion proof*, log2(n) hashes) and that today's ledger extends the one an earlier report
signed (a *consistency proof*), without seeing the other entries.

Leaves and nodes are hashed with distinct prefixes (RFC 9162 section 2.1.1) so that no leaf can
pass for a node::

    MTH({})      = SHA-256()
    leaf hash    = SHA-256(0x00 || d)
    node hash    = SHA-256(0x01 || left || right)
    MTH(D[n])    = node(MTH(D[0:k]), MTH(D[k:n]))  with k the largest power of two below n

:class:`Frontier` appends in O(log n) and gives the root at any size from the stored roots of
the perfect subtrees along the right edge.  :class:`MerkleTree` holds every level and makes the
proofs.  Their verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2, and the multiproof's root)
has one owner: ``services/audits/bundle/verify_bundle.py``, the standard-library script every
bundle ships, so what the tests check is what a vendor runs.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


BLOCK_LEVEL = 5
"""Stored trees keep the root of every aligned block of 2**BLOCK_LEVEL leaves (32 entries); the
levels below are recomputed from the entries themselves when a proof needs them."""
BLOCK = 1 << BLOCK_LEVEL
_RECENT_BLOCKS = 8  # block trees a StoredTree keeps (see StoredTree.block)


@dataclass
class Frontier:
    """The roots of the perfect subtrees along a tree's right edge: O(log n) to append.

    ``nodes[i]`` is the root of a perfect subtree whose height is the i-th set bit of ``size``,
    from the highest; storing these few hashes is enough to append and to give the root.
    """

    size: int = 0
    nodes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> bytes | None:
        """Add one leaf hash (see :func:`leaf_hash`).

        Returns the root of the block of :data:`BLOCK` leaves this leaf completes, if it
        completes one (the caller stores it, see :class:`StoredTree`), else None.
        """
        node = leaf
        merged = self.size
        height = 0
        block: bytes | None = None
        while merged & 1:  # a perfect subtree of the same height to the left: join them
            node = node_hash(self.nodes.pop(), node)
            merged >>= 1
            height += 1
            if height == BLOCK_LEVEL:
                block = node
        self.nodes.append(node)
        self.size += 1
        return block

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        if not self.nodes:
            return EMPTY_ROOT
        node = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            node = node_hash(left, node)
        return node

    def to_bytes(self) -> bytes:
        """The nodes, concatenated (the size is stored beside them)."""
        return b"".join(self.nodes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """The frontier of ``size`` leaves stored as :meth:`to_bytes` wrote it.

        Raises:
            ValueError: ``data`` does not hold one hash per set bit of ``size``.
        """
        count = size.bit_count()
        if len(data) != 32 * count:
            raise ValueError(
                f"a tree of {size} leaves has {count} edge nodes, not {len(data) / 32}"
            )
        return cls(size, [data[i : i + 32] for i in range(0, len(data), 32)])


def block_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of one full block (a power-of-two count of leaf hashes)."""
    level = list(leaves)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


_sha256 = hashlib.sha256
_digest = type(hashlib.sha256()).digest  # unbound: no attribute lookup per call


def _one_block_sha256() -> tuple[Callable[[bytes], Any], Callable[[Any], bytes]]:
    """SHA-256 for inputs of one 64-byte block (a leaf: 33 bytes), and its unbound digest.

    OpenSSL's SHA-256 costs about 0.45 us a call before its first block (a context allocated
    and initialized, another for the digest) and 0.04 us a block; Python's own implementation
    (``_sha256``; ``_sha2`` from 3.12) costs about 0.35 us for one block and 0.25 us each
    further one.  So a leaf hashes faster with Python's own, a node (65 bytes, two blocks)
    and an entry with OpenSSL's; the value is the same SHA-256 either way (see the tests).
    """
    for name in ("_sha2", "_sha256"):  # not every build of Python has them
        try:
            sha256 = importlib.import_module(name).sha256
            return sha256, type(sha256()).digest
        except (ImportError, AttributeError):
            continue
    return _sha256, _digest


_leaf_sha256, _leaf_digest = _one_block_sha256()


def leaf_hashes(data: Iterable[bytes]) -> list[bytes]:
    """:func:`leaf_hash` of each item, in a C loop (no bytecode per leaf; ``b"".join`` of a
    pair costs two thirds of ``b"\x00".__add__``, a method called through its wrapper)."""
    joined = map(b"".join, zip(repeat(b"\x00"), data))
    return list(map(_leaf_digest, map(_leaf_sha256, joined)))


def _pairs(level: Sequence[bytes]) -> list[bytes]:
    """:func:`node_hash` of each pair of an even-length level, in a C loop."""
    joined = map(b"".join, zip(repeat(b"\x01"), level[0::2], level[1::2]))
    return list(map(_digest, map(_sha256, joined)))


def block_roots(leaves: Sequence[bytes]) -> list[bytes]:
    """The root of each aligned block of :data:`BLOCK` leaf hashes (``len(leaves)`` is a
    multiple of BLOCK), computed a level at a time over all the blocks."""
    level = leaves
    for _ in range(BLOCK_LEVEL):
        level = _pairs(level)
    return list(level)


def edge_of(blocks: Sequence[bytes], tail: Sequence[bytes]) -> Frontier:
    """The right edge of the tree whose first ``len(blocks)`` blocks have these roots and whose
    last leaf hashes are ``tail`` (fewer than :data:`BLOCK`): the same :class:`Frontier` as
    appending every leaf, from one hash per node above the blocks."""
    nodes: list[bytes] = []
    start, count = 0, len(blocks)
    for height in reversed(range(count.bit_length())):
        if count >> height & 1:
            level: Sequence[bytes] = blocks[start : start + (1 << height)]
            while len(level) > 1:
                level = _pairs(level)
            nodes.append(level[0])
            start += 1 << height
    rest = Frontier()
    for leaf in tail:
        rest.append(leaf)
    return Frontier(count * BLOCK + rest.size, nodes + rest.nodes)


class BlockCheck:
    """Recomputes the roots of the blocks of leaves given in order and compares each with the
    stored one, remembering the first that differs (see :meth:`add`).

    Args:
        first_block: the index of the block the first leaf given opens.
        stored: the stored block roots by index (an index missing differs from any root).
    """

    def __init__(self, first_block: int, stored: Mapping[int, bytes]) -> None:
        self.index = first_block
        self.differs: int | None = None  # the first block whose stored root differs
        self.tail: list[bytes] = []  # leaf hashes after the last full block
        self._stored = stored

    def add(self, hashes: Iterable[bytes]) -> list[bytes] | None:
        """Take the next entries' chain hashes; each block they complete is checked.  Returns
        their leaf hashes (None once a block differed: nothing more is checked)."""
        if self.differs is not None:  # only the first difference is reported
            return None
        new = leaf_hashes(hashes)
        leaves = self.tail + new
        full = len(leaves) - len(leaves) % BLOCK
        self.tail = leaves[full:]
        if not full:
            return new
        count = full // BLOCK
        roots = block_roots(leaves[:full])
        get = self._stored.get
        expected = [get(index, b"") for index in range(self.index, self.index + count)]
        if roots != expected:
            self.differs = self.index + next(
                i for i, (a, b) in enumerate(zip(roots, expected, strict=True)) if a != b
            )
        self.index += count
        return new


class _Prover:
    """The proofs of RFC 9162 over any source of subtree hashes (:meth:`_subtree`)."""

    size: int

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for ``0 <= start < end <= size``."""
        raise NotImplementedError

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _largest_power_of_two_below(end - start)
            if index < start + k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
        proof.reverse()  # the RFC lists the path from the leaf up
        return proof

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:size]) of RFC 9162 section 2.1.4.1."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 < old_size <= size:
            raise ValueError(f"no consistency proof from {old_size} to {size}")
        return self._subproof(old_size, 0, size, complete=True)

    def _subproof(self, m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self._subtree(start, end)]
        k = _largest_power_of_two_below(n)
        if m <= k:
            below = self._subproof(m, start, start + k, complete=complete)
            return [*below, self._subtree(start + k, end)]
        below = self._subproof(m - k, start + k, end, complete=False)
        return [*below, self._subtree(start, start + k)]

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree holds {self.size} leaves, not {size}")


class MerkleTree(_Prover):
    """Every level of the tree over a list of leaf hashes, for proofs at any size up to its own.

    Memory: about two hashes per leaf.  ``levels[h][i]`` is the root of the perfect subtree of
    height h whose leaves are ``[i * 2**h, (i + 1) * 2**h)``.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(_pairs(below[: len(below) - len(below) % 2]))
        self.size = len(self.levels[0])

    def _subtree(self, start: int, end: int) -> bytes:
        count = end - start
        if count & (count - 1) == 0 and start % count == 0:  # perfect and aligned: stored
            return self.levels[count.bit_length() - 1][start // count]
        k = _largest_power_of_two_below(count)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))


class StoredTree(_Prover):
    """Proofs over a large tree of which only the block roots are kept (see :data:`BLOCK`).

    The levels above the blocks are built in memory from ``blocks`` (the roots of blocks
    0 .. size // BLOCK - 1: a 10M-entry ledger has 312,500, about 20 MB); the levels below are
    rebuilt from ``leaves(block)`` (the leaf hashes of one block, of the tail block only those
    below ``size``), asked for only where a proof reaches into that block.
    """

    def __init__(
        self, size: int, blocks: Sequence[bytes], leaves: Callable[[int], Sequence[bytes]]
    ) -> None:
        if len(blocks) != size // BLOCK:
            raise ValueError(
                f"a tree of {size} leaves has {size // BLOCK} blocks, not {len(blocks)}"
            )
        self.size = size
        self._upper = MerkleTree(blocks)
        self._leaves = leaves
        self._inside: dict[int, MerkleTree] = {}
        self._edges: dict[tuple[int, int], bytes] = {}

    def block(self, index: int) -> MerkleTree:
        """The tree of one block's leaves (the last few are kept: proofs are made left to
        right, so a block is asked for again while it is recent, and a million disclosed
        entries must not keep a million small trees)."""
        tree = self._inside.get(index)
        if tree is None:
            leaves = self._leaves(index)
            expected = min(BLOCK, self.size - index * BLOCK)
            if len(leaves) != expected:
                raise ValueError(f"block {index} has {len(leaves)} leaves, not {expected}")
            if len(self._inside) >= _RECENT_BLOCKS:
                del self._inside[next(iter(self._inside))]
            tree = self._inside[index] = MerkleTree(leaves)
        return tree

    def block_proof(self, index: int, offsets: Sequence[int]) -> list[bytes]:
        """The multiproof hashes inside full block ``index`` for its leaves at ``offsets``
        (ascending, within the block): the subtrees holding none of them, left to right."""
        levels = self.block(index).levels
        return [levels[height][node] for height, node in _block_pattern(tuple(offsets))]

    def _subtree(self, start: int, end: int) -> bytes:
        count = end - start
        if count & (count - 1) == 0 and start % count == 0:  # perfect and aligned
            if count >= BLOCK:
                return self._upper.levels[(count >> BLOCK_LEVEL).bit_length() - 1][start // count]
            first = start - start % BLOCK
            return self.block(start // BLOCK).levels[count.bit_length() - 1][
                (start - first) // count
            ]
        found = self._edges.get((start, end))
        if found is None:
            k = _largest_power_of_two_below(count)
            found = node_hash(self._subtree(start, start + k), self._subtree(start + k, end))
            self._edges[(start, end)] = found
        return found


@functools.lru_cache(maxsize=4096)
def _block_pattern(offsets: tuple[int, ...]) -> list[tuple[int, int]]:
    """Where the multiproof hashes of a full block whose leaves at ``offsets`` are disclosed
    sit, as (height, node) in its tree, left to right: every node holding none of them whose
    parent holds one (the maximal subtrees :func:`multiproof` visits)."""
    holding = [set(offsets)]
    for _ in range(BLOCK_LEVEL):
        holding.append({node >> 1 for node in holding[-1]})
    found: list[tuple[int, int, int]] = []
    for height in range(BLOCK_LEVEL):
        for parent in holding[height + 1]:
            for node in (2 * parent, 2 * parent + 1):
                if node not in holding[height]:
                    found.append((node << height, height, node))
    return [(height, node) for _start, height, node in sorted(found)]


def multiproof(tree: _Prover, indexes: Sequence[int], size: int | None = None) -> list[bytes]:
    """The hashes that, with the leaves at ``indexes``, give the root of the first ``size``
    leaves: one per maximal subtree holding none of them, in the order the bundle verifier's
    ``multiproof_root`` reads them (left to right, depth first).

    Disclosing many entries this way costs one hash per undisclosed subtree instead of a whole
    inclusion path per entry, and each entry's RFC 9162 path can still be read off it (every
    hash on the path is either given here or computed from disclosed leaves).
    """
    size = tree.size if size is None else size
    wanted = sorted(set(indexes))
    if wanted and not (wanted[0] >= 0 and wanted[-1] < size):
        raise ValueError(f"leaves {wanted[0]}..{wanted[-1]} are not all in a tree of {size}")
    out: list[bytes] = []

    stored = tree if isinstance(tree, StoredTree) else None

    def visit(start: int, end: int, lo: int, hi: int) -> None:
        if lo == hi:
            out.append(tree._subtree(start, end))
            return
        if end - start == 1:
            return
        if stored is not None and end - start == BLOCK and start % BLOCK == 0:  # a whole block
            offsets = [index - start for index in wanted[lo:hi]]
            out.extend(stored.block_proof(start // BLOCK, offsets))
            return
        k = _largest_power_of_two_below(end - start)
        mid = bisect.bisect_left(wanted, start + k, lo, hi)
        visit(start, start + k, lo, mid)
        visit(start + k, end, mid, hi)

    if size:
        visit(0, size, 0, len(wanted))
    return out
