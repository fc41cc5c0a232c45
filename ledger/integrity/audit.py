"""Checkpoints and proofs over this ledger's store: what `checkpoint`, `proof` and `consistency` do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import LedgerError
from ledger.integrity.checkpoints import CHECKPOINTS_TABLE, Checkpoint, b64, sign_checkpoint

from ledger.integrity.merkle import leaf_hash
from ledger.integrity.merkle_log import MerkleLog
from ledger.store.chain import encode_leaf

KEYS_TABLE = "ledger_signing_keys"


class NotProvable(LedgerError):
    """The proof asked for cannot be made (unknown transaction, no checkpoint covering it, …)."""


class Audit:
    """The Merkle log and the checkpoints of one ledger, in its view database."""

    def __init__(self, ledger: Any) -> None:
        """Refuses (`NotAllowed`) an actor who may not read under the ledger's roles policy."""
        ledger.authorize("read")
        self.ledger = ledger
        self.read = ledger.read_side()
        self.db = self.read.db
        self.log = MerkleLog(self.db, ledger.recorder)
        self.db.ensure_tables(CHECKPOINTS_TABLE, [
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS_TABLE} (number BIGINT PRIMARY KEY, origin TEXT NOT NULL, "
            "tree_size BIGINT NOT NULL, root_hash TEXT NOT NULL, time TEXT NOT NULL, key_id TEXT NOT NULL, "
            "signature TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (key_id TEXT PRIMARY KEY, public_key TEXT NOT NULL)",
        ])

    def checkpoints(self) -> list[Checkpoint]:
        rows = self.db.query(f"SELECT number, origin, tree_size, root_hash, time, key_id, signature FROM {CHECKPOINTS_TABLE} ORDER BY number")
        return [Checkpoint(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def checkpoint(self, number: int) -> Checkpoint:
        for checkpoint in self.checkpoints():
            if checkpoint.number == number:
                return checkpoint
        raise NotProvable(f"there is no checkpoint #{number}")

    def make_checkpoint(self, key: Ed25519PrivateKey, now: datetime | None = None,
                        on_progress: Callable[[int], None] | None = None) -> Checkpoint:
        """Sign the current Merkle log and store the checkpoint (the auditor role's to do);
        `on_progress(leaves)` while the log takes in new leaves."""
        self.ledger.authorize("checkpoint")
        size = self.log.catch_up(on_progress)
        moment = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        with self.db.transaction():
            number = int(self.db.query(f"SELECT COALESCE(MAX(number), 0) FROM {CHECKPOINTS_TABLE}")[0][0]) + 1
            checkpoint = sign_checkpoint(key, number, size, self.log.root(size), moment)
            public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.db.execute(f"INSERT INTO {KEYS_TABLE} VALUES (?, ?) ON CONFLICT (key_id) DO NOTHING",
                            (checkpoint.key_id, b64(public)))
            self.db.execute(f"INSERT INTO {CHECKPOINTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", (
                checkpoint.number, checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, checkpoint.time,
                checkpoint.key_id, checkpoint.signature))
        return checkpoint

    def inclusion(self, transaction: str) -> dict[str, Any]:
        """The inclusion proof document of a transaction's event, against the latest checkpoint."""
        positions = self.read.transaction_positions(transaction)
        if not positions:
            raise NotProvable(f"no transaction {transaction} in the ledger")
        position = positions[0]
        self.log.catch_up()
        [notification] = self.ledger.recorder.select_notifications(start=position, limit=1)
        assert notification.id == position
        data = encode_leaf(position, notification.originator_id, notification.originator_version, notification.topic, notification.state)
        index = self._leaf_index(position)
        covering = [c for c in self.checkpoints() if c.tree_size > index]
        if not covering:
            raise NotProvable(f"no checkpoint covers transaction {transaction} yet: run `tenge-ledger checkpoint` first")
        checkpoint = covering[-1]
        event = self.ledger.mapper.to_domain_event(notification)
        from ledger.integrity.document import event_document

        return {
            "kind": "inclusion", "transaction": transaction, "position": position, "leaf_index": index,
            "leaf_data": b64(data), "leaf_hash": b64(leaf_hash(data)),
            "inclusion_proof": [b64(node) for node in self.log.inclusion_proof(index, checkpoint.tree_size)],
            "checkpoint": checkpoint.document(), "event": event_document(event),
        }

    def consistency(self, old_number: int, new_number: int) -> dict[str, Any]:
        old, new = self.checkpoint(old_number), self.checkpoint(new_number)
        if old.tree_size > new.tree_size:
            raise NotProvable(f"checkpoint #{old_number} is larger than #{new_number}; give the older one first")
        if old.tree_size == 0:
            raise NotProvable(f"checkpoint #{old_number} signs an empty log; consistency with it proves nothing")
        self.log.catch_up()
        return {
            "kind": "consistency", "old": old.document(), "new": new.document(),
            "consistency_proof": [b64(node) for node in self.log.consistency_proof(old.tree_size, new.tree_size)],
        }

    def _leaf_index(self, position: int) -> int:
        for row in self.ledger.recorder.select_chain(position - 1, 1):
            if row[0] == position:
                return row[1]
        raise NotProvable(f"the event at position {position} has no chain entry")
