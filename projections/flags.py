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
from projections.rules.registry import all_rules
from projections.rules.config import RulesConfig
from projections.rules.engine import Flag, RuleEngine
from projections.runner import POSITIONS_TABLE, ReadLog
from projections.sealing import PLAIN, Sealer

CODE_VERSION = 3  # 3: one module per rule, NamedTuple rule state, dates in the ledger's time zone
SAVE_STATE_EVERY_EVENTS = 25_000
REPLAY_CHUNK_EVENTS = 5_000


class Flags(Projection):
    """The rule engine as a projection. Its whole state is saved every `SAVE_STATE_EVERY_EVENTS`
    events and at the end of every catch-up, in the same transaction as the flags and the
    projection's position; a process that finds the saved state behind the position replays the
    events in between through the engine (their flags are stored already) — so the state is saved
    seldom enough that a long catch-up does not rewrite it thousands of times."""

    name = "flags"
    tables = ("ledger_flags", "ledger_rule_state")
    compared_tables = ("ledger_flags",)

    def __init__(self, config: RulesConfig, sealer: Sealer = PLAIN) -> None:
        self.config = config
        self.version = f"{CODE_VERSION}:{config.digest}"
        super().__init__(sealer)  # flag ids and documents, and the saved state, are sealed with a key
        self.engine = self._new_engine()
        self._engine_position = 0  # the engine has seen every event up to here (-1: unknown)
        self._saved_position = 0
        self._read_log: ReadLog | None = None

    def fresh(self) -> Flags:
        return Flags(self.config, self.sealer)

    def attach(self, read_log: ReadLog) -> None:
        self._read_log = read_log

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
        self._engine_position = self._saved_position = 0

    def _projected_position(self, db: ViewDatabase) -> int:
        rows = db.query(f"SELECT position FROM {POSITIONS_TABLE} WHERE name = ?", (self.name,))
        return int(rows[0][0]) if rows else 0

    def _sync(self, db: ViewDatabase, position: int) -> None:
        """Bring the engine to exactly `position`: load the saved state, replay what follows it."""
        if self._engine_position == position:
            return
        rows = db.query("SELECT position, state FROM ledger_rule_state WHERE name = 'engine'")
        saved = int(rows[0][0]) if rows else 0
        assert saved <= position, (saved, position)
        self.engine = self._new_engine()
        if rows:
            self.engine.load(self.sealer.open_blob(bytes(rows[0][1])))
        self._saved_position = saved
        self._engine_position = -1
        while saved < position:
            assert self._read_log is not None, "the runner attaches the log before applying"
            chunk = [item for item in self._read_log(saved, REPLAY_CHUNK_EVENTS) if item[0] <= position]
            assert chunk, f"events up to {position} are missing from the log"
            for item_position, event in chunk:
                self.engine.process(item_position, event)  # their flags were stored when first applied
            saved = chunk[-1][0]
        self._engine_position = position

    def apply(self, db: ViewDatabase, events: Sequence[tuple[int, e.LedgerEvent]]) -> None:
        self._sync(db, self._projected_position(db))
        assert events[0][0] > self._engine_position
        self._engine_position = -1  # the engine moves on in memory: if this chunk's write fails, resync
        flags: list[Flag] = []
        for position, event in events:
            flags += self.engine.process(position, event)
        if flags:
            seq0 = int(db.query("SELECT COUNT(*) FROM ledger_flags")[0][0])
            db.executemany(
                "INSERT INTO ledger_flags VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (flag_id) DO NOTHING",
                [(self.sealer.seal_id(f.flag_id), f.rule, f.severity, f.pilot, f.color, utc_text(datetime.fromisoformat(f.at)),
                  f.position, seq0 + i, self.sealer.seal_text(orjson.dumps(f.document()).decode())) for i, f in enumerate(flags)],
            )
        last = events[-1][0]
        if last - self._saved_position >= SAVE_STATE_EVERY_EVENTS:
            self._save(db, last)
        self._engine_position = last

    def flush(self, db: ViewDatabase) -> None:
        """Save the state at the projection's position (the runner calls this after catching up)."""
        position = self._projected_position(db)
        if self._engine_position == position and position > self._saved_position:
            self._save(db, position)

    def _save(self, db: ViewDatabase, position: int) -> None:
        db.execute(
            "INSERT INTO ledger_rule_state VALUES ('engine', ?, ?) ON CONFLICT (name) "
            "DO UPDATE SET position = excluded.position, state = excluded.state",
            (position, self.sealer.seal_blob(self.engine.dump())),
        )
        self._saved_position = position

    def pending_until(self, db: ViewDatabase, moment: datetime) -> list[Flag]:
        """Flags whose windows close by `moment` but no later event has closed yet (not stored)."""
        position = self._projected_position(db)
        self._sync(db, position)
        copy = self._new_engine()
        copy.load(self.engine.dump())
        return copy.close_windows_until(moment, position)


def stored_flags(db: ViewDatabase, sealer: Sealer, *, position: int | None = None, at_utc: str | None = None) -> list[dict[str, Any]]:
    """Stored flag documents in the order raised, up to a position and/or business time."""
    where, params = [], []
    if position is not None:
        where.append("position <= ?")
        params.append(position)
    if at_utc is not None:
        where.append("at_utc <= ?")
        params.append(at_utc)
    sql = "SELECT document FROM ledger_flags" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY position, seq"
    return [orjson.loads(sealer.open_text(row[0])) for row in db.query(sql, params)]
