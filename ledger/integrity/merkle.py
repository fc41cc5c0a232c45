"""RFC 9162 (Certificate Transparency v2) Merkle trees: hashes, roots, proofs, verification.

Shapes and algorithms exactly as the RFC (and RFC 6962) define them, so proofs interoperate with
any standard verifier: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), the tree
of n leaves splits at the largest power of two smaller than n; inclusion proofs are PATH(m, D[n])
(§2.1.3) and consistency proofs PROOF(m, D[n]) (§2.1.4), verified by the iterative algorithms of
§2.1.3.2 and §2.1.4.2.

Hashes of perfect subtrees come from a `PerfectHashes` source — a list of levels in memory, or the
Merkle projection's table — so a proof costs O(log² n) lookups, not a pass over the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# perfect(level, index) -> hash of leaves [index·2^level, (index+1)·2^level)
PerfectHashes = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not verify."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    assert n > 1
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(perfect: PerfectHashes, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range that is a node of the RFC tree (start aligned to the split)."""
    assert 0 <= start < end
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        return perfect(size.bit_length() - 1, start // size)
    k = _split(size)
    return node_hash(subtree_root(perfect, start, start + k), subtree_root(perfect, start + k, end))


def root(perfect: PerfectHashes, size: int) -> bytes:
    return EMPTY_ROOT if size == 0 else subtree_root(perfect, 0, size)


def inclusion_proof(perfect: PerfectHashes, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf-side first."""
    assert 0 <= index < size
    return _path(perfect, index, 0, size)


def _path(perfect: PerfectHashes, m: int, start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return _path(perfect, m, start, start + k) + [subtree_root(perfect, start + k, end)]
    return _path(perfect, m - k, start + k, end) + [subtree_root(perfect, start, start + k)]


def consistency_proof(perfect: PerfectHashes, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1."""
    assert 0 < old_size <= new_size
    if old_size == new_size:
        return []
    return _subproof(perfect, old_size, 0, new_size, True)


def _subproof(perfect: PerfectHashes, m: int, start: int, end: int, complete: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree_root(perfect, start, end)]
    k = _split(n)
    if m <= k:
        return _subproof(perfect, m, start, start + k, complete) + [subtree_root(perfect, start + k, end)]
    return _subproof(perfect, m - k, start + k, end, False) + [subtree_root(perfect, start, start + k)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless `leaf` is at `index` of the tree with that root."""
    if index < 0 or index >= size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    _check_hash(expected_root, "the root")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p)
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    if r != expected_root:
        raise ProofError("the proof does not lead to the expected root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the new tree extends the old one."""
    if old_size < 0 or new_size < 0 or old_size > new_size:
        raise ProofError(f"a tree of size {old_size} cannot be a prefix of one of size {new_size}")
    if old_size == 0:
        raise ProofError("consistency with an empty tree proves nothing")
    if old_size == new_size:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if old_root != new_root:
            raise ProofError("trees of equal size must have the same root")
        return
    _check_hash(old_root, "the old root")
    _check_hash(new_root, "the new root")
    if not proof:
        raise ProofError("the proof is empty")
    for p in proof:
        _check_hash(p)
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the trees are deep")
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the trees are deep")
    if fr != old_root:
        raise ProofError("the proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the proof does not lead to the new root")


def _check_hash(value: bytes, what: str = "a proof node") -> None:
    if not isinstance(value, bytes) or len(value) != HASH_BYTES:
        raise ProofError(f"{what} is not a 32-byte SHA-256 hash")


class MemoryLevels:
    """Perfect-subtree hashes of a list of leaf hashes, level by level (for verify and tests)."""

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    def append(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        level = 0
        while len(self.levels[level]) % 2 == 0:
            pair = self.levels[level][-2:]
            if len(self.levels) == level + 1:
                self.levels.append([])
            self.levels[level + 1].append(node_hash(pair[0], pair[1]))
            level += 1

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def perfect(self, level: int, index: int) -> bytes:
        return self.levels[level][index]
