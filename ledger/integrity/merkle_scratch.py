"""The Merkle tree `verify` recomputes from the events, kept in the scratch database.

`merkle.MemoryLevels` keeps every level of the tree in Python lists (two hashes per leaf, and
verify kept a (position, leaf) list beside it): memory grows with the log. `ScratchTree` appends
leaves as the chain pass streams them, keeps only the right edge of the tree in memory (one hash
per level, waiting for its right sibling) and writes every completed perfect subtree to the
scratch file, with the store position of every leaf. Lookups by (level, index) — roots of
checkpoints, the comparison with the stored nodes — read the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.integrity import merkle
from ledger.integrity.scratch import COPY_ROWS, Scratch


class ScratchTree:
    """Perfect-subtree hashes of the leaves appended so far (`perfect`, `size`), in the scratch file."""

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        scratch.db.execute("CREATE TABLE verify_leaves (idx INTEGER PRIMARY KEY, position INTEGER NOT NULL)")
        scratch.db.execute("CREATE TABLE verify_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, "
                           "PRIMARY KEY (level, idx)) WITHOUT ROWID")
        self.size = 0
        self._edge: list[bytes | None] = []  # per level: the last even-index node, waiting for its sibling
        self._leaves: list[tuple[int, int]] = []
        self._nodes: list[tuple[int, int, bytes]] = []

    def append(self, position: int, leaf: bytes) -> None:
        index, level, current = self.size, 0, leaf
        self._leaves.append((index, position))
        self._nodes.append((0, index, current))
        while index % 2 == 1:
            left = self._edge[level]
            assert left is not None, (level, index)
            current = merkle.node_hash(left, current)
            self._edge[level] = None
            level, index = level + 1, index // 2
            self._nodes.append((level, index, current))
        if level == len(self._edge):
            self._edge.append(None)
        self._edge[level] = current
        self.size += 1
        if len(self._nodes) >= COPY_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write what is pending (call before reading)."""
        self.scratch.insert("verify_leaves", self._leaves, 2)
        self.scratch.insert("verify_nodes", self._nodes, 3)
        self._leaves, self._nodes = [], []

    def perfect(self, level: int, index: int) -> bytes:
        rows = self.scratch.db.query("SELECT hash FROM verify_nodes WHERE level = ? AND idx = ?", (level, index))
        assert rows, f"no recomputed Merkle node at level {level}, index {index}"
        return bytes(rows[0][0])

    def root(self, size: int) -> bytes:
        return merkle.root(self.perfect, size)

    def position_of(self, leaf_index: int) -> int | None:
        """The store position of leaf `leaf_index`, None beyond the log."""
        rows = self.scratch.db.query("SELECT position FROM verify_leaves WHERE idx = ?", (leaf_index,))
        return int(rows[0][0]) if rows else None

    def first_mismatch(self, stored: Iterator[Any]) -> tuple[int, int] | None:
        """The first stored node (level, idx) — `stored` ascending by (level, idx) — that the
        recomputed tree lacks or holds with another hash; a merge of the two sorted streams."""
        mine = self.scratch.rows("SELECT level, idx, hash FROM verify_nodes ORDER BY level, idx")
        current = next(mine, None)
        for level, index, value in stored:
            key = (int(level), int(index))
            while current is not None and (current[0], current[1]) < key:
                current = next(mine, None)
            if current is None or (current[0], current[1]) != key or bytes(current[2]) != bytes(value):
                mine.close()
                return key
        mine.close()
        return None
