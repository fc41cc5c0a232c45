"""Anomaly flags as a projection: the rule engine's output, and its state, beside the events.

The engine's whole state is saved with the projection's position in the same transaction, so a
new process continues exactly where the last stopped, and a crash replays the chunk. Thresholds
are part of the projection's version: flags computed under other thresholds are rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from domain import events as e
from projections.base import Projection, ViewDatabase
from projections.index import utc_text
from projections.rules.catalog import all_rules
from projections.rules.config import RulesConfig
from projections.rules.engine import Flag, RuleEngine

CODE_VERSION = 1


class Flags(Projection):
    name = "flags"
    tables = ("ledger_flags", "ledger_rule_state")

    def __init__(self, config: RulesConfig) -> None:
        self.config = config
        self.version = f"{CODE_VERSION}:{config.digest}"
        self.engine = self._new_engine()
        self._loaded_position = 0

    def fresh(self) -> Flags:
        return Flags(self.config)

    def _new_engine(self) -> RuleEngine:
        return RuleEngine(self.config, all_rules(self.config))

    def create(self, db: ViewDatabase) -> None:
        db.execute(
            "CREATE TABLE ledger_flags (flag_id TEXT PRIMARY KEY, rule TEXT NOT NULL, severity TEXT NOT NULL, "
            "pilot TEXT, color TEXT, at_utc TEXT NOT NULL, position BIGINT NOT NULL, seq BIGINT NOT NULL, "
            "document TEXT NOT NULL)"
        )
        db.execute("CREATE INDEX ledger_flags_by_position ON ledger_flags (position, seq)")
        db.execute("CREATE TABLE ledger_rule_state (name TEXT PRIMARY KEY, position BIGINT NOT NULL, state BYTEA NOT NULL)")
        self.engine = self._new_engine()
        self._loaded_position = 0

    def _sync(self, db: ViewDatabase) -> None:
        """Bring the in-memory engine to the saved state if another process moved it on."""
        rows = db.query("SELECT position, state FROM ledger_rule_state WHERE name = 'engine'")
        saved_position = int(rows[0][0]) if rows else 0
        if saved_position == self._loaded_position:
            return
        self.engine = self._new_engine()
        if rows:
            self.engine.load(bytes(rows[0][1]))
        self._loaded_position = saved_position

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        self._sync(db)
        assert events[0][0] > self._loaded_position
        self._loaded_position = -1  # the engine moves on in memory: if this chunk's write fails, reload
        flags: list[Flag] = []
        for position, event in events:
            flags += self.engine.process(position, event)
        if flags:
            seq0 = int(db.query("SELECT COUNT(*) FROM ledger_flags")[0][0])
            db.executemany(
                "INSERT INTO ledger_flags VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (flag_id) DO NOTHING",
                [(f.flag_id, f.rule, f.severity, f.pilot, f.color, utc_text(datetime.fromisoformat(f.at)), f.position,
                  seq0 + i, orjson.dumps(f.document()).decode()) for i, f in enumerate(flags)],
            )
        last = events[-1][0]
        db.execute(
            "INSERT INTO ledger_rule_state VALUES ('engine', ?, ?) ON CONFLICT (name) "
            "DO UPDATE SET position = excluded.position, state = excluded.state",
            (last, self.engine.dump()),
        )
        self._loaded_position = last

    def pending_until(self, db: ViewDatabase, moment: datetime) -> list[Flag]:
        """Flags whose windows close by `moment` but no later event has closed yet (not stored)."""
        self._sync(db)
        copy = self._new_engine()
        copy.load(self.engine.dump())
        return copy.close_windows_until(moment, self._loaded_position)


def stored_flags(db: ViewDatabase, *, position: int | None = None, at_utc: str | None = None) -> list[dict[str, Any]]:
    """Stored flag documents in the order raised, up to a position and/or business time."""
    where, params = [], []
    if position is not None:
        where.append("position <= ?")
        params.append(position)
    if at_utc is not None:
        where.append("at_utc <= ?")
        params.append(at_utc)
    sql = "SELECT document FROM ledger_flags" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY position, seq"
    return [orjson.loads(row[0]) for row in db.query(sql, params)]
