"""Schema setup that runs once per store, never on every open (issue 10, SPEC §5 concurrency).

Every group of tables (the events with their keys and chain, the projection positions, the
Merkle nodes, the checkpoints) is created by a list of DDL statements. The store records, per
group, a digest of the statements that made it (`ledger_setup`). Opening a store first reads that
row: when it matches, no DDL runs at all, so any number of processes may open one store at once.
Otherwise the statements run in one transaction holding the store's setup lock (on PostgreSQL a
transaction-scoped advisory lock on a constant key per schema; on SQLite the write lock), and the
digest is checked again under the lock, so setup runs once however many processes race to it.
Changing a group's statements changes its digest, so the setup runs again (idempotent DDL only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

SETUP_TABLE = "ledger_setup"
SETUP_TABLE_DDL = f"CREATE TABLE IF NOT EXISTS {SETUP_TABLE} (name TEXT PRIMARY KEY, digest TEXT NOT NULL)"
SETUP_LOCK_NAMESPACE = "tenge-ledger schema setup\n"


def statements_digest(statements: Sequence[str]) -> str:
    """What a group of DDL statements is, for comparing with what the store recorded."""
    assert statements, "a setup group has statements"
    return hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()


def setup_lock_key(schema: str) -> int:
    """The PostgreSQL advisory lock key of one schema's setup (a signed 64-bit integer)."""
    digest = hashlib.sha256((SETUP_LOCK_NAMESPACE + schema).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
