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
proofs; :func:`verify_inclusion` and :func:`verify_consistency` are the RFC's verification
algorithms (sections 2.1.3.2 and 2.1.4.2), which a verifier can copy without this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass
class Frontier:
    """The roots of the perfect subtrees along a tree's right edge: O(log n) to append.

    ``nodes[i]`` is the root of a perfect subtree whose height is the i-th set bit of ``size``,
    from the highest; storing these few hashes is enough to append and to give the root.
    """

    size: int = 0
    nodes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (see :func:`leaf_hash`)."""
        node = leaf
        merged = self.size
        while merged & 1:  # a perfect subtree of the same height to the left: join them
            node = node_hash(self.nodes.pop(), node)
            merged >>= 1
        self.nodes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        if not self.nodes:
            return EMPTY_ROOT
        node = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            node = node_hash(left, node)
        return node


class MerkleTree:
    """Every level of the tree over a list of leaf hashes, for proofs at any size up to its own.

    Memory: about two hashes per leaf.  ``levels[h][i]`` is the root of the perfect subtree of
    height h whose leaves are ``[i * 2**h, (i + 1) * 2**h)``.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return len(self.levels[0])

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for ``0 <= start < end <= size``."""
        count = end - start
        if count & (count - 1) == 0 and start % count == 0:  # perfect and aligned: stored
            return self.levels[count.bit_length() - 1][start // count]
        k = _largest_power_of_two_below(count)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

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


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` of the tree of ``size`` with
    ``root`` (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``size`` with ``root`` extends the tree of
    ``old_size`` with ``old_root`` (RFC 9162 section 2.1.4.2)."""
    if not 0 < old_size <= size:
        return False
    if old_size == size:
        return not proof and old_root == root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == root and sn == 0
