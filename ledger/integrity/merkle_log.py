"""The Merkle log: an RFC 9162 tree over the hash chain's leaves, kept beside the events.

Like a transparency log's sequencer, it follows the chain (`ledger_chain`, written with the
events) and stores every perfect subtree hash, so roots and proofs for any tree size cost
O(log² n) lookups. It is derived data: dropping the table and catching up rebuilds it exactly.
"""

from __future__ import annotations

from collections.abc import Callable

from functools import lru_cache
from typing import Any

from ledger.integrity import merkle
from ledger.store.chain import ChainRow

NODES_TABLE = "ledger_merkle_nodes"
CHUNK_LEAVES = 5_000


class MerkleLog:
    def __init__(self, db: Any, recorder: Any) -> None:
        self.db = db
        self.recorder = recorder
        db.ensure_tables(NODES_TABLE, [f"CREATE TABLE IF NOT EXISTS {NODES_TABLE} (level BIGINT NOT NULL, "
                                        "idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx))"])
        self._cached = lru_cache(maxsize=65_536)(self._load)

    @property
    def size(self) -> int:
        """How many leaves the stored tree holds."""
        return int(self.db.query(f"SELECT COUNT(*) FROM {NODES_TABLE} WHERE level = 0")[0][0])

    def catch_up(self, on_progress: Callable[[int], None] | None = None) -> int:
        """Add the chain's new leaves; returns the tree size (`on_progress(size)` after each chunk)."""
        size = self.size
        while True:
            rows: list[ChainRow] = self._chain_after_leaf(size)
            if not rows:
                return size
            with self.db.transaction():
                assert int(self.db.query(f"SELECT COUNT(*) FROM {NODES_TABLE} WHERE level = 0")[0][0]) == size
                self._append(size, [row[2] for row in rows])
            size += len(rows)
            if on_progress is not None:
                on_progress(size)

    def _chain_after_leaf(self, size: int) -> list[ChainRow]:
        after = 0
        if size:
            after = self._position_of_leaf(size - 1)
        rows = self.recorder.select_chain(after, CHUNK_LEAVES)
        assert all(row[1] == size + i for i, row in enumerate(rows)), "chain leaves are consecutive"
        return rows

    def _position_of_leaf(self, index: int) -> int:
        return self.recorder.position_of_leaf(index)

    def _append(self, size: int, leaves: list[bytes]) -> None:
        nodes: list[tuple[int, int, bytes]] = []
        pending: dict[tuple[int, int], bytes] = {}

        def get(level: int, index: int) -> bytes:
            return pending.get((level, index)) or self.perfect(level, index)

        for offset, leaf in enumerate(leaves):
            index, level, current = size + offset, 0, leaf
            pending[0, index] = current
            nodes.append((0, index, current))
            while index % 2 == 1:
                current = merkle.node_hash(get(level, index - 1), current)
                level, index = level + 1, index // 2
                pending[level, index] = current
                nodes.append((level, index, current))
        self.db.executemany(f"INSERT INTO {NODES_TABLE} VALUES (?, ?, ?)", nodes)

    def _load(self, level: int, index: int) -> bytes:
        rows = self.db.query(f"SELECT hash FROM {NODES_TABLE} WHERE level = ? AND idx = ?", (level, index))
        assert rows, f"no Merkle node at level {level}, index {index}"
        return bytes(rows[0][0])

    def perfect(self, level: int, index: int) -> bytes:
        return self._cached(level, index)

    def root(self, size: int) -> bytes:
        return merkle.root(self.perfect, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(self.perfect, index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return merkle.consistency_proof(self.perfect, old_size, new_size)

    def drop(self) -> None:
        with self.db.transaction():
            self.db.execute(f"DELETE FROM {NODES_TABLE}")
        self._cached.cache_clear()
